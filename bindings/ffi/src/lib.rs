//! Billfold's wallet core as Kotlin and Swift see it, through uniffi.
//!
//! This crate is the boundary and nothing else: it holds the exported
//! objects ([`Wallet`]), the records in the apps' vocabulary ([`Card`],
//! [`Money`]), the platform's [`KeyStore`] callback, and the one public
//! error enum ([`WalletError`]). Every operation is `wallet-core`'s; what is
//! added here is input validation at the edge, the internal → public error
//! mapping, and panic containment so that no Rust panic message ever
//! crosses into the app.
//!
//! Records are mirrored here rather than derived inside `wallet-core`: one
//! uniffi component gives one Kotlin package and one Swift module (two
//! components would each carry their own copy of uniffi's runtime helpers),
//! `wallet-core` stays `forbid(unsafe_code)`, and the public shape is chosen
//! on purpose (for instance no record ever holds a card number, so no
//! generated `toString()` can print one).
//!
//! Adding a feature's API: add its methods to the `#[uniffi::export] impl
//! Wallet` block in `wallet.rs` (or a new `impl` block in a new module),
//! mirror its records next to it, map any new `wallet_core::Error` variant
//! in `error.rs`, and run `make bindings`.

mod card;
mod error;
mod keystore;
mod money;
mod wallet;

pub use card::{Card, Network};
pub use error::WalletError;
pub use keystore::{KeyStore, KeyStoreError};
pub use money::{money_from_minor_units, parse_money, Money};
pub use wallet::Wallet;

// The namespace names the generated Kotlin file and Swift module's FFI
// symbols; the Kotlin package and Swift module names come from uniffi.toml.
uniffi::setup_scaffolding!("billfold");

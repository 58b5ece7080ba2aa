//! Billfold's wallet core: the phone's brain, in plain Rust.
//!
//! A [`Wallet`] owns one SQLite file in a data directory and a vault whose
//! data key the platform's [`KeyStore`] wraps. Card data is sealed field by
//! field; money is exact decimal; the clock is injectable. The uniffi crate
//! in `bindings/` exposes this API to Kotlin and Swift.

#![forbid(unsafe_code)]

pub mod card;
mod cards;
pub mod clock;
mod db;
pub mod error;
pub mod money;
mod time;
pub mod vault;
mod wallet;

pub use card::{Expiry, Network, Pan};
pub use cards::{Card, NewCard};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, PanProblem, Result};
pub use money::{Currency, Money};
pub use vault::{KdfParams, KeyStore, KeyStoreError, PassphraseKeyStore, SoftwareKeyStore};
pub use wallet::Wallet;

#[doc(hidden)]
pub mod testing {
    //! Access to internals for the crate's integration tests.
    pub use crate::db::{migrate_to, LATEST as SCHEMA_VERSION, MIGRATIONS};
}

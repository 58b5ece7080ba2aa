//! Billfold's wallet core as Kotlin and Swift see it, through uniffi.
//!
//! This crate is the boundary and nothing else: it holds the exported
//! object ([`Wallet`]), the records in the apps' vocabulary ([`Card`],
//! [`Money`], [`LedgerEntry`], [`Budget`], [`Alert`], [`PaymentRequest`],
//! [`TapReport`]…), the platform's callbacks ([`KeyStore`], [`Clock`],
//! [`AlertListener`]), and the one public error enum ([`WalletError`]).
//! Every operation is `wallet-core`'s; what is added here is input
//! validation at the edge (`validate.rs`), the internal → public error
//! mapping, panic containment so that no Rust panic message ever crosses
//! into the app, and one-copy transfer of large byte arrays (`bytes.rs`).
//!
//! Records are mirrored here rather than derived inside `wallet-core`: one
//! uniffi component gives one Kotlin package and one Swift module (two
//! components would each carry their own copy of uniffi's runtime helpers),
//! `wallet-core` stays `forbid(unsafe_code)` (uniffi's derives emit
//! `unsafe impl`), the core's chrono, decimal and currency types have no
//! uniffi mapping anyway, and the public shape is chosen on purpose (for
//! instance no record ever holds a card number, so no generated
//! `toString()` can print one).
//!
//! Adding a feature's API: add its methods in an `#[uniffi::export] impl
//! Wallet` block in the feature's module here (uniffi merges them), mirror
//! its records next to it, map any new `wallet_core::Error` variant in
//! `error.rs`, and run `make bindings`.

mod alerts;
mod budgets;
mod bytes;
mod card;
mod clock;
mod error;
mod insights;
mod keystore;
mod ledger;
mod money;
mod qr;
mod sync;
mod tap;
mod validate;
mod wallet;

pub use alerts::{Alert, AlertKind, AlertListener, SentAlert};
pub use budgets::{
    Budget, BudgetChange, BudgetEdit, BudgetScope, BudgetStatus, Forecast, NewBudget, Period,
    Rollover, Weekday,
};
pub use bytes::Bytes;
pub use card::{Card, Network};
pub use clock::Clock;
pub use error::{CallbackError, WalletError};
pub use insights::{CategoryAmount, Insights, MerchantSpend, MonthSpend};
pub use keystore::{KeyStore, KeyStoreError};
pub use ledger::{
    Balance, Category, EntryKind, EntryStatus, FxDetail, HistoryPage, LedgerEntry, NewBill,
    PendingEntry, Recorded, ScheduledBill,
};
pub use money::{money_from_minor_units, parse_money, Money};
pub use qr::{
    generate_qr_code, parse_payment_request, qr_code_png, qr_code_svg, receive_request_payload,
    AlternateLanguage, ErrorCorrection, PaymentRequest, PaymentScheme, Point, PointOfInitiation,
    QrCode, QrWarning, ReceiveRequest, ScannedCode, TipRule,
};
pub use sync::{
    default_network_config, ConsumerPaymentCode, Enrollment, LinkCode, NetworkConfig, QrPayment,
    SyncListener, SyncProgress, SyncReport,
};
pub use tap::{
    DeactivationReason, PaymentToken, TapDeclineReason, TapReport, TokenKeyStatus, TokenProfile,
};
pub use wallet::Wallet;

// The namespace names the generated Kotlin file and Swift module's FFI
// symbols; the Kotlin package and Swift module names come from uniffi.toml.
uniffi::setup_scaffolding!("billfold");

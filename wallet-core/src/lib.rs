//! Billfold's wallet core: the phone's brain, in plain Rust.
//!
//! A [`Wallet`] owns one SQLite file in a data directory and a vault whose
//! data key the platform's [`KeyStore`] wraps. Card data is sealed field by
//! field; money is exact decimal; the clock is injectable. The uniffi crate
//! in `bindings/` exposes this API to Kotlin and Swift.

#![forbid(unsafe_code)]

pub mod alerts;
pub mod budgets;
pub mod card;
mod cards;
pub mod categories;
pub mod clock;
mod consumer_code;
mod db;
pub mod error;
mod hlc;
pub mod import;
pub mod insights;
pub mod ledger;
pub mod money;
pub mod qr;
pub mod replica;
pub mod sync;
pub mod tap;
mod time;
pub mod tokens;
pub mod vault;
mod wallet;

pub use alerts::{Alert, AlertKind, AlertListener, SentAlert};
pub use budgets::{
    Budget, BudgetChange, BudgetEdit, BudgetSpec, BudgetStatus, Forecast, Period, Rollover,
};
pub use card::{Expiry, Network, Pan};
pub use cards::{Card, NewCard};
pub use categories::Category;
pub use clock::{Clock, ManualClock, SystemClock};
pub use consumer_code::ConsumerPaymentCode;
pub use error::{Error, PanProblem, Result};
pub use import::{ImportFormat, ImportOptions};
pub use insights::{
    render_chart, CategoryAmount, ChartFormat, Insights, InsightsQuery, MerchantSpend, MonthSpend,
};
pub use ledger::{
    Applied, Balance, BankEntry, EntryKind, EntryStatus, FxDetail, FxRate, HistoryPage,
    HistoryQuery, LedgerEntry, NewBill, PendingEntry, Recorded, ScheduledBill,
};
pub use money::{Currency, Money};
pub use sync::{
    BankTokenService, Enrollment, LinkCode, NetworkConfig, QrPayment, RetryPolicy, SyncListener,
    SyncProgress, SyncReport,
};
pub use tap::{DeactivationReason, TapDeclineReason, TapRecord, TapReport};
pub use tokens::{
    KeyBatch, ProvisionRequest, ProvisionedToken, TestTokenConfig, TestTokenService, TokenInfo,
    TokenKeyStatus, TokenService, TokenServiceError, KEY_LOW_WATER,
};
pub use vault::{KdfParams, KeyStore, KeyStoreError, PassphraseKeyStore, SoftwareKeyStore};
pub use wallet::Wallet;

#[doc(hidden)]
pub mod testing {
    //! Access to internals for the crate's integration tests.
    pub use crate::db::{migrate_to, LATEST as SCHEMA_VERSION, MIGRATIONS};
}

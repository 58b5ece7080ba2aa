//! The core's one error type, with a stable machine-readable code per variant.
//!
//! Messages are written for the person holding the phone and never carry
//! secrets: no card number, key, token or passphrase is ever formatted into
//! one. Inputs are described ("the card number fails its check digit"), not
//! echoed.

use std::fmt;

/// Why a card number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanProblem {
    /// Anything but digits (spaces and dashes between groups are accepted).
    NotDigits,
    /// Fewer than 12 or more than 19 digits.
    Length,
    /// The Luhn check digit does not match.
    CheckDigit,
}

impl fmt::Display for PanProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PanProblem::NotDigits => "it may contain only digits",
            PanProblem::Length => "it must have 12 to 19 digits",
            PanProblem::CheckDigit => "its check digit is wrong",
        })
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("the wallet is locked; unlock it to continue")]
    Locked,
    #[error("the passphrase is wrong")]
    WrongPassphrase,
    #[error("this wallet's data key cannot be opened with this device's key store")]
    WrongKeyStore,
    #[error("the key store failed: {0}")]
    KeyStore(String),
    #[error("the stored key-derivation parameters are weaker than allowed")]
    WeakKdfParameters,
    #[error("stored data failed its integrity check ({table}.{column}); it was altered or moved")]
    Tampered {
        table: &'static str,
        column: &'static str,
    },
    #[error("invalid card number: {0}")]
    InvalidPan(PanProblem),
    #[error("invalid expiry: {0}")]
    InvalidExpiry(&'static str),
    #[error("the card has expired")]
    CardExpired,
    #[error("invalid {field}: {reason}")]
    InvalidText {
        field: &'static str,
        reason: &'static str,
    },
    #[error("this card is already in the wallet")]
    DuplicateCard,
    #[error("no such card")]
    CardNotFound,
    #[error("unknown or inactive currency code")]
    InvalidCurrency,
    #[error("invalid amount: {0}")]
    InvalidAmount(&'static str),
    #[error("amounts in different currencies cannot be combined without a rate")]
    CurrencyMismatch,
    #[error("no wallet exists in this directory; run init first")]
    WalletNotFound,
    #[error("a wallet already exists in this directory")]
    WalletExists,
    #[error("the database was written by a newer Billfold (schema {0})")]
    SchemaTooNew(u32),
    #[error("storage error: {0}")]
    Storage(String),
    #[error("file error: {0}")]
    Io(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(&'static str),
    // QR scanning and generation (issue 4).
    #[error("invalid camera frame: {0}")]
    InvalidFrame(&'static str),
    #[error("the image cannot be read: {0}")]
    InvalidImage(String),
    #[error("the QR decoder failed: {0}")]
    QrDecoder(String),
    #[error("cannot make a QR code: {0}")]
    QrEncode(&'static str),
    /// A payload that is not a valid EMV QR code; `reason` is `emv`'s
    /// stable code for the defect (`crc_mismatch`, `duplicate_id`...).
    #[error("invalid QR payment code: {message}")]
    InvalidQr {
        reason: &'static str,
        message: String,
    },
    // Ledger, budgets and insights (issue 6).
    #[error("unknown time zone; use an IANA name such as Europe/Paris")]
    UnknownTimeZone,
    #[error("invalid budget limit: {0}")]
    InvalidLimit(&'static str),
    #[error("a monthly start day must be between 1 and 31")]
    InvalidStartDay,
    #[error("invalid budget period: {0}")]
    InvalidPeriod(&'static str),
    #[error("invalid alert thresholds: {0}")]
    InvalidThresholds(&'static str),
    #[error("no exchange rate from {from} to {to} is recorded; add one first")]
    MissingRate {
        from: &'static str,
        to: &'static str,
    },
    #[error("no such transaction")]
    EntryNotFound,
    #[error("no such budget")]
    BudgetNotFound,
    #[error("no such category")]
    CategoryNotFound,
    #[error("no such scheduled bill")]
    BillNotFound,
    #[error("this idempotency key was already used for a different transaction")]
    IdempotencyConflict,
    #[error("the statement could not be read (record {record}): {reason}")]
    InvalidImport { record: u64, reason: &'static str },
    // Payment tokens and tap to pay (issue 5).
    #[error("no such payment token")]
    TokenNotFound,
    #[error("the payment token is unusable: {0}")]
    InvalidToken(&'static str),
    #[error("{0}")]
    TokenService(String),
    // Sync with the bank (issue 7).
    #[error("this wallet is not enrolled with a bank yet")]
    NotEnrolled,
    #[error("this wallet is already enrolled with a bank")]
    AlreadyEnrolled,
    #[error("the bank address is not allowed: {0}")]
    InsecureUrl(&'static str),
    #[error("the bank cannot be reached; nothing was sent (you are offline)")]
    Offline,
    #[error("the bank did not answer in time or failed ({0}); it will be retried")]
    BankUnavailable(String),
    /// The bank refused the request; `code` is the bank's stable code.
    #[error("the bank refused: {message}")]
    BankRefused { code: String, message: String },
    #[error("the bank sent an answer that cannot be read: {0}")]
    BankProtocol(&'static str),
    #[error("the payment was declined: {0}")]
    PaymentDeclined(String),
    #[error("the bank has not confirmed the payment yet; it will be settled at the next sync and never charged twice")]
    PaymentUnconfirmed,
}

impl Error {
    /// A stable identifier for programs: the CLI's JSON errors and the FFI
    /// carry it, so changing one is a breaking change.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Locked => "locked",
            Error::WrongPassphrase => "wrong_passphrase",
            Error::WrongKeyStore => "wrong_key_store",
            Error::KeyStore(_) => "key_store",
            Error::WeakKdfParameters => "weak_kdf_parameters",
            Error::Tampered { .. } => "tampered",
            Error::InvalidPan(_) => "invalid_pan",
            Error::InvalidExpiry(_) => "invalid_expiry",
            Error::CardExpired => "card_expired",
            Error::InvalidText { .. } => "invalid_input",
            Error::DuplicateCard => "duplicate_card",
            Error::CardNotFound => "card_not_found",
            Error::InvalidCurrency => "invalid_currency",
            Error::InvalidAmount(_) => "invalid_amount",
            Error::CurrencyMismatch => "currency_mismatch",
            Error::WalletNotFound => "wallet_not_found",
            Error::WalletExists => "wallet_exists",
            Error::SchemaTooNew(_) => "schema_too_new",
            Error::Storage(_) => "storage",
            Error::Io(_) => "io",
            Error::Corrupt(_) => "corrupt",
            Error::InvalidFrame(_) => "invalid_frame",
            Error::InvalidImage(_) => "invalid_image",
            Error::QrDecoder(_) => "qr_decoder",
            Error::QrEncode(_) => "qr_encode",
            Error::InvalidQr { .. } => "invalid_qr",
            Error::UnknownTimeZone => "unknown_time_zone",
            Error::InvalidLimit(_) => "invalid_limit",
            Error::InvalidStartDay => "invalid_start_day",
            Error::InvalidPeriod(_) => "invalid_period",
            Error::InvalidThresholds(_) => "invalid_thresholds",
            Error::MissingRate { .. } => "missing_rate",
            Error::EntryNotFound => "entry_not_found",
            Error::BudgetNotFound => "budget_not_found",
            Error::CategoryNotFound => "category_not_found",
            Error::BillNotFound => "bill_not_found",
            Error::IdempotencyConflict => "idempotency_conflict",
            Error::InvalidImport { .. } => "invalid_import",
            Error::TokenNotFound => "token_not_found",
            Error::InvalidToken(_) => "invalid_token",
            Error::TokenService(_) => "token_service",
            Error::NotEnrolled => "not_enrolled",
            Error::AlreadyEnrolled => "already_enrolled",
            Error::InsecureUrl(_) => "insecure_url",
            Error::Offline => "offline",
            Error::BankUnavailable(_) => "bank_unavailable",
            Error::BankRefused { .. } => "bank_refused",
            Error::BankProtocol(_) => "bank_protocol",
            Error::PaymentDeclined(_) => "payment_declined",
            Error::PaymentUnconfirmed => "payment_unconfirmed",
        }
    }
}

// SQLite errors carry SQL text and constraint names, never bound values, and
// every statement here binds its values: nothing secret can leak through.
impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Storage(e.to_string())
    }
}

impl From<frame::FrameError> for Error {
    fn from(e: frame::FrameError) -> Self {
        Error::InvalidFrame(e.0)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.kind().to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

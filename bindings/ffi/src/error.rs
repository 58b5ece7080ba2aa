//! The one public error enum, and the mapping from the core's detailed error.
//!
//! `wallet_core::Error` has a variant per cause; apps need fewer: what the
//! user can do about it. So the public enum groups causes by remedy, and
//! each value still carries the core's stable `code` (the same strings as
//! the CLI's JSON errors) for logs, analytics and field-level UI hints.
//!
//! Nothing secret reaches a message: the core's messages describe inputs
//! without echoing them, a Rust panic becomes a fixed sentence (its payload
//! could hold anything), and a key store's unexpected exception is reduced
//! to a fixed sentence too (see `keystore.rs`).

use std::panic::{catch_unwind, AssertUnwindSafe};

use wallet_core::Error as CoreError;

/// Why a wallet operation failed.
///
/// `code` is stable and machine-readable (`invalid_pan`, `locked`,
/// `card_not_found`, …); `reason` is a sentence for the person holding the
/// phone. Neither ever contains a card number, key or passphrase.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum WalletError {
    /// An argument was refused (card number, expiry, name, nickname, id,
    /// currency, amount, time zone, period, camera frame, QR payload…).
    /// Nothing was stored or changed.
    #[error("{reason}")]
    InvalidInput { code: String, reason: String },
    /// The wallet is locked, explicitly, by auto-lock or by the platform.
    /// Unlock it and try again.
    #[error("{reason}")]
    Locked { code: String, reason: String },
    /// The platform key store could not wrap or unwrap the data key: wrong
    /// passphrase, another device's key, or the key store is unavailable.
    #[error("{reason}")]
    KeyStore { code: String, reason: String },
    /// The wallet, card, transaction, budget, category, bill, token or
    /// exchange rate does not exist.
    #[error("{reason}")]
    NotFound { code: String, reason: String },
    /// The wallet or card is already there, or an idempotency key was
    /// already used for a different payment.
    #[error("{reason}")]
    AlreadyExists { code: String, reason: String },
    /// `close()` was called on this wallet; open it again to continue.
    #[error("{reason}")]
    Closed { code: String, reason: String },
    /// The bank (or its token service) could not be reached or did not
    /// answer in time: `offline` (nothing was sent), `bank_unavailable`,
    /// `payment_unconfirmed` (it settles at the next sync, never twice).
    /// Try again later.
    #[error("{reason}")]
    Unavailable { code: String, reason: String },
    /// The bank refused the request or declined the payment
    /// (`bank_refused`, `payment_declined`); `reason` says why.
    #[error("{reason}")]
    Declined { code: String, reason: String },
    /// The device's storage failed, or stored data is damaged or was
    /// altered, or was written by a newer app version.
    #[error("{reason}")]
    Storage { code: String, reason: String },
    /// A bug in the wallet. The message is deliberately generic.
    #[error("{reason}")]
    Internal { code: String, reason: String },
}

impl WalletError {
    /// The stable code, whatever the variant.
    pub fn code(&self) -> &str {
        match self {
            WalletError::InvalidInput { code, .. }
            | WalletError::Locked { code, .. }
            | WalletError::KeyStore { code, .. }
            | WalletError::NotFound { code, .. }
            | WalletError::AlreadyExists { code, .. }
            | WalletError::Closed { code, .. }
            | WalletError::Unavailable { code, .. }
            | WalletError::Declined { code, .. }
            | WalletError::Storage { code, .. }
            | WalletError::Internal { code, .. } => code,
        }
    }

    pub(crate) fn invalid_input(reason: impl Into<String>) -> Self {
        WalletError::InvalidInput {
            code: "invalid_input".into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn closed() -> Self {
        WalletError::Closed {
            code: "closed".into(),
            reason: "this wallet was closed; open it again to continue".into(),
        }
    }

    pub(crate) fn internal() -> Self {
        WalletError::Internal {
            code: "internal".into(),
            reason: "an internal error occurred in the wallet".into(),
        }
    }
}

impl From<CoreError> for WalletError {
    fn from(e: CoreError) -> Self {
        let code = e.code().to_string();
        // The core's Display is written for users and never formats a
        // secret into a message, so it is the public reason as it stands.
        let reason = e.to_string();
        match e {
            CoreError::InvalidPan(_)
            | CoreError::InvalidExpiry(_)
            | CoreError::CardExpired
            | CoreError::InvalidText { .. }
            | CoreError::InvalidCurrency
            | CoreError::InvalidAmount(_)
            | CoreError::CurrencyMismatch
            | CoreError::InvalidFrame(_)
            | CoreError::InvalidImage(_)
            | CoreError::QrEncode(_)
            | CoreError::InvalidQr { .. }
            | CoreError::UnknownTimeZone
            | CoreError::InvalidLimit(_)
            | CoreError::InvalidStartDay
            | CoreError::InvalidPeriod(_)
            | CoreError::InvalidThresholds(_)
            | CoreError::InvalidImport { .. }
            | CoreError::InvalidToken(_)
            | CoreError::InsecureUrl(_) => WalletError::InvalidInput { code, reason },
            CoreError::Locked => WalletError::Locked { code, reason },
            CoreError::WrongPassphrase
            | CoreError::WrongKeyStore
            | CoreError::KeyStore(_)
            | CoreError::WeakKdfParameters => WalletError::KeyStore { code, reason },
            // A missing exchange rate is something the user has not
            // recorded yet, like a budget they have not created.
            CoreError::CardNotFound
            | CoreError::WalletNotFound
            | CoreError::EntryNotFound
            | CoreError::BudgetNotFound
            | CoreError::CategoryNotFound
            | CoreError::BillNotFound
            | CoreError::TokenNotFound
            | CoreError::MissingRate { .. }
            | CoreError::NotEnrolled => WalletError::NotFound { code, reason },
            CoreError::DuplicateCard
            | CoreError::WalletExists
            | CoreError::IdempotencyConflict
            | CoreError::AlreadyEnrolled => WalletError::AlreadyExists { code, reason },
            CoreError::TokenService(_)
            | CoreError::Offline
            | CoreError::BankUnavailable(_)
            | CoreError::BankProtocol(_)
            | CoreError::PaymentUnconfirmed => WalletError::Unavailable { code, reason },
            CoreError::BankRefused { .. } | CoreError::PaymentDeclined(_) => {
                WalletError::Declined { code, reason }
            }
            CoreError::Storage(_)
            | CoreError::Io(_)
            | CoreError::Corrupt(_)
            | CoreError::Tampered { .. }
            | CoreError::SchemaTooNew(_) => WalletError::Storage { code, reason },
            CoreError::QrDecoder(_) => WalletError::Internal { code, reason },
            // Variants this mapping does not name (the core's enum is
            // non-exhaustive and grows with each feature) are grouped by
            // their code's shape; give a variant an explicit arm above when
            // its feature's API is exposed here.
            _ => by_code_shape(code, reason),
        }
    }
}

/// What an app's `Clock` or `AlertListener` may throw.
///
/// Neither callback has a way to fail that the wallet could act on, so
/// this only exists so that a thrown exception reaches Rust as a value
/// rather than as a panic carrying the exception's text: a clock that
/// throws is replaced by the system clock for that reading, and a listener
/// that throws loses that one notification (the alert is already recorded
/// and stays in `sentAlerts`). The reason is never shown or logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum CallbackError {
    #[error("the app's callback failed")]
    Failed { reason: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for CallbackError {
    fn from(_: uniffi::UnexpectedUniFFICallbackError) -> Self {
        // The foreign exception's text is dropped, as for the key store.
        CallbackError::Failed {
            reason: "unexpected exception".into(),
        }
    }
}

fn by_code_shape(code: String, reason: String) -> WalletError {
    if code.ends_with("_not_found") {
        WalletError::NotFound { code, reason }
    } else if code.starts_with("invalid_") || code.starts_with("unknown_") {
        WalletError::InvalidInput { code, reason }
    } else if code.ends_with("_exists") || code.ends_with("_conflict") {
        WalletError::AlreadyExists { code, reason }
    } else {
        WalletError::Internal { code, reason }
    }
}

/// Runs one FFI call's body, turning a panic into `WalletError::Internal`.
///
/// uniffi catches panics too, but forwards the panic's message to the app;
/// catching here first keeps that message (which might have formatted any
/// value) on this side of the boundary.
pub(crate) fn guard<T>(f: impl FnOnce() -> Result<T, WalletError>) -> Result<T, WalletError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| Err(WalletError::internal()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wallet_core::PanProblem;

    #[test]
    fn core_errors_keep_their_codes_and_land_in_the_right_group() {
        let cases: Vec<(CoreError, &str)> = vec![
            (
                CoreError::InvalidPan(PanProblem::CheckDigit),
                "InvalidInput",
            ),
            (CoreError::CardExpired, "InvalidInput"),
            (CoreError::Locked, "Locked"),
            (CoreError::WrongKeyStore, "KeyStore"),
            (CoreError::KeyStore("busy".into()), "KeyStore"),
            (CoreError::CardNotFound, "NotFound"),
            (CoreError::WalletExists, "AlreadyExists"),
            (CoreError::Corrupt("x"), "Storage"),
            (CoreError::InvalidFrame("x"), "InvalidInput"),
            (
                CoreError::InvalidQr {
                    reason: "crc_mismatch",
                    message: "m".into(),
                },
                "InvalidInput",
            ),
            (CoreError::UnknownTimeZone, "InvalidInput"),
            (CoreError::BudgetNotFound, "NotFound"),
            (
                CoreError::MissingRate {
                    from: "USD",
                    to: "EUR",
                },
                "NotFound",
            ),
            (CoreError::IdempotencyConflict, "AlreadyExists"),
            (CoreError::TokenService("down".into()), "Unavailable"),
            (CoreError::QrDecoder("x".into()), "Internal"),
        ];
        for (core, group) in cases {
            let code = core.code();
            let public = WalletError::from(core);
            assert_eq!(public.code(), code);
            let debug = format!("{public:?}");
            assert!(debug.starts_with(group), "{debug} should be {group}");
        }
    }

    #[test]
    fn unnamed_variants_are_grouped_by_their_code() {
        for (code, group) in [
            ("budget_not_found", "NotFound"),
            ("invalid_period", "InvalidInput"),
            ("unknown_time_zone", "InvalidInput"),
            ("idempotency_conflict", "AlreadyExists"),
            ("qr_decoder", "Internal"),
        ] {
            let e = by_code_shape(code.into(), "why".into());
            assert_eq!(e.code(), code);
            assert!(format!("{e:?}").starts_with(group), "{code}");
        }
    }

    #[test]
    fn a_panic_becomes_a_generic_internal_error() {
        let canary = "4111111111111111";
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let r: Result<(), _> = guard(|| panic!("leaking {canary}"));
        std::panic::set_hook(prev);
        let e = r.unwrap_err();
        assert_eq!(e.code(), "internal");
        assert!(!e.to_string().contains(canary));
        assert!(!format!("{e:?}").contains(canary));
    }
}

//! Budget alerts and transaction notifications, delivered to the app through
//! an `AlertListener` it implements (Android posts a notification, iOS a
//! local notification).
//!
//! The core calls the listener after the write that caused the alert has
//! committed, outside its database lock, and contains a listener's failure;
//! the adapter here turns a thrown exception into a dropped notification
//! rather than a panic whose message would carry the exception's text.

use std::sync::Arc;

use wallet_core::{Alert as CoreAlert, AlertKind as CoreAlertKind, SentAlert as CoreSentAlert};

use crate::error::{CallbackError, WalletError};
use crate::ledger::LedgerEntry;
use crate::money::Money;
use crate::validate::check_id;
use crate::wallet::Wallet;

/// What a budget alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AlertKind {
    /// Spending reached a threshold below 100% of the budget.
    Threshold,
    /// Spending went over a threshold of 100% or more.
    Exceeded,
    /// "At this pace you will exceed by X around DATE."
    Forecast,
}

impl From<CoreAlertKind> for AlertKind {
    fn from(k: CoreAlertKind) -> Self {
        match k {
            CoreAlertKind::Threshold => AlertKind::Threshold,
            CoreAlertKind::Exceeded => AlertKind::Exceeded,
            CoreAlertKind::Forecast => AlertKind::Forecast,
        }
    }
}

/// A budget alert. Each (budget, period, threshold) fires at most once.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Alert {
    pub budget_id: String,
    pub budget_name: String,
    /// The period the alert is about, `YYYY-MM-DD`, both ends included.
    pub period_start: String,
    pub period_end: String,
    pub kind: AlertKind,
    /// The threshold crossed, in percent, for `Threshold` and `Exceeded`.
    pub threshold_percent: Option<u32>,
    pub spent: Money,
    /// The period's limit including any rollover carried in.
    pub limit: Money,
    /// For `Forecast`: by how much the period will end over its limit.
    pub forecast_overshoot: Option<Money>,
    /// For `Forecast`: the local date (`YYYY-MM-DD`) spending is expected
    /// to pass the limit.
    pub forecast_date: Option<String>,
    /// A sentence for the notification.
    pub message: String,
    /// When it fired, UTC milliseconds.
    pub fired_at_ms: i64,
}

impl From<CoreAlert> for Alert {
    fn from(a: CoreAlert) -> Self {
        Alert {
            budget_id: a.budget_id,
            budget_name: a.budget_name,
            period_start: a.period_start.to_string(),
            period_end: a.period_end.to_string(),
            kind: a.kind.into(),
            threshold_percent: a.threshold_percent,
            spent: a.spent.into(),
            limit: a.limit.into(),
            forecast_overshoot: a.forecast_overshoot.map(Money::from),
            forecast_date: a.forecast_date.map(|d| d.to_string()),
            message: a.message,
            fired_at_ms: a.fired_at_ms,
        }
    }
}

pub(crate) fn alerts(v: Vec<CoreAlert>) -> Vec<Alert> {
    v.into_iter().map(Alert::from).collect()
}

/// An alert already sent, from the record every device shares.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SentAlert {
    pub budget_id: String,
    /// `YYYY-MM-DD`.
    pub period_start: String,
    /// "t50", "t80", "t100"…, or "forecast".
    pub key: String,
    pub fired_at_ms: i64,
    pub message: String,
}

impl From<CoreSentAlert> for SentAlert {
    fn from(a: CoreSentAlert) -> Self {
        SentAlert {
            budget_id: a.budget_id,
            period_start: a.period_start,
            key: a.key,
            fired_at_ms: a.fired_at_ms,
            message: a.message,
        }
    }
}

/// Hears about budget alerts and new or changed transactions.
///
/// Called on the thread that made the change (the caller of
/// `recordPending`, `onDeactivated`, `createBudget`…), after it is saved,
/// while that call is still in progress. Post a notification or hand over
/// to another thread and return: reading the wallet from here works, but
/// a Swift `close()` on another thread waits for calls in progress, this
/// one included. An exception thrown here loses that one notification and
/// nothing else.
#[uniffi::export(with_foreign)]
pub trait AlertListener: Send + Sync {
    /// A budget crossed a threshold, or its forecast says it will.
    fn on_alert(&self, alert: Alert) -> Result<(), CallbackError>;
    /// A transaction was written: a local pending entry (a tap, a recorded
    /// payment) or a new or changed entry from the bank.
    fn on_transaction(&self, entry: LedgerEntry) -> Result<(), CallbackError>;
}

/// Lets the core notify a foreign listener through its own trait.
struct Platform(Arc<dyn AlertListener>);

impl wallet_core::AlertListener for Platform {
    fn on_alert(&self, alert: CoreAlert) {
        // A listener's failure is its own: the alert is recorded already.
        let _ = self.0.on_alert(alert.into());
    }

    fn on_transaction(&self, entry: &wallet_core::LedgerEntry) {
        let _ = self.0.on_transaction(entry.clone().into());
    }
}

#[uniffi::export]
impl Wallet {
    /// Sets the listener for budget alerts and transaction notifications,
    /// replacing any earlier one. The wallet keeps it until
    /// `clearAlertListener` or until the wallet is closed.
    pub fn set_alert_listener(&self, listener: Arc<dyn AlertListener>) -> Result<(), WalletError> {
        self.with(|w| {
            w.set_alert_listener(Arc::new(Platform(listener)));
            Ok(())
        })
    }

    /// Stops notifications. Alerts are still recorded (see `sentAlerts`).
    pub fn clear_alert_listener(&self) -> Result<(), WalletError> {
        self.with(|w| {
            w.clear_alert_listener();
            Ok(())
        })
    }

    /// Budget alerts already sent, newest first: for one budget, or all
    /// when `budget_id` is null.
    #[uniffi::method(default(budget_id = None))]
    pub fn sent_alerts(&self, budget_id: Option<String>) -> Result<Vec<SentAlert>, WalletError> {
        if let Some(id) = &budget_id {
            check_id("budget id", id)?;
        }
        self.with(|w| w.sent_alerts(budget_id.as_deref()))
            .map(|v| v.into_iter().map(SentAlert::from).collect())
    }
}

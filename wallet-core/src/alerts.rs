//! Budget alerts and the `AlertListener` callback through which the apps
//! (and the uniffi layer) hear about alerts and new transactions.
//!
//! Listeners are called after the transaction that caused them has
//! committed and after the database lock is released, so a listener may call
//! back into the wallet; a panicking listener is contained and cannot undo
//! or poison what was written.

use std::sync::{Arc, RwLock};

use chrono::NaiveDate;
use serde::Serialize;

use crate::ledger::LedgerEntry;
use crate::money::Money;

/// What a budget alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Spending reached a threshold below 100% of the budget.
    Threshold,
    /// Spending went over a threshold of 100% or more ("exceeded").
    Exceeded,
    /// "At this pace you will exceed by X around DATE."
    Forecast,
}

/// One budget alert. Each (budget, period, threshold) fires at most once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub budget_id: String,
    pub budget_name: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub kind: AlertKind,
    /// The threshold crossed, for `Threshold` and `Exceeded`.
    pub threshold_percent: Option<u32>,
    pub spent: Money,
    /// The period's limit including any rollover carried in.
    pub limit: Money,
    /// For `Forecast`: by how much the period will end over its limit.
    pub forecast_overshoot: Option<Money>,
    /// For `Forecast`: the local date spending is expected to pass the limit.
    pub forecast_date: Option<NaiveDate>,
    /// A sentence for a notification.
    pub message: String,
    pub fired_at_ms: i64,
}

/// An alert recorded in the grow-only "alert sent" set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentAlert {
    pub budget_id: String,
    pub period_start: String,
    /// "t50", "t80", "t100"…, or "forecast".
    pub key: String,
    pub fired_at_ms: i64,
    pub message: String,
}

/// Implemented by the platform (Kotlin, Swift, the CLI) to show budget
/// alerts and transaction notifications.
pub trait AlertListener: Send + Sync {
    /// A budget crossed a threshold, or its forecast says it will.
    fn on_alert(&self, alert: Alert);

    /// A transaction was written to the ledger (a local pending entry, or a
    /// new or changed entry from the bank). Imports of history do not call it.
    fn on_transaction(&self, entry: &LedgerEntry) {
        let _ = entry;
    }
}

/// The wallet's listener, replaceable at any time.
#[derive(Default)]
pub(crate) struct ListenerSlot(RwLock<Option<Arc<dyn AlertListener>>>);

impl ListenerSlot {
    pub(crate) fn set(&self, listener: Option<Arc<dyn AlertListener>>) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = listener;
    }

    pub(crate) fn is_set(&self) -> bool {
        self.get().is_some()
    }

    fn get(&self) -> Option<Arc<dyn AlertListener>> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Delivers after commit. A listener's panic is caught: the data is
    /// already durable, and foreign code must not unwind through the core.
    pub(crate) fn deliver(&self, entries: &[LedgerEntry], alerts: &[Alert]) {
        let Some(listener) = self.get() else { return };
        for e in entries {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                listener.on_transaction(e)
            }));
        }
        for a in alerts {
            let a = a.clone();
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| listener.on_alert(a)));
        }
    }
}

impl crate::wallet::Wallet {
    /// Sets the listener for budget alerts and transaction notifications,
    /// replacing any earlier one.
    pub fn set_alert_listener(&self, listener: Arc<dyn AlertListener>) {
        self.alert_listener.set(Some(listener));
    }

    /// Removes the listener; alerts are still recorded and returned.
    pub fn clear_alert_listener(&self) {
        self.alert_listener.set(None);
    }
}

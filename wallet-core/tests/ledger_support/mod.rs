//! Helpers for the ledger, budget and insights tests: instants from text,
//! entries in one line, and a listener that records what it hears.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use chrono::DateTime;
use wallet_core::{
    Alert, AlertListener, BankEntry, BudgetSpec, Currency, EntryKind, EntryStatus, LedgerEntry,
    Money, PendingEntry, Period, Recorded, Rollover, Wallet,
};

/// UTC milliseconds of an RFC 3339 instant.
pub fn at(s: &str) -> i64 {
    DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
}

pub fn money(s: &str) -> Money {
    s.parse().unwrap()
}

pub fn cur(code: &str) -> Currency {
    Currency::from_code(code).unwrap()
}

pub fn pending(key: &str, amount: &str, category: Option<&str>, when: &str) -> PendingEntry {
    PendingEntry {
        idempotency_key: key.into(),
        account: "main".into(),
        kind: EntryKind::Purchase,
        amount: money(amount),
        original: None,
        merchant: Some("Corner Shop".into()),
        mcc: None,
        category: category.map(Into::into),
        note: None,
        booked_at_ms: at(when),
    }
}

pub fn spend(w: &Wallet, key: &str, amount: &str, category: Option<&str>, when: &str) -> Recorded {
    w.record_pending(&pending(key, amount, category, when))
        .unwrap()
}

pub fn bank(bank_id: &str, amount: &str, kind: EntryKind, when: &str) -> BankEntry {
    BankEntry {
        bank_id: bank_id.into(),
        idempotency_key: None,
        account: "main".into(),
        status: EntryStatus::Posted,
        kind,
        amount: money(amount),
        original: None,
        merchant: Some("Bank Merchant".into()),
        mcc: None,
        category: None,
        note: None,
        booked_at_ms: at(when),
        posted_at_ms: Some(at(when)),
    }
}

pub fn monthly(name: &str, limit: &str, category: Option<&str>, tz: &str) -> BudgetSpec {
    BudgetSpec {
        name: name.into(),
        category: category.map(Into::into),
        limit: money(limit),
        period: Period::Monthly { start_day: 1 },
        time_zone: tz.into(),
        rollover: Rollover::None,
        thresholds: None,
        starts_on: None,
    }
}

#[derive(Default)]
pub struct Recorder {
    pub alerts: Mutex<Vec<Alert>>,
    pub entries: Mutex<Vec<LedgerEntry>>,
}

impl AlertListener for Recorder {
    fn on_alert(&self, alert: Alert) {
        self.alerts.lock().unwrap().push(alert);
    }
    fn on_transaction(&self, entry: &LedgerEntry) {
        self.entries.lock().unwrap().push(entry.clone());
    }
}

impl Recorder {
    pub fn install(w: &Wallet) -> Arc<Recorder> {
        let r = Arc::new(Recorder::default());
        w.set_alert_listener(r.clone());
        r
    }

    pub fn take(&self) -> Vec<Alert> {
        std::mem::take(&mut *self.alerts.lock().unwrap())
    }
}

//! Alerts: thresholds crossed upward fire once per (budget, period,
//! threshold); a reversal lowers spent and never fires; the forecast fires
//! once after three days; limit edits never retract; sub-categories roll up.

mod common;
mod ledger_support;

use chrono::NaiveDate;
use common::*;
use ledger_support::*;
use wallet_core::{AlertKind, BudgetEdit, BudgetSpec, EntryKind, EntryStatus};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// The thresholds among `alerts`, leaving out forecasts (which late in a
/// month these tests also trigger; they have their own test).
fn thresholds(alerts: &[wallet_core::Alert]) -> Vec<u32> {
    alerts
        .iter()
        .filter(|a| a.kind != AlertKind::Forecast)
        .filter_map(|a| a.threshold_percent)
        .collect()
}

#[test]
fn thresholds_fire_once_and_a_reversal_does_not_refire() {
    let mut f = fixture();
    let rec = Recorder::install(&f.wallet);
    let b = f
        .wallet
        .create_budget(&monthly("Food", "100.00 USD", Some("food"), "UTC"))
        .unwrap();
    assert!(b.alerts.is_empty());
    let id = b.budget.id;

    // Sub-categories roll up: groceries by MCC, restaurants by name.
    let mut p = pending("g1", "40.00 USD", None, "2026-11-20T10:00:00Z");
    p.mcc = Some(5411);
    let r = f.wallet.record_pending(&p).unwrap();
    assert_eq!(r.entry.category, "food.groceries");
    assert!(r.alerts.is_empty());
    assert_eq!(
        rec.entries.lock().unwrap().len(),
        1,
        "on_transaction was called"
    );

    let r = spend(
        &f.wallet,
        "r1",
        "15.00 USD",
        Some("Restaurants & bars"),
        "2026-11-21T10:00:00Z",
    );
    assert_eq!(r.alerts.len(), 1);
    assert_eq!(r.alerts[0].kind, AlertKind::Threshold);
    assert_eq!(r.alerts[0].threshold_percent, Some(50));
    assert_eq!(r.alerts[0].spent, money("55.00 USD"));
    assert_eq!(rec.take().len(), 1, "delivered through the listener");

    // Outside the budget's categories: nothing.
    assert!(spend(
        &f.wallet,
        "fuel",
        "500.00 USD",
        Some("transport.fuel"),
        "2026-11-21T11:00:00Z"
    )
    .alerts
    .is_empty());
    assert!(spend(
        &f.wallet,
        "g2",
        "5.00 USD",
        Some("food"),
        "2026-11-22T10:00:00Z"
    )
    .alerts
    .is_empty());

    let big = spend(
        &f.wallet,
        "g3",
        "25.00 USD",
        Some("food"),
        "2026-11-22T11:00:00Z",
    );
    assert_eq!(thresholds(&big.alerts), [80]);
    assert!(
        big.alerts[0].message.contains("80%"),
        "{}",
        big.alerts[0].message
    );
    // 85 spent in 23 days: at that pace the month ends over 100.
    assert_eq!(big.alerts.len(), 2);
    assert_eq!(big.alerts[1].kind, AlertKind::Forecast);
    rec.take();

    // The 25.00 hold is voided: spent drops to 60, no alert.
    let reversed = f.wallet.reverse_entry(&big.entry.id).unwrap();
    assert_eq!(reversed.status, EntryStatus::Reversed);
    assert_eq!(
        f.wallet.budget_status(&id).unwrap().spent,
        money("60.00 USD")
    );
    assert!(rec.take().is_empty());
    // Crossing 80% again in the same period does not fire again.
    let again = spend(
        &f.wallet,
        "g4",
        "25.00 USD",
        Some("food"),
        "2026-11-22T12:00:00Z",
    );
    assert!(again.alerts.is_empty());

    // Over 100%: "exceeded", once, even across a restart.
    let over = spend(
        &f.wallet,
        "g5",
        "20.00 USD",
        Some("food"),
        "2026-11-23T09:00:00Z",
    );
    assert_eq!(thresholds(&over.alerts), [100]);
    assert_eq!(over.alerts.len(), 1);
    assert_eq!(over.alerts[0].kind, AlertKind::Exceeded);
    f.reopen();
    let rec = Recorder::install(&f.wallet);
    assert!(spend(
        &f.wallet,
        "g6",
        "1.00 USD",
        Some("food"),
        "2026-11-23T09:30:00Z"
    )
    .alerts
    .is_empty());
    assert!(rec.take().is_empty());
    let sent = f.wallet.sent_alerts(Some(&id)).unwrap();
    let mut keys: Vec<&str> = sent.iter().map(|s| s.key.as_str()).collect();
    keys.sort();
    assert_eq!(keys, ["forecast", "t100", "t50", "t80"]);

    // A reversal from the bank lowers spent and fires nothing.
    let mut rev = bank(
        "bank-g5",
        "20.00 USD",
        EntryKind::Purchase,
        "2026-11-23T09:00:00Z",
    );
    rev.idempotency_key = Some("g5".into());
    rev.status = EntryStatus::Reversed;
    let applied = f.wallet.apply_bank_entries(&[rev]).unwrap();
    assert_eq!(applied.updated, 1);
    assert!(applied.alerts.is_empty());
    assert_eq!(
        f.wallet.budget_status(&id).unwrap().spent,
        money("86.00 USD")
    );

    // Next month, every threshold may fire again.
    f.clock.set(at("2026-12-02T10:00:00Z"));
    let dec = spend(
        &f.wallet,
        "dec",
        "90.00 USD",
        Some("food"),
        "2026-12-02T09:00:00Z",
    );
    assert_eq!(
        thresholds(&dec.alerts),
        [80],
        "only the highest threshold crossed is announced"
    );
    assert_eq!(dec.alerts[0].threshold_percent, Some(80));
    assert_eq!(dec.alerts[0].period_start, d("2026-12-01"));
    let sent = f.wallet.sent_alerts(Some(&id)).unwrap();
    assert_eq!(
        sent.iter()
            .filter(|s| s.period_start == "2026-12-01")
            .count(),
        2
    );
}

#[test]
fn many_identical_purchases_are_many_purchases() {
    let f = fixture();
    let id = f
        .wallet
        .create_budget(&monthly("All", "100.00 USD", None, "UTC"))
        .unwrap()
        .budget
        .id;
    for i in 0..4 {
        spend(
            &f.wallet,
            &format!("coffee-{i}"),
            "3.50 USD",
            None,
            "2026-11-23T08:00:00Z",
        );
    }
    assert_eq!(
        f.wallet.budget_status(&id).unwrap().spent,
        money("14.00 USD")
    );
    // Transfers and income are not spending.
    let mut t = pending("t", "500.00 USD", None, "2026-11-23T08:00:00Z");
    t.kind = EntryKind::TransferOut;
    f.wallet.record_pending(&t).unwrap();
    let mut i = pending("i", "900.00 USD", None, "2026-11-23T08:00:00Z");
    i.kind = EntryKind::Income;
    f.wallet.record_pending(&i).unwrap();
    let mut r = pending("r", "4.00 USD", None, "2026-11-23T08:00:00Z");
    r.kind = EntryKind::Refund;
    f.wallet.record_pending(&r).unwrap();
    assert_eq!(
        f.wallet.budget_status(&id).unwrap().spent,
        money("10.00 USD")
    );
}

#[test]
fn forecast_fires_once_after_three_days() {
    let f = fixture();
    f.clock.set(at("2026-11-02T12:00:00Z"));
    let id = f
        .wallet
        .create_budget(&BudgetSpec {
            thresholds: Some(vec![90]),
            ..monthly("Fun", "300.00 USD", None, "UTC")
        })
        .unwrap()
        .budget
        .id;
    // Day 2 of the month: heavy spending, but too early to forecast.
    let r = spend(&f.wallet, "a", "80.00 USD", None, "2026-11-01T12:00:00Z");
    assert!(r.alerts.is_empty());
    assert!(f.wallet.budget_status(&id).unwrap().forecast.is_none());

    // Day 3: 120 spent, 40 a day; 30 days at that pace is 1200.
    f.clock.set(at("2026-11-03T12:00:00Z"));
    let r = spend(&f.wallet, "b", "40.00 USD", None, "2026-11-03T10:00:00Z");
    assert_eq!(r.alerts.len(), 1);
    let a = &r.alerts[0];
    assert_eq!(a.kind, AlertKind::Forecast);
    assert_eq!(a.forecast_overshoot, Some(money("900.00 USD")));
    // 300 / 40 = 7.5 days: passed during day 8.
    assert_eq!(a.forecast_date, Some(d("2026-11-08")));
    assert!(a.message.contains("at this pace"), "{}", a.message);

    // Once per period.
    f.clock.set(at("2026-11-04T12:00:00Z"));
    let r = spend(&f.wallet, "c", "10.00 USD", None, "2026-11-04T10:00:00Z");
    assert!(r.alerts.is_empty());
    let s = f.wallet.budget_status(&id).unwrap();
    assert!(s.forecast.is_some(), "status still shows the forecast");
    assert_eq!(s.percent_used, Some(43));
}

#[test]
fn editing_the_limit_re_evaluates_and_never_retracts() {
    let f = fixture();
    let rec = Recorder::install(&f.wallet);
    let id = f
        .wallet
        .create_budget(&monthly("Home", "100.00 USD", None, "UTC"))
        .unwrap()
        .budget
        .id;
    spend(&f.wallet, "x", "45.00 USD", None, "2026-11-23T08:00:00Z");
    assert!(rec.take().is_empty());

    // Lowering the limit to 50 puts spending at 90%.
    let change = f
        .wallet
        .edit_budget(
            &id,
            &BudgetEdit {
                limit: Some(money("50.00 USD")),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(thresholds(&change.alerts), [80]);
    assert_eq!(rec.take().len(), change.alerts.len());
    assert_eq!(change.budget.limit, money("50.00 USD"));

    // Raising it again retracts nothing, and re-crossing fires nothing.
    let change = f
        .wallet
        .edit_budget(
            &id,
            &BudgetEdit {
                limit: Some(money("1000.00 USD")),
                thresholds: Some(vec![4, 50, 80, 100]),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        thresholds(&change.alerts),
        [4],
        "the new 4% threshold fires"
    );
    let sent = f.wallet.sent_alerts(Some(&id)).unwrap().len();
    f.wallet
        .edit_budget(
            &id,
            &BudgetEdit {
                limit: Some(money("50.00 USD")),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(f.wallet.sent_alerts(Some(&id)).unwrap().len(), sent);

    // Deleting keeps the sent set (grow-only) and the status is gone.
    f.wallet.delete_budget(&id).unwrap();
    assert!(matches!(
        f.wallet.budget_status(&id),
        Err(wallet_core::Error::BudgetNotFound)
    ));
    assert_eq!(f.wallet.sent_alerts(Some(&id)).unwrap().len(), sent);
    assert!(f.wallet.budgets().unwrap().is_empty());
}

#[test]
fn a_panicking_listener_cannot_undo_a_write() {
    struct Boom;
    impl wallet_core::AlertListener for Boom {
        fn on_alert(&self, _: wallet_core::Alert) {
            panic!("listener bug");
        }
        fn on_transaction(&self, _: &wallet_core::LedgerEntry) {
            panic!("listener bug");
        }
    }
    let f = fixture();
    f.wallet.set_alert_listener(std::sync::Arc::new(Boom));
    f.wallet
        .create_budget(&monthly("B", "10.00 USD", None, "UTC"))
        .unwrap();
    let r = spend(&f.wallet, "k", "9.00 USD", None, "2026-11-23T08:00:00Z");
    assert_eq!(thresholds(&r.alerts), [80]);
    assert_eq!(f.wallet.entry_count().unwrap(), 1);
    f.wallet.clear_alert_listener();
}

//! Rollover in its three modes, derived from the period totals, and
//! recomputed when a back-dated entry arrives after its period ended.

mod common;
mod ledger_support;

use chrono::NaiveDate;
use common::*;
use ledger_support::*;
use wallet_core::{BudgetSpec, EntryKind, Rollover};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[test]
fn none_surplus_and_surplus_and_deficit() {
    let f = fixture();
    let w = &f.wallet;
    f.clock.set(at("2026-09-10T12:00:00Z"));
    let make = |name: &str, rollover| {
        w.create_budget(&BudgetSpec {
            rollover,
            ..monthly(name, "100.00 USD", None, "UTC")
        })
        .unwrap()
        .budget
        .id
    };
    let none = make("none", Rollover::None);
    let surplus = make("surplus", Rollover::Surplus);
    let both = make("both", Rollover::SurplusAndDeficit);
    let carried = |id: &str| {
        let s = w.budget_status(id).unwrap();
        (s.carried_in.to_string(), s.available.to_string())
    };

    // September: 60 of 100 spent.
    spend(w, "sep", "60.00 USD", None, "2026-09-10T10:00:00Z");
    f.clock.set(at("2026-10-05T12:00:00Z"));
    assert_eq!(carried(&none), ("0.00 USD".into(), "100.00 USD".into()));
    assert_eq!(carried(&surplus), ("40.00 USD".into(), "140.00 USD".into()));
    assert_eq!(carried(&both), ("40.00 USD".into(), "140.00 USD".into()));

    // October: 150 spent, over even the carried 140.
    spend(w, "oct", "150.00 USD", None, "2026-10-05T10:00:00Z");
    f.clock.set(at("2026-11-05T12:00:00Z"));
    assert_eq!(carried(&none), ("0.00 USD".into(), "100.00 USD".into()));
    assert_eq!(carried(&surplus), ("0.00 USD".into(), "100.00 USD".into()));
    assert_eq!(carried(&both), ("-10.00 USD".into(), "90.00 USD".into()));

    // A purchase from September posts only now, after September ended:
    // the carried amounts are recomputed from the corrected totals.
    let applied = w
        .apply_bank_entries(&[bank(
            "late-sep",
            "30.00 USD",
            EntryKind::Purchase,
            "2026-09-20T10:00:00Z",
        )])
        .unwrap();
    assert_eq!(applied.inserted, 1);
    assert!(applied.alerts.is_empty(), "a past period fires nothing");
    assert_eq!(carried(&none), ("0.00 USD".into(), "100.00 USD".into()));
    // Surplus: Sep left 10 → Oct had 110, spent 150 → nothing to carry.
    assert_eq!(carried(&surplus), ("0.00 USD".into(), "100.00 USD".into()));
    // Both: Sep +10 → Oct 110 - 150 = -40.
    assert_eq!(carried(&both), ("-40.00 USD".into(), "60.00 USD".into()));

    // A refund for October comes back: October's deficit shrinks.
    w.apply_bank_entries(&[bank(
        "oct-refund",
        "50.00 USD",
        EntryKind::Refund,
        "2026-10-20T10:00:00Z",
    )])
    .unwrap();
    // Surplus: Oct 110 - 100 = 10 carried.
    assert_eq!(carried(&surplus), ("10.00 USD".into(), "110.00 USD".into()));
    assert_eq!(carried(&both), ("10.00 USD".into(), "110.00 USD".into()));

    let s = w.budget_status(&both).unwrap();
    assert_eq!(
        (s.period_start, s.period_end),
        (d("2026-11-01"), d("2026-11-30"))
    );
    assert_eq!(s.spent.to_string(), "0.00 USD");
}

#[test]
fn a_limit_change_applies_from_the_current_period_on() {
    let f = fixture();
    let w = &f.wallet;
    f.clock.set(at("2026-09-10T12:00:00Z"));
    let id = w
        .create_budget(&BudgetSpec {
            rollover: Rollover::Surplus,
            ..monthly("b", "100.00 USD", None, "UTC")
        })
        .unwrap()
        .budget
        .id;
    spend(w, "sep", "60.00 USD", None, "2026-09-10T10:00:00Z");
    f.clock.set(at("2026-10-05T12:00:00Z"));
    w.edit_budget(
        &id,
        &wallet_core::BudgetEdit {
            limit: Some(money("300.00 USD")),
            ..Default::default()
        },
    )
    .unwrap();
    let s = w.budget_status(&id).unwrap();
    // September keeps its 100 (40 left), October has 300.
    assert_eq!(s.limit.to_string(), "300.00 USD");
    assert_eq!(s.carried_in.to_string(), "40.00 USD");
    assert_eq!(s.available.to_string(), "340.00 USD");
}

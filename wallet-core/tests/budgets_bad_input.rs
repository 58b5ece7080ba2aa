//! Bad budget input gets a typed error and stores nothing: unknown currency,
//! negative limit, start day 0 or 32, unknown time zone, and the rest.

mod common;
mod ledger_support;

use common::*;
use ledger_support::*;
use wallet_core::{BudgetEdit, BudgetSpec, Currency, Error, Money, Period};

#[test]
fn each_bad_input_has_its_own_typed_error() {
    let f = fixture();
    let w = &f.wallet;
    let ok = monthly("B", "100.00 USD", None, "Europe/Paris");

    // Unknown currency: refused before any amount exists.
    assert!(matches!(
        Currency::from_code("ABC"),
        Err(Error::InvalidCurrency)
    ));
    assert!(matches!(
        "10 XYZ".parse::<Money>(),
        Err(Error::InvalidCurrency)
    ));

    let cases: Vec<(BudgetSpec, &str)> = vec![
        (
            BudgetSpec {
                limit: money("-1.00 USD"),
                ..ok.clone()
            },
            "invalid_limit",
        ),
        (
            BudgetSpec {
                period: Period::Monthly { start_day: 0 },
                ..ok.clone()
            },
            "invalid_start_day",
        ),
        (
            BudgetSpec {
                period: Period::Monthly { start_day: 32 },
                ..ok.clone()
            },
            "invalid_start_day",
        ),
        (
            BudgetSpec {
                time_zone: "Mars/Olympus_Mons".into(),
                ..ok.clone()
            },
            "unknown_time_zone",
        ),
        (
            BudgetSpec {
                time_zone: "".into(),
                ..ok.clone()
            },
            "unknown_time_zone",
        ),
        (
            BudgetSpec {
                thresholds: Some(vec![0, 80]),
                ..ok.clone()
            },
            "invalid_thresholds",
        ),
        (
            BudgetSpec {
                period: "custom:2026-12-01..2026-11-01"
                    .parse()
                    .unwrap_or(Period::Custom {
                        start: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
                        end: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
                    }),
                ..ok.clone()
            },
            "invalid_period",
        ),
        (
            BudgetSpec {
                category: Some("no such category".into()),
                ..ok.clone()
            },
            "category_not_found",
        ),
        (
            BudgetSpec {
                name: " ".into(),
                ..ok.clone()
            },
            "invalid_input",
        ),
    ];
    for (spec, code) in cases {
        let e = w.create_budget(&spec).unwrap_err();
        assert_eq!(e.code(), code, "{e}");
        assert!(!e.to_string().is_empty());
    }
    assert!(w.budgets().unwrap().is_empty(), "nothing stored");

    // The text forms the CLI parses give the same errors.
    assert!(matches!(
        "monthly:0".parse::<Period>(),
        Err(Error::InvalidStartDay)
    ));
    assert!(matches!(
        "monthly:32".parse::<Period>(),
        Err(Error::InvalidStartDay)
    ));
    assert!(matches!(
        "fortnightly".parse::<Period>(),
        Err(Error::InvalidPeriod(_))
    ));
    assert!(matches!(
        wallet_core::budgets::parse_thresholds("50,eighty"),
        Err(Error::InvalidThresholds(_))
    ));

    // Edits are checked the same way and leave the budget as it was.
    let id = w.create_budget(&ok).unwrap().budget.id;
    for (edit, code) in [
        (
            BudgetEdit {
                limit: Some(money("-5.00 USD")),
                ..Default::default()
            },
            "invalid_limit",
        ),
        (
            BudgetEdit {
                limit: Some(money("5.00 EUR")),
                ..Default::default()
            },
            "currency_mismatch",
        ),
        (
            BudgetEdit {
                time_zone: Some("Nowhere/City".into()),
                ..Default::default()
            },
            "unknown_time_zone",
        ),
        (
            BudgetEdit {
                period: Some(Period::Monthly { start_day: 32 }),
                ..Default::default()
            },
            "invalid_start_day",
        ),
    ] {
        assert_eq!(w.edit_budget(&id, &edit).unwrap_err().code(), code);
    }
    let b = w.budget(&id).unwrap();
    assert_eq!(b.limit, money("100.00 USD"));
    assert_eq!(b.time_zone, "Europe/Paris");
    assert!(matches!(w.budget("missing"), Err(Error::BudgetNotFound)));
}

/// A stored zone the phone's time-zone database does not know (one newer
/// than its tzdata, say) leaves the budget readable, counted in UTC, and
/// keeps the stored name for when the database catches up.
#[test]
fn a_stored_zone_this_device_does_not_know_keeps_the_budget_usable() {
    let f = fixture();
    let w = &f.wallet;
    let id = w
        .create_budget(&monthly("B", "100.00 USD", None, "Europe/Paris"))
        .unwrap()
        .budget
        .id;
    rusqlite::Connection::open(w.db_path())
        .unwrap()
        .execute(
            "UPDATE budgets SET time_zone = 'America/Atlantis' WHERE id = ?1",
            [&id],
        )
        .unwrap();
    let b = w.budget(&id).unwrap();
    assert_eq!(b.time_zone, "America/Atlantis");
    assert_eq!(w.budgets().unwrap().len(), 1);
    let status = w.budget_status(&id).unwrap();
    assert_eq!(status.budget.id, id);
}

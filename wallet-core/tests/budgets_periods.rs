//! Budget period boundaries: the 31st start day in February and leap years,
//! a DST change in the budget's zone, and a purchase at 23:30 local time
//! that is already tomorrow in UTC.

mod common;
mod ledger_support;

use chrono::{Datelike, NaiveDate, Weekday};
use common::*;
use ledger_support::*;
use wallet_core::{BudgetSpec, Period, Rollover};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn range(a: &str, b: &str) -> Option<(NaiveDate, NaiveDate)> {
    Some((d(a), d(b)))
}

#[test]
fn start_day_31_clamps_to_february_in_common_and_leap_years() {
    let p = Period::Monthly { start_day: 31 };
    // 2026: February has 28 days.
    assert_eq!(
        p.containing(d("2026-02-15")),
        range("2026-01-31", "2026-02-27")
    );
    assert_eq!(
        p.containing(d("2026-02-27")),
        range("2026-01-31", "2026-02-27")
    );
    assert_eq!(
        p.containing(d("2026-02-28")),
        range("2026-02-28", "2026-03-30")
    );
    assert_eq!(
        p.containing(d("2026-03-31")),
        range("2026-03-31", "2026-04-29")
    );
    assert_eq!(
        p.containing(d("2026-04-30")),
        range("2026-04-30", "2026-05-30")
    );
    // 2028 is a leap year: the period starts on the 29th.
    assert_eq!(
        p.containing(d("2028-02-28")),
        range("2028-01-31", "2028-02-28")
    );
    assert_eq!(
        p.containing(d("2028-02-29")),
        range("2028-02-29", "2028-03-30")
    );
    // 2100 is not a leap year.
    assert_eq!(
        p.containing(d("2100-02-28")),
        range("2100-02-28", "2100-03-30")
    );
    // Across the year end.
    assert_eq!(
        p.containing(d("2026-12-31")),
        range("2026-12-31", "2027-01-30")
    );
    assert_eq!(
        p.containing(d("2027-01-01")),
        range("2026-12-31", "2027-01-30")
    );

    let p30 = Period::Monthly { start_day: 30 };
    assert_eq!(
        p30.containing(d("2026-02-28")),
        range("2026-02-28", "2026-03-29")
    );
    assert_eq!(
        p30.containing(d("2028-02-29")),
        range("2028-02-29", "2028-03-29")
    );
}

#[test]
fn periods_tile_the_calendar_without_gaps_or_overlaps() {
    let periods = [
        Period::Monthly { start_day: 1 },
        Period::Monthly { start_day: 15 },
        Period::Monthly { start_day: 29 },
        Period::Monthly { start_day: 31 },
        Period::Weekly {
            start: Weekday::Sun,
        },
        Period::BiWeekly {
            anchor: d("2026-01-05"),
        },
    ];
    for p in periods {
        let mut day = d("2023-12-01");
        let (mut start, mut end) = p.containing(day).unwrap();
        assert!(start <= day && day <= end);
        while day < d("2029-01-01") {
            day = day.succ_opt().unwrap();
            let (s, e) = p.containing(day).unwrap();
            if day > end {
                assert_eq!(
                    s, day,
                    "{p}: a new period starts the day after the last ended"
                );
                assert!(e >= s);
                (start, end) = (s, e);
            } else {
                assert_eq!((s, e), (start, end), "{p} on {day}");
            }
        }
    }
}

#[test]
fn a_dst_change_does_not_move_boundaries() {
    // Europe/Paris leaves winter time on Sunday 2026-03-29 (02:00 -> 03:00).
    let mut f = fixture();
    f.clock.set(at("2026-03-29T12:00:00Z"));
    let spec = BudgetSpec {
        period: Period::Weekly {
            start: Weekday::Mon,
        },
        starts_on: Some(d("2026-03-16")),
        ..monthly("Week", "100.00 EUR", None, "Europe/Paris")
    };
    let b = f.wallet.create_budget(&spec).unwrap().budget;
    // 23:30 local on Sunday the 29th (UTC+2 by then) is 21:30 UTC: this week.
    spend(&f.wallet, "a", "10.00 EUR", None, "2026-03-29T21:30:00Z");
    // 00:30 local on Monday the 30th is 22:30 UTC on Sunday: next week.
    spend(&f.wallet, "b", "20.00 EUR", None, "2026-03-29T22:30:00Z");
    // 01:30 local on the 29th, before the jump (UTC+1): this week.
    spend(&f.wallet, "c", "5.00 EUR", None, "2026-03-29T00:30:00Z");
    let s = f.wallet.budget_status(&b.id).unwrap();
    assert_eq!(
        (s.period_start, s.period_end),
        (d("2026-03-23"), d("2026-03-29"))
    );
    assert_eq!(s.spent, money("15.00 EUR"));
    assert_eq!(s.days_in_period, 7);

    f.clock.set(at("2026-03-30T08:00:00Z"));
    f.reopen();
    let s = f.wallet.budget_status(&b.id).unwrap();
    assert_eq!(
        (s.period_start, s.period_end),
        (d("2026-03-30"), d("2026-04-05"))
    );
    assert_eq!(s.spent, money("20.00 EUR"));

    // The autumn change in New York (2026-11-01, 02:00 EDT -> 01:00 EST):
    // 23:30 EDT on October 31st is 03:30 UTC on November 1st.
    f.clock.set(at("2026-11-01T12:00:00Z"));
    let ny = f
        .wallet
        .create_budget(&BudgetSpec {
            starts_on: Some(d("2026-10-01")),
            ..monthly("NY", "100.00 USD", None, "America/New_York")
        })
        .unwrap()
        .budget;
    spend(
        &f.wallet,
        "ny-oct",
        "7.00 USD",
        None,
        "2026-11-01T03:30:00Z",
    );
    spend(
        &f.wallet,
        "ny-nov",
        "9.00 USD",
        None,
        "2026-11-01T05:30:00Z",
    );
    let s = f.wallet.budget_status(&ny.id).unwrap();
    assert_eq!(s.period_start, d("2026-11-01"));
    assert_eq!(s.spent, money("9.00 USD"));
}

#[test]
fn half_past_eleven_local_is_counted_on_the_local_day() {
    let f = fixture();
    // 23:30 in Los Angeles on November 30th is 07:30 UTC on December 1st.
    f.clock.set(at("2026-12-01T07:45:00Z"));
    let b = f
        .wallet
        .create_budget(&monthly("LA", "100.00 USD", None, "America/Los_Angeles"))
        .unwrap()
        .budget;
    spend(&f.wallet, "late", "12.00 USD", None, "2026-12-01T07:30:00Z");
    let s = f.wallet.budget_status(&b.id).unwrap();
    assert_eq!(
        (s.period_start, s.period_end),
        (d("2026-11-01"), d("2026-11-30"))
    );
    assert_eq!(s.spent, money("12.00 USD"));
    assert_eq!(s.days_elapsed, 30);

    // The same instant in a UTC budget is December.
    let utc = f
        .wallet
        .create_budget(&monthly("UTC", "100.00 USD", None, "UTC"))
        .unwrap()
        .budget;
    let s = f.wallet.budget_status(&utc.id).unwrap();
    assert_eq!(s.period_start, d("2026-12-01"));
    assert_eq!(s.spent, money("12.00 USD"));

    // A day later in LA, November is over and December starts empty.
    f.clock.set(at("2026-12-02T08:00:00Z"));
    let s = f.wallet.budget_status(&b.id).unwrap();
    assert_eq!(s.period_start, d("2026-12-01"));
    assert_eq!(s.spent, money("0.00 USD"));
    assert_eq!(s.period_start.month(), 12);
}

#[test]
fn custom_and_biweekly_budgets() {
    let f = fixture();
    let custom = f
        .wallet
        .create_budget(&BudgetSpec {
            period: Period::Custom {
                start: d("2026-11-20"),
                end: d("2026-12-05"),
            },
            rollover: Rollover::Surplus,
            ..monthly("Trip", "500.00 USD", Some("travel"), "Asia/Tokyo")
        })
        .unwrap()
        .budget;
    let biweekly = f
        .wallet
        .create_budget(&BudgetSpec {
            period: Period::BiWeekly {
                anchor: d("2026-01-05"),
            },
            ..monthly("Fortnight", "300.00 USD", None, "UTC")
        })
        .unwrap()
        .budget;
    spend(
        &f.wallet,
        "hotel",
        "200.00 USD",
        Some("travel.lodging"),
        "2026-11-21T03:00:00Z",
    );
    spend(
        &f.wallet,
        "before",
        "50.00 USD",
        Some("travel"),
        "2026-11-10T03:00:00Z",
    );
    let s = f.wallet.budget_status(&custom.id).unwrap();
    assert_eq!(
        (s.period_start, s.period_end),
        (d("2026-11-20"), d("2026-12-05"))
    );
    assert_eq!(s.spent, money("200.00 USD"));
    assert_eq!(s.carried_in, money("0.00 USD"));
    let s = f.wallet.budget_status(&biweekly.id).unwrap();
    // 2026-01-05 + 23 * 14 days = 2026-11-23 (today): the hotel on the
    // 21st was in the fortnight before the budget began.
    assert_eq!(
        (s.period_start, s.period_end),
        (d("2026-11-23"), d("2026-12-06"))
    );
    assert_eq!(s.spent, money("0.00 USD"));
    spend(
        &f.wallet,
        "today",
        "30.00 USD",
        None,
        "2026-11-23T09:00:00Z",
    );
    assert_eq!(
        f.wallet.budget_status(&biweekly.id).unwrap().spent,
        money("30.00 USD")
    );
}

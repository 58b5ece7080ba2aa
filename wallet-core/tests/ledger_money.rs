//! Multi-currency: original and settled amounts, rates with source and
//! as-of time, budgets counting foreign spending at the recorded rate,
//! missing rates as errors, rounding once at the end; KWD and JPY.

mod common;
mod ledger_support;

use common::*;
use ledger_support::*;
use rust_decimal::Decimal;
use wallet_core::{Error, FxDetail, FxRate, InsightsQuery};

fn abroad(key: &str, settled: &str, original: &str, rate: &str) -> wallet_core::PendingEntry {
    let mut p = pending(key, settled, None, "2026-11-20T10:00:00Z");
    p.original = Some(FxDetail {
        original: money(original),
        rate: rate.parse().unwrap(),
        source: "issuer".into(),
        as_of_ms: at("2026-11-20T09:00:00Z"),
    });
    p
}

#[test]
fn budgets_count_foreign_spending_at_the_recorded_rate() {
    let f = fixture();
    let w = &f.wallet;
    let usd = w
        .create_budget(&monthly("USD", "100.00 USD", None, "UTC"))
        .unwrap()
        .budget
        .id;
    let eur = w
        .create_budget(&monthly("EUR", "100.00 EUR", None, "UTC"))
        .unwrap()
        .budget
        .id;
    let gbp = w
        .create_budget(&monthly("GBP", "100.00 GBP", None, "UTC"))
        .unwrap()
        .budget
        .id;

    // 10.00 EUR paid abroad, settled as 10.84 USD at the issuer's rate.
    let e = w
        .record_pending(&abroad("a", "10.84 USD", "10.00 EUR", "1.0837"))
        .unwrap()
        .entry;
    let o = e.original.unwrap();
    assert_eq!(o.original, money("-10.00 EUR"));
    assert_eq!(o.source, "issuer");
    spend(w, "b", "5.00 USD", None, "2026-11-20T11:00:00Z");

    assert_eq!(w.budget_status(&usd).unwrap().spent, money("15.84 USD"));
    // The EUR budget takes the original amount; the plain USD entry needs a
    // rate that does not exist yet: an error, never 1.0.
    assert!(matches!(
        w.budget_status(&eur),
        Err(Error::MissingRate {
            from: "USD",
            to: "EUR"
        })
    ));
    assert!(matches!(
        w.budget_statuses(),
        Err(Error::MissingRate { .. })
    ));
    assert_eq!(w.budget_status(&gbp).unwrap_err().code(), "missing_rate");

    w.set_fx_rate(&FxRate {
        base: cur("EUR"),
        quote: cur("USD"),
        rate: "1.25".parse().unwrap(),
        source: "ECB".into(),
        as_of_ms: at("2026-11-20T00:00:00Z"),
    })
    .unwrap();
    // 10.00 EUR + 5.00 USD / 1.25 = 14.00 EUR.
    assert_eq!(w.budget_status(&eur).unwrap().spent, money("14.00 EUR"));
    assert!(matches!(
        w.budget_status(&gbp),
        Err(Error::MissingRate { to: "GBP", .. })
    ));
    let rates = w.fx_rates().unwrap();
    assert_eq!(rates.len(), 1);
    assert_eq!(rates[0].source, "ECB");
}

#[test]
fn rounding_happens_once_at_the_end() {
    let f = fixture();
    let w = &f.wallet;
    let gbp = w
        .create_budget(&monthly("GBP", "100.00 GBP", None, "UTC"))
        .unwrap()
        .budget
        .id;
    w.set_fx_rate(&FxRate {
        base: cur("USD"),
        quote: cur("GBP"),
        rate: Decimal::new(3333333, 7), // 0.3333333
        source: "test".into(),
        as_of_ms: at("2026-11-01T00:00:00Z"),
    })
    .unwrap();
    for k in ["a", "b", "c"] {
        spend(w, k, "1.00 USD", None, "2026-11-20T10:00:00Z");
    }
    // 3 x 0.3333333 = 0.9999999 → 1.00; rounding each first would give 0.99.
    assert_eq!(w.budget_status(&gbp).unwrap().spent, money("1.00 GBP"));

    // Insights in GBP agree, and insights in a currency with no rate fail.
    let ins = w
        .insights(&InsightsQuery {
            months: 1,
            currency: cur("GBP"),
            time_zone: "UTC".into(),
            top_merchants: 5,
        })
        .unwrap();
    assert_eq!(ins.total, money("1.00 GBP"));
    assert!(matches!(
        w.insights(&InsightsQuery {
            months: 1,
            currency: cur("CHF"),
            time_zone: "UTC".into(),
            top_merchants: 5,
        }),
        Err(Error::MissingRate {
            from: "USD",
            to: "CHF"
        })
    ));
}

#[test]
fn three_decimal_and_zero_decimal_currencies() {
    let f = fixture();
    let w = &f.wallet;
    let kwd = w
        .create_budget(&monthly("KWD", "10.000 KWD", Some("food"), "Asia/Kuwait"))
        .unwrap()
        .budget
        .id;
    let jpy = w
        .create_budget(&monthly(
            "JPY",
            "10000 JPY",
            Some("transport"),
            "Asia/Tokyo",
        ))
        .unwrap()
        .budget
        .id;
    spend(w, "k1", "1.235 KWD", Some("food"), "2026-11-20T10:00:00Z");
    spend(w, "k2", "0.005 KWD", Some("food"), "2026-11-20T10:00:00Z");
    spend(
        w,
        "j1",
        "1500 JPY",
        Some("transport"),
        "2026-11-20T10:00:00Z",
    );
    spend(w, "j2", "7 JPY", Some("transport"), "2026-11-20T10:00:00Z");
    let s = w.budget_status(&kwd).unwrap();
    assert_eq!(s.spent.to_string(), "1.240 KWD");
    assert_eq!(s.remaining.to_string(), "8.760 KWD");
    assert_eq!(s.percent_used, Some(12));
    let s = w.budget_status(&jpy).unwrap();
    assert_eq!(s.spent.to_string(), "1507 JPY");
    assert_eq!(s.remaining.to_string(), "8493 JPY");

    let balances = w.balances().unwrap();
    let by = |c: &str| {
        balances
            .iter()
            .find(|b| b.currency.code() == c)
            .unwrap()
            .available
            .to_string()
    };
    assert_eq!(by("KWD"), "-1.240 KWD");
    assert_eq!(by("JPY"), "-1507 JPY");

    // A fourth decimal in KWD, or any in JPY, is refused at the door.
    assert!(matches!(
        "1.2345 KWD".parse::<wallet_core::Money>(),
        Err(Error::InvalidAmount(_))
    ));
    assert!(matches!(
        "15.5 JPY".parse::<wallet_core::Money>(),
        Err(Error::InvalidAmount(_))
    ));
    let odd = wallet_core::Money::new(Decimal::new(155, 1), cur("JPY"));
    assert!(matches!(
        w.record_pending(&wallet_core::PendingEntry {
            amount: odd,
            ..pending("j3", "1 JPY", None, "2026-11-20T10:00:00Z")
        }),
        Err(Error::InvalidAmount(_))
    ));

    // A taxi paid in KWD, settled in JPY: the JPY budget takes the settled
    // amount.
    let mut mix = abroad("mix", "500 JPY", "1.000 KWD", "500");
    mix.category = Some("transport.taxi".into());
    w.record_pending(&mix).unwrap();
    assert_eq!(w.budget_status(&jpy).unwrap().spent.to_string(), "2007 JPY");

    // An overall JPY budget needs a KWD rate for the KWD purchases.
    w.set_fx_rate(&FxRate {
        base: cur("KWD"),
        quote: cur("JPY"),
        rate: "480.5".parse().unwrap(),
        source: "test".into(),
        as_of_ms: at("2026-11-20T00:00:00Z"),
    })
    .unwrap();
    let all = w
        .create_budget(&monthly("All", "50000 JPY", None, "Asia/Tokyo"))
        .unwrap()
        .budget
        .id;
    // 1507 + 500 + 1.240 × 480.5 (595.82) = 2602.82 → 2603.
    assert_eq!(w.budget_status(&all).unwrap().spent.to_string(), "2603 JPY");
}

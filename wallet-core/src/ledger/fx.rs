//! Exchange rates: the rate recorded on each foreign entry, and a table of
//! rates (with source and as-of time) for currencies an entry does not carry.
//!
//! A missing rate is an error, never 1.0: a conversion that finds no rate
//! returns `None`, and callers turn that into `Error::MissingRate`.

use std::collections::HashMap;

use rusqlite::{params, Connection};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::ledger::{ser_decimal, StoredRow};
use crate::money::{Currency, Money};
use crate::wallet::Wallet;

/// A rate: one unit of `base` is worth `rate` units of `quote`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FxRate {
    pub base: Currency,
    pub quote: Currency,
    #[serde(serialize_with = "ser_decimal")]
    pub rate: Decimal,
    pub source: String,
    pub as_of_ms: i64,
}

/// All stored rates, in memory: a handful of rows.
#[derive(Default)]
pub(crate) struct FxTable {
    rates: HashMap<(Currency, Currency), Vec<(i64, Decimal)>>,
}

impl FxTable {
    pub(crate) fn load(conn: &Connection) -> Result<Self> {
        let mut stmt = conn
            .prepare_cached("SELECT base, quote, as_of_ms, rate FROM fx_rates ORDER BY as_of_ms")?;
        let mut table = FxTable::default();
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        for row in rows {
            let (b, q, at, rate) = row?;
            let (Ok(b), Ok(q), Ok(rate)) = (
                Currency::from_code(&b),
                Currency::from_code(&q),
                rate.parse::<Decimal>(),
            ) else {
                return Err(Error::Corrupt("an exchange rate"));
            };
            table.rates.entry((b, q)).or_default().push((at, rate));
        }
        Ok(table)
    }

    /// The rate from `from` to `to` nearest in time to `at_ms`, direct or
    /// inverted.
    pub(crate) fn rate(&self, from: Currency, to: Currency, at_ms: i64) -> Option<Decimal> {
        if from == to {
            return Some(Decimal::ONE);
        }
        let nearest = |v: &Vec<(i64, Decimal)>| {
            v.iter()
                .min_by_key(|(t, _)| (t - at_ms).unsigned_abs())
                .map(|(t, r)| (*t, *r))
        };
        let direct = self.rates.get(&(from, to)).and_then(nearest);
        let inverse = self
            .rates
            .get(&(to, from))
            .and_then(nearest)
            .and_then(|(t, r)| Decimal::ONE.checked_div(r).map(|r| (t, r)));
        match (direct, inverse) {
            (Some(d), Some(i)) => Some(
                if (d.0 - at_ms).unsigned_abs() <= (i.0 - at_ms).unsigned_abs() {
                    d.1
                } else {
                    i.1
                },
            ),
            (Some(d), None) => Some(d.1),
            (None, Some(i)) => Some(i.1),
            (None, None) => None,
        }
    }
}

/// A row's signed amount in `to`, unrounded: the settled amount when it is
/// in `to`, the original amount when that is, otherwise the settled amount
/// at the table's rate. `None` when no rate is known.
pub(crate) fn amount_in(row: &StoredRow, to: Currency, fx: &FxTable) -> Option<Decimal> {
    convert(
        row.amount_minor,
        row.currency,
        row.orig_minor.zip(row.orig_currency),
        row.booked_at_ms,
        to,
        fx,
    )
}

/// `amount_in` on bare columns, for scans that do not build whole rows.
pub(crate) fn convert(
    amount_minor: i64,
    currency: Currency,
    original: Option<(i64, Currency)>,
    at_ms: i64,
    to: Currency,
    fx: &FxTable,
) -> Option<Decimal> {
    if currency == to {
        return Some(Money::from_minor(amount_minor, to).amount());
    }
    if let Some((m, c)) = original {
        if c == to {
            return Some(Money::from_minor(m, c).amount());
        }
    }
    let rate = fx.rate(currency, to, at_ms)?;
    Money::from_minor(amount_minor, currency)
        .amount()
        .checked_mul(rate)
}

impl Wallet {
    /// Records an exchange rate, for budgets and insights in a currency an
    /// entry does not carry. Budgets in either currency are recomputed.
    pub fn set_fx_rate(&self, rate: &FxRate) -> Result<()> {
        self.keys()?;
        if rate.base == rate.quote {
            return Err(Error::InvalidAmount(
                "a rate needs two different currencies",
            ));
        }
        if rate.rate <= Decimal::ZERO {
            return Err(Error::InvalidAmount("an exchange rate must be positive"));
        }
        crate::ledger::check_instant("rate time", rate.as_of_ms)?;
        crate::ledger::check_key("rate source", &rate.source)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO fx_rates (base, quote, as_of_ms, rate, source) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                rate.base.code(),
                rate.quote.code(),
                rate.as_of_ms,
                rate.rate.normalize().to_string(),
                rate.source
            ],
        )?;
        crate::budgets::recompute_budgets_for_rate(&tx, rate.base, rate.quote)?;
        tx.commit()?;
        Ok(())
    }

    pub fn fx_rates(&self) -> Result<Vec<FxRate>> {
        self.keys()?;
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT base, quote, rate, source, as_of_ms FROM fx_rates ORDER BY base, quote, as_of_ms",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (b, q, rate, source, as_of_ms) = row?;
            Ok(FxRate {
                base: Currency::from_code(&b).map_err(|_| Error::Corrupt("an exchange rate"))?,
                quote: Currency::from_code(&q).map_err(|_| Error::Corrupt("an exchange rate"))?,
                rate: rate
                    .parse()
                    .map_err(|_| Error::Corrupt("an exchange rate"))?,
                source,
                as_of_ms,
            })
        })
        .collect()
    }
}

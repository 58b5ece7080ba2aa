//! Spending insights: by month (with month-over-month change), by category
//! and by merchant, in one currency and time zone; plus the spending chart
//! and the CSV export.
//!
//! Insights read the ledger in one indexed range scan over the months asked
//! for (no aggregate table: month boundaries depend on the time zone asked
//! for). Foreign entries count at the rate recorded on them, else at a
//! stored rate; a missing rate is an error. Totals are exact and rounded
//! half-even once, at the end.

mod chart;
mod export;

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::categories::CategoryTree;
use crate::error::{Error, Result};
use crate::ledger::fx::{convert, FxTable};
use crate::money::{Currency, Money};
use crate::time::{day_start_ms, local_date, parse_zone, zone_name};
use crate::wallet::Wallet;

pub use chart::{render_chart, ChartFormat};

/// What to analyse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsightsQuery {
    /// Calendar months ending with the current one, 1 to 120.
    pub months: u32,
    /// Everything is converted into this currency.
    pub currency: Currency,
    /// An IANA zone for month boundaries.
    pub time_zone: String,
    /// How many merchants to list, 1 to 100.
    pub top_merchants: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryAmount {
    pub category: String,
    pub name: String,
    pub spent: Money,
    /// Whole percent of the total, rounded down.
    pub share_percent: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthSpend {
    /// "2026-11".
    pub month: String,
    pub spent: Money,
    /// Against the month before; `None` for no data then.
    pub change: Option<Money>,
    /// Whole percent, rounded half-even; `None` when the month before was 0.
    pub change_percent: Option<i64>,
    /// By top-level category, largest first.
    pub categories: Vec<CategoryAmount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MerchantSpend {
    pub merchant: String,
    pub spent: Money,
    pub transactions: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Insights {
    pub currency: Currency,
    pub time_zone: String,
    pub from: NaiveDate,
    /// The last day included (today).
    pub to: NaiveDate,
    pub total: Money,
    /// Oldest first.
    pub months: Vec<MonthSpend>,
    /// Leaf categories, largest first.
    pub by_category: Vec<CategoryAmount>,
    /// Top-level categories (sub-categories rolled up), largest first.
    pub by_top_category: Vec<CategoryAmount>,
    pub top_merchants: Vec<MerchantSpend>,
}

fn month_start(y: i32, m: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, 1)
}

fn add_months(d: NaiveDate, n: i32) -> Option<NaiveDate> {
    let total = d.year() * 12 + d.month0() as i32 + n;
    month_start(total.div_euclid(12), total.rem_euclid(12) as u32 + 1)
}

fn share(part: Decimal, total: Decimal) -> u32 {
    if total <= Decimal::ZERO {
        return 0;
    }
    (part.max(Decimal::ZERO) * Decimal::ONE_HUNDRED / total)
        .floor()
        .try_into()
        .unwrap_or(0)
}

fn sorted_amounts(
    map: HashMap<String, Decimal>,
    total: Decimal,
    currency: Currency,
    tree: &CategoryTree,
) -> Vec<CategoryAmount> {
    let mut v: Vec<CategoryAmount> = map
        .into_iter()
        .map(|(id, d)| CategoryAmount {
            name: tree.name(&id),
            category: id,
            spent: Money::new(d, currency).rounded(),
            share_percent: share(d, total),
        })
        .collect();
    v.sort_by(|a, b| {
        b.spent
            .amount()
            .cmp(&a.spent.amount())
            .then(a.category.cmp(&b.category))
    });
    v
}

impl Wallet {
    pub fn insights(&self, q: &InsightsQuery) -> Result<Insights> {
        self.keys()?;
        if !(1..=120).contains(&q.months) {
            return Err(Error::InvalidText {
                field: "months",
                reason: "ask for 1 to 120 months",
            });
        }
        if !(1..=100).contains(&q.top_merchants) {
            return Err(Error::InvalidText {
                field: "top merchants",
                reason: "ask for 1 to 100 merchants",
            });
        }
        let tz = parse_zone(&q.time_zone)?;
        let today = local_date(self.now_ms(), &tz);
        let this_month = month_start(today.year(), today.month()).ok_or(Error::Corrupt("date"))?;
        // One month more than asked, for the first month's change.
        let n = q.months as i32 + 1;
        let starts: Vec<NaiveDate> = (0..=n)
            .map(|i| add_months(this_month, i - n + 1))
            .collect::<Option<_>>()
            .ok_or(Error::InvalidText {
                field: "months",
                reason: "the range is out of the calendar",
            })?;
        let bounds: Vec<i64> = starts.iter().map(|d| day_start_ms(*d, &tz)).collect();

        let conn = self.conn();
        let tree = CategoryTree::load(&conn)?;
        let fx = FxTable::load(&conn)?;
        let months = starts.len() - 1;
        let mut per_month: Vec<Decimal> = vec![Decimal::ZERO; months];
        let mut has_data: Vec<bool> = vec![false; months];
        let mut month_top: Vec<HashMap<usize, Decimal>> = vec![HashMap::new(); months];
        let mut by_cat: HashMap<String, Decimal> = HashMap::new();
        let mut merchants: HashMap<String, (String, Decimal, u32)> = HashMap::new();
        let mut currencies: HashMap<String, Currency> = HashMap::new();
        // Top-level categories by index, so the per-row work copies no text.
        let mut top_of: HashMap<String, usize> = HashMap::new();
        let mut tops: Vec<String> = Vec::new();

        // When the range holds a good share of the ledger, one sequential
        // pass over the table beats fetching each row through the time
        // index (rows synced out of order sit on scattered pages). The
        // count itself reads only the index.
        let (in_range, total): (i64, i64) = conn.query_row(
            "SELECT (SELECT COUNT(*) FROM ledger_entries WHERE booked_at_ms >= ?1 AND booked_at_ms < ?2),
                    (SELECT COALESCE(MAX(seq), 0) FROM ledger_entries)",
            [bounds[0], bounds[months]],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let table = if in_range * 5 > total {
            "ledger_entries NOT INDEXED"
        } else {
            "ledger_entries"
        };
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT booked_at_ms, amount_minor, currency, orig_minor, orig_currency, category, merchant
             FROM {table}
             WHERE booked_at_ms >= ?1 AND booked_at_ms < ?2
               AND kind IN ('purchase', 'refund', 'fee') AND status != 'reversed'"
        ))?;
        let mut rows = stmt.query([bounds[0], bounds[months]])?;
        let mut currency_of = |code: &str| -> Result<Currency> {
            if let Some(c) = currencies.get(code) {
                return Ok(*c);
            }
            let c = Currency::from_code(code).map_err(|_| Error::Corrupt("a currency"))?;
            currencies.insert(code.to_string(), c);
            Ok(c)
        };
        while let Some(r) = rows.next()? {
            let at: i64 = r.get(0)?;
            let minor: i64 = r.get(1)?;
            let currency = currency_of(r.get_ref(2)?.as_str().map_err(rusqlite::Error::from)?)?;
            let orig = match (
                r.get::<_, Option<i64>>(3)?,
                r.get_ref(4)?
                    .as_str_or_null()
                    .map_err(rusqlite::Error::from)?,
            ) {
                (Some(m), Some(c)) => Some((m, currency_of(c)?)),
                _ => None,
            };
            let Some(value) = convert(minor, currency, orig, at, q.currency, &fx) else {
                return Err(Error::MissingRate {
                    from: currency.code(),
                    to: q.currency.code(),
                });
            };
            // Spending is money out.
            let spent = -value;
            let idx = bounds
                .partition_point(|b| *b <= at)
                .saturating_sub(1)
                .min(months - 1);
            per_month[idx] += spent;
            has_data[idx] = true;
            // Borrowed column text and lookups before inserts: no
            // allocation per row once a category or merchant has been seen.
            let category = r.get_ref(5)?.as_str().map_err(rusqlite::Error::from)?;
            let top = match top_of.get(category) {
                Some(t) => *t,
                None => {
                    let t = tree.top(category);
                    let i = tops.iter().position(|x| *x == t).unwrap_or_else(|| {
                        tops.push(t);
                        tops.len() - 1
                    });
                    top_of.insert(category.to_string(), i);
                    i
                }
            };
            *month_top[idx].entry(top).or_default() += spent;
            if idx == 0 {
                continue; // the extra month only feeds the first change
            }
            match by_cat.get_mut(category) {
                Some(v) => *v += spent,
                None => {
                    by_cat.insert(category.to_string(), spent);
                }
            }
            if let Some(m) = r
                .get_ref(6)?
                .as_str_or_null()
                .map_err(rusqlite::Error::from)?
            {
                // Grouped by exact name here; case variants merge below.
                match merchants.get_mut(m) {
                    Some(slot) => {
                        slot.1 += spent;
                        slot.2 += 1;
                    }
                    None => {
                        merchants.insert(m.to_string(), (m.trim().to_string(), spent, 1));
                    }
                }
            }
        }
        drop(rows);

        let money = |d: Decimal| Money::new(d, q.currency).rounded();
        let total: Decimal = per_month[1..].iter().sum();
        let mut month_list = Vec::new();
        for i in 1..months {
            let cur = per_month[i];
            let prev = per_month[i - 1];
            let change = has_data[i - 1].then(|| cur - prev);
            let change_percent = change.filter(|_| prev > Decimal::ZERO).map(|c| {
                (c * Decimal::ONE_HUNDRED / prev)
                    .round()
                    .try_into()
                    .unwrap_or(0i64)
            });
            month_list.push(MonthSpend {
                month: format!("{}-{:02}", starts[i].year(), starts[i].month()),
                spent: money(cur),
                change: change.map(money),
                change_percent,
                categories: sorted_amounts(
                    std::mem::take(&mut month_top[i])
                        .into_iter()
                        .map(|(t, v)| (tops[t].clone(), v))
                        .collect(),
                    cur,
                    q.currency,
                    &tree,
                ),
            });
        }
        let mut by_top: HashMap<String, Decimal> = HashMap::new();
        for (id, v) in &by_cat {
            *by_top.entry(tree.top(id)).or_default() += *v;
        }
        let mut merged: HashMap<String, (String, Decimal, u32)> = HashMap::new();
        for (name, total, n) in merchants.into_values() {
            let slot = merged
                .entry(name.to_lowercase())
                .or_insert_with(|| (name.clone(), Decimal::ZERO, 0));
            slot.1 += total;
            slot.2 += n;
        }
        let mut top_merchants: Vec<MerchantSpend> = merged
            .into_values()
            .map(|(name, d, n)| MerchantSpend {
                merchant: name,
                spent: money(d),
                transactions: n,
            })
            .collect();
        top_merchants.sort_by(|a, b| {
            b.spent
                .amount()
                .cmp(&a.spent.amount())
                .then(a.merchant.cmp(&b.merchant))
        });
        top_merchants.truncate(q.top_merchants as usize);
        Ok(Insights {
            currency: q.currency,
            time_zone: zone_name(&tz).to_string(),
            from: starts[1],
            to: today,
            total: money(total),
            months: month_list,
            by_category: sorted_amounts(by_cat, total, q.currency, &tree),
            by_top_category: sorted_amounts(by_top, total, q.currency, &tree),
            top_merchants,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_step_across_years() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        assert_eq!(add_months(d, -1), NaiveDate::from_ymd_opt(2025, 12, 1));
        assert_eq!(add_months(d, 13), NaiveDate::from_ymd_opt(2027, 2, 1));
    }
}

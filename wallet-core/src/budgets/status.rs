//! A budget's current period: limit, rollover carried in, spent, forecast;
//! and the evaluation that fires each (budget, period, threshold) alert at
//! most once.
//!
//! All arithmetic is exact decimal; amounts are rounded half-even once, when
//! the status is built. Alerts are recorded in `alerts_sent`, a grow-only set
//! keyed by (budget, period start, alert key), in the same transaction as the
//! write that caused them, so a crash cannot lose or repeat one and sync can
//! merge the set across devices by union: each new row is queued for the bank
//! in that same transaction, and the rows other devices sent arrive through
//! `replica::apply_remote`, so an alert sent anywhere never fires here.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use rusqlite::{params, Connection, Transaction};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use super::{limit_at, limits, Budget, Rollover, StoredBudget};
use crate::alerts::{Alert, AlertKind};
use crate::categories::CategoryTree;
use crate::error::{Error, Result};
use crate::ledger::fx::FxTable;
use crate::money::{Currency, Money};
use crate::time::local_date;
use crate::wallet::Wallet;

/// "At this pace you will exceed by `overshoot` around `around`."
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Forecast {
    /// Spending at the end of the period if the pace so far holds.
    pub projected: Money,
    pub overshoot: Money,
    pub around: NaiveDate,
}

/// Where a budget stands in its current period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BudgetStatus {
    pub budget: Budget,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// The period's own limit.
    pub limit: Money,
    /// Rollover from earlier periods: positive for a surplus, negative for
    /// a deficit.
    pub carried_in: Money,
    /// `limit + carried_in`: what may be spent this period.
    pub available: Money,
    /// Expenses minus refunds, pending included, transfers excluded.
    pub spent: Money,
    /// `available - spent`; negative when over.
    pub remaining: Money,
    /// Whole percent of `available` spent, rounded down; `None` when
    /// nothing is available.
    pub percent_used: Option<u32>,
    pub days_elapsed: u32,
    pub days_in_period: u32,
    /// Present after at least 3 days when the pace would exceed the budget.
    pub forecast: Option<Forecast>,
}

/// Days of data before a forecast is trusted.
const FORECAST_MIN_DAYS: u32 = 3;
/// A budget older than this many periods carries rollover from the most
/// recent ones only (about 20 years of weekly periods).
const MAX_PERIODS: usize = 1100;

fn parse_total(s: &str) -> Result<Decimal> {
    s.parse().map_err(|_| Error::Corrupt("a budget total"))
}

/// Which currency lacks a rate into `to`; for the error message.
fn missing_rate_error(conn: &Connection, to: Currency) -> Error {
    let found = (|| -> Result<Option<&'static str>> {
        let fx = FxTable::load(conn)?;
        let mut stmt = conn.prepare_cached(
            "SELECT DISTINCT currency FROM ledger_entries
             WHERE currency != ?1 AND (orig_currency IS NULL OR orig_currency != ?1)
               AND kind IN ('purchase', 'refund', 'fee') AND status != 'reversed'",
        )?;
        let codes: Vec<String> = stmt
            .query_map([to.code()], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(codes
            .iter()
            .filter_map(|c| Currency::from_code(c).ok())
            .find(|c| fx.rate(*c, to, 0).is_none())
            .map(Currency::code))
    })();
    Error::MissingRate {
        from: found.ok().flatten().unwrap_or("another currency"),
        to: to.code(),
    }
}

/// The status of a budget on local date `today`.
pub(crate) fn compute(
    conn: &Connection,
    tree: &CategoryTree,
    b: &StoredBudget,
    today: NaiveDate,
) -> Result<BudgetStatus> {
    let first = b.first_period();
    let current = b
        .period
        .containing(today)
        .filter(|p| p.0 >= first.0)
        // Before the first period, or after a custom range ended: show that
        // range.
        .unwrap_or(first);
    let limits = limits(conn, &b.id)?;
    let mut stmt = conn.prepare_cached(
        "SELECT period_start, spent, missing_rates FROM budget_period_totals
         WHERE budget_id = ?1 AND period_start <= ?2",
    )?;
    let mut totals: HashMap<NaiveDate, Decimal> = HashMap::new();
    let mut missing_before = false;
    let mut missing_now = false;
    let rows = stmt.query_map(params![b.id, current.0.to_string()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    for row in rows {
        let (start, spent, missing) = row?;
        let start = NaiveDate::parse_from_str(&start, "%Y-%m-%d")
            .map_err(|_| Error::Corrupt("a budget period"))?;
        if missing > 0 {
            if start == current.0 {
                missing_now = true;
            } else {
                missing_before = true;
            }
        }
        totals.insert(start, parse_total(&spent)?);
    }
    if missing_now || (missing_before && b.rollover != Rollover::None) {
        return Err(missing_rate_error(conn, b.currency));
    }

    let major = |minor: i64| Money::from_minor(minor, b.currency).amount();
    // Rollover is derived: walk the periods from the first to the current,
    // carrying what each left over (or, with deficits, overspent).
    let mut carry = Decimal::ZERO;
    if b.rollover != Rollover::None {
        let mut periods = Vec::new();
        let mut p = first;
        while p.0 < current.0 {
            periods.push(p);
            match b.period.next_after(p.1) {
                Some(next) if next.0 > p.0 => p = next,
                _ => break,
            }
        }
        let skip = periods.len().saturating_sub(MAX_PERIODS);
        for (start, _) in periods.into_iter().skip(skip) {
            let left = major(limit_at(&limits, start)) + carry
                - totals.get(&start).copied().unwrap_or_default();
            carry = match b.rollover {
                Rollover::Surplus => left.max(Decimal::ZERO),
                _ => left,
            };
        }
    }
    let limit = major(limit_at(&limits, current.0));
    let available = limit + carry;
    let spent = totals.get(&current.0).copied().unwrap_or_default();
    let days_in_period = ((current.1 - current.0).num_days() + 1) as u32;
    let days_elapsed = ((today - current.0).num_days() + 1).clamp(0, days_in_period as i64) as u32;
    let percent_used = (available > Decimal::ZERO).then(|| {
        (spent.max(Decimal::ZERO) * Decimal::ONE_HUNDRED / available)
            .floor()
            .min(Decimal::from(u32::MAX))
            .try_into()
            .unwrap_or(u32::MAX)
    });

    let in_period = (current.0..=current.1).contains(&today);
    let forecast = if in_period
        && days_elapsed >= FORECAST_MIN_DAYS
        && spent > Decimal::ZERO
        && available > Decimal::ZERO
        && spent <= available
    {
        let pace = spent / Decimal::from(days_elapsed);
        let projected = pace * Decimal::from(days_in_period);
        if projected > available {
            // The first day whose cumulative spending at this pace passes
            // what is available.
            let day = (available / pace)
                .round_dp_with_strategy(0, RoundingStrategy::ToZero)
                .try_into()
                .unwrap_or(0u64)
                + 1;
            current
                .0
                .checked_add_days(Days::new(day.saturating_sub(1)))
                .map(|around| Forecast {
                    projected: Money::new(projected, b.currency).rounded(),
                    overshoot: Money::new(projected - available, b.currency).rounded(),
                    around: around.min(current.1),
                })
        } else {
            None
        }
    } else {
        None
    };

    let money = |d: Decimal| Money::new(d, b.currency).rounded();
    Ok(BudgetStatus {
        budget: b.to_budget(money(limit), tree),
        period_start: current.0,
        period_end: current.1,
        limit: money(limit),
        carried_in: money(carry),
        available: money(available),
        spent: money(spent),
        remaining: money(available - spent),
        percent_used,
        days_elapsed,
        days_in_period,
        forecast,
    })
}

/// Re-evaluates budgets after a change and fires the alerts newly due in
/// their current periods. Of several thresholds crossed at once only the
/// highest is announced; the lower ones are marked sent too, so they never
/// fire late. A budget whose spending cannot be converted (missing rate)
/// fires nothing until the rate arrives.
pub(crate) fn evaluate(
    tx: &Transaction<'_>,
    tree: &CategoryTree,
    ids: &[String],
    now_ms: i64,
) -> Result<Vec<Alert>> {
    let mut alerts = Vec::new();
    let mut mark = tx.prepare_cached(
        "INSERT OR IGNORE INTO alerts_sent (budget_id, period_start, alert_key, fired_ms, alert)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for id in ids {
        let b = match StoredBudget::load(tx, id) {
            Ok(b) => b,
            Err(Error::BudgetNotFound) => continue,
            Err(e) => return Err(e),
        };
        let today = local_date(now_ms, &b.tz);
        let s = match compute(tx, tree, &b, today) {
            Ok(s) => s,
            Err(Error::MissingRate { .. }) => continue,
            Err(e) => return Err(e),
        };
        if !(s.period_start..=s.period_end).contains(&today)
            || !s.spent.amount().is_sign_positive()
            || s.spent.amount().is_zero()
        {
            continue;
        }
        let spent = s.spent.amount() * Decimal::ONE_HUNDRED;
        let avail = s.available.amount();
        let crossed: Vec<u32> = b
            .thresholds
            .iter()
            .copied()
            .filter(|&t| {
                let bar = avail * Decimal::from(t);
                // Below 100% a threshold is reached; from 100% on it is
                // exceeded, i.e. passed.
                if t < 100 {
                    spent >= bar
                } else {
                    spent > bar
                }
            })
            .collect();
        let period = s.period_start.to_string();
        let mut newly = Vec::new();
        for t in &crossed {
            let alert = threshold_alert(&s, *t, now_ms);
            let key = format!("t{t}");
            if mark.execute(params![id, period, key, now_ms, alert.message])? == 1 {
                crate::replica::enqueue_alert_sent(tx, id, &period, &key, now_ms)?;
                newly.push(alert);
            }
        }
        if let Some(top) = newly.pop() {
            alerts.push(top);
        }
        let exceeded = crossed.iter().any(|t| *t >= 100);
        if let (Some(f), false) = (&s.forecast, exceeded) {
            let alert = forecast_alert(&s, f, now_ms);
            if mark.execute(params![id, period, "forecast", now_ms, alert.message])? == 1 {
                crate::replica::enqueue_alert_sent(tx, id, &period, "forecast", now_ms)?;
                alerts.push(alert);
            }
        }
    }
    Ok(alerts)
}

fn base_alert(s: &BudgetStatus, kind: AlertKind, message: String, now_ms: i64) -> Alert {
    Alert {
        budget_id: s.budget.id.clone(),
        budget_name: s.budget.name.clone(),
        period_start: s.period_start,
        period_end: s.period_end,
        kind,
        threshold_percent: None,
        spent: s.spent,
        limit: s.available,
        forecast_overshoot: None,
        forecast_date: None,
        message,
        fired_at_ms: now_ms,
    }
}

fn threshold_alert(s: &BudgetStatus, t: u32, now_ms: i64) -> Alert {
    let (kind, message) = if t < 100 {
        (
            AlertKind::Threshold,
            format!(
                "{}: {}% of the budget used ({} of {})",
                s.budget.name, t, s.spent, s.available
            ),
        )
    } else if t == 100 {
        (
            AlertKind::Exceeded,
            format!(
                "{}: budget exceeded ({} spent of {})",
                s.budget.name, s.spent, s.available
            ),
        )
    } else {
        (
            AlertKind::Exceeded,
            format!(
                "{}: spending passed {}% of the budget ({} spent of {})",
                s.budget.name, t, s.spent, s.available
            ),
        )
    };
    Alert {
        threshold_percent: Some(t),
        ..base_alert(s, kind, message, now_ms)
    }
}

fn forecast_alert(s: &BudgetStatus, f: &Forecast, now_ms: i64) -> Alert {
    let message = format!(
        "{}: at this pace you will exceed the budget by {} around {}",
        s.budget.name, f.overshoot, f.around
    );
    Alert {
        forecast_overshoot: Some(f.overshoot),
        forecast_date: Some(f.around),
        ..base_alert(s, AlertKind::Forecast, message, now_ms)
    }
}

impl Wallet {
    /// A budget's current period. A missing exchange rate is an error.
    pub fn budget_status(&self, id: &str) -> Result<BudgetStatus> {
        self.keys()?;
        let now = self.now_ms();
        let conn = self.conn();
        let tree = CategoryTree::load(&conn)?;
        let b = StoredBudget::load(&conn, id)?;
        compute(&conn, &tree, &b, local_date(now, &b.tz))
    }

    /// Every budget's current period, in creation order.
    pub fn budget_statuses(&self) -> Result<Vec<BudgetStatus>> {
        self.keys()?;
        let now = self.now_ms();
        let conn = self.conn();
        let tree = CategoryTree::load(&conn)?;
        StoredBudget::load_all(&conn)?
            .iter()
            .map(|b| compute(&conn, &tree, b, local_date(now, &b.tz)))
            .collect()
    }
}

//! Budgets: overall or per category (sub-categories rolled up), with
//! monthly, weekly, bi-weekly or custom periods in the budget's own IANA
//! time zone, rollover, and alert thresholds.
//!
//! Spending per (budget, period) is an aggregate kept up to date by every
//! ledger write (see `ledger::apply`), so status never scans the ledger.
//! Rollover is derived from those totals at read time, which is why a
//! back-dated entry in an old period changes today's carried amount with no
//! extra bookkeeping. When a budget's scope changes (created, edited, a
//! category merged, a rate added) its totals are rebuilt from the ledger.

mod period;
pub(crate) mod replica;
mod status;

use std::collections::HashSet;

use billfold_protocol::{Collection, TOMBSTONE_FIELD};
use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;
use serde_json::json;

use crate::alerts::{Alert, SentAlert};
use crate::categories::CategoryTree;
use crate::error::{Error, Result};
use crate::ledger::fx::FxTable;
use crate::ledger::{Aggregates, StoredRow};
use crate::money::{Currency, Money};
use crate::replica::write_local;
use crate::time::{local_date, parse_zone, zone_name, TimeZone};
use crate::wallet::{new_id, Wallet};

pub use period::Period;
pub(crate) use status::evaluate;
pub use status::{BudgetStatus, Forecast};

/// What happens to what is left (or overspent) at the end of a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rollover {
    /// Every period starts from its limit.
    None,
    /// Unspent money is added to the next period; overspending is forgotten.
    Surplus,
    /// Both carry: overspending shrinks the next period.
    SurplusAndDeficit,
}

impl Rollover {
    pub fn as_str(self) -> &'static str {
        match self {
            Rollover::None => "none",
            Rollover::Surplus => "surplus",
            Rollover::SurplusAndDeficit => "surplus_and_deficit",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Ok(
            match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
                "none" => Rollover::None,
                "surplus" => Rollover::Surplus,
                "surplus_and_deficit" => Rollover::SurplusAndDeficit,
                _ => {
                    return Err(Error::InvalidText {
                        field: "rollover",
                        reason: "use none, surplus or surplus_and_deficit",
                    })
                }
            },
        )
    }
}

/// The thresholds a budget gets unless told otherwise.
pub const DEFAULT_THRESHOLDS: [u32; 3] = [50, 80, 100];

/// A budget as the user sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Budget {
    pub id: String,
    pub name: String,
    /// `None` for an overall budget.
    pub category: Option<String>,
    pub category_name: Option<String>,
    /// The limit of the current period, before rollover.
    pub limit: Money,
    pub period: Period,
    pub time_zone: String,
    pub rollover: Rollover,
    /// Percentages; those of 100 or more fire when spending goes over them.
    pub thresholds: Vec<u32>,
    /// The first day of the first period the budget covers.
    pub starts_on: NaiveDate,
    pub created_ms: i64,
}

/// What the user fills in to create a budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetSpec {
    pub name: String,
    /// A category id or name; `None` for an overall budget.
    pub category: Option<String>,
    pub limit: Money,
    pub period: Period,
    /// An IANA name such as "Europe/Paris".
    pub time_zone: String,
    pub rollover: Rollover,
    /// Defaults to 50/80/100.
    pub thresholds: Option<Vec<u32>>,
    /// Any day of the first period to cover; defaults to today.
    pub starts_on: Option<NaiveDate>,
}

/// A change to a budget; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BudgetEdit {
    pub name: Option<String>,
    /// Applies from the current period on; earlier periods keep theirs.
    pub limit: Option<Money>,
    pub thresholds: Option<Vec<u32>>,
    pub rollover: Option<Rollover>,
    pub period: Option<Period>,
    pub time_zone: Option<String>,
    /// `Some(None)` makes it an overall budget.
    pub category: Option<Option<String>>,
}

/// A budget after a change, with the alerts the re-evaluation fired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BudgetChange {
    pub budget: Budget,
    pub alerts: Vec<Alert>,
}

/// A `budgets` row with its parsed fields.
#[derive(Debug, Clone)]
pub(crate) struct StoredBudget {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) category: Option<String>,
    pub(crate) currency: Currency,
    pub(crate) period: Period,
    pub(crate) tz_name: String,
    pub(crate) tz: TimeZone,
    pub(crate) rollover: Rollover,
    pub(crate) thresholds: Vec<u32>,
    pub(crate) starts_on: NaiveDate,
    pub(crate) created_ms: i64,
}

const SELECT_BUDGET: &str = "SELECT id, name, category_id, currency, period, time_zone, rollover,
    thresholds, starts_on, created_ms FROM budgets";

fn corrupt(_: Error) -> rusqlite::Error {
    rusqlite::Error::InvalidQuery
}

impl StoredBudget {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        let tz_name: String = r.get(5)?;
        Ok(StoredBudget {
            id: r.get(0)?,
            name: r.get(1)?,
            category: r.get(2)?,
            currency: Currency::from_code(&r.get::<_, String>(3)?).map_err(corrupt)?,
            period: r.get::<_, String>(4)?.parse().map_err(corrupt)?,
            // The zone was known when stored; the phone's own database could
            // lack it later (a zone newer than its tzdata, synced from another
            // device). Counting in UTC keeps the budget usable meanwhile.
            tz: parse_zone(&tz_name).unwrap_or_else(|_| {
                tracing::warn!(zone = %tz_name, "budget time zone unknown to this device; using UTC");
                TimeZone::UTC
            }),
            tz_name,
            rollover: Rollover::parse(&r.get::<_, String>(6)?).map_err(corrupt)?,
            thresholds: parse_thresholds_text(&r.get::<_, String>(7)?).map_err(corrupt)?,
            starts_on: NaiveDate::parse_from_str(&r.get::<_, String>(8)?, "%Y-%m-%d")
                .map_err(|_| rusqlite::Error::InvalidQuery)?,
            created_ms: r.get(9)?,
        })
    }

    pub(crate) fn load(conn: &Connection, id: &str) -> Result<Self> {
        conn.prepare_cached(&format!("{SELECT_BUDGET} WHERE id = ?1 AND deleted = 0"))?
            .query_row([id], Self::from_row)
            .optional()?
            .ok_or(Error::BudgetNotFound)
    }

    pub(crate) fn load_all(conn: &Connection) -> Result<Vec<Self>> {
        let mut stmt = conn.prepare_cached(&format!(
            "{SELECT_BUDGET} WHERE deleted = 0 ORDER BY created_ms, id"
        ))?;
        let rows = stmt.query_map([], Self::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The first period the budget covers.
    pub(crate) fn first_period(&self) -> (NaiveDate, NaiveDate) {
        match self.period {
            Period::Custom { start, end } => (start, end),
            p => p
                .containing(self.starts_on)
                .unwrap_or((self.starts_on, self.starts_on)),
        }
    }

    fn to_budget(&self, limit: Money, tree: &CategoryTree) -> Budget {
        Budget {
            id: self.id.clone(),
            name: self.name.clone(),
            category: self.category.clone(),
            category_name: self.category.as_deref().map(|c| tree.name(c)),
            limit,
            period: self.period,
            time_zone: self.tz_name.clone(),
            rollover: self.rollover,
            thresholds: self.thresholds.clone(),
            starts_on: self.first_period().0,
            created_ms: self.created_ms,
        }
    }
}

fn parse_thresholds_text(s: &str) -> Result<Vec<u32>> {
    if s.is_empty() {
        return Ok(vec![]);
    }
    let values =
        s.split(',')
            .map(|t| {
                t.trim().trim_end_matches('%').parse::<u32>().map_err(|_| {
                    Error::InvalidThresholds("write whole percentages, e.g. 50,80,100")
                })
            })
            .collect::<Result<Vec<_>>>()?;
    check_thresholds(values)
}

/// Parses "50,80,100" as typed on the command line.
pub fn parse_thresholds(s: &str) -> Result<Vec<u32>> {
    parse_thresholds_text(s.trim())
}

fn check_thresholds(mut values: Vec<u32>) -> Result<Vec<u32>> {
    if values.len() > 10 {
        return Err(Error::InvalidThresholds("at most 10 thresholds"));
    }
    if values.iter().any(|t| !(1..=1000).contains(t)) {
        return Err(Error::InvalidThresholds(
            "each threshold must be between 1 and 1000 percent",
        ));
    }
    values.sort_unstable();
    values.dedup();
    Ok(values)
}

fn thresholds_text(t: &[u32]) -> String {
    t.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

fn check_limit(limit: &Money) -> Result<i64> {
    if limit.is_negative() {
        return Err(Error::InvalidLimit("a limit cannot be negative"));
    }
    if limit.rounded() != *limit {
        return Err(Error::InvalidAmount(
            "more decimal places than the currency allows",
        ));
    }
    let minor = limit.to_minor()?;
    if minor > crate::ledger::MAX_MINOR {
        return Err(Error::InvalidLimit("the limit is too large"));
    }
    Ok(minor)
}

fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
        return Err(Error::InvalidText {
            field: "budget name",
            reason: "use 1 to 60 printable characters",
        });
    }
    Ok(name.to_string())
}

/// What the ledger's write path needs to know about a budget.
pub(crate) struct BudgetScope {
    pub(crate) id: String,
    pub(crate) currency: Currency,
    tz: TimeZone,
    period: Period,
    first_start: NaiveDate,
    /// `None`: every category.
    categories: Option<HashSet<String>>,
}

impl BudgetScope {
    fn new(b: &StoredBudget, tree: &CategoryTree) -> Self {
        BudgetScope {
            id: b.id.clone(),
            currency: b.currency,
            tz: b.tz.clone(),
            period: b.period,
            first_start: b.first_period().0,
            categories: b.category.as_deref().map(|c| match tree.resolve(c) {
                Some(live) => tree.subtree(&live),
                None => HashSet::new(),
            }),
        }
    }

    pub(crate) fn includes(&self, category: &str) -> bool {
        self.categories
            .as_ref()
            .is_none_or(|set| set.contains(category))
    }

    /// The start of the period an entry booked at `ms` falls in, by its
    /// local date in the budget's zone; `None` before the budget began.
    pub(crate) fn period_start_of(&self, ms: i64) -> Option<NaiveDate> {
        let date = local_date(ms, &self.tz);
        if date < self.first_start {
            return None;
        }
        self.period.containing(date).map(|p| p.0)
    }
}

pub(crate) fn load_scopes(
    conn: &Connection,
    tree: &CategoryTree,
    only: Option<&[String]>,
) -> Result<Vec<BudgetScope>> {
    Ok(StoredBudget::load_all(conn)?
        .iter()
        .filter(|b| only.is_none_or(|ids| ids.contains(&b.id)))
        .map(|b| BudgetScope::new(b, tree))
        .collect())
}

/// Rebuilds the spending totals of some budgets from the ledger.
pub(crate) fn recompute(tx: &Transaction<'_>, tree: &CategoryTree, ids: &[String]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut del = tx.prepare_cached("DELETE FROM budget_period_totals WHERE budget_id = ?1")?;
    for id in ids {
        del.execute([id])?;
    }
    let scopes = load_scopes(tx, tree, Some(ids))?;
    // A day's margin either side of the earliest start covers every zone.
    let Some(earliest) = scopes.iter().map(|s| s.first_start).min() else {
        return Ok(());
    };
    let from_ms = earliest
        .pred_opt()
        .unwrap_or(earliest)
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis() - 86_400_000)
        .unwrap_or(0);
    let mut agg = Aggregates::for_scopes(scopes, FxTable::load(tx)?);
    let mut stmt = tx.prepare_cached(&format!(
        "{} WHERE booked_at_ms >= ?1 AND kind IN ('purchase', 'refund', 'fee') AND status != 'reversed'",
        crate::ledger::SELECT_ROW
    ))?;
    let rows = stmt.query_map([from_ms], StoredRow::from_row)?;
    for row in rows {
        agg.add_spending(&row?, 1);
    }
    agg.flush(tx)?;
    Ok(())
}

/// The live budgets of one category (and its subtree), whose totals depend
/// on the category tree's shape.
pub(crate) fn category_budget_ids(conn: &Connection) -> Result<Vec<String>> {
    Ok(StoredBudget::load_all(conn)?
        .into_iter()
        .filter(|b| b.category.is_some())
        .map(|b| b.id)
        .collect())
}

pub(crate) fn recompute_all_category_budgets(
    tx: &Transaction<'_>,
    tree: &CategoryTree,
) -> Result<()> {
    recompute(tx, tree, &category_budget_ids(tx)?)
}

/// A new rate can change any conversion into or out of its currencies.
pub(crate) fn recompute_budgets_for_rate(
    tx: &Transaction<'_>,
    _base: Currency,
    _quote: Currency,
) -> Result<()> {
    let tree = CategoryTree::load(tx)?;
    let ids: Vec<String> = StoredBudget::load_all(tx)?
        .into_iter()
        .map(|b| b.id)
        .collect();
    recompute(tx, &tree, &ids)
}

/// The limit in force for the period starting on `start`: the latest one
/// set on or before it (or the first ever, for periods before any edit).
pub(crate) fn limits(conn: &Connection, id: &str) -> Result<Vec<(NaiveDate, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT effective_from, limit_minor FROM budget_limits WHERE budget_id = ?1 ORDER BY effective_from",
    )?;
    let rows = stmt.query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    rows.map(|r| {
        let (d, l) = r?;
        Ok((
            NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                .map_err(|_| Error::Corrupt("a budget limit"))?,
            l,
        ))
    })
    .collect()
}

pub(crate) fn limit_at(limits: &[(NaiveDate, i64)], start: NaiveDate) -> i64 {
    limits
        .iter()
        .rev()
        .find(|(from, _)| *from <= start)
        .or(limits.first())
        .map(|(_, l)| *l)
        .unwrap_or(0)
}

impl Wallet {
    pub fn create_budget(&self, spec: &BudgetSpec) -> Result<BudgetChange> {
        self.keys()?;
        let name = check_name(&spec.name)?;
        let limit_minor = check_limit(&spec.limit)?;
        let tz = parse_zone(&spec.time_zone)?;
        spec.period.validate()?;
        let thresholds = match &spec.thresholds {
            Some(t) => check_thresholds(t.clone())?,
            None => DEFAULT_THRESHOLDS.to_vec(),
        };
        let now = self.now_ms();
        let starts_on = match (spec.period, spec.starts_on) {
            (Period::Custom { start, .. }, _) => start,
            (_, Some(d)) => d,
            (_, None) => local_date(now, &tz),
        };
        let id = new_id()?;
        let (alerts, budget) = {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            let tree = CategoryTree::load(&tx)?;
            let category = spec.category.as_deref().map(|c| tree.find(c)).transpose()?;
            let stamp = crate::hlc::tick(&tx, now)?;
            let hlc = crate::hlc::text(&stamp);
            tx.execute(
                "INSERT INTO budgets (id, name, category_id, currency, period, time_zone, rollover,
                    thresholds, starts_on, created_ms, updated_hlc)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    id,
                    name,
                    category,
                    spec.limit.currency().code(),
                    spec.period.to_string(),
                    zone_name(&tz),
                    spec.rollover.as_str(),
                    thresholds_text(&thresholds),
                    starts_on.to_string(),
                    now,
                    hlc
                ],
            )?;
            let stored = StoredBudget::load(&tx, &id)?;
            let first = stored.first_period().0;
            tx.execute(
                "INSERT INTO budget_limits (budget_id, effective_from, limit_minor, updated_hlc)
                 VALUES (?1, ?2, ?3, ?4)",
                params![id, first.to_string(), limit_minor, hlc],
            )?;
            let mut fields = replica::all_fields(&stored);
            fields.push((replica::limit_field(first), json!(limit_minor)));
            write_local(&tx, Collection::Budgets, &id, &stamp, fields, now)?;
            recompute(&tx, &tree, std::slice::from_ref(&id))?;
            let alerts = evaluate(&tx, &tree, std::slice::from_ref(&id), now)?;
            let budget = self.budget_in(&tx, &tree, &id)?;
            tx.commit()?;
            (alerts, budget)
        };
        self.alert_listener.deliver(&[], &alerts);
        Ok(BudgetChange { budget, alerts })
    }

    fn budget_in(&self, conn: &Connection, tree: &CategoryTree, id: &str) -> Result<Budget> {
        let b = StoredBudget::load(conn, id)?;
        let today = local_date(self.now_ms(), &b.tz);
        let start = b
            .period
            .containing(today)
            .map(|p| p.0)
            .unwrap_or(b.first_period().0)
            .max(b.first_period().0);
        let limit = limit_at(&limits(conn, id)?, start);
        Ok(b.to_budget(Money::from_minor(limit, b.currency), tree))
    }

    pub fn budgets(&self) -> Result<Vec<Budget>> {
        self.keys()?;
        let conn = self.conn();
        let tree = CategoryTree::load(&conn)?;
        StoredBudget::load_all(&conn)?
            .iter()
            .map(|b| self.budget_in(&conn, &tree, &b.id))
            .collect()
    }

    pub fn budget(&self, id: &str) -> Result<Budget> {
        self.keys()?;
        let conn = self.conn();
        let tree = CategoryTree::load(&conn)?;
        self.budget_in(&conn, &tree, id)
    }

    /// Changes a budget and re-evaluates it. A lower limit can fire alerts;
    /// a higher one never retracts an alert already sent.
    pub fn edit_budget(&self, id: &str, edit: &BudgetEdit) -> Result<BudgetChange> {
        self.keys()?;
        let now = self.now_ms();
        let (alerts, budget) = {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            let tree = CategoryTree::load(&tx)?;
            let old = StoredBudget::load(&tx, id)?;
            let name = edit.name.as_deref().map(check_name).transpose()?;
            let thresholds = edit.thresholds.clone().map(check_thresholds).transpose()?;
            let tz = edit.time_zone.as_deref().map(parse_zone).transpose()?;
            if let Some(p) = &edit.period {
                p.validate()?;
            }
            let category = match &edit.category {
                Some(Some(c)) => Some(Some(tree.find(c)?)),
                Some(None) => Some(None),
                None => None,
            };
            let limit = match &edit.limit {
                Some(l) if l.currency() != old.currency => return Err(Error::CurrencyMismatch),
                Some(l) => Some(check_limit(l)?),
                None => None,
            };
            let stamp = crate::hlc::tick(&tx, now)?;
            let hlc = crate::hlc::text(&stamp);
            let scope_changed = tz.is_some() || edit.period.is_some() || category.is_some();
            let starts_on = match edit.period {
                Some(Period::Custom { start, .. }) => start,
                _ => old.starts_on,
            };
            tx.execute(
                "UPDATE budgets SET name = COALESCE(?2, name), thresholds = COALESCE(?3, thresholds),
                    rollover = COALESCE(?4, rollover), period = COALESCE(?5, period),
                    time_zone = COALESCE(?6, time_zone),
                    category_id = CASE WHEN ?7 THEN ?8 ELSE category_id END,
                    starts_on = ?9, updated_hlc = ?10
                 WHERE id = ?1",
                params![
                    id,
                    name,
                    thresholds.as_deref().map(thresholds_text),
                    edit.rollover.map(Rollover::as_str),
                    edit.period.map(|p| p.to_string()),
                    tz.as_ref().map(zone_name),
                    category.is_some(),
                    category.clone().flatten(),
                    starts_on.to_string(),
                    hlc
                ],
            )?;
            let new = StoredBudget::load(&tx, id)?;
            let mut fields = replica::changed_fields(&old, &new);
            if let Some(minor) = limit {
                // From the current period on; earlier periods keep theirs,
                // so an edit does not rewrite rollover history.
                let today = local_date(now, &new.tz);
                let from = new
                    .period
                    .containing(today)
                    .map(|p| p.0)
                    .unwrap_or(new.first_period().0)
                    .max(new.first_period().0);
                let had: Option<i64> = tx
                    .query_row(
                        "SELECT limit_minor FROM budget_limits WHERE budget_id = ?1 AND effective_from = ?2",
                        params![id, from.to_string()],
                        |r| r.get(0),
                    )
                    .optional()?;
                if had != Some(minor) {
                    tx.execute(
                        "INSERT OR REPLACE INTO budget_limits (budget_id, effective_from, limit_minor, updated_hlc)
                         VALUES (?1, ?2, ?3, ?4)",
                        params![id, from.to_string(), minor, hlc],
                    )?;
                    fields.push((replica::limit_field(from), json!(minor)));
                }
            }
            if !fields.is_empty() {
                // An edit says the budget exists: against a concurrent
                // delete, the later of the two wins.
                fields.push((TOMBSTONE_FIELD.into(), json!(false)));
            }
            write_local(&tx, Collection::Budgets, id, &stamp, fields, now)?;
            if scope_changed {
                recompute(&tx, &tree, &[id.to_string()])?;
            }
            let alerts = evaluate(&tx, &tree, &[id.to_string()], now)?;
            let budget = self.budget_in(&tx, &tree, id)?;
            tx.commit()?;
            (alerts, budget)
        };
        self.alert_listener.deliver(&[], &alerts);
        Ok(BudgetChange { budget, alerts })
    }

    /// Deletes a budget (a tombstone, for sync). Its sent alerts stay in
    /// the grow-only set.
    pub fn delete_budget(&self, id: &str) -> Result<()> {
        self.keys()?;
        let now = self.now_ms();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        StoredBudget::load(&tx, id)?;
        let stamp = crate::hlc::tick(&tx, now)?;
        tx.execute(
            "UPDATE budgets SET deleted = 1, updated_hlc = ?2 WHERE id = ?1",
            params![id, crate::hlc::text(&stamp)],
        )?;
        write_local(
            &tx,
            Collection::Budgets,
            id,
            &stamp,
            vec![(TOMBSTONE_FIELD, json!(true))],
            now,
        )?;
        tx.execute(
            "DELETE FROM budget_period_totals WHERE budget_id = ?1",
            [id],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Budget alerts already sent, newest first; for one budget or all.
    pub fn sent_alerts(&self, budget_id: Option<&str>) -> Result<Vec<SentAlert>> {
        self.keys()?;
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT budget_id, period_start, alert_key, fired_ms, alert FROM alerts_sent
             WHERE ?1 IS NULL OR budget_id = ?1 ORDER BY fired_ms DESC, budget_id, alert_key",
        )?;
        let rows = stmt.query_map([budget_id], |r| {
            Ok(SentAlert {
                budget_id: r.get(0)?,
                period_start: r.get(1)?,
                key: r.get(2)?,
                fired_at_ms: r.get(3)?,
                message: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

//! A budget as sync's `budgets` collection sees it: one record per budget,
//! one field per setting, and one field per limit row.
//!
//! Fields and their JSON: `name` (string), `category` (category id or
//! null), `currency` (ISO 4217 code), `period` (the canonical text, e.g.
//! `monthly:1`), `time_zone` (IANA name), `rollover` (`none`, `surplus`,
//! `surplus_and_deficit`), `thresholds` (array of percentages), `starts_on`
//! (`YYYY-MM-DD`), `created_ms` (integer), `_deleted` (bool), and
//! `limit_YYYYMMDD` (integer minor units) for the limit in force from the
//! period starting that day. Limits are fields of their own so two devices
//! changing the limit from different periods both keep theirs, while two
//! changes from the same period resolve by stamp.

use std::collections::BTreeMap;

use billfold_protocol::TOMBSTONE_FIELD;
use chrono::NaiveDate;
use rusqlite::{params, OptionalExtension, Transaction};
use serde_json::{json, Value};

use super::StoredBudget;
use super::{check_name, check_thresholds, thresholds_text, Period, Rollover};
use crate::error::Result;
use crate::ledger::MAX_MINOR;
use crate::money::Currency;
use crate::replica::{
    as_bool, as_i64, as_opt_id, as_str, newest_text, Rebuilt, Register, RejectReason,
};
use crate::time::{parse_zone, zone_name};

/// One parsed field.
pub(crate) enum Field {
    Name(String),
    Category(Option<String>),
    Currency(Currency),
    Period(Period),
    TimeZone(String),
    Rollover(Rollover),
    Thresholds(Vec<u32>),
    StartsOn(NaiveDate),
    CreatedMs(i64),
    Limit(NaiveDate, i64),
    Deleted(bool),
}

pub(crate) fn limit_field(from: NaiveDate) -> String {
    format!("limit_{}", from.format("%Y%m%d"))
}

fn limit_date(field: &str) -> Option<NaiveDate> {
    let digits = field.strip_prefix("limit_")?;
    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::parse_from_str(digits, "%Y%m%d").ok()
}

fn date(v: &Value) -> std::result::Result<NaiveDate, RejectReason> {
    NaiveDate::parse_from_str(as_str(v)?, "%Y-%m-%d").map_err(|_| RejectReason::InvalidValue)
}

/// Parses a pulled (or stored) field, with the checks a local edit gets.
pub(crate) fn parse(field: &str, v: &Value) -> std::result::Result<Field, RejectReason> {
    use RejectReason::{InvalidValue, UnknownField, WrongType};
    Ok(match field {
        "name" => Field::Name(check_name(as_str(v)?).map_err(|_| InvalidValue)?),
        "category" => Field::Category(as_opt_id(v)?),
        "currency" => Field::Currency(Currency::from_code(as_str(v)?).map_err(|_| InvalidValue)?),
        "period" => Field::Period(as_str(v)?.parse().map_err(|_| InvalidValue)?),
        "time_zone" => {
            Field::TimeZone(zone_name(&parse_zone(as_str(v)?).map_err(|_| InvalidValue)?).into())
        }
        "rollover" => Field::Rollover(Rollover::parse(as_str(v)?).map_err(|_| InvalidValue)?),
        "thresholds" => {
            let values = v
                .as_array()
                .ok_or(WrongType)?
                .iter()
                .map(|t| match t {
                    Value::Number(n) => n
                        .as_u64()
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or(InvalidValue),
                    _ => Err(WrongType),
                })
                .collect::<std::result::Result<Vec<_>, _>>()?;
            Field::Thresholds(check_thresholds(values).map_err(|_| InvalidValue)?)
        }
        "starts_on" => Field::StartsOn(date(v)?),
        "created_ms" => {
            let ms = as_i64(v)?;
            crate::ledger::check_instant("creation time", ms).map_err(|_| InvalidValue)?;
            Field::CreatedMs(ms)
        }
        TOMBSTONE_FIELD => Field::Deleted(as_bool(v)?),
        f => match limit_date(f) {
            Some(from) => {
                let minor = as_i64(v)?;
                if !(0..=MAX_MINOR).contains(&minor) {
                    return Err(InvalidValue);
                }
                Field::Limit(from, minor)
            }
            None => return Err(UnknownField),
        },
    })
}

/// Every setting of a budget, for its creation.
pub(crate) fn all_fields(b: &StoredBudget) -> Vec<(String, Value)> {
    [
        ("name", json!(b.name)),
        ("category", json!(b.category)),
        ("currency", json!(b.currency.code())),
        ("period", json!(b.period.to_string())),
        ("time_zone", json!(b.tz_name)),
        ("rollover", json!(b.rollover.as_str())),
        ("thresholds", json!(b.thresholds)),
        ("starts_on", json!(b.starts_on.to_string())),
        ("created_ms", json!(b.created_ms)),
        (TOMBSTONE_FIELD, json!(false)),
    ]
    .into_iter()
    .map(|(f, v)| (f.to_string(), v))
    .collect()
}

/// The settings an edit changed.
pub(crate) fn changed_fields(old: &StoredBudget, new: &StoredBudget) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    if old.name != new.name {
        out.push(("name".into(), json!(new.name)));
    }
    if old.category != new.category {
        out.push(("category".into(), json!(new.category)));
    }
    if old.period != new.period {
        out.push(("period".into(), json!(new.period.to_string())));
    }
    if old.tz_name != new.tz_name {
        out.push(("time_zone".into(), json!(new.tz_name)));
    }
    if old.rollover != new.rollover {
        out.push(("rollover".into(), json!(new.rollover.as_str())));
    }
    if old.thresholds != new.thresholds {
        out.push(("thresholds".into(), json!(new.thresholds)));
    }
    if old.starts_on != new.starts_on {
        out.push(("starts_on".into(), json!(new.starts_on.to_string())));
    }
    out
}

/// A `budgets` row's columns, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Columns {
    name: Option<String>,
    category: Option<String>,
    currency: Option<String>,
    period: Option<String>,
    time_zone: Option<String>,
    rollover: Option<String>,
    thresholds: Option<String>,
    starts_on: Option<String>,
    created_ms: Option<i64>,
    deleted: bool,
}

/// Rebuilds a budget's row and limits from its registers. A budget seen
/// for the first time needs all its settings and one limit; until then its
/// registers wait.
pub(crate) fn rebuild(
    tx: &Transaction<'_>,
    id: &str,
    regs: &BTreeMap<String, Register>,
) -> Result<Rebuilt> {
    let old: Option<Columns> = tx
        .prepare_cached(
            "SELECT name, category_id, currency, period, time_zone, rollover, thresholds,
                starts_on, created_ms, deleted FROM budgets WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok(Columns {
                name: r.get(0)?,
                category: r.get(1)?,
                currency: r.get(2)?,
                period: r.get(3)?,
                time_zone: r.get(4)?,
                rollover: r.get(5)?,
                thresholds: r.get(6)?,
                starts_on: r.get(7)?,
                created_ms: r.get(8)?,
                deleted: r.get(9)?,
            })
        })
        .optional()?;
    let mut new = old.clone().unwrap_or(Columns {
        name: None,
        category: None,
        currency: None,
        period: None,
        time_zone: None,
        rollover: None,
        thresholds: None,
        starts_on: None,
        created_ms: None,
        deleted: false,
    });
    let mut limits = Vec::new();
    // Stored registers passed these checks on the way in; one that no
    // longer parses (a newer app's value) is left out, not trusted.
    for (field, reg) in regs {
        match parse(field, &reg.value) {
            Ok(Field::Name(v)) => new.name = Some(v),
            Ok(Field::Category(v)) => new.category = v,
            Ok(Field::Currency(v)) => new.currency = Some(v.code().into()),
            Ok(Field::Period(v)) => new.period = Some(v.to_string()),
            Ok(Field::TimeZone(v)) => new.time_zone = Some(v),
            Ok(Field::Rollover(v)) => new.rollover = Some(v.as_str().into()),
            Ok(Field::Thresholds(v)) => new.thresholds = Some(thresholds_text(&v)),
            Ok(Field::StartsOn(v)) => new.starts_on = Some(v.to_string()),
            Ok(Field::CreatedMs(v)) => new.created_ms = Some(v),
            Ok(Field::Deleted(v)) => new.deleted = v,
            Ok(Field::Limit(from, minor)) => limits.push((from, minor, &reg.hlc)),
            Err(_) => {}
        }
    }
    if old.is_none() {
        if new.deleted {
            // Deleted before this device ever saw it: nothing to show, and
            // the registers stay in case a later edit brings it back.
            return Ok(Rebuilt::Unchanged);
        }
        let complete = new.name.is_some()
            && new.currency.is_some()
            && new.period.is_some()
            && new.time_zone.is_some()
            && new.rollover.is_some()
            && new.thresholds.is_some()
            && new.starts_on.is_some()
            && !limits.is_empty();
        if !complete {
            return Ok(Rebuilt::Incomplete);
        }
        if new.created_ms.is_none() {
            new.created_ms = regs.values().map(|r| r.hlc.wall_ms as i64).min();
        }
    }

    let mut changed = old.as_ref() != Some(&new);
    if changed {
        tx.prepare_cached(
            "INSERT INTO budgets (id, name, category_id, currency, period, time_zone, rollover,
                thresholds, starts_on, created_ms, updated_hlc, deleted)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                category_id = excluded.category_id, currency = excluded.currency,
                period = excluded.period, time_zone = excluded.time_zone,
                rollover = excluded.rollover, thresholds = excluded.thresholds,
                starts_on = excluded.starts_on, created_ms = excluded.created_ms,
                updated_hlc = excluded.updated_hlc, deleted = excluded.deleted",
        )?
        .execute(params![
            id,
            new.name,
            new.category,
            new.currency,
            new.period,
            new.time_zone,
            new.rollover,
            new.thresholds,
            new.starts_on,
            new.created_ms.unwrap_or(0),
            newest_text(regs),
            new.deleted
        ])?;
    }
    for (from, minor, hlc) in limits {
        let from = from.to_string();
        let have: Option<i64> = tx
            .prepare_cached(
                "SELECT limit_minor FROM budget_limits WHERE budget_id = ?1 AND effective_from = ?2",
            )?
            .query_row(params![id, from], |r| r.get(0))
            .optional()?;
        if have != Some(minor) {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO budget_limits (budget_id, effective_from, limit_minor, updated_hlc)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![id, from, minor, crate::hlc::text(hlc)])?;
            changed = true;
        }
    }
    if changed && new.deleted {
        tx.prepare_cached("DELETE FROM budget_period_totals WHERE budget_id = ?1")?
            .execute([id])?;
    }
    Ok(if changed {
        Rebuilt::Changed
    } else {
        Rebuilt::Unchanged
    })
}

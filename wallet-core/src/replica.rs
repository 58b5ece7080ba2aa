//! Sync's merge of user-editable data: budgets, categories, and the notes
//! and category overrides on ledger entries. (The ledger itself is the
//! bank's and is never merged; see `ledger`.)
//!
//! Each record is a set of fields, and each field is a last-writer-wins
//! register stamped with a hybrid logical clock ([`crate::hlc`]), kept in
//! `replica_fields`: this device's copy of the bank's `records` table. The
//! rows the rest of the core reads (`budgets`, `budget_limits`,
//! `categories`, `category_overrides`, an entry's `category` and `note`) are
//! built from those registers. So:
//!
//! - a local edit stamps only the fields it changed with one fresh tick,
//!   writes their registers, and queues one `Op::RecordUpdate` in the
//!   outbox, all in the edit's own transaction ([`write_local`]);
//! - a pulled field replaces the register only if its stamp is greater
//!   (ties are the same write: the bank's rule in `server/src/records.rs`),
//!   and the records it changed are rebuilt ([`apply_remote`]);
//! - deletion is the field `_deleted` merged like any other; every direct
//!   edit of a budget or category also writes `_deleted: false`, so a
//!   delete and a concurrent edit resolve by their stamps: the later wins,
//!   on every device.
//!
//! "Alert sent" is a grow-only set: every row added to `alerts_sent` is
//! queued as `Op::AlertSent`, and the bank's set is unioned into
//! `alerts_sent` without telling the `AlertListener`, so an alert another
//! device sent is never repeated here. On the wire an alert is
//! (budget id, period, threshold) where the period is the period's first
//! local day, `YYYY-MM-DD`, and the threshold is the percentage; the
//! forecast alert ("at this pace you will exceed...") is threshold
//! [`FORECAST_THRESHOLD`] (0), which no percentage threshold can be.
//!
//! Remote input is untrusted: a change with an invalid record id, an
//! unknown field, a value of the wrong type or out of range, or an
//! impossible stamp is skipped and reported ([`MergeReport::rejected`]),
//! never applied, and never fails the pull.

use std::collections::{BTreeMap, BTreeSet};

use billfold_protocol::{
    AlertKey, AlertRecord, Collection, FieldChange, FieldWrite, Hlc, Op, RecordUpdate,
    TOMBSTONE_FIELD,
};
use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;
use serde_json::Value;

use crate::alerts::Alert;
use crate::categories::CategoryTree;
use crate::error::{Error, Result};
use crate::ledger::Aggregates;
use crate::wallet::Wallet;

/// The bank refuses larger field values (JSON text).
pub(crate) const MAX_VALUE_BYTES: usize = 8 * 1024;
/// The bank refuses updates of more fields.
const MAX_FIELDS: usize = 64;
/// `AlertKey::threshold` of the forecast alert. Percentage thresholds are
/// 1 to 1000, so 0 cannot collide with one.
pub const FORECAST_THRESHOLD: u16 = 0;

/// Why a pulled change was not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// The record id is not 1 to 128 of `A-Z a-z 0-9 _ . : -`.
    InvalidRecordId,
    /// The collection has no such field (in this version of the app).
    UnknownField,
    /// The value has the wrong JSON type, e.g. a number for a name.
    WrongType,
    /// The right type but not a valid value: an unknown time zone, a
    /// negative limit, a name too long.
    InvalidValue,
    /// The value is larger than 8 KiB of JSON.
    TooLarge,
    /// The HLC stamp is not one a device could have issued.
    InvalidHlc,
    /// An alert whose budget id, period or threshold cannot be read.
    InvalidAlert,
}

/// One pulled change that was skipped. The ids are shortened and stripped
/// of control characters, since they came from outside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// "budgets", "categories", "notes", or "alerts".
    pub collection: &'static str,
    pub record_id: String,
    /// The field, or the alert's period and threshold.
    pub field: String,
    pub reason: RejectReason,
}

/// What merging a pull did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MergeReport {
    /// Pulled fields newer than this device's, now stored.
    pub applied: u32,
    /// Pulled fields this device already had, or had a newer write for.
    pub stale: u32,
    /// Pulled changes skipped as invalid.
    pub rejected: Vec<Rejected>,
    /// Budgets, categories and entries whose visible state changed.
    pub records_changed: u32,
    /// Records known only in part so far (a budget whose name has not
    /// arrived yet); they appear once the rest is pulled. Notes for
    /// entries not in the ledger yet count here too, and are applied when
    /// the entry arrives.
    pub incomplete: u32,
    /// Alerts other devices sent that this device had not.
    pub alerts_added: u32,
    /// Alerts this device already had.
    pub alerts_known: u32,
    /// Alerts newly due after budgets changed, already recorded (and
    /// queued for the bank): the caller delivers them once it has
    /// committed.
    pub alerts: Vec<Alert>,
}

/// What rebuilding one record from its registers did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rebuilt {
    Unchanged,
    /// A field the record cannot exist without has not arrived yet.
    Incomplete,
    Changed,
}

/// One field's stored register.
pub(crate) struct Register {
    pub(crate) value: Value,
    pub(crate) hlc: Hlc,
}

/// Record ids, budget ids in alerts and idempotency keys: what the bank
/// accepts.
pub(crate) fn valid_id(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'))
}

fn valid_field_name(s: &str) -> bool {
    s == TOMBSTONE_FIELD
        || ((1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
}

// --- typed access to JSON values, for the collections' field parsers -----

pub(crate) fn as_str(v: &Value) -> std::result::Result<&str, RejectReason> {
    v.as_str().ok_or(RejectReason::WrongType)
}

pub(crate) fn as_opt_str(v: &Value) -> std::result::Result<Option<&str>, RejectReason> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        _ => Err(RejectReason::WrongType),
    }
}

/// A reference to another record: null, or a valid id.
pub(crate) fn as_opt_id(v: &Value) -> std::result::Result<Option<String>, RejectReason> {
    match as_opt_str(v)? {
        Some(s) if !valid_id(s) => Err(RejectReason::InvalidValue),
        s => Ok(s.map(str::to_string)),
    }
}

pub(crate) fn as_bool(v: &Value) -> std::result::Result<bool, RejectReason> {
    v.as_bool().ok_or(RejectReason::WrongType)
}

pub(crate) fn as_i64(v: &Value) -> std::result::Result<i64, RejectReason> {
    match v {
        Value::Number(n) => n.as_i64().ok_or(RejectReason::InvalidValue),
        _ => Err(RejectReason::WrongType),
    }
}

// --- local edits ------------------------------------------------------------

/// An idempotency key of at most 128 valid characters: `readable` when it
/// fits, else a hash of it (a record id from another device may be long).
fn outbox_key(prefix: &str, readable: String) -> String {
    if valid_id(&readable) {
        return readable;
    }
    let d = ring::digest::digest(&ring::digest::SHA256, readable.as_bytes());
    format!("{prefix}:{}", hex::encode(&d.as_ref()[..20]))
}

fn enqueue(tx: &Transaction<'_>, key: &str, op: &Op, now_ms: i64, or_ignore: bool) -> Result<()> {
    let payload =
        serde_json::to_string(op).map_err(|_| Error::Corrupt("an operation for the bank"))?;
    let sql = if or_ignore {
        "INSERT OR IGNORE INTO outbox (idempotency_key, kind, payload, created_ms) VALUES (?1, ?2, ?3, ?4)"
    } else {
        "INSERT INTO outbox (idempotency_key, kind, payload, created_ms) VALUES (?1, ?2, ?3, ?4)"
    };
    tx.prepare_cached(sql)?
        .execute(params![key, op.kind(), payload, now_ms])?;
    Ok(())
}

fn put_register(
    conn: &Connection,
    collection: Collection,
    record_id: &str,
    field: &str,
    json: &str,
    hlc: &Hlc,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO replica_fields
            (collection, record_id, field, value, hlc_ms, hlc_counter, hlc_node)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        collection.as_str(),
        record_id,
        field,
        json,
        hlc.wall_ms as i64,
        hlc.counter,
        hlc.node
    ])?;
    Ok(())
}

/// Records a local edit of some fields of one record, all stamped `hlc`
/// (one tick of [`crate::hlc::tick`] per edit), and queues it for the bank.
/// Call it in the edit's transaction. Nothing is written for no fields.
pub(crate) fn write_local<F: AsRef<str>>(
    tx: &Transaction<'_>,
    collection: Collection,
    record_id: &str,
    hlc: &Hlc,
    fields: Vec<(F, Value)>,
    now_ms: i64,
) -> Result<()> {
    if fields.is_empty() {
        return Ok(());
    }
    // Local ids are generated here, but a record created on another
    // device, or by an older version, is checked like the bank will.
    if !valid_id(record_id) {
        return Err(Error::InvalidText {
            field: "record id",
            reason: "it cannot be synced; use 1 to 128 of A-Z a-z 0-9 _ . : -",
        });
    }
    let mut writes = BTreeMap::new();
    for (field, value) in fields {
        let field = field.as_ref();
        if !valid_field_name(field) {
            return Err(Error::Corrupt("a field name"));
        }
        let json = serde_json::to_string(&value).map_err(|_| Error::Corrupt("a field value"))?;
        if json.len() > MAX_VALUE_BYTES {
            return Err(Error::InvalidText {
                field: "value",
                reason: "it is too large to sync (over 8 KiB)",
            });
        }
        put_register(tx, collection, record_id, field, &json, hlc)?;
        writes.insert(
            field.to_string(),
            FieldWrite {
                value,
                hlc: hlc.clone(),
            },
        );
    }
    let stamp = format!("{}-{}-{}", hlc.wall_ms, hlc.counter, hlc.node);
    let fields: Vec<_> = writes.into_iter().collect();
    // An edit writes a dozen fields at most; the split only keeps a future
    // wide record within the bank's limit.
    for (i, chunk) in fields.chunks(MAX_FIELDS).enumerate() {
        let op = Op::RecordUpdate(RecordUpdate {
            collection,
            record_id: record_id.to_string(),
            fields: chunk.iter().cloned().collect(),
        });
        let part = if i == 0 {
            String::new()
        } else {
            format!(":{i}")
        };
        let c = &collection.as_str()[..1];
        let key = outbox_key("rec", format!("rec:{c}:{record_id}:{stamp}{part}"));
        enqueue(tx, &key, &op, now_ms, false)?;
    }
    Ok(())
}

/// The stored registers of one record.
pub(crate) fn registers(
    conn: &Connection,
    collection: Collection,
    record_id: &str,
) -> Result<BTreeMap<String, Register>> {
    let mut stmt = conn.prepare_cached(
        "SELECT field, value, hlc_ms, hlc_counter, hlc_node FROM replica_fields
         WHERE collection = ?1 AND record_id = ?2",
    )?;
    let rows = stmt.query_map(params![collection.as_str(), record_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, String>(4)?,
        ))
    })?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (field, json, ms, counter, node) = row?;
        let value = serde_json::from_str(&json).map_err(|_| Error::Corrupt("a synced field"))?;
        let hlc = Hlc::new(
            ms.max(0) as u64,
            counter.clamp(0, u32::MAX as i64) as u32,
            node,
        );
        out.insert(field, Register { value, hlc });
    }
    Ok(out)
}

/// The greatest stamp among a record's registers, as the row's
/// `updated_hlc` text.
pub(crate) fn newest_text(regs: &BTreeMap<String, Register>) -> String {
    regs.values()
        .map(|r| &r.hlc)
        .max()
        .map(crate::hlc::text)
        .unwrap_or_else(|| "0".into())
}

// --- alerts -------------------------------------------------------------------

/// An `alerts_sent` row's (period start, alert key) on the wire.
pub(crate) fn wire_alert(budget_id: &str, period_start: &str, key: &str) -> Option<AlertKey> {
    let threshold = match key {
        "forecast" => FORECAST_THRESHOLD,
        k => k
            .strip_prefix('t')?
            .parse::<u16>()
            .ok()
            .filter(|t| (1..=1000).contains(t))?,
    };
    Some(AlertKey {
        budget_id: budget_id.to_string(),
        period: period_start.to_string(),
        threshold,
    })
}

/// The `alerts_sent` (period start, alert key) of a wire alert.
fn local_alert(a: &AlertKey) -> Option<(String, String)> {
    let start = NaiveDate::parse_from_str(&a.period, "%Y-%m-%d").ok()?;
    // Only the canonical form, so one alert has one row on every device.
    if start.to_string() != a.period {
        return None;
    }
    let key = match a.threshold {
        FORECAST_THRESHOLD => "forecast".to_string(),
        t if t <= 1000 => format!("t{t}"),
        _ => return None,
    };
    Some((a.period.clone(), key))
}

/// Queues "this device sent this alert" for the bank; called in the
/// transaction that adds the `alerts_sent` row.
pub(crate) fn enqueue_alert_sent(
    tx: &Transaction<'_>,
    budget_id: &str,
    period_start: &str,
    key: &str,
    now_ms: i64,
) -> Result<()> {
    let Some(alert) = wire_alert(budget_id, period_start, key) else {
        return Err(Error::Corrupt("an alert key"));
    };
    let node = crate::hlc::node(tx)?;
    let key = outbox_key(
        "alert",
        format!(
            "alert:{node}:{}:{}:{}",
            alert.budget_id, alert.period, alert.threshold
        ),
    );
    enqueue(tx, &key, &Op::AlertSent(alert), now_ms, true)
}

fn merge_alert(tx: &Transaction<'_>, a: &AlertRecord, report: &mut MergeReport) -> Result<()> {
    let local = local_alert(&a.alert).filter(|_| valid_id(&a.alert.budget_id));
    let Some((period_start, key)) = local else {
        report.rejected.push(Rejected {
            collection: "alerts",
            record_id: shorten(&a.alert.budget_id),
            field: shorten(&format!("{} {}", a.alert.period, a.alert.threshold)),
            reason: RejectReason::InvalidAlert,
        });
        return Ok(());
    };
    let name: Option<String> = tx
        .prepare_cached("SELECT name FROM budgets WHERE id = ?1")?
        .query_row([&a.alert.budget_id], |r| r.get(0))
        .optional()?;
    let name = name.unwrap_or_else(|| "A budget".into());
    let message = if a.alert.threshold == FORECAST_THRESHOLD {
        format!("{name}: the forecast alert was sent on another device")
    } else {
        format!(
            "{name}: the {}% alert was sent on another device",
            a.alert.threshold
        )
    };
    let fired = a.sent_at_ms.clamp(0, crate::hlc::MAX_WALL_MS as i64);
    let added = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO alerts_sent (budget_id, period_start, alert_key, fired_ms, alert)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![a.alert.budget_id, period_start, key, fired, message])?;
    if added == 1 {
        report.alerts_added += 1;
    } else {
        report.alerts_known += 1;
    }
    Ok(())
}

// --- pulled records -------------------------------------------------------------

fn shorten(s: &str) -> String {
    s.chars()
        .take(128)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Checks one pulled change; returns the JSON text to store (a note is
/// stored with card numbers masked).
fn check_change(c: &FieldChange) -> std::result::Result<String, RejectReason> {
    if !valid_id(&c.record_id) {
        return Err(RejectReason::InvalidRecordId);
    }
    if !valid_field_name(&c.field) {
        return Err(RejectReason::UnknownField);
    }
    if !crate::hlc::check_remote(&c.hlc) {
        return Err(RejectReason::InvalidHlc);
    }
    let json = serde_json::to_string(&c.value).map_err(|_| RejectReason::InvalidValue)?;
    if json.len() > MAX_VALUE_BYTES {
        return Err(RejectReason::TooLarge);
    }
    if c.field == TOMBSTONE_FIELD && !c.value.is_boolean() {
        return Err(RejectReason::WrongType);
    }
    let stored = match c.collection {
        Collection::Budgets => {
            crate::budgets::replica::parse(&c.field, &c.value)?;
            None
        }
        Collection::Categories => {
            crate::categories::parse_field(&c.record_id, &c.field, &c.value)?;
            None
        }
        Collection::Notes => crate::ledger::notes::normalize(&c.field, &c.value)?,
    };
    Ok(match stored {
        Some(v) => serde_json::to_string(&v).map_err(|_| RejectReason::InvalidValue)?,
        None => json,
    })
}

/// Merges a pull's user-editable records and alerts into this device's
/// data, inside the caller's transaction (it opens none, and commits
/// nothing).
///
/// - Alerts first: each joins `alerts_sent` (grow-only) without being
///   delivered, so nothing below, nor the pull's ledger entries applied
///   after this call, fires an alert another device already sent.
/// - Each field is stored if its stamp is newer than this device's; the
///   clock moves past every valid stamp seen (the HLC receive rule).
/// - The changed records are rebuilt: categories, then what depends on
///   them (entries' effective categories, category budgets' totals), then
///   budgets (their totals recomputed from the ledger when the definition
///   changed), then entries' notes and overrides. Budgets whose spending or
///   definition changed are re-evaluated: alerts newly due are recorded,
///   queued as `AlertSent`, and returned for the caller to deliver after
///   its commit.
///
/// Invalid changes are skipped and listed in the report. Only a storage
/// failure is an error, and then the caller's transaction must roll back.
/// Applying the same pull twice changes nothing the second time.
pub(crate) fn apply_remote(
    tx: &Transaction<'_>,
    records: &[FieldChange],
    alerts: &[AlertRecord],
    now_ms: i64,
) -> Result<MergeReport> {
    let mut report = MergeReport::default();
    for a in alerts {
        merge_alert(tx, a, &mut report)?;
    }

    let mut touched: BTreeMap<Collection, BTreeSet<String>> = BTreeMap::new();
    let mut newest: Option<&Hlc> = None;
    {
        let mut current = tx.prepare_cached(
            "SELECT hlc_ms, hlc_counter, hlc_node FROM replica_fields
             WHERE collection = ?1 AND record_id = ?2 AND field = ?3",
        )?;
        for c in records {
            let json = match check_change(c) {
                Ok(j) => j,
                Err(reason) => {
                    report.rejected.push(Rejected {
                        collection: c.collection.as_str(),
                        record_id: shorten(&c.record_id),
                        field: shorten(&c.field),
                        reason,
                    });
                    continue;
                }
            };
            if newest.is_none_or(|n| c.hlc > *n) {
                newest = Some(&c.hlc);
            }
            let have: Option<Hlc> = current
                .query_row(params![c.collection.as_str(), c.record_id, c.field], |r| {
                    Ok(Hlc::new(
                        r.get::<_, i64>(0)?.max(0) as u64,
                        r.get::<_, i64>(1)?.clamp(0, u32::MAX as i64) as u32,
                        r.get::<_, String>(2)?,
                    ))
                })
                .optional()?;
            if have.is_some_and(|h| c.hlc <= h) {
                report.stale += 1;
                continue;
            }
            put_register(tx, c.collection, &c.record_id, &c.field, &json, &c.hlc)?;
            report.applied += 1;
            touched
                .entry(c.collection)
                .or_default()
                .insert(c.record_id.clone());
        }
    }
    if let Some(h) = newest {
        crate::hlc::observe(tx, h)?;
    }
    rebuild(tx, &touched, now_ms, &mut report)?;
    Ok(report)
}

fn count(report: &mut MergeReport, r: Rebuilt) {
    match r {
        Rebuilt::Unchanged => {}
        Rebuilt::Incomplete => report.incomplete += 1,
        Rebuilt::Changed => report.records_changed += 1,
    }
}

fn rebuild(
    tx: &Transaction<'_>,
    touched: &BTreeMap<Collection, BTreeSet<String>>,
    now_ms: i64,
    report: &mut MergeReport,
) -> Result<()> {
    let none = BTreeSet::new();
    let ids = |c| touched.get(&c).unwrap_or(&none);
    let mut recompute: BTreeSet<String> = BTreeSet::new();
    let mut evaluate: BTreeSet<String> = BTreeSet::new();

    let mut reshaped = Vec::new();
    for id in ids(Collection::Categories) {
        let regs = registers(tx, Collection::Categories, id)?;
        let (r, structural) = crate::categories::rebuild(tx, id, &regs)?;
        count(report, r);
        if structural {
            reshaped.push(id.clone());
        }
    }
    let tree = CategoryTree::load(tx)?;
    if !reshaped.is_empty() {
        // Entries follow merges and deletions, and category budgets cover
        // whole subtrees: both depend on the tree's shape.
        crate::categories::rederive_entries(tx, &tree, &reshaped)?;
        recompute.extend(crate::budgets::category_budget_ids(tx)?);
    }

    for id in ids(Collection::Budgets) {
        let regs = registers(tx, Collection::Budgets, id)?;
        let r = crate::budgets::replica::rebuild(tx, id, &regs)?;
        count(report, r);
        if r == Rebuilt::Changed {
            recompute.insert(id.clone());
        }
    }

    let notes = ids(Collection::Notes);
    if !notes.is_empty() {
        let mut agg = Aggregates::load(tx, &tree)?;
        for id in notes {
            let regs = registers(tx, Collection::Notes, id)?;
            count(
                report,
                crate::ledger::notes::rebuild(tx, &tree, &mut agg, id, &regs, now_ms)?,
            );
        }
        evaluate.extend(agg.flush(tx)?);
    }

    let recompute: Vec<String> = recompute.into_iter().collect();
    crate::budgets::recompute(tx, &tree, &recompute)?;
    evaluate.extend(recompute);
    if !evaluate.is_empty() {
        let ids: Vec<String> = evaluate.into_iter().collect();
        report.alerts = crate::budgets::evaluate(tx, &tree, &ids, now_ms)?;
    }
    Ok(())
}

impl Wallet {
    /// Merges pulled records and alerts in a transaction of its own and
    /// delivers the alerts that became due. Sync calls [`apply_remote`]
    /// inside its pull's transaction instead; this is for tests and tools.
    #[doc(hidden)]
    pub fn merge_remote(
        &self,
        records: &[FieldChange],
        alerts: &[AlertRecord],
    ) -> Result<MergeReport> {
        self.keys()?;
        let now = self.now_ms();
        let report = {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            let report = apply_remote(&tx, records, alerts, now)?;
            tx.commit()?;
            report
        };
        self.alert_listener.deliver(&[], &report.alerts);
        Ok(report)
    }
}

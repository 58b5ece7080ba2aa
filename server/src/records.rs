//! User-editable data (budgets, categories, notes) and the alerts-sent
//! set, as sync merges them.
//!
//! Records merge per field: each field is a last-writer-wins register
//! stamped with the writer's hybrid logical clock, so two devices editing
//! different fields of one budget both keep their edit, and edits of the
//! same field resolve the same way everywhere. Deletion is the field
//! [`TOMBSTONE_FIELD`] set to `true`, merged like any other field.
//!
//! "Alert sent" is a grow-only set of (budget, period, threshold): adding
//! is idempotent, nothing is ever removed, and the first device to report
//! an alert is told so.

use billfold_protocol::{
    AlertKey, AlertSentResult, Hlc, RecordUpdate, RecordUpdateResult, TOMBSTONE_FIELD,
};

use crate::error::{ApiError, ApiResult};
use crate::ops::OpContext;
use crate::params;
use crate::repo::Account;
use crate::store::Tx;

/// A client's HLC may run ahead of the bank's clock by this much (its
/// wall clock is allowed the same skew as request timestamps).
const MAX_HLC_AHEAD_MS: i64 = 5 * 60 * 1000;
/// Largest JSON value of one field.
const MAX_VALUE_BYTES: usize = 8 * 1024;
const MAX_FIELDS: usize = 64;

fn valid_id(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'))
}

fn valid_field(s: &str) -> bool {
    s == TOMBSTONE_FIELD
        || ((1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
}

fn check_hlc(hlc: &Hlc, now: i64) -> ApiResult<()> {
    if hlc.node.is_empty() || hlc.node.len() > 64 || hlc.node.chars().any(char::is_control) {
        return Err(ApiError::unprocessable(
            "invalid_hlc",
            "the HLC node id must be 1 to 64 printable characters",
        ));
    }
    if i64::try_from(hlc.wall_ms).map_or(true, |w| w > now + MAX_HLC_AHEAD_MS)
        || hlc.counter > i32::MAX as u32
    {
        return Err(ApiError::unprocessable(
            "hlc_in_future",
            "the HLC is more than five minutes ahead of the bank's clock",
        ));
    }
    Ok(())
}

/// Merges one record update; returns which fields won.
pub fn apply_update(
    ctx: &OpContext<'_>,
    tx: &mut dyn Tx,
    account: &mut Account,
    u: &RecordUpdate,
) -> ApiResult<RecordUpdateResult> {
    if !valid_id(&u.record_id) {
        return Err(ApiError::unprocessable(
            "invalid_record",
            "the record id must be 1 to 128 of A-Z a-z 0-9 _ . : -",
        ));
    }
    if u.fields.is_empty() || u.fields.len() > MAX_FIELDS {
        return Err(ApiError::unprocessable(
            "invalid_record",
            "an update writes 1 to 64 fields",
        ));
    }
    let mut values = Vec::with_capacity(u.fields.len());
    for (name, w) in &u.fields {
        if !valid_field(name) {
            return Err(ApiError::unprocessable(
                "invalid_record",
                "field names are 1 to 64 of a-z 0-9 _ (or the tombstone field)",
            ));
        }
        if name == TOMBSTONE_FIELD && !w.value.is_boolean() {
            return Err(ApiError::unprocessable(
                "invalid_record",
                "the tombstone field is true or false",
            ));
        }
        check_hlc(&w.hlc, ctx.now)?;
        let json = serde_json::to_string(&w.value)
            .map_err(|_| ApiError::internal("cannot serialise a value"))?;
        if json.len() > MAX_VALUE_BYTES {
            return Err(ApiError::unprocessable(
                "invalid_record",
                "a field's value is larger than 8 KiB",
            ));
        }
        values.push(json);
    }

    let collection = u.collection.as_str();
    let mut result = RecordUpdateResult {
        applied: Vec::new(),
        superseded: Vec::new(),
    };
    for ((name, w), json) in u.fields.iter().zip(values) {
        let current = tx.query_opt(
            "SELECT hlc_wall, hlc_counter, hlc_node FROM records
             WHERE account_id = $1 AND collection = $2 AND record_id = $3 AND field = $4",
            params![
                account.id.as_str(),
                collection,
                u.record_id.as_str(),
                name.as_str()
            ],
        )?;
        let newer = match current {
            None => true,
            Some(r) => w.hlc > Hlc::new(r.int(0)? as u64, r.int(1)? as u32, r.text(2)?),
        };
        if !newer {
            result.superseded.push(name.clone());
            continue;
        }
        let seq = account.next_seq();
        tx.execute_deferred(
            "INSERT INTO records (account_id, collection, record_id, field, value, hlc_wall, hlc_counter, hlc_node, origin, seq)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (account_id, collection, record_id, field) DO UPDATE SET
                 value = excluded.value, hlc_wall = excluded.hlc_wall, hlc_counter = excluded.hlc_counter,
                 hlc_node = excluded.hlc_node, origin = excluded.origin, seq = excluded.seq",
            params![
                account.id.as_str(),
                collection,
                u.record_id.as_str(),
                name.as_str(),
                json,
                w.hlc.wall_ms as i64,
                w.hlc.counter,
                w.hlc.node.as_str(),
                ctx.device_id,
                seq
            ],
        )?;
        result.applied.push(name.clone());
    }
    Ok(result)
}

/// Adds an alert to the account's sent set.
pub fn alert_sent(
    ctx: &OpContext<'_>,
    tx: &mut dyn Tx,
    account: &mut Account,
    a: &AlertKey,
) -> ApiResult<AlertSentResult> {
    if !valid_id(&a.budget_id)
        || !(1..=64).contains(&a.period.len())
        || a.period.chars().any(char::is_control)
    {
        return Err(ApiError::unprocessable(
            "invalid_alert",
            "the budget id must be 1 to 128 of A-Z a-z 0-9 _ . : - and the period 1 to 64 characters",
        ));
    }
    let exists = tx
        .query_opt(
            "SELECT 1 FROM alerts_sent WHERE account_id = $1 AND budget_id = $2 AND period = $3 AND threshold = $4",
            params![account.id.as_str(), a.budget_id.as_str(), a.period.as_str(), a.threshold],
        )?
        .is_some();
    if exists {
        return Ok(AlertSentResult { first: false });
    }
    let seq = account.next_seq();
    tx.execute_deferred(
        "INSERT INTO alerts_sent (account_id, budget_id, period, threshold, device_id, sent_at, seq)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        params![
            account.id.as_str(),
            a.budget_id.as_str(),
            a.period.as_str(),
            a.threshold,
            ctx.device_id,
            ctx.now,
            seq
        ],
    )?;
    Ok(AlertSentResult { first: true })
}

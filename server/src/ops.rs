//! Outbox operations, applied exactly once per idempotency key.
//!
//! Each operation's key and a hash of the operation are recorded with its
//! outcome in the same transaction that applies it. A retry finds the
//! record and gets the recorded outcome back; the same key with a
//! different operation is refused. Business outcomes (including declines)
//! are recorded; invalid requests are not, so they can be corrected.
//!
//! Rule for the executors: check everything that can make a request
//! invalid before the first write, so a refused operation leaves nothing
//! behind in the (shared) transaction.

use std::collections::HashMap;

use billfold_protocol::{Op, OpOutcome, OpResult, OpStatus};
use ring::digest;

use crate::app::AppState;
use crate::error::{ApiError, ApiResult};
use crate::repo::{self, Account, Prior};
use crate::store::{Dialect, Tx, Val};
use crate::{cards, payments, records, tap};

/// Who is applying operations, and when.
pub struct OpContext<'a> {
    pub state: &'a AppState,
    pub account_id: &'a str,
    pub device_id: &'a str,
    pub now: i64,
}

/// What happened to one operation.
#[derive(Debug)]
pub enum Applied {
    /// Applied now.
    New(OpOutcome),
    /// Applied before; the recorded outcome.
    Duplicate(OpOutcome),
    /// Refused; nothing was written.
    Rejected(ApiError),
}

impl Applied {
    pub fn into_result(self, idempotency_key: String) -> OpResult {
        let (status, outcome, error) = match self {
            Applied::New(o) => (OpStatus::Applied, Some(o), None),
            Applied::Duplicate(o) => (OpStatus::Duplicate, Some(o), None),
            Applied::Rejected(e) => (OpStatus::Rejected, None, Some(e.detail_body())),
        };
        OpResult {
            idempotency_key,
            status,
            outcome,
            error,
        }
    }
}

/// The idempotency records a request may hit, read in bulk up front so a
/// push of thousands of operations does not ask once per operation.
pub struct KnownOps {
    map: HashMap<String, (Vec<u8>, String)>,
    /// Every key of the request was looked up: a miss means new.
    complete: bool,
}

impl KnownOps {
    /// Nothing prefetched: each key is looked up when applied.
    pub fn lazy() -> Self {
        KnownOps {
            map: HashMap::new(),
            complete: false,
        }
    }

    /// Reads the records of all `keys` (chunked, to stay within both
    /// engines' parameter limits).
    pub fn prefetch(tx: &mut dyn Tx, scope: &str, keys: &[&str]) -> ApiResult<Self> {
        let mut map = HashMap::new();
        let postgres = tx.dialect() == Dialect::Postgres;
        for chunk in keys.chunks(500) {
            let placeholders = (0..chunk.len()).map(|i| format!("${}", i + 2));
            let sql = if postgres {
                // One primary-key probe per key, whatever the plan. With
                // `IN (...)`, the generic plan PostgreSQL caches for this
                // prepared statement (planned while the table was empty)
                // scanned the account's every operation and compared each
                // with all 500 keys: a 10,000-operation sync spent seconds
                // here, more with each operation the account had. LIMIT 1
                // keeps the subquery from being flattened into a hash join.
                format!(
                    "SELECT o.idempotency_key, o.request_hash, o.outcome
                     FROM (VALUES {}) AS k
                     CROSS JOIN LATERAL (SELECT idempotency_key, request_hash, outcome
                         FROM operations WHERE scope = $1 AND idempotency_key = k.column1
                         LIMIT 1) AS o",
                    placeholders
                        .map(|p| format!("({p})"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                format!(
                    "SELECT idempotency_key, request_hash, outcome FROM operations WHERE scope = $1 AND idempotency_key IN ({})",
                    placeholders.collect::<Vec<_>>().join(", ")
                )
            };
            let mut params: Vec<Val> = Vec::with_capacity(chunk.len() + 1);
            params.push(scope.into());
            params.extend(chunk.iter().map(|k| Val::from(*k)));
            for row in tx.query(&sql, &params)? {
                map.insert(row.text(0)?, (row.bytes(1)?, row.text(2)?));
            }
        }
        Ok(KnownOps {
            map,
            complete: true,
        })
    }

    fn lookup(&self, tx: &mut dyn Tx, scope: &str, key: &str, hash: &[u8]) -> ApiResult<Prior> {
        match self.map.get(key) {
            Some((h, outcome)) if h == hash => Ok(Prior::Same(outcome.clone())),
            Some(_) => Ok(Prior::Conflict),
            None if self.complete => Ok(Prior::New),
            None => repo::find_op(tx, scope, key, hash),
        }
    }
}

/// SHA-256 of the operation's JSON form: what "the same request" means.
pub fn op_hash(op: &Op) -> ApiResult<Vec<u8>> {
    let json =
        serde_json::to_vec(op).map_err(|_| ApiError::internal("cannot serialise an operation"))?;
    Ok(digest::digest(&digest::SHA256, &json).as_ref().to_vec())
}

/// Applies one operation for the (locked) account.
pub fn apply(
    ctx: &OpContext<'_>,
    tx: &mut dyn Tx,
    account: &mut Account,
    known: &mut KnownOps,
    key: &str,
    op: &Op,
) -> ApiResult<Applied> {
    if !repo::valid_idempotency_key(key) {
        return Ok(Applied::Rejected(ApiError::bad_request(
            "invalid_idempotency_key",
            "the idempotency key must be 1 to 128 of A-Z a-z 0-9 _ . : -",
        )));
    }
    let hash = op_hash(op)?;
    match known.lookup(tx, &account.id, key, &hash)? {
        Prior::Same(json) => {
            let outcome = serde_json::from_str(&json)
                .map_err(|_| ApiError::internal("a recorded outcome cannot be read"))?;
            Ok(Applied::Duplicate(outcome))
        }
        Prior::Conflict => Ok(Applied::Rejected(ApiError::unprocessable(
            "idempotency_conflict",
            "this idempotency key was already used for a different operation",
        ))),
        Prior::New => match execute(ctx, tx, account, key, op) {
            Ok(outcome) => {
                let json = serde_json::to_string(&outcome)
                    .map_err(|_| ApiError::internal("cannot serialise an outcome"))?;
                repo::hold_op(tx, account, key, op.kind(), &hash, &json, ctx.now)?;
                // The same key later in this request is a duplicate.
                known.map.insert(key.to_string(), (hash, json));
                Ok(Applied::New(outcome))
            }
            Err(e) if e.status.is_client_error() => Ok(Applied::Rejected(e)),
            Err(e) => Err(e),
        },
    }
}

fn execute(
    ctx: &OpContext<'_>,
    tx: &mut dyn Tx,
    account: &mut Account,
    key: &str,
    op: &Op,
) -> ApiResult<OpOutcome> {
    Ok(match op {
        // A report: only the terminal's authorization charges.
        Op::Tap(t) => OpOutcome::Tap(tap::report_device_tap(ctx, tx, key, t)?),
        Op::QrPayment(p) => OpOutcome::QrPayment(payments::pay(ctx, tx, account, key, p)?),
        Op::RecordUpdate(u) => OpOutcome::RecordUpdate(records::apply_update(ctx, tx, account, u)?),
        Op::AlertSent(a) => OpOutcome::AlertSent(records::alert_sent(ctx, tx, account, a)?),
        Op::CardStatus(c) => {
            OpOutcome::CardStatus(cards::change_status(tx, account, &c.card_id, c.status)?)
        }
    })
}

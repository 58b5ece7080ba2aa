//! `POST /v1/sync`: push the outbox, pull everything after the cursor.
//!
//! One request is one transaction, under the account's lock: the pushed
//! operations are applied (each exactly once, see [`crate::ops`]), key
//! reports are answered, and then the feed is read after the client's
//! cursor. Because every feed writer holds the same lock, the feed read
//! here is complete up to the returned cursor: nothing can later appear
//! below it.
//!
//! The pull is paged: at most `limit` items of each kind. When a kind
//! fills its page, the cursor stops at the lowest such page end, items
//! above it wait for the next request, and `has_more` is set.

use axum::extract::State;
use axum::Json;
use billfold_protocol::{SyncRequest, SyncResponse};

use crate::app::AppState;
use crate::auth::Signed;
use crate::cards::own_token;
use crate::error::{ApiError, ApiResult};
use crate::ops::{self, OpContext};
use crate::provision;
use crate::repo::{self, Account};
use crate::store::Tx;

/// Most operations in one push (a client sends more in several requests).
pub const MAX_OPS: usize = 10_000;
/// Most key reports in one request.
pub const MAX_KEY_REPORTS: usize = 100;
pub const DEFAULT_LIMIT: u32 = 500;
pub const MAX_LIMIT: u32 = 5_000;

pub async fn sync(
    State(state): State<AppState>,
    req: Signed<SyncRequest>,
) -> ApiResult<Json<SyncResponse>> {
    let account_id = req.principal.device_account()?.to_string();
    let device_id = req.principal.id.clone();
    let body = req.body;
    if body.ops.len() > MAX_OPS {
        return Err(ApiError::unprocessable(
            "too_many_ops",
            format!("push at most {MAX_OPS} operations per request"),
        ));
    }
    if body.key_status.len() > MAX_KEY_REPORTS {
        return Err(ApiError::unprocessable(
            "too_many_key_reports",
            format!("report at most {MAX_KEY_REPORTS} tokens per request"),
        ));
    }
    let cursor = i64::try_from(body.cursor)
        .map_err(|_| ApiError::unprocessable("invalid_cursor", "the cursor is out of range"))?;
    let limit = i64::from(body.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT));
    let st = state.clone();
    let response = state
        .store
        .tx(move |tx| {
            let now = st.now_ms();
            let mut account = repo::lock_account(tx, &account_id)?;
            let ctx = OpContext {
                state: &st,
                account_id: &account_id,
                device_id: &device_id,
                now,
            };
            let keys: Vec<&str> = body
                .ops
                .iter()
                .map(|o| o.idempotency_key.as_str())
                .collect();
            let mut known = ops::KnownOps::prefetch(tx, &account_id, &keys)?;
            let mut results = Vec::with_capacity(body.ops.len());
            for op in body.ops {
                let applied = ops::apply(
                    &ctx,
                    tx,
                    &mut account,
                    &mut known,
                    &op.idempotency_key,
                    &op.op,
                )?;
                results.push(applied.into_result(op.idempotency_key));
            }
            let mut key_batches = Vec::new();
            for report in &body.key_status {
                // A token that is not this device's (or no longer exists)
                // gets nothing; its state still comes through the feed.
                let Ok(mut token) = own_token(tx, &account_id, &device_id, &report.token_id) else {
                    continue;
                };
                if let Some(batch) = provision::answer_key_status(
                    &st,
                    tx,
                    &mut account,
                    &mut token,
                    report.remaining,
                    report.provisioned_until,
                )? {
                    key_batches.push(batch);
                }
            }
            repo::flush_account(tx, &mut account)?;
            let mut response = pull(tx, &account, &device_id, cursor, limit)?;
            response.results = results;
            response.key_batches = key_batches;
            response.server_time_ms = now;
            Ok(response)
        })
        .await?;
    Ok(Json(response))
}

/// Reads the account's feed after `cursor` (the account is locked).
fn pull(
    tx: &mut dyn Tx,
    account: &Account,
    device_id: &str,
    cursor: i64,
    limit: i64,
) -> ApiResult<SyncResponse> {
    let mut ledger = repo::entries_after(tx, &account.id, cursor, limit)?;
    let mut records = repo::records_after(tx, &account.id, device_id, cursor, limit)?;
    let mut alerts = repo::alerts_after(tx, &account.id, cursor, limit)?;
    let mut cards = repo::cards_after(tx, &account.id, cursor, limit)?;
    let mut tokens = repo::tokens_after(tx, &account.id, cursor, limit)?;

    let full = |len: usize, last: Option<u64>| if len as i64 >= limit { last } else { None };
    let boundary = [
        full(ledger.len(), ledger.last().map(|e| e.seq)),
        full(records.len(), records.last().map(|e| e.seq)),
        full(alerts.len(), alerts.last().map(|e| e.seq)),
        full(cards.len(), cards.last().map(|e| e.seq)),
        full(tokens.len(), tokens.last().map(|e| e.seq)),
    ]
    .into_iter()
    .flatten()
    .min();
    let (next_cursor, has_more) = match boundary {
        Some(b) => {
            ledger.retain(|e| e.seq <= b);
            records.retain(|e| e.seq <= b);
            alerts.retain(|e| e.seq <= b);
            cards.retain(|e| e.seq <= b);
            tokens.retain(|e| e.seq <= b);
            (b, true)
        }
        // Nothing was cut: everything up to the account's counter is here.
        None => (account.feed_seq.max(cursor) as u64, false),
    };
    Ok(SyncResponse {
        results: Vec::new(),
        ledger,
        records,
        alerts,
        cards,
        tokens,
        key_batches: Vec::new(),
        cursor: next_cursor,
        has_more,
        posted_balance: account.balance(),
        server_time_ms: 0,
    })
}

//! Cards and tokens: adding a card provisions a token bound to the
//! device and its first batch of single-use keys; cards can be frozen; a
//! device tops up its keys when it runs low.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use billfold_protocol::signing::HEADER_IDEMPOTENCY_KEY;
use billfold_protocol::{
    CardInfo, CardList, CardStatus, CardStatusRequest, KeyBatch, KeyRequest, NewCardRequest,
    ProvisionedCard,
};
use ring::digest;

use crate::app::AppState;
use crate::auth::Signed;
use crate::error::{ApiError, ApiResult};
use crate::ids;
use crate::params;
use crate::provision::{self, FIRST_ATC};
use crate::repo::{self, Prior};

/// The `Idempotency-Key` header, required on state-changing POSTs that
/// create something.
pub fn idempotency_key(headers: &HeaderMap) -> ApiResult<String> {
    let key = headers
        .get(HEADER_IDEMPOTENCY_KEY)
        .ok_or_else(|| {
            ApiError::bad_request(
                "missing_idempotency_key",
                "this request needs an Idempotency-Key header",
            )
        })?
        .to_str()
        .map_err(|_| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                "the Idempotency-Key must be ASCII",
            )
        })?;
    if !repo::valid_idempotency_key(key) {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "the Idempotency-Key must be 1 to 128 of A-Z a-z 0-9 _ . : -",
        ));
    }
    Ok(key.to_string())
}

/// A validated new card: only what the bank keeps (BIN, last four).
struct CheckedCard {
    bin: String,
    last4: String,
    expiry: String,
    nickname: Option<String>,
    limit_minor: Option<i64>,
}

fn check_card(req: &NewCardRequest, now_ms: i64) -> ApiResult<CheckedCard> {
    let pan: String = req.pan.chars().filter(|c| *c != ' ' && *c != '-').collect();
    if !ids::luhn_valid(&pan) {
        // Never echo the number.
        return Err(ApiError::unprocessable(
            "invalid_pan",
            "the card number must be 12 to 19 digits with a valid check digit",
        ));
    }
    let bad_expiry = || {
        ApiError::unprocessable(
            "invalid_expiry",
            "the expiry must be MM/YY and not in the past",
        )
    };
    let (mm, yy) = req.expiry.split_once('/').ok_or_else(bad_expiry)?;
    let (mm, yy): (u32, i32) = match (mm.len(), yy.len()) {
        (2, 2) => (
            mm.parse().map_err(|_| bad_expiry())?,
            yy.parse().map_err(|_| bad_expiry())?,
        ),
        _ => return Err(bad_expiry()),
    };
    if !(1..=12).contains(&mm) {
        return Err(bad_expiry());
    }
    let today = chrono::DateTime::from_timestamp_millis(now_ms)
        .map(|d| d.date_naive())
        .unwrap_or_default();
    use chrono::Datelike;
    if (2000 + yy, mm) < (today.year(), today.month()) {
        return Err(bad_expiry());
    }
    let nickname = match req.nickname.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(n) if n.chars().count() <= 40 && !n.chars().any(char::is_control) => {
            Some(n.to_string())
        }
        Some(_) => {
            return Err(ApiError::unprocessable(
                "invalid_nickname",
                "the nickname must be at most 40 printable characters",
            ))
        }
    };
    if req
        .limit_minor
        .is_some_and(|l| !(0..=1_000_000_000_000).contains(&l))
    {
        return Err(ApiError::unprocessable(
            "invalid_limit",
            "the limit must be 0 to 10^12 minor units",
        ));
    }
    Ok(CheckedCard {
        bin: pan[..6].to_string(),
        last4: pan[pan.len() - 4..].to_string(),
        expiry: req.expiry.clone(),
        nickname,
        limit_minor: req.limit_minor,
    })
}

/// `POST /v1/cards`.
pub async fn add_card(
    State(state): State<AppState>,
    req: Signed<NewCardRequest>,
) -> ApiResult<(StatusCode, Json<ProvisionedCard>)> {
    let account_id = req.principal.device_account()?.to_string();
    let device_id = req.principal.id.clone();
    let key = idempotency_key(&req.headers)?;
    let now = state.now_ms();
    let card = check_card(&req.body, now)?;
    // The request is identified without the full card number, so that no
    // hash of it is kept.
    let fingerprint = serde_json::json!([
        card.bin,
        card.last4,
        card.expiry,
        card.nickname,
        card.limit_minor
    ])
    .to_string();
    let hash = digest::digest(&digest::SHA256, fingerprint.as_bytes())
        .as_ref()
        .to_vec();
    let st = state.clone();
    let (status, out) = state
        .store
        .tx(move |tx| -> ApiResult<(StatusCode, ProvisionedCard)> {
            let mut account = repo::lock_account(tx, &account_id)?;
            let (card_id, token_id, status) = match repo::find_op(tx, &account_id, &key, &hash)? {
                Prior::Conflict => {
                    return Err(ApiError::unprocessable(
                        "idempotency_conflict",
                        "this Idempotency-Key was already used for a different request",
                    ))
                }
                Prior::Same(outcome) => {
                    let v: serde_json::Value =
                        serde_json::from_str(&outcome).map_err(|_| ApiError::internal("stored outcome is not JSON"))?;
                    let field = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
                    let (Some(c), Some(t)) = (field("card_id"), field("token_id")) else {
                        return Err(ApiError::internal("stored outcome is incomplete"));
                    };
                    (c, t, StatusCode::OK)
                }
                Prior::New => {
                    let card_id = ids::new_id(&st.rng, "card")?;
                    let seq = account.next_seq();
                    tx.execute(
                        "INSERT INTO cards (id, account_id, status, bin, last4, expiry, nickname, limit_minor, seq, created_at)
                         VALUES ($1, $2, 'active', $3, $4, $5, $6, $7, $8, $9)",
                        params![
                            card_id.as_str(),
                            account_id.as_str(),
                            card.bin.as_str(),
                            card.last4.as_str(),
                            card.expiry.as_str(),
                            card.nickname.clone(),
                            card.limit_minor.unwrap_or(st.cfg.card_limit_minor),
                            seq,
                            now
                        ],
                    )?;
                    let mut token = provision::issue_token(&st, tx, &mut account, &device_id, &card_id, now)?;
                    provision::answer_key_status(&st, tx, &mut account, &mut token, 0, FIRST_ATC)?;
                    let outcome = serde_json::json!({"card_id": card_id, "token_id": token.id}).to_string();
                    repo::save_op(tx, &account_id, &key, "card_provision", &hash, &outcome, now)?;
                    (card_id, token.id, StatusCode::CREATED)
                }
            };
            repo::flush_account(tx, &mut account)?;
            let card = repo::card(tx, &account_id, &card_id)?
                .ok_or_else(|| ApiError::internal("provisioned card is missing"))?;
            let token = repo::token_by_id(tx, &token_id)?.ok_or_else(|| ApiError::internal("provisioned token is missing"))?;
            // The first batch, derived again on a retry: the same response.
            let first_end = (FIRST_ATC + u32::from(st.cfg.key_batch_size)).min(token.keys_issued_until);
            let key_batch = provision::derive_batch(&st, &token, FIRST_ATC, first_end)?;
            Ok((
                status,
                ProvisionedCard {
                    card,
                    token: provision::token_info(&token)?,
                    key_batch,
                },
            ))
        })
        .await?;
    Ok((status, Json(out)))
}

/// `GET /v1/cards`.
pub async fn list_cards(
    State(state): State<AppState>,
    req: Signed<()>,
) -> ApiResult<Json<CardList>> {
    let account_id = req.principal.device_account()?.to_string();
    let list = state
        .store
        .tx(move |tx| {
            Ok(CardList {
                cards: repo::cards_after(tx, &account_id, 0, i64::MAX)?,
                tokens: repo::tokens_after(tx, &account_id, 0, i64::MAX)?,
            })
        })
        .await?;
    Ok(Json(list))
}

/// Freezes or unfreezes a card (also an outbox operation).
pub fn change_status(
    tx: &mut dyn crate::store::Tx,
    account: &mut repo::Account,
    card_id: &str,
    status: CardStatus,
) -> ApiResult<CardInfo> {
    repo::set_card_status(tx, account, card_id, status)
}

/// `POST /v1/cards/{card_id}/status`. Setting a status is idempotent by
/// nature, so no key is needed.
pub async fn card_status(
    State(state): State<AppState>,
    Path(card_id): Path<String>,
    req: Signed<CardStatusRequest>,
) -> ApiResult<Json<CardInfo>> {
    let account_id = req.principal.device_account()?.to_string();
    let status = req.body.status;
    let card = state
        .store
        .tx(move |tx| {
            let mut account = repo::lock_account(tx, &account_id)?;
            let card = change_status(tx, &mut account, &card_id, status)?;
            repo::flush_account(tx, &mut account)?;
            Ok(card)
        })
        .await?;
    Ok(Json(card))
}

/// Checks that a token belongs to this device and loads it.
pub fn own_token(
    tx: &mut dyn crate::store::Tx,
    account_id: &str,
    device_id: &str,
    token_id: &str,
) -> ApiResult<repo::TokenRow> {
    match repo::token_by_id(tx, token_id)? {
        Some(t) if t.account_id == account_id && t.device_id == device_id => Ok(t),
        Some(t) if t.account_id == account_id => Err(ApiError::forbidden(
            "token_of_other_device",
            "this token was provisioned to another device; its keys go only there",
        )),
        _ => Err(ApiError::not_found(
            "unknown_token",
            "no such token in this account",
        )),
    }
}

/// `POST /v1/tokens/{token_id}/keys`: re-sends keys the device lacks, or
/// issues a new batch when it is running low; an empty batch otherwise.
pub async fn token_keys(
    State(state): State<AppState>,
    Path(token_id): Path<String>,
    req: Signed<KeyRequest>,
) -> ApiResult<Json<KeyBatch>> {
    let account_id = req.principal.device_account()?.to_string();
    let device_id = req.principal.id.clone();
    let KeyRequest {
        remaining,
        provisioned_until,
    } = req.body;
    let st = state.clone();
    let batch = state
        .store
        .tx(move |tx| {
            let mut account = repo::lock_account(tx, &account_id)?;
            let mut token = own_token(tx, &account_id, &device_id, &token_id)?;
            let batch = provision::answer_key_status(
                &st,
                tx,
                &mut account,
                &mut token,
                remaining,
                provisioned_until,
            )?;
            repo::flush_account(tx, &mut account)?;
            Ok(batch.unwrap_or(KeyBatch {
                token_id: token.id.clone(),
                first_atc: u16::try_from(token.keys_issued_until).unwrap_or(u16::MAX),
                keys: Vec::new(),
                issued_until: token.keys_issued_until,
            }))
        })
        .await?;
    Ok(Json(batch))
}

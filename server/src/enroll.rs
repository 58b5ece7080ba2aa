//! Enrollment: a phone or a terminal registers its Ed25519 public key.
//! A new phone opens an account (credited with the demo opening balance),
//! or joins an existing one with a link code from a device already in it.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::Json;
use billfold_protocol::signing::{self, ENROLL_DEVICE_ID};
use billfold_protocol::{
    AccountSummary, EnrollRequest, EnrollResponse, EntryKind, LinkCode, PrincipalKind,
};

use crate::app::AppState;
use crate::auth::{self, Signed};
use crate::error::{ApiError, ApiResult};
use crate::ids;
use crate::params;
use crate::repo::{self, NewEntry};
use crate::store::StoreError;

/// Link codes are good for ten minutes.
const LINK_CODE_TTL_MS: i64 = 10 * 60 * 1000;

/// `POST /v1/enroll`: signed with the key being enrolled, which proves the
/// caller holds it; the device id in the signature is `enroll`.
pub async fn enroll(
    State(state): State<AppState>,
    req: Request,
) -> ApiResult<(StatusCode, Json<EnrollResponse>)> {
    let (parts, bytes) = auth::read_request(req).await?;
    let auth = auth::parse_headers(&parts, state.now_ms())?;
    if auth.device_id != ENROLL_DEVICE_ID {
        return Err(ApiError::bad_request(
            "malformed_auth_header",
            format!("sign an enrollment with the device id {ENROLL_DEVICE_ID:?}"),
        ));
    }
    let body: EnrollRequest = auth::parse_json(&bytes)?;
    let public_key = signing::parse_public_key(&body.public_key)?;
    signing::verify_request(
        &public_key,
        &auth,
        parts.method.as_str(),
        &auth::signed_path(&parts),
        &bytes,
    )?;
    let name = body.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(ApiError::unprocessable(
            "invalid_name",
            "the name must be 1 to 64 printable characters",
        ));
    }
    if body.kind == PrincipalKind::Terminal && body.link_code.is_some() {
        return Err(ApiError::unprocessable(
            "invalid_request",
            "terminals have no account to link to",
        ));
    }
    // The nonce is scoped to the key, so a replayed enrollment is refused
    // as a replay rather than as a duplicate key.
    auth::consume_nonce(&state, &format!("enroll:{}", body.public_key), &auth).await?;

    let st = state.clone();
    let now = state.now_ms();
    let response = state
        .store
        .tx(move |tx| -> ApiResult<EnrollResponse> {
            let device_id = ids::new_id(&st.rng, if body.kind == PrincipalKind::Terminal { "term" } else { "dev" })?;
            let account_id = match (body.kind, &body.link_code) {
                (PrincipalKind::Terminal, _) => None,
                (PrincipalKind::Device, Some(code)) => {
                    let code = code.trim().to_ascii_uppercase();
                    let row = tx.query_opt(
                        "UPDATE link_codes SET used_by = $2 WHERE code = $1 AND used_by IS NULL AND expires_at > $3
                         RETURNING account_id",
                        params![code.as_str(), device_id.as_str(), now],
                    )?;
                    let row = row.ok_or_else(|| {
                        ApiError::unprocessable("invalid_link_code", "the link code is unknown, used or expired")
                    })?;
                    Some(row.text(0)?)
                }
                (PrincipalKind::Device, None) => {
                    let id = ids::new_id(&st.rng, "acct")?;
                    tx.execute(
                        "INSERT INTO accounts (id, currency, balance_minor, feed_seq, created_at) VALUES ($1, $2, 0, 0, $3)",
                        params![id.as_str(), st.cfg.currency.as_str(), now],
                    )?;
                    if st.cfg.opening_balance_minor > 0 {
                        let mut account = repo::lock_account(tx, &id)?;
                        repo::post_entry(
                            tx,
                            &mut account,
                            NewEntry {
                                id: ids::new_id(&st.rng, "ent")?,
                                kind: EntryKind::OpeningBalance,
                                amount_minor: st.cfg.opening_balance_minor,
                                description: "Opening balance".into(),
                                merchant: None,
                                card_id: None,
                                token_id: None,
                                atc: None,
                                origin_key: None,
                                authorization_id: None,
                            },
                            now,
                        )?;
                        repo::flush_account(tx, &mut account)?;
                    }
                    Some(id)
                }
            };
            let inserted = tx.execute(
                "INSERT INTO principals (id, kind, account_id, public_key, name, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                params![
                    device_id.as_str(),
                    body.kind.as_str(),
                    account_id.clone(),
                    &public_key[..],
                    name.as_str(),
                    now
                ],
            );
            match inserted {
                Err(StoreError::Unique(_)) => {
                    return Err(ApiError::conflict("already_enrolled", "this public key is already enrolled"))
                }
                other => other?,
            };
            let account = match account_id {
                Some(id) => Some(account_summary(tx, &id)?),
                None => None,
            };
            Ok(EnrollResponse {
                device_id,
                kind: body.kind,
                account,
            })
        })
        .await?;
    tracing::info!(device = %response.device_id, kind = response.kind.as_str(), "enrolled");
    Ok((StatusCode::CREATED, Json(response)))
}

pub fn account_summary(
    tx: &mut dyn crate::store::Tx,
    account_id: &str,
) -> ApiResult<AccountSummary> {
    let row = tx
        .query_opt(
            "SELECT id, currency, balance_minor, created_at FROM accounts WHERE id = $1",
            params![account_id],
        )?
        .ok_or_else(|| ApiError::not_found("unknown_account", "no such account"))?;
    Ok(AccountSummary {
        account_id: row.text(0)?,
        currency: row.text(1)?,
        posted_balance: billfold_protocol::Money::new(row.int(2)?, row.text(1)?),
        created_at_ms: row.int(3)?,
    })
}

/// `GET /v1/account`.
pub async fn account(
    State(state): State<AppState>,
    req: Signed<()>,
) -> ApiResult<Json<AccountSummary>> {
    let account_id = req.principal.device_account()?.to_string();
    let summary = state
        .store
        .tx(move |tx| account_summary(tx, &account_id))
        .await?;
    Ok(Json(summary))
}

/// `POST /v1/devices/link-codes`: a code for enrolling another device
/// into this account.
pub async fn link_code(
    State(state): State<AppState>,
    req: Signed<()>,
) -> ApiResult<(StatusCode, Json<LinkCode>)> {
    let account_id = req.principal.device_account()?.to_string();
    let code = ids::link_code(&state.rng)?;
    let expires_at_ms = state.now_ms() + LINK_CODE_TTL_MS;
    let c = code.clone();
    state
        .store
        .tx(move |tx| {
            Ok(tx.execute(
                "INSERT INTO link_codes (code, account_id, expires_at) VALUES ($1, $2, $3)",
                params![c.as_str(), account_id.as_str(), expires_at_ms],
            )?)
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(LinkCode {
            code,
            expires_at_ms,
        }),
    ))
}

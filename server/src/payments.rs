//! QR payments: the phone confirms a merchant-presented code and the bank
//! pays it, exactly once per idempotency key. The same logic serves the
//! REST endpoint and the `qr_payment` outbox operation, and both share one
//! idempotency record, so a payment first tried online and then retried
//! through sync is still posted once.

use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use billfold_protocol::{
    DeclineReason, EntryKind, Merchant, Money, Op, OpOutcome, PaymentResult, PaymentStatus,
    QrPaymentRequest,
};

use crate::app::AppState;
use crate::auth::Signed;
use crate::cards::idempotency_key;
use crate::error::{ApiError, ApiResult};
use crate::ids;
use crate::ops::{self, Applied, OpContext};
use crate::repo::{self, Account, NewEntry};
use crate::store::Tx;

fn check_text(what: &'static str, s: &str, max: usize) -> ApiResult<()> {
    if s.chars().count() > max || s.chars().any(char::is_control) {
        return Err(ApiError::unprocessable(
            "invalid_merchant",
            format!("the merchant's {what} must be at most {max} printable characters"),
        ));
    }
    Ok(())
}

/// A ledger entry's id: `ent_` and 32 hex digits like [`ids::new_id`], but
/// the first 12 are the booking time in milliseconds and only the other 80
/// bits are random. The entries' primary-key index then grows at its end:
/// with fully random ids every insert lands on a random page, so a large
/// sync rewrote pages all over a big bank's index and got slower as the
/// bank grew.
pub fn entry_id(rng: &ring::rand::SystemRandom, now_ms: i64) -> ApiResult<String> {
    let mut b = [0u8; 10];
    ring::rand::SecureRandom::fill(rng, &mut b)
        .map_err(|_| ApiError::internal("the system RNG failed"))?;
    let ms = u64::try_from(now_ms).unwrap_or(0) & 0xffff_ffff_ffff;
    Ok(format!("ent_{ms:012x}{}", hex::encode(b)))
}

/// Checks a payment request (before anything is written).
pub fn validate(req: &QrPaymentRequest, account: &Account) -> ApiResult<i64> {
    if req.amount.amount_minor <= 0 {
        return Err(ApiError::unprocessable(
            "invalid_amount",
            "the amount must be positive",
        ));
    }
    if req.tip_minor < 0 {
        return Err(ApiError::unprocessable(
            "invalid_amount",
            "the tip must not be negative",
        ));
    }
    let total = req
        .amount
        .amount_minor
        .checked_add(req.tip_minor)
        .filter(|t| *t <= 1_000_000_000_000)
        .ok_or_else(|| ApiError::unprocessable("invalid_amount", "the amount is too large"))?;
    if crate::money::exponent(&req.amount.currency).is_none() {
        return Err(ApiError::unprocessable(
            "invalid_currency",
            "the currency is not an active ISO 4217 code",
        ));
    }
    if req.merchant.name.trim().is_empty() {
        return Err(ApiError::unprocessable(
            "invalid_merchant",
            "the merchant's name is missing",
        ));
    }
    check_text("name", &req.merchant.name, 100)?;
    for (what, v) in [
        ("city", &req.merchant.city),
        ("country", &req.merchant.country),
    ] {
        if let Some(v) = v {
            check_text(what, v, 60)?;
        }
    }
    if req.merchant.mcc.is_some_and(|m| m > 9999) {
        return Err(ApiError::unprocessable(
            "invalid_merchant",
            "the MCC must be 4 digits",
        ));
    }
    for (what, v) in [("scheme", &req.scheme), ("payee", &req.payee)] {
        if let Some(v) = v {
            check_text(what, v, 120)?;
        }
    }
    let _ = account;
    Ok(total)
}

/// Pays a QR code: approved (posted) or declined. Validation failures are
/// errors, not outcomes, and write nothing.
pub fn pay(
    ctx: &OpContext<'_>,
    tx: &mut dyn Tx,
    account: &mut Account,
    origin_key: &str,
    req: &QrPaymentRequest,
) -> ApiResult<PaymentResult> {
    let total = validate(req, account)?;
    let card =
        match &req.card_id {
            Some(id) => Some(repo::card(tx, &account.id, id)?.ok_or_else(|| {
                ApiError::not_found("unknown_card", "no such card in this account")
            })?),
            None => None,
        };
    let decline = if req.amount.currency != account.currency {
        Some(DeclineReason::CurrencyNotSupported)
    } else if card
        .as_ref()
        .is_some_and(|c| c.status == billfold_protocol::CardStatus::Frozen)
    {
        Some(DeclineReason::CardFrozen)
    } else if card.as_ref().is_some_and(|c| total > c.limit.amount_minor) {
        Some(DeclineReason::LimitExceeded)
    } else if total > account.balance_minor {
        Some(DeclineReason::InsufficientFunds)
    } else {
        None
    };
    let payment_id = ids::new_id(&ctx.state.rng, "pay")?;
    let entry = match decline {
        Some(_) => None,
        None => Some(repo::post_entry(
            tx,
            account,
            NewEntry {
                id: entry_id(&ctx.state.rng, ctx.now)?,
                kind: EntryKind::QrPayment,
                amount_minor: -total,
                description: req.merchant.name.trim().to_string(),
                merchant: Some(Merchant {
                    name: req.merchant.name.trim().to_string(),
                    ..req.merchant.clone()
                }),
                card_id: req.card_id.clone(),
                token_id: None,
                atc: None,
                origin_key: Some(origin_key.to_string()),
                authorization_id: Some(payment_id.clone()),
            },
            ctx.now,
        )?),
    };
    Ok(PaymentResult {
        payment_id,
        status: if decline.is_some() {
            PaymentStatus::Declined
        } else {
            PaymentStatus::Approved
        },
        decline_reason: decline,
        total: Money::new(total, req.amount.currency.clone()),
        entry,
    })
}

/// `POST /v1/payments/qr` (requires `Idempotency-Key`). A repeat with the
/// same key and body returns the recorded result (`Idempotent-Replayed:
/// true`); the same key with a different body is refused with 422.
pub async fn pay_qr(
    State(state): State<AppState>,
    req: Signed<QrPaymentRequest>,
) -> ApiResult<Response> {
    let account_id = req.principal.device_account()?.to_string();
    let device_id = req.principal.id.clone();
    let key = idempotency_key(&req.headers)?;
    let op = Op::QrPayment(req.body);
    let st = state.clone();
    let result = state
        .store
        .tx(move |tx| {
            let ctx = OpContext {
                state: &st,
                account_id: &account_id,
                device_id: &device_id,
                now: st.now_ms(),
            };
            let mut account = repo::lock_account(tx, &account_id)?;
            let r = ops::apply(
                &ctx,
                tx,
                &mut account,
                &mut ops::KnownOps::lazy(),
                &key,
                &op,
            )?;
            repo::flush_account(tx, &mut account)?;
            Ok(r)
        })
        .await?;
    match result {
        Applied::New(OpOutcome::QrPayment(p)) => Ok((StatusCode::CREATED, Json(p)).into_response()),
        Applied::Duplicate(OpOutcome::QrPayment(p)) => {
            let mut resp = (StatusCode::OK, Json(p)).into_response();
            resp.headers_mut().insert(
                HeaderName::from_static("idempotent-replayed"),
                HeaderValue::from_static("true"),
            );
            Ok(resp)
        }
        Applied::Rejected(e) => Err(e),
        Applied::New(_) | Applied::Duplicate(_) => Err(ApiError::unprocessable(
            "idempotency_conflict",
            "this Idempotency-Key was already used for a different request",
        )),
    }
}

//! Tap authorization: the issuer's answer to a contactless payment.
//!
//! The terminal (`billfold-pos`) forwards what the card returned; the bank
//! finds the token by its PAN, verifies the ARQC with the EMV issuer API
//! (which also refuses an ATC the card already used), takes the amount,
//! currency and merchant from the CDOL1 data the cryptogram authenticates,
//! applies its own checks (frozen card, limit, funds), posts the ledger
//! entry, and answers with a response code and an ARPC over it.
//!
//! Only the terminal's request charges. The phone records every tap in the
//! commit that uses its single-use key, before the answer leaves the phone,
//! so it also records taps whose answer never reached the terminal (the
//! NFC link dropped) and whose sale the merchant never completed. Its
//! record, pushed through sync as a `tap` operation, is therefore a report,
//! as issuers treat a wallet's notifications:
//!
//! - if the terminal's authorization of that (token, ATC) exists, the
//!   report links to it and gets the same answer (with the entry it
//!   posted), and nothing is posted again;
//! - otherwise the bank checks that the cryptogram verifies for one of the
//!   device's tokens, keeps the report in `tap_reports` and answers
//!   "awaiting the terminal", without posting or spending the ATC. When the
//!   terminal's authorization arrives (late, or deferred from an offline
//!   terminal's queue), the entry it posts carries the report's idempotency
//!   key as `origin_key`, so the phone replaces its pending hold.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use billfold_protocol::{
    AuthorizationRequest, AuthorizationResult, Cryptogram, CryptogramKind, DeclineReason,
    EntryKind, Merchant, Money, TapAwaiting, TapOutcome, TapRecord, TokenStatus,
};
use emv::card::{templates, TransactionData};
use emv::crypto::{constant_time_eq, CryptogramData};
use emv::issuer::{AtcRecord, IssuerError};

use crate::app::AppState;
use crate::auth::Signed;
use crate::error::{ApiError, ApiResult};
use crate::ids;
use crate::ops::OpContext;
use crate::params;
use crate::repo::{self, Account, NewEntry, TokenRow};
use crate::store::Tx;

fn hex_field(what: &'static str, s: &str, min: usize, max: usize) -> ApiResult<Vec<u8>> {
    let bad = || {
        ApiError::unprocessable(
            "invalid_cryptogram",
            format!("{what} must be {min} to {max} bytes of hex"),
        )
    };
    if s.len() > 2 * max {
        return Err(bad());
    }
    let bytes = hex::decode(s).map_err(|_| bad())?;
    if bytes.len() < min {
        return Err(bad());
    }
    Ok(bytes)
}

/// The EMV view of the cryptogram, checked for shape.
pub fn decode_cryptogram(c: &Cryptogram) -> ApiResult<CryptogramData> {
    let aip = hex_field("aip", &c.aip, 2, 2)?;
    let ac = hex_field("ac", &c.ac, 8, 8)?;
    Ok(CryptogramData {
        kind: match c.kind {
            CryptogramKind::Arqc => emv::crypto::CryptogramKind::Arqc,
            CryptogramKind::Aac => emv::crypto::CryptogramKind::Aac,
            CryptogramKind::Tc => emv::crypto::CryptogramKind::Tc,
        },
        atc: c.atc,
        aip: [aip[0], aip[1]],
        cdol1_data: hex_field("cdol1_data", &c.cdol1_data, 1, 252)?,
        iad: hex_field("iad", &c.iad, 0, 32)?,
        ac: ac
            .try_into()
            .map_err(|_| ApiError::unprocessable("invalid_cryptogram", "ac must be 8 bytes"))?,
    })
}

/// The transaction the terminal described in the CDOL1 data.
fn transaction_data(cdol1_data: &[u8]) -> Option<TransactionData> {
    let parts = templates::cdol1().split(cdol1_data).ok()?;
    let values: BTreeMap<_, _> = parts.into_iter().map(|(t, v)| (t, v.to_vec())).collect();
    TransactionData::from_values(&values).ok()
}

fn declined(reason: DeclineReason, atc: u16) -> AuthorizationResult {
    AuthorizationResult {
        authorization_id: None,
        approved: false,
        response_code: reason.response_code().to_string(),
        decline_reason: Some(reason),
        arpc: None,
        atc,
        amount: None,
        merchant: None,
        entry_id: None,
    }
}

/// The bank's answer already given for this (token, ATC): the recorded
/// result for the same cryptogram, a replay decline for another one, or
/// `None` if no terminal has asked yet.
fn recorded_answer(
    tx: &mut dyn Tx,
    token: &TokenRow,
    data: &CryptogramData,
) -> ApiResult<Option<AuthorizationResult>> {
    let Some(row) = tx.query_opt(
        "SELECT ac, outcome FROM authorizations WHERE token_id = $1 AND atc = $2",
        params![token.id.as_str(), data.atc],
    )?
    else {
        return Ok(None);
    };
    if constant_time_eq(&row.bytes(0)?, &data.ac) {
        return serde_json::from_str(&row.text(1)?)
            .map(Some)
            .map_err(|_| ApiError::internal("a recorded authorization cannot be read"));
    }
    Ok(Some(declined(DeclineReason::ReplayedAtc, data.atc)))
}

/// The idempotency key of the phone's report of this very cryptogram, if
/// the bank has one.
fn reported_origin(
    tx: &mut dyn Tx,
    token: &TokenRow,
    data: &CryptogramData,
) -> ApiResult<Option<String>> {
    let row = tx.query_opt(
        "SELECT ac, origin_key FROM tap_reports WHERE token_id = $1 AND atc = $2",
        params![token.id.as_str(), data.atc],
    )?;
    Ok(match row {
        // A report of another cryptogram for the same ATC is not this tap's.
        Some(r) if constant_time_eq(&r.bytes(0)?, &data.ac) => Some(r.text(1)?),
        _ => None,
    })
}

/// Authorises one cryptogram of `token` for a terminal (the account is
/// locked).
fn authorize(
    state: &AppState,
    tx: &mut dyn Tx,
    account: &mut Account,
    token: &TokenRow,
    data: &CryptogramData,
    now: i64,
) -> ApiResult<AuthorizationResult> {
    // The same cryptogram again (a terminal's retry, or its deferred
    // submission sent twice): the same answer.
    if let Some(answer) = recorded_answer(tx, token, data)? {
        return Ok(answer);
    }
    if data.kind != emv::crypto::CryptogramKind::Arqc {
        return Ok(declined(DeclineReason::CardDeclined, data.atc));
    }
    let mut atcs = AtcRecord::from_bytes(&token.atc_record)
        .map_err(|_| ApiError::internal("a token's ATC record is corrupt"))?;
    let verified = match state
        .issuer
        .verify_arqc(&token.pan, token.psn, data, &mut atcs)
    {
        Ok(v) => v,
        Err(IssuerError::ReplayedAtc(_)) => {
            return Ok(declined(DeclineReason::ReplayedAtc, data.atc))
        }
        Err(_) => return Ok(declined(DeclineReason::CryptogramInvalid, data.atc)),
    };
    // From here on the ATC is spent, whatever the bank decides.
    tx.execute_deferred(
        "UPDATE tokens SET atc_record = $2 WHERE id = $1",
        params![token.id.as_str(), atcs.to_bytes()],
    )?;
    let card = repo::card(tx, &account.id, &token.card_id)?
        .ok_or_else(|| ApiError::internal("a token's card is missing"))?;

    let txn = transaction_data(&data.cdol1_data);
    let (amount, merchant, decline) = match &txn {
        None => (None, None, Some(DeclineReason::BadTransactionData)),
        Some(t) => {
            let currency = crate::money::alpha_from_numeric(t.currency);
            let amount = t
                .amount_minor
                .checked_add(t.other_amount_minor)
                .and_then(|a| i64::try_from(a).ok());
            let merchant = Merchant {
                name: t
                    .merchant_name
                    .clone()
                    .unwrap_or_else(|| "Card payment".into()),
                city: None,
                country: Some(format!("{:03}", t.country)),
                mcc: t.mcc,
            };
            let decline = match (currency, amount) {
                (None, _) | (_, None) => Some(DeclineReason::BadTransactionData),
                _ if card.status == billfold_protocol::CardStatus::Frozen => {
                    Some(DeclineReason::CardFrozen)
                }
                _ if token.status != TokenStatus::Active => Some(DeclineReason::TokenInactive),
                _ if t.transaction_type != 0x00 => Some(DeclineReason::TransactionNotSupported),
                (Some(c), _) if c != account.currency => Some(DeclineReason::CurrencyNotSupported),
                (_, Some(a)) if a > card.limit.amount_minor => Some(DeclineReason::LimitExceeded),
                (_, Some(a)) if a > account.balance_minor => Some(DeclineReason::InsufficientFunds),
                _ => None,
            };
            let money = match (currency, amount) {
                (Some(c), Some(a)) => Some(Money::new(a, c)),
                _ => None,
            };
            (money, Some(merchant), decline)
        }
    };

    let authorization_id = ids::new_id(&state.rng, "auth")?;
    let entry_id = match (&decline, &amount) {
        (None, Some(a)) if a.amount_minor > 0 => {
            let m = merchant.clone().unwrap_or_default();
            let origin_key = reported_origin(tx, token, data)?;
            Some(
                repo::post_entry(
                    tx,
                    account,
                    NewEntry {
                        id: ids::new_id(&state.rng, "ent")?,
                        kind: EntryKind::CardPayment,
                        amount_minor: -a.amount_minor,
                        description: m.name.clone(),
                        merchant: Some(m),
                        card_id: Some(card.card_id.clone()),
                        token_id: Some(token.id.clone()),
                        atc: Some(data.atc),
                        origin_key,
                        authorization_id: Some(authorization_id.clone()),
                    },
                    now,
                )?
                .entry_id,
            )
        }
        _ => None,
    };
    let response_code = decline.map_or("00", DeclineReason::response_code);
    let arc: [u8; 2] = response_code
        .as_bytes()
        .try_into()
        .map_err(|_| ApiError::internal("response codes are two characters"))?;
    let result = AuthorizationResult {
        authorization_id: Some(authorization_id.clone()),
        approved: decline.is_none(),
        response_code: response_code.to_string(),
        decline_reason: decline,
        arpc: Some(hex::encode_upper(verified.arpc(arc))),
        atc: data.atc,
        amount,
        merchant,
        entry_id: entry_id.clone(),
    };
    let outcome = serde_json::to_string(&result)
        .map_err(|_| ApiError::internal("cannot serialise an authorization"))?;
    tx.execute_deferred(
        "INSERT INTO authorizations (id, token_id, atc, ac, outcome, entry_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        params![
            authorization_id.as_str(),
            token.id.as_str(),
            data.atc,
            &data.ac[..],
            outcome,
            entry_id,
            now
        ],
    )?;
    tracing::info!(
        authorization = %authorization_id,
        token = %token.id,
        atc = data.atc,
        code = response_code,
        "tap authorised"
    );
    Ok(result)
}

/// The `tap` outbox operation: the phone's report of a tap. It never
/// posts and never spends the ATC (see the module's documentation).
///
/// Everything that makes the request invalid (shape, a token that is not
/// this device's) is checked before the one write.
pub fn report_device_tap(
    ctx: &OpContext<'_>,
    tx: &mut dyn Tx,
    origin_key: &str,
    tap: &TapRecord,
) -> ApiResult<TapOutcome> {
    let data = decode_cryptogram(&tap.cryptogram)?;
    let token = crate::cards::own_token(tx, ctx.account_id, ctx.device_id, &tap.token_id)?;
    if let Some(answer) = recorded_answer(tx, &token, &data)? {
        return Ok(TapOutcome::Decided(answer));
    }
    // A card decline never goes online, so no terminal will ever ask.
    if data.kind != emv::crypto::CryptogramKind::Arqc {
        return Ok(TapOutcome::Decided(declined(
            DeclineReason::CardDeclined,
            data.atc,
        )));
    }
    // Verified against a copy of the ATC record: the terminal's request, if
    // it comes, is what spends the ATC. A report that could never be
    // authorised (forged, or an ATC the bank no longer accepts) is decided
    // now, so the phone drops its hold.
    let mut atcs = AtcRecord::from_bytes(&token.atc_record)
        .map_err(|_| ApiError::internal("a token's ATC record is corrupt"))?;
    match ctx
        .state
        .issuer
        .verify_arqc(&token.pan, token.psn, &data, &mut atcs)
    {
        Ok(_) => {}
        Err(IssuerError::ReplayedAtc(_)) => {
            return Ok(TapOutcome::Decided(declined(
                DeclineReason::ReplayedAtc,
                data.atc,
            )))
        }
        Err(_) => {
            return Ok(TapOutcome::Decided(declined(
                DeclineReason::CryptogramInvalid,
                data.atc,
            )))
        }
    }
    // The same tap reported again under another key (the phone rebuilt its
    // outbox): the first report's key stays the one the posting carries.
    if let Some(row) = tx.query_opt(
        "SELECT ac, origin_key, reported_at FROM tap_reports WHERE token_id = $1 AND atc = $2",
        params![token.id.as_str(), data.atc],
    )? {
        if !constant_time_eq(&row.bytes(0)?, &data.ac) {
            // Two verifying cryptograms for one ATC: a key used twice.
            return Ok(TapOutcome::Decided(declined(
                DeclineReason::ReplayedAtc,
                data.atc,
            )));
        }
        return Ok(TapOutcome::AwaitingTerminal(TapAwaiting {
            token_id: token.id.clone(),
            atc: data.atc,
            origin_key: row.text(1)?,
            reported_at_ms: row.int(2)?,
        }));
    }
    tx.execute_deferred(
        "INSERT INTO tap_reports (token_id, atc, ac, device_id, origin_key, reported_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        params![
            token.id.as_str(),
            data.atc,
            &data.ac[..],
            ctx.device_id,
            origin_key,
            ctx.now
        ],
    )?;
    tracing::info!(
        token = %token.id,
        atc = data.atc,
        "tap reported; awaiting the terminal's authorization"
    );
    Ok(TapOutcome::AwaitingTerminal(TapAwaiting {
        token_id: token.id.clone(),
        atc: data.atc,
        origin_key: origin_key.to_string(),
        reported_at_ms: ctx.now,
    }))
}

/// `POST /v1/authorizations`, for enrolled terminals. A retry with the
/// same cryptogram gets the same answer, so no idempotency key is needed.
pub async fn authorize_terminal(
    State(state): State<AppState>,
    req: Signed<AuthorizationRequest>,
) -> ApiResult<Json<AuthorizationResult>> {
    req.principal.require_terminal()?;
    let AuthorizationRequest {
        pan,
        psn,
        cryptogram,
    } = req.body;
    if !(12..=19).contains(&pan.len()) || !pan.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::unprocessable(
            "invalid_pan",
            "the PAN must be 12 to 19 digits",
        ));
    }
    let data = decode_cryptogram(&cryptogram)?;
    let st = state.clone();
    let mut result = state
        .store
        .tx(move |tx| {
            let account_id = match repo::token_by_pan(tx, &pan)? {
                Some(t) if psn.is_none_or(|p| p == t.psn) => t.account_id,
                _ => return Ok(declined(DeclineReason::UnknownCard, data.atc)),
            };
            let mut account = repo::lock_account(tx, &account_id)?;
            // Read again under the lock: a concurrent authorization of the
            // same token may have just moved its ATC record.
            let token = repo::token_by_pan(tx, &pan)?
                .ok_or_else(|| ApiError::internal("a token vanished during authorization"))?;
            let result = authorize(&st, tx, &mut account, &token, &data, st.now_ms())?;
            repo::flush_account(tx, &mut account)?;
            Ok(result)
        })
        .await?;
    // The customer's ledger is not the terminal's business.
    result.entry_id = None;
    Ok(Json(result))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever a terminal sends, decoding gives a value or a typed
        /// error, and the transaction parser never panics on what passes.
        #[test]
        fn cryptogram_decoding_never_panics(
            aip in "[0-9A-Fa-fx]{0,6}",
            ac in "[0-9A-F]{0,20}",
            cdol1 in "[0-9A-F]{0,120}",
            iad in "[0-9A-Fz]{0,70}",
            atc in any::<u16>(),
        ) {
            let c = Cryptogram { kind: CryptogramKind::Arqc, atc, aip, cdol1_data: cdol1, iad, ac };
            if let Ok(d) = decode_cryptogram(&c) {
                prop_assert_eq!(d.ac.len(), 8);
                let _ = transaction_data(&d.cdol1_data);
            }
        }
    }

    #[test]
    fn shape_errors_are_typed() {
        let good = Cryptogram {
            kind: CryptogramKind::Arqc,
            atc: 1,
            aip: "0080".into(),
            cdol1_data: "00".into(),
            iad: String::new(),
            ac: "0102030405060708".into(),
        };
        assert!(decode_cryptogram(&good).is_ok());
        for bad in [
            Cryptogram {
                aip: "00".into(),
                ..good.clone()
            },
            Cryptogram {
                ac: "01".into(),
                ..good.clone()
            },
            Cryptogram {
                cdol1_data: String::new(),
                ..good.clone()
            },
            Cryptogram {
                iad: "AB".repeat(33),
                ..good.clone()
            },
        ] {
            assert_eq!(
                decode_cryptogram(&bad).unwrap_err().code,
                "invalid_cryptogram"
            );
        }
    }
}

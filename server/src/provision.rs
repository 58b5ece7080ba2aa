//! Payment tokens and their single-use keys: a token PAN from the bank's
//! test BIN range for each card, and batches of session keys for
//! consecutive ATCs, derived from the issuer master key through the EMV
//! issuer API (so the bank never stores a session key: it can derive any
//! of them again, which is also how a lost batch is re-sent).

use billfold_protocol::{KeyBatch, SessionKeyMaterial, TokenInfo, TokenStatus};
use chrono::{Datelike, Months, NaiveDate};
use emv::crypto::Profile;
use emv::issuer::AtcRecord;

use crate::app::AppState;
use crate::error::ApiError;
use crate::ids;
use crate::params;
use crate::repo::{self, Account, TokenRow};
use crate::store::Tx;

/// The application identifier personalised on every token (a Visa-style
/// credit/debit AID, matching the default test BIN).
pub const TOKEN_AID: &str = "A0000000031010";
/// The label terminals show.
pub const TOKEN_LABEL: &str = "BILLFOLD";
/// ATC 0 is never used: some kernels treat it as "no counter".
pub const FIRST_ATC: u32 = 1;
/// One past the last ATC (the counter is 16 bits).
const ATC_END: u32 = 0x1_0000;

pub fn profile_from(s: &str) -> Result<Profile, ApiError> {
    match s {
        "aes" => Ok(Profile::Aes),
        "tdes" => Ok(Profile::Tdes),
        _ => Err(ApiError::internal("stored token has an unknown profile")),
    }
}

fn profile_name(p: Profile) -> &'static str {
    match p {
        Profile::Aes => "aes",
        Profile::Tdes => "tdes",
    }
}

/// The token as the phone personalises it (including its PAN).
pub fn token_info(t: &TokenRow) -> Result<TokenInfo, ApiError> {
    Ok(TokenInfo {
        token_id: t.id.clone(),
        card_id: t.card_id.clone(),
        status: t.status,
        pan: t.pan.clone(),
        psn: t.psn,
        expiry: t.expiry.clone(),
        profile: billfold_protocol::CryptoProfile::parse(&t.profile)
            .ok_or_else(|| ApiError::internal("stored token has an unknown profile"))?,
        dki: t.dki,
        aid: t.aid.clone(),
        label: t.label.clone(),
        keys_issued_until: t.keys_issued_until,
    })
}

/// `YYMMDD` of the last day of the month three years from `now_ms`.
fn token_expiry(now_ms: i64) -> String {
    let today = chrono::DateTime::from_timestamp_millis(now_ms)
        .map(|d| d.date_naive())
        .unwrap_or_default();
    let month = today.with_day(1).unwrap_or(today);
    let last = month
        .checked_add_months(Months::new(37))
        .and_then(|d| d.pred_opt())
        .unwrap_or(NaiveDate::MAX);
    format!(
        "{:02}{:02}{:02}",
        last.year() % 100,
        last.month(),
        last.day()
    )
}

/// Issues a new token for a card, bound to the device that asked.
pub fn issue_token(
    state: &AppState,
    tx: &mut dyn Tx,
    account: &mut Account,
    device_id: &str,
    card_id: &str,
    now: i64,
) -> Result<TokenRow, ApiError> {
    // BIN + 9 random digits + Luhn: 16 digits. A collision is retried.
    let mut pan = None;
    for _ in 0..8 {
        let body = format!("{}{}", state.cfg.token_bin, ids::digits(&state.rng, 9)?);
        let candidate = format!("{body}{}", ids::luhn_check_digit(&body));
        if repo::token_by_pan(tx, &candidate)?.is_none() {
            pan = Some(candidate);
            break;
        }
    }
    let pan = pan.ok_or_else(|| ApiError::internal("could not draw an unused token PAN"))?;
    let token = TokenRow {
        id: ids::new_id(&state.rng, "tok")?,
        card_id: card_id.to_string(),
        account_id: account.id.clone(),
        device_id: device_id.to_string(),
        pan,
        psn: 0,
        expiry: token_expiry(now),
        profile: profile_name(state.cfg.profile).to_string(),
        dki: state.cfg.dki,
        aid: TOKEN_AID.to_string(),
        label: TOKEN_LABEL.to_string(),
        status: TokenStatus::Active,
        keys_issued_until: FIRST_ATC,
        atc_record: AtcRecord::new().to_bytes(),
        seq: account.next_seq(),
    };
    tx.execute(
        "INSERT INTO tokens (id, card_id, account_id, device_id, pan, psn, expiry, profile, dki, aid, label, status,
             keys_issued_until, atc_record, seq, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        params![
            token.id.as_str(),
            token.card_id.as_str(),
            token.account_id.as_str(),
            token.device_id.as_str(),
            token.pan.as_str(),
            i64::from(token.psn),
            token.expiry.as_str(),
            token.profile.as_str(),
            i64::from(token.dki),
            token.aid.as_str(),
            token.label.as_str(),
            token.status.as_str(),
            token.keys_issued_until,
            token.atc_record.clone(),
            token.seq,
            now,
        ],
    )?;
    Ok(token)
}

/// Derives the session keys for ATCs `first .. end` of a token.
pub fn derive_batch(
    state: &AppState,
    token: &TokenRow,
    first: u32,
    end: u32,
) -> Result<KeyBatch, ApiError> {
    let first_atc = u16::try_from(first).map_err(|_| ApiError::internal("ATC out of range"))?;
    let count = u16::try_from(end.saturating_sub(first))
        .map_err(|_| ApiError::internal("batch too large"))?;
    let keys = state
        .issuer
        .session_keys(
            profile_from(&token.profile)?,
            token.dki,
            &token.pan,
            token.psn,
            first_atc,
            count,
        )
        .map_err(|e| ApiError::internal(format!("key derivation failed: {e}")))?;
    Ok(KeyBatch {
        token_id: token.id.clone(),
        first_atc,
        keys: keys
            .into_iter()
            .map(|(atc, key)| SessionKeyMaterial {
                atc,
                key: hex::encode_upper(key.expose_bytes()),
            })
            .collect(),
        issued_until: token.keys_issued_until,
    })
}

/// Answers a device's report of the keys it holds for a token:
///
/// * it lacks keys the bank already issued (a response was lost): those
///   are derived again and re-sent, at most two batches' worth;
/// * it is running low: a new batch is issued and the token's issued
///   range grows (which moves the token up the feed);
/// * otherwise nothing.
///
/// Either way the same report can be repeated safely.
pub fn answer_key_status(
    state: &AppState,
    tx: &mut dyn Tx,
    account: &mut Account,
    token: &mut TokenRow,
    remaining: u32,
    provisioned_until: u32,
) -> Result<Option<KeyBatch>, ApiError> {
    if token.status != TokenStatus::Active {
        return Ok(None);
    }
    let batch = u32::from(state.cfg.key_batch_size);
    let issued = token.keys_issued_until;
    if provisioned_until < issued {
        let first = provisioned_until
            .max(FIRST_ATC)
            .max(issued.saturating_sub(2 * batch));
        return derive_batch(state, token, first, issued).map(Some);
    }
    if remaining >= state.cfg.key_low_water || issued >= ATC_END {
        return Ok(None);
    }
    let end = (issued + batch).min(ATC_END);
    token.keys_issued_until = end;
    token.seq = account.next_seq();
    tx.execute_deferred(
        "UPDATE tokens SET keys_issued_until = $2, seq = $3 WHERE id = $1",
        params![token.id.as_str(), end, token.seq],
    )?;
    derive_batch(state, token, issued, end).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_end_of_month_three_years_on() {
        // 2026-01-15 → 2029-01-31.
        assert_eq!(token_expiry(1_768_435_200_000), "290131");
        // 2028-02-10 → 2031-02-28.
        assert_eq!(token_expiry(1_833_667_200_000), "310228");
    }
}

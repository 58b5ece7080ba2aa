//! Tap to pay: the calls Android's `HostApduService` makes (one per command
//! APDU, then one when the field goes away), the tap report the app shows
//! afterwards, and the payment tokens with their single-use keys.
//!
//! `processApdu` never throws: the NFC stack needs response bytes, and every
//! problem (a locked or closed wallet, a malformed command, no keys left)
//! already has a status word or a declining cryptogram that the terminal
//! understands. One call per APDU keeps the FFI cost to a few tens of
//! microseconds, well inside the 1 ms per-APDU budget.

use chrono::{DateTime, Datelike, Months};
use emv::crypto::Profile;
use wallet_core::{
    DeactivationReason as CoreReason, TapDeclineReason as CoreDecline, TapReport as CoreReport,
    TestTokenConfig, TestTokenService, TokenInfo, TokenKeyStatus as CoreKeyStatus,
};

use crate::bytes::Bytes;
use crate::error::{guard, WalletError};
use crate::money::Money;
use crate::validate::{check_card_id, check_token_id};
use crate::wallet::Wallet;

/// The longest command APDU there is (extended length: 4 header bytes,
/// 3 for Lc, 65,535 of data, 3 for Le).
const MAX_APDU: usize = 65_545;

/// SW 6700, wrong length: the answer to an APDU no card could parse.
const WRONG_LENGTH: [u8; 2] = [0x67, 0x00];
/// SW 6985, conditions of use not satisfied: the wallet was closed, so
/// there is no card to answer with.
const CONDITIONS_NOT_SATISFIED: [u8; 2] = [0x69, 0x85];

/// Why the reader went away (Android's `onDeactivated` reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DeactivationReason {
    /// The reader left the field (`DEACTIVATION_LINK_LOSS`).
    LinkLoss,
    /// The reader selected another application (`DEACTIVATION_DESELECTED`).
    Deselected,
}

impl From<DeactivationReason> for CoreReason {
    fn from(r: DeactivationReason) -> Self {
        match r {
            DeactivationReason::LinkLoss => CoreReason::LinkLoss,
            DeactivationReason::Deselected => CoreReason::Deselected,
        }
    }
}

/// Why a tap was declined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TapDeclineReason {
    /// The wallet is locked.
    Locked,
    /// The card is frozen, or the bank suspended its token.
    CardFrozen,
    /// No single-use keys are left: the wallet must sync.
    KeysExhausted,
    /// The wallet could not safely record the key's use.
    Unavailable,
    /// The stored keys do not fit the token.
    KeyMismatch,
    /// The terminal itself declined.
    TerminalDeclined,
    /// No default card, or the default card has no token yet.
    NoCard,
}

impl From<CoreDecline> for TapDeclineReason {
    fn from(d: CoreDecline) -> Self {
        match d {
            CoreDecline::Locked => TapDeclineReason::Locked,
            CoreDecline::CardFrozen => TapDeclineReason::CardFrozen,
            CoreDecline::KeysExhausted => TapDeclineReason::KeysExhausted,
            CoreDecline::Unavailable => TapDeclineReason::Unavailable,
            CoreDecline::KeyMismatch => TapDeclineReason::KeyMismatch,
            CoreDecline::TerminalDeclined => TapDeclineReason::TerminalDeclined,
            CoreDecline::NoCard => TapDeclineReason::NoCard,
        }
    }
}

/// What happened at the terminal, for the app to show after a tap.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TapReport {
    /// The card answered with a cryptogram for the bank to authorise (the
    /// terminal shows the bank's answer).
    pub sent_online: bool,
    /// Why the card declined, when it did, and a sentence for the user.
    pub decline: Option<TapDeclineReason>,
    pub decline_message: Option<String>,
    pub token_id: Option<String>,
    pub card_id: Option<String>,
    /// What the terminal asked for (null if its currency is unknown).
    pub amount: Option<Money>,
    pub merchant: Option<String>,
    pub mcc: Option<u16>,
    /// The application transaction counter used.
    pub atc: Option<u16>,
}

impl From<CoreReport> for TapReport {
    fn from(r: CoreReport) -> Self {
        TapReport {
            sent_online: r.sent_online,
            decline: r.decline.map(TapDeclineReason::from),
            decline_message: r.decline.map(|d| d.message().to_string()),
            token_id: r.token_id,
            card_id: r.card_id,
            amount: r.amount.map(Money::from),
            merchant: r.merchant,
            mcc: r.mcc,
            atc: r.atc,
        }
    }
}

/// A token's cryptographic profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TokenProfile {
    /// Triple DES session keys (the common EMV profile).
    Tdes,
    /// AES session keys.
    Aes,
}

impl From<Profile> for TokenProfile {
    fn from(p: Profile) -> Self {
        match p {
            Profile::Tdes => TokenProfile::Tdes,
            Profile::Aes => TokenProfile::Aes,
        }
    }
}

impl From<TokenProfile> for Profile {
    fn from(p: TokenProfile) -> Self {
        match p {
            TokenProfile::Tdes => Profile::Tdes,
            TokenProfile::Aes => Profile::Aes,
        }
    }
}

/// How many single-use keys a token has left.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TokenKeyStatus {
    pub token_id: String,
    pub card_id: String,
    /// Unused keys held: each pays for one tap.
    pub remaining: u32,
    /// The transaction counter the next tap uses.
    pub next_atc: u32,
    /// Keys are held for counters below this.
    pub provisioned_until: u32,
    /// Few keys remain: the next sync should fetch more.
    pub low: bool,
}

impl From<CoreKeyStatus> for TokenKeyStatus {
    fn from(s: CoreKeyStatus) -> Self {
        TokenKeyStatus {
            token_id: s.token_id,
            card_id: s.card_id,
            remaining: s.remaining,
            next_atc: s.next_atc,
            provisioned_until: s.provisioned_until,
            low: s.low,
        }
    }
}

/// The token a card pays with when tapping, masked: never the token
/// number, never a key.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PaymentToken {
    pub token_id: String,
    pub card_id: String,
    /// The token number's BIN and last four digits at most.
    pub masked_pan: String,
    pub last4: String,
    /// PAN sequence number.
    pub psn: u8,
    /// `YYMMDD`.
    pub expiry: String,
    /// Application identifier, hex.
    pub aid: String,
    pub label: String,
    pub profile: TokenProfile,
    /// Derivation key index.
    pub dki: u8,
    /// `active`, or `suspended` by the bank.
    pub status: String,
    pub is_default_card: bool,
    pub keys: TokenKeyStatus,
}

impl From<TokenInfo> for PaymentToken {
    fn from(t: TokenInfo) -> Self {
        PaymentToken {
            token_id: t.token_id,
            card_id: t.card_id,
            masked_pan: t.masked_pan,
            last4: t.last4,
            psn: t.psn,
            expiry: t.expiry,
            aid: t.aid,
            label: t.label,
            profile: t.profile.into(),
            dki: t.dki,
            status: t.status,
            is_default_card: t.is_default_card,
            keys: t.keys.into(),
        }
    }
}

/// The end of the month three years on from `now_ms`, `YYMMDD`: a test
/// token's default expiry, as `billfold token provision-test` chooses it.
fn three_years_on(now_ms: i64) -> String {
    let today = DateTime::from_timestamp_millis(now_ms)
        .unwrap_or_default()
        .date_naive();
    let last = today
        .with_day(1)
        .and_then(|d| d.checked_add_months(Months::new(37)))
        .and_then(|d| d.pred_opt())
        .unwrap_or(today);
    format!(
        "{:02}{:02}{:02}",
        last.year() % 100,
        last.month(),
        last.day()
    )
}

#[uniffi::export]
impl Wallet {
    /// One command APDU from the NFC reader in, the response (data and
    /// SW1 SW2) out. Never throws: a closed wallet answers 6985, an
    /// impossible length 6700, a locked wallet or a card without keys a
    /// declining answer the terminal shows.
    pub fn process_apdu(&self, apdu: Bytes) -> Bytes {
        if apdu.0.len() > MAX_APDU {
            return Bytes(WRONG_LENGTH.to_vec());
        }
        let response = self
            .with(|w| Ok(w.process_apdu(&apdu.0)))
            .unwrap_or_else(|_| CONDITIONS_NOT_SATISFIED.to_vec());
        Bytes(response)
    }

    /// The reader went away: the transaction is over. Returns what happened
    /// in it (null if the terminal never asked for a cryptogram) and writes
    /// the pending ledger entry of an answered tap, which evaluates the
    /// budgets and notifies the `AlertListener`. Never throws.
    pub fn on_deactivated(&self, reason: DeactivationReason) -> Option<TapReport> {
        self.with(|w| Ok(w.on_deactivated(reason.into())))
            .ok()
            .flatten()
            .map(TapReport::from)
    }

    /// The current transaction's report, or else the last one's.
    pub fn last_tap(&self) -> Option<TapReport> {
        self.with(|w| Ok(w.last_tap()))
            .ok()
            .flatten()
            .map(TapReport::from)
    }

    /// Writes the ledger entry of every answered tap that has none yet
    /// (after a crash, or a tap while the wallet was locked); returns how
    /// many. `onDeactivated` does this too.
    pub fn settle_taps(&self) -> Result<u32, WalletError> {
        self.with(|w| w.settle_taps())
    }

    /// Every card's payment token, masked.
    pub fn tokens(&self) -> Result<Vec<PaymentToken>, WalletError> {
        self.with(|w| w.tokens())
            .map(|v| v.into_iter().map(PaymentToken::from).collect())
    }

    pub fn token(&self, token_id: String) -> Result<PaymentToken, WalletError> {
        check_token_id(&token_id)?;
        self.with(|w| w.token(&token_id)).map(PaymentToken::from)
    }

    /// The token a card taps with, if it has one yet.
    pub fn card_token(&self, card_id: String) -> Result<Option<PaymentToken>, WalletError> {
        check_card_id(&card_id)?;
        self.with(|w| w.card_token(&card_id))
            .map(|t| t.map(PaymentToken::from))
    }

    /// Single-use keys left per token.
    pub fn token_key_status(&self) -> Result<Vec<TokenKeyStatus>, WalletError> {
        self.with(|w| w.token_key_status())
            .map(|v| v.into_iter().map(TokenKeyStatus::from).collect())
    }

    /// Whether some token is running low on keys, so the app should sync soon.
    pub fn needs_replenishment(&self) -> Result<bool, WalletError> {
        self.with(|w| w.needs_replenishment())
    }

    /// TEST ONLY: gives a card a token issued in-process from a known
    /// issuer master key (16 bytes, used for both profiles), with
    /// `key_count` single-use keys, replacing its current token. Anyone
    /// who knows that key can derive every key of the token, which is what
    /// development and certification labs need and exactly what a real
    /// wallet must never do: real tokens come from the bank at sync.
    /// `expiry` (`YYMMDD`) defaults to the end of the month three years on.
    #[uniffi::method(default(key_count = 10, profile = None, expiry = None))]
    pub fn provision_test_token(
        &self,
        card_id: String,
        issuer_master_key: Vec<u8>,
        key_count: u16,
        profile: Option<TokenProfile>,
        expiry: Option<String>,
    ) -> Result<PaymentToken, WalletError> {
        guard(|| {
            check_card_id(&card_id)?;
            let imk: [u8; 16] = issuer_master_key.as_slice().try_into().map_err(|_| {
                wallet_core::Error::InvalidText {
                    field: "issuer master key",
                    reason: "give exactly 16 bytes",
                }
            })?;
            if key_count == 0 {
                return Err(wallet_core::Error::InvalidText {
                    field: "key count",
                    reason: "provision at least one key",
                }
                .into());
            }
            if expiry.as_ref().is_some_and(|e| e.len() != 6) {
                return Err(wallet_core::Error::InvalidText {
                    field: "token expiry",
                    reason: "write it as YYMMDD",
                }
                .into());
            }
            let mut config =
                TestTokenConfig::new(expiry.unwrap_or_else(|| three_years_on(self.now_ms())));
            config.batch_size = key_count;
            if let Some(p) = profile {
                config.profile = p.into();
            }
            let service = TestTokenService::new(imk, config);
            self.with(|w| w.provision_token(&card_id, &service))
                .map(PaymentToken::from)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_token_expiry_is_the_end_of_a_month_three_years_on() {
        // 2026-11-23T12:00:00Z -> 2029-11-30.
        assert_eq!(three_years_on(1_795_435_200_000), "291130");
        // 2028-01-31 -> 2031-01-31.
        assert_eq!(three_years_on(1_832_932_800_000), "310131");
    }
}

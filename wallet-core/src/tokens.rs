//! Payment tokens: one per card, with the issuer's single-use session keys,
//! stored sealed; the `TokenService` seam to the bank that issues them; and
//! the key-level bookkeeping that tells sync when to ask for more.
//!
//! A token is what the phone presents when it taps instead of the card
//! number: a token PAN, PSN, expiry, AID and label, plus the cryptographic
//! profile (3DES or AES) and derivation key index (DKI) of its keys. The
//! token PAN, its expiry and every session key are sealed with the vault's
//! field cipher, bound to their table, column and row, so nothing secret
//! reaches the database, its WAL or its shared memory in the clear.
//!
//! Each key is good for exactly one ATC. `tokens.next_atc` only grows: a
//! key whose ATC is below it is never stored and never returned, and the tap
//! glue (`tap.rs`) deletes a key and advances the counter in one committed
//! transaction before the key is used.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use emv::card::{Expiry as TokenExpiry, Token};
use emv::crypto::{IssuerMasterKey, Profile, SessionKey};
use emv::issuer::Issuer;
use rusqlite::{params, OptionalExtension, Row, Transaction};
use serde::{Serialize, Serializer};
use zeroize::Zeroizing;

use crate::card::mask_digits;
use crate::error::{Error, Result};
use crate::vault::{FieldRef, Keys};
use crate::wallet::Wallet;

/// Below this many unused keys a token is "running low" and the next sync
/// asks the token service for more. A batch lasts a few days of ordinary
/// use; this leaves room for a day of taps without a connection.
pub const KEY_LOW_WATER: u32 = 5;

/// One past the last ATC: the counter is 16 bits.
const ATC_END: u32 = 0x1_0000;

// --- what the token service hands over ------------------------------------

/// Single-use session keys for consecutive ATCs of one token:
/// `keys[i]` is the key for ATC `first_atc + i`.
#[derive(Clone)]
pub struct KeyBatch {
    pub token_id: String,
    pub first_atc: u16,
    pub keys: Vec<SessionKey>,
}

impl fmt::Debug for KeyBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "KeyBatch({}, ATC {} + {} keys, <redacted>)",
            self.token_id,
            self.first_atc,
            self.keys.len()
        )
    }
}

/// A token as the service issued it, with its first batch of keys.
#[derive(Clone)]
pub struct ProvisionedToken {
    /// The service's id for the token: 1 to 64 of `[A-Za-z0-9_.:-]`, so it
    /// can be part of an idempotency key.
    pub token_id: String,
    /// Token PAN, digits. Secret.
    pub pan: Zeroizing<String>,
    pub psn: u8,
    /// `YYMMDD`, as in EMV tag 5F24.
    pub expiry: String,
    pub profile: Profile,
    pub dki: u8,
    pub aid: Vec<u8>,
    pub label: String,
    pub keys: KeyBatch,
}

impl fmt::Debug for ProvisionedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProvisionedToken")
            .field("token_id", &self.token_id)
            .field("pan", &"<redacted>")
            .field("profile", &self.profile)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

/// What the wallet tells the service when it asks for a token.
#[derive(Clone)]
pub struct ProvisionRequest {
    pub card_id: String,
    /// The funding card's number, which the bank needs to link the token
    /// to the account. Secret.
    pub funding_pan: Zeroizing<String>,
    /// `MM/YY`.
    pub funding_expiry: String,
    /// The card's previous token's next ATC (1 when it had none; 65536
    /// when it used them all): a replacement token with the same token PAN
    /// must not go back in ATC, or the issuer would refuse its cryptograms
    /// as replays. A new token PAN starts afresh.
    pub min_first_atc: u32,
}

impl fmt::Debug for ProvisionRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProvisionRequest")
            .field("card_id", &self.card_id)
            .field("funding_pan", &"<redacted>")
            .field("min_first_atc", &self.min_first_atc)
            .finish_non_exhaustive()
    }
}

/// Why the token service could not help. The message is for people and
/// never carries a PAN or key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenServiceError {
    /// The service could not be reached or failed; try again later.
    #[error("the token service is unavailable: {0}")]
    Unavailable(String),
    /// The service refused (unknown card or token, suspended, …).
    #[error("the token service refused: {0}")]
    Refused(String),
}

/// The bank's token service. The production implementation talks to the
/// bank over the network (the sync client); [`TestTokenService`] issues
/// tokens in-process from a known issuer master key for development and
/// certification labs.
pub trait TokenService: Send + Sync {
    /// Issues a token for a card, with its first batch of keys.
    fn provision(
        &self,
        request: &ProvisionRequest,
    ) -> std::result::Result<ProvisionedToken, TokenServiceError>;

    /// More keys for a token, given what the phone holds; `None` when the
    /// service has nothing to send. Repeating a request is safe.
    fn replenish(
        &self,
        status: &TokenKeyStatus,
    ) -> std::result::Result<Option<KeyBatch>, TokenServiceError>;
}

// --- what the wallet shows --------------------------------------------------

fn ser_profile<S: Serializer>(p: &Profile, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(profile_name(*p))
}

/// A token as the user (and `billfold token list`) sees it: masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub token_id: String,
    pub card_id: String,
    /// BIN and last four at most.
    pub masked_pan: String,
    pub last4: String,
    pub psn: u8,
    /// `YYMMDD`.
    pub expiry: String,
    /// Hex.
    pub aid: String,
    pub label: String,
    #[serde(serialize_with = "ser_profile")]
    pub profile: Profile,
    pub dki: u8,
    /// `active` or `suspended` (by the bank).
    pub status: String,
    pub is_default_card: bool,
    pub keys: TokenKeyStatus,
}

/// How many single-use keys a token has left, in the terms the bank's
/// key-status report uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenKeyStatus {
    pub token_id: String,
    pub card_id: String,
    /// Unused keys held.
    pub remaining: u32,
    /// The ATC the next tap will use (at least; gaps are skipped).
    pub next_atc: u32,
    /// Keys are held for ATCs below this (exclusive).
    pub provisioned_until: u32,
    /// Fewer than [`KEY_LOW_WATER`] remain: sync should ask for more.
    pub low: bool,
}

pub(crate) fn profile_name(p: Profile) -> &'static str {
    match p {
        Profile::Tdes => "tdes",
        Profile::Aes => "aes",
    }
}

pub(crate) fn profile_from(s: &str) -> Result<Profile> {
    match s {
        "tdes" => Ok(Profile::Tdes),
        "aes" => Ok(Profile::Aes),
        _ => Err(Error::Corrupt("a stored token has an unknown profile")),
    }
}

// --- storage ----------------------------------------------------------------

pub(crate) fn token_at<'a>(column: &'static str, row: &'a str) -> FieldRef<'a> {
    FieldRef {
        table: "tokens",
        column,
        row,
    }
}

/// A key's row id for its associated data: the token and the ATC, so a key
/// moved to another ATC or token fails to open.
pub(crate) fn key_row(token_id: &str, atc: u16) -> String {
    format!("{token_id}:{atc}")
}

pub(crate) fn key_at(row: &str) -> FieldRef<'_> {
    FieldRef {
        table: "token_keys",
        column: "key",
        row,
    }
}

fn check_token_id(id: &str) -> Result<()> {
    let ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidToken(
            "its id must be 1 to 64 letters, digits or _.:-",
        ))
    }
}

fn token_problem(e: emv::card::TokenError) -> Error {
    use emv::card::TokenError as E;
    Error::InvalidToken(match e {
        E::BadAid => "its AID must be 5 to 16 bytes",
        E::BadLabel => "its label must be 1 to 16 printable ASCII characters",
        E::BadPan => "its number must be 12 to 19 digits",
        E::BadPsn => "its PAN sequence number must be 0 to 99",
        E::BadExpiry => "its expiry must be a valid YYMMDD date",
    })
}

/// Stores a batch for a token inside the caller's transaction; `make`
/// builds the batch once the token's profile is known (sync receives raw
/// key bytes). Returns how many keys were added.
pub(crate) fn add_keys_in(
    tx: &Transaction<'_>,
    keys: &Keys,
    token_id: &str,
    make: impl FnOnce(Profile) -> Result<KeyBatch>,
) -> Result<u32> {
    let row: Option<(String, u32, u32)> = tx
        .query_row(
            "SELECT profile, next_atc, provisioned_until FROM tokens WHERE id = ?1",
            [token_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let (profile, next_atc, until) = row.ok_or(Error::TokenNotFound)?;
    let profile = profile_from(&profile)?;
    let batch = make(profile)?;
    if batch.token_id != token_id {
        return Err(Error::InvalidToken("its keys belong to another token"));
    }
    let (stored, end) = insert_keys(tx, keys, token_id, profile, next_atc, &batch)?;
    tx.execute(
        "UPDATE tokens SET provisioned_until = ?2 WHERE id = ?1",
        params![token_id, until.max(end)],
    )?;
    Ok(stored)
}

/// Seals and inserts `keys` for ATCs `first_atc..`, skipping ATCs below
/// `next_atc` (already spent or skipped) and ATCs already held. Returns how
/// many were stored and the new `provisioned_until`.
fn insert_keys(
    tx: &Transaction<'_>,
    keys: &Keys,
    token_id: &str,
    profile: Profile,
    next_atc: u32,
    batch: &KeyBatch,
) -> Result<(u32, u32)> {
    let end = u32::from(batch.first_atc) + batch.keys.len() as u32;
    if end > ATC_END {
        return Err(Error::InvalidToken("its keys run past ATC 65535"));
    }
    let f = keys.field();
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO token_keys (token_id, atc, key_ct) VALUES (?1, ?2, ?3)",
    )?;
    let mut stored = 0;
    for (i, key) in batch.keys.iter().enumerate() {
        if key.profile() != profile {
            return Err(Error::InvalidToken(
                "a key is for the other cryptographic profile",
            ));
        }
        let atc = u32::from(batch.first_atc) + i as u32;
        if atc < next_atc {
            continue;
        }
        let atc = atc as u16;
        let row = key_row(token_id, atc);
        let ct = f.seal(key_at(&row), key.expose_bytes())?;
        stored += stmt.execute(params![token_id, atc, ct])? as u32;
    }
    Ok((stored, end))
}

const SELECT_TOKEN: &str = "SELECT t.id, t.card_id, t.pan_ct, t.expiry_ct, t.psn, t.aid, t.label,
        t.profile, t.dki, t.status, t.next_atc, t.provisioned_until, c.is_default,
        (SELECT COUNT(*) FROM token_keys k WHERE k.token_id = t.id AND k.atc >= t.next_atc)
     FROM tokens t JOIN cards c ON c.id = t.card_id";

/// The same row without the key count, for the tap path: counting is
/// linear in the keys held and the card application does not need it.
const SELECT_TAP_TOKEN: &str = "SELECT t.id, t.card_id, t.pan_ct, t.expiry_ct, t.psn, t.aid,
        t.label, t.profile, t.dki, t.status, t.next_atc, t.provisioned_until, c.is_default, 0
     FROM tokens t JOIN cards c ON c.id = t.card_id WHERE c.is_default = 1";

/// A token row, still sealed.
pub(crate) struct StoredToken {
    pub id: String,
    pub card_id: String,
    pan_ct: Vec<u8>,
    expiry_ct: Vec<u8>,
    pub psn: u8,
    pub aid: String,
    pub label: String,
    pub profile: String,
    pub dki: u8,
    pub status: String,
    pub next_atc: u32,
    pub provisioned_until: u32,
    pub is_default: bool,
    pub remaining: u32,
}

impl StoredToken {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(StoredToken {
            id: r.get(0)?,
            card_id: r.get(1)?,
            pan_ct: r.get(2)?,
            expiry_ct: r.get(3)?,
            psn: r.get(4)?,
            aid: r.get(5)?,
            label: r.get(6)?,
            profile: r.get(7)?,
            dki: r.get(8)?,
            status: r.get(9)?,
            next_atc: r.get(10)?,
            provisioned_until: r.get(11)?,
            is_default: r.get(12)?,
            remaining: r.get(13)?,
        })
    }

    fn key_status(&self) -> TokenKeyStatus {
        TokenKeyStatus {
            token_id: self.id.clone(),
            card_id: self.card_id.clone(),
            remaining: self.remaining,
            next_atc: self.next_atc,
            provisioned_until: self.provisioned_until,
            low: self.remaining < KEY_LOW_WATER,
        }
    }

    fn open_pan(&self, keys: &Keys) -> Result<Zeroizing<String>> {
        let pan = keys
            .field()
            .open_string(token_at("pan", &self.id), &self.pan_ct)?;
        if !(12..=19).contains(&pan.len()) || !pan.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::Corrupt("a stored token number is malformed"));
        }
        Ok(pan)
    }

    fn info(&self, keys: &Keys) -> Result<TokenInfo> {
        let pan = self.open_pan(keys)?;
        let expiry = keys
            .field()
            .open_string(token_at("expiry", &self.id), &self.expiry_ct)?;
        Ok(TokenInfo {
            token_id: self.id.clone(),
            card_id: self.card_id.clone(),
            masked_pan: mask_digits(&pan),
            last4: pan[pan.len() - 4..].to_string(),
            psn: self.psn,
            expiry: expiry.to_string(),
            aid: self.aid.clone(),
            label: self.label.clone(),
            profile: profile_from(&self.profile)?,
            dki: self.dki,
            status: self.status.clone(),
            is_default_card: self.is_default,
            keys: self.key_status(),
        })
    }

    /// The token as the card application presents it (with its PAN).
    pub(crate) fn to_emv(&self, keys: &Keys) -> Result<Token> {
        let pan = self.open_pan(keys)?;
        let expiry = keys
            .field()
            .open_string(token_at("expiry", &self.id), &self.expiry_ct)?;
        let expiry = TokenExpiry::parse_yymmdd(&expiry)
            .map_err(|_| Error::Corrupt("a stored token expiry is malformed"))?;
        let aid = hex::decode(&self.aid)
            .map_err(|_| Error::Corrupt("a stored token AID is malformed"))?;
        Token::new(
            self.id.clone(),
            aid,
            self.label.clone(),
            pan.as_str(),
            self.psn,
            expiry,
            profile_from(&self.profile)?,
            self.dki,
        )
        .map_err(|_| Error::Corrupt("a stored token is malformed"))
    }
}

impl Wallet {
    /// Asks `service` for a token for the card and stores it with its
    /// first key batch, replacing the card's earlier token (and its keys).
    pub fn provision_token(&self, card_id: &str, service: &dyn TokenService) -> Result<TokenInfo> {
        let keys = self.keys()?;
        let (funding_pan, funding_expiry) = self.card_secrets(&keys, card_id)?;
        let min_first_atc = {
            let conn = self.conn();
            let next: Option<u32> = conn
                .query_row(
                    "SELECT next_atc FROM tokens WHERE card_id = ?1",
                    [card_id],
                    |r| r.get(0),
                )
                .optional()?;
            next.unwrap_or(1).max(1)
        };
        let request = ProvisionRequest {
            card_id: card_id.to_string(),
            funding_pan,
            funding_expiry,
            min_first_atc,
        };
        let token = service.provision(&request)?;
        self.install_token(card_id, &token)
    }

    /// Stores a token the service issued for `card_id`, with its keys,
    /// replacing the card's earlier token. One transaction: either all of
    /// it is stored or nothing changes.
    pub fn install_token(&self, card_id: &str, token: &ProvisionedToken) -> Result<TokenInfo> {
        let keys = self.keys()?;
        check_token_id(&token.token_id)?;
        if token.keys.token_id != token.token_id {
            return Err(Error::InvalidToken("its keys belong to another token"));
        }
        let expiry = TokenExpiry::parse_yymmdd(&token.expiry).map_err(token_problem)?;
        // The card application's own checks: AID, label, PAN, PSN.
        Token::new(
            token.token_id.clone(),
            token.aid.clone(),
            token.label.clone(),
            token.pan.as_str(),
            token.psn,
            expiry,
            token.profile,
            token.dki,
        )
        .map_err(token_problem)?;
        let f = keys.field();
        let id = &token.token_id;
        let pan_ct = f.seal(token_at("pan", id), token.pan.as_bytes())?;
        let expiry_ct = f.seal(token_at("expiry", id), token.expiry.as_bytes())?;
        let first = u32::from(token.keys.first_atc);
        {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let card: Option<i64> = tx
                .query_row("SELECT 1 FROM cards WHERE id = ?1", [card_id], |r| r.get(0))
                .optional()?;
            if card.is_none() {
                return Err(Error::CardNotFound);
            }
            let other: Option<String> = tx
                .query_row(
                    "SELECT card_id FROM tokens WHERE id = ?1",
                    [id.as_str()],
                    |r| r.get(0),
                )
                .optional()?;
            if other.is_some_and(|c| c != card_id) {
                return Err(Error::InvalidToken(
                    "its id is already used by another card",
                ));
            }
            // The old token's keys go with it (ON DELETE CASCADE), and
            // secure_delete overwrites their pages.
            tx.execute("DELETE FROM tokens WHERE card_id = ?1", [card_id])?;
            tx.execute(
                "INSERT INTO tokens (id, card_id, pan_ct, expiry_ct, psn, aid, label, profile, dki,
                     status, next_atc, provisioned_until, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'active', ?10, ?10, ?11)",
                params![
                    id,
                    card_id,
                    pan_ct,
                    expiry_ct,
                    token.psn,
                    hex::encode_upper(&token.aid),
                    token.label,
                    profile_name(token.profile),
                    token.dki,
                    first,
                    self.now_ms()
                ],
            )?;
            let (_, until) = insert_keys(&tx, &keys, id, token.profile, first, &token.keys)?;
            tx.execute(
                "UPDATE tokens SET provisioned_until = ?2 WHERE id = ?1",
                params![id, until],
            )?;
            tx.commit()?;
        }
        self.token(id)
    }

    /// Stores a replenishing batch for a token. Keys for ATCs the token has
    /// already passed, or already holds, are ignored, so a batch sent twice
    /// is harmless. Returns how many keys were added.
    pub fn add_token_keys(&self, batch: &KeyBatch) -> Result<u32> {
        let keys = self.keys()?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let stored = add_keys_in(&tx, &keys, &batch.token_id, |_| Ok(batch.clone()))?;
        tx.commit()?;
        Ok(stored)
    }

    /// Every token, masked, default card's first.
    pub fn tokens(&self) -> Result<Vec<TokenInfo>> {
        let keys = self.keys()?;
        self.stored_tokens("ORDER BY c.is_default DESC, t.created_ms, t.id", [])?
            .iter()
            .map(|t| t.info(&keys))
            .collect()
    }

    pub fn token(&self, token_id: &str) -> Result<TokenInfo> {
        let keys = self.keys()?;
        self.stored_tokens("WHERE t.id = ?1", [token_id])?
            .first()
            .ok_or(Error::TokenNotFound)?
            .info(&keys)
    }

    /// The token of a card, if it has one.
    pub fn card_token(&self, card_id: &str) -> Result<Option<TokenInfo>> {
        let keys = self.keys()?;
        self.stored_tokens("WHERE t.card_id = ?1", [card_id])?
            .first()
            .map(|t| t.info(&keys))
            .transpose()
    }

    /// Keys left per token. Needs no unlocked keys: it reads counters only,
    /// so sync can report it from the background.
    pub fn token_key_status(&self) -> Result<Vec<TokenKeyStatus>> {
        Ok(self
            .stored_tokens("ORDER BY t.created_ms, t.id", [])?
            .iter()
            .map(StoredToken::key_status)
            .collect())
    }

    /// Active tokens with fewer than [`KEY_LOW_WATER`] keys left: what the
    /// next sync should ask the token service to top up.
    pub fn tokens_running_low(&self) -> Result<Vec<TokenKeyStatus>> {
        Ok(self
            .stored_tokens("WHERE t.status = 'active' ORDER BY t.created_ms, t.id", [])?
            .iter()
            .map(StoredToken::key_status)
            .filter(|s| s.low && s.next_atc < ATC_END)
            .collect())
    }

    /// Whether any token is running low (see [`Wallet::tokens_running_low`]).
    pub fn needs_replenishment(&self) -> Result<bool> {
        Ok(!self.tokens_running_low()?.is_empty())
    }

    /// Asks `service` for keys for every token running low and stores
    /// them. Returns how many keys were added in all. A failure for one
    /// token stops there; what was stored before it stays.
    pub fn replenish_tokens(&self, service: &dyn TokenService) -> Result<u32> {
        let mut added = 0;
        for status in self.tokens_running_low()? {
            if let Some(batch) = service.replenish(&status)? {
                if batch.token_id != status.token_id {
                    return Err(Error::TokenService(
                        "it sent keys for a different token".into(),
                    ));
                }
                added += self.add_token_keys(&batch)?;
            }
        }
        Ok(added)
    }

    pub(crate) fn stored_tokens<P: rusqlite::Params>(
        &self,
        tail: &str,
        p: P,
    ) -> Result<Vec<StoredToken>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!("{SELECT_TOKEN} {tail}"))?;
        let rows = stmt.query_map(p, StoredToken::from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The default card's token as the card application presents it, or
    /// `None` when there is no default card or it has no token.
    pub(crate) fn default_emv_token(&self) -> Result<Option<Token>> {
        let keys = self.keys()?;
        let row = self
            .conn()
            .prepare_cached(SELECT_TAP_TOKEN)?
            .query_row([], StoredToken::from_row)
            .optional()?;
        row.map(|t| t.to_emv(&keys)).transpose()
    }

    /// The funding card's number and expiry, for the token service.
    fn card_secrets(&self, keys: &Keys, card_id: &str) -> Result<(Zeroizing<String>, String)> {
        let row: Option<(Vec<u8>, Vec<u8>)> = self
            .conn()
            .query_row(
                "SELECT pan_ct, expiry_ct FROM cards WHERE id = ?1",
                [card_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (pan_ct, expiry_ct) = row.ok_or(Error::CardNotFound)?;
        let at = |column| FieldRef {
            table: "cards",
            column,
            row: card_id,
        };
        let f = keys.field();
        let pan = f.open_string(at("pan"), &pan_ct)?;
        let expiry = f.open_string(at("expiry"), &expiry_ct)?;
        Ok((pan, expiry.to_string()))
    }
}

impl From<TokenServiceError> for Error {
    fn from(e: TokenServiceError) -> Self {
        Error::TokenService(e.to_string())
    }
}

// --- the in-process test issuer ---------------------------------------------

/// How [`TestTokenService`] personalises the tokens it issues.
#[derive(Clone)]
pub struct TestTokenConfig {
    /// The token PAN; a random Luhn-valid number in a test range when absent.
    pub pan: Option<Zeroizing<String>>,
    pub psn: u8,
    /// `YYMMDD`.
    pub expiry: String,
    pub profile: Profile,
    pub dki: u8,
    pub aid: Vec<u8>,
    pub label: String,
    /// Keys per batch, at provisioning and at each replenishment.
    pub batch_size: u16,
    /// The first ATC of a new token (raised to the card's previous next ATC).
    pub first_atc: u16,
}

impl TestTokenConfig {
    /// A Visa-style AID and the "BILLFOLD" label, PSN 0, 3DES, DKI 1,
    /// 10 keys from ATC 1.
    pub fn new(expiry: impl Into<String>) -> Self {
        TestTokenConfig {
            pan: None,
            psn: 0,
            expiry: expiry.into(),
            profile: Profile::Tdes,
            dki: 1,
            aid: vec![0xA0, 0x00, 0x00, 0x00, 0x03, 0x10, 0x10],
            label: "BILLFOLD".into(),
            batch_size: 10,
            first_atc: 1,
        }
    }
}

impl fmt::Debug for TestTokenConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestTokenConfig")
            .field("psn", &self.psn)
            .field("profile", &self.profile)
            .field("dki", &self.dki)
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

struct Issued {
    pan: Zeroizing<String>,
    psn: u8,
    profile: Profile,
    dki: u8,
    issued_until: u32,
}

/// A token service that issues tokens in-process from a known issuer
/// master key (the same 16 bytes serve both profiles), through the EMV
/// issuer API. For development and certification labs only: whoever holds
/// the master key can derive every session key, which is exactly what a
/// lab verifying cryptograms with its own tools needs.
pub struct TestTokenService {
    issuer: Issuer,
    config: TestTokenConfig,
    issued: Mutex<HashMap<String, Issued>>,
}

impl TestTokenService {
    pub fn new(issuer_master_key: [u8; 16], config: TestTokenConfig) -> Self {
        let issuer = Issuer::new()
            .with_key(
                config.dki,
                IssuerMasterKey::new(Profile::Tdes, issuer_master_key),
            )
            .with_key(
                config.dki,
                IssuerMasterKey::new(Profile::Aes, issuer_master_key),
            );
        TestTokenService {
            issuer,
            config,
            issued: Mutex::new(HashMap::new()),
        }
    }

    /// The issuer this service derives from, to verify cryptograms.
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    fn batch(
        &self,
        token_id: &str,
        t: &Issued,
        first: u32,
        count: u32,
    ) -> std::result::Result<KeyBatch, TokenServiceError> {
        let first_atc = u16::try_from(first)
            .map_err(|_| TokenServiceError::Refused("the token has used every ATC".into()))?;
        let count = u16::try_from(count.min(ATC_END - first))
            .map_err(|_| TokenServiceError::Refused("batch too large".into()))?;
        let keys = self
            .issuer
            .session_keys(t.profile, t.dki, &t.pan, t.psn, first_atc, count)
            .map_err(|e| TokenServiceError::Refused(e.to_string()))?;
        Ok(KeyBatch {
            token_id: token_id.to_string(),
            first_atc,
            keys: keys.into_iter().map(|(_, k)| k).collect(),
        })
    }
}

fn random_digits(n: usize) -> std::result::Result<String, TokenServiceError> {
    use ring::rand::{SecureRandom, SystemRandom};
    let rng = SystemRandom::new();
    let mut out = String::with_capacity(n);
    let mut b = [0u8; 32];
    while out.len() < n {
        rng.fill(&mut b)
            .map_err(|_| TokenServiceError::Unavailable("no randomness".into()))?;
        // Bytes at or above 250 (= 25 × 10) would bias the digits: dropped.
        out.extend(
            b.iter()
                .filter(|x| **x < 250)
                .map(|x| char::from(b'0' + x % 10))
                .take(n - out.len()),
        );
    }
    Ok(out)
}

fn luhn_digit(body: &str) -> char {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

impl TokenService for TestTokenService {
    fn provision(
        &self,
        request: &ProvisionRequest,
    ) -> std::result::Result<ProvisionedToken, TokenServiceError> {
        let c = &self.config;
        let pan = match &c.pan {
            Some(p) => p.clone(),
            None => {
                // A test range (BIN 476173, as in public EMV examples).
                let body = format!("476173{}", random_digits(9)?);
                let check = luhn_digit(&body);
                Zeroizing::new(format!("{body}{check}"))
            }
        };
        let token_id = format!("test-{}", random_digits(16)?);
        let issued = Issued {
            pan: pan.clone(),
            psn: c.psn,
            profile: c.profile,
            dki: c.dki,
            issued_until: 0,
        };
        // The same PAN again continues its ATCs; a new PAN is a new card.
        let first = match c.pan {
            Some(_) => u32::from(c.first_atc).max(request.min_first_atc),
            None => u32::from(c.first_atc),
        }
        .max(1);
        let keys = self.batch(&token_id, &issued, first, u32::from(c.batch_size))?;
        let mut issued = issued;
        issued.issued_until = first + keys.keys.len() as u32;
        self.issued
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(token_id.clone(), issued);
        Ok(ProvisionedToken {
            token_id,
            pan,
            psn: c.psn,
            expiry: c.expiry.clone(),
            profile: c.profile,
            dki: c.dki,
            aid: c.aid.clone(),
            label: c.label.clone(),
            keys,
        })
    }

    fn replenish(
        &self,
        status: &TokenKeyStatus,
    ) -> std::result::Result<Option<KeyBatch>, TokenServiceError> {
        let mut issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
        let t = issued
            .get_mut(&status.token_id)
            .ok_or_else(|| TokenServiceError::Refused("unknown token".into()))?;
        let first = t.issued_until.max(status.provisioned_until);
        if first >= ATC_END {
            return Ok(None);
        }
        let batch = self.batch(
            &status.token_id,
            t,
            first,
            u32::from(self.config.batch_size),
        )?;
        t.issued_until = first + batch.keys.len() as u32;
        Ok(Some(batch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn() {
        assert_eq!(luhn_digit("411111111111111"), '1');
        assert_eq!(luhn_digit("7992739871"), '3');
        let d = random_digits(200).unwrap();
        assert!(d.bytes().all(|b| b.is_ascii_digit()));
    }

    #[test]
    fn token_ids() {
        assert!(check_token_id("tok_0123abc").is_ok());
        assert!(check_token_id("test-123:x.y").is_ok());
        assert!(check_token_id("").is_err());
        assert!(check_token_id("a b").is_err());
        assert!(check_token_id(&"a".repeat(65)).is_err());
    }
}

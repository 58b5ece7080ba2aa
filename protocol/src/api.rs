//! The JSON bodies of the bank API (`server/openapi.yaml` describes the
//! routes). Amounts are integer minor units with an ISO 4217 alpha code,
//! instants are Unix milliseconds (UTC), binary values are hex.
//!
//! Types that carry a secret (a card or token PAN, a session key) redact it
//! in their `Debug` output, so logging a request can never leak it.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::hlc::Hlc;

/// An amount in minor units of `currency` (e.g. 1234 EUR is €12.34).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub amount_minor: i64,
    pub currency: String,
}

impl Money {
    pub fn new(amount_minor: i64, currency: impl Into<String>) -> Self {
        Money {
            amount_minor,
            currency: currency.into(),
        }
    }
}

/// Every error response: `{"error":{"code":..,"message":..}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// A stable machine-readable code and a human-readable message (which
/// never contains card data or keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

/// `GET /v1/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    pub version: String,
    pub server_time_ms: i64,
}

// ---------------------------------------------------------------- enrollment

/// Who holds an enrolled key: a customer's phone, or a merchant terminal
/// (`billfold-pos`), which may only ask for authorizations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    Device,
    Terminal,
}

impl PrincipalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Device => "device",
            PrincipalKind::Terminal => "terminal",
        }
    }
}

/// `POST /v1/enroll`: registers an Ed25519 public key. Signed with that
/// key (device id [`ENROLL_DEVICE_ID`](crate::signing::ENROLL_DEVICE_ID)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    pub kind: PrincipalKind,
    /// 32 raw bytes, base64url without padding.
    pub public_key: String,
    /// A label such as "Ada's Pixel" or "Cafe Roma till 2".
    pub name: String,
    /// Joins the account that issued this code (from
    /// `POST /v1/devices/link-codes`) instead of opening a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub device_id: String,
    pub kind: PrincipalKind,
    /// The account a device belongs to; terminals have none.
    pub account: Option<AccountSummary>,
}

/// `POST /v1/devices/link-codes`: a single-use code to enroll another
/// device into the same account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkCode {
    pub code: String,
    pub expires_at_ms: i64,
}

/// `GET /v1/account`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSummary {
    pub account_id: String,
    pub currency: String,
    /// The bank's posted balance: the sum of the ledger.
    pub posted_balance: Money,
    pub created_at_ms: i64,
}

// ---------------------------------------------------------- cards and tokens

/// `POST /v1/cards` (with an `Idempotency-Key`): adds a card to the wallet
/// and provisions a payment token for it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCardRequest {
    /// The funding card number. Checked (length, Luhn) and never stored:
    /// the bank keeps its BIN and last four digits only.
    pub pan: String,
    /// `MM/YY`.
    pub expiry: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// Per-transaction limit in the account's minor units; the server's
    /// default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_minor: Option<i64>,
}

impl fmt::Debug for NewCardRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewCardRequest")
            .field("pan", &"<redacted>")
            .field("expiry", &self.expiry)
            .field("nickname", &self.nickname)
            .field("limit_minor", &self.limit_minor)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardStatus {
    Active,
    Frozen,
}

impl CardStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CardStatus::Active => "active",
            CardStatus::Frozen => "frozen",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(CardStatus::Active),
            "frozen" => Some(CardStatus::Frozen),
            _ => None,
        }
    }
}

/// A card as the bank shows it: never more than BIN and last four.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardInfo {
    pub card_id: String,
    pub status: CardStatus,
    pub bin: String,
    pub last4: String,
    /// `MM/YY`.
    pub expiry: String,
    pub nickname: Option<String>,
    /// Per-transaction limit.
    pub limit: Money,
    /// Position in the account's change feed.
    pub seq: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    Active,
    Suspended,
}

impl TokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Active => "active",
            TokenStatus::Suspended => "suspended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(TokenStatus::Active),
            "suspended" => Some(TokenStatus::Suspended),
            _ => None,
        }
    }
}

/// Which cipher a token's keys and cryptograms use (EMV CCD cryptogram
/// version 5 or 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CryptoProfile {
    Aes,
    Tdes,
}

impl CryptoProfile {
    pub fn as_str(self) -> &'static str {
        match self {
            CryptoProfile::Aes => "aes",
            CryptoProfile::Tdes => "tdes",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "aes" => Some(CryptoProfile::Aes),
            "tdes" => Some(CryptoProfile::Tdes),
            _ => None,
        }
    }
}

/// A payment token as provisioned to the phone, with everything the card
/// application personalises.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub token_id: String,
    pub card_id: String,
    pub status: TokenStatus,
    /// The token PAN (digits). Secret: store it sealed, never log it.
    pub pan: String,
    /// PAN sequence number, 0 to 99.
    pub psn: u8,
    /// `YYMMDD`, as in EMV tag 5F24.
    pub expiry: String,
    pub profile: CryptoProfile,
    /// Derivation key index: which issuer master key the keys come from.
    pub dki: u8,
    /// Application identifier, hex.
    pub aid: String,
    /// Application label shown by terminals.
    pub label: String,
    /// ATCs below this have had keys issued.
    pub keys_issued_until: u32,
}

impl fmt::Debug for TokenInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let last4 = self
            .pan
            .get(self.pan.len().saturating_sub(4)..)
            .unwrap_or("");
        f.debug_struct("TokenInfo")
            .field("token_id", &self.token_id)
            .field("card_id", &self.card_id)
            .field("status", &self.status)
            .field("pan", &format_args!("…{last4}"))
            .field("profile", &self.profile)
            .field("keys_issued_until", &self.keys_issued_until)
            .finish_non_exhaustive()
    }
}

/// One single-use session key for one ATC.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionKeyMaterial {
    pub atc: u16,
    /// 16 key bytes, hex. Secret.
    pub key: String,
}

impl fmt::Debug for SessionKeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionKeyMaterial(atc {}, <redacted>)", self.atc)
    }
}

/// Single-use session keys for consecutive ATCs of one token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyBatch {
    pub token_id: String,
    /// The ATC of the first key; the keys are for consecutive ATCs.
    pub first_atc: u16,
    pub keys: Vec<SessionKeyMaterial>,
    /// The token's issued range now ends here (exclusive): the device
    /// reports it back as `provisioned_until` once stored.
    pub issued_until: u32,
}

/// What a device holds for one token, so the bank can top it up.
///
/// The server re-sends any issued range above `provisioned_until` (a batch
/// whose response was lost), and issues a new batch when `remaining` is
/// below its low-water mark. Both are safe to repeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyStatus {
    pub token_id: String,
    /// Unused keys left on the device.
    pub remaining: u32,
    /// The device holds keys for ATCs below this (exclusive).
    pub provisioned_until: u32,
}

/// `POST /v1/tokens/{token_id}/keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRequest {
    pub remaining: u32,
    pub provisioned_until: u32,
}

/// `POST /v1/cards`: the card, its token and the first key batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionedCard {
    pub card: CardInfo,
    pub token: TokenInfo,
    pub key_batch: KeyBatch,
}

/// `POST /v1/cards/{card_id}/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardStatusRequest {
    pub status: CardStatus,
}

/// `GET /v1/cards`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardList {
    pub cards: Vec<CardInfo>,
    pub tokens: Vec<TokenState>,
}

/// A token's state without its secrets, as the sync feed carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenState {
    pub token_id: String,
    pub card_id: String,
    pub status: TokenStatus,
    pub keys_issued_until: u32,
    pub seq: u64,
}

// ------------------------------------------------------------------ payments

/// The merchant, as the QR code or the terminal described it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Merchant {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// ISO 3166 alpha-2 or numeric code, as the source gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcc: Option<u16>,
}

/// `POST /v1/payments/qr` (with an `Idempotency-Key`), or a `qr_payment`
/// outbox operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QrPaymentRequest {
    /// The card paying; it must be active. Absent: the account pays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    /// The amount before tip, in the account's currency.
    pub amount: Money,
    /// Tip or convenience fee in the same currency's minor units.
    #[serde(default)]
    pub tip_minor: i64,
    pub merchant: Merchant,
    /// The scheme (e.g. "pix", "promptpay") and payee identifier from the
    /// code, for the bank's routing and records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payee: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Approved,
    Declined,
}

/// Why the bank declined a payment or an authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeclineReason {
    UnknownCard,
    CryptogramInvalid,
    ReplayedAtc,
    CardFrozen,
    TokenInactive,
    CurrencyNotSupported,
    LimitExceeded,
    InsufficientFunds,
    TransactionNotSupported,
    /// The card itself declined (it returned an AAC, not an ARQC).
    CardDeclined,
    BadTransactionData,
}

impl DeclineReason {
    /// The ISO 8583 response code sent back to the terminal (and MACed
    /// into the ARPC).
    pub fn response_code(self) -> &'static str {
        match self {
            DeclineReason::UnknownCard => "14",
            DeclineReason::CryptogramInvalid | DeclineReason::ReplayedAtc => "63",
            DeclineReason::CardFrozen | DeclineReason::TokenInactive => "62",
            DeclineReason::CurrencyNotSupported | DeclineReason::TransactionNotSupported => "57",
            DeclineReason::LimitExceeded => "61",
            DeclineReason::InsufficientFunds => "51",
            DeclineReason::CardDeclined => "05",
            DeclineReason::BadTransactionData => "30",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeclineReason::UnknownCard => "unknown_card",
            DeclineReason::CryptogramInvalid => "cryptogram_invalid",
            DeclineReason::ReplayedAtc => "replayed_atc",
            DeclineReason::CardFrozen => "card_frozen",
            DeclineReason::TokenInactive => "token_inactive",
            DeclineReason::CurrencyNotSupported => "currency_not_supported",
            DeclineReason::LimitExceeded => "limit_exceeded",
            DeclineReason::InsufficientFunds => "insufficient_funds",
            DeclineReason::TransactionNotSupported => "transaction_not_supported",
            DeclineReason::CardDeclined => "card_declined",
            DeclineReason::BadTransactionData => "bad_transaction_data",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        use DeclineReason::*;
        [
            UnknownCard,
            CryptogramInvalid,
            ReplayedAtc,
            CardFrozen,
            TokenInactive,
            CurrencyNotSupported,
            LimitExceeded,
            InsufficientFunds,
            TransactionNotSupported,
            CardDeclined,
            BadTransactionData,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// The outcome of a QR payment. Declines are outcomes, not errors: they
/// are remembered under the idempotency key like approvals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentResult {
    pub payment_id: String,
    pub status: PaymentStatus,
    pub decline_reason: Option<DeclineReason>,
    /// Amount plus tip.
    pub total: Money,
    /// The posted ledger entry when approved.
    pub entry: Option<LedgerEntry>,
}

// ------------------------------------------------------------- authorization

/// The cryptogram kind in the Cryptogram Information Data (9F27).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CryptogramKind {
    Arqc,
    Aac,
    Tc,
}

/// Everything the card's application cryptogram covers, as the terminal
/// read it (all binary fields hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cryptogram {
    pub kind: CryptogramKind,
    /// Application Transaction Counter (9F36).
    pub atc: u16,
    /// Application Interchange Profile (82), 2 bytes.
    pub aip: String,
    /// The CDOL1 data the terminal sent in GENERATE AC: amount, currency,
    /// country, TVR, date, type, unpredictable number, MCC, merchant name.
    /// The bank takes the transaction's details from here, since the ARQC
    /// authenticates them.
    pub cdol1_data: String,
    /// Issuer Application Data (9F10).
    pub iad: String,
    /// The application cryptogram (9F26), 8 bytes.
    pub ac: String,
}

/// `POST /v1/authorizations` from a terminal (optionally with an
/// `Idempotency-Key`, so a retry after a timeout gets the same answer).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    /// The token PAN the terminal read (5A or track 2). Secret.
    pub pan: String,
    /// PAN sequence number (5F34), when the card has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psn: Option<u8>,
    pub cryptogram: Cryptogram,
}

impl fmt::Debug for AuthorizationRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationRequest")
            .field("pan", &"<redacted>")
            .field("psn", &self.psn)
            .field("cryptogram", &self.cryptogram)
            .finish()
    }
}

/// The issuer's answer to a tap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationResult {
    /// Present when the ARQC verified (approved or declined by the bank).
    pub authorization_id: Option<String>,
    pub approved: bool,
    /// ISO 8583 response code: "00" approved.
    pub response_code: String,
    pub decline_reason: Option<DeclineReason>,
    /// ARPC (method 1) over the ARQC and response code, hex; present
    /// whenever the ARQC verified, so the card can authenticate the answer.
    pub arpc: Option<String>,
    pub atc: u16,
    /// The amount authorised, as the cryptogram's CDOL1 data gave it.
    pub amount: Option<Money>,
    /// The terminal's merchant data from CDOL1.
    pub merchant: Option<Merchant>,
    /// The ledger entry posted for an approval. Only a device's own tap
    /// report gets it back; terminals see `None`.
    pub entry_id: Option<String>,
}

// -------------------------------------------------------------------- ledger

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    OpeningBalance,
    CardPayment,
    QrPayment,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::OpeningBalance => "opening_balance",
            EntryKind::CardPayment => "card_payment",
            EntryKind::QrPayment => "qr_payment",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "opening_balance" => Some(EntryKind::OpeningBalance),
            "card_payment" => Some(EntryKind::CardPayment),
            "qr_payment" => Some(EntryKind::QrPayment),
            _ => None,
        }
    }
}

/// A posted ledger entry. The bank orders them (`seq`); the phone never
/// merges them, it only replaces its pending entries with them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub entry_id: String,
    /// Position in the account's change feed.
    pub seq: u64,
    pub kind: EntryKind,
    /// Signed: debits are negative.
    pub amount: Money,
    pub description: String,
    pub merchant: Option<Merchant>,
    pub card_id: Option<String>,
    pub token_id: Option<String>,
    /// For card payments: the ATC, so the phone can match its pending tap.
    pub atc: Option<u16>,
    /// The idempotency key of the operation it belongs to, so the phone
    /// can match its pending payment: the QR payment's own key, or for a
    /// card payment the key of the phone's tap report when the bank had
    /// one before the terminal's authorization posted it.
    pub origin_key: Option<String>,
    pub authorization_id: Option<String>,
    pub booked_at_ms: i64,
}

// ---------------------------------------------------------------------- sync

/// `POST /v1/sync`: push the outbox, pull everything after `cursor`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SyncRequest {
    /// The `cursor` of the last pull applied; 0 the first time.
    pub cursor: u64,
    #[serde(default)]
    pub ops: Vec<OutboxOp>,
    #[serde(default)]
    pub key_status: Vec<KeyStatus>,
    /// Most items of each kind to pull (the server caps it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// One outbox operation. Applied exactly once per idempotency key, however
/// often it is sent; the same key with a different operation is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxOp {
    /// 1 to 128 of `[A-Za-z0-9_.:-]`, unique per account.
    pub idempotency_key: String,
    pub op: Op,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Op {
    /// A tap the phone made: a report, never a charge. Only the terminal's
    /// authorization (`POST /v1/authorizations`) charges; see
    /// [`TapOutcome`].
    Tap(TapRecord),
    QrPayment(QrPaymentRequest),
    /// Per-field last-writer-wins edits of a budget, category or note.
    RecordUpdate(RecordUpdate),
    /// This device sent a budget alert (a grow-only set across devices).
    AlertSent(AlertKey),
    CardStatus(CardStatusChange),
}

impl Op {
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Tap(_) => "tap",
            Op::QrPayment(_) => "qr_payment",
            Op::RecordUpdate(_) => "record_update",
            Op::AlertSent(_) => "alert_sent",
            Op::CardStatus(_) => "card_status",
        }
    }
}

/// The phone's record of a tap, written in the same commit that used the
/// single-use key, before the answer left the phone. The terminal may never
/// have received it (the NFC link dropped), so the bank treats it as a
/// report: it links it to the terminal's authorization of the same (token,
/// ATC), now or when that arrives, and never posts on it alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TapRecord {
    pub token_id: String,
    pub cryptogram: Cryptogram,
}

/// The user-editable collections that sync merges per field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Collection {
    Budgets,
    Categories,
    Notes,
}

impl Collection {
    pub fn as_str(self) -> &'static str {
        match self {
            Collection::Budgets => "budgets",
            Collection::Categories => "categories",
            Collection::Notes => "notes",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "budgets" => Some(Collection::Budgets),
            "categories" => Some(Collection::Categories),
            "notes" => Some(Collection::Notes),
            _ => None,
        }
    }
}

/// The field whose value `true` marks a record deleted. It merges like any
/// other field, so a delete and a later edit resolve by HLC everywhere.
pub const TOMBSTONE_FIELD: &str = "_deleted";

/// A write of some fields of one record, each stamped with its HLC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordUpdate {
    pub collection: Collection,
    pub record_id: String,
    pub fields: BTreeMap<String, FieldWrite>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldWrite {
    pub value: serde_json::Value,
    pub hlc: Hlc,
}

/// One (budget, period, threshold) alert.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AlertKey {
    pub budget_id: String,
    /// The budget period, e.g. "2026-03" or "2026-03-02/2026-03-15".
    pub period: String,
    /// Percent of the budget, e.g. 80; or a forecast marker chosen by the
    /// client.
    pub threshold: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardStatusChange {
    pub card_id: String,
    pub status: CardStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpStatus {
    /// Applied by this request.
    Applied,
    /// Applied by an earlier request; `outcome` is the one recorded then.
    Duplicate,
    /// Refused (bad input, unknown card, key reused for a different
    /// operation): the client should drop it and surface `error`.
    Rejected,
}

/// What an operation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OpOutcome {
    Tap(TapOutcome),
    QrPayment(PaymentResult),
    RecordUpdate(RecordUpdateResult),
    AlertSent(AlertSentResult),
    CardStatus(CardInfo),
}

/// What the bank made of a phone's tap report (`OpOutcome::Tap`), tagged
/// by `state` next to the outcome's `type`:
/// `{"type":"tap","state":"decided",...AuthorizationResult}` or
/// `{"type":"tap","state":"awaiting_terminal","token_id":..,"atc":..,
/// "origin_key":..,"reported_at_ms":..}`.
///
/// The report never charges. Like an issuer, the bank charges only on the
/// terminal's authorization: a phone can record a tap whose answer never
/// reached the terminal (the NFC link dropped after the key-use commit),
/// and then the merchant never completed the sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TapOutcome {
    /// The bank has decided on this (token, ATC), and this is its answer.
    /// Usually the terminal's authorization, the very result the terminal
    /// got, with `entry_id` when it posted: the phone replaces its pending
    /// hold with that entry. Or a refusal of the report itself, without
    /// `authorization_id` (a cryptogram that does not verify, an ATC the
    /// bank can no longer accept, a card decline): no terminal can be
    /// charged for it, so the phone drops its hold.
    Decided(AuthorizationResult),
    /// No terminal has asked for this tap yet. The report is kept, nothing
    /// is posted and the ATC is not spent. Keep the pending hold: when the
    /// terminal's authorization arrives (online late, or deferred from its
    /// offline queue), the posted entry comes through the feed with
    /// `origin_key` set to [`TapAwaiting::origin_key`], and `token_id` and
    /// `atc`. A terminal decline posts nothing.
    AwaitingTerminal(TapAwaiting),
}

/// A tap report the bank holds until the terminal's authorization arrives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TapAwaiting {
    pub token_id: String,
    pub atc: u16,
    /// The idempotency key the eventual ledger entry carries as its
    /// `origin_key`: this operation's, or that of an earlier report of the
    /// same tap.
    pub origin_key: String,
    /// When the bank first received the report.
    pub reported_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordUpdateResult {
    /// Fields that won (newer than what the bank had).
    pub applied: Vec<String>,
    /// Fields the bank already had a newer write for; the winner comes
    /// back in the pull.
    pub superseded: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertSentResult {
    /// True when this device was the first to report the alert.
    pub first: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpResult {
    pub idempotency_key: String,
    pub status: OpStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<OpOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}

/// One field's current winning value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub collection: Collection,
    pub record_id: String,
    pub field: String,
    pub value: serde_json::Value,
    pub hlc: Hlc,
    pub seq: u64,
}

/// A member of the account's alerts-sent set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRecord {
    pub alert: AlertKey,
    pub device_id: String,
    pub sent_at_ms: i64,
    pub seq: u64,
}

/// The pull. Apply it in one transaction, then store `cursor`; when
/// `has_more`, sync again straight away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncResponse {
    /// One per pushed operation, in order.
    pub results: Vec<OpResult>,
    pub ledger: Vec<LedgerEntry>,
    /// Budget, category and note fields written by other devices.
    pub records: Vec<FieldChange>,
    pub alerts: Vec<AlertRecord>,
    pub cards: Vec<CardInfo>,
    pub tokens: Vec<TokenState>,
    /// Keys issued (or re-sent) in answer to `key_status`.
    pub key_batches: Vec<KeyBatch>,
    pub cursor: u64,
    pub has_more: bool,
    pub posted_balance: Money,
    pub server_time_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decided() -> OpOutcome {
        OpOutcome::Tap(TapOutcome::Decided(AuthorizationResult {
            authorization_id: Some("auth_1".into()),
            approved: true,
            response_code: "00".into(),
            decline_reason: None,
            arpc: Some("0102030405060708".into()),
            atc: 7,
            amount: Some(Money::new(1234, "EUR")),
            merchant: None,
            entry_id: Some("ent_1".into()),
        }))
    }

    /// The tap outcome's wire shape: both tags side by side, the result's
    /// fields beside them, and a round trip through JSON.
    #[test]
    fn tap_outcomes_on_the_wire() {
        let awaiting = OpOutcome::Tap(TapOutcome::AwaitingTerminal(TapAwaiting {
            token_id: "tok_1".into(),
            atc: 7,
            origin_key: "tap:tok_1:7".into(),
            reported_at_ms: 1_700_000_000_000,
        }));
        let v = serde_json::to_value(&awaiting).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "type": "tap", "state": "awaiting_terminal", "token_id": "tok_1",
                "atc": 7, "origin_key": "tap:tok_1:7", "reported_at_ms": 1_700_000_000_000i64
            })
        );
        assert_eq!(serde_json::from_value::<OpOutcome>(v).unwrap(), awaiting);

        let v = serde_json::to_value(decided()).unwrap();
        assert_eq!(v["type"], "tap");
        assert_eq!(v["state"], "decided");
        assert_eq!(v["response_code"], "00");
        assert_eq!(v["entry_id"], "ent_1");
        assert_eq!(serde_json::from_value::<OpOutcome>(v).unwrap(), decided());
    }
}

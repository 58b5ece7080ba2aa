//! Typed reads and writes of the bank's tables, shared by every handler.
//!
//! An account's feed (ledger entries, cards, tokens, user records, alerts)
//! is ordered by `seq`, taken from the account's counter while its row is
//! locked ([`lock_account`]). Writers change the [`Account`] in memory and
//! [`flush_account`] writes balance and counter back once, before commit,
//! together with the ledger entries and idempotency records still held in
//! the account (they are written many rows per statement: a 10,000-operation
//! sync would otherwise send 20,000 single-row INSERTs, which cost
//! PostgreSQL far more than the rows themselves).

use billfold_protocol::{
    AlertKey, AlertRecord, CardInfo, CardStatus, Collection, EntryKind, FieldChange, Hlc,
    LedgerEntry, Merchant, Money, TokenState, TokenStatus,
};

use crate::error::ApiError;
use crate::params;
use crate::store::{Row, StoreError, Tx, Val};

/// An account, locked for the rest of the transaction.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub currency: String,
    pub balance_minor: i64,
    pub feed_seq: i64,
    pub created_at: i64,
    dirty: bool,
    /// Ledger entries posted but not yet written (see [`flush_account`]).
    entries: Vec<Val>,
    /// Idempotency records saved but not yet written.
    ops: Vec<Val>,
}

impl Account {
    /// The next position in the feed.
    pub fn next_seq(&mut self) -> i64 {
        self.feed_seq += 1;
        self.dirty = true;
        self.feed_seq
    }

    pub fn balance(&self) -> Money {
        Money::new(self.balance_minor, self.currency.clone())
    }
}

/// Locks the account's row until commit (PostgreSQL: row lock; SQLite:
/// the transaction already holds the write lock) and reads it.
pub fn lock_account(tx: &mut dyn Tx, account_id: &str) -> Result<Account, ApiError> {
    let row = tx
        .query_opt(
            "UPDATE accounts SET feed_seq = feed_seq WHERE id = $1
             RETURNING id, currency, balance_minor, feed_seq, created_at",
            params![account_id],
        )?
        .ok_or_else(|| ApiError::not_found("unknown_account", "no such account"))?;
    Ok(Account {
        id: row.text(0)?,
        currency: row.text(1)?,
        balance_minor: row.int(2)?,
        feed_seq: row.int(3)?,
        created_at: row.int(4)?,
        dirty: false,
        entries: Vec::new(),
        ops: Vec::new(),
    })
}

/// Writes the account's held entries and idempotency records, and its
/// balance and feed counter. Call it before reading the ledger back in the
/// same transaction, and before commit.
pub fn flush_account(tx: &mut dyn Tx, account: &mut Account) -> Result<(), ApiError> {
    write_rows(tx, ENTRY_INSERT, ENTRY_PARAMS, &mut account.entries)?;
    write_rows(tx, OP_INSERT, OP_PARAMS, &mut account.ops)?;
    if account.dirty {
        tx.execute_deferred(
            "UPDATE accounts SET balance_minor = $2, feed_seq = $3 WHERE id = $1",
            params![account.id.as_str(), account.balance_minor, account.feed_seq],
        )?;
        account.dirty = false;
    }
    Ok(())
}

/// Rows per multi-row INSERT: 500 ledger entries are 8,500 parameters,
/// well within both engines' limits (SQLite 32,766; PostgreSQL 65,535).
const ROWS_PER_INSERT: usize = 500;

/// Writes the held rows (`params_per_row` values each) as INSERTs of up to
/// [`ROWS_PER_INSERT`] rows, and empties the buffer.
fn write_rows(
    tx: &mut dyn Tx,
    insert: &str,
    params_per_row: usize,
    held: &mut Vec<Val>,
) -> Result<(), ApiError> {
    for chunk in held.chunks(params_per_row * ROWS_PER_INSERT) {
        let rows = chunk.len() / params_per_row;
        let mut sql = String::with_capacity(insert.len() + rows * params_per_row * 6);
        sql.push_str(insert);
        for r in 0..rows {
            sql.push_str(if r == 0 { " (" } else { ", (" });
            for c in 0..params_per_row {
                if c > 0 {
                    sql.push_str(", ");
                }
                sql.push('$');
                sql.push_str(&(r * params_per_row + c + 1).to_string());
            }
            sql.push(')');
        }
        tx.execute_deferred(&sql, chunk)?;
    }
    held.clear();
    Ok(())
}

/// Holds one row for a multi-row INSERT, writing a full batch at once.
fn hold_row(
    tx: &mut dyn Tx,
    insert: &str,
    row: &[Val],
    held: &mut Vec<Val>,
) -> Result<(), ApiError> {
    held.extend_from_slice(row);
    if held.len() >= row.len() * ROWS_PER_INSERT {
        write_rows(tx, insert, row.len(), held)?;
    }
    Ok(())
}

// ------------------------------------------------------------- idempotency

/// What the bank already knows about an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prior {
    /// Never seen.
    New,
    /// Seen with the same request: here is the recorded outcome (JSON).
    Same(String),
    /// Seen with a different request.
    Conflict,
}

pub fn find_op(
    tx: &mut dyn Tx,
    scope: &str,
    key: &str,
    request_hash: &[u8],
) -> Result<Prior, ApiError> {
    let row = tx.query_opt(
        "SELECT request_hash, outcome FROM operations WHERE scope = $1 AND idempotency_key = $2",
        params![scope, key],
    )?;
    Ok(match row {
        None => Prior::New,
        Some(r) if r.bytes(0)? == request_hash => Prior::Same(r.text(1)?),
        Some(_) => Prior::Conflict,
    })
}

const OP_INSERT: &str =
    "INSERT INTO operations (scope, idempotency_key, kind, request_hash, outcome, created_at) VALUES";
const OP_PARAMS: usize = 6;

/// Records an operation's outcome for the (locked) account, written with
/// the account at [`flush_account`].
pub fn hold_op(
    tx: &mut dyn Tx,
    account: &mut Account,
    key: &str,
    kind: &str,
    request_hash: &[u8],
    outcome_json: &str,
    now: i64,
) -> Result<(), ApiError> {
    let row = params![
        account.id.as_str(),
        key,
        kind,
        request_hash,
        outcome_json,
        now
    ];
    hold_row(tx, OP_INSERT, row, &mut account.ops)
}

pub fn save_op(
    tx: &mut dyn Tx,
    scope: &str,
    key: &str,
    kind: &str,
    request_hash: &[u8],
    outcome_json: &str,
    now: i64,
) -> Result<(), ApiError> {
    tx.execute_deferred(
        "INSERT INTO operations (scope, idempotency_key, kind, request_hash, outcome, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        params![scope, key, kind, request_hash, outcome_json, now],
    )?;
    Ok(())
}

/// Whether `key` is a usable idempotency key: 1 to 128 of `[A-Za-z0-9_.:-]`.
pub fn valid_idempotency_key(key: &str) -> bool {
    (1..=128).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'))
}

// ------------------------------------------------------------------ ledger

/// A ledger entry about to be posted.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub id: String,
    pub kind: EntryKind,
    /// Signed minor units: debits negative.
    pub amount_minor: i64,
    pub description: String,
    pub merchant: Option<Merchant>,
    pub card_id: Option<String>,
    pub token_id: Option<String>,
    pub atc: Option<u16>,
    pub origin_key: Option<String>,
    pub authorization_id: Option<String>,
}

const ENTRY_INSERT: &str =
    "INSERT INTO ledger_entries (id, account_id, seq, kind, amount_minor, currency, description,
         merchant_name, merchant_city, merchant_country, mcc, card_id, token_id, atc, origin_key,
         authorization_id, booked_at) VALUES";
const ENTRY_PARAMS: usize = 17;

/// Posts an entry in the account's currency and moves its balance. The row
/// is written with the account at [`flush_account`].
pub fn post_entry(
    tx: &mut dyn Tx,
    account: &mut Account,
    e: NewEntry,
    now: i64,
) -> Result<LedgerEntry, ApiError> {
    let balance = account
        .balance_minor
        .checked_add(e.amount_minor)
        .ok_or_else(|| {
            ApiError::unprocessable("amount_out_of_range", "the amount is out of range")
        })?;
    let seq = account.next_seq();
    account.balance_minor = balance;
    let m = e.merchant.clone();
    hold_row(
        tx,
        ENTRY_INSERT,
        params![
            e.id.as_str(),
            account.id.as_str(),
            seq,
            e.kind.as_str(),
            e.amount_minor,
            account.currency.as_str(),
            e.description.as_str(),
            m.as_ref().map(|m| m.name.clone()),
            m.as_ref().and_then(|m| m.city.clone()),
            m.as_ref().and_then(|m| m.country.clone()),
            m.as_ref().and_then(|m| m.mcc),
            e.card_id.clone(),
            e.token_id.clone(),
            e.atc,
            e.origin_key.clone(),
            e.authorization_id.clone(),
            now,
        ],
        &mut account.entries,
    )?;
    Ok(LedgerEntry {
        entry_id: e.id,
        seq: seq as u64,
        kind: e.kind,
        amount: Money::new(e.amount_minor, account.currency.clone()),
        description: e.description,
        merchant: e.merchant,
        card_id: e.card_id,
        token_id: e.token_id,
        atc: e.atc,
        origin_key: e.origin_key,
        authorization_id: e.authorization_id,
        booked_at_ms: now,
    })
}

const ENTRY_COLS: &str =
    "id, seq, kind, amount_minor, currency, description, merchant_name, merchant_city,
    merchant_country, mcc, card_id, token_id, atc, origin_key, authorization_id, booked_at";

fn entry_from_row(r: &Row) -> Result<LedgerEntry, StoreError> {
    let merchant = r.opt_text(6)?.map(|name| -> Result<Merchant, StoreError> {
        Ok(Merchant {
            name,
            city: r.opt_text(7)?,
            country: r.opt_text(8)?,
            mcc: r.opt_int(9)?.and_then(|v| u16::try_from(v).ok()),
        })
    });
    Ok(LedgerEntry {
        entry_id: r.text(0)?,
        seq: r.int(1)? as u64,
        kind: EntryKind::parse(&r.text(2)?).ok_or(StoreError::Decode("unknown entry kind"))?,
        amount: Money::new(r.int(3)?, r.text(4)?),
        description: r.text(5)?,
        merchant: merchant.transpose()?,
        card_id: r.opt_text(10)?,
        token_id: r.opt_text(11)?,
        atc: r.opt_int(12)?.and_then(|v| u16::try_from(v).ok()),
        origin_key: r.opt_text(13)?,
        authorization_id: r.opt_text(14)?,
        booked_at_ms: r.int(15)?,
    })
}

pub fn entries_after(
    tx: &mut dyn Tx,
    account_id: &str,
    cursor: i64,
    limit: i64,
) -> Result<Vec<LedgerEntry>, ApiError> {
    let rows = tx.query(
        &format!("SELECT {ENTRY_COLS} FROM ledger_entries WHERE account_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"),
        params![account_id, cursor, limit],
    )?;
    Ok(rows.iter().map(entry_from_row).collect::<Result<_, _>>()?)
}

pub fn entry_by_id(tx: &mut dyn Tx, entry_id: &str) -> Result<Option<LedgerEntry>, ApiError> {
    let row = tx.query_opt(
        &format!("SELECT {ENTRY_COLS} FROM ledger_entries WHERE id = $1"),
        params![entry_id],
    )?;
    Ok(row.as_ref().map(entry_from_row).transpose()?)
}

// ------------------------------------------------------------------- cards

const CARD_COLS: &str =
    "c.id, c.status, c.bin, c.last4, c.expiry, c.nickname, c.limit_minor, c.seq, a.currency";

fn card_from_row(r: &Row) -> Result<CardInfo, StoreError> {
    Ok(CardInfo {
        card_id: r.text(0)?,
        status: CardStatus::parse(&r.text(1)?).ok_or(StoreError::Decode("unknown card status"))?,
        bin: r.text(2)?,
        last4: r.text(3)?,
        expiry: r.text(4)?,
        nickname: r.opt_text(5)?,
        limit: Money::new(r.int(6)?, r.text(8)?),
        seq: r.int(7)? as u64,
    })
}

/// A card of this account.
pub fn card(
    tx: &mut dyn Tx,
    account_id: &str,
    card_id: &str,
) -> Result<Option<CardInfo>, ApiError> {
    let row = tx.query_opt(
        &format!("SELECT {CARD_COLS} FROM cards c JOIN accounts a ON a.id = c.account_id WHERE c.account_id = $1 AND c.id = $2"),
        params![account_id, card_id],
    )?;
    Ok(row.as_ref().map(card_from_row).transpose()?)
}

pub fn cards_after(
    tx: &mut dyn Tx,
    account_id: &str,
    cursor: i64,
    limit: i64,
) -> Result<Vec<CardInfo>, ApiError> {
    let rows = tx.query(
        &format!(
            "SELECT {CARD_COLS} FROM cards c JOIN accounts a ON a.id = c.account_id
             WHERE c.account_id = $1 AND c.seq > $2 ORDER BY c.seq LIMIT $3"
        ),
        params![account_id, cursor, limit],
    )?;
    Ok(rows.iter().map(card_from_row).collect::<Result<_, _>>()?)
}

/// Sets a card's status; a change moves it up the feed.
pub fn set_card_status(
    tx: &mut dyn Tx,
    account: &mut Account,
    card_id: &str,
    status: CardStatus,
) -> Result<CardInfo, ApiError> {
    let mut card = card(tx, &account.id, card_id)?
        .ok_or_else(|| ApiError::not_found("unknown_card", "no such card in this account"))?;
    if card.status != status {
        let seq = account.next_seq();
        tx.execute_deferred(
            "UPDATE cards SET status = $2, seq = $3 WHERE id = $1",
            params![card_id, status.as_str(), seq],
        )?;
        card.status = status;
        card.seq = seq as u64;
    }
    Ok(card)
}

// ------------------------------------------------------------------ tokens

/// A token with everything the issuer needs. Holds the token PAN: never
/// log it (its Debug shows the last four digits only).
#[derive(Clone)]
pub struct TokenRow {
    pub id: String,
    pub card_id: String,
    pub account_id: String,
    pub device_id: String,
    pub pan: String,
    pub psn: u8,
    pub expiry: String,
    pub profile: String,
    pub dki: u8,
    pub aid: String,
    pub label: String,
    pub status: TokenStatus,
    pub keys_issued_until: u32,
    pub atc_record: Vec<u8>,
    pub seq: i64,
}

impl std::fmt::Debug for TokenRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let last4 = self
            .pan
            .get(self.pan.len().saturating_sub(4)..)
            .unwrap_or("");
        f.debug_struct("TokenRow")
            .field("id", &self.id)
            .field("pan", &format_args!("…{last4}"))
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

const TOKEN_COLS: &str =
    "id, card_id, account_id, device_id, pan, psn, expiry, profile, dki, aid, label, status,
    keys_issued_until, atc_record, seq";

fn token_from_row(r: &Row) -> Result<TokenRow, StoreError> {
    let small = |v: i64| u8::try_from(v).map_err(|_| StoreError::Decode("value out of range"));
    Ok(TokenRow {
        id: r.text(0)?,
        card_id: r.text(1)?,
        account_id: r.text(2)?,
        device_id: r.text(3)?,
        pan: r.text(4)?,
        psn: small(r.int(5)?)?,
        expiry: r.text(6)?,
        profile: r.text(7)?,
        dki: small(r.int(8)?)?,
        aid: r.text(9)?,
        label: r.text(10)?,
        status: TokenStatus::parse(&r.text(11)?)
            .ok_or(StoreError::Decode("unknown token status"))?,
        keys_issued_until: u32::try_from(r.int(12)?)
            .map_err(|_| StoreError::Decode("value out of range"))?,
        atc_record: r.bytes(13)?,
        seq: r.int(14)?,
    })
}

pub fn token_by_id(tx: &mut dyn Tx, token_id: &str) -> Result<Option<TokenRow>, ApiError> {
    let row = tx.query_opt(
        &format!("SELECT {TOKEN_COLS} FROM tokens WHERE id = $1"),
        params![token_id],
    )?;
    Ok(row.as_ref().map(token_from_row).transpose()?)
}

pub fn token_by_pan(tx: &mut dyn Tx, pan: &str) -> Result<Option<TokenRow>, ApiError> {
    let row = tx.query_opt(
        &format!("SELECT {TOKEN_COLS} FROM tokens WHERE pan = $1"),
        params![pan],
    )?;
    Ok(row.as_ref().map(token_from_row).transpose()?)
}

pub fn token_state(t: &TokenRow) -> TokenState {
    TokenState {
        token_id: t.id.clone(),
        card_id: t.card_id.clone(),
        status: t.status,
        keys_issued_until: t.keys_issued_until,
        seq: t.seq as u64,
    }
}

pub fn tokens_after(
    tx: &mut dyn Tx,
    account_id: &str,
    cursor: i64,
    limit: i64,
) -> Result<Vec<TokenState>, ApiError> {
    let rows = tx.query(
        &format!("SELECT {TOKEN_COLS} FROM tokens WHERE account_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"),
        params![account_id, cursor, limit],
    )?;
    Ok(rows
        .iter()
        .map(|r| token_from_row(r).map(|t| token_state(&t)))
        .collect::<Result<_, _>>()?)
}

// ---------------------------------------------------- records and alerts

pub fn records_after(
    tx: &mut dyn Tx,
    account_id: &str,
    exclude_origin: &str,
    cursor: i64,
    limit: i64,
) -> Result<Vec<FieldChange>, ApiError> {
    let rows = tx.query(
        "SELECT collection, record_id, field, value, hlc_wall, hlc_counter, hlc_node, seq FROM records
         WHERE account_id = $1 AND seq > $2 AND origin <> $3 ORDER BY seq LIMIT $4",
        params![account_id, cursor, exclude_origin, limit],
    )?;
    rows.iter()
        .map(|r| -> Result<FieldChange, ApiError> {
            Ok(FieldChange {
                collection: Collection::parse(&r.text(0)?)
                    .ok_or(StoreError::Decode("unknown collection"))?,
                record_id: r.text(1)?,
                field: r.text(2)?,
                value: serde_json::from_str(&r.text(3)?)
                    .map_err(|_| StoreError::Decode("stored value is not JSON"))?,
                hlc: Hlc::new(r.int(4)? as u64, r.int(5)? as u32, r.text(6)?),
                seq: r.int(7)? as u64,
            })
        })
        .collect()
}

pub fn alerts_after(
    tx: &mut dyn Tx,
    account_id: &str,
    cursor: i64,
    limit: i64,
) -> Result<Vec<AlertRecord>, ApiError> {
    let rows = tx.query(
        "SELECT budget_id, period, threshold, device_id, sent_at, seq FROM alerts_sent
         WHERE account_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        params![account_id, cursor, limit],
    )?;
    rows.iter()
        .map(|r| -> Result<AlertRecord, ApiError> {
            Ok(AlertRecord {
                alert: AlertKey {
                    budget_id: r.text(0)?,
                    period: r.text(1)?,
                    threshold: u16::try_from(r.int(2)?)
                        .map_err(|_| StoreError::Decode("threshold out of range"))?,
                },
                device_id: r.text(3)?,
                sent_at_ms: r.int(4)?,
                seq: r.int(5)? as u64,
            })
        })
        .collect()
}

//! The wallet's cards: add, list (masked), freeze, remove, and the default
//! card for tapping.
//!
//! The card number, expiry and cardholder name are each sealed in their own
//! column; duplicates are found through a keyed fingerprint, never by
//! comparing plaintext. CVV and track data have no column at all.

use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

use crate::card::{mask_digits, validate_cardholder_name, validate_nickname, Expiry, Network, Pan};
use crate::error::{Error, Result};
use crate::vault::{FieldRef, Keys};
use crate::wallet::{new_id, Wallet};
use std::fmt;

/// A card as the user sees it: masked, never the full number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Card {
    pub id: String,
    pub network: Network,
    pub masked_pan: String,
    pub last4: String,
    /// MM/YY.
    pub expiry: String,
    pub cardholder_name: String,
    pub nickname: Option<String>,
    pub frozen: bool,
    pub is_default: bool,
}

/// What the user types to add a card.
#[derive(Clone)]
pub struct NewCard {
    pub pan: String,
    pub expiry: String,
    pub cardholder_name: String,
    pub nickname: Option<String>,
}

impl fmt::Debug for NewCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewCard")
            .field("pan", &"<redacted>")
            .field("expiry", &self.expiry)
            .field("nickname", &self.nickname)
            .finish_non_exhaustive()
    }
}

const TABLE: &str = "cards";

fn at<'a>(column: &'static str, row: &'a str) -> FieldRef<'a> {
    FieldRef {
        table: TABLE,
        column,
        row,
    }
}

impl Wallet {
    pub fn add_card(&self, new: &NewCard) -> Result<Card> {
        let pan = Pan::parse(&new.pan)?;
        let expiry = Expiry::parse(&new.expiry)?;
        expiry.check_current(crate::time::year_month(self.now_ms()))?;
        let name = validate_cardholder_name(&new.cardholder_name)?;
        let nickname = new.nickname.as_deref().map(validate_nickname).transpose()?;
        let keys = self.keys()?;

        let id = new_id()?;
        let fingerprint = keys.fingerprint("pan", pan.digits().as_bytes());
        let f = keys.field();
        let pan_ct = f.seal(at("pan", &id), pan.digits().as_bytes())?;
        let expiry_ct = f.seal(at("expiry", &id), expiry.to_string().as_bytes())?;
        let name_ct = f.seal(at("cardholder_name", &id), name.as_bytes())?;

        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let exists: Option<String> = tx
            .query_row(
                "SELECT id FROM cards WHERE fingerprint = ?1",
                [&fingerprint],
                |r| r.get(0),
            )
            .optional()?;
        if exists.is_some() {
            return Err(Error::DuplicateCard);
        }
        let has_default: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM cards WHERE is_default = 1)",
            [],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO cards (id, fingerprint, network, pan_ct, expiry_ct, name_ct, nickname, is_default, created_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                id,
                fingerprint,
                pan.network().as_str(),
                pan_ct,
                expiry_ct,
                name_ct,
                nickname,
                !has_default,
                self.now_ms()
            ],
        )?;
        tx.commit()?;
        Ok(Card {
            id,
            network: pan.network(),
            masked_pan: pan.masked(),
            last4: pan.last4().to_string(),
            expiry: expiry.to_string(),
            cardholder_name: name,
            nickname,
            frozen: false,
            is_default: !has_default,
        })
    }

    /// All cards, oldest first, masked.
    pub fn list_cards(&self) -> Result<Vec<Card>> {
        let keys = self.keys()?;
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!("{SELECT_CARD} ORDER BY created_ms, rowid"))?;
        let rows = stmt.query_map([], StoredCard::from_row)?;
        rows.map(|r| r?.reveal(&keys)).collect()
    }

    pub fn card(&self, id: &str) -> Result<Card> {
        let keys = self.keys()?;
        self.stored_card(id)?.reveal(&keys)
    }

    /// The card taps pay with, if any.
    pub fn default_card(&self) -> Result<Option<Card>> {
        let keys = self.keys()?;
        let conn = self.conn();
        let row = conn
            .query_row(
                &format!("{SELECT_CARD} WHERE is_default = 1"),
                [],
                StoredCard::from_row,
            )
            .optional()?;
        row.map(|c| c.reveal(&keys)).transpose()
    }

    pub fn freeze_card(&self, id: &str) -> Result<Card> {
        self.set_frozen(id, true)
    }

    pub fn unfreeze_card(&self, id: &str) -> Result<Card> {
        self.set_frozen(id, false)
    }

    /// Freezing is local at once (taps decline) and, for a card the bank
    /// knows, an outbox operation in the same transaction, so the bank
    /// declines the card's payments from any terminal too.
    fn set_frozen(&self, id: &str, frozen: bool) -> Result<Card> {
        self.keys()?;
        let now = self.now_ms();
        {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            let bank_id: Option<Option<String>> = tx
                .query_row("SELECT bank_card_id FROM cards WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .optional()?;
            let bank_id = bank_id.ok_or(Error::CardNotFound)?;
            tx.execute(
                "UPDATE cards SET frozen = ?2 WHERE id = ?1",
                params![id, frozen],
            )?;
            if let Some(bank_id) = bank_id {
                let op = billfold_protocol::Op::CardStatus(billfold_protocol::CardStatusChange {
                    card_id: bank_id.clone(),
                    status: if frozen {
                        billfold_protocol::CardStatus::Frozen
                    } else {
                        billfold_protocol::CardStatus::Active
                    },
                });
                let payload = serde_json::to_string(&op)
                    .map_err(|_| Error::Corrupt("a card operation could not be encoded"))?;
                tx.execute(
                    "INSERT INTO outbox (idempotency_key, kind, payload, created_ms)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![
                        format!("card:{bank_id}:{}", new_id()?),
                        op.kind(),
                        payload,
                        now
                    ],
                )?;
            }
            tx.commit()?;
        }
        self.card(id)
    }

    pub fn set_default_card(&self, id: &str) -> Result<Card> {
        self.keys()?;
        {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            let found: Option<i64> = tx
                .query_row("SELECT 1 FROM cards WHERE id = ?1", [id], |r| r.get(0))
                .optional()?;
            if found.is_none() {
                return Err(Error::CardNotFound);
            }
            tx.execute("UPDATE cards SET is_default = 0 WHERE is_default = 1", [])?;
            tx.execute("UPDATE cards SET is_default = 1 WHERE id = ?1", [id])?;
            tx.commit()?;
        }
        self.card(id)
    }

    /// Removes a card. If it was the default, the oldest remaining card
    /// takes its place, so tapping keeps working.
    pub fn remove_card(&self, id: &str) -> Result<()> {
        self.keys()?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let was_default: Option<bool> = tx
            .query_row("SELECT is_default FROM cards WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        let was_default = was_default.ok_or(Error::CardNotFound)?;
        tx.execute("DELETE FROM cards WHERE id = ?1", [id])?;
        if was_default {
            tx.execute(
                "UPDATE cards SET is_default = 1 WHERE id =
                   (SELECT id FROM cards ORDER BY created_ms, rowid LIMIT 1)",
                [],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn stored_card(&self, id: &str) -> Result<StoredCard> {
        self.conn()
            .query_row(
                &format!("{SELECT_CARD} WHERE id = ?1"),
                [id],
                StoredCard::from_row,
            )
            .optional()?
            .ok_or(Error::CardNotFound)
    }
}

const SELECT_CARD: &str =
    "SELECT id, network, pan_ct, expiry_ct, name_ct, nickname, frozen, is_default FROM cards";

struct StoredCard {
    id: String,
    network: String,
    pan_ct: Vec<u8>,
    expiry_ct: Vec<u8>,
    name_ct: Vec<u8>,
    nickname: Option<String>,
    frozen: bool,
    is_default: bool,
}

impl StoredCard {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(StoredCard {
            id: r.get(0)?,
            network: r.get(1)?,
            pan_ct: r.get(2)?,
            expiry_ct: r.get(3)?,
            name_ct: r.get(4)?,
            nickname: r.get(5)?,
            frozen: r.get(6)?,
            is_default: r.get(7)?,
        })
    }

    fn reveal(self, keys: &Keys) -> Result<Card> {
        let f = keys.field();
        let pan = f.open_string(at("pan", &self.id), &self.pan_ct)?;
        if pan.len() < 12 || !pan.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::Corrupt("a stored card number is malformed"));
        }
        let expiry = f.open_string(at("expiry", &self.id), &self.expiry_ct)?;
        let name = f.open_string(at("cardholder_name", &self.id), &self.name_ct)?;
        Ok(Card {
            network: Network::from_str_lossy(&self.network),
            masked_pan: mask_digits(&pan),
            last4: pan[pan.len() - 4..].to_string(),
            expiry: expiry.to_string(),
            cardholder_name: name.to_string(),
            nickname: self.nickname,
            frozen: self.frozen,
            is_default: self.is_default,
            id: self.id,
        })
    }
}

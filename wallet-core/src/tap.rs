//! Tap to pay: the glue between the platform's HCE service and the EMV card
//! application. `process_apdu` takes command bytes and returns response
//! bytes; `on_deactivated` ends the session and settles the tap into the
//! ledger.
//!
//! The one thing that must never go wrong is key use. When the terminal
//! asks for a cryptogram, the wallet — in ONE SQLite transaction, committed
//! before the key is handed to the card application — deletes the token's
//! next single-use key, advances its ATC, and records the tap (cryptogram
//! and terminal data) together with its outbox operation for the bank. With
//! WAL and `synchronous=FULL` that commit is durable, so after a crash at
//! any point a key is never used twice, ATCs only grow, and a tap that was
//! answered with an ARQC is always on record. Recording the tap in the same
//! commit keeps the critical path to a single fsync: the wallet computes
//! the cryptogram itself from the same public EMV functions the card
//! application uses, and checks afterwards that the card sent exactly that.
//!
//! The pending ledger entry (which evaluates budgets and notifies the
//! `AlertListener`) is written when the field goes away, off the path the
//! terminal waits on; taps not yet settled (a crash, a locked wallet) are
//! settled by the next `on_deactivated` or `settle_taps`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use emv::apdu::{CommandApdu, ResponseApdu, StatusWord};
use emv::card::{
    templates, CardApp, CardBackend, CompletedTap, Decline, TapOutcome, Token, TransactionData,
};
use emv::crypto::{
    application_cryptogram, arqc_input, CryptogramData, CryptogramKind, Iad, SessionKey,
};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::Serialize;

pub use emv::card::DeactivationReason;

use crate::error::{Error, Result};
use crate::ledger::{mask_card_numbers, EntryKind, PendingEntry};
use crate::money::{Currency, Money};
use crate::tokens::{key_at, key_row, profile_from};
use crate::vault::Keys;
use crate::wallet::Wallet;

/// Why a tap was declined, in terms the app can show. `code()` is stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TapDeclineReason {
    /// The wallet is locked.
    Locked,
    /// The card is frozen, or the bank suspended its token.
    CardFrozen,
    /// No single-use keys are left: the wallet must sync.
    KeysExhausted,
    /// The wallet could not safely record the key's use (storage failed).
    Unavailable,
    /// The stored keys do not fit the token.
    KeyMismatch,
    /// The terminal itself declined.
    TerminalDeclined,
    /// No default card, or the default card has no token yet.
    NoCard,
}

impl TapDeclineReason {
    pub fn code(self) -> &'static str {
        match self {
            TapDeclineReason::Locked => "locked",
            TapDeclineReason::CardFrozen => "card_frozen",
            TapDeclineReason::KeysExhausted => "keys_exhausted",
            TapDeclineReason::Unavailable => "unavailable",
            TapDeclineReason::KeyMismatch => "key_mismatch",
            TapDeclineReason::TerminalDeclined => "terminal_declined",
            TapDeclineReason::NoCard => "no_card",
        }
    }

    /// A sentence for the person holding the phone.
    pub fn message(self) -> &'static str {
        match self {
            TapDeclineReason::Locked => "Billfold is locked. Unlock it and tap again.",
            TapDeclineReason::CardFrozen => {
                "This card is frozen. Unfreeze it in Billfold to pay with it."
            }
            TapDeclineReason::KeysExhausted => {
                "This card has no payment keys left. Connect to the internet so Billfold can \
                 fetch more, then tap again."
            }
            TapDeclineReason::Unavailable => {
                "Billfold could not save this payment safely, so it was not made. Tap again."
            }
            TapDeclineReason::KeyMismatch => {
                "This card's payment keys do not match it. Sync Billfold to repair it."
            }
            TapDeclineReason::TerminalDeclined => "The terminal declined the payment.",
            TapDeclineReason::NoCard => {
                "No card is ready for tapping. Add a card and set it as your default."
            }
        }
    }

    fn from_decline(d: Decline) -> Self {
        match d {
            Decline::Frozen => TapDeclineReason::CardFrozen,
            Decline::Locked => TapDeclineReason::Locked,
            Decline::KeysExhausted => TapDeclineReason::KeysExhausted,
            Decline::Unavailable => TapDeclineReason::Unavailable,
            Decline::KeyMismatch => TapDeclineReason::KeyMismatch,
            Decline::TerminalDeclined => TapDeclineReason::TerminalDeclined,
        }
    }
}

impl std::fmt::Display for TapDeclineReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

/// What happened at the terminal, for the app to show after a tap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TapReport {
    /// True when the card answered with an ARQC: the payment went to the
    /// bank for authorisation (the terminal shows the bank's answer).
    pub sent_online: bool,
    /// Why the card declined, when it did.
    pub decline: Option<TapDeclineReason>,
    pub token_id: Option<String>,
    pub card_id: Option<String>,
    /// The amount the terminal asked for (None if its currency is unknown).
    pub amount: Option<Money>,
    pub merchant: Option<String>,
    pub mcc: Option<u16>,
    /// The ATC used, for an ARQC.
    pub atc: Option<u16>,
}

impl TapReport {
    fn declined(reason: TapDeclineReason) -> Self {
        TapReport {
            sent_online: false,
            decline: Some(reason),
            token_id: None,
            card_id: None,
            amount: None,
            merchant: None,
            mcc: None,
            atc: None,
        }
    }

    fn from_transaction(t: &TransactionData) -> Self {
        TapReport {
            sent_online: false,
            decline: None,
            token_id: None,
            card_id: None,
            amount: amount_of(t),
            merchant: t.merchant_name.as_deref().map(mask_card_numbers),
            mcc: t.mcc,
            atc: None,
        }
    }
}

fn amount_of(t: &TransactionData) -> Option<Money> {
    let currency = Currency::from_numeric(t.currency).ok()?;
    let minor = i64::try_from(t.amount_minor).ok()?;
    Some(Money::from_minor(minor, currency))
}

/// The card application's session, owned by the wallet.
pub(crate) struct TapSession {
    card: CardApp,
    /// Tokens were loaded for the transaction in progress.
    fresh: bool,
    /// The report of the transaction in progress, once GENERATE AC ran.
    current: Option<TapReport>,
    /// The report of the last transaction that ended.
    last: Option<TapReport>,
}

impl Default for TapSession {
    fn default() -> Self {
        TapSession {
            card: CardApp::new(Vec::new()),
            fresh: false,
            current: None,
            last: None,
        }
    }
}

/// The session slot in the `Wallet`.
#[derive(Default)]
pub(crate) struct TapSlot {
    session: Mutex<TapSession>,
    /// A tap's commit held SQLite's automatic checkpoint off and no later
    /// commit has run it yet (see `use_key`).
    checkpoint_deferred: AtomicBool,
}

impl TapSlot {
    fn lock(&self) -> MutexGuard<'_, TapSession> {
        // Every update to the session is a whole assignment or a call into
        // the card application, which never panics; a poisoned session is
        // still coherent.
        self.session.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What the key-use transaction wrote, to check against the card's answer.
pub(crate) struct RecordedTap {
    pub(crate) id: String,
    pub(crate) atc: u16,
    pub(crate) ac: [u8; 8],
    pub(crate) iad: Vec<u8>,
    pub(crate) card_id: String,
}

/// The wallet as the card application's backend for one APDU.
struct Backend<'a> {
    wallet: &'a Wallet,
    /// The CDOL1 data of the GENERATE AC being processed.
    cdol1_data: &'a [u8],
    recorded: Option<RecordedTap>,
}

impl CardBackend for Backend<'_> {
    fn take_session_key(&mut self, token: &Token) -> Result<(u16, SessionKey), Decline> {
        let keys = self.wallet.keys().map_err(|_| Decline::Locked)?;
        let (recorded, sk) = self.wallet.use_key(&keys, token, self.cdol1_data)?;
        let atc = recorded.atc;
        self.recorded = Some(recorded);
        Ok((atc, sk))
    }
}

/// The transaction as the CDOL1 data alone describes it; this card's CDOL1
/// carries every element the ledger needs.
fn transaction_from_cdol1(cdol1_data: &[u8]) -> Option<TransactionData> {
    let parts = templates::cdol1().split(cdol1_data).ok()?;
    let values = parts.into_iter().map(|(t, v)| (t, v.to_vec())).collect();
    TransactionData::from_values(&values).ok()
}

/// A tap's id, which is also the idempotency key of its outbox report and
/// its pending entry, so the bank's posting (which carries the token and
/// ATC) finds the hold.
pub(crate) fn tap_key(token_id: &str, atc: u16) -> String {
    format!("tap:{token_id}:{atc}")
}

fn status_bytes(sw: StatusWord) -> Vec<u8> {
    ResponseApdu::status(sw).to_bytes()
}

impl Wallet {
    /// One command APDU from the NFC reader in, the response bytes (data
    /// and SW1 SW2) out. Never panics and never fails: every problem is a
    /// status word or a declining cryptogram.
    pub fn process_apdu(&self, apdu: &[u8]) -> Vec<u8> {
        catch_unwind(AssertUnwindSafe(|| self.process_apdu_inner(apdu)))
            .unwrap_or_else(|_| status_bytes(StatusWord::UNKNOWN_ERROR))
    }

    /// The reader left the field or selected another application: the
    /// transaction is over. Returns what happened in it, if the terminal
    /// got as far as asking for a cryptogram, and writes the pending ledger
    /// entry for an answered tap (which notifies the `AlertListener`).
    pub fn on_deactivated(&self, reason: DeactivationReason) -> Option<TapReport> {
        let report = {
            let mut s = self.tap.lock();
            s.card.on_deactivated(reason);
            s.fresh = false;
            let report = s.current.take();
            if report.is_some() {
                s.last.clone_from(&report);
            }
            report
        };
        // Outside the session lock: the listener may call back into the
        // wallet. A failure (say, the wallet locked meanwhile) leaves the
        // tap recorded and unsettled for the next call.
        if self.settle_taps().is_ok_and(|n| n > 0) {
            // That commit ran any checkpoint the tap held off.
            self.tap.checkpoint_deferred.store(false, Ordering::Relaxed);
        }
        report
    }

    /// The current transaction's report, or else the last one's.
    pub fn last_tap(&self) -> Option<TapReport> {
        let s = self.tap.lock();
        s.current.clone().or_else(|| s.last.clone())
    }

    /// Writes the pending ledger entry of every answered tap that does not
    /// have one yet (after a crash, or a tap while the wallet was locked).
    /// Returns how many were settled. Idempotent: each tap's entry is keyed
    /// by its idempotency key.
    pub fn settle_taps(&self) -> Result<u32> {
        self.keys()?;
        struct Row {
            seq: i64,
            id: String,
            amount_minor: i64,
            currency: u16,
            txn_type: u8,
            mcc: Option<u16>,
            merchant: Option<String>,
            created_ms: i64,
        }
        let rows: Vec<Row> = {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(
                "SELECT seq, id, amount_minor, currency, txn_type, mcc, merchant, created_ms
                 FROM taps WHERE state = 'answered' ORDER BY seq",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(Row {
                    seq: r.get(0)?,
                    id: r.get(1)?,
                    amount_minor: r.get(2)?,
                    currency: r.get(3)?,
                    txn_type: r.get(4)?,
                    mcc: r.get(5)?,
                    merchant: r.get(6)?,
                    created_ms: r.get(7)?,
                })
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut settled = 0;
        for row in rows {
            // A terminal's currency this wallet does not know cannot be a
            // ledger amount; the bank's posting will bring the entry.
            if let Ok(currency) = Currency::from_numeric(row.currency) {
                let entry = PendingEntry {
                    idempotency_key: row.id.clone(),
                    account: crate::ledger::MAIN_ACCOUNT.to_string(),
                    // 20 is a refund; purchases, cash and cashback are debits.
                    kind: if row.txn_type == 0x20 {
                        EntryKind::Refund
                    } else {
                        EntryKind::Purchase
                    },
                    amount: Money::from_minor(row.amount_minor, currency),
                    original: None,
                    merchant: row.merchant.clone(),
                    mcc: row.mcc,
                    // The ledger derives the category from the MCC.
                    category: None,
                    note: None,
                    booked_at_ms: row.created_ms,
                };
                match self.record_pending(&entry) {
                    Ok(_) => {}
                    // Worth retrying later.
                    Err(
                        e @ (Error::Locked | Error::Storage(_) | Error::Io(_) | Error::KeyStore(_)),
                    ) => return Err(e),
                    // Anything else is about the data and would fail again;
                    // the bank's posting will bring the entry.
                    Err(_) => {}
                }
            }
            self.conn().execute(
                "UPDATE taps SET state = 'settled', settled_ms = ?2 WHERE seq = ?1 AND state = 'answered'",
                params![row.seq, self.now_ms()],
            )?;
            settled += 1;
        }
        Ok(settled)
    }

    fn process_apdu_inner(&self, apdu: &[u8]) -> Vec<u8> {
        let cmd = CommandApdu::parse(apdu).ok();
        let mut s = self.tap.lock();
        let is_select = cmd.as_ref().is_some_and(|c| c.cla == 0x00 && c.ins == 0xA4);
        if is_select && !s.fresh {
            self.load_tokens(&mut s);
        }
        let cdol1_data = match &cmd {
            Some(c) if c.cla == 0x80 && c.ins == 0xAE => c.data.as_slice(),
            _ => &[],
        };
        let mut backend = Backend {
            wallet: self,
            cdol1_data,
            recorded: None,
        };
        let response = s.card.process_apdu(apdu, &mut backend);
        let recorded = backend.recorded.take();
        match s.card.take_completed() {
            Some(done) => {
                s.fresh = false;
                self.finish(&mut s, done, recorded, response)
            }
            None => response,
        }
    }

    /// Loads the default card's token for a new transaction. A locked
    /// wallet keeps the tokens it had, so the terminal reaches GENERATE AC
    /// and gets a decline that says "locked".
    fn load_tokens(&self, s: &mut TapSession) {
        match self.default_emv_token() {
            Ok(Some(token)) => {
                s.card.set_tokens(vec![token]);
                s.fresh = true;
            }
            Ok(None) => {
                s.card.set_tokens(Vec::new());
                s.fresh = true;
                s.current = Some(TapReport::declined(TapDeclineReason::NoCard));
            }
            Err(Error::Locked) => {
                if s.card.tokens().is_empty() {
                    s.current = Some(TapReport::declined(TapDeclineReason::Locked));
                }
            }
            Err(_) => {
                s.card.set_tokens(Vec::new());
                s.current = Some(TapReport::declined(TapDeclineReason::Unavailable));
            }
        }
    }

    /// After GENERATE AC: checks the card sent what the key-use transaction
    /// recorded, and keeps the report.
    fn finish(
        &self,
        s: &mut TapSession,
        done: CompletedTap,
        recorded: Option<RecordedTap>,
        response: Vec<u8>,
    ) -> Vec<u8> {
        let mut report = TapReport::from_transaction(&done.transaction);
        report.token_id = Some(done.token_id.clone());
        let response = match (&done.outcome, recorded) {
            (TapOutcome::Online(data), Some(rec)) => {
                report.sent_online = true;
                report.atc = Some(data.atc);
                report.card_id = Some(rec.card_id.clone());
                let same = data.atc == rec.atc && data.ac == rec.ac && data.iad == rec.iad;
                // The record must describe what the terminal receives. Were
                // the card application ever to compute differently, the
                // record is corrected before the answer leaves, or no answer
                // leaves at all.
                if same || self.correct_tap(&rec.id, data).is_ok() {
                    response
                } else {
                    report.sent_online = false;
                    report.decline = Some(TapDeclineReason::Unavailable);
                    status_bytes(StatusWord::UNKNOWN_ERROR)
                }
            }
            (TapOutcome::Declined(reason), Some(rec)) => {
                // A key was spent but the card declined: the recorded ARQC
                // must never reach the bank. Cannot happen as the key is
                // checked before commit; handled all the same.
                report.decline = Some(TapDeclineReason::from_decline(*reason));
                if self.void_tap(&rec.id).is_ok() {
                    response
                } else {
                    status_bytes(StatusWord::UNKNOWN_ERROR)
                }
            }
            (TapOutcome::Declined(reason), None) => {
                report.decline = Some(TapDeclineReason::from_decline(*reason));
                response
            }
            // An ARQC without a recorded key use: impossible, and never sent.
            (TapOutcome::Online(_), None) => {
                report.decline = Some(TapDeclineReason::Unavailable);
                status_bytes(StatusWord::UNKNOWN_ERROR)
            }
        };
        s.current = Some(report);
        response
    }

    /// Takes the next single-use key of `token`: in one transaction, checks
    /// the card is not frozen, deletes the key, advances the ATC, and
    /// records the tap and its outbox operation. Returns only after the
    /// commit.
    pub(crate) fn use_key(
        &self,
        keys: &Keys,
        token: &Token,
        cdol1_data: &[u8],
    ) -> std::result::Result<(RecordedTap, SessionKey), Decline> {
        let mut conn = self.conn();
        // The terminal waits on this commit: SQLite's automatic checkpoint,
        // which would run inside it once the WAL is long (more writes and
        // two more fsyncs), is held off to the settlement's commit right
        // after. Only once in a row, so taps without settlements in between
        // still checkpoint and the WAL stays bounded.
        if self.tap.checkpoint_deferred.swap(true, Ordering::Relaxed) {
            return self.use_key_in(&mut conn, keys, token, cdol1_data);
        }
        let auto: i64 = conn
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
            .unwrap_or(1000);
        let _ = conn.pragma_update(None, "wal_autocheckpoint", 0);
        let result = self.use_key_in(&mut conn, keys, token, cdol1_data);
        let _ = conn.pragma_update(None, "wal_autocheckpoint", auto);
        result
    }

    fn use_key_in(
        &self,
        conn: &mut rusqlite::Connection,
        keys: &Keys,
        token: &Token,
        cdol1_data: &[u8],
    ) -> std::result::Result<(RecordedTap, SessionKey), Decline> {
        let unavailable = |_| Decline::Unavailable;
        let transaction = transaction_from_cdol1(cdol1_data).ok_or(Decline::Unavailable)?;
        let now = self.now_ms();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(unavailable)?;
        let row: Option<(String, String, u32, bool, String)> = tx
            .prepare_cached(
                "SELECT t.card_id, t.status, t.next_atc, c.frozen, t.profile
                 FROM tokens t JOIN cards c ON c.id = t.card_id WHERE t.id = ?1",
            )
            .and_then(|mut st| {
                st.query_row([&token.id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .optional()
            })
            .map_err(unavailable)?;
        // The token went away (card removed mid-tap).
        let (card_id, status, next_atc, frozen, profile) = row.ok_or(Decline::Unavailable)?;
        if frozen || status != "active" {
            return Err(Decline::Frozen);
        }
        let key: Option<(u16, Vec<u8>)> = tx
            .prepare_cached(
                "SELECT atc, key_ct FROM token_keys WHERE token_id = ?1 AND atc >= ?2
                 ORDER BY atc LIMIT 1",
            )
            .and_then(|mut st| {
                st.query_row(params![token.id, next_atc], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(unavailable)?;
        let (atc, key_ct) = key.ok_or(Decline::KeysExhausted)?;
        let raw = keys
            .field()
            .open(key_at(&key_row(&token.id, atc)), &key_ct)
            .map_err(|_| Decline::Unavailable)?;
        let profile = profile_from(&profile).map_err(|_| Decline::Unavailable)?;
        let sk = SessionKey::from_slice(profile, &raw).map_err(|_| Decline::Unavailable)?;
        if profile != token.profile {
            return Err(Decline::KeyMismatch);
        }

        // The cryptogram exactly as the card application computes it.
        let iad = Iad {
            profile: token.profile,
            dki: token.dki,
            kind: CryptogramKind::Arqc,
            decline_code: 0,
        }
        .encode();
        let ac = application_cryptogram(&sk, &arqc_input(cdol1_data, templates::AIP, atc, &iad));
        let id = tap_key(&token.id, atc);
        let t = &transaction;
        let date = format!("{:04}-{:02}-{:02}", t.date.year, t.date.month, t.date.day);
        let merchant = t.merchant_name.as_deref().map(mask_card_numbers);
        let data = CryptogramData {
            kind: CryptogramKind::Arqc,
            atc,
            aip: templates::AIP,
            cdol1_data: cdol1_data.to_vec(),
            iad: iad.to_vec(),
            ac,
        };
        let write = || -> rusqlite::Result<()> {
            tx.prepare_cached("DELETE FROM token_keys WHERE token_id = ?1 AND atc <= ?2")?
                .execute(params![token.id, atc])?;
            tx.prepare_cached("UPDATE tokens SET next_atc = ?2, last_tap_ms = ?3 WHERE id = ?1")?
                .execute(params![token.id, u32::from(atc) + 1, now])?;
            tx.prepare_cached(
                "INSERT INTO taps (id, token_id, card_id, atc, state, amount_minor, other_minor,
                     currency, country, txn_date, txn_type, mcc, merchant, cdol1_data, iad, ac,
                     created_ms)
                 VALUES (?1, ?2, ?3, ?4, 'answered', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
                     ?15, ?16)",
            )?
            .execute(params![
                id,
                token.id,
                card_id,
                atc,
                i64::try_from(t.amount_minor).unwrap_or(i64::MAX),
                i64::try_from(t.other_amount_minor).unwrap_or(i64::MAX),
                t.currency,
                t.country,
                date,
                t.transaction_type,
                t.mcc,
                merchant,
                hex::encode_upper(cdol1_data),
                hex::encode_upper(iad),
                hex::encode_upper(ac),
                now
            ])?;
            tx.prepare_cached(
                "INSERT INTO outbox (idempotency_key, kind, payload, created_ms)
                 VALUES (?1, 'tap', ?2, ?3)",
            )?
            .execute(params![id, tap_operation(&token.id, &data), now])?;
            Ok(())
        };
        write().map_err(unavailable)?;
        tx.commit().map_err(unavailable)?;
        Ok((
            RecordedTap {
                id,
                atc,
                ac,
                iad: iad.to_vec(),
                card_id,
            },
            sk,
        ))
    }

    /// Rewrites a recorded tap's cryptogram to what the card really sent.
    fn correct_tap(&self, id: &str, data: &CryptogramData) -> Result<()> {
        let token_id = id
            .strip_prefix("tap:")
            .and_then(|r| r.rsplit_once(':'))
            .map(|(t, _)| t)
            .ok_or(Error::Corrupt("a tap id is malformed"))?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE taps SET iad = ?2, ac = ?3, cdol1_data = ?4 WHERE id = ?1",
            params![
                id,
                hex::encode_upper(&data.iad),
                hex::encode_upper(data.ac),
                hex::encode_upper(&data.cdol1_data)
            ],
        )?;
        tx.execute(
            "UPDATE outbox SET payload = ?2 WHERE idempotency_key = ?1",
            params![id, tap_operation(token_id, data)],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Withdraws a recorded tap whose cryptogram never left the phone.
    fn void_tap(&self, id: &str) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("UPDATE taps SET state = 'void' WHERE id = ?1", [id])?;
        tx.execute("DELETE FROM outbox WHERE idempotency_key = ?1", [id])?;
        tx.commit()?;
        Ok(())
    }

    /// The taps on record, oldest first: for the app's history and for
    /// tests.
    pub fn taps(&self) -> Result<Vec<TapRecord>> {
        self.query_taps("ORDER BY seq", [])
    }

    /// The tap recorded for a token and ATC, if any.
    pub fn tap(&self, token_id: &str, atc: u16) -> Result<Option<TapRecord>> {
        let id = tap_key(token_id, atc);
        Ok(self.query_taps("WHERE id = ?1", [id])?.pop())
    }

    fn query_taps<P: rusqlite::Params>(&self, tail: &str, p: P) -> Result<Vec<TapRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT id, token_id, card_id, atc, state, amount_minor, currency, mcc, merchant,
                 ac, created_ms
             FROM taps {tail}"
        ))?;
        let rows = stmt.query_map(p, |r| {
            let currency: u16 = r.get(6)?;
            let amount_minor: i64 = r.get(5)?;
            Ok(TapRecord {
                id: r.get(0)?,
                token_id: r.get(1)?,
                card_id: r.get(2)?,
                atc: r.get(3)?,
                state: r.get(4)?,
                amount: Currency::from_numeric(currency)
                    .ok()
                    .map(|c| Money::from_minor(amount_minor, c)),
                mcc: r.get(7)?,
                merchant: r.get(8)?,
                ac: r.get(9)?,
                created_ms: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// A tap as recorded when its key was used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TapRecord {
    /// Also the idempotency key of its outbox operation and ledger entry.
    pub id: String,
    pub token_id: String,
    pub card_id: String,
    pub atc: u16,
    /// `answered` (cryptogram sent), `settled` (ledger entry written), or
    /// `void` (withdrawn before it left the phone).
    pub state: String,
    pub amount: Option<Money>,
    pub mcc: Option<u16>,
    pub merchant: Option<String>,
    /// The ARQC, hex.
    pub ac: String,
    pub created_ms: i64,
}

/// The tap as an outbox operation, in the bank API's `Op` JSON shape
/// (`{"type":"tap","token_id":…,"cryptogram":{…}}`), so sync pushes it
/// as is.
fn tap_operation(token_id: &str, data: &CryptogramData) -> String {
    serde_json::json!({
        "type": "tap",
        "token_id": token_id,
        "cryptogram": {
            "kind": "arqc",
            "atc": data.atc,
            "aip": hex::encode(data.aip),
            "cdol1_data": hex::encode(&data.cdol1_data),
            "iad": hex::encode(&data.iad),
            "ac": hex::encode(data.ac),
        }
    })
    .to_string()
}

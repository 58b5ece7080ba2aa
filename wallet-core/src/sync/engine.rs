//! One sync: push the outbox in order, pull the bank's feed after the
//! cursor, and apply each answer in one transaction, repeating until the
//! outbox is empty and the bank has nothing more.
//!
//! The connection lock is held only to read the outbox and to apply an
//! answer, never across the network, so taps and payments go on during a
//! sync. An outbox row is deleted only in the transaction that applies the
//! bank's result for it; if the answer is lost, the next round sends the
//! same key again and the bank answers "duplicate" with the first outcome.

use billfold_protocol::{
    self as wire, KeyStatus, OpOutcome, OpResult, OpStatus, OutboxOp, PaymentStatus, SyncRequest,
    SyncResponse,
};
use emv::crypto::SessionKey;
use rusqlite::{params, Transaction};
use serde::Serialize;

use crate::alerts::Alert;
use crate::error::{Error, Result};
use crate::ledger::{
    apply_bank_entries_in, reverse_pending_in, BankEntry, EntryKind, EntryStatus, MAIN_ACCOUNT,
};
use crate::money::{Currency, Money};
use crate::tokens::{add_keys_in, KeyBatch};
use crate::wallet::Wallet;

/// Operations pushed per request. The bank takes up to 10,000; smaller
/// rounds keep each answer (and each local transaction) short.
const PUSH_BATCH: usize = 2_000;
/// Items of each kind pulled per request.
const PULL_LIMIT: u32 = 2_000;
/// A sync stops after this many rounds even if the bank keeps saying
/// "more", so a misbehaving server cannot keep a phone busy forever.
const MAX_ROUNDS: u32 = 1_000;

/// Where a long sync has got to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncProgress {
    pub round: u32,
    /// Operations the bank has answered for so far.
    pub pushed: u64,
    /// Operations still in the outbox.
    pub remaining: u64,
    /// Feed items applied so far (entries, records, alerts, cards, tokens).
    pub pulled: u64,
    pub has_more: bool,
}

/// Told about each round of a sync (the app's progress bar).
pub trait SyncListener: Send + Sync {
    fn on_progress(&self, progress: &SyncProgress);
}

/// What a whole sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub rounds: u32,
    /// Operations applied by the bank in this sync.
    pub applied: u64,
    /// Operations the bank had already applied (a retry of a lost answer).
    pub duplicates: u64,
    /// Operations the bank refused; kept in `sync_rejections` for the app.
    pub rejected: u64,
    pub entries_inserted: u32,
    pub entries_updated: u32,
    /// Pending payments the bank declined, now reversed.
    pub holds_released: u32,
    /// Budget, category and note fields from other devices that won.
    pub records_merged: u64,
    /// Fields from the bank this wallet could not take (bad values).
    pub records_refused: u64,
    /// Alerts other devices sent, now known here and never repeated.
    pub alerts_merged: u64,
    pub keys_added: u32,
    pub cursor: u64,
    /// Budget alerts the pulled entries fired (also sent to the listener).
    pub alerts: Vec<Alert>,
}

struct Pending {
    seq: i64,
    key: String,
    kind: String,
    payload: String,
}

impl Wallet {
    /// Pushes every outbox operation and pulls everything new, applying
    /// each answer in one transaction. Safe to call at any time, from any
    /// number of threads (one sync runs at a time); after a crash or a
    /// failed sync, calling it again carries on where it stopped.
    pub fn sync(&self, listener: Option<&dyn SyncListener>) -> Result<SyncReport> {
        let _one_at_a_time = self.sync.exclusive();
        let (client, signer) = self.bank()?;
        let mut report = SyncReport::default();
        let mut progress = SyncProgress::default();
        loop {
            if report.rounds >= MAX_ROUNDS {
                break;
            }
            let (cursor, batch, key_status) = self.next_round()?;
            let mut ops = Vec::with_capacity(batch.len());
            let mut sent = Vec::with_capacity(batch.len());
            for p in batch {
                match serde_json::from_str::<wire::Op>(&p.payload) {
                    Ok(op) => {
                        ops.push(OutboxOp {
                            idempotency_key: p.key.clone(),
                            op,
                        });
                        sent.push(p);
                    }
                    // Written by this wallet, so never expected; parked
                    // rather than blocking every later operation.
                    Err(_) => self.park(&p, "unreadable", "the operation could not be read")?,
                }
            }
            let request = SyncRequest {
                cursor,
                ops,
                key_status,
                limit: Some(PULL_LIMIT),
            };
            let response: SyncResponse = match client.post(
                &signer.key,
                &signer.device_id,
                "/v1/sync",
                &request,
                None,
                true,
            ) {
                Ok(r) => r,
                Err(e) => {
                    self.note_failure(&sent, &e)?;
                    return Err(e);
                }
            };
            if response.results.len() != sent.len() {
                return Err(Error::BankProtocol(
                    "the bank answered for a different number of operations",
                ));
            }
            report.rounds += 1;
            let pulled = (response.ledger.len()
                + response.records.len()
                + response.alerts.len()
                + response.cards.len()
                + response.tokens.len()) as u64;
            let has_more = response.has_more;
            self.apply_response(&sent, response, &mut report)?;
            progress.round = report.rounds;
            progress.pushed += sent.len() as u64;
            progress.pulled += pulled;
            progress.has_more = has_more;
            progress.remaining = self.outbox_len()?;
            if let Some(l) = listener {
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    l.on_progress(&progress)
                }));
            }
            if sent.is_empty() && !has_more {
                break;
            }
        }
        Ok(report)
    }

    /// Operations waiting for the bank.
    pub fn outbox_len(&self) -> Result<u64> {
        let n: i64 = self
            .conn()
            .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    /// The cursor, the next batch of the outbox in order, and the tokens
    /// running low on keys.
    fn next_round(&self) -> Result<(u64, Vec<Pending>, Vec<KeyStatus>)> {
        let low = self.tokens_running_low()?;
        let conn = self.conn();
        let cursor: i64 =
            conn.query_row("SELECT cursor FROM sync_state WHERE id = 1", [], |r| {
                r.get(0)
            })?;
        let mut stmt = conn.prepare_cached(
            "SELECT seq, idempotency_key, kind, payload FROM outbox ORDER BY seq LIMIT ?1",
        )?;
        let batch = stmt
            .query_map([PUSH_BATCH as i64], |r| {
                Ok(Pending {
                    seq: r.get(0)?,
                    key: r.get(1)?,
                    kind: r.get(2)?,
                    payload: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let key_status = low
            .into_iter()
            .map(|t| KeyStatus {
                token_id: t.token_id,
                remaining: t.remaining,
                provisioned_until: t.provisioned_until,
            })
            .collect();
        Ok((cursor.max(0) as u64, batch, key_status))
    }

    fn park(&self, p: &Pending, code: &str, message: &str) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        record_rejection(&tx, &p.key, &p.kind, code, message, self.now_ms())?;
        tx.execute("DELETE FROM outbox WHERE seq = ?1", [p.seq])?;
        tx.commit()?;
        Ok(())
    }

    /// Counts the attempt on the operations that were in flight, so the app
    /// can show what is stuck and why.
    fn note_failure(&self, sent: &[Pending], e: &Error) -> Result<()> {
        let Some(last) = sent.last() else {
            return Ok(());
        };
        self.conn().execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE seq <= ?1",
            params![last.seq, e.code()],
        )?;
        Ok(())
    }

    /// Applies one answer: results for the pushed operations, the pulled
    /// feed, key batches and the new cursor, in one transaction.
    fn apply_response(
        &self,
        sent: &[Pending],
        resp: SyncResponse,
        report: &mut SyncReport,
    ) -> Result<()> {
        let keys = self.keys()?;
        let now = self.now_ms();
        let collect = self.alert_listener.is_set();
        let currency: Currency = resp
            .posted_balance
            .currency
            .parse()
            .map_err(|_| Error::BankProtocol("the balance's currency is unknown"))?;
        let entries = resp
            .ledger
            .iter()
            .map(bank_entry)
            .collect::<Result<Vec<_>>>()?;
        let (alerts, changed) = {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let sent_keys: std::collections::HashSet<&str> =
                sent.iter().map(|p| p.key.as_str()).collect();
            for (p, result) in sent.iter().zip(&resp.results) {
                if result.idempotency_key != p.key {
                    return Err(Error::BankProtocol("the bank's results are out of order"));
                }
                apply_result(&tx, p, result, now, report)?;
            }
            // Other devices' alerts first, so the pulled entries' budget
            // check does not fire an alert another device already sent.
            let merged = crate::replica::apply_remote(&tx, &resp.records, &resp.alerts, now)?;
            report.records_merged += merged.applied as u64;
            report.alerts_merged += merged.alerts_added as u64;
            report.records_refused += merged.rejected.len() as u64;
            let foreign = resp
                .ledger
                .iter()
                .map(|e| made_elsewhere(&tx, e, &sent_keys))
                .collect::<Result<Vec<_>>>()?;
            let (mut applied, changed) =
                apply_bank_entries_in(&tx, &entries, &foreign, now, collect)?;
            applied.alerts.extend(merged.alerts);
            report.entries_inserted += applied.inserted;
            report.entries_updated += applied.updated;
            for card in &resp.cards {
                // A freeze still in the outbox is newer than the feed.
                tx.execute(
                    "UPDATE cards SET frozen = ?2 WHERE bank_card_id = ?1 AND NOT EXISTS
                       (SELECT 1 FROM outbox WHERE kind = 'card_status'
                          AND idempotency_key LIKE 'card:' || ?1 || ':%')",
                    params![card.card_id, card.status == wire::CardStatus::Frozen],
                )?;
            }
            for token in &resp.tokens {
                let status = match token.status {
                    wire::TokenStatus::Active => "active",
                    wire::TokenStatus::Suspended => "suspended",
                };
                tx.execute(
                    "UPDATE tokens SET status = ?2 WHERE id = ?1",
                    params![token.token_id, status],
                )?;
            }
            for batch in &resp.key_batches {
                report.keys_added += add_keys_in(&tx, &keys, &batch.token_id, |profile| {
                    wire_batch(batch, profile)
                })?;
            }
            report.holds_released += expire_tap_holds(&tx, now)?;
            let posted = resp.posted_balance.amount_minor;
            tx.execute(
                "UPDATE sync_state SET cursor = ?1, posted_minor = ?2, last_sync_ms = ?3, currency = ?4
                 WHERE id = 1",
                params![resp.cursor as i64, posted, now, currency.code()],
            )?;
            tx.commit()?;
            report.cursor = resp.cursor;
            (applied.alerts, changed)
        };
        self.alert_listener.deliver(&changed, &alerts);
        report.alerts.extend(alerts);
        Ok(())
    }
}

/// The bank's answer for one pushed operation.
fn apply_result(
    tx: &Transaction<'_>,
    p: &Pending,
    result: &OpResult,
    now: i64,
    report: &mut SyncReport,
) -> Result<()> {
    match result.status {
        OpStatus::Applied => report.applied += 1,
        OpStatus::Duplicate => report.duplicates += 1,
        OpStatus::Rejected => {
            report.rejected += 1;
            let (code, message) = result
                .error
                .as_ref()
                .map(|e| (e.code.as_str(), e.message.as_str()))
                .unwrap_or(("rejected", "the bank refused the operation"));
            record_rejection(tx, &p.key, &p.kind, code, message, now)?;
            // A refused payment never happened: release its hold. A tap's
            // hold stays: the terminal, not this report, decides the charge.
            if p.kind == "qr_payment" && reverse_pending_in(tx, &p.key, now)? {
                report.holds_released += 1;
            }
        }
    }
    let declined = match &result.outcome {
        Some(OpOutcome::QrPayment(r)) => r.status == PaymentStatus::Declined,
        Some(OpOutcome::Tap(wire::TapOutcome::Decided(a))) => !a.approved,
        _ => false,
    };
    if declined && reverse_pending_in(tx, &p.key, now)? {
        report.holds_released += 1;
    }
    tx.execute("DELETE FROM outbox WHERE seq = ?1", [p.seq])?;
    Ok(())
}

/// How long a tap's hold waits for the terminal's authorization. Like a
/// card issuer's authorization hold: a terminal that never asks (the sale
/// failed at the till, or the terminal declined it) must not keep the
/// customer's money held for ever.
pub const TAP_HOLD_EXPIRY_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Releases tap holds the bank has acknowledged (their report has left
/// the outbox) but no terminal has charged within [`TAP_HOLD_EXPIRY_MS`].
fn expire_tap_holds(tx: &Transaction<'_>, now: i64) -> Result<u32> {
    let keys: Vec<String> = tx
        .prepare_cached(
            "SELECT idempotency_key FROM ledger_entries
             WHERE status = 'pending' AND bank_id IS NULL AND idempotency_key LIKE 'tap:%'
               AND booked_at_ms < ?1
               AND idempotency_key NOT IN (SELECT idempotency_key FROM outbox)",
        )?
        .query_map([now - TAP_HOLD_EXPIRY_MS], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut n = 0;
    for k in keys {
        n += u32::from(reverse_pending_in(tx, &k, now)?);
    }
    Ok(n)
}

fn record_rejection(
    tx: &Transaction<'_>,
    key: &str,
    kind: &str,
    code: &str,
    message: &str,
    now: i64,
) -> Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO sync_rejections (idempotency_key, kind, code, message, at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![key, kind, code, message, now],
    )?;
    Ok(())
}

/// Whether another device of the account made this payment: a card
/// payment on a token this wallet does not hold, or a QR payment whose key
/// this wallet never wrote. That device alerted on its own hold when it
/// paid (budgets sync to every device), so this one does not repeat it.
fn made_elsewhere(
    tx: &Transaction<'_>,
    e: &wire::LedgerEntry,
    sent: &std::collections::HashSet<&str>,
) -> Result<bool> {
    if e.kind == wire::EntryKind::OpeningBalance {
        return Ok(false);
    }
    if let Some(token) = &e.token_id {
        let ours: bool = tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM tokens WHERE id = ?1)")?
            .query_row([token], |r| r.get(0))?;
        return Ok(!ours);
    }
    match &e.origin_key {
        Some(k) if sent.contains(k.as_str()) => Ok(false),
        Some(k) => {
            let ours: bool = tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM ledger_entries WHERE idempotency_key = ?1)
                         OR EXISTS (SELECT 1 FROM outbox WHERE idempotency_key = ?1)",
                )?
                .query_row([k], |r| r.get(0))?;
            Ok(!ours)
        }
        None => Ok(false),
    }
}

/// A posted entry from the feed, as the ledger stores it. Card payments
/// carry the token and ATC, so the phone's pending tap is found even when
/// the terminal, not the phone, reported it.
pub(super) fn bank_entry(e: &wire::LedgerEntry) -> Result<BankEntry> {
    let currency: Currency = e
        .amount
        .currency
        .parse()
        .map_err(|_| Error::BankProtocol("an entry's currency is unknown"))?;
    let magnitude = e
        .amount
        .amount_minor
        .checked_abs()
        .ok_or(Error::BankProtocol("an entry's amount is out of range"))?;
    let credit = e.amount.amount_minor > 0;
    let kind = match e.kind {
        wire::EntryKind::OpeningBalance => EntryKind::Income,
        _ if credit => EntryKind::Refund,
        _ => EntryKind::Purchase,
    };
    let key = match (&e.token_id, e.atc) {
        (Some(t), Some(atc)) => Some(crate::tap::tap_key(t, atc)),
        _ => e.origin_key.clone(),
    };
    let merchant = e
        .merchant
        .as_ref()
        .map(|m| m.name.clone())
        .or_else(|| Some(e.description.clone()))
        .filter(|m| !m.trim().is_empty());
    Ok(BankEntry {
        bank_id: e.entry_id.clone(),
        idempotency_key: key,
        account: MAIN_ACCOUNT.to_string(),
        status: EntryStatus::Posted,
        kind,
        amount: Money::from_minor(magnitude, currency),
        original: None,
        merchant,
        mcc: e.merchant.as_ref().and_then(|m| m.mcc),
        category: None,
        note: None,
        booked_at_ms: e.booked_at_ms,
        posted_at_ms: Some(e.booked_at_ms),
    })
}

/// A key batch from the bank (the feed, or a provisioning answer): hex
/// keys for consecutive ATCs, for the token's profile.
pub(super) fn wire_batch(
    batch: &wire::KeyBatch,
    profile: emv::crypto::Profile,
) -> Result<KeyBatch> {
    let keys = batch
        .keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let expected = u32::from(batch.first_atc) + i as u32;
            if u32::from(k.atc) != expected {
                return Err(Error::BankProtocol("a key batch is not consecutive"));
            }
            let bytes = zeroize::Zeroizing::new(
                hex::decode(&k.key).map_err(|_| Error::BankProtocol("a key is not hex"))?,
            );
            SessionKey::from_slice(profile, &bytes)
                .map_err(|_| Error::BankProtocol("a key has the wrong length"))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(KeyBatch {
        token_id: batch.token_id.clone(),
        first_atc: batch.first_atc,
        keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(amount_minor: i64) -> wire::LedgerEntry {
        wire::LedgerEntry {
            entry_id: "ent_1".into(),
            seq: 1,
            kind: wire::EntryKind::CardPayment,
            amount: wire::Money::new(amount_minor, "EUR"),
            description: "CAFE".into(),
            merchant: None,
            card_id: None,
            token_id: Some("tok_1".into()),
            atc: Some(7),
            origin_key: None,
            authorization_id: None,
            booked_at_ms: 0,
        }
    }

    #[test]
    fn a_card_posting_finds_the_taps_hold_and_keeps_its_sign() {
        let e = bank_entry(&entry(-1234)).unwrap();
        assert_eq!(e.idempotency_key.as_deref(), Some("tap:tok_1:7"));
        assert_eq!(
            (e.kind, e.amount.to_minor().unwrap()),
            (EntryKind::Purchase, 1234)
        );
        let refund = bank_entry(&entry(500)).unwrap();
        assert_eq!(refund.kind, EntryKind::Refund);
    }

    #[test]
    fn impossible_amounts_and_batches_are_the_banks_error() {
        assert!(matches!(
            bank_entry(&entry(i64::MIN)),
            Err(Error::BankProtocol(_))
        ));
        let batch = wire::KeyBatch {
            token_id: "tok_1".into(),
            first_atc: 8,
            keys: vec![wire::SessionKeyMaterial {
                atc: 9,
                key: "00112233445566778899aabbccddeeff".into(),
            }],
            issued_until: 10,
        };
        assert!(matches!(
            wire_batch(&batch, emv::crypto::Profile::Aes),
            Err(Error::BankProtocol(_))
        ));
    }
}

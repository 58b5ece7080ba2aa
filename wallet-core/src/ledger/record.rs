//! Writing to the ledger: local pending entries (taps, QR payments), the
//! bank's posted entries (sync, imports), reversals and re-categorisation.
//!
//! Every write is one SQLite transaction holding the entry, the aggregates
//! and the alerts it fired; listeners hear about it only after the commit.

use rusqlite::{params, Transaction};

use crate::alerts::Alert;
use crate::budgets::evaluate;
use crate::categories::{category_for_mcc, CategoryTree};
use crate::error::{Error, Result};
use crate::ledger::{
    check_fx, check_instant, check_key, check_magnitude, clean_text, Aggregates, Applied,
    BankEntry, EntryKind, EntryStatus, FxDetail, LedgerEntry, PendingEntry, Recorded, StoredRow,
};
use crate::money::Money;
use crate::wallet::Wallet;

/// The fields both kinds of write share, validated.
struct Draft<'a> {
    account: &'a str,
    kind: EntryKind,
    amount: &'a Money,
    original: &'a Option<FxDetail>,
    merchant: Option<&'a str>,
    mcc: Option<u16>,
    category: Option<&'a str>,
    note: Option<&'a str>,
    booked_at_ms: i64,
    /// Bank data never fails on a category this wallet does not know: it
    /// falls back to the MCC's.
    lenient_category: bool,
}

impl Draft<'_> {
    /// A row with a fresh id; the caller sets keys and status.
    fn to_row(&self, tree: &CategoryTree) -> Result<StoredRow> {
        check_key("account", self.account)?;
        check_instant("booking time", self.booked_at_ms)?;
        let magnitude = check_magnitude(self.amount)?;
        let sign = if self.kind.is_debit() { -1 } else { 1 };
        let (orig_minor, orig_currency, fx_rate, fx_source, fx_as_of_ms) = match self.original {
            Some(fx) => {
                let m = check_fx(fx, self.amount.currency())?;
                (
                    Some(sign * m),
                    Some(fx.original.currency()),
                    Some(fx.rate),
                    Some(fx.source.clone()),
                    Some(fx.as_of_ms),
                )
            }
            None => (None, None, None, None, None),
        };
        let explicit = match self.category.map(|c| tree.find(c)) {
            Some(Err(_)) if self.lenient_category => None,
            other => other.transpose()?,
        };
        let auto = match (explicit, self.mcc) {
            (Some(c), _) => c,
            (None, Some(mcc)) if self.kind.is_spending() => tree
                .resolve(category_for_mcc(mcc))
                .unwrap_or_else(|| "other".into()),
            _ => tree
                .resolve(self.kind.default_category())
                .unwrap_or_else(|| "other".into()),
        };
        if self.mcc.is_some_and(|m| m > 9999) {
            return Err(Error::InvalidText {
                field: "merchant category code",
                reason: "it has four digits",
            });
        }
        Ok(StoredRow {
            // Set from the entry's key when it is stored (`stable_id`).
            id: String::new(),
            seq: 0,
            idempotency_key: None,
            bank_id: None,
            account: self.account.to_string(),
            status: EntryStatus::Pending,
            kind: self.kind,
            amount_minor: sign * magnitude,
            currency: self.amount.currency(),
            orig_minor,
            orig_currency,
            fx_rate,
            fx_source,
            fx_as_of_ms,
            merchant: clean_text("merchant", self.merchant)?,
            mcc: self.mcc,
            category: auto.clone(),
            auto_category: auto,
            note: clean_text("note", self.note)?,
            booked_at_ms: self.booked_at_ms,
            posted_at_ms: None,
        })
    }
}

/// An entry's id, derived from the key that identifies it, so every device
/// that learns of the same payment (by its idempotency key, or the bank's id
/// when it has none) gives it the same id, and user data that refers to it
/// (category overrides) syncs. 128 bits of SHA-256.
fn stable_id(domain: &str, key: &str) -> String {
    let d = ring::digest::digest(
        &ring::digest::SHA256,
        format!("billfold-entry:{domain}:{key}").as_bytes(),
    );
    hex::encode(&d.as_ref()[..16])
}

fn ensure_account(tx: &Transaction<'_>, account: &str, now_ms: i64) -> Result<()> {
    tx.prepare_cached("INSERT OR IGNORE INTO accounts (id, name, created_ms) VALUES (?1, ?1, ?2)")?
        .execute(params![account, now_ms])?;
    Ok(())
}

fn has_override(tx: &Transaction<'_>, entry_id: &str) -> Result<bool> {
    Ok(tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM category_overrides WHERE entry_id = ?1 AND deleted = 0)",
        )?
        .query_row([entry_id], |r| r.get(0))?)
}

/// The same payment: what an idempotent retry must match.
fn same_payment(a: &StoredRow, b: &StoredRow) -> bool {
    a.account == b.account
        && a.kind == b.kind
        && a.amount_minor == b.amount_minor
        && a.currency == b.currency
}

impl Wallet {
    /// Records a local pending entry (a tap or QR payment), evaluates the
    /// budgets and tells the `AlertListener`. The same idempotency key again
    /// returns the stored entry and fires nothing; the same key for a
    /// different payment is an error.
    pub fn record_pending(&self, p: &PendingEntry) -> Result<Recorded> {
        self.keys()?;
        check_key("idempotency key", &p.idempotency_key)?;
        let now = self.now_ms();
        let (recorded, fresh) = {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            let tree = CategoryTree::load(&tx)?;
            let mut row = Draft {
                account: &p.account,
                kind: p.kind,
                amount: &p.amount,
                original: &p.original,
                merchant: p.merchant.as_deref(),
                mcc: p.mcc,
                category: p.category.as_deref(),
                note: p.note.as_deref(),
                booked_at_ms: p.booked_at_ms,
                lenient_category: false,
            }
            .to_row(&tree)?;
            if let Some(existing) = StoredRow::by_key(&tx, &p.idempotency_key)? {
                let same = same_payment(&existing, &row)
                    // A posting may change the amount (tips, FX): the key
                    // still names this payment.
                    || (existing.bank_id.is_some() && existing.account == row.account);
                if !same {
                    return Err(Error::IdempotencyConflict);
                }
                let entry = existing.to_entry(&tree);
                return Ok(Recorded {
                    entry,
                    alerts: vec![],
                    duplicate: true,
                });
            }
            row.idempotency_key = Some(p.idempotency_key.clone());
            row.id = stable_id("key", &p.idempotency_key);
            ensure_account(&tx, &row.account, now)?;
            row.insert(&tx, now)?;
            let mut agg = Aggregates::load(&tx, &tree)?;
            agg.add(&row, 1);
            let touched = agg.flush(&tx)?;
            let alerts = evaluate(&tx, &tree, &touched, now)?;
            tx.commit()?;
            let entry = row.to_entry(&tree);
            (
                Recorded {
                    entry: entry.clone(),
                    alerts,
                    duplicate: false,
                },
                entry,
            )
        };
        self.alert_listener
            .deliver(std::slice::from_ref(&fresh), &recorded.alerts);
        Ok(recorded)
    }

    /// Applies entries from the bank in one transaction: new ones are
    /// inserted, known bank ids are updated (a reversal, a refund, a changed
    /// amount), and an entry carrying a pending entry's idempotency key
    /// posts that hold in place. Deduplication is on the bank id and the
    /// idempotency key only.
    pub fn apply_bank_entries(&self, entries: &[BankEntry]) -> Result<Applied> {
        self.apply_bank_entries_with(entries, true)
    }

    /// `notify`: tell the listener about each entry (not for imports of
    /// history, which would flood the user with notifications).
    pub(crate) fn apply_bank_entries_with(
        &self,
        entries: &[BankEntry],
        notify: bool,
    ) -> Result<Applied> {
        self.keys()?;
        let now = self.now_ms();
        let collect = notify && self.alert_listener.is_set();
        let (applied, changed) = {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            let out = apply_bank_entries_in(&tx, entries, &[], now, collect)?;
            tx.commit()?;
            out
        };
        self.alert_listener.deliver(&changed, &applied.alerts);
        Ok(applied)
    }

    /// Voids a pending entry (a cancelled tap or payment): it stops
    /// counting in balances and budgets. Posted entries are reversed by the
    /// bank. Never raises an alert.
    pub fn reverse_entry(&self, id: &str) -> Result<LedgerEntry> {
        self.keys()?;
        let now = self.now_ms();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let tree = CategoryTree::load(&tx)?;
        let old = StoredRow::by_id(&tx, id)?.ok_or(Error::EntryNotFound)?;
        match old.status {
            EntryStatus::Reversed => return Ok(old.to_entry(&tree)),
            EntryStatus::Pending => {}
            _ => return Err(Error::InvalidText {
                field: "transaction",
                reason:
                    "only a pending transaction can be reversed here; the bank reverses posted ones",
            }),
        }
        let mut row = old.clone();
        row.status = EntryStatus::Reversed;
        let mut agg = Aggregates::load(&tx, &tree)?;
        agg.add(&old, -1);
        agg.add(&row, 1);
        agg.flush(&tx)?;
        row.update(&tx, now)?;
        tx.commit()?;
        Ok(row.to_entry(&tree))
    }

    /// Puts an entry in another category (a user override, kept across the
    /// bank's postings and merged by sync). Budgets are re-evaluated.
    pub fn categorize(&self, id: &str, category: &str) -> Result<Recorded> {
        self.keys()?;
        let now = self.now_ms();
        let (entry, alerts) = {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            let tree = CategoryTree::load(&tx)?;
            let old = StoredRow::by_id(&tx, id)?.ok_or(Error::EntryNotFound)?;
            let category = tree.find(category)?;
            super::notes::record_override(&tx, &old.id, &category, now)?;
            let mut row = old.clone();
            row.category = category;
            let mut agg = Aggregates::load(&tx, &tree)?;
            agg.add(&old, -1);
            agg.add(&row, 1);
            let touched = agg.flush(&tx)?;
            row.update(&tx, now)?;
            let alerts: Vec<Alert> = evaluate(&tx, &tree, &touched, now)?;
            tx.commit()?;
            (row.to_entry(&tree), alerts)
        };
        self.alert_listener.deliver(&[], &alerts);
        Ok(Recorded {
            entry,
            alerts,
            duplicate: false,
        })
    }
}

/// Applies bank entries inside the caller's transaction (sync applies a
/// whole pull in one). Returns what changed and, when `collect`, the
/// entries to announce once the caller has committed.
///
/// `foreign[i]` marks entry `i` as a payment another device of the account
/// made: that device alerted (or will) when it paid, so spending that only
/// such entries raise is recorded as alerted here but not announced again.
pub(crate) fn apply_bank_entries_in(
    tx: &Transaction<'_>,
    entries: &[BankEntry],
    foreign: &[bool],
    now: i64,
    collect: bool,
) -> Result<(Applied, Vec<LedgerEntry>)> {
    let mut changed: Vec<LedgerEntry> = Vec::new();
    let mut own_increase = false;
    let tree = CategoryTree::load(tx)?;
    let mut agg = Aggregates::load(tx, &tree)?;
    let mut applied = Applied::default();
    let mut any_increase = false;
    let mut accounts = std::collections::HashSet::new();
    for (i, e) in entries.iter().enumerate() {
        let own = !foreign.get(i).copied().unwrap_or(false);
        check_key("bank id", &e.bank_id)?;
        if let Some(k) = &e.idempotency_key {
            check_key("idempotency key", k)?;
        }
        if let Some(t) = e.posted_at_ms {
            check_instant("posting time", t)?;
        }
        let mut row = Draft {
            account: &e.account,
            kind: e.kind,
            amount: &e.amount,
            original: &e.original,
            merchant: e.merchant.as_deref(),
            mcc: e.mcc,
            category: e.category.as_deref(),
            note: e.note.as_deref(),
            booked_at_ms: e.booked_at_ms,
            lenient_category: true,
        }
        .to_row(&tree)?;
        row.bank_id = Some(e.bank_id.clone());
        row.status = e.status;
        row.posted_at_ms = match e.status {
            EntryStatus::Pending => None,
            _ => Some(e.posted_at_ms.unwrap_or(now)),
        };
        let existing = match StoredRow::by_bank_id(tx, &e.bank_id)? {
            Some(old) => Some(old),
            None => match &e.idempotency_key {
                Some(k) => StoredRow::by_key(tx, k)?.filter(|old| old.bank_id.is_none()),
                None => None,
            },
        };
        if !accounts.contains(&row.account) {
            ensure_account(tx, &row.account, now)?;
            accounts.insert(row.account.clone());
        }
        match existing {
            Some(old) => {
                row.id = old.id.clone();
                row.seq = old.seq;
                row.idempotency_key = old.idempotency_key.clone();
                if has_override(tx, &old.id)? {
                    row.category = old.category.clone();
                }
                // The bank rarely repeats the note; keep ours.
                if row.note.is_none() {
                    row.note = old.note.clone();
                }
                super::notes::annotate(tx, &tree, &mut row)?;
                if row == old {
                    applied.unchanged += 1;
                    continue;
                }
                if row.status != EntryStatus::Reversed {
                    any_increase = true;
                    own_increase |= own;
                }
                agg.add(&old, -1);
                agg.add(&row, 1);
                row.update(tx, now)?;
                applied.updated += 1;
            }
            None => {
                row.idempotency_key = match &e.idempotency_key {
                    Some(k) if StoredRow::by_key(tx, k)?.is_none() => Some(k.clone()),
                    _ => None,
                };
                row.id = match &row.idempotency_key {
                    Some(k) => stable_id("key", k),
                    None => stable_id("bank", &e.bank_id),
                };
                // Another device may have annotated it before it got here.
                super::notes::annotate(tx, &tree, &mut row)?;
                if row.status != EntryStatus::Reversed {
                    any_increase = true;
                    own_increase |= own;
                }
                row.insert(tx, now)?;
                agg.add(&row, 1);
                applied.inserted += 1;
            }
        }
        if collect {
            changed.push(row.to_entry(&tree));
        }
    }
    let touched = agg.flush(tx)?;
    // Reversals only lower spending: they never raise an alert.
    applied.alerts = if any_increase {
        evaluate(tx, &tree, &touched, now)?
    } else {
        vec![]
    };
    if !own_increase {
        applied.alerts.clear();
    }
    Ok((applied, changed))
}

/// Voids the pending hold written under `key`, inside the caller's
/// transaction (sync, when the bank declined the payment). Returns whether
/// there was a pending hold to void.
pub(crate) fn reverse_pending_in(tx: &Transaction<'_>, key: &str, now: i64) -> Result<bool> {
    let Some(old) = StoredRow::by_key(tx, key)? else {
        return Ok(false);
    };
    if old.status != EntryStatus::Pending {
        return Ok(false);
    }
    let tree = CategoryTree::load(tx)?;
    let mut row = old.clone();
    row.status = EntryStatus::Reversed;
    let mut agg = Aggregates::load(tx, &tree)?;
    agg.add(&old, -1);
    agg.add(&row, 1);
    agg.flush(tx)?;
    row.update(tx, now)?;
    Ok(true)
}

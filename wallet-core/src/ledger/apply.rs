//! The stored form of an entry, and the aggregates every write maintains in
//! the same transaction: balances per (account, currency), and spending per
//! (budget, period). Reads then cost a few rows whatever the ledger's size.
//!
//! A change to an entry is applied as "remove the old state, add the new",
//! so a posting, a reversal, a re-categorisation or a back-dated entry all
//! keep the aggregates exact with one code path.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use chrono::NaiveDate;
use rusqlite::{params, params_from_iter, OptionalExtension, Row, ToSql, Transaction};
use rust_decimal::Decimal;

use crate::budgets::BudgetScope;
use crate::categories::CategoryTree;
use crate::error::{Error, Result};
use crate::ledger::fx::{amount_in, FxTable};
use crate::ledger::{EntryKind, EntryStatus, FxDetail, LedgerEntry};
use crate::money::{Currency, Money};

/// A `ledger_entries` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredRow {
    pub(crate) id: String,
    pub(crate) seq: i64,
    pub(crate) idempotency_key: Option<String>,
    pub(crate) bank_id: Option<String>,
    pub(crate) account: String,
    pub(crate) status: EntryStatus,
    pub(crate) kind: EntryKind,
    /// Signed: negative when money leaves the account.
    pub(crate) amount_minor: i64,
    pub(crate) currency: Currency,
    pub(crate) orig_minor: Option<i64>,
    pub(crate) orig_currency: Option<Currency>,
    pub(crate) fx_rate: Option<Decimal>,
    pub(crate) fx_source: Option<String>,
    pub(crate) fx_as_of_ms: Option<i64>,
    pub(crate) merchant: Option<String>,
    pub(crate) mcc: Option<u16>,
    pub(crate) auto_category: String,
    pub(crate) category: String,
    pub(crate) note: Option<String>,
    pub(crate) booked_at_ms: i64,
    pub(crate) posted_at_ms: Option<i64>,
}

/// Every column [`StoredRow::from_row`] reads, as a literal so that the
/// lookups below are literals too (no SQL built per entry of a sync).
macro_rules! select_row {
    () => {
        "SELECT id, seq, idempotency_key, bank_id, account, status, kind,
        amount_minor, currency, orig_minor, orig_currency, fx_rate, fx_source, fx_as_of_ms,
        merchant, mcc, auto_category, category, note, booked_at_ms, posted_at_ms
        FROM ledger_entries"
    };
}

pub(crate) const SELECT_ROW: &str = select_row!();

/// The columns both an insert and an update write, in the order
/// [`StoredRow::write`] binds them (from `?2` on; `?1` is the id). An
/// insert also writes the idempotency key and `created_ms`; neither
/// changes afterwards.
const WRITTEN: [&str; 19] = [
    "bank_id",
    "account",
    "status",
    "kind",
    "amount_minor",
    "currency",
    "orig_minor",
    "orig_currency",
    "fx_rate",
    "fx_source",
    "fx_as_of_ms",
    "merchant",
    "mcc",
    "auto_category",
    "category",
    "note",
    "booked_at_ms",
    "posted_at_ms",
    "updated_ms",
];

/// `INSERT ... (id, <WRITTEN>, idempotency_key, created_ms)`: the key is
/// bound last, and `created_ms` takes `updated_ms`'s value.
static INSERT_SQL: LazyLock<String> = LazyLock::new(|| {
    let n = WRITTEN.len();
    let values: Vec<String> = (1..=n + 1).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO ledger_entries (id, {}, idempotency_key, created_ms) VALUES ({}, ?{}, ?{})",
        WRITTEN.join(", "),
        values.join(", "),
        n + 2,
        n + 1,
    )
});

/// `UPDATE ... SET <WRITTEN> WHERE id = ?1`.
static UPDATE_SQL: LazyLock<String> = LazyLock::new(|| {
    let set: Vec<String> = WRITTEN
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ?{}", i + 2))
        .collect();
    format!("UPDATE ledger_entries SET {} WHERE id = ?1", set.join(", "))
});

fn corrupt(_: Error) -> rusqlite::Error {
    rusqlite::Error::InvalidQuery
}

impl StoredRow {
    pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        let currency = |s: Option<String>| -> rusqlite::Result<Option<Currency>> {
            s.map(|c| Currency::from_code(&c).map_err(corrupt))
                .transpose()
        };
        Ok(StoredRow {
            id: r.get(0)?,
            seq: r.get(1)?,
            idempotency_key: r.get(2)?,
            bank_id: r.get(3)?,
            account: r.get(4)?,
            status: EntryStatus::parse(&r.get::<_, String>(5)?).map_err(corrupt)?,
            kind: EntryKind::parse(&r.get::<_, String>(6)?).map_err(corrupt)?,
            amount_minor: r.get(7)?,
            currency: currency(Some(r.get(8)?))?.ok_or(rusqlite::Error::InvalidQuery)?,
            orig_minor: r.get(9)?,
            orig_currency: currency(r.get(10)?)?,
            fx_rate: r
                .get::<_, Option<String>>(11)?
                .map(|s| {
                    s.parse::<Decimal>()
                        .map_err(|_| rusqlite::Error::InvalidQuery)
                })
                .transpose()?,
            fx_source: r.get(12)?,
            fx_as_of_ms: r.get(13)?,
            merchant: r.get(14)?,
            mcc: r.get(15)?,
            auto_category: r.get(16)?,
            category: r.get(17)?,
            note: r.get(18)?,
            booked_at_ms: r.get(19)?,
            posted_at_ms: r.get(20)?,
        })
    }

    pub(crate) fn by_id(tx: &rusqlite::Connection, id: &str) -> Result<Option<Self>> {
        Ok(tx
            .prepare_cached(concat!(select_row!(), " WHERE id = ?1"))?
            .query_row([id], Self::from_row)
            .optional()?)
    }

    pub(crate) fn by_key(tx: &rusqlite::Connection, key: &str) -> Result<Option<Self>> {
        Ok(tx
            .prepare_cached(concat!(select_row!(), " WHERE idempotency_key = ?1"))?
            .query_row([key], Self::from_row)
            .optional()?)
    }

    pub(crate) fn by_bank_id(tx: &rusqlite::Connection, bank_id: &str) -> Result<Option<Self>> {
        Ok(tx
            .prepare_cached(concat!(select_row!(), " WHERE bank_id = ?1"))?
            .query_row([bank_id], Self::from_row)
            .optional()?)
    }

    /// Writes a new row; fills in `seq`.
    pub(crate) fn insert(&mut self, tx: &Transaction<'_>, now_ms: i64) -> Result<()> {
        self.write(tx, &INSERT_SQL, Some(&self.idempotency_key), now_ms)?;
        self.seq = tx.last_insert_rowid();
        Ok(())
    }

    /// Rewrites every column of an existing row but its keys.
    pub(crate) fn update(&self, tx: &Transaction<'_>, now_ms: i64) -> Result<()> {
        self.write(tx, &UPDATE_SQL, None, now_ms)
    }

    /// Runs `sql` with `?1` the id, then the [`WRITTEN`] columns, then
    /// `key` when given.
    fn write(
        &self,
        tx: &Transaction<'_>,
        sql: &str,
        key: Option<&Option<String>>,
        now_ms: i64,
    ) -> Result<()> {
        let fx_rate = self.fx_rate.map(|r| r.normalize().to_string());
        let values: [&dyn ToSql; 20] = [
            &self.id,
            &self.bank_id,
            &self.account,
            &self.status.as_str(),
            &self.kind.as_str(),
            &self.amount_minor,
            &self.currency.code(),
            &self.orig_minor,
            &self.orig_currency.map(Currency::code),
            &fx_rate,
            &self.fx_source,
            &self.fx_as_of_ms,
            &self.merchant,
            &self.mcc,
            &self.auto_category,
            &self.category,
            &self.note,
            &self.booked_at_ms,
            &self.posted_at_ms,
            &now_ms,
        ];
        let key = key.map(|k| k as &dyn ToSql);
        tx.prepare_cached(sql)?
            .execute(params_from_iter(values.iter().copied().chain(key)))?;
        Ok(())
    }

    pub(crate) fn to_entry(&self, tree: &CategoryTree) -> LedgerEntry {
        let original = match (self.orig_minor, self.orig_currency, self.fx_rate) {
            (Some(m), Some(c), Some(rate)) => Some(FxDetail {
                original: Money::from_minor(m, c),
                rate,
                source: self.fx_source.clone().unwrap_or_default(),
                as_of_ms: self.fx_as_of_ms.unwrap_or(self.booked_at_ms),
            }),
            _ => None,
        };
        LedgerEntry {
            id: self.id.clone(),
            idempotency_key: self.idempotency_key.clone(),
            bank_id: self.bank_id.clone(),
            account: self.account.clone(),
            status: self.status,
            kind: self.kind,
            amount: Money::from_minor(self.amount_minor, self.currency),
            original,
            merchant: self.merchant.clone(),
            mcc: self.mcc,
            category: self.category.clone(),
            category_name: tree.name(&self.category),
            note: self.note.clone(),
            booked_at_ms: self.booked_at_ms,
            posted_at_ms: self.posted_at_ms,
        }
    }
}

/// Pending changes to the aggregates, accumulated over a whole write (one
/// entry or a 10k-entry sync) and written once at the end.
pub(crate) struct Aggregates {
    scopes: Vec<BudgetScope>,
    fx: FxTable,
    /// (account, currency) → [posted, pending debits, pending credits]. A
    /// list: a wallet has a handful of accounts, and looking one up by
    /// `&str` needs no key built per entry.
    balances: Vec<((String, Currency), [i64; 3])>,
    /// (budget index, period start) → (spent delta, missing-rate delta).
    totals: HashMap<(usize, NaiveDate), (Decimal, i64)>,
    touched: BTreeSet<usize>,
}

impl Aggregates {
    /// For a write to the ledger: every live budget.
    pub(crate) fn load(conn: &rusqlite::Connection, tree: &CategoryTree) -> Result<Self> {
        Ok(Self::for_scopes(
            crate::budgets::load_scopes(conn, tree, None)?,
            FxTable::load(conn)?,
        ))
    }

    /// For rebuilding some budgets' totals.
    pub(crate) fn for_scopes(scopes: Vec<BudgetScope>, fx: FxTable) -> Self {
        Aggregates {
            scopes,
            fx,
            balances: Vec::new(),
            totals: HashMap::new(),
            touched: BTreeSet::new(),
        }
    }

    pub(crate) fn add_balance(&mut self, row: &StoredRow, sign: i64) {
        let slot = match row.status {
            EntryStatus::Posted | EntryStatus::Refunded => 0,
            EntryStatus::Pending if row.amount_minor < 0 => 1,
            EntryStatus::Pending => 2,
            EntryStatus::Reversed => return,
        };
        let at = self
            .balances
            .iter()
            .position(|((a, c), _)| *a == row.account && *c == row.currency)
            .unwrap_or_else(|| {
                self.balances
                    .push(((row.account.clone(), row.currency), [0; 3]));
                self.balances.len() - 1
            });
        let b = &mut self.balances[at].1;
        b[slot] += sign * row.amount_minor;
    }

    pub(crate) fn add_spending(&mut self, row: &StoredRow, sign: i64) {
        if !row.kind.is_spending() || row.status == EntryStatus::Reversed {
            return;
        }
        for (i, scope) in self.scopes.iter().enumerate() {
            if !scope.includes(&row.category) {
                continue;
            }
            let Some(start) = scope.period_start_of(row.booked_at_ms) else {
                continue;
            };
            let slot = self.totals.entry((i, start)).or_default();
            match amount_in(row, scope.currency, &self.fx) {
                // Spending is money out: a purchase of -12.34 adds 12.34.
                Some(v) => slot.0 -= v * Decimal::from(sign),
                None => slot.1 += sign,
            }
            self.touched.insert(i);
        }
    }

    /// Adds (`sign` = 1) or removes (`sign` = -1) a row's effect.
    pub(crate) fn add(&mut self, row: &StoredRow, sign: i64) {
        self.add_balance(row, sign);
        self.add_spending(row, sign);
    }

    /// Writes the accumulated changes; returns the ids of the budgets whose
    /// spending changed.
    pub(crate) fn flush(self, tx: &Transaction<'_>) -> Result<Vec<String>> {
        let mut up = tx.prepare_cached(
            "INSERT INTO balances (account, currency, posted_minor, pending_debit_minor, pending_credit_minor)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (account, currency) DO UPDATE SET
                posted_minor = posted_minor + excluded.posted_minor,
                pending_debit_minor = pending_debit_minor + excluded.pending_debit_minor,
                pending_credit_minor = pending_credit_minor + excluded.pending_credit_minor",
        )?;
        for ((account, currency), b) in &self.balances {
            if b.iter().all(|v| *v == 0) {
                continue;
            }
            up.execute(params![account, currency.code(), b[0], b[1], b[2]])?;
        }
        let mut get = tx.prepare_cached(
            "SELECT spent, missing_rates FROM budget_period_totals WHERE budget_id = ?1 AND period_start = ?2",
        )?;
        let mut put = tx.prepare_cached(
            "INSERT OR REPLACE INTO budget_period_totals (budget_id, period_start, spent, missing_rates)
             VALUES (?1, ?2, ?3, ?4)",
        )?;
        for ((i, start), (delta, missing)) in &self.totals {
            let id = &self.scopes[*i].id;
            let start = start.to_string();
            let old: Option<(String, i64)> = get
                .query_row(params![id, start], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let (spent, had_missing) = match old {
                Some((s, m)) => (
                    s.parse::<Decimal>()
                        .map_err(|_| Error::Corrupt("a budget total"))?,
                    m,
                ),
                None => (Decimal::ZERO, 0),
            };
            let spent = spent
                .checked_add(*delta)
                .ok_or(Error::InvalidAmount("the budget total is out of range"))?;
            put.execute(params![
                id,
                start,
                spent.normalize().to_string(),
                had_missing + missing
            ])?;
        }
        Ok(self
            .touched
            .iter()
            .map(|i| self.scopes[*i].id.clone())
            .collect())
    }
}

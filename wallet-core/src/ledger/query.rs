//! Reading the ledger: balances from the maintained aggregate, and history
//! pages by keyset pagination on (booking time, insertion order), which
//! costs the same on page 1 and page 2,000.

use rusqlite::params;
use serde::Serialize;

use crate::categories::CategoryTree;
use crate::error::{Error, Result};
use crate::ledger::{LedgerEntry, StoredRow, SELECT_ROW};
use crate::money::{Currency, Money};
use crate::wallet::Wallet;

/// One account's money in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Balance {
    pub account: String,
    pub currency: Currency,
    /// What the bank has posted.
    pub posted: Money,
    /// Local holds not yet posted (a positive amount).
    pub pending_holds: Money,
    /// `posted - pending_holds`.
    pub available: Money,
    /// Scheduled bills not yet paid (a positive amount).
    pub scheduled_bills: Money,
    /// `available - scheduled_bills`.
    pub projected: Money,
}

/// Which page of history to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryQuery {
    pub account: Option<String>,
    /// A category id or name; its sub-categories are included.
    pub category: Option<String>,
    /// Rows per page, 1 to 500.
    pub limit: u32,
    /// The `next` cursor of the previous page; `None` for the newest entries.
    pub before: Option<String>,
}

impl Default for HistoryQuery {
    fn default() -> Self {
        HistoryQuery {
            account: None,
            category: None,
            limit: 50,
            before: None,
        }
    }
}

/// A page of history, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryPage {
    pub entries: Vec<LedgerEntry>,
    /// Pass as `before` for the next (older) page; `None` at the end.
    pub next: Option<String>,
}

fn parse_cursor(c: &str) -> Result<(i64, i64)> {
    let bad = || Error::InvalidText {
        field: "cursor",
        reason: "use the `next` value of the previous page",
    };
    let (a, b) = c.split_once(':').ok_or_else(bad)?;
    Ok((a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?))
}

impl Wallet {
    /// Balances per account and currency.
    pub fn balances(&self) -> Result<Vec<Balance>> {
        self.keys()?;
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT b.account, b.currency, b.posted_minor, b.pending_debit_minor,
                COALESCE((SELECT SUM(s.amount_minor) FROM scheduled_bills s
                          WHERE s.account = b.account AND s.currency = b.currency AND s.deleted = 0), 0)
             FROM balances b ORDER BY b.account, b.currency",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (account, currency, posted, pending_debit, bills) = row?;
            let c = Currency::from_code(&currency).map_err(|_| Error::Corrupt("a balance"))?;
            let m = |v: i64| Money::from_minor(v, c);
            let available = posted + pending_debit;
            out.push(Balance {
                account,
                currency: c,
                posted: m(posted),
                pending_holds: m(-pending_debit),
                available: m(available),
                scheduled_bills: m(bills),
                projected: m(available - bills),
            });
        }
        Ok(out)
    }

    /// Balances of one account.
    pub fn balance(&self, account: &str) -> Result<Vec<Balance>> {
        Ok(self
            .balances()?
            .into_iter()
            .filter(|b| b.account == account)
            .collect())
    }

    /// A page of history, newest first.
    pub fn history(&self, q: &HistoryQuery) -> Result<HistoryPage> {
        self.keys()?;
        if !(1..=500).contains(&q.limit) {
            return Err(Error::InvalidText {
                field: "limit",
                reason: "ask for 1 to 500 rows",
            });
        }
        let (before_ms, before_seq) = match &q.before {
            Some(c) => parse_cursor(c)?,
            None => (i64::MAX, i64::MAX),
        };
        let conn = self.conn();
        let tree = CategoryTree::load(&conn)?;
        let categories: Option<Vec<String>> = q
            .category
            .as_deref()
            .map(|c| {
                tree.find(c)
                    .map(|id| tree.subtree(&id).into_iter().collect())
            })
            .transpose()?;
        // Row values let SQLite walk the (booked_at_ms, seq) index backwards
        // from the cursor and stop after `limit` rows.
        let mut sql = format!("{SELECT_ROW} WHERE (booked_at_ms, seq) < (?1, ?2)");
        if q.account.is_some() {
            sql.push_str(" AND account = ?3");
        }
        if let Some(cats) = &categories {
            sql.push_str(" AND category IN (SELECT value FROM json_each(?4))");
            let _ = cats;
        }
        sql.push_str(" ORDER BY booked_at_ms DESC, seq DESC LIMIT ?5");
        let cats_json = categories
            .as_ref()
            .map(|c| serde_json::to_string(c).unwrap_or_default());
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![before_ms, before_seq, q.account, cats_json, q.limit + 1],
            StoredRow::from_row,
        )?;
        let mut rows: Vec<StoredRow> = rows.collect::<rusqlite::Result<_>>()?;
        let next = if rows.len() > q.limit as usize {
            rows.truncate(q.limit as usize);
            rows.last().map(|r| format!("{}:{}", r.booked_at_ms, r.seq))
        } else {
            None
        };
        Ok(HistoryPage {
            entries: rows.iter().map(|r| r.to_entry(&tree)).collect(),
            next,
        })
    }

    /// One entry by its id, or by a unique prefix of at least 6 characters.
    pub fn entry(&self, id: &str) -> Result<LedgerEntry> {
        self.keys()?;
        let conn = self.conn();
        let tree = CategoryTree::load(&conn)?;
        if let Some(row) = StoredRow::by_id(&conn, id)? {
            return Ok(row.to_entry(&tree));
        }
        if id.len() < 6 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Error::EntryNotFound);
        }
        let mut stmt = conn.prepare_cached(&format!(
            "{SELECT_ROW} WHERE id >= ?1 AND id < ?1 || 'g' ORDER BY id LIMIT 2"
        ))?;
        let rows: Vec<StoredRow> = stmt
            .query_map([id.to_ascii_lowercase()], StoredRow::from_row)?
            .collect::<rusqlite::Result<_>>()?;
        match rows.as_slice() {
            [one] => Ok(one.to_entry(&tree)),
            [] => Err(Error::EntryNotFound),
            _ => Err(Error::InvalidText {
                field: "transaction",
                reason: "the prefix matches several transactions; give more of the id",
            }),
        }
    }

    /// The number of entries in the ledger.
    pub fn entry_count(&self) -> Result<u64> {
        self.keys()?;
        Ok(self
            .conn()
            .query_row("SELECT COUNT(*) FROM ledger_entries", [], |r| r.get(0))?)
    }

    /// Recomputes the balances from the ledger and compares them with the
    /// maintained aggregate; for crash tests and diagnostics.
    pub fn verify_balances(&self) -> Result<bool> {
        self.keys()?;
        let conn = self.conn();
        let mismatches: i64 = conn.query_row(
            "WITH derived AS (
                SELECT account, currency,
                    SUM(CASE WHEN status IN ('posted', 'refunded') THEN amount_minor ELSE 0 END) AS posted,
                    SUM(CASE WHEN status = 'pending' AND amount_minor < 0 THEN amount_minor ELSE 0 END) AS debit,
                    SUM(CASE WHEN status = 'pending' AND amount_minor >= 0 THEN amount_minor ELSE 0 END) AS credit
                FROM ledger_entries GROUP BY account, currency)
             SELECT COUNT(*) FROM derived d LEFT JOIN balances b USING (account, currency)
             WHERE COALESCE(b.posted_minor, 0) != d.posted
                OR COALESCE(b.pending_debit_minor, 0) != d.debit
                OR COALESCE(b.pending_credit_minor, 0) != d.credit",
            [],
            |r| r.get(0),
        )?;
        Ok(mismatches == 0)
    }
}

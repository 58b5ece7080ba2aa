//! Scheduled bills: known upcoming payments that the projected balance
//! subtracts before they happen. Cancelling or paying one removes it (a
//! tombstone, so sync can merge it like other user-edited rows).

use rusqlite::params;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::ledger::{check_instant, check_key, check_magnitude, clean_text};
use crate::money::{Currency, Money};
use crate::wallet::{new_id, Wallet};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBill {
    pub account: String,
    pub name: String,
    /// A magnitude: the money the bill will take.
    pub amount: Money,
    pub due_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduledBill {
    pub id: String,
    pub account: String,
    pub name: String,
    pub amount: Money,
    pub due_ms: i64,
}

impl Wallet {
    pub fn schedule_bill(&self, bill: &NewBill) -> Result<ScheduledBill> {
        self.keys()?;
        check_key("account", &bill.account)?;
        check_instant("due date", bill.due_ms)?;
        let minor = check_magnitude(&bill.amount)?;
        let name = clean_text("bill name", Some(&bill.name))?.ok_or(Error::InvalidText {
            field: "bill name",
            reason: "give the bill a name",
        })?;
        let id = new_id()?;
        let now = self.now_ms();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let hlc = crate::hlc::next(&tx, now)?;
        tx.execute(
            "INSERT INTO scheduled_bills (id, account, name, amount_minor, currency, due_ms, created_ms, updated_hlc)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                id,
                bill.account,
                name,
                minor,
                bill.amount.currency().code(),
                bill.due_ms,
                now,
                hlc
            ],
        )?;
        tx.commit()?;
        Ok(ScheduledBill {
            id,
            account: bill.account.clone(),
            name,
            amount: bill.amount,
            due_ms: bill.due_ms,
        })
    }

    /// Bills still scheduled, soonest first.
    pub fn scheduled_bills(&self) -> Result<Vec<ScheduledBill>> {
        self.keys()?;
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, account, name, amount_minor, currency, due_ms FROM scheduled_bills
             WHERE deleted = 0 ORDER BY due_ms, id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })?;
        rows.map(|row| {
            let (id, account, name, minor, currency, due_ms) = row?;
            let c = Currency::from_code(&currency).map_err(|_| Error::Corrupt("a bill"))?;
            Ok(ScheduledBill {
                id,
                account,
                name,
                amount: Money::from_minor(minor, c),
                due_ms,
            })
        })
        .collect()
    }

    /// Removes a bill once it is paid or no longer due.
    pub fn remove_bill(&self, id: &str) -> Result<()> {
        self.keys()?;
        let now = self.now_ms();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let hlc = crate::hlc::next(&tx, now)?;
        let n = tx.execute(
            "UPDATE scheduled_bills SET deleted = 1, updated_hlc = ?2 WHERE id = ?1 AND deleted = 0",
            params![id, hlc],
        )?;
        if n == 0 {
            return Err(Error::BillNotFound);
        }
        tx.commit()?;
        Ok(())
    }
}

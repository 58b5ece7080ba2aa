//! The user's own annotations of ledger entries: a category override and a
//! note. The entries are the bank's, but these are the user's, so sync
//! merges them per field like budgets: each entry is a record of the
//! `notes` collection, keyed by the entry's id (the same on every device,
//! see `record::stable_id`), with the fields `category` (a category id, or
//! null for "back to the automatic one") and `note` (text, or null).
//!
//! An annotation can arrive before its entry (another device categorised a
//! payment the bank has not posted here yet); it waits in its registers and
//! is applied when the entry is written ([`annotate`]).

use std::collections::BTreeMap;

use billfold_protocol::Collection;
use rusqlite::{params, Transaction};
use serde_json::{json, Value};

use super::{clean_text, Aggregates, LedgerEntry, StoredRow};
use crate::categories::CategoryTree;
use crate::error::{Error, Result};
use crate::replica::{
    as_opt_id, as_opt_str, registers, write_local, Rebuilt, Register, RejectReason,
};
use crate::wallet::Wallet;

fn note_value(v: &Value) -> std::result::Result<Option<String>, RejectReason> {
    clean_text("note", as_opt_str(v)?).map_err(|_| RejectReason::InvalidValue)
}

/// Checks a pulled field; returns the value to store instead when it
/// differs (a note with a card number in it is stored masked, as a local
/// note would be).
pub(crate) fn normalize(
    field: &str,
    v: &Value,
) -> std::result::Result<Option<Value>, RejectReason> {
    match field {
        "category" => as_opt_id(v).map(|_| None),
        "note" => {
            let clean = json!(note_value(v)?);
            Ok((clean != *v).then_some(clean))
        }
        _ => Err(RejectReason::UnknownField),
    }
}

/// A user's annotation: `Some(None)` clears.
struct Annotation {
    category: Option<Option<String>>,
    note: Option<Option<String>>,
}

impl Annotation {
    fn from_registers(regs: &BTreeMap<String, Register>) -> Self {
        Annotation {
            category: regs.get("category").and_then(|r| as_opt_id(&r.value).ok()),
            note: regs.get("note").and_then(|r| note_value(&r.value).ok()),
        }
    }

    fn apply(&self, tree: &CategoryTree, row: &mut StoredRow) {
        if let Some(chosen) = &self.category {
            row.category = tree.effective(chosen.as_deref(), &row.auto_category);
        }
        if let Some(note) = &self.note {
            row.note = note.clone();
        }
    }
}

/// Applies the user's synced annotation, if any, to an entry the bank is
/// writing, so it survives postings and arrives with entries pulled late.
pub(crate) fn annotate(
    tx: &Transaction<'_>,
    tree: &CategoryTree,
    row: &mut StoredRow,
) -> Result<()> {
    let regs = registers(tx, Collection::Notes, &row.id)?;
    if !regs.is_empty() {
        Annotation::from_registers(&regs).apply(tree, row);
    }
    Ok(())
}

/// Records the user's category for an entry (the override the ledger's
/// write path keeps across postings) and queues it for sync.
pub(crate) fn record_override(
    tx: &Transaction<'_>,
    entry_id: &str,
    category: &str,
    now_ms: i64,
) -> Result<()> {
    let stamp = crate::hlc::tick(tx, now_ms)?;
    tx.execute(
        "INSERT OR REPLACE INTO category_overrides (entry_id, category_id, updated_hlc, deleted)
         VALUES (?1, ?2, ?3, 0)",
        params![entry_id, category, crate::hlc::text(&stamp)],
    )?;
    write_local(
        tx,
        Collection::Notes,
        entry_id,
        &stamp,
        vec![("category", json!(category))],
        now_ms,
    )
}

/// Rebuilds an entry's override and note from its registers after a pull.
/// The entry's spending moves between budgets through `agg`.
pub(crate) fn rebuild(
    tx: &Transaction<'_>,
    tree: &CategoryTree,
    agg: &mut Aggregates,
    entry_id: &str,
    regs: &BTreeMap<String, Register>,
    now_ms: i64,
) -> Result<Rebuilt> {
    let annotation = Annotation::from_registers(regs);
    if let (Some(chosen), Some(reg)) = (&annotation.category, regs.get("category")) {
        let stamp = crate::hlc::text(&reg.hlc);
        match chosen {
            Some(c) => tx.execute(
                "INSERT OR REPLACE INTO category_overrides (entry_id, category_id, updated_hlc, deleted)
                 VALUES (?1, ?2, ?3, 0)",
                params![entry_id, c, stamp],
            )?,
            None => tx.execute(
                "UPDATE category_overrides SET deleted = 1, updated_hlc = ?2 WHERE entry_id = ?1",
                params![entry_id, stamp],
            )?,
        };
    }
    let Some(old) = StoredRow::by_id(tx, entry_id)? else {
        return Ok(Rebuilt::Incomplete);
    };
    let mut row = old.clone();
    annotation.apply(tree, &mut row);
    if row == old {
        return Ok(Rebuilt::Unchanged);
    }
    agg.add(&old, -1);
    agg.add(&row, 1);
    row.update(tx, now_ms)?;
    Ok(Rebuilt::Changed)
}

impl Wallet {
    /// Sets or clears (`None`, or blank) the note on a transaction. Notes
    /// are free text, at most 200 characters; anything that looks like a
    /// card number is masked. Synced to the user's other devices.
    pub fn set_note(&self, id: &str, note: Option<&str>) -> Result<LedgerEntry> {
        self.keys()?;
        let note = clean_text("note", note)?;
        let now = self.now_ms();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let tree = CategoryTree::load(&tx)?;
        let old = StoredRow::by_id(&tx, id)?.ok_or(Error::EntryNotFound)?;
        if old.note == note {
            return Ok(old.to_entry(&tree));
        }
        let stamp = crate::hlc::tick(&tx, now)?;
        let mut row = old.clone();
        row.note = note;
        row.update(&tx, now)?;
        write_local(
            &tx,
            Collection::Notes,
            &row.id,
            &stamp,
            vec![("note", json!(row.note))],
            now,
        )?;
        tx.commit()?;
        Ok(row.to_entry(&tree))
    }
}

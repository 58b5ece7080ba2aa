//! A hybrid logical clock for user-editable rows (budgets, categories,
//! category overrides, bills), so sync can merge them per row, last writer
//! wins, with tombstones.
//!
//! A stamp is `"<13-digit UTC ms>-<5-digit counter>-<device id>"`. The fixed
//! widths make text order equal clock order, so SQLite can compare stamps
//! directly, and the device id breaks ties between devices deterministically.
//! The seed rows of a fresh database carry the stamp `"0"`, which every real
//! stamp beats.

use rusqlite::Transaction;

use crate::error::Result;

/// The next stamp for a change made now on this device: never earlier than
/// the last one issued here, even if the wall clock steps back.
pub(crate) fn next(tx: &Transaction<'_>, now_ms: i64) -> Result<String> {
    let (device, last_ms, counter): (String, i64, i64) = tx.query_row(
        "SELECT device, last_ms, counter FROM hlc_state WHERE id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let (ms, counter) = if now_ms > last_ms {
        (now_ms, 0)
    } else {
        (last_ms, counter + 1)
    };
    tx.execute(
        "UPDATE hlc_state SET last_ms = ?1, counter = ?2 WHERE id = 1",
        rusqlite::params![ms, counter],
    )?;
    Ok(format!("{ms:013}-{counter:05}-{device}"))
}

//! The wallet's hybrid logical clock, which stamps every write to
//! user-editable data (budgets, categories, notes) so sync can merge it per
//! field, last writer wins, the same way on every device and on the bank.
//!
//! A stamp is the wire's [`Hlc`]: (wall ms, counter, node), ordered in that
//! order, where the node is this wallet's random device id (`hlc_state`).
//! Stamps issued here only grow, even if the wall clock steps back, and
//! after a pull they are past every stamp received ([`observe`]), so a local
//! edit made after seeing another device's edit always wins over it.
//!
//! Rows also keep a text form, `"<13-digit ms>-<5-digit counter>-<node>"`,
//! in their `updated_hlc` column; it is informational. The merge compares
//! the numeric per-field stamps in `replica_fields`, never the text, because
//! a counter received from another device may be wider than five digits.
//! The seed rows of a fresh database carry the text stamp `"0"`.

use billfold_protocol::Hlc;
use rusqlite::{params, Connection, Transaction};

use crate::error::Result;

/// The bank refuses counters above this; a counter that would pass it moves
/// the clock on by a millisecond instead.
const MAX_COUNTER: u32 = i32::MAX as u32;
/// 13 decimal digits of milliseconds: the year 2286. A stamp beyond it is
/// not a clock reading.
pub(crate) const MAX_WALL_MS: u64 = 9_999_999_999_999;

fn state(conn: &Connection) -> Result<(String, i64, i64)> {
    Ok(conn
        .prepare_cached("SELECT device, last_ms, counter FROM hlc_state WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?)
}

fn store(conn: &Connection, ms: i64, counter: i64) -> Result<()> {
    conn.prepare_cached("UPDATE hlc_state SET last_ms = ?1, counter = ?2 WHERE id = 1")?
        .execute(params![ms, counter])?;
    Ok(())
}

/// The next stamp for a change made now on this device: later than every
/// stamp issued or received here. Call it inside the change's transaction,
/// so a rolled-back change does not advance the clock.
pub(crate) fn tick(tx: &Transaction<'_>, now_ms: i64) -> Result<Hlc> {
    let (node, last_ms, counter) = state(tx)?;
    let (ms, counter) = if now_ms > last_ms {
        (now_ms, 0)
    } else if counter >= i64::from(MAX_COUNTER) {
        (last_ms + 1, 0)
    } else {
        (last_ms, counter + 1)
    };
    store(tx, ms, counter)?;
    Ok(Hlc::new(
        ms.max(0) as u64,
        counter.clamp(0, i64::from(MAX_COUNTER)) as u32,
        node,
    ))
}

/// The text form of the next stamp, for `updated_hlc` columns of rows that
/// sync does not merge per field (scheduled bills).
pub(crate) fn next(tx: &Transaction<'_>, now_ms: i64) -> Result<String> {
    Ok(text(&tick(tx, now_ms)?))
}

/// This device's node id in stamps.
pub(crate) fn node(conn: &Connection) -> Result<String> {
    Ok(state(conn)?.0)
}

/// The receive rule: the clock moves past a stamp from another device, so
/// the next local stamp is greater than it. `remote` must have passed
/// [`check_remote`].
pub(crate) fn observe(tx: &Transaction<'_>, remote: &Hlc) -> Result<()> {
    let (_, last_ms, counter) = state(tx)?;
    let remote_at = (remote.wall_ms as i64, i64::from(remote.counter));
    if remote_at > (last_ms, counter) {
        store(tx, remote_at.0, remote_at.1)?;
    }
    Ok(())
}

/// Whether a stamp from another device can be trusted as one: a node id the
/// bank would accept, and a time and counter the clock can represent.
///
/// A stamp far ahead of this device's wall clock is still accepted: the
/// bank already refuses stamps more than five minutes ahead of its own
/// clock, so one that is far ahead of ours means our clock is behind, and
/// adopting it is exactly what keeps our next edits ordered after it.
pub(crate) fn check_remote(h: &Hlc) -> bool {
    !h.node.is_empty()
        && h.node.len() <= 64
        && !h.node.chars().any(char::is_control)
        && h.wall_ms <= MAX_WALL_MS
        && h.counter <= MAX_COUNTER
}

pub(crate) fn text(h: &Hlc) -> String {
    format!("{:013}-{:05}-{}", h.wall_ms, h.counter, h.node)
}

//! The wallet's SQLite file: connection settings and versioned migrations.
//!
//! WAL with `synchronous=FULL` makes every committed transaction durable
//! across a power cut or kill -9; `secure_delete` overwrites freed pages so
//! a removed card's ciphertext does not linger; temp data stays in memory so
//! no secret ever reaches a temp file.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};

/// Each entry moves the schema from version `i` to `i + 1`. Append only:
/// an entry that has shipped is never edited.
pub const MIGRATIONS: &[&str] = &[
    // 1: the vault and cards.
    "CREATE TABLE vault (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        wrapped_key BLOB NOT NULL,
        key_version INTEGER NOT NULL,
        key_check   BLOB NOT NULL
    );
    CREATE TABLE cards (
        id          TEXT PRIMARY KEY,
        fingerprint BLOB NOT NULL UNIQUE,
        network     TEXT NOT NULL,
        pan_ct      BLOB NOT NULL,
        expiry_ct   BLOB NOT NULL,
        name_ct     BLOB NOT NULL,
        nickname    TEXT,
        frozen      INTEGER NOT NULL DEFAULT 0,
        is_default  INTEGER NOT NULL DEFAULT 0,
        created_ms  INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX cards_one_default ON cards (is_default) WHERE is_default = 1;",
];

pub const LATEST: u32 = MIGRATIONS.len() as u32;

pub(crate) fn open(path: &Path, create: bool) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    configure(&conn)?;
    Ok(conn)
}

pub(crate) fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Storage(format!("could not enable WAL (got {mode})")));
    }
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA temp_store = MEMORY;",
    )?;
    Ok(())
}

pub(crate) fn schema_version(conn: &Connection) -> Result<u32> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Brings the schema to `target`, one transaction per step, so a crash
/// mid-migration leaves a database at a known earlier version.
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<()> {
    let current = schema_version(conn)?;
    if current > LATEST {
        return Err(Error::SchemaTooNew(current));
    }
    for v in current..target.min(LATEST) {
        let tx = conn.transaction()?;
        tx.execute_batch(MIGRATIONS[v as usize])?;
        tx.pragma_update(None, "user_version", v + 1)?;
        tx.commit()?;
    }
    Ok(())
}

pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    migrate_to(conn, LATEST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_applied() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join("w.db"), true).unwrap();
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        let fk: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!((sync, fk, mode.as_str()), (2, 1, "wal"));
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir.path().join("w.db"), true).unwrap();
        conn.pragma_update(None, "user_version", LATEST + 1)
            .unwrap();
        assert!(matches!(migrate(&mut conn), Err(Error::SchemaTooNew(_))));
    }
}

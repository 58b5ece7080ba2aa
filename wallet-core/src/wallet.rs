//! The `Wallet`: one data directory, one SQLite file, one vault.
//!
//! Every other module adds its operations to `Wallet` in its own `impl`
//! block; this one owns opening, creating, locking and closing.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension};

use crate::clock::Clock;
use crate::db;
use crate::error::{Error, Result};
use crate::vault::{KeyStore, Keys, Vault};

pub struct Wallet {
    conn: Mutex<Connection>,
    pub(crate) vault: Vault,
    pub(crate) clock: Arc<dyn Clock>,
    db_path: PathBuf,
    /// Budget alerts and transaction notifications (see `alerts`).
    pub(crate) alert_listener: crate::alerts::ListenerSlot,
    /// The HCE card application's session (see `tap`).
    pub(crate) tap: crate::tap::TapSlot,
    /// The bank link (see `sync`).
    pub(crate) sync: crate::sync::SyncSlot,
}

impl Wallet {
    /// The database's file name inside the data directory.
    pub const DB_FILE: &'static str = "wallet.db";

    /// Creates a wallet in `dir` with a fresh data key wrapped by `keystore`.
    /// A directory whose earlier `create` was interrupted is finished, not refused.
    pub fn create(dir: &Path, keystore: Arc<dyn KeyStore>, clock: Arc<dyn Clock>) -> Result<Self> {
        Self::create_at_schema(dir, keystore, clock, db::LATEST)
    }

    /// Creates a wallet whose schema stops at `version`, as an older release
    /// left it; for the migration tests.
    #[doc(hidden)]
    pub fn create_at_schema(
        dir: &Path,
        keystore: Arc<dyn KeyStore>,
        clock: Arc<dyn Clock>,
        version: u32,
    ) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let db_path = dir.join(Self::DB_FILE);
        let mut conn = db::open(&db_path, true)?;
        db::migrate_to(&mut conn, version.max(1))?;
        let has_key: Option<i64> = conn
            .query_row("SELECT id FROM vault", [], |r| r.get(0))
            .optional()?;
        if has_key.is_some() {
            return Err(Error::WalletExists);
        }
        let vault = Vault::new(keystore, clock.clone());
        vault.initialise(&conn)?;
        Ok(Wallet {
            conn: Mutex::new(conn),
            vault,
            clock,
            db_path,
            alert_listener: Default::default(),
            tap: Default::default(),
            sync: Default::default(),
        })
    }

    /// Opens the wallet in `dir` and unlocks it. The key is checked before
    /// any migration runs, so a wrong key store leaves the file as it was.
    pub fn open(dir: &Path, keystore: Arc<dyn KeyStore>, clock: Arc<dyn Clock>) -> Result<Self> {
        let db_path = dir.join(Self::DB_FILE);
        if !db_path.is_file() {
            return Err(Error::WalletNotFound);
        }
        let mut conn = db::open(&db_path, false)?;
        if db::schema_version(&conn)? == 0 {
            return Err(Error::WalletNotFound);
        }
        let vault = Vault::new(keystore, clock.clone());
        vault.unlock(&conn)?;
        db::migrate(&mut conn)?;
        Ok(Wallet {
            conn: Mutex::new(conn),
            vault,
            clock,
            db_path,
            alert_listener: Default::default(),
            tap: Default::default(),
            sync: Default::default(),
        })
    }

    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    /// Drops the keys from memory. Everything that reads or writes card
    /// data answers `Locked` until `unlock`.
    pub fn lock(&self) {
        self.vault.lock();
    }

    pub fn unlock(&self) -> Result<()> {
        self.vault.unlock(&self.conn())
    }

    pub fn is_locked(&self) -> bool {
        self.vault.is_locked()
    }

    /// Locks after `timeout_ms` without use; `None` turns auto-lock off.
    pub fn set_auto_lock(&self, timeout_ms: Option<i64>) {
        self.vault.set_auto_lock(timeout_ms);
    }

    /// Folds the WAL back into the main file, e.g. before a backup.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// SQLite's own consistency check; "ok" when healthy.
    pub fn schema_version(&self) -> Result<u32> {
        db::schema_version(&self.conn())
    }

    pub fn integrity_check(&self) -> Result<String> {
        Ok(self
            .conn()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// Locks and closes. Dropping a `Wallet` does the same; this makes it
    /// explicit, and reports a failure to close.
    pub fn close(self) -> Result<()> {
        self.vault.lock();
        let conn = self.conn.into_inner().unwrap_or_else(|p| p.into_inner());
        conn.close().map_err(|(_, e)| Error::from(e))
    }

    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        // SQLite rolls back an unfinished transaction when its guard is
        // dropped during a panic, so a poisoned connection is still sound.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn keys(&self) -> Result<Arc<Keys>> {
        self.vault.keys()
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now_millis()
    }
}

/// A random identifier for a new row: 128 bits, hex.
pub(crate) fn new_id() -> Result<String> {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut b = [0u8; 16];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| Error::KeyStore("the system random generator failed".into()))?;
    Ok(hex::encode(b))
}

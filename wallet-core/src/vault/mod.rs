//! The vault: the key hierarchy and the locked/unlocked state of a wallet.
//!
//! The platform's `KeyStore` wraps one random 256-bit data key, stored only
//! wrapped in the database. Unlocking unwraps it and derives one key per
//! purpose with HKDF; locking, explicitly or after the auto-lock timeout,
//! drops those keys from memory.

mod field;
mod keys;
mod keystore;

pub use field::{FieldCipher, FieldRef};
pub use keys::Keys;
pub use keystore::{KdfParams, KeyStore, KeyStoreError, PassphraseKeyStore, SoftwareKeyStore};

use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension};
use zeroize::Zeroizing;

use crate::clock::Clock;
use crate::error::{Error, Result};
use keys::DataKey;

/// The current data-key version, bound into every ciphertext's associated data.
pub const KEY_VERSION: u32 = 1;

pub struct Vault {
    keystore: Arc<dyn KeyStore>,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

struct State {
    keys: Option<Arc<Keys>>,
    last_used_ms: i64,
    auto_lock_ms: Option<i64>,
}

impl Vault {
    pub(crate) fn new(keystore: Arc<dyn KeyStore>, clock: Arc<dyn Clock>) -> Self {
        Vault {
            keystore,
            clock,
            state: Mutex::new(State {
                keys: None,
                last_used_ms: 0,
                auto_lock_ms: None,
            }),
        }
    }

    /// Generates the data key, stores it wrapped, and leaves the vault unlocked.
    pub(crate) fn initialise(&self, conn: &Connection) -> Result<()> {
        let data_key = DataKey::generate()?;
        let wrapped = self.keystore.wrap_key(data_key.as_bytes())?;
        let keys = Keys::derive(&data_key, KEY_VERSION)?;
        conn.execute(
            "INSERT INTO vault (id, wrapped_key, key_version, key_check) VALUES (1, ?1, ?2, ?3)",
            rusqlite::params![wrapped, KEY_VERSION, keys.key_check().as_slice()],
        )?;
        self.install(keys);
        Ok(())
    }

    /// Unwraps the data key with the key store and checks it belongs to this
    /// database. Reads only: a failed unlock leaves the file untouched.
    pub(crate) fn unlock(&self, conn: &Connection) -> Result<()> {
        let row: Option<(Vec<u8>, u32, Vec<u8>)> = conn
            .query_row(
                "SELECT wrapped_key, key_version, key_check FROM vault WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let (wrapped, version, check) = row.ok_or(Error::Corrupt("the wallet has no data key"))?;
        let raw = Zeroizing::new(self.keystore.unwrap_key(&wrapped)?);
        let data_key = DataKey::from_bytes(&raw).ok_or(Error::WrongKeyStore)?;
        let keys = Keys::derive(&data_key, version)?;
        if !keys.matches_check(&check) {
            return Err(Error::WrongKeyStore);
        }
        self.install(keys);
        Ok(())
    }

    fn install(&self, keys: Keys) {
        let mut st = self.state();
        st.keys = Some(Arc::new(keys));
        st.last_used_ms = self.clock.now_millis();
    }

    /// Drops the keys from memory; later calls that need them answer `Locked`.
    pub fn lock(&self) {
        self.state().keys = None;
    }

    pub fn is_locked(&self) -> bool {
        self.keys().is_err()
    }

    /// Locks after `timeout_ms` without use; `None` never auto-locks.
    pub fn set_auto_lock(&self, timeout_ms: Option<i64>) {
        self.state().auto_lock_ms = timeout_ms;
    }

    /// The unlocked keys, or `Locked`. Counts as use for auto-lock.
    pub fn keys(&self) -> Result<Arc<Keys>> {
        let now = self.clock.now_millis();
        let mut st = self.state();
        if let (Some(limit), Some(_)) = (st.auto_lock_ms, &st.keys) {
            if now.saturating_sub(st.last_used_ms) > limit {
                st.keys = None;
            }
        }
        let keys = st.keys.clone().ok_or(Error::Locked)?;
        st.last_used_ms = now;
        Ok(keys)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave State half-updated
        // (every write is a single assignment), so a poisoned lock is safe to use.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

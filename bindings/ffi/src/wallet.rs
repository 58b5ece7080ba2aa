//! The `Wallet` object: one data directory, opened with the platform's key
//! store, closed explicitly.
//!
//! Every method blocks on SQLite (and, when unlocking, on the key store), so
//! apps call it off the main thread. Methods may be called from several
//! threads at once; `close()` waits for calls in flight, and every call
//! after it answers `WalletError.Closed`.

use std::sync::{Arc, PoisonError, RwLock};

use wallet_core::{Clock as CoreClock, NewCard};
use zeroize::Zeroize;

use crate::card::Card;
use crate::clock::{core_clock, Clock};
use crate::error::{guard, WalletError};
use crate::keystore::{KeyStore, Platform};
use crate::validate::{check_card_id, check_len, data_dir_path};

/// A customer's wallet on this device.
#[derive(uniffi::Object)]
pub struct Wallet {
    // `None` once closed. A read lock per call lets calls run in parallel
    // (the core serialises its own SQLite access); `close` takes the write
    // lock so it never pulls the database from under a running call.
    inner: RwLock<Option<wallet_core::Wallet>>,
    /// The wallet's clock, for defaults the bindings fill in ("now").
    clock: Arc<dyn CoreClock>,
}

#[uniffi::export]
impl Wallet {
    /// Creates a new wallet in `data_dir` (an app-private directory) with a
    /// fresh data key wrapped by `key_store`. Fails with `AlreadyExists` if
    /// the directory already holds one.
    ///
    /// `clock` supplies the time (auto-lock, card expiry, budget periods,
    /// booking times); leave it out for the device's clock.
    #[uniffi::constructor(default(clock = None))]
    pub fn create(
        data_dir: String,
        key_store: Arc<dyn KeyStore>,
        clock: Option<Arc<dyn Clock>>,
    ) -> Result<Arc<Self>, WalletError> {
        guard(|| {
            let dir = data_dir_path(&data_dir)?;
            let clock = core_clock(clock);
            let w =
                wallet_core::Wallet::create(&dir, Arc::new(Platform(key_store)), clock.clone())?;
            Ok(Arc::new(Wallet::new(w, clock)))
        })
    }

    /// Opens the wallet in `data_dir` and unlocks it with `key_store`.
    /// Fails with `NotFound` if there is none, and with `KeyStore` if this
    /// key store cannot unwrap its data key; the files are left untouched.
    /// `clock` as for `create`.
    #[uniffi::constructor(default(clock = None))]
    pub fn open(
        data_dir: String,
        key_store: Arc<dyn KeyStore>,
        clock: Option<Arc<dyn Clock>>,
    ) -> Result<Arc<Self>, WalletError> {
        guard(|| {
            let dir = data_dir_path(&data_dir)?;
            let clock = core_clock(clock);
            let w = wallet_core::Wallet::open(&dir, Arc::new(Platform(key_store)), clock.clone())?;
            Ok(Arc::new(Wallet::new(w, clock)))
        })
    }

    /// Drops the keys from memory (e.g. when the app goes to the
    /// background). Card operations answer `Locked` until `unlock`.
    pub fn lock(&self) {
        let _ = self.with(|w| {
            w.lock();
            Ok(())
        });
    }

    /// Unwraps the data key with the key store again.
    pub fn unlock(&self) -> Result<(), WalletError> {
        self.with(|w| w.unlock())
    }

    /// Whether card data is out of reach until `unlock`. A closed wallet is locked.
    pub fn is_locked(&self) -> bool {
        self.with(|w| Ok(w.is_locked())).unwrap_or(true)
    }

    /// Locks after `timeout_ms` milliseconds without use; `null`/`nil`
    /// turns auto-lock off.
    pub fn set_auto_lock(&self, timeout_ms: Option<u64>) -> Result<(), WalletError> {
        let timeout = match timeout_ms {
            None => None,
            Some(0) => {
                return Err(WalletError::invalid_input(
                    "invalid auto-lock timeout: it must be at least 1 ms",
                ))
            }
            Some(ms) => Some(i64::try_from(ms).map_err(|_| {
                WalletError::invalid_input("invalid auto-lock timeout: it is too large")
            })?),
        };
        self.with(|w| {
            w.set_auto_lock(timeout);
            Ok(())
        })
    }

    /// Adds a card. The number is checked (length, Luhn), the expiry must
    /// be current, and a card already in the wallet is refused as
    /// `AlreadyExists`. The first card becomes the default.
    pub fn add_card(
        &self,
        pan: String,
        expiry: String,
        cardholder_name: String,
        nickname: Option<String>,
    ) -> Result<Card, WalletError> {
        // Scrubs this copy of the number however the call ends.
        let new = Scrubbed(NewCard {
            pan,
            expiry,
            cardholder_name,
            nickname,
        });
        check_len("card number", &new.0.pan, 64)?;
        check_len("expiry", &new.0.expiry, 16)?;
        check_len("cardholder name", &new.0.cardholder_name, 256)?;
        if let Some(n) = &new.0.nickname {
            check_len("nickname", n, 256)?;
        }
        self.with(|w| w.add_card(&new.0)).map(Card::from)
    }

    /// All cards, oldest first, masked.
    pub fn list_cards(&self) -> Result<Vec<Card>, WalletError> {
        self.with(|w| w.list_cards())
            .map(|cards| cards.into_iter().map(Card::from).collect())
    }

    /// One card by id.
    pub fn card(&self, id: String) -> Result<Card, WalletError> {
        check_card_id(&id)?;
        self.with(|w| w.card(&id)).map(Card::from)
    }

    /// The card taps pay with, if there is any card.
    pub fn default_card(&self) -> Result<Option<Card>, WalletError> {
        self.with(|w| w.default_card()).map(|c| c.map(Card::from))
    }

    /// Makes `id` the card taps pay with.
    pub fn set_default_card(&self, id: String) -> Result<Card, WalletError> {
        check_card_id(&id)?;
        self.with(|w| w.set_default_card(&id)).map(Card::from)
    }

    /// Keeps the card but stops it from paying.
    pub fn freeze_card(&self, id: String) -> Result<Card, WalletError> {
        check_card_id(&id)?;
        self.with(|w| w.freeze_card(&id)).map(Card::from)
    }

    pub fn unfreeze_card(&self, id: String) -> Result<Card, WalletError> {
        check_card_id(&id)?;
        self.with(|w| w.unfreeze_card(&id)).map(Card::from)
    }

    /// Removes a card for good. If it was the default, the oldest
    /// remaining card takes its place.
    pub fn remove_card(&self, id: String) -> Result<(), WalletError> {
        check_card_id(&id)?;
        self.with(|w| w.remove_card(&id))
    }

    /// Locks the wallet and closes its database, reporting any failure to
    /// close. Later calls answer `Closed`; closing twice is harmless.
    ///
    /// Swift calls this; Kotlin's generated `close()` (from `AutoCloseable`,
    /// so `use { }` works) frees the object, which closes the same way, so
    /// this method is left out of the Kotlin bindings (see uniffi.toml).
    pub fn close(&self) -> Result<(), WalletError> {
        guard(|| {
            let taken = self
                .inner
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            match taken {
                Some(w) => Ok(w.close()?),
                None => Ok(()),
            }
        })
    }
}

impl Wallet {
    fn new(w: wallet_core::Wallet, clock: Arc<dyn CoreClock>) -> Self {
        Wallet {
            inner: RwLock::new(Some(w)),
            clock,
        }
    }

    /// The wallet's "now", UTC milliseconds.
    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now_millis()
    }

    /// Runs `f` on the open wallet, or answers `Closed`; a panic becomes
    /// `Internal`. Every exported method goes through here.
    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&wallet_core::Wallet) -> wallet_core::Result<T>,
    ) -> Result<T, WalletError> {
        guard(|| {
            let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
            let w = inner.as_ref().ok_or_else(WalletError::closed)?;
            Ok(f(w)?)
        })
    }
}

/// A `NewCard` whose card number is wiped from memory when dropped.
struct Scrubbed(NewCard);

impl Drop for Scrubbed {
    fn drop(&mut self) {
        self.0.pan.zeroize();
    }
}

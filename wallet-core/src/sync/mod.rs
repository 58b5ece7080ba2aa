//! Sync with the bank: enrollment, signed requests, the outbox push and the
//! feed pull (`POST /v1/sync`), QR payments, and the bank as token service.
//!
//! DESIGN's rules, and where each one lives:
//! - every change for the bank is an outbox row with an idempotency key,
//!   written in the same transaction as the change; a row leaves the
//!   outbox only in the transaction that applies the bank's answer for it
//!   ([`engine`]);
//! - a request whose outcome is unknown is retried with the same key
//!   ([`client`]); the bank applies each key once;
//! - the pull is applied in one SQLite transaction, together with the
//!   cursor, so a crash leaves either all of it or none;
//! - the ledger is the bank's: pulled entries replace pending holds by
//!   idempotency key (or token and ATC for taps) and are never merged.

mod client;
mod engine;
mod enroll;
#[doc(hidden)]
pub mod fuzzing;
mod pay;
mod register;

use std::sync::{Arc, Mutex, MutexGuard};

pub use client::{NetworkConfig, RetryPolicy};
pub use engine::{SyncListener, SyncProgress, SyncReport};
pub use enroll::{Enrollment, LinkCode};
pub use pay::QrPayment;
pub use register::BankTokenService;

use crate::error::Result;
use client::BankClient;

/// The wallet's network state: its configuration, the HTTP client built
/// from it (kept, so connections are reused), and a lock so only one sync
/// runs at a time.
#[derive(Default)]
pub(crate) struct SyncSlot {
    config: Mutex<NetworkConfig>,
    client: Mutex<Option<Arc<BankClient>>>,
    running: Mutex<()>,
}

impl SyncSlot {
    pub(crate) fn config(&self) -> NetworkConfig {
        self.config
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(crate) fn set_config(&self, cfg: NetworkConfig) {
        *self.config.lock().unwrap_or_else(|p| p.into_inner()) = cfg;
        *self.client.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    fn set_client(&self, c: BankClient) {
        *self.client.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(c));
    }

    fn client(&self, url: &str) -> Result<Arc<BankClient>> {
        let mut slot = self.client.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = slot.as_ref().filter(|c| c.base_url() == url) {
            return Ok(c.clone());
        }
        let c = Arc::new(BankClient::new(url, &self.config())?);
        *slot = Some(c.clone());
        Ok(c)
    }

    fn exclusive(&self) -> MutexGuard<'_, ()> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl crate::wallet::Wallet {
    /// How the wallet reaches the bank (timeouts, retries, pinning).
    pub fn set_network_config(&self, cfg: NetworkConfig) {
        self.sync.set_config(cfg);
    }
}

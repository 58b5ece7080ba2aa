//! The wallet and its bank, as the apps call it: enrollment, network
//! settings (timeouts, retries, certificate pinning), sync with progress,
//! registering a card for its token, paying a scanned merchant code, and
//! the consumer-presented code shown when offline.
//!
//! Every call here may block on the network for up to the configured
//! timeouts times the retries: call from a background thread (a coroutine
//! on `Dispatchers.IO`, a Swift `Task`), never from the UI thread.

use std::sync::Arc;

use wallet_core::{
    ConsumerPaymentCode as CoreCode, Enrollment as CoreEnrollment, NetworkConfig as CoreNetwork,
    QrPayment as CorePayment, RetryPolicy, SyncProgress as CoreProgress, SyncReport as CoreReport,
};

use crate::error::{guard, CallbackError, WalletError};
use crate::ledger::LedgerEntry;
use crate::money::Money;
use crate::qr::{PaymentRequest, QrCode};
use crate::tap::PaymentToken;
use crate::validate::{check_card_id, check_len, check_opt_text, check_text};
use crate::wallet::Wallet;

/// How the wallet reaches the bank.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NetworkConfig {
    pub connect_timeout_ms: u64,
    pub request_timeout_ms: u64,
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// The first retry waits up to this long (full jitter), doubling after.
    pub base_delay_ms: u64,
    pub max_delay_ms: u64,
    /// PEM certificates (the bank's CA or its own). When any are given,
    /// only they are trusted.
    pub pinned_certificates_pem: Vec<String>,
    /// Plain HTTP to loopback, for development only.
    pub allow_loopback_http: bool,
}

/// The defaults a phone on a mobile network should use.
#[uniffi::export]
pub fn default_network_config() -> NetworkConfig {
    let c = CoreNetwork::default();
    NetworkConfig {
        connect_timeout_ms: c.connect_timeout_ms,
        request_timeout_ms: c.request_timeout_ms,
        max_attempts: c.retry.max_attempts,
        base_delay_ms: c.retry.base_delay_ms,
        max_delay_ms: c.retry.max_delay_ms,
        pinned_certificates_pem: c.pinned_certificates_pem,
        allow_loopback_http: c.allow_loopback_http,
    }
}

/// This wallet's registration with its bank.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Enrollment {
    pub server_url: String,
    pub device_id: String,
    pub account_id: String,
    pub currency: String,
    /// The bank's posted balance at the last sync.
    pub posted_balance: Option<Money>,
    pub last_sync_ms: Option<i64>,
    /// Operations waiting to go to the bank.
    pub pending_operations: u64,
}

impl From<CoreEnrollment> for Enrollment {
    fn from(e: CoreEnrollment) -> Self {
        Enrollment {
            server_url: e.server_url,
            device_id: e.device_id,
            account_id: e.account_id,
            currency: e.currency.code().to_string(),
            posted_balance: e.posted_balance.map(Money::exact),
            last_sync_ms: e.last_sync_ms,
            pending_operations: e.pending_operations,
        }
    }
}

/// A one-time code to enroll another device into this account.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LinkCode {
    pub code: String,
    pub expires_at_ms: i64,
}

/// Where a long sync has got to.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncProgress {
    pub round: u32,
    pub pushed: u64,
    pub remaining: u64,
    pub pulled: u64,
    pub has_more: bool,
}

impl From<&CoreProgress> for SyncProgress {
    fn from(p: &CoreProgress) -> Self {
        SyncProgress {
            round: p.round,
            pushed: p.pushed,
            remaining: p.remaining,
            pulled: p.pulled,
            has_more: p.has_more,
        }
    }
}

/// Told after each round of a sync, for a progress indicator. What it
/// throws is dropped: progress is advice, the sync goes on.
#[uniffi::export(with_foreign)]
pub trait SyncListener: Send + Sync {
    fn on_progress(&self, progress: SyncProgress) -> Result<(), CallbackError>;
}

struct Forward(Arc<dyn SyncListener>);

impl wallet_core::SyncListener for Forward {
    fn on_progress(&self, progress: &CoreProgress) {
        let _ = self.0.on_progress(progress.into());
    }
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    pub rounds: u32,
    pub applied: u64,
    /// Operations the bank had already applied (an answer lost earlier).
    pub duplicates: u64,
    pub rejected: u64,
    pub entries_inserted: u32,
    pub entries_updated: u32,
    pub holds_released: u32,
    pub records_merged: u64,
    pub alerts_merged: u64,
    pub keys_added: u32,
}

impl From<CoreReport> for SyncReport {
    fn from(r: CoreReport) -> Self {
        SyncReport {
            rounds: r.rounds,
            applied: r.applied,
            duplicates: r.duplicates,
            rejected: r.rejected,
            entries_inserted: r.entries_inserted,
            entries_updated: r.entries_updated,
            holds_released: r.holds_released,
            records_merged: r.records_merged,
            alerts_merged: r.alerts_merged,
            keys_added: r.keys_added,
        }
    }
}

/// A merchant payment the bank approved.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct QrPayment {
    pub payment_id: String,
    pub total: Money,
    pub entry: LedgerEntry,
}

impl From<CorePayment> for QrPayment {
    fn from(p: CorePayment) -> Self {
        QrPayment {
            payment_id: p.payment_id,
            total: Money::exact(p.total),
            entry: p.entry.into(),
        }
    }
}

/// A consumer-presented code to show the merchant. `payload` carries the
/// token number: display it as a QR code, never log or store it.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct ConsumerPaymentCode {
    pub payload: String,
    pub qr: QrCode,
    pub amount: Money,
    pub masked_pan: String,
    pub atc: u16,
}

impl std::fmt::Debug for ConsumerPaymentCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumerPaymentCode")
            .field("masked_pan", &self.masked_pan)
            .field("atc", &self.atc)
            .finish_non_exhaustive()
    }
}

impl From<CoreCode> for ConsumerPaymentCode {
    fn from(c: CoreCode) -> Self {
        ConsumerPaymentCode {
            payload: c.payload,
            qr: c.matrix.into(),
            amount: Money::exact(c.amount),
            masked_pan: c.masked_pan,
            atc: c.atc,
        }
    }
}

#[uniffi::export]
impl Wallet {
    /// How the wallet reaches the bank; applies to the next request.
    pub fn set_network_config(&self, config: NetworkConfig) -> Result<(), WalletError> {
        if config.pinned_certificates_pem.len() > 16 {
            return Err(WalletError::invalid_input("pin at most 16 certificates"));
        }
        for pem in &config.pinned_certificates_pem {
            check_len("pinned certificate", pem, 64 * 1024)?;
        }
        let cfg = CoreNetwork {
            connect_timeout_ms: config.connect_timeout_ms.clamp(1, 120_000),
            request_timeout_ms: config.request_timeout_ms.clamp(1, 600_000),
            retry: RetryPolicy {
                max_attempts: config.max_attempts.clamp(1, 20),
                base_delay_ms: config.base_delay_ms.min(60_000),
                max_delay_ms: config.max_delay_ms.min(600_000),
            },
            pinned_certificates_pem: config.pinned_certificates_pem,
            allow_loopback_http: config.allow_loopback_http,
        };
        self.with(|w| {
            w.set_network_config(cfg);
            Ok(())
        })
    }

    /// Registers this device with the bank at `server_url` (https, or
    /// http to loopback in development): a new account, or the account of
    /// `link_code`. Cards added before are registered by `register_card`.
    pub fn enroll(
        &self,
        server_url: String,
        device_name: String,
        link_code: Option<String>,
    ) -> Result<Enrollment, WalletError> {
        check_len("server URL", &server_url, 2048)?;
        check_text("device name", &device_name, 64)?;
        check_opt_text("link code", link_code.as_deref(), 64)?;
        self.with(|w| w.enroll(&server_url, &device_name, link_code.as_deref()))
            .map(Into::into)
    }

    /// The enrollment, or nothing before `enroll`.
    pub fn enrollment(&self) -> Result<Option<Enrollment>, WalletError> {
        self.with(|w| w.enrollment()).map(|e| e.map(Into::into))
    }

    /// A one-time code for another device of the same customer.
    pub fn create_link_code(&self) -> Result<LinkCode, WalletError> {
        self.with(|w| w.create_link_code()).map(|c| LinkCode {
            code: c.code,
            expires_at_ms: c.expires_at_ms,
        })
    }

    /// Registers a card with the bank: it issues the card's payment token
    /// and single-use keys. Safe to repeat.
    pub fn register_card(&self, card_id: String) -> Result<PaymentToken, WalletError> {
        check_card_id(&card_id)?;
        self.with(|w| w.register_card(&card_id)).map(Into::into)
    }

    /// Pushes every pending operation and pulls everything new. Safe to
    /// call at any time (one sync runs at a time) and after any failure.
    pub fn sync(&self, listener: Option<Arc<dyn SyncListener>>) -> Result<SyncReport, WalletError> {
        let forward = listener.map(Forward);
        self.with(|w| {
            w.sync(
                forward
                    .as_ref()
                    .map(|f| f as &dyn wallet_core::SyncListener),
            )
        })
        .map(Into::into)
    }

    /// Operations waiting for the bank.
    pub fn pending_operations(&self) -> Result<u64, WalletError> {
        self.with(|w| w.outbox_len())
    }

    /// Pays a scanned merchant code through the bank. The code is read
    /// again from its payload, so what is paid is what the code says.
    /// `Unavailable` with code `offline`: nothing was sent, offer the
    /// consumer-presented code; `payment_unconfirmed`: it will settle at
    /// the next sync, never twice.
    pub fn pay_qr(
        &self,
        request: PaymentRequest,
        amount: Option<Money>,
        tip: Option<Money>,
    ) -> Result<QrPayment, WalletError> {
        check_len("QR payload", &request.payload, 4096)?;
        let amount = amount.map(|m| m.to_core()).transpose()?;
        let tip = tip.map(|m| m.to_core()).transpose()?;
        self.with(|w| {
            let parsed = wallet_core::qr::PaymentRequest::from_payload(&request.payload)?;
            w.pay_qr(&parsed, amount, tip)
        })
        .map(Into::into)
    }

    /// A consumer-presented code for `amount` with the default card. Works
    /// offline; it spends one single-use key.
    pub fn consumer_payment_code(&self, amount: Money) -> Result<ConsumerPaymentCode, WalletError> {
        let amount = amount.to_core()?;
        guard(|| {
            self.with(|w| w.consumer_payment_code(&amount))
                .map(Into::into)
        })
    }
}

//! Shared fixtures for the wallet's tap tests: a wallet with a card and a
//! test token from an in-process issuer, terminal parameters, and a
//! listener that records what the wallet tells the app.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use emv::card::TxnDate;
use emv::kernel::{self, KernelRun, TerminalParams};
use wallet_core::{
    Alert, AlertListener, LedgerEntry, ManualClock, NewCard, SoftwareKeyStore, TestTokenConfig,
    TestTokenService, TokenInfo, Wallet,
};

pub use emv::crypto::Profile;

/// 2026-11-23T12:00:00Z.
pub const NOW_MS: i64 = 1_795_435_200_000;
pub const IMK: [u8; 16] = [
    0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10,
];
pub const TOKEN_PAN: &str = "4761739001010010";
pub const FUNDING_PAN: &str = "4111111111111111";

pub struct TapFixture {
    pub dir: tempfile::TempDir,
    pub keystore: Arc<SoftwareKeyStore>,
    pub clock: Arc<ManualClock>,
    pub wallet: Wallet,
    pub card_id: String,
    pub service: TestTokenService,
    pub token: TokenInfo,
}

pub fn config(profile: Profile, keys: u16) -> TestTokenConfig {
    let mut c = TestTokenConfig::new("291231");
    c.pan = Some(TOKEN_PAN.to_string().into());
    c.psn = 1;
    c.profile = profile;
    c.batch_size = keys;
    c
}

/// A wallet with one (default) card holding a token with `keys` keys.
pub fn tap_fixture(profile: Profile, keys: u16) -> TapFixture {
    let dir = tempfile::tempdir().unwrap();
    let keystore = Arc::new(SoftwareKeyStore::generate().unwrap());
    let clock = Arc::new(ManualClock::new(NOW_MS));
    let wallet = Wallet::create(dir.path(), keystore.clone(), clock.clone()).unwrap();
    let card = wallet
        .add_card(&NewCard {
            pan: FUNDING_PAN.into(),
            expiry: "12/29".into(),
            cardholder_name: "Ada Lovelace".into(),
            nickname: Some("everyday".into()),
        })
        .unwrap();
    let service = TestTokenService::new(IMK, config(profile, keys));
    let token = wallet.provision_token(&card.id, &service).unwrap();
    TapFixture {
        dir,
        keystore,
        clock,
        wallet,
        card_id: card.id,
        service,
        token,
    }
}

impl TapFixture {
    pub fn reopen(&mut self) {
        let w = Wallet::open(self.dir.path(), self.keystore.clone(), self.clock.clone()).unwrap();
        let old = std::mem::replace(&mut self.wallet, w);
        old.close().unwrap();
    }

    pub fn remaining(&self) -> u32 {
        self.wallet
            .token(&self.token.token_id)
            .unwrap()
            .keys
            .remaining
    }
}

/// A €42.50 purchase at a Paris cafe (MCC 5812).
pub fn params() -> TerminalParams {
    TerminalParams::purchase(
        4_250,
        978,
        250,
        TxnDate {
            year: 2026,
            month: 11,
            day: 23,
        },
        [0x12, 0x34, 0x56, 0x78],
        5812,
        "CAFE DE FLORE PARIS",
    )
}

/// Runs the reader kernel against the wallet in-process.
pub fn tap(wallet: &Wallet, params: &TerminalParams) -> KernelRun {
    kernel::run(params, |cmd: &[u8]| {
        Ok::<_, std::convert::Infallible>(wallet.process_apdu(cmd))
    })
}

/// Records what the wallet tells the app.
#[derive(Default)]
pub struct Recorder {
    pub entries: Mutex<Vec<LedgerEntry>>,
    pub alerts: Mutex<Vec<Alert>>,
}

impl AlertListener for Recorder {
    fn on_alert(&self, alert: Alert) {
        self.alerts.lock().unwrap().push(alert);
    }
    fn on_transaction(&self, entry: &LedgerEntry) {
        self.entries.lock().unwrap().push(entry.clone());
    }
}

pub fn read_all(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

/// Packs digit (and D/F) characters into BCD nibbles, F-padded.
pub fn nibbles(s: &str) -> Vec<u8> {
    let n: Vec<u8> = s
        .chars()
        .map(|c| match c {
            'D' => 0xD,
            'F' => 0xF,
            d => d.to_digit(10).unwrap() as u8,
        })
        .collect();
    n.chunks(2)
        .map(|p| (p[0] << 4) | p.get(1).copied().unwrap_or(0xF))
        .collect()
}

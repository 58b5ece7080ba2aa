//! Shared fixtures for the wallet-core integration tests.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use wallet_core::{ManualClock, NewCard, SoftwareKeyStore, Wallet};

/// 2026-11-23T12:00:00Z.
pub const NOW_MS: i64 = 1_795_435_200_000;

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub keystore: Arc<SoftwareKeyStore>,
    pub clock: Arc<ManualClock>,
    pub wallet: Wallet,
}

pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let keystore = Arc::new(SoftwareKeyStore::generate().unwrap());
    let clock = Arc::new(ManualClock::new(NOW_MS));
    let wallet = Wallet::create(dir.path(), keystore.clone(), clock.clone()).unwrap();
    Fixture {
        dir,
        keystore,
        clock,
        wallet,
    }
}

impl Fixture {
    pub fn reopen(&mut self) {
        let w = Wallet::open(self.dir.path(), self.keystore.clone(), self.clock.clone()).unwrap();
        let old = std::mem::replace(&mut self.wallet, w);
        old.close().unwrap();
    }
}

pub fn new_card(pan: &str, nickname: &str) -> NewCard {
    NewCard {
        pan: pan.into(),
        expiry: "12/29".into(),
        cardholder_name: "Ada Lovelace".into(),
        nickname: Some(nickname.into()),
    }
}

/// Valid test PANs of several networks and lengths.
pub const PANS: &[&str] = &[
    "4111111111111111",
    "5555555555554444",
    "378282246310005",
    "6011111111111117",
    "3566002020360505",
    "6200000000000005",
    "4000056655665556",
    "2223003122003222",
];

pub fn read_all(dir: &Path) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

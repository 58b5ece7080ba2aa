//! Shared fixtures for the tap tests: an issuer, a wallet backend holding
//! issuer-provisioned single-use keys, and terminal parameters.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};

use emv::card::{CardApp, CardBackend, Decline, Expiry, Token, TxnDate};
use emv::crypto::{IssuerMasterKey, Profile, SessionKey};
use emv::issuer::Issuer;
use emv::kernel::{self, KernelRun, TerminalParams};

pub const TDES_IMK: [u8; 16] = [
    0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10,
];
pub const AES_IMK: [u8; 16] = [
    0x0F, 0x0E, 0x0D, 0x0C, 0x0B, 0x0A, 0x09, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x00,
];
pub const DKI: u8 = 1;

pub fn issuer() -> Issuer {
    Issuer::new()
        .with_key(DKI, IssuerMasterKey::new(Profile::Tdes, TDES_IMK))
        .with_key(DKI, IssuerMasterKey::new(Profile::Aes, AES_IMK))
}

pub fn tdes_token() -> Token {
    Token::new(
        "card-1",
        hex::decode("A0000000031010").unwrap(),
        "BILLFOLD VISA",
        "4761739001010010",
        1,
        Expiry::parse_yymmdd("301231").unwrap(),
        Profile::Tdes,
        DKI,
    )
    .unwrap()
}

pub fn aes_token() -> Token {
    Token::new(
        "card-2",
        hex::decode("A0000000041010").unwrap(),
        "BILLFOLD MC",
        "5413330089020011",
        3,
        Expiry::parse_yymmdd("290630").unwrap(),
        Profile::Aes,
        DKI,
    )
    .unwrap()
}

/// The wallet as the card sees it: per-token queues of single-use keys
/// from the issuer, plus the lock and freeze switches.
#[derive(Default)]
pub struct TestWallet {
    pub keys: HashMap<String, VecDeque<(u16, SessionKey)>>,
    pub locked: bool,
    pub frozen: Vec<String>,
    pub taken: usize,
}

impl TestWallet {
    /// A wallet provisioned with `count` keys per token from `issuer`.
    pub fn provisioned(issuer: &Issuer, tokens: &[Token], first_atc: u16, count: u16) -> Self {
        let mut w = TestWallet::default();
        for t in tokens {
            let batch = issuer
                .session_keys(t.profile, t.dki, t.pan(), t.psn, first_atc, count)
                .unwrap();
            w.keys.insert(t.id.clone(), batch.into_iter().collect());
        }
        w
    }

    pub fn remaining(&self, id: &str) -> usize {
        self.keys.get(id).map_or(0, VecDeque::len)
    }
}

impl CardBackend for TestWallet {
    fn take_session_key(&mut self, token: &Token) -> Result<(u16, SessionKey), Decline> {
        if self.locked {
            return Err(Decline::Locked);
        }
        if self.frozen.contains(&token.id) {
            return Err(Decline::Frozen);
        }
        let key = self
            .keys
            .get_mut(&token.id)
            .and_then(VecDeque::pop_front)
            .ok_or(Decline::KeysExhausted)?;
        self.taken += 1;
        Ok(key)
    }
}

pub fn params() -> TerminalParams {
    TerminalParams::purchase(
        4_250,
        978,
        250,
        TxnDate {
            year: 2025,
            month: 3,
            day: 14,
        },
        [0x12, 0x34, 0x56, 0x78],
        5812,
        "CAFE DE FLORE PARIS",
    )
}

/// Runs the kernel against the card in-process.
pub fn tap(card: &mut CardApp, wallet: &mut TestWallet, params: &TerminalParams) -> KernelRun {
    kernel::run(params, |cmd: &[u8]| {
        Ok::<_, std::convert::Infallible>(card.process_apdu(cmd, wallet))
    })
}

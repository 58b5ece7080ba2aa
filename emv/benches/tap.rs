//! The card's share of a tap, against DESIGN's budget (each APDU ≤ 1 ms,
//! the core's whole share ≤ 5 ms at p99): every APDU of a transaction, the
//! whole transaction through the reader kernel, and the issuer's check.

use std::convert::Infallible;

use criterion::{criterion_group, criterion_main, Criterion};
use emv::card::{CardApp, CardBackend, Decline, Token, TxnDate};
use emv::crypto::{Profile, SessionKey};
use emv::fuzzing::sample_tokens;
use emv::issuer::{AtcRecord, Issuer};
use emv::kernel::{self, TerminalParams};

/// Hands out a key without storage: the benchmark measures the card's own
/// work; the durable key commit is the wallet's and is benchmarked there.
struct InstantKeys(u16);

impl CardBackend for InstantKeys {
    fn take_session_key(&mut self, token: &Token) -> Result<(u16, SessionKey), Decline> {
        self.0 = self.0.wrapping_add(1);
        Ok((self.0, SessionKey::new(token.profile, [0x5A; 16])))
    }
}

fn params(aid: &[u8]) -> TerminalParams {
    let mut p = TerminalParams::purchase(
        4_250,
        978,
        250,
        TxnDate {
            year: 2025,
            month: 3,
            day: 14,
        },
        [1, 2, 3, 4],
        5812,
        "CAFE DE FLORE PARIS",
    );
    p.preferred_aid = Some(aid.to_vec());
    p
}

fn bench(c: &mut Criterion) {
    for token in sample_tokens() {
        let name = match token.profile {
            Profile::Tdes => "3des",
            Profile::Aes => "aes",
        };
        let p = params(&token.aid);

        // Record one transaction's commands, then time the card answering
        // all of them (the card alone, without the kernel's parsing).
        let mut card = CardApp::new(sample_tokens());
        let mut keys = InstantKeys(0);
        let run = kernel::run(&p, |cmd: &[u8]| {
            Ok::<_, Infallible>(card.process_apdu(cmd, &mut keys))
        });
        assert!(run.result.is_ok());
        let commands: Vec<Vec<u8>> = run.transcript.iter().map(|e| e.command.clone()).collect();
        c.bench_function(&format!("tap/{name}/card_all_apdus"), |b| {
            b.iter(|| {
                for cmd in &commands {
                    card.process_apdu(cmd, &mut keys);
                }
            })
        });

        c.bench_function(&format!("tap/{name}/whole_transaction"), |b| {
            b.iter(|| {
                let mut card = CardApp::new(sample_tokens());
                kernel::run(&p, |cmd: &[u8]| {
                    Ok::<_, Infallible>(card.process_apdu(cmd, &mut keys))
                })
            })
        });
    }

    let token = &sample_tokens()[0];
    let issuer = Issuer::new().with_key(
        1,
        emv::crypto::IssuerMasterKey::new(Profile::Tdes, [0x11; 16]),
    );
    let mut wallet_keys = issuer
        .session_keys(token.profile, 1, token.pan(), token.psn, 1, 1)
        .unwrap();
    let (atc, sk) = wallet_keys.remove(0);
    struct One(Option<(u16, SessionKey)>);
    impl CardBackend for One {
        fn take_session_key(&mut self, _: &Token) -> Result<(u16, SessionKey), Decline> {
            self.0.take().ok_or(Decline::KeysExhausted)
        }
    }
    let mut card = CardApp::new(sample_tokens());
    let out = kernel::run(&params(&token.aid), |cmd: &[u8]| {
        Ok::<_, Infallible>(card.process_apdu(cmd, &mut One(Some((atc, sk.clone())))))
    })
    .result
    .unwrap();
    c.bench_function("issuer/verify_arqc_3des", |b| {
        b.iter(|| {
            issuer
                .verify_arqc(&out.pan, token.psn, &out.cryptogram, &mut AtcRecord::new())
                .unwrap()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

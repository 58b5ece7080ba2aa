//! The core's share of a tap through the `Wallet`, against DESIGN's budget:
//! each APDU at most 1 ms; the whole transaction, including the durable
//! key-use commit, at most 5 ms at p99.
//!
//! Criterion times each APDU of a transaction (GENERATE AC includes the
//! one fsync'd commit that consumes the key) and the whole transaction as
//! the terminal waits for it, plus the settlement the wallet does when the
//! field goes away (the pending ledger entry, a second commit). A manual
//! loop of `BILLFOLD_TAP_BENCH_N` transactions (default 2000) then prints
//! p50/p99/max per APDU and per transaction.
//!
//! Both run on the real disk (a temp dir under the target directory) and,
//! where present, on tmpfs (/dev/shm), whose fsync is free: the difference
//! is the storage's, the tmpfs figure the core's own work.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use emv::card::TxnDate;
use emv::crypto::Profile;
use emv::kernel::{self, TerminalParams};
use wallet_core::{
    DeactivationReason, NewCard, SoftwareKeyStore, SystemClock, TestTokenConfig, TestTokenService,
    Wallet,
};

const IMK: [u8; 16] = [
    0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10,
];
/// Keys per (re)provisioning; a real token holds far fewer, which only
/// makes its indexes smaller.
const BATCH: u16 = 3000;
const STEPS: [&str; 5] = [
    "select_ppse",
    "select_aid",
    "gpo",
    "read_record",
    "generate_ac",
];

fn card() -> NewCard {
    NewCard {
        pan: "4111111111111111".into(),
        expiry: "12/39".into(),
        cardholder_name: "Bench Mark".into(),
        nickname: None,
    }
}

struct Bench {
    _dir: tempfile::TempDir,
    wallet: Wallet,
    card_id: String,
    service: TestTokenService,
    /// One transaction's commands, as the reader kernel sends them.
    commands: Vec<Vec<u8>>,
}

impl Bench {
    fn new(parent: &Path, profile: Profile) -> Self {
        let dir = tempfile::tempdir_in(parent).unwrap();
        let ks = Arc::new(SoftwareKeyStore::generate().unwrap());
        let wallet = Wallet::create(dir.path(), ks, Arc::new(SystemClock)).unwrap();
        let card = wallet.add_card(&card()).unwrap();
        let mut config = TestTokenConfig::new("491231");
        config.profile = profile;
        config.batch_size = BATCH;
        let service = TestTokenService::new(IMK, config);
        wallet.provision_token(&card.id, &service).unwrap();
        let params = TerminalParams::purchase(
            4_250,
            978,
            250,
            TxnDate {
                year: 2026,
                month: 3,
                day: 14,
            },
            [1, 2, 3, 4],
            5812,
            "CAFE DE FLORE PARIS",
        );
        let run = kernel::run(&params, |cmd: &[u8]| {
            Ok::<_, std::convert::Infallible>(wallet.process_apdu(cmd))
        });
        assert!(run.result.is_ok());
        wallet.on_deactivated(DeactivationReason::LinkLoss);
        let commands = run.transcript.iter().map(|e| e.command.clone()).collect();
        Bench {
            _dir: dir,
            wallet,
            card_id: card.id,
            service,
            commands,
        }
    }

    /// Makes sure `n` more taps have keys, untimed: a new token (a new
    /// random token PAN, so its ATCs start afresh) topped up as needed.
    fn ensure_keys(&self, n: u64) {
        let status = &self.wallet.token_key_status().unwrap()[0];
        if u64::from(status.remaining) > n {
            return;
        }
        self.wallet
            .provision_token(&self.card_id, &self.service)
            .unwrap();
        loop {
            let status = &self.wallet.token_key_status().unwrap()[0];
            if u64::from(status.remaining) > n {
                break;
            }
            let batch = wallet_core::TokenService::replenish(&self.service, status)
                .unwrap()
                .expect("more keys");
            self.wallet.add_token_keys(&batch).unwrap();
        }
    }

    /// One transaction; returns each APDU's time, and checks each answer.
    fn transaction(&self) -> [Duration; 5] {
        let mut t = [Duration::ZERO; 5];
        for (i, cmd) in self.commands.iter().enumerate() {
            let start = Instant::now();
            let r = self.wallet.process_apdu(cmd);
            t[i] = start.elapsed();
            assert!(r.ends_with(&[0x90, 0x00]), "step {i} failed");
        }
        t
    }

    fn settle(&self) -> Duration {
        let start = Instant::now();
        self.wallet.on_deactivated(DeactivationReason::LinkLoss);
        start.elapsed()
    }
}

fn storages() -> Vec<(&'static str, PathBuf)> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    std::fs::create_dir_all(&target).unwrap();
    let mut s = vec![("disk", target)];
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() {
        s.push(("tmpfs", shm));
    }
    // BILLFOLD_TAP_BENCH_STORAGE=disk (or tmpfs) runs one of them only.
    match std::env::var("BILLFOLD_TAP_BENCH_STORAGE") {
        Ok(only) => s.into_iter().filter(|(n, _)| *n == only).collect(),
        Err(_) => s,
    }
}

fn profile_name(p: Profile) -> &'static str {
    match p {
        Profile::Tdes => "3des",
        Profile::Aes => "aes",
    }
}

fn criterion_benches(c: &mut Criterion) {
    for (storage, parent) in storages() {
        for profile in [Profile::Tdes, Profile::Aes] {
            let b = Bench::new(&parent, profile);
            let mut g = c.benchmark_group(format!("tap/{storage}/{}", profile_name(profile)));
            g.warm_up_time(Duration::from_secs(1));
            g.measurement_time(Duration::from_secs(4));
            for (step, name) in STEPS.iter().enumerate() {
                g.bench_function(format!("apdu/{name}"), |bench| {
                    bench.iter_custom(|iters| {
                        if step == 4 {
                            b.ensure_keys(iters);
                        }
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            // Up to the step, untimed; the step, timed.
                            for cmd in &b.commands[..step] {
                                b.wallet.process_apdu(cmd);
                            }
                            let start = Instant::now();
                            let r = b.wallet.process_apdu(&b.commands[step]);
                            total += start.elapsed();
                            debug_assert!(r.ends_with(&[0x90, 0x00]));
                            b.wallet.on_deactivated(DeactivationReason::LinkLoss);
                        }
                        total
                    })
                });
            }
            g.bench_function("whole_transaction", |bench| {
                bench.iter_custom(|iters| {
                    b.ensure_keys(iters);
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        total += b.transaction().iter().sum::<Duration>();
                        b.settle();
                    }
                    total
                })
            });
            g.bench_function("whole_transaction_and_settlement", |bench| {
                bench.iter_custom(|iters| {
                    b.ensure_keys(iters);
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        total += b.transaction().iter().sum::<Duration>();
                        total += b.settle();
                    }
                    total
                })
            });
            g.finish();
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// The manual loop: N transactions, percentiles printed.
fn percentiles(_: &mut Criterion) {
    let n: usize = std::env::var("BILLFOLD_TAP_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    println!("\nTap through the Wallet: {n} transactions each (budget: APDU ≤ 1 ms, transaction p99 ≤ 5 ms)");
    for (storage, parent) in storages() {
        for profile in [Profile::Tdes, Profile::Aes] {
            let b = Bench::new(&parent, profile);
            b.ensure_keys(n as u64);
            let mut steps: Vec<Vec<Duration>> = (0..5).map(|_| Vec::with_capacity(n)).collect();
            let mut whole = Vec::with_capacity(n);
            let mut settle = Vec::with_capacity(n);
            let mut with_settle = Vec::with_capacity(n);
            for _ in 0..n {
                let t = b.transaction();
                let s = b.settle();
                for (i, d) in t.iter().enumerate() {
                    steps[i].push(*d);
                }
                let w: Duration = t.iter().sum();
                whole.push(w);
                settle.push(s);
                with_settle.push(w + s);
            }
            println!("{storage}/{}:", profile_name(profile));
            let row = |name: &str, v: &mut Vec<Duration>| {
                v.sort();
                println!(
                    "  {name:<34} p50 {:>10}  p99 {:>10}  max {:>10}",
                    ms(percentile(v, 0.50)),
                    ms(percentile(v, 0.99)),
                    ms(*v.last().unwrap())
                );
            };
            for (i, name) in STEPS.iter().enumerate() {
                row(&format!("apdu {name}"), &mut steps[i]);
            }
            row("whole transaction (5 APDUs)", &mut whole);
            row("settlement (on_deactivated)", &mut settle);
            row("transaction + settlement", &mut with_settle);
        }
    }
}

criterion_group!(tap, criterion_benches, percentiles);
criterion_main!(tap);

//! DESIGN's sync budget, end to end: a wallet with 10,000 QR payments in
//! its outbox syncs them to a real `billfold-server` process over loopback
//! (budget: 2 s). Unlike `load.rs`'s `sync_10k_ops`, which times raw
//! requests, this is the phone's whole path: reading the outbox, JSON,
//! signing, the bank's work, and applying 10,000 results and ledger
//! entries locally.
//!
//! Each iteration is a fresh enrolled wallet (a fresh account, so every
//! operation is new to the bank) whose outbox is filled outside the timed
//! part; only `wallet.sync(None)` is timed. SQLite always; PostgreSQL too
//! under scripts/with-postgres.sh (`make bench`). Client and server share
//! this machine's cores, as on a developer's laptop.

#[path = "../tests/api/common.rs"]
mod common;
#[path = "../tests/sync_faults/support.rs"]
mod support;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use support::{cpu_time, cpu_time_of, enrolled_wallet, queue_payments, Bank, Books};
use wallet_core::{NetworkConfig, SyncListener, SyncProgress};

const OPS: usize = 10_000;
const BUDGET: Duration = Duration::from_secs(2);

/// When each round of a sync ended, for the breakdown printed once per
/// backend.
struct Rounds {
    start: Instant,
    ends: Mutex<Vec<Duration>>,
}

impl SyncListener for Rounds {
    fn on_progress(&self, _: &SyncProgress) {
        self.ends.lock().unwrap().push(self.start.elapsed());
    }
}

/// One sync of `OPS` operations: wall time, when each round ended, and
/// the CPU time each side used (where the platform tells).
struct Timed {
    wall: Duration,
    rounds: Vec<Duration>,
    client_cpu: Option<Duration>,
    server_cpu: Option<Duration>,
    /// Every process named `postgres` on the machine (the bank's
    /// backends, when PostgreSQL is its store).
    postgres_cpu: Option<Duration>,
}

/// One timed sync of `OPS` queued payments by a fresh wallet.
fn sync_10k(bank: &Bank) -> Timed {
    let phone = enrolled_wallet(&bank.url(), NetworkConfig::default(), None);
    // The opening balance comes down first, as it would long before a
    // phone had queued 10,000 payments.
    phone.sync(None).unwrap();
    let queued = queue_payments(&phone, "bench:", OPS);
    let cpu = (
        cpu_time(None),
        cpu_time(bank.pid()),
        cpu_time_of("postgres"),
    );
    let rounds = Rounds {
        start: Instant::now(),
        ends: Mutex::default(),
    };
    let report = phone.sync(Some(&rounds)).unwrap();
    let wall = rounds.start.elapsed();
    let client_cpu = cpu_time(None).zip(cpu.0).map(|(b, a)| b - a);
    let server_cpu = cpu_time(bank.pid()).zip(cpu.1).map(|(b, a)| b - a);
    let postgres_cpu = cpu_time_of("postgres")
        .zip(cpu.2)
        .map(|(b, a)| b.saturating_sub(a));
    // A benchmark of failures would measure nothing.
    assert_eq!(report.applied as usize, queued.len(), "{report:?}");
    assert_eq!(phone.outbox_len().unwrap(), 0);
    Timed {
        wall,
        rounds: rounds.ends.into_inner().unwrap(),
        client_cpu,
        server_cpu,
        postgres_cpu,
    }
}

fn backends() -> Vec<(&'static str, Books, Option<common::TestStorage>)> {
    let mut out = vec![("sqlite", Books::Sqlite, None)];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // A fresh schema in the throwaway database; kept (with its
    // connection's runtime gone, it is only a URL) for the whole run.
    match rt.block_on(common::postgres_storage()) {
        Some(pg) => {
            let billfold_server::Storage::Postgres { url } = &pg.storage else {
                unreachable!()
            };
            out.push(("postgres", Books::Postgres(url.clone()), Some(pg)));
        }
        None => eprintln!(
            "\n*** {} is not set: the PostgreSQL sync benchmark is SKIPPED (run `make bench`). ***\n",
            common::PG_ENV
        ),
    }
    out
}

fn wallet_sync(c: &mut Criterion) {
    for (name, books, _storage) in backends() {
        let bank = Bank::start(books.clone());

        // One untimed warm-up (the server's caches, the page cache), then
        // one sync whose rounds are shown.
        sync_10k(&bank);
        let probe = sync_10k(&bank);
        let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1e3);
        let mut last = Duration::ZERO;
        let rounds: Vec<String> = probe
            .rounds
            .iter()
            .map(|e| {
                let d = *e - last;
                last = *e;
                ms(d)
            })
            .collect();
        let cpu = |d: Option<Duration>| d.map_or("?".into(), ms);
        let postgres = match books {
            Books::Postgres(_) => format!(", postgres {}", cpu(probe.postgres_cpu)),
            Books::Sqlite => String::new(),
        };
        println!(
            "\nwallet sync [{name}]: {OPS} ops in {} (budget {}); CPU: wallet {}, billfold-server {}{postgres}; per round: {}\n",
            ms(probe.wall),
            ms(BUDGET),
            cpu(probe.client_cpu),
            cpu(probe.server_cpu),
            rounds.join(", ")
        );

        let mut g = c.benchmark_group("wallet_sync");
        g.sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(Duration::from_millis(1))
            .measurement_time(Duration::from_secs(15));
        g.throughput(Throughput::Elements(OPS as u64));
        g.bench_with_input(BenchmarkId::new("sync_10k_ops", name), &(), |b, _| {
            b.iter_custom(|iters| (0..iters).map(|_| sync_10k(&bank).wall).sum())
        });
        g.finish();
    }
}

criterion_group!(benches, wallet_sync);
criterion_main!(benches);

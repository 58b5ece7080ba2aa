//! Criterion benchmarks for DESIGN's ledger budgets, with 100k transactions
//! in the ledger: balance (≤1 ms), status of all budgets (≤5 ms), a page of
//! 50 history rows (≤2 ms), inserting 10k transactions (≤1 s), and
//! insights over 12 months (reported). Also one tap's pending write.
//!
//! Each insert of 10k goes into its own copy of the 100k-entry wallet,
//! opened afresh (neither the copy nor the open is timed): inserting
//! into one wallet again and again would measure a ledger that grows by
//! 10k per iteration, to several hundred thousand entries by the end. The
//! insert is timed twice: in wall time (the budget, fsyncs included, but
//! inflated by whatever else runs on a shared machine) and in CPU time of
//! the benchmarking thread (`_cpu`: the work itself, steady under load).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode};
use wallet_core::{
    BankEntry, BudgetSpec, Currency, EntryKind, EntryStatus, FxDetail, HistoryQuery, InsightsQuery,
    ManualClock, Money, PendingEntry, Period, Rollover, SoftwareKeyStore, Wallet,
};

/// 2026-11-23T12:00:00Z.
const NOW_MS: i64 = 1_795_435_200_000;
const DAY_MS: i64 = 86_400_000;
const MCCS: [u16; 12] = [
    5411, 5812, 5814, 5541, 4111, 5732, 5651, 7011, 4900, 5912, 7832, 5999,
];

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::from_code("USD").unwrap())
}

/// A deterministic spread of a year of card spending.
fn entry(n: u64, salt: &str) -> BankEntry {
    let x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
    let kind = match x % 50 {
        0 => EntryKind::Income,
        1 => EntryKind::Refund,
        2 => EntryKind::TransferOut,
        _ => EntryKind::Purchase,
    };
    let foreign = x % 20 == 3;
    BankEntry {
        bank_id: format!("{salt}-{n}"),
        idempotency_key: None,
        account: if x % 7 == 3 { "savings" } else { "main" }.into(),
        status: EntryStatus::Posted,
        kind,
        amount: usd((x % 20_000) as i64 + 50),
        original: foreign.then(|| FxDetail {
            original: Money::from_minor(
                (x % 18_000) as i64 + 40,
                Currency::from_code("EUR").unwrap(),
            ),
            rate: "1.0837".parse().unwrap(),
            source: "issuer".into(),
            as_of_ms: NOW_MS,
        }),
        merchant: Some(format!("Merchant {}", x % 500)),
        mcc: Some(MCCS[(x % MCCS.len() as u64) as usize]),
        category: None,
        note: None,
        booked_at_ms: NOW_MS - (x % (365 * DAY_MS as u64)) as i64,
        posted_at_ms: None,
    }
}

/// The wallet with 100k entries, and what it takes to open copies of it.
struct Fixture {
    _dir: tempfile::TempDir,
    wallet: Wallet,
    /// A copy of the database as it was with exactly 100k entries.
    template: tempfile::TempDir,
    keystore: Arc<SoftwareKeyStore>,
    clock: Arc<ManualClock>,
}

impl Fixture {
    /// A fresh copy of the 100k-entry wallet, opened.
    fn copy(&self) -> (tempfile::TempDir, Wallet) {
        let dir = tempfile::tempdir().unwrap();
        let file = |d: &Path| d.join(Wallet::DB_FILE);
        std::fs::copy(file(self.template.path()), file(dir.path())).unwrap();
        let w = Wallet::open(dir.path(), self.keystore.clone(), self.clock.clone()).unwrap();
        (dir, w)
    }
}

/// CPU time of the calling thread (SQLite runs on it), in ns.
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "the thread CPU clock is unavailable");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn setup() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let keystore = Arc::new(SoftwareKeyStore::generate().unwrap());
    let clock = Arc::new(ManualClock::new(NOW_MS));
    let w = Wallet::create(dir.path(), keystore.clone(), clock.clone()).unwrap();
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let budgets = [
        (
            "All",
            None,
            Period::Monthly { start_day: 1 },
            Rollover::Surplus,
        ),
        (
            "Food",
            Some("food"),
            Period::Monthly { start_day: 25 },
            Rollover::SurplusAndDeficit,
        ),
        (
            "Groceries",
            Some("food.groceries"),
            Period::Weekly {
                start: chrono::Weekday::Mon,
            },
            Rollover::None,
        ),
        (
            "Transport",
            Some("transport"),
            Period::BiWeekly {
                anchor: d("2026-01-05"),
            },
            Rollover::Surplus,
        ),
        (
            "Travel",
            Some("travel"),
            Period::Monthly { start_day: 31 },
            Rollover::None,
        ),
        (
            "Shopping",
            Some("shopping"),
            Period::Monthly { start_day: 1 },
            Rollover::Surplus,
        ),
        (
            "Home",
            Some("home"),
            Period::Monthly { start_day: 1 },
            Rollover::None,
        ),
        (
            "Health",
            Some("health"),
            Period::Monthly { start_day: 1 },
            Rollover::None,
        ),
        (
            "Fun",
            Some("entertainment"),
            Period::Weekly {
                start: chrono::Weekday::Sun,
            },
            Rollover::SurplusAndDeficit,
        ),
        (
            "Q4",
            None,
            Period::Custom {
                start: d("2026-10-01"),
                end: d("2026-12-31"),
            },
            Rollover::None,
        ),
    ];
    for (name, category, period, rollover) in budgets {
        w.create_budget(&BudgetSpec {
            name: name.into(),
            category: category.map(Into::into),
            limit: usd(250_000),
            period,
            time_zone: "America/New_York".into(),
            rollover,
            thresholds: None,
            starts_on: Some(d("2025-12-01")),
        })
        .unwrap();
    }
    for batch in 0..10u64 {
        let entries: Vec<BankEntry> = (batch * 10_000..(batch + 1) * 10_000)
            .map(|n| entry(n, "seed"))
            .collect();
        w.apply_bank_entries(&entries).unwrap();
    }
    assert_eq!(w.entry_count().unwrap(), 100_000);
    // Everything in the main file, then copied as it is.
    w.checkpoint().unwrap();
    let template = tempfile::tempdir().unwrap();
    std::fs::copy(
        dir.path().join(Wallet::DB_FILE),
        template.path().join(Wallet::DB_FILE),
    )
    .unwrap();
    Fixture {
        _dir: dir,
        wallet: w,
        template,
        keystore,
        clock,
    }
}

fn benches(c: &mut Criterion) {
    let fixture = setup();
    let w = &fixture.wallet;

    c.bench_function("ledger_100k/balance", |b| b.iter(|| w.balances().unwrap()));
    c.bench_function("ledger_100k/budget_status_all_10", |b| {
        b.iter(|| w.budget_statuses().unwrap())
    });
    c.bench_function("ledger_100k/history_first_page_50", |b| {
        b.iter(|| w.history(&HistoryQuery::default()).unwrap())
    });
    // A page deep in the history costs the same (keyset pagination).
    let mut q = HistoryQuery::default();
    for _ in 0..1000 {
        q.before = w.history(&q).unwrap().next;
    }
    c.bench_function("ledger_100k/history_page_50_at_row_50000", |b| {
        b.iter(|| w.history(&q).unwrap())
    });
    c.bench_function("ledger_100k/history_page_50_one_account", |b| {
        let q = HistoryQuery {
            account: Some("savings".into()),
            ..Default::default()
        };
        b.iter(|| w.history(&q).unwrap())
    });
    let mut n = 0u64;
    c.bench_function("ledger_100k/record_pending_one_tap", |b| {
        b.iter(|| {
            n += 1;
            w.record_pending(&PendingEntry {
                idempotency_key: format!("tap-{n}"),
                account: "main".into(),
                kind: EntryKind::Purchase,
                amount: usd(450),
                original: None,
                merchant: Some("Coffee Corner".into()),
                mcc: Some(5814),
                category: None,
                note: None,
                booked_at_ms: NOW_MS,
            })
            .unwrap()
        })
    });
    let mut g = c.benchmark_group("ledger_100k_slow");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("insights_12_months", |b| {
        let q = InsightsQuery {
            months: 12,
            currency: Currency::from_code("USD").unwrap(),
            time_zone: "America/New_York".into(),
            top_merchants: 10,
        };
        b.iter(|| w.insights(&q).unwrap())
    });
    // Few, equal samples: every iteration pays an untimed copy and open.
    g.sampling_mode(SamplingMode::Flat);
    g.measurement_time(Duration::from_secs(8));
    let mut round = 0u64;
    let mut batch = || {
        round += 1;
        (0..10_000u64)
            .map(|n| entry(n, &format!("r{round}")))
            .collect::<Vec<_>>()
    };
    g.bench_function("insert_10k_transactions", |b| {
        b.iter_batched(
            || (fixture.copy(), batch()),
            |((dir, w), entries)| {
                w.apply_bank_entries(&entries).unwrap();
                // Closed and removed after the clock stops.
                (dir, w)
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("insert_10k_transactions_cpu", |b| {
        b.iter_custom(|iters| {
            let mut cpu = Duration::ZERO;
            for _ in 0..iters {
                let ((_dir, w), entries) = (fixture.copy(), batch());
                let start = thread_cpu_ns();
                w.apply_bank_entries(&entries).unwrap();
                cpu += Duration::from_nanos(thread_cpu_ns() - start);
                assert_eq!(w.entry_count().unwrap(), 110_000);
            }
            cpu
        })
    });
    g.finish();
}

criterion_group!(ledger, benches);
criterion_main!(ledger);

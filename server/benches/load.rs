//! Server throughput and latency with many concurrent devices, on SQLite
//! and (under scripts/with-postgres.sh) PostgreSQL.
//!
//! The load generator is bounded: a fixed number of devices, each sending
//! a fixed number of signed requests over loopback with at most one in
//! flight per device, and every run has a deadline. The server runs in
//! this process on 127.0.0.1:0, so client and server share the machine's
//! cores (2 here): the figures are a floor, not a ceiling.
//!
//! Measured:
//! * `sync_round`: every device pushes one sync (a QR payment, two budget
//!   field edits and an alert) and pulls what is new after its cursor; one
//!   iteration = one round.
//! * `tap_authorization`: terminals authorize real taps (ARQC from the EMV
//!   card application), one per device per iteration.
//! * `sync_10k_ops`: one device pushes 10,000 outbox operations (QR
//!   payments, in requests of 1,000) and pulls the resulting ledger.
//!
//! Before the criterion groups, a latency report per backend prints
//! p50/p95/p99/max and requests per second for a fixed mixed workload.

#[path = "../tests/api/common.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::json;
use tokio::runtime::Runtime;
use tokio::sync::Mutex;

use common::{Device, Phone, TestServer, TestStorage};

/// Concurrent devices (one account each).
const DEVICES: usize = 32;
/// Requests per device in the latency report.
const REPORT_REQUESTS_PER_DEVICE: usize = 40;
/// No run may take longer than this.
const DEADLINE: Duration = Duration::from_secs(120);

struct Fleet {
    ts: TestServer,
    devices: Vec<Device>,
    phones: Vec<Arc<Mutex<Phone>>>,
    /// Each device's sync cursor, so a sync pulls only what is new, as
    /// the wallet's would.
    cursors: Vec<Mutex<u64>>,
    terminal: Device,
    counter: std::sync::atomic::AtomicU64,
}

impl Fleet {
    async fn new(storage: &TestStorage) -> Fleet {
        // Big key batches so the tap benchmark never runs dry.
        let ts = TestServer::start_with(
            storage,
            |c| {
                c.key_batch_size = 1000;
                c.opening_balance_minor = 1_000_000_000;
                c.card_limit_minor = 1_000_000;
            },
            None,
        )
        .await;
        let mut devices = Vec::new();
        let mut phones = Vec::new();
        for _ in 0..DEVICES {
            let d = ts.device().await;
            let card = d.add_card(None).await;
            phones.push(Arc::new(Mutex::new(Phone::new(&card))));
            devices.push(d);
        }
        let terminal = ts.terminal().await;
        Fleet {
            ts,
            cursors: (0..DEVICES).map(|_| Mutex::new(0)).collect(),
            devices,
            phones,
            terminal,
            counter: Default::default(),
        }
    }

    fn next(&self) -> u64 {
        self.counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    fn sync_body(&self, device: usize, cursor: u64) -> serde_json::Value {
        let n = self.next();
        let now = billfold_server::clock::unix_ms_now() as u64;
        json!({"cursor": cursor, "limit": 500, "ops": [
            {"idempotency_key": format!("qr-{n}"), "op": {"type": "qr_payment",
                "amount": {"amount_minor": 100 + (n % 900) as i64, "currency": "EUR"},
                "merchant": {"name": "Grocer", "mcc": 5411}}},
            {"idempotency_key": format!("rec-{n}"), "op": {"type": "record_update", "collection": "budgets",
                "record_id": format!("b-{}", device % 4), "fields": {
                    "limit_minor": {"value": n, "hlc": {"wall_ms": now, "counter": 0, "node": format!("d{device}")}},
                    "name": {"value": "Food", "hlc": {"wall_ms": now, "counter": 1, "node": format!("d{device}")}}}}},
            {"idempotency_key": format!("al-{n}"), "op": {"type": "alert_sent", "budget_id": format!("b-{n}"),
                "period": "2026-03", "threshold": 80}},
        ]})
    }

    /// One sync by one device; panics on failure (a benchmark of errors
    /// would measure nothing).
    async fn sync_once(&self, device: usize) -> Duration {
        let mut cursor = self.cursors[device].lock().await;
        let body = self.sync_body(device, *cursor);
        let t = Instant::now();
        let r = self.devices[device].post("/v1/sync", &body).await;
        let elapsed = t.elapsed();
        *cursor = r.ok()["cursor"].as_u64().unwrap();
        elapsed
    }

    async fn tap_once(&self, device: usize) -> Duration {
        let mut phone = self.phones[device].lock().await;
        if phone.keys.0.len() < 50 {
            // Running low: top up, as the wallet would at its next sync.
            let path = format!("/v1/tokens/{}/keys", phone.token.id);
            let body = json!({"remaining": phone.keys.0.len(), "provisioned_until": phone.provisioned_until});
            let batch: billfold_protocol::KeyBatch =
                self.devices[device].post(&path, &body).await.parse();
            phone.add_batch(&batch);
        }
        let (pan, psn, c) = phone.tap(250, "BENCH CAFE");
        drop(phone);
        let body = json!({"pan": pan, "psn": psn, "cryptogram": c});
        let t = Instant::now();
        let r = self.terminal.post("/v1/authorizations", &body).await;
        let elapsed = t.elapsed();
        assert_eq!(r.ok()["approved"], true, "{}", r.body);
        elapsed
    }

    /// Every device once, concurrently: the wall time of the round.
    async fn round(self: &Arc<Self>, tap: bool) -> Duration {
        let start = Instant::now();
        let mut tasks = Vec::with_capacity(DEVICES);
        for d in 0..DEVICES {
            let f = self.clone();
            tasks.push(tokio::spawn(async move {
                if tap {
                    f.tap_once(d).await
                } else {
                    f.sync_once(d).await
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        start.elapsed()
    }

    /// A fixed mixed workload (3 syncs to 1 tap) with per-request latency.
    async fn latency_report(self: &Arc<Self>, backend: &str) {
        let start = Instant::now();
        let mut tasks = Vec::new();
        for d in 0..DEVICES {
            let f = self.clone();
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::with_capacity(REPORT_REQUESTS_PER_DEVICE);
                for i in 0..REPORT_REQUESTS_PER_DEVICE {
                    lat.push(if i % 4 == 3 {
                        f.tap_once(d).await
                    } else {
                        f.sync_once(d).await
                    });
                }
                lat
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(
                tokio::time::timeout(DEADLINE, t)
                    .await
                    .expect("within the deadline")
                    .unwrap(),
            );
        }
        let wall = start.elapsed();
        all.sort();
        let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
        println!(
            "\nlatency report [{backend}]: {} devices x {} requests (3 syncs : 1 tap), {} requests in {:.2} s = {:.0} req/s; \
             p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms\n",
            DEVICES,
            REPORT_REQUESTS_PER_DEVICE,
            all.len(),
            wall.as_secs_f64(),
            all.len() as f64 / wall.as_secs_f64(),
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.95).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
            all.last().unwrap().as_secs_f64() * 1e3,
        );
    }
}

/// Pushes 10,000 QR payments from a fresh device in requests of 1,000,
/// then pulls until the feed is drained.
async fn sync_10k(ts: &TestServer) -> Duration {
    let d = ts.device().await;
    let bodies: Vec<_> = (0..10)
        .map(|chunk| {
            let ops: Vec<_> = (0..1000)
                .map(|i| {
                    json!({"idempotency_key": format!("k-{chunk}-{i}"), "op": {"type": "qr_payment",
                        "amount": {"amount_minor": 1, "currency": "EUR"}, "merchant": {"name": "Vending"}}})
                })
                .collect();
            json!({"cursor": 0, "limit": 1, "ops": ops})
        })
        .collect();
    let start = Instant::now();
    for b in &bodies {
        let r = d.post("/v1/sync", b).await;
        assert_eq!(r.ok()["results"].as_array().unwrap().len(), 1000);
    }
    let mut cursor = 0u64;
    loop {
        let r = d
            .post("/v1/sync", &json!({"cursor": cursor, "limit": 5000}))
            .await;
        let v = r.ok();
        cursor = v["cursor"].as_u64().unwrap();
        if !v["has_more"].as_bool().unwrap() {
            break;
        }
    }
    start.elapsed()
}

fn storages(rt: &Runtime) -> Vec<TestStorage> {
    let mut out = vec![TestStorage::sqlite()];
    match rt.block_on(common::postgres_storage()) {
        Some(pg) => out.push(pg),
        None => eprintln!(
            "\n*** {} is not set: PostgreSQL benchmarks SKIPPED (run `make bench`). ***\n",
            common::PG_ENV
        ),
    }
    out
}

fn server_load(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    for storage in storages(&rt) {
        let fleet = Arc::new(rt.block_on(Fleet::new(&storage)));
        let backend = storage.name;
        rt.block_on(fleet.latency_report(backend));

        let mut g = c.benchmark_group("server");
        g.sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(8));
        g.throughput(Throughput::Elements(DEVICES as u64));
        g.bench_with_input(
            BenchmarkId::new("sync_round_32_devices", backend),
            &(),
            |b, _| {
                b.iter_custom(|iters| {
                    rt.block_on(async { futures_sum(iters, || fleet.round(false)).await })
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("tap_authorization_32_devices", backend),
            &(),
            |b, _| {
                b.iter_custom(|iters| {
                    rt.block_on(async { futures_sum(iters, || fleet.round(true)).await })
                })
            },
        );
        g.throughput(Throughput::Elements(10_000));
        g.sample_size(10).measurement_time(Duration::from_secs(20));
        g.bench_with_input(BenchmarkId::new("sync_10k_ops", backend), &(), |b, _| {
            b.iter_custom(|iters| {
                rt.block_on(async { futures_sum(iters, || sync_10k(&fleet.ts)).await })
            })
        });
        g.finish();
        let fleet = Arc::try_unwrap(fleet)
            .ok()
            .expect("no task holds the fleet");
        rt.block_on(fleet.ts.server.stop());
    }
}

/// Runs `f` `iters` times in sequence and adds up the durations it reports.
async fn futures_sum<F, Fut>(iters: u64, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Duration>,
{
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        total += tokio::time::timeout(DEADLINE, f())
            .await
            .expect("within the deadline");
    }
    total
}

criterion_group!(benches, server_load);
criterion_main!(benches);

//! DESIGN's crash-safety property for sync: `billfold sync` is killed with
//! SIGKILL at random points while it pushes a long outbox and applies the
//! bank's answers. Afterwards one more sync finishes by itself, every
//! operation is posted exactly once, the wallet's balance matches both its
//! ledger and the bank, and SQLite's integrity check passes.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use billfold_protocol::{Merchant, Money, Op, QrPaymentRequest};
use serde_json::Value;
use support::{crash_loop_setup, integrity, InProcessBank};

const PASSPHRASE: &str = "sync crash loop passphrase";
const OPERATIONS: usize = 3_000;

fn billfold(home: &Path) -> Command {
    support::billfold_at(home, PASSPHRASE)
}

fn json(home: &Path, args: &[&str]) -> Value {
    let out = billfold(home).arg("--json").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Queues QR payments in the outbox as an unconfirmed `pay` leaves them.
fn queue_payments(home: &Path, n: usize) -> i64 {
    let conn = rusqlite::Connection::open(home.join("wallet.db")).unwrap();
    let mut total = 0;
    for i in 0..n {
        let minor = 1 + (i % 7) as i64;
        total += minor;
        let op = Op::QrPayment(QrPaymentRequest {
            card_id: None,
            amount: Money::new(minor, "EUR"),
            tip_minor: 0,
            merchant: Merchant {
                name: format!("Stall {i}"),
                ..Default::default()
            },
            scheme: None,
            payee: None,
        });
        conn.execute(
            "INSERT INTO outbox (idempotency_key, kind, payload, created_ms) VALUES (?1, ?2, ?3, 0)",
            rusqlite::params![
                format!("crash:{i}"),
                op.kind(),
                serde_json::to_string(&op).unwrap()
            ],
        )
        .unwrap();
    }
    total
}

#[test]
fn kill_9_during_sync_posts_every_operation_exactly_once() {
    let (rounds, _seed, mut rng) = crash_loop_setup("sync crash loop", 12);
    let bank = InProcessBank::start();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    json(home, &["init"]);
    let enrolled = json(home, &["enroll", "--server", &bank.url()]);
    assert_eq!(
        enrolled["enrollment"]["posted_balance"]["amount"], "2500.00",
        "{enrolled}"
    );
    let total = queue_payments(home, OPERATIONS);

    let mut killed = 0;
    for _ in 0..rounds {
        let mut child = billfold(home)
            .arg("sync")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // The passphrase's key derivation takes a few hundred ms; kills
        // land before, during and after the requests.
        std::thread::sleep(Duration::from_millis(150 + rng.next() % 900));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
        assert_eq!(integrity(home), "ok");
    }
    assert!(killed > 0, "no sync was interrupted; raise the rounds");

    // Recovery is just another sync.
    let done = json(home, &["sync"]);
    assert_eq!(done["enrollment"]["pending_operations"], 0, "{done}");
    assert_eq!(integrity(home), "ok");

    let conn = rusqlite::Connection::open(home.join("wallet.db")).unwrap();
    let (posted, keys, bank_ids): (i64, i64, i64) = conn
        .query_row(
            "SELECT count(*), count(DISTINCT idempotency_key), count(DISTINCT bank_id)
             FROM ledger_entries WHERE status = 'posted' AND idempotency_key LIKE 'crash:%'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (posted, keys, bank_ids),
        (OPERATIONS as i64, OPERATIONS as i64, OPERATIONS as i64)
    );
    let (all, distinct): (i64, i64) = conn
        .query_row(
            "SELECT count(*), count(DISTINCT bank_id) FROM ledger_entries WHERE bank_id IS NOT NULL",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(all, distinct, "no bank entry stored twice");

    // The wallet's books, its ledger and the bank agree.
    let bank_minor: i64 = conn
        .query_row("SELECT posted_minor FROM sync_state", [], |r| r.get(0))
        .unwrap();
    let ledger_minor: i64 = conn
        .query_row(
            "SELECT sum(amount_minor) FROM ledger_entries WHERE status = 'posted'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let opening_minor = 250_000;
    assert_eq!(bank_minor, opening_minor - total);
    assert_eq!(ledger_minor, bank_minor);
    let balance = json(home, &["balance"]);
    assert_eq!(
        balance[0]["posted"]["amount"].as_str(),
        Some(format!("{}.{:02}", bank_minor / 100, bank_minor % 100).as_str()),
        "{balance}"
    );
}

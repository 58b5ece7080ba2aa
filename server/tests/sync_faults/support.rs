//! Support shared by the sync fault tests and the wallet sync benchmark:
//! the real `billfold-server` process (killable and restartable on the
//! same port and data), and enrolled wallets whose outbox is filled with
//! QR payments directly, so thousands of operations queue in milliseconds.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use billfold_protocol::{Merchant, Op, QrPaymentRequest};
use wallet_core::{NetworkConfig, RetryPolicy, SoftwareKeyStore, SystemClock, Wallet};

/// What the server credits each new account with (its default).
pub const OPENING_MINOR: i64 = 250_000;

/// Where the bank keeps its books.
#[derive(Debug, Clone)]
pub enum Books {
    /// `bank.db` in the process's data directory.
    Sqlite,
    /// A `postgres://` URL (a fresh schema per run).
    Postgres(String),
}

/// A `billfold-server` process on loopback. Killed when dropped.
pub struct Bank {
    child: Option<Child>,
    port: u16,
    books: Books,
    data: tempfile::TempDir,
}

impl Bank {
    pub fn start(books: Books) -> Bank {
        let data = tempfile::tempdir().unwrap();
        let mut bank = Bank {
            child: None,
            port: 0,
            books,
            data,
        };
        // Port 0 on the first start: the server prints the port it got,
        // and every restart reuses it.
        let (child, port) = bank.spawn(0).expect("billfold-server starts");
        bank.child = Some(child);
        bank.port = port;
        bank.wait_healthy();
        bank
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr())
    }

    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// The server process's id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL: no shutdown, no flush beyond what SQLite already committed.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the server again on the same port with the same data.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "kill the bank first");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            // The port can stay busy for a moment after a kill.
            match self.spawn(self.port) {
                Some((child, _)) => {
                    self.child = Some(child);
                    break;
                }
                None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
                None => panic!("billfold-server did not restart on port {}", self.port),
            }
        }
        self.wait_healthy();
    }

    /// Spawns the server and reads the port from its "listening" line;
    /// `None` if it exits first (the port was taken).
    fn spawn(&self, port: u16) -> Option<(Child, u16)> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data.path().join("server.log"))
            .unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_billfold-server"));
        cmd.arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(self.data.path())
            .env("BILLFOLD_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        // Flags win over the environment; clear what a developer's shell
        // might set.
        cmd.env_remove("BILLFOLD_DATABASE_URL")
            .env_remove("BILLFOLD_LISTEN")
            .env_remove("BILLFOLD_DATA_DIR");
        if let Books::Postgres(url) = &self.books {
            cmd.arg("--database-url").arg(url);
        }
        let mut child = cmd.spawn().expect("spawn billfold-server");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(first)) = lines.next() {
                let _ = tx.send(first);
            }
            // Keep draining so the server never blocks on a full pipe.
            for _ in lines {}
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => {
                let port = line
                    .split("http://")
                    .nth(1)
                    .and_then(|rest| rest.split_whitespace().next())
                    .and_then(|addr| addr.rsplit(':').next())
                    .and_then(|p| p.parse().ok())
                    .unwrap_or_else(|| panic!("unexpected first line: {line}"));
                Some((child, port))
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                None
            }
        }
    }

    /// Polls `GET /v1/health` until it answers 200.
    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if health(self.addr()).is_some_and(|status| status == 200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("billfold-server never became healthy");
    }

    /// What the bank itself holds for the account: (entries posted for
    /// the queued operations, distinct origin keys among them, their sum,
    /// the account's balance). Read straight from `bank.db`.
    pub fn books_for(&self, account_id: &str, key_prefix: &str) -> (i64, i64, i64, i64) {
        assert!(matches!(self.books, Books::Sqlite));
        let db = rusqlite::Connection::open_with_flags(
            self.data.path().join("bank.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let (n, distinct, sum) = db
            .query_row(
                "SELECT count(*), count(DISTINCT origin_key), COALESCE(SUM(amount_minor), 0)
                 FROM ledger_entries WHERE account_id = ?1 AND origin_key LIKE ?2 || '%'",
                rusqlite::params![account_id, key_prefix],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        let balance = db
            .query_row(
                "SELECT balance_minor FROM accounts WHERE id = ?1",
                [account_id],
                |r| r.get(0),
            )
            .unwrap();
        (n, distinct, sum, balance)
    }
}

impl Drop for Bank {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The status code of `GET /v1/health`, or `None` if nothing answered.
fn health(addr: SocketAddr) -> Option<u16> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"GET /v1/health HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n")
        .ok()?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).ok()?;
    answer.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time used so far by all threads of a process (Linux: the
/// scheduler's per-thread run time, in nanoseconds); `None` elsewhere.
pub fn cpu_time(pid: Option<u32>) -> Option<Duration> {
    let dir = match pid {
        Some(p) => format!("/proc/{p}/task"),
        None => "/proc/self/task".to_string(),
    };
    let mut total = 0u64;
    for task in std::fs::read_dir(dir).ok()?.flatten() {
        let stat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(total))
}

/// CPU time used so far by every process named `comm` (Linux), e.g. the
/// PostgreSQL backends serving the bank.
pub fn cpu_time_of(comm: &str) -> Option<Duration> {
    let mut total = Duration::ZERO;
    for proc_dir in std::fs::read_dir("/proc").ok()?.flatten() {
        let is_it = std::fs::read_to_string(proc_dir.path().join("comm"))
            .is_ok_and(|c| c.trim_end() == comm);
        let pid = proc_dir.file_name().to_str().and_then(|p| p.parse().ok());
        if let (true, Some(pid)) = (is_it, pid) {
            total += cpu_time(Some(pid)).unwrap_or_default();
        }
    }
    Some(total)
}

/// Timeouts and retries for tests: short, so a fault costs milliseconds.
pub fn quick_network(request_timeout_ms: u64) -> NetworkConfig {
    NetworkConfig {
        connect_timeout_ms: 2_000,
        request_timeout_ms,
        retry: RetryPolicy {
            max_attempts: 5,
            base_delay_ms: 10,
            max_delay_ms: 100,
        },
        pinned_certificates_pem: Vec::new(),
        allow_loopback_http: true,
    }
}

/// A fresh wallet (software key store) in its own directory.
pub struct TestWallet {
    pub wallet: Wallet,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for TestWallet {
    type Target = Wallet;
    fn deref(&self) -> &Wallet {
        &self.wallet
    }
}

/// Creates a wallet and enrolls it at `url` (a new account, or the
/// account of `link_code`).
pub fn enrolled_wallet(url: &str, net: NetworkConfig, link_code: Option<&str>) -> TestWallet {
    let dir = tempfile::tempdir().unwrap();
    let wallet = Wallet::create(
        dir.path(),
        Arc::new(SoftwareKeyStore::generate().unwrap()),
        Arc::new(SystemClock),
    )
    .unwrap();
    wallet.set_network_config(net);
    wallet.enroll(url, "test phone", link_code).unwrap();
    TestWallet { wallet, _dir: dir }
}

/// The account the wallet is enrolled into.
pub fn account_id(w: &Wallet) -> String {
    w.enrollment().unwrap().expect("enrolled").account_id
}

/// One queued QR payment: its idempotency key and amount in minor units.
pub type Queued = (String, i64);

/// Writes `n` QR payments straight into the wallet's outbox, as `pay_qr`
/// would leave them after an unconfirmed attempt. Keys start with
/// `prefix`; amounts are small (1 to 9 cents) so the opening balance
/// covers thousands.
pub fn queue_payments(w: &Wallet, prefix: &str, n: usize) -> Vec<Queued> {
    let mut db = rusqlite::Connection::open(w.db_path()).unwrap();
    db.busy_timeout(Duration::from_secs(10)).unwrap();
    let tx = db.transaction().unwrap();
    let mut queued = Vec::with_capacity(n);
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO outbox (idempotency_key, kind, payload, created_ms)
                 VALUES (?1, 'qr_payment', ?2, ?3)",
            )
            .unwrap();
        for i in 0..n {
            let key = format!("{prefix}{i}");
            let minor = 1 + (i % 9) as i64;
            let op = Op::QrPayment(QrPaymentRequest {
                card_id: None,
                amount: billfold_protocol::Money::new(minor, "EUR"),
                tip_minor: 0,
                merchant: Merchant {
                    name: format!("Vending {}", i % 17),
                    ..Default::default()
                },
                scheme: None,
                payee: None,
            });
            let payload = serde_json::to_string(&op).unwrap();
            insert
                .execute(rusqlite::params![
                    key,
                    payload,
                    1_700_000_000_000i64 + i as i64
                ])
                .unwrap();
            queued.push((key, minor));
        }
    }
    tx.commit().unwrap();
    queued
}

/// The wallet's ledger as stored: (posted entries, pending entries,
/// entries in any other state, posted entries carrying one of the queued
/// keys, distinct bank ids). A hold the bank's entry failed to replace
/// would show as a pending or reversed row beside the posted one.
pub fn wallet_ledger(w: &Wallet, key_prefix: &str) -> (i64, i64, i64, i64, i64) {
    let db = rusqlite::Connection::open_with_flags(
        w.db_path(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    db.query_row(
        "SELECT
            (SELECT count(*) FROM ledger_entries WHERE status = 'posted'),
            (SELECT count(*) FROM ledger_entries WHERE status = 'pending'),
            (SELECT count(*) FROM ledger_entries WHERE status NOT IN ('posted', 'pending')),
            (SELECT count(*) FROM ledger_entries WHERE status = 'posted'
                AND idempotency_key LIKE ?1 || '%'),
            (SELECT count(DISTINCT bank_id) FROM ledger_entries WHERE bank_id IS NOT NULL)",
        [key_prefix],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )
    .unwrap()
}

/// Operations the bank refused, as the wallet recorded them.
pub fn rejections(w: &Wallet) -> i64 {
    let db = rusqlite::Connection::open_with_flags(
        w.db_path(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    db.query_row("SELECT count(*) FROM sync_rejections", [], |r| r.get(0))
        .unwrap()
}

//! What the CLI's kill -9 loops share: a replayable random source, their
//! round count and seed from the environment, and the integrity check.
#![allow(dead_code)]

use std::path::Path;
use std::time::SystemTime;

/// xorshift64*: small and replayable, so a failing run can be repeated
/// with the printed BILLFOLD_CRASH_SEED.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Rounds from BILLFOLD_CRASH_ROUNDS (else `default_rounds`) and a generator
/// seeded from BILLFOLD_CRASH_SEED (else the clock); the seed is printed.
pub fn crash_loop_setup(name: &str, default_rounds: usize) -> (usize, u64, Rng) {
    let rounds = std::env::var("BILLFOLD_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_rounds);
    let seed = std::env::var("BILLFOLD_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("{name}: {rounds} rounds, BILLFOLD_CRASH_SEED={seed}");
    (rounds, seed, Rng(seed))
}

/// SQLite's own consistency check of the wallet in `home`.
pub fn integrity(home: &Path) -> String {
    let conn = rusqlite::Connection::open(home.join("wallet.db")).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

/// `billfold --home HOME` with `passphrase` in the environment and no
/// terminal, as the CLI tests run it.
pub fn billfold_at(home: &Path, passphrase: &str) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_billfold"));
    c.arg("--home")
        .arg(home)
        .env("BILLFOLD_PASSPHRASE", passphrase)
        .env_remove("BILLFOLD_HOME")
        .stdin(std::process::Stdio::null());
    c
}

/// The bank, in-process on loopback, with SQLite in a temporary directory.
pub struct InProcessBank {
    pub rt: tokio::runtime::Runtime,
    server: Option<billfold_server::Server>,
    _data: tempfile::TempDir,
}

impl InProcessBank {
    pub fn start() -> Self {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let data = tempfile::tempdir().unwrap();
        let cfg = billfold_server::Config::for_tests(billfold_server::Storage::Sqlite {
            data_dir: data.path().to_path_buf(),
        });
        let server = rt
            .block_on(billfold_server::start(
                cfg,
                std::sync::Arc::new(billfold_server::SystemClock),
            ))
            .unwrap();
        InProcessBank {
            rt,
            server: Some(server),
            _data: data,
        }
    }

    pub fn url(&self) -> String {
        self.server.as_ref().map(|s| s.url()).unwrap_or_default()
    }
}

impl Drop for InProcessBank {
    fn drop(&mut self) {
        // The server's tasks belong to this runtime: stop them inside it.
        let server = self.server.take();
        self.rt.block_on(async { drop(server) });
    }
}

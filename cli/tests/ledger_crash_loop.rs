//! DESIGN's crash-safety property for transaction writes: kill -9 the CLI
//! at random points while it records transactions. Afterwards the database
//! passes its integrity check, every transaction the CLI reported is there,
//! the balances match the ledger, and retrying every key (as a phone would
//! after a crash) records each payment exactly once.
//!
//! `make test` runs a bounded number of rounds; set BILLFOLD_CRASH_ROUNDS
//! for more.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Instant;
use support::integrity;

const PASSPHRASE: &str = "crash loop passphrase";

fn billfold(home: &Path) -> Command {
    let mut c = support::billfold_at(home, PASSPHRASE);
    c.arg("--json");
    c
}

fn add(home: &Path, key: &str) -> Command {
    let mut c = billfold(home);
    c.args([
        "tx",
        "add",
        "--amount",
        "2.50 USD",
        "--merchant",
        "Crash Cafe",
        "--mcc",
        "5814",
        "--key",
        key,
    ]);
    c
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn kill_9_during_transaction_writes_loses_nothing_reported() {
    let (rounds, seed, mut rng) = support::crash_loop_setup("ledger crash loop", 16);
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    assert!(billfold(home).arg("init").status().unwrap().success());
    // A budget, so every write also updates aggregates and may fire alerts.
    json(
        &billfold(home)
            .args([
                "budget",
                "create",
                "--name",
                "Coffee",
                "--limit",
                "20.00 USD",
            ])
            .output()
            .unwrap(),
    );

    let start = Instant::now();
    let first = json(&add(home, "k-first").output().unwrap());
    let typical = start.elapsed();
    let mut reported: Vec<String> = vec![first["entry"]["id"].as_str().unwrap().to_string()];
    let mut keys = vec!["k-first".to_string()];

    let mut killed = 0;
    for round in 0..rounds {
        let key = format!("k-{round}");
        keys.push(key.clone());
        let mut child = add(home, &key)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let frac = 0.4 + (rng.next() % 700) as f64 / 1000.0;
        std::thread::sleep(typical.mul_f64(frac));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        let out = child.wait_with_output().unwrap();
        if out.status.success() {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&out.stdout) {
                if let Some(id) = v["entry"]["id"].as_str() {
                    reported.push(id.to_string());
                }
            }
        }
        assert_eq!(integrity(home), "ok", "round {round}, seed {seed}");
    }
    eprintln!(
        "ledger crash loop: {killed} of {rounds} runs killed, {} reported",
        reported.len()
    );

    let list = json(
        &billfold(home)
            .args(["tx", "list", "--limit", "500"])
            .output()
            .unwrap(),
    );
    let ids: BTreeSet<&str> = list["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    for id in &reported {
        assert!(
            ids.contains(id.as_str()),
            "reported {id} is missing (seed {seed})"
        );
    }

    // Retrying every key records each payment exactly once.
    for key in &keys {
        json(&add(home, key).output().unwrap());
    }
    let list = json(
        &billfold(home)
            .args(["tx", "list", "--limit", "500"])
            .output()
            .unwrap(),
    );
    let entries = list["entries"].as_array().unwrap();
    assert_eq!(entries.len(), keys.len(), "seed {seed}");

    // The balance aggregate matches the ledger.
    let balance = json(&billfold(home).arg("balance").output().unwrap());
    let holds = balance[0]["pending_holds"]["amount"].as_str().unwrap();
    let expected = format!("{}.{:02}", keys.len() * 250 / 100, keys.len() * 250 % 100);
    assert_eq!(holds, expected, "seed {seed}");
    assert_eq!(integrity(home), "ok");
}

#[test]
fn budget_alerts_are_printed_and_errors_keep_their_shape() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    assert!(billfold(home).arg("init").status().unwrap().success());
    json(
        &billfold(home)
            .args([
                "budget",
                "create",
                "--name",
                "Food",
                "--limit",
                "100.00 USD",
                "--category",
                "food",
                "--tz",
                "Europe/Paris",
            ])
            .output()
            .unwrap(),
    );
    let out = json(
        &billfold(home)
            .args([
                "tx",
                "add",
                "--amount",
                "85.00 USD",
                "--mcc",
                "5411",
                "--merchant",
                "Grocer",
            ])
            .output()
            .unwrap(),
    );
    let alerts = out["alerts"].as_array().unwrap();
    assert!(alerts.iter().any(|a| a["threshold_percent"] == 80), "{out}");
    // Without --json the alert is printed for people.
    let human = Command::new(env!("CARGO_BIN_EXE_billfold"))
        .arg("--home")
        .arg(home)
        .env("BILLFOLD_PASSPHRASE", PASSPHRASE)
        .args(["tx", "add", "--amount", "20.00 USD", "--mcc", "5411"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("ALERT") && text.contains("exceeded"),
        "{text}"
    );

    for (args, code) in [
        (
            vec!["budget", "create", "--name", "x", "--limit", "-1.00 USD"],
            "invalid_limit",
        ),
        (
            vec![
                "budget",
                "create",
                "--name",
                "x",
                "--limit",
                "1 USD",
                "--period",
                "monthly:0",
            ],
            "invalid_start_day",
        ),
        (
            vec![
                "budget",
                "create",
                "--name",
                "x",
                "--limit",
                "1 USD",
                "--period",
                "monthly:32",
            ],
            "invalid_start_day",
        ),
        (
            vec![
                "budget",
                "create",
                "--name",
                "x",
                "--limit",
                "1 USD",
                "--tz",
                "Mars/Base",
            ],
            "unknown_time_zone",
        ),
        (
            vec!["budget", "create", "--name", "x", "--limit", "1 ABC"],
            "invalid_currency",
        ),
        (vec!["tx", "add", "--amount", "1.234 USD"], "invalid_amount"),
        (
            vec!["tx", "categorize", "abcdef12", "food"],
            "entry_not_found",
        ),
        (vec!["budget", "status", "nope"], "budget_not_found"),
    ] {
        let out = billfold(home).args(&args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
        assert_eq!(err["error"]["code"], code, "{args:?}");
        assert!(err["error"]["message"].as_str().is_some());
    }

    // Import, export and insights round out the commands.
    let csv = home.join("statement.csv");
    std::fs::write(
        &csv,
        "id,date,amount,currency,merchant\n1,2026-01-05,-9.99,USD,Books\n",
    )
    .unwrap();
    let imported = json(&billfold(home).arg("import").arg(&csv).output().unwrap());
    assert_eq!(imported["inserted"], 1);
    let again = json(&billfold(home).arg("import").arg(&csv).output().unwrap());
    assert_eq!(again["unchanged"], 1);
    let export = home.join("out.csv");
    let exported = json(
        &billfold(home)
            .arg("export")
            .arg("--out")
            .arg(&export)
            .output()
            .unwrap(),
    );
    assert_eq!(exported["exported"], 3);
    let chart = home.join("chart.svg");
    let ins = json(
        &billfold(home)
            .args(["insights", "--months", "12", "--currency", "USD", "--chart"])
            .arg(&chart)
            .output()
            .unwrap(),
    );
    assert_eq!(ins["insights"]["total"]["currency"], "USD");
    assert!(std::fs::read_to_string(&chart).unwrap().starts_with("<svg"));
}

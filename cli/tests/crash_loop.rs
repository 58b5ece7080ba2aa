//! DESIGN's crash-safety property for card writes: kill -9 the CLI at random
//! points while it adds cards; afterwards the database passes its integrity
//! check and every card the CLI reported as added is there.
//!
//! `make test` runs a bounded number of rounds; set BILLFOLD_CRASH_ROUNDS
//! for more.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;
use support::{integrity, Rng};

const PASSPHRASE: &str = "crash loop passphrase";

fn billfold(home: &Path) -> Command {
    let mut c = support::billfold_at(home, PASSPHRASE);
    c.arg("--json");
    c
}

/// A Luhn-valid 16-digit number starting 4000.
fn pan(rng: &mut Rng) -> String {
    let mut d: Vec<u32> = vec![4, 0, 0, 0];
    d.extend((0..11).map(|_| (rng.next() % 10) as u32));
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            if i % 2 == 0 {
                let y = x * 2;
                if y > 9 {
                    y - 9
                } else {
                    y
                }
            } else {
                x
            }
        })
        .sum();
    d.push((10 - sum % 10) % 10);
    d.iter()
        .map(|x| char::from_digit(*x, 10).unwrap())
        .collect()
}

#[test]
fn kill_9_during_card_writes_loses_nothing_reported() {
    let (rounds, seed, mut rng) = support::crash_loop_setup("card crash loop", 16);

    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    assert!(billfold(home).arg("init").status().unwrap().success());

    // Time one undisturbed add; kills then land mostly in its last part,
    // after the key derivation, where the write happens.
    let start = Instant::now();
    let first = billfold(home)
        .args([
            "card",
            "add",
            "--pan",
            &pan(&mut rng),
            "--expiry",
            "12/30",
            "--name",
            "Crash Test",
        ])
        .output()
        .unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let typical = start.elapsed();
    let mut committed: Vec<String> = vec![id_of(&first.stdout).unwrap()];

    let mut killed = 0;
    for round in 0..rounds {
        let number = pan(&mut rng);
        let mut child = billfold(home)
            .args([
                "card",
                "add",
                "--pan",
                &number,
                "--expiry",
                "12/30",
                "--name",
                "Crash Test",
            ])
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
        // Only a complete report counts as "reported committed".
        if out.status.success() {
            if let Some(id) = id_of(&out.stdout) {
                committed.push(id);
            }
        }
        assert_eq!(integrity(home), "ok", "round {round}, seed {seed}");
    }
    eprintln!(
        "crash loop: {killed} of {rounds} runs killed, {} cards reported",
        committed.len()
    );

    let listed = billfold(home).args(["card", "list"]).output().unwrap();
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let cards: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let ids: Vec<&str> = cards
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    for id in &committed {
        assert!(
            ids.contains(&id.as_str()),
            "reported card {id} is missing (seed {seed})"
        );
    }
}

fn id_of(stdout: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(stdout).ok()?;
    v["id"].as_str().map(str::to_owned)
}

#[test]
fn errors_follow_the_documented_json_shape() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let out = billfold(home).args(["card", "list"]).output().unwrap();
    assert!(!out.status.success());
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["error"]["code"], "wallet_not_found");
    assert!(err["error"]["message"].as_str().unwrap().contains("init"));

    assert!(billfold(home).arg("init").status().unwrap().success());
    let canary = "4929123456781236";
    let add = |pan: &str| {
        billfold(home)
            .args([
                "card",
                "add",
                "--pan",
                pan,
                "--expiry",
                "12/30",
                "--name",
                "Ada Lovelace",
            ])
            .output()
            .unwrap()
    };
    assert!(add(canary).status.success());
    for (pan, code) in [
        (canary, "duplicate_card"),
        ("4929123456781237", "invalid_pan"),
    ] {
        let out = add(pan);
        let err: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
        assert_eq!(err["error"]["code"], code);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains(&canary[..12]), "card digits in output: {all}");
    }
    let wrong = billfold(home)
        .env("BILLFOLD_PASSPHRASE", "not the passphrase")
        .args(["card", "list"])
        .output()
        .unwrap();
    let err: serde_json::Value = serde_json::from_slice(&wrong.stderr).unwrap();
    assert_eq!(err["error"]["code"], "wrong_passphrase");
}

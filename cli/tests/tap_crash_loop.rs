//! DESIGN's crash-safety property for taps: kill -9 `billfold hce --stdio`
//! at random points while a reader drives taps through it. Afterwards the
//! database passes its integrity check; no ATC and no single-use key was
//! used twice (the issuer never sees a repeated ATC, the stored ATCs
//! strictly increase, and every key consumed left exactly one tap record);
//! and every tap the reader received an ARQC for is on record, with the
//! very cryptogram the reader got, and reaches the ledger and the outbox.
//!
//! `make test` runs a bounded number of rounds; set BILLFOLD_CRASH_ROUNDS
//! for more, and BILLFOLD_CRASH_SEED to replay a failing run.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;
use support::{integrity, Rng};

use emv::card::TxnDate;
use emv::crypto::{CryptogramData, CryptogramKind, IssuerMasterKey, Profile};
use emv::issuer::{AtcRecord, Issuer};
use emv::kernel::{self, TerminalParams};

const PASSPHRASE: &str = "tap crash loop passphrase";
const IMK_HEX: &str = "0123456789ABCDEFFEDCBA9876543210";
const TOKEN_PAN: &str = "4761739001010010";

fn billfold(home: &Path) -> Command {
    support::billfold_at(home, PASSPHRASE)
}

fn run_ok(mut c: Command) {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn params(n: u64) -> TerminalParams {
    TerminalParams::purchase(
        100 + n % 5000,
        978,
        250,
        TxnDate {
            year: 2026,
            month: 11,
            day: 23,
        },
        (n as u32).to_be_bytes(),
        5411,
        "CRASH TEST GROCER",
    )
}

/// One session with the card process; returns the ARQCs received.
fn session(home: &Path, rng: &mut Rng, kill: bool, counter: &mut u64) -> Vec<CryptogramData> {
    let child: Child = billfold(home)
        .args(["hce", "--stdio"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let child = Arc::new(Mutex::new(child));
    let (mut stdin, stdout) = {
        let mut c = child.lock().unwrap();
        (c.stdin.take().unwrap(), c.stdout.take().unwrap())
    };
    let mut reader = BufReader::new(stdout);

    // Once the wallet is open (its first answer), kill after a random delay:
    // anywhere among the taps, including between a key's commit and the
    // answer.
    let (opened_tx, opened_rx) = mpsc::channel::<()>();
    let delay = Duration::from_micros(rng.next() % 250_000);
    let killer = {
        let child = child.clone();
        std::thread::spawn(move || {
            if opened_rx.recv().is_ok() && kill {
                std::thread::sleep(delay);
                let _ = child.lock().unwrap().kill();
            }
        })
    };

    let mut answered = Vec::new();
    let mut opened = Some(opened_tx);
    let taps = if kill { 1000 } else { 1 + rng.next() % 4 };
    for _ in 0..taps {
        *counter += 1;
        let run = kernel::run(
            &params(*counter),
            |apdu: &[u8]| -> Result<Vec<u8>, String> {
                writeln!(stdin, "{}", hex::encode_upper(apdu))
                    .and_then(|()| stdin.flush())
                    .map_err(|e| e.to_string())?;
                let mut line = String::new();
                reader.read_line(&mut line).map_err(|e| e.to_string())?;
                // A line cut short by the kill is no answer.
                let line = line.strip_suffix('\n').ok_or("the card died")?;
                if let Some(tx) = opened.take() {
                    let _ = tx.send(());
                }
                hex::decode(line).map_err(|e| e.to_string())
            },
        );
        match run.result {
            Ok(out) if out.cryptogram.kind == CryptogramKind::Arqc => answered.push(out.cryptogram),
            Ok(out) => panic!("the card declined: {:?}", out.cryptogram),
            Err(_) => break,
        }
    }
    drop(opened);
    drop(stdin);
    killer.join().unwrap();
    let _ = child.lock().unwrap().wait();
    answered
}

#[test]
fn kill_9_during_taps_never_reuses_a_key_and_loses_no_answered_tap() {
    let (rounds, _seed, mut rng) = support::crash_loop_setup("tap crash loop", 12);
    // Enough for a fast disk: up to about 100 taps fit in a round.
    let keys: u32 = (500 + 250 * rounds as u32).min(60_000);

    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    run_ok({
        let mut c = billfold(home);
        c.arg("init");
        c
    });
    run_ok({
        let mut c = billfold(home);
        c.args([
            "card",
            "add",
            "--pan",
            "4111111111111111",
            "--expiry",
            "12/29",
        ])
        .args(["--name", "Ada Lovelace"]);
        c
    });
    run_ok({
        let mut c = billfold(home);
        c.args(["token", "provision-test", "--issuer-master-key", IMK_HEX])
            .args(["--pan", TOKEN_PAN, "--psn", "1", "--profile", "aes"])
            .args(["--keys", &keys.to_string()]);
        c
    });

    let mut answered: Vec<CryptogramData> = Vec::new();
    let mut counter = 0;
    let mut kills = 0;
    for round in 0..rounds {
        // Mostly killed; now and then a clean end of input.
        let kill = round % 4 != 3;
        kills += usize::from(kill);
        answered.extend(session(home, &mut rng, kill, &mut counter));
    }
    // A last clean session settles whatever the kills left unsettled.
    answered.extend(session(home, &mut rng, false, &mut counter));
    assert!(kills > 0);
    assert!(answered.len() > rounds, "too few taps to mean anything");

    assert_eq!(integrity(home), "ok");
    let conn = rusqlite::Connection::open(home.join("wallet.db")).unwrap();

    // The issuer sees every answered ARQC exactly once, all genuine.
    let key: [u8; 16] = hex::decode(IMK_HEX).unwrap().try_into().unwrap();
    let issuer = Issuer::new().with_key(1, IssuerMasterKey::new(Profile::Aes, key));
    let mut atcs = AtcRecord::new();
    let mut by_atc: BTreeMap<u16, &CryptogramData> = BTreeMap::new();
    for c in &answered {
        issuer
            .verify_arqc(TOKEN_PAN, 1, c, &mut atcs)
            .unwrap_or_else(|e| panic!("ATC {}: {e}", c.atc));
        assert!(
            by_atc.insert(c.atc, c).is_none(),
            "ATC {} answered twice",
            c.atc
        );
    }

    // The stored taps: ATCs strictly increasing, every answered one there
    // with the cryptogram the reader got, and every stored one genuine.
    type Row = (u16, String, String, String, String);
    let mut stmt = conn
        .prepare("SELECT atc, state, cdol1_data, iad, ac FROM taps ORDER BY seq")
        .unwrap();
    let stored: Vec<Row> = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        stored.windows(2).all(|w| w[0].0 < w[1].0),
        "stored ATCs must strictly increase"
    );
    let mut replay = AtcRecord::new();
    for (atc, state, cdol1, iad, ac) in &stored {
        assert_eq!(state, "settled", "ATC {atc} not settled");
        let c = CryptogramData {
            kind: CryptogramKind::Arqc,
            atc: *atc,
            aip: [0x00, 0x80],
            cdol1_data: hex::decode(cdol1).unwrap(),
            iad: hex::decode(iad).unwrap(),
            ac: hex::decode(ac).unwrap().try_into().unwrap(),
        };
        issuer.verify_arqc(TOKEN_PAN, 1, &c, &mut replay).unwrap();
        if let Some(got) = by_atc.get(atc) {
            assert_eq!(**got, c, "ATC {atc}: the record differs from what was sent");
        }
    }
    for atc in by_atc.keys() {
        assert!(
            stored.iter().any(|s| s.0 == *atc),
            "ATC {atc} was answered but is not on record"
        );
    }

    // Keys: each consumed key left exactly one tap; none below the counter.
    let (remaining, below, next_atc): (u32, u32, u32) = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM token_keys),
                    (SELECT COUNT(*) FROM token_keys k JOIN tokens t ON t.id = k.token_id
                      WHERE k.atc < t.next_atc),
                    (SELECT next_atc FROM tokens)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(below, 0);
    assert_eq!(remaining as usize + stored.len(), keys as usize);
    assert_eq!(next_atc, u32::from(stored.last().unwrap().0) + 1);

    // Every tap reached the ledger and the outbox, once.
    let (entries, outbox): (usize, usize) = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM ledger_entries WHERE idempotency_key LIKE 'tap:%'),
                    (SELECT COUNT(*) FROM outbox WHERE kind = 'tap')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(entries, stored.len());
    assert_eq!(outbox, stored.len());
    eprintln!(
        "{rounds} rounds, {kills} kills: {} taps answered, {} recorded",
        answered.len(),
        stored.len()
    );
}

//! A tap authorised by the bank, end to end: the reference bank server
//! (in-process, SQLite) issues a token and its key batch to an enrolled
//! device; the wallet installs them; `billfold-pos --server` drives
//! `billfold hce --stdio` and has the bank verify the ARQC, which answers
//! with a response code and an ARPC.
//!
//! And the same with the bank out of reach: the terminal accepts the tap
//! offline under its floor limit and queues it, the phone's report of the
//! tap charges nothing, and the terminal's deferred submission charges it
//! exactly once, under the phone's report key.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use billfold_protocol::signing::{self, ENROLL_DEVICE_ID, HEADER_IDEMPOTENCY_KEY};
use billfold_protocol::{
    CryptoProfile, EnrollRequest, EnrollResponse, NewCardRequest, PrincipalKind, ProvisionedCard,
};
use emv::crypto::{Profile, SessionKey};
use ring::rand::SystemRandom;
use ring::signature::Ed25519KeyPair;
use serde_json::Value;
use wallet_core::{KeyBatch, PassphraseKeyStore, ProvisionedToken, SystemClock, Wallet};

const PASSPHRASE: &str = "tap bank passphrase";
const FUNDING_PAN: &str = "4111111111111111";

fn billfold(home: &Path) -> Command {
    support::billfold_at(home, PASSPHRASE)
}

fn unix_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A signed POST, as the phone's sync client will make it.
async fn post(
    http: &reqwest::Client,
    base: &str,
    key: &Ed25519KeyPair,
    signer: &str,
    path: &str,
    body: Vec<u8>,
    idem: Option<&str>,
) -> Value {
    let nonce = signing::new_nonce(&SystemRandom::new()).unwrap();
    let h = signing::sign_request(key, signer, "POST", path, &body, unix_s(), &nonce);
    let mut req = http
        .post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .body(body);
    for (k, v) in h.pairs() {
        req = req.header(k, v);
    }
    if let Some(k) = idem {
        req = req.header(HEADER_IDEMPOTENCY_KEY, k);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let v: Value = resp.json().await.unwrap();
    assert!(status.is_success(), "{status}: {v}");
    v
}

/// The bank's token and key batch as the wallet stores them (what the
/// production token service will do with the same API types).
fn provisioned(p: &ProvisionedCard) -> ProvisionedToken {
    let profile = match p.token.profile {
        CryptoProfile::Aes => Profile::Aes,
        CryptoProfile::Tdes => Profile::Tdes,
    };
    ProvisionedToken {
        token_id: p.token.token_id.clone(),
        pan: p.token.pan.clone().into(),
        psn: p.token.psn,
        expiry: p.token.expiry.clone(),
        profile,
        dki: p.token.dki,
        aid: hex::decode(&p.token.aid).unwrap(),
        label: p.token.label.clone(),
        keys: KeyBatch {
            token_id: p.key_batch.token_id.clone(),
            first_atc: p.key_batch.first_atc,
            keys: p
                .key_batch
                .keys
                .iter()
                .map(|k| SessionKey::from_slice(profile, &hex::decode(&k.key).unwrap()).unwrap())
                .collect(),
        },
    }
}

fn pos(home: &Path, server: &str, key_file: &Path, amount: &str) -> (Output, Value) {
    pos_with(home, server, key_file, amount, &[])
}

fn pos_with(
    home: &Path,
    server: &str,
    key_file: &Path,
    amount: &str,
    extra: &[&std::ffi::OsStr],
) -> (Output, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_billfold-pos"))
        .args(extra)
        .arg("--card-cmd")
        .arg(format!(
            "'{}' --home '{}' hce --stdio",
            env!("CARGO_BIN_EXE_billfold"),
            home.display()
        ))
        .args(["--server", server, "--terminal-key"])
        .arg(key_file)
        .args([
            "--amount",
            amount,
            "--currency",
            "EUR",
            "--merchant",
            "BANK TEST CAFE",
        ])
        .args(["--mcc", "5812", "--json"])
        .env("BILLFOLD_PASSPHRASE", PASSPHRASE)
        .env_remove("BILLFOLD_HOME")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out, v)
}

/// The bank in-process, a phone enrolled with it holding a card, and a
/// wallet with the card's token installed.
struct Setup {
    bank: support::InProcessBank,
    base: String,
    phone: Ed25519KeyPair,
    device_id: String,
    card: ProvisionedCard,
    dir: tempfile::TempDir,
}

impl Setup {
    fn home(&self) -> &Path {
        self.dir.path()
    }

    /// A signed sync from the phone: pushes `ops`, pulls from `cursor`.
    fn sync(&self, cursor: u64, ops: Value) -> Value {
        let body = serde_json::to_vec(&serde_json::json!({"cursor": cursor, "ops": ops})).unwrap();
        self.bank.rt.block_on(post(
            &reqwest::Client::new(),
            &self.base,
            &self.phone,
            &self.device_id,
            "/v1/sync",
            body,
            None,
        ))
    }
}

fn setup() -> Setup {
    let bank = support::InProcessBank::start();
    let base = bank.url();

    // The phone enrolls and adds its card; the bank issues a token.
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let (device_id, card): (String, ProvisionedCard) = bank.rt.block_on(async {
        let http = reqwest::Client::new();
        let body = serde_json::to_vec(&EnrollRequest {
            kind: PrincipalKind::Device,
            public_key: signing::public_key_b64(&key),
            name: "test phone".into(),
            link_code: None,
        })
        .unwrap();
        let enrolled: EnrollResponse = serde_json::from_value(
            post(
                &http,
                &base,
                &key,
                ENROLL_DEVICE_ID,
                "/v1/enroll",
                body,
                None,
            )
            .await,
        )
        .unwrap();
        let body = serde_json::to_vec(&NewCardRequest {
            pan: FUNDING_PAN.into(),
            expiry: "12/29".into(),
            nickname: None,
            limit_minor: None,
        })
        .unwrap();
        let card = serde_json::from_value(
            post(
                &http,
                &base,
                &key,
                &enrolled.device_id,
                "/v1/cards",
                body,
                Some("add-card-1"),
            )
            .await,
        )
        .unwrap();
        (enrolled.device_id, card)
    });

    // The wallet stores it against its own copy of the card.
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    assert!(billfold(home).arg("init").status().unwrap().success());
    assert!(billfold(home)
        .args([
            "card",
            "add",
            "--pan",
            FUNDING_PAN,
            "--expiry",
            "12/29",
            "--name",
            "Ada"
        ])
        .status()
        .unwrap()
        .success());
    {
        let ks = Arc::new(PassphraseKeyStore::new(PASSPHRASE).unwrap());
        let w = Wallet::open(home, ks, Arc::new(SystemClock)).unwrap();
        let local = w.default_card().unwrap().unwrap();
        let t = w.install_token(&local.id, &provisioned(&card)).unwrap();
        assert_eq!(t.token_id, card.token.token_id);
        w.close().unwrap();
    }
    Setup {
        bank,
        base,
        phone: key,
        device_id,
        card,
        dir,
    }
}

#[test]
fn the_bank_authorises_a_tap_on_a_token_it_issued() {
    let s = setup();
    let (home, base) = (s.home(), s.base.as_str());

    // Two taps at a terminal that goes online to the bank.
    let key_file = home.join("terminal.json");
    for atc in [1, 2] {
        let (out, v) = pos(home, base, &key_file, "12.34");
        assert!(out.status.success(), "{v}");
        assert_eq!(v["outcome"], "approved");
        assert_eq!(v["cryptogram"]["atc"], atc);
        assert_eq!(v["bank"]["approved"], true);
        assert_eq!(v["bank"]["response_code"], "00");
        assert_eq!(v["bank"]["arpc"].as_str().map(str::len), Some(16));
        assert_eq!(v["bank"]["amount"]["amount_minor"], 1234);
        assert_no_pan(&out, &s.card.token.pan);
        assert!(
            key_file.exists(),
            "the terminal enrolled once and kept its key"
        );
    }

    // Over the card's limit: the bank declines, with a reason.
    let (out, v) = pos(home, base, &key_file, "900.00");
    assert!(!out.status.success());
    assert_eq!(v["outcome"], "declined");
    assert_eq!(v["bank"]["approved"], false);
    assert_eq!(v["bank"]["decline_reason"], "limit_exceeded");
}

/// Non-empty lines of the offline queue.
fn queued(file: &Path) -> usize {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

fn submit(queue: &Path, server: &str, key_file: &Path) -> (Output, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_billfold-pos"))
        .arg("--submit-queue")
        .arg(queue)
        .args(["--server", server, "--terminal-key"])
        .arg(key_file)
        .arg("--json")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out, v)
}

#[track_caller]
fn assert_no_pan(out: &Output, pan: &str) {
    for stream in [&out.stdout, &out.stderr] {
        assert!(
            !String::from_utf8_lossy(stream).contains(pan),
            "the token PAN was printed"
        );
    }
}

/// The card payments the bank posted for this token, from a full pull.
fn postings(s: &Setup) -> Vec<Value> {
    let pulled = s.sync(0, serde_json::json!([]));
    pulled["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["token_id"] == s.card.token.token_id.as_str())
        .cloned()
        .collect()
}

fn posted_balance(s: &Setup) -> i64 {
    s.sync(0, serde_json::json!([]))["posted_balance"]["amount_minor"]
        .as_i64()
        .unwrap()
}

#[test]
fn an_offline_terminal_defers_authorization_and_the_bank_charges_once() {
    let s = setup();
    let home = s.home();
    let pan = s.card.token.pan.clone();
    let opening = posted_balance(&s);
    let queue = home.join("offline-queue.jsonl");
    let key_file = home.join("gate-terminal.json");
    // Nothing listens here: the link to the bank is down.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let offline = [std::ffi::OsStr::new("--offline-queue"), queue.as_os_str()];

    // Under the floor limit (50.00 by default): accepted offline, queued.
    let (out, v) = pos_with(home, &dead, &key_file, "12.34", &offline);
    assert!(out.status.success(), "{v}");
    assert_eq!(v["outcome"], "approved_offline");
    assert_eq!(v["offline"]["approved"], true);
    assert_eq!(v["cryptogram"]["atc"], 1);
    assert_no_pan(&out, &pan);
    assert_eq!(queued(&queue), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&queue).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the queue holds PANs: owner only");
    }

    // Above it: declined, nothing queued (the card still spent a key).
    let (out, v) = pos_with(home, &dead, &key_file, "75.00", &offline);
    assert!(!out.status.success());
    assert_eq!(v["outcome"], "declined_offline");
    assert_eq!(v["offline"]["approved"], false);
    assert_eq!(v["cryptogram"]["atc"], 2);
    assert_eq!(queued(&queue), 1);
    // Without the flag, as before: no bank, no tap.
    let (out, v) = {
        let out = Command::new(env!("CARGO_BIN_EXE_billfold-pos"))
            .args([
                "--test-card",
                "--issuer-master-key",
                "00112233445566778899AABBCCDDEEFF",
            ])
            .args(["--server", &dead, "--amount", "1.00", "--json"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stderr).unwrap();
        (out, v)
    };
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(v["error"]["code"], "bank");

    // The phone reports both taps from its outbox: nothing is charged.
    let conn = rusqlite::Connection::open(home.join("wallet.db")).unwrap();
    let ops: Vec<Value> = conn
        .prepare("SELECT idempotency_key, payload FROM outbox WHERE kind = 'tap' ORDER BY seq")
        .unwrap()
        .query_map([], |r| {
            let key: String = r.get(0)?;
            let payload: String = r.get(1)?;
            Ok(serde_json::json!({"idempotency_key": key, "op": serde_json::from_str::<Value>(&payload).unwrap()}))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(ops.len(), 2);
    let reported = s.sync(0, Value::Array(ops.clone()));
    for r in reported["results"].as_array().unwrap() {
        assert_eq!(r["status"], "applied", "{r}");
        assert_eq!(r["outcome"]["state"], "awaiting_terminal", "{r}");
    }
    assert_eq!(reported["posted_balance"]["amount_minor"], opening);
    assert!(postings(&s).is_empty());
    let report_key = ops[0]["idempotency_key"].as_str().unwrap();

    // The link is back: the queued tap is submitted and charged once, under
    // the phone's report key.
    let before_submit = std::fs::read(&queue).unwrap();
    let (out, v) = submit(&queue, &s.base, &key_file);
    assert!(out.status.success(), "{v}");
    assert_no_pan(&out, &pan);
    assert_eq!(v["outcome"], "drained");
    assert_eq!(v["submitted"].as_array().unwrap().len(), 1);
    let answer = v["submitted"][0]["bank"].clone();
    assert_eq!(answer["approved"], true, "{v}");
    assert_eq!(answer["amount"]["amount_minor"], 1234);
    assert_eq!(queued(&queue), 0);
    let posted = postings(&s);
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0]["atc"], 1);
    assert_eq!(posted[0]["amount"]["amount_minor"], -1234);
    assert_eq!(posted[0]["origin_key"], report_key);
    assert_eq!(posted_balance(&s), opening - 1234);

    // Submitted again: nothing left to send.
    let (out, v) = submit(&queue, &s.base, &key_file);
    assert!(out.status.success(), "{v}");
    assert!(v["submitted"].as_array().unwrap().is_empty());
    // A crash after the bank answered but before the queue was rewritten
    // leaves the tap queued: sent again, the bank gives the same answer
    // and charges nothing more.
    std::fs::write(&queue, before_submit).unwrap();
    let (out, v) = submit(&queue, &s.base, &key_file);
    assert!(out.status.success(), "{v}");
    assert_eq!(v["submitted"][0]["bank"], answer);
    assert_eq!(postings(&s).len(), 1, "charged exactly once");
    assert_eq!(posted_balance(&s), opening - 1234);
    // The phone's reports, pushed again, are duplicates.
    let again = s.sync(0, Value::Array(ops));
    assert!(again["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] == "duplicate"));
    assert_eq!(postings(&s).len(), 1);
}

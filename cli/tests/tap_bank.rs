//! A tap authorised by the bank, end to end: the reference bank server
//! (in-process, SQLite) issues a token and its key batch to an enrolled
//! device; the wallet installs them; `billfold-pos --server` drives
//! `billfold hce --stdio` and has the bank verify the ARQC, which answers
//! with a response code and an ARPC.

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
    let mut c = Command::new(env!("CARGO_BIN_EXE_billfold"));
    c.arg("--home")
        .arg(home)
        .env("BILLFOLD_PASSPHRASE", PASSPHRASE)
        .env_remove("BILLFOLD_HOME")
        .stdin(Stdio::null());
    c
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
    let out = Command::new(env!("CARGO_BIN_EXE_billfold-pos"))
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

#[test]
fn the_bank_authorises_a_tap_on_a_token_it_issued() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let data = tempfile::tempdir().unwrap();
    let cfg = billfold_server::Config::for_tests(billfold_server::Storage::Sqlite {
        data_dir: data.path().to_path_buf(),
    });
    let server = rt
        .block_on(billfold_server::start(
            cfg,
            Arc::new(billfold_server::SystemClock),
        ))
        .unwrap();
    let base = server.url();

    // The phone enrolls and adds its card; the bank issues a token.
    let card: ProvisionedCard = rt.block_on(async {
        let http = reqwest::Client::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
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
        serde_json::from_value(
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
        .unwrap()
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

    // Two taps at a terminal that goes online to the bank.
    let key_file = dir.path().join("terminal.json");
    for atc in [1, 2] {
        let (out, v) = pos(home, &base, &key_file, "12.34");
        assert!(out.status.success(), "{v}");
        assert_eq!(v["outcome"], "approved");
        assert_eq!(v["cryptogram"]["atc"], atc);
        assert_eq!(v["bank"]["approved"], true);
        assert_eq!(v["bank"]["response_code"], "00");
        assert_eq!(v["bank"]["arpc"].as_str().map(str::len), Some(16));
        assert_eq!(v["bank"]["amount"]["amount_minor"], 1234);
        assert!(
            key_file.exists(),
            "the terminal enrolled once and kept its key"
        );
    }

    // Over the card's limit: the bank declines, with a reason.
    let (out, v) = pos(home, &base, &key_file, "900.00");
    assert!(!out.status.success());
    assert_eq!(v["outcome"], "declined");
    assert_eq!(v["bank"]["approved"], false);
    assert_eq!(v["bank"]["decline_reason"], "limit_exceeded");
    rt.block_on(async { drop(server) });
}

//! Tap to pay from the command line: `token provision-test`, `token
//! list|status`, `billfold hce --stdio` driven by `billfold-pos`, for both
//! profiles, the declines, and the stdio protocol's handling of bad lines.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const PASSPHRASE: &str = "tap cli passphrase";
const IMK: &str = "0123456789ABCDEFFEDCBA9876543210";
const TOKEN_PAN: &str = "4761739001010010";

fn billfold(home: &Path) -> Command {
    support::billfold_at(home, PASSPHRASE)
}

fn ok(mut c: Command) -> Output {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// A wallet with one card and a test token of `keys` keys.
fn setup(profile: &str, keys: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    ok({
        let mut c = billfold(home);
        c.arg("init");
        c
    });
    ok({
        let mut c = billfold(home);
        c.args([
            "card",
            "add",
            "--pan",
            "4111111111111111",
            "--expiry",
            "12/29",
            "--name",
            "Ada Lovelace",
            "--nickname",
            "everyday",
        ]);
        c
    });
    let out = ok({
        let mut c = billfold(home);
        c.args([
            "--json",
            "token",
            "provision-test",
            "--issuer-master-key",
            IMK,
        ])
        .args([
            "--pan",
            TOKEN_PAN,
            "--psn",
            "1",
            "--keys",
            &keys.to_string(),
        ])
        .args(["--profile", profile]);
        c
    });
    let token = json(&out);
    assert_eq!(token["profile"], profile);
    assert_eq!(token["keys"]["remaining"], keys);
    assert!(!String::from_utf8_lossy(&out.stdout).contains(TOKEN_PAN));
    dir
}

fn hce_cmd(home: &Path) -> String {
    format!(
        "'{}' --home '{}' hce --stdio",
        env!("CARGO_BIN_EXE_billfold"),
        home.display()
    )
}

fn pos(home: &Path, extra: &[&str]) -> (Output, Value) {
    pos_with(home, IMK, extra)
}

fn pos_with(home: &Path, imk: &str, extra: &[&str]) -> (Output, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_billfold-pos"))
        .args(["--card-cmd", &hce_cmd(home)])
        .args([
            "--amount",
            "12.34",
            "--currency",
            "EUR",
            "--merchant",
            "CORNER SHOP PARIS",
        ])
        .args(["--mcc", "5411", "--issuer-master-key", imk, "--json"])
        .args(extra)
        .env("BILLFOLD_PASSPHRASE", PASSPHRASE)
        .env_remove("BILLFOLD_HOME")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let v = json(&out);
    (out, v)
}

fn status(home: &Path) -> Value {
    json(&ok({
        let mut c = billfold(home);
        c.args(["--json", "token", "status"]);
        c
    }))
}

#[test]
fn full_transactions_for_both_profiles() {
    for profile in ["tdes", "aes"] {
        let dir = setup(profile, 6);
        let home = dir.path();
        for atc in 1..=2 {
            let (out, v) = pos(home, &[]);
            assert!(out.status.success(), "{v}");
            assert_eq!(v["outcome"], "approved");
            assert_eq!(v["cryptogram"]["kind"], "arqc");
            assert_eq!(v["cryptogram"]["atc"], atc);
            assert_eq!(v["issuer"]["verified"], true);
            assert_eq!(v["card"]["masked_pan"], "476173******0010");
            let steps: Vec<&str> = v["transcript"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["step"].as_str().unwrap())
                .collect();
            assert_eq!(
                steps,
                [
                    "select_ppse",
                    "select_application",
                    "get_processing_options",
                    "read_record",
                    "generate_ac"
                ]
            );
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains("sent to the bank"), "{stderr}");
            assert!(!stderr.contains(TOKEN_PAN));
        }
        let s = status(home);
        assert_eq!(s["tokens"][0]["remaining"], 4);
        assert_eq!(s["tokens"][0]["next_atc"], 3);
        assert_eq!(s["needs_replenishment"], true);

        // Each tap is a pending entry, categorised from the MCC.
        let list = json(&ok({
            let mut c = billfold(home);
            c.args(["--json", "tx", "list"]);
            c
        }));
        let entries = list["entries"].as_array().expect("entries");
        assert_eq!(entries.len(), 2, "{list}");
        for e in entries {
            assert_eq!(e["status"], "pending");
            assert_eq!(e["category"], "food.groceries");
            assert_eq!(e["merchant"], "CORNER SHOP PARIS");
        }
    }
}

#[test]
fn human_transcript_describes_each_exchange() {
    let dir = setup("tdes", 2);
    let out = Command::new(env!("CARGO_BIN_EXE_billfold-pos"))
        .args(["--card-cmd", &hce_cmd(dir.path())])
        .args([
            "--amount",
            "3.50",
            "--currency",
            "978",
            "--issuer-master-key",
            IMK,
        ])
        .env("BILLFOLD_PASSPHRASE", PASSPHRASE)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "SELECT PPSE 2PAY.SYS.DDF01",
        "SELECT AID A0000000031010",
        "GET PROCESSING OPTIONS",
        "READ RECORD SFI 1 record 1",
        "GENERATE AC (ARQC requested)",
        "C-APDU 00A404000E325041592E5359532E444446303100",
        "R-APDU ",
        "[9000 (success)]",
        "Cryptogram: ARQC  ATC 1",
        "APPROVED",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
}

#[test]
fn declines_frozen_exhausted_and_wrong_aid() {
    let dir = setup("aes", 1);
    let home = dir.path();
    ok({
        let mut c = billfold(home);
        c.args(["card", "freeze", "everyday"]);
        c
    });
    let (out, v) = pos(home, &[]);
    assert!(!out.status.success());
    assert_eq!(v["outcome"], "declined");
    assert_eq!(v["cryptogram"]["kind"], "aac");
    assert_eq!(v["card_decline"], "card_frozen");
    assert!(String::from_utf8_lossy(&out.stderr).contains("This card is frozen"));
    assert_eq!(status(home)["tokens"][0]["remaining"], 1, "no key spent");

    ok({
        let mut c = billfold(home);
        c.args(["card", "unfreeze", "everyday"]);
        c
    });
    assert_eq!(pos(home, &[]).1["outcome"], "approved");
    let (out, v) = pos(home, &[]);
    assert!(!out.status.success());
    assert_eq!(v["card_decline"], "keys_exhausted");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no payment keys left"));

    let (out, v) = pos(home, &["--aid", "A0000000041010"]);
    assert!(!out.status.success());
    assert_eq!(v["outcome"], "failed");
    let t = v["transcript"].as_array().unwrap();
    assert_eq!(t.len(), 2);
    assert_eq!(t[1]["status"], "6A82");
}

#[test]
fn a_wrong_issuer_key_does_not_verify() {
    let dir = setup("tdes", 2);
    let (out, v) = pos_with(dir.path(), "00112233445566778899AABBCCDDEEFF", &[]);
    assert!(!out.status.success());
    assert_eq!(v["outcome"], "declined");
    assert_eq!(v["issuer"]["verified"], false);
}

#[test]
fn stdio_answers_every_line_even_garbage() {
    let dir = setup("tdes", 2);
    let mut child = billfold(dir.path())
        .args(["hce", "--stdio"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = b"zz\n\n00a4 0400 0e 325041592e5359532e444446303100\r\n\xff\xfe\n0\n80CA9F3600\n00A404000E325041592E5359532E444446303100FFFFFFFFFFFF\n".to_vec();
    // An endless line of hex, then a good command: one 6700, and on.
    input.extend(std::iter::repeat_n(b'A', 100_000));
    input.extend(b"\n00A404000E325041592E5359532E444446303100\n");
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), 9, "{lines:?}");
    assert_eq!(lines[7], "6700");
    assert!(lines[8].ends_with("9000"));
    assert_eq!(lines[0], "6700");
    assert_eq!(lines[1], "6700");
    assert!(lines[2].starts_with("6F") && lines[2].ends_with("9000"));
    assert_eq!(lines[3], "6700");
    assert_eq!(lines[4], "6700");
    assert_eq!(lines[5], "6D00");
    assert_eq!(lines[6], "6700");
}

#[test]
fn token_list_is_masked_and_provisioning_checks_its_input() {
    let dir = setup("tdes", 3);
    let home = dir.path();
    let out = ok({
        let mut c = billfold(home);
        c.args(["--json", "token", "list"]);
        c
    });
    let v = json(&out);
    assert_eq!(v[0]["masked_pan"], "476173******0010");
    assert_eq!(v[0]["is_default_card"], true);
    let human = ok({
        let mut c = billfold(home);
        c.args(["token", "list"]);
        c
    });
    for o in [&out, &human] {
        assert!(!String::from_utf8_lossy(&o.stdout).contains(TOKEN_PAN));
    }

    for (args, code) in [
        (vec!["--issuer-master-key", "abc"], "invalid_input"),
        (
            vec!["--issuer-master-key", IMK, "--psn", "100"],
            "invalid_input",
        ),
        (
            vec!["--issuer-master-key", IMK, "--profile", "rsa"],
            "invalid_input",
        ),
        (
            vec!["--issuer-master-key", IMK, "--pan", "12ab"],
            "invalid_input",
        ),
        (
            vec!["--issuer-master-key", IMK, "--aid", "A000"],
            "invalid_token",
        ),
        (
            vec!["--issuer-master-key", IMK, "--keys", "0"],
            "invalid_input",
        ),
        (
            vec!["--issuer-master-key", IMK, "--card", "nope"],
            "card_not_found",
        ),
    ] {
        let out = billfold(home)
            .args(["--json", "token", "provision-test"])
            .args(&args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let e: Value = serde_json::from_slice(&out.stderr).unwrap();
        assert_eq!(e["error"]["code"], code, "{args:?}: {e}");
    }
    // Still the original token, untouched.
    assert_eq!(status(home)["tokens"][0]["remaining"], 3);
}

#[test]
fn pos_taps_in_process_cards_too() {
    let dir = setup("aes", 2);
    // The wallet in-process.
    let out = Command::new(env!("CARGO_BIN_EXE_billfold-pos"))
        .arg("--home")
        .arg(dir.path())
        .args(["--amount", "9.99", "--issuer-master-key", IMK, "--json"])
        .env("BILLFOLD_PASSPHRASE", PASSPHRASE)
        .output()
        .unwrap();
    let v = json(&out);
    assert!(out.status.success(), "{v}");
    assert_eq!(v["outcome"], "approved");
    assert_eq!(status(dir.path())["tokens"][0]["remaining"], 1);

    // The built-in test card.
    for profile in ["tdes", "aes"] {
        let out = Command::new(env!("CARGO_BIN_EXE_billfold-pos"))
            .args(["--test-card", "--profile", profile, "--atc", "7"])
            .args([
                "--amount",
                "1",
                "--currency",
                "JPY",
                "--issuer-master-key",
                IMK,
                "--json",
            ])
            .output()
            .unwrap();
        let v = json(&out);
        assert!(out.status.success(), "{v}");
        assert_eq!(v["cryptogram"]["atc"], 7);
    }

    // No card at all is a usage error.
    let out = Command::new(env!("CARGO_BIN_EXE_billfold-pos"))
        .args(["--amount", "1", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(e["error"]["code"], "invalid_input");
}

//! `billfold qr make | scan | parse` round trip, without a wallet.

use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn billfold(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_billfold"))
        .args(args)
        // Stateless commands: no home, no passphrase.
        .env_remove("BILLFOLD_HOME")
        .env_remove("BILLFOLD_PASSPHRASE")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn json_ok(args: &[&str]) -> Value {
    let out = billfold(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn make_scan_parse_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("request.png");
    let png = png.to_str().unwrap();
    let made = json_ok(&[
        "qr",
        "make",
        "--merchant-name",
        "Kopi Corner",
        "--city",
        "Singapore",
        "--country",
        "SG",
        "--currency",
        "SGD",
        "--amount",
        "4.80",
        "--mcc",
        "5814",
        "--account",
        "201912345K",
        "--out",
        png,
        "--json",
    ]);
    assert_eq!(made["format"], "png");
    let payload = made["payload"].as_str().unwrap().to_string();
    assert!(payload.starts_with("000201"));

    let scanned = json_ok(&["qr", "scan", png, "--json"]);
    let codes = scanned["codes"].as_array().unwrap();
    assert_eq!(codes.len(), 1);
    assert_eq!(codes[0]["text"], payload.as_str());
    let corners = codes[0]["corners"].as_array().unwrap();
    assert_eq!(corners.len(), 4);
    // The symbol starts after the 4-module quiet zone, 8 px per module.
    assert!(
        (corners[0][0].as_f64().unwrap() - 32.0).abs() <= 8.0,
        "{corners:?}"
    );
    assert!(
        (corners[0][1].as_f64().unwrap() - 32.0).abs() <= 8.0,
        "{corners:?}"
    );
    let emv = &codes[0]["emv"];
    assert_eq!(emv["mode"], "merchant_presented");
    assert_eq!(emv["merchant_name"], "Kopi Corner");
    assert_eq!(emv["amount"], "4.80");

    let parsed = json_ok(&["qr", "parse", &payload, "--json"]);
    assert_eq!(parsed["merchant_name"], "Kopi Corner");
    assert_eq!(parsed["merchant_city"], "Singapore");
    assert_eq!(parsed["country"], "SG");
    assert_eq!(parsed["mcc"], "5814");
    assert_eq!(parsed["currency"], "SGD");
    assert_eq!(parsed["amount"], "4.80");
    assert_eq!(parsed["point_of_initiation"], "dynamic");
    assert_eq!(parsed["crc_valid"], true);
    assert_eq!(parsed["schemes"][0]["payee"], "201912345K");
    assert!(parsed["additional_data"].is_object());
    assert!(parsed["warnings"].as_array().unwrap().is_empty());
}

#[test]
fn text_codes_as_svg_and_png() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("code.svg");
    let made = json_ok(&[
        "qr",
        "make",
        "--text",
        "https://example.org/not-a-payment",
        "--out",
        svg.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(made["format"], "svg");
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));

    // A plain URL scans, with no EMV view.
    let png = dir.path().join("code.png");
    json_ok(&[
        "qr",
        "make",
        "--text",
        "https://example.org/not-a-payment",
        "--out",
        png.to_str().unwrap(),
        "--json",
    ]);
    let scanned = json_ok(&["qr", "scan", png.to_str().unwrap(), "--json"]);
    assert_eq!(
        scanned["codes"][0]["text"],
        "https://example.org/not-a-payment"
    );
    assert!(scanned["codes"][0]["emv"].is_null());
}

#[test]
fn a_damaged_crc_is_shown_as_invalid() {
    let bad = "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3E";
    let parsed = json_ok(&["qr", "parse", bad, "--json"]);
    assert_eq!(parsed["crc_valid"], false);
    assert!(parsed["amount"].is_null());
    assert_eq!(parsed["point_of_initiation"], Value::Null);
}

#[test]
fn errors_are_json_with_stable_codes() {
    let out = billfold(&["qr", "parse", "not a payment code", "--json"]);
    assert!(!out.status.success());
    let err: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["error"]["code"], "invalid_qr");

    let dir = tempfile::tempdir().unwrap();
    let out = billfold(&[
        "qr",
        "make",
        "--text",
        "x",
        "--out",
        dir.path().join("code.gif").to_str().unwrap(),
        "--json",
    ]);
    let err: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["error"]["code"], "invalid_input");

    let out = billfold(&[
        "qr",
        "scan",
        dir.path().join("none.png").to_str().unwrap(),
        "--json",
    ]);
    let err: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["error"]["code"], "io");

    let out = billfold(&[
        "qr",
        "make",
        "--merchant-name",
        "A",
        "--city",
        "B",
        "--country",
        "SG",
        "--currency",
        "XYZ",
        "--out",
        "/tmp/never.png",
        "--json",
    ]);
    let err: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["error"]["code"], "invalid_currency");
}

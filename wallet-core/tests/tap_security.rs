//! DESIGN's "no secret on disk in the clear" for tokens: the token PAN (in
//! every encoding EMV and text use) and every session key's bytes appear in
//! neither the database nor its -wal and -shm, before or after taps and
//! checkpoints; sealed token fields are bound to their row; Debug output
//! and error messages carry neither.

mod tap_support;

use emv::crypto::SessionKey;
use tap_support::*;
use wallet_core::{DeactivationReason, Error};

fn pan_encodings(pan: &str) -> Vec<(&'static str, Vec<u8>)> {
    let utf16: Vec<u8> = pan.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    let track2 = nibbles(&format!("{pan}D2912201"));
    vec![
        ("ascii", pan.as_bytes().to_vec()),
        ("utf16le", utf16),
        ("bcd 5A", nibbles(pan)),
        ("bcd 57", track2[..pan.len() / 2].to_vec()),
    ]
}

fn all_keys(f: &TapFixture, profile: Profile, count: u16) -> Vec<SessionKey> {
    f.service
        .issuer()
        .session_keys(profile, 1, TOKEN_PAN, 1, 1, count)
        .unwrap()
        .into_iter()
        .map(|(_, k)| k)
        .collect()
}

fn assert_clean(f: &TapFixture, keys: &[SessionKey], stage: &str) {
    let files = read_all(f.dir.path());
    assert!(files.iter().any(|(n, _)| n.ends_with("wallet.db")));
    for (name, bytes) in &files {
        for (form, needle) in pan_encodings(TOKEN_PAN) {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                "{stage}: the token PAN appears as {form} in {name}"
            );
        }
        for (i, k) in keys.iter().enumerate() {
            let needle = k.expose_bytes();
            assert!(
                !bytes.windows(16).any(|w| w == needle),
                "{stage}: session key {i} appears in {name}"
            );
            let hex_lower = hex::encode(needle);
            let hex_upper = hex::encode_upper(needle);
            for h in [hex_lower, hex_upper] {
                assert!(
                    !bytes.windows(32).any(|w| w == h.as_bytes()),
                    "{stage}: session key {i} appears as hex in {name}"
                );
            }
        }
    }
}

#[test]
fn no_token_pan_or_session_key_on_disk() {
    for profile in [Profile::Tdes, Profile::Aes] {
        let f = tap_fixture(profile, 12);
        let keys = all_keys(&f, profile, 12);
        assert_clean(&f, &keys, "after provisioning");
        for _ in 0..5 {
            tap(&f.wallet, &params()).result.unwrap();
            f.wallet.on_deactivated(DeactivationReason::LinkLoss);
        }
        f.wallet.replenish_tokens(&f.service).unwrap();
        let keys = all_keys(&f, profile, 22);
        assert_clean(&f, &keys, "after taps, before checkpoint");
        f.wallet.checkpoint().unwrap();
        assert_clean(&f, &keys, "after checkpoint");
        let dir = f.dir;
        f.wallet.close().unwrap();
        let files = read_all(dir.path());
        for (name, bytes) in &files {
            for (form, needle) in pan_encodings(TOKEN_PAN) {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                    "after close: {form} in {name}"
                );
            }
        }
    }
}

#[test]
fn sealed_token_fields_are_bound_to_their_row() {
    let f = tap_fixture(Profile::Tdes, 2);
    let conn = rusqlite::Connection::open(f.wallet.db_path()).unwrap();
    // The PAN's ciphertext moved into the expiry column: refused.
    conn.execute("UPDATE tokens SET expiry_ct = pan_ct", [])
        .unwrap();
    assert!(matches!(
        f.wallet.tokens(),
        Err(Error::Tampered {
            table: "tokens",
            ..
        })
    ));
}

#[test]
fn nothing_secret_in_debug_output_or_messages() {
    let f = tap_fixture(Profile::Aes, 3);
    let keys = all_keys(&f, Profile::Aes, 3);
    let req = wallet_core::ProvisionRequest {
        card_id: f.card_id.clone(),
        funding_pan: FUNDING_PAN.to_string().into(),
        funding_expiry: "12/29".into(),
        min_first_atc: 1,
    };
    let provisioned = wallet_core::TokenService::provision(&f.service, &req).unwrap();
    tap(&f.wallet, &params()).result.unwrap();
    let report = f.wallet.on_deactivated(DeactivationReason::LinkLoss);
    let shown = format!(
        "{req:?} {provisioned:?} {:?} {:?} {report:?} {:?} {:?} {:?}",
        provisioned.keys,
        f.wallet.tokens().unwrap(),
        f.wallet.taps().unwrap(),
        f.wallet.token_key_status().unwrap(),
        config(Profile::Aes, 1),
    );
    assert!(!shown.contains(TOKEN_PAN), "{shown}");
    assert!(!shown.contains(FUNDING_PAN), "{shown}");
    for k in &keys {
        assert!(!shown
            .to_lowercase()
            .contains(&hex::encode(k.expose_bytes())));
    }
    for e in [
        Error::TokenNotFound,
        Error::InvalidToken("x"),
        Error::TokenService("the token service refused: unknown token".into()),
    ] {
        assert!(!e.to_string().is_empty());
        assert!(!e.code().is_empty());
    }
}

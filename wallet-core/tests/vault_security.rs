//! DESIGN's security properties for stored card data, as tests: nothing in
//! the clear on disk, tampering detected, other devices' keys refused.

mod common;

use std::sync::Arc;

use common::*;
use rusqlite::Connection;
use wallet_core::{Error, KdfParams, PassphraseKeyStore, SoftwareKeyStore, Wallet};

/// Every way the PAN could appear on disk: ASCII digits, grouped digits,
/// UTF-16LE, and packed BCD as EMV tags 5A (F-padded) and 57 (D separator).
fn encodings(pan: &str) -> Vec<(&'static str, Vec<u8>)> {
    let grouped: String = pan
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(" ");
    let utf16: Vec<u8> = pan.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    let nibbles = |s: &str| -> Vec<u8> {
        let n: Vec<u8> = s
            .chars()
            .map(|c| match c {
                'D' => 0xD,
                'F' => 0xF,
                d => d.to_digit(10).unwrap() as u8,
            })
            .collect();
        n.chunks(2)
            .map(|p| (p[0] << 4) | p.get(1).copied().unwrap_or(0xF))
            .collect()
    };
    let bcd_5a = nibbles(pan);
    // Track 2 equivalent: PAN, 'D', YYMM, service code; match the PAN part.
    let track2 = nibbles(&format!("{pan}D2912201"));
    let track2_pan_part = track2[..pan.len() / 2].to_vec();
    vec![
        ("ascii", pan.as_bytes().to_vec()),
        ("grouped", grouped.into_bytes()),
        ("utf16le", utf16),
        ("bcd 5A", bcd_5a),
        ("bcd 57", track2_pan_part),
    ]
}

#[test]
fn no_card_number_on_disk_in_any_form() {
    let f = fixture();
    for (i, pan) in PANS.iter().enumerate() {
        f.wallet
            .add_card(&new_card(pan, &format!("card {i}")))
            .unwrap();
    }
    // Churn so ciphertexts and freed pages move about.
    let cards = f.wallet.list_cards().unwrap();
    f.wallet.remove_card(&cards[1].id).unwrap();
    f.wallet.freeze_card(&cards[2].id).unwrap();

    let check = |stage: &str| {
        let files = read_all(f.dir.path());
        assert!(files.iter().any(|(n, _)| n.ends_with("wallet.db")));
        for (name, bytes) in &files {
            for pan in PANS {
                for (form, needle) in encodings(pan) {
                    assert!(
                        !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                        "{stage}: a card number appears as {form} in {name}"
                    );
                }
            }
        }
    };
    // Before the checkpoint the data sits in -wal and -shm; after it, in the db.
    check("before checkpoint");
    f.wallet.checkpoint().unwrap();
    check("after checkpoint");
    let dir = f.dir;
    f.wallet.close().unwrap();
    let files = read_all(dir.path());
    assert!(files.iter().all(|(n, _)| !n.contains("-journal")));
    for (name, bytes) in &files {
        for pan in PANS {
            for (form, needle) in encodings(pan) {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                    "after close: {form} in {name}"
                );
            }
        }
    }
}

fn raw(f: &Fixture) -> Connection {
    Connection::open(f.dir.path().join(Wallet::DB_FILE)).unwrap()
}

#[test]
fn flipping_any_byte_of_a_ciphertext_is_detected() {
    let f = fixture();
    let card = f.wallet.add_card(&new_card(PANS[0], "main")).unwrap();
    let conn = raw(&f);
    for column in ["pan_ct", "expiry_ct", "name_ct"] {
        let original: Vec<u8> = conn
            .query_row(&format!("SELECT {column} FROM cards"), [], |r| r.get(0))
            .unwrap();
        for i in 0..original.len() {
            let mut bad = original.clone();
            bad[i] ^= 0x01;
            conn.execute(&format!("UPDATE cards SET {column} = ?1"), [&bad])
                .unwrap();
            match f.wallet.list_cards() {
                Err(Error::Tampered { table: "cards", .. }) => {}
                other => panic!("byte {i} of {column}: expected Tampered, got {other:?}"),
            }
        }
        conn.execute(&format!("UPDATE cards SET {column} = ?1"), [&original])
            .unwrap();
    }
    assert_eq!(f.wallet.card(&card.id).unwrap(), card);
}

#[test]
fn swapping_ciphertexts_between_rows_or_columns_is_detected() {
    let f = fixture();
    let a = f.wallet.add_card(&new_card(PANS[0], "a")).unwrap();
    let b = f.wallet.add_card(&new_card(PANS[1], "b")).unwrap();
    let conn = raw(&f);

    // Row swap: give card a the PAN ciphertext of card b.
    conn.execute(
        "UPDATE cards SET pan_ct = (SELECT pan_ct FROM cards WHERE id = ?2) WHERE id = ?1",
        [&a.id, &b.id],
    )
    .unwrap();
    assert!(matches!(
        f.wallet.card(&a.id),
        Err(Error::Tampered { column: "pan", .. })
    ));

    // Column swap within card b: expiry ciphertext into the name column.
    conn.execute(
        "UPDATE cards SET name_ct = expiry_ct WHERE id = ?1",
        [&b.id],
    )
    .unwrap();
    assert!(matches!(
        f.wallet.card(&b.id),
        Err(Error::Tampered {
            column: "cardholder_name",
            ..
        })
    ));
}

#[test]
fn another_devices_key_store_fails_cleanly_and_leaves_the_file_alone() {
    let f = fixture();
    f.wallet.add_card(&new_card(PANS[0], "main")).unwrap();
    f.wallet.checkpoint().unwrap();
    let dir = f.dir;
    f.wallet.close().unwrap();
    let before = read_all(dir.path());

    let other = Arc::new(SoftwareKeyStore::generate().unwrap());
    let err = Wallet::open(dir.path(), other, f.clock.clone())
        .err()
        .unwrap();
    assert!(matches!(err, Error::WrongKeyStore), "{err:?}");
    assert_eq!(err.code(), "wrong_key_store");

    let pass =
        Arc::new(PassphraseKeyStore::with_params("a long passphrase", KdfParams::FLOOR).unwrap());
    assert!(matches!(
        Wallet::open(dir.path(), pass, f.clock.clone()),
        Err(Error::WrongKeyStore)
    ));

    let db = |files: &[(String, Vec<u8>)]| {
        files
            .iter()
            .find(|(n, _)| n.ends_with("wallet.db"))
            .map(|(_, b)| b.clone())
            .unwrap()
    };
    assert_eq!(
        db(&read_all(dir.path())),
        db(&before),
        "the database file changed"
    );

    // And the right device still opens it.
    let w = Wallet::open(dir.path(), f.keystore.clone(), f.clock.clone()).unwrap();
    assert_eq!(w.list_cards().unwrap().len(), 1);
}

#[test]
fn wrong_passphrase_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(wallet_core::ManualClock::new(NOW_MS));
    let right = Arc::new(
        PassphraseKeyStore::with_params("correct horse battery", KdfParams::FLOOR).unwrap(),
    );
    let w = Wallet::create(dir.path(), right.clone(), clock.clone()).unwrap();
    w.add_card(&new_card(PANS[0], "main")).unwrap();
    w.close().unwrap();

    let wrong =
        Arc::new(PassphraseKeyStore::with_params("incorrect horse", KdfParams::FLOOR).unwrap());
    let err = Wallet::open(dir.path(), wrong, clock.clone())
        .err()
        .unwrap();
    assert!(matches!(err, Error::WrongPassphrase));
    assert_eq!(err.to_string(), "the passphrase is wrong");

    let w = Wallet::open(dir.path(), right, clock).unwrap();
    assert_eq!(w.list_cards().unwrap().len(), 1);
}

#[test]
fn duplicate_cards_are_found_by_fingerprint() {
    let f = fixture();
    f.wallet
        .add_card(&new_card("4111 1111 1111 1111", "a"))
        .unwrap();
    let err = f
        .wallet
        .add_card(&new_card("4111-1111-1111-1111", "b"))
        .unwrap_err();
    assert!(matches!(err, Error::DuplicateCard));
    assert_eq!(f.wallet.list_cards().unwrap().len(), 1);
    // The fingerprint is keyed: a plain SHA-256 of the PAN is not what is stored.
    let fp: Vec<u8> = raw(&f)
        .query_row("SELECT fingerprint FROM cards", [], |r| r.get(0))
        .unwrap();
    let plain = ring::digest::digest(&ring::digest::SHA256, b"4111111111111111");
    assert_ne!(fp, plain.as_ref());
}

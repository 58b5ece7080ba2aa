//! Tap to pay through the `Wallet`: whole transactions for both profiles
//! (reader kernel ↔ `process_apdu` ↔ issuer), the declines and the reasons
//! the app gets, key bookkeeping and replenishment, the tap's records
//! (taps, outbox, pending ledger entry), and robustness.

mod tap_support;

use std::sync::Arc;

use emv::apdu::StatusWord;
use emv::crypto::{CryptogramKind, Iad};
use emv::issuer::{AtcRecord, IssuerError};
use emv::kernel::{KernelError, Step};
use tap_support::*;
use wallet_core::{
    DeactivationReason, EntryStatus, Error, HistoryQuery, TapDeclineReason, KEY_LOW_WATER,
};

#[test]
fn full_transaction_for_both_profiles() {
    for profile in [Profile::Tdes, Profile::Aes] {
        let f = tap_fixture(profile, 10);
        let recorder = Arc::new(Recorder::default());
        f.wallet.set_alert_listener(recorder.clone());

        let run = tap(&f.wallet, &params());
        let out = run.result.expect("the transaction completes");
        assert_eq!(
            run.transcript.len(),
            5,
            "PPSE, SELECT, GPO, READ RECORD, GENERATE AC"
        );
        assert!(run
            .transcript
            .iter()
            .all(|e| e.status() == Some(StatusWord::OK)));
        assert_eq!(out.kind(), CryptogramKind::Arqc);
        assert_eq!(out.pan, TOKEN_PAN, "the token is presented, never the card");
        assert_eq!(out.psn, Some(1));
        assert_eq!(out.cryptogram.atc, 1);
        let iad = Iad::parse(&out.cryptogram.iad).unwrap();
        assert_eq!((iad.profile, iad.dki), (profile, 1));

        // The issuer verifies with keys derived from its master key alone.
        let mut atcs = AtcRecord::new();
        let verified = f
            .service
            .issuer()
            .verify_arqc(&out.pan, 1, &out.cryptogram, &mut atcs)
            .unwrap();
        assert_eq!(verified.atc, 1);

        // Recorded before the answer left: the tap and its outbox operation.
        let taps = f.wallet.taps().unwrap();
        assert_eq!(taps.len(), 1);
        assert_eq!(taps[0].state, "answered");
        assert_eq!(taps[0].ac, hex::encode_upper(out.cryptogram.ac));
        let conn = rusqlite::Connection::open(f.wallet.db_path()).unwrap();
        let (key, kind, payload): (String, String, String) = conn
            .query_row(
                "SELECT idempotency_key, kind, payload FROM outbox",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(key, format!("tap:{}:1", f.token.token_id));
        assert_eq!(kind, "tap");
        let op: serde_json::Value = serde_json::from_str(&payload).unwrap();
        assert_eq!(op["type"], "tap");
        assert_eq!(op["token_id"], f.token.token_id.as_str());
        assert_eq!(op["cryptogram"]["kind"], "arqc");
        assert_eq!(op["cryptogram"]["atc"], 1);
        assert_eq!(op["cryptogram"]["ac"], hex::encode(out.cryptogram.ac));
        assert_eq!(
            op["cryptogram"]["cdol1_data"],
            hex::encode(&out.cryptogram.cdol1_data)
        );
        assert!(!payload.contains(TOKEN_PAN));

        // The field goes away: the app learns what happened, and the
        // pending entry is written (category from the MCC).
        let report = f
            .wallet
            .on_deactivated(DeactivationReason::LinkLoss)
            .expect("a report");
        assert!(report.sent_online);
        assert_eq!(report.decline, None);
        assert_eq!(report.amount.unwrap().to_string(), "42.50 EUR");
        assert_eq!(report.merchant.as_deref(), Some("CAFE DE FLORE PARIS"));
        assert_eq!((report.mcc, report.atc), (Some(5812), Some(1)));
        assert_eq!(report.card_id.as_deref(), Some(f.card_id.as_str()));

        let page = f.wallet.history(&HistoryQuery::default()).unwrap();
        assert_eq!(page.entries.len(), 1);
        let e = &page.entries[0];
        assert_eq!(e.status, EntryStatus::Pending);
        assert_eq!(e.amount.to_string(), "-42.50 EUR");
        assert_eq!(e.merchant.as_deref(), Some("CAFE DE FLORE PARIS"));
        assert_eq!(e.category, "food.restaurants");
        assert_eq!(e.account, wallet_core::ledger::MAIN_ACCOUNT);
        assert_eq!(e.idempotency_key.as_deref(), Some(key.as_str()));
        assert_eq!(recorder.entries.lock().unwrap().len(), 1, "listener told");
        assert_eq!(f.wallet.taps().unwrap()[0].state, "settled");
        let rec = f.wallet.tap(&f.token.token_id, 1).unwrap().unwrap();
        assert_eq!((rec.atc, rec.mcc), (1, Some(5812)));
        assert_eq!(rec.amount.unwrap().to_string(), "42.50 EUR");
        assert!(f.wallet.tap(&f.token.token_id, 2).unwrap().is_none());
        assert_eq!(f.remaining(), 9);

        // Settling again changes nothing.
        assert_eq!(f.wallet.settle_taps().unwrap(), 0);
        assert_eq!(f.wallet.entry_count().unwrap(), 1);
    }
}

#[test]
fn each_tap_uses_a_new_key_and_a_higher_atc_even_across_reopening() {
    let mut f = tap_fixture(Profile::Aes, 4);
    let issuer = f.service.issuer().clone();
    let mut atcs = AtcRecord::new();
    let mut seen = Vec::new();
    for i in 0..3 {
        if i == 2 {
            f.reopen();
        }
        let out = tap(&f.wallet, &params()).result.unwrap();
        f.wallet.on_deactivated(DeactivationReason::LinkLoss);
        issuer
            .verify_arqc(&out.pan, 1, &out.cryptogram, &mut atcs)
            .unwrap();
        seen.push((out.cryptogram.atc, out.cryptogram.ac));
    }
    assert_eq!(seen.iter().map(|s| s.0).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_ne!(seen[0].1, seen[1].1);
    assert_eq!(f.remaining(), 1);
    assert_eq!(f.wallet.entry_count().unwrap(), 3);
}

#[test]
fn replenishment_when_running_low() {
    let f = tap_fixture(Profile::Tdes, KEY_LOW_WATER as u16 + 1);
    assert!(!f.wallet.needs_replenishment().unwrap());
    tap(&f.wallet, &params()).result.unwrap();
    tap(&f.wallet, &params()).result.unwrap();
    let low = f.wallet.tokens_running_low().unwrap();
    assert_eq!(low.len(), 1);
    assert_eq!(low[0].token_id, f.token.token_id);
    assert_eq!(low[0].remaining, KEY_LOW_WATER - 1);
    assert_eq!((low[0].next_atc, low[0].provisioned_until), (3, 7));
    assert!(f.wallet.needs_replenishment().unwrap());

    let added = f.wallet.replenish_tokens(&f.service).unwrap();
    assert_eq!(added, KEY_LOW_WATER + 1);
    assert!(!f.wallet.needs_replenishment().unwrap());
    let status = &f.wallet.token_key_status().unwrap()[0];
    assert_eq!(status.provisioned_until, 13);

    // A batch sent again, or one for ATCs already passed, adds nothing.
    let again = f
        .service
        .issuer()
        .session_keys(Profile::Tdes, 1, TOKEN_PAN, 1, 1, 12)
        .unwrap();
    let batch = wallet_core::KeyBatch {
        token_id: f.token.token_id.clone(),
        first_atc: 1,
        keys: again.into_iter().map(|(_, k)| k).collect(),
    };
    assert_eq!(f.wallet.add_token_keys(&batch).unwrap(), 0);

    // Taps go on with the new keys, ATCs still climbing.
    let mut atcs = AtcRecord::new();
    for expected in 3..=12 {
        let out = tap(&f.wallet, &params()).result.unwrap();
        assert_eq!(out.cryptogram.atc, expected);
        f.service
            .issuer()
            .verify_arqc(TOKEN_PAN, 1, &out.cryptogram, &mut atcs)
            .unwrap();
    }
}

/// Runs one tap that must decline with `reason`, spending no key.
fn declines(f: &TapFixture, reason: TapDeclineReason) {
    let before = f.wallet.token_key_status().unwrap()[0].remaining;
    let taps_before = f.wallet.taps().unwrap().len();
    let out = tap(&f.wallet, &params()).result.expect("the card answers");
    assert_eq!(out.kind(), CryptogramKind::Aac);
    assert_eq!(out.cryptogram.ac, [0; 8]);
    let report = f
        .wallet
        .on_deactivated(DeactivationReason::LinkLoss)
        .expect("a report");
    assert!(!report.sent_online);
    assert_eq!(report.decline, Some(reason));
    assert!(!reason.message().is_empty());
    assert_eq!(f.wallet.last_tap(), Some(report));
    assert_eq!(f.wallet.token_key_status().unwrap()[0].remaining, before);
    assert_eq!(
        f.wallet.taps().unwrap().len(),
        taps_before,
        "nothing recorded"
    );
}

#[test]
fn a_frozen_card_declines() {
    let f = tap_fixture(Profile::Tdes, 3);
    f.wallet.freeze_card(&f.card_id).unwrap();
    declines(&f, TapDeclineReason::CardFrozen);
    f.wallet.unfreeze_card(&f.card_id).unwrap();
    assert_eq!(
        tap(&f.wallet, &params()).result.unwrap().kind(),
        CryptogramKind::Arqc
    );
}

#[test]
fn a_locked_wallet_declines() {
    let f = tap_fixture(Profile::Aes, 3);
    tap(&f.wallet, &params()).result.unwrap();
    f.wallet.on_deactivated(DeactivationReason::LinkLoss);
    f.wallet.lock();
    declines(&f, TapDeclineReason::Locked);
    assert_eq!(
        TapDeclineReason::Locked.message(),
        "Billfold is locked. Unlock it and tap again."
    );
    f.wallet.unlock().unwrap();
    assert_eq!(tap(&f.wallet, &params()).result.unwrap().cryptogram.atc, 2);
}

#[test]
fn a_wallet_locked_before_its_first_tap_says_so() {
    let f = tap_fixture(Profile::Aes, 3);
    f.wallet.lock();
    let run = tap(&f.wallet, &params());
    assert_eq!(
        run.result.unwrap_err(),
        KernelError::Status {
            step: Step::SelectPpse,
            sw: StatusWord::FILE_NOT_FOUND
        }
    );
    let report = f
        .wallet
        .on_deactivated(DeactivationReason::LinkLoss)
        .unwrap();
    assert_eq!(report.decline, Some(TapDeclineReason::Locked));
}

#[test]
fn exhausted_keys_decline_with_a_clear_reason() {
    let f = tap_fixture(Profile::Tdes, 1);
    tap(&f.wallet, &params()).result.unwrap();
    f.wallet.on_deactivated(DeactivationReason::LinkLoss);
    declines(&f, TapDeclineReason::KeysExhausted);
    assert_eq!(TapDeclineReason::KeysExhausted.code(), "keys_exhausted");
    assert!(TapDeclineReason::KeysExhausted
        .message()
        .contains("no payment keys left"));
    assert!(f.wallet.needs_replenishment().unwrap());
}

#[test]
fn a_wrong_aid_is_not_found_and_spends_nothing() {
    let f = tap_fixture(Profile::Tdes, 2);
    let mut p = params();
    p.preferred_aid = Some(hex::decode("A0000000041010").unwrap());
    let run = tap(&f.wallet, &p);
    assert_eq!(
        run.result.unwrap_err(),
        KernelError::Status {
            step: Step::SelectApplication,
            sw: StatusWord::FILE_NOT_FOUND
        }
    );
    assert_eq!(f.remaining(), 2);
    assert_eq!(
        f.wallet.on_deactivated(DeactivationReason::Deselected),
        None
    );
}

#[test]
fn the_terminal_asking_for_an_aac_spends_nothing() {
    let f = tap_fixture(Profile::Tdes, 2);
    // A terminal that declines offline: GENERATE AC with P1 00 (AAC).
    let run = emv::kernel::run(&params(), |cmd: &[u8]| {
        let mut cmd = cmd.to_vec();
        if cmd[..2] == [0x80, 0xAE] {
            cmd[2] = 0x00;
        }
        Ok::<_, std::convert::Infallible>(f.wallet.process_apdu(&cmd))
    });
    assert_eq!(run.result.unwrap().kind(), CryptogramKind::Aac);
    let report = f
        .wallet
        .on_deactivated(DeactivationReason::LinkLoss)
        .unwrap();
    assert_eq!(report.decline, Some(TapDeclineReason::TerminalDeclined));
    assert_eq!(f.remaining(), 2);
    assert!(f.wallet.taps().unwrap().is_empty());
}

#[test]
fn the_issuer_refuses_a_replayed_atc() {
    let f = tap_fixture(Profile::Aes, 2);
    let out = tap(&f.wallet, &params()).result.unwrap();
    let mut atcs = AtcRecord::new();
    f.service
        .issuer()
        .verify_arqc(&out.pan, 1, &out.cryptogram, &mut atcs)
        .unwrap();
    let mut atcs = AtcRecord::from_bytes(&atcs.to_bytes()).unwrap();
    assert_eq!(
        f.service
            .issuer()
            .verify_arqc(&out.pan, 1, &out.cryptogram, &mut atcs)
            .unwrap_err(),
        IssuerError::ReplayedAtc(1)
    );
}

#[test]
fn a_card_without_a_token_presents_nothing() {
    let f = tap_fixture(Profile::Tdes, 1);
    let other = f
        .wallet
        .add_card(&wallet_core::NewCard {
            pan: "5555555555554444".into(),
            expiry: "08/29".into(),
            cardholder_name: "Ada Lovelace".into(),
            nickname: None,
        })
        .unwrap();
    f.wallet.set_default_card(&other.id).unwrap();
    let run = tap(&f.wallet, &params());
    assert!(matches!(
        run.result,
        Err(KernelError::Status {
            step: Step::SelectPpse,
            ..
        })
    ));
    let report = f
        .wallet
        .on_deactivated(DeactivationReason::LinkLoss)
        .unwrap();
    assert_eq!(report.decline, Some(TapDeclineReason::NoCard));

    // Back to the tokenised card: taps work again.
    f.wallet.set_default_card(&f.card_id).unwrap();
    assert_eq!(
        tap(&f.wallet, &params()).result.unwrap().kind(),
        CryptogramKind::Arqc
    );
}

#[test]
fn unsettled_taps_are_settled_after_a_restart() {
    let mut f = tap_fixture(Profile::Tdes, 3);
    tap(&f.wallet, &params()).result.unwrap();
    // No deactivation: the process dies here.
    f.reopen();
    assert_eq!(f.wallet.taps().unwrap()[0].state, "answered");
    assert_eq!(f.wallet.entry_count().unwrap(), 0);
    assert_eq!(f.wallet.settle_taps().unwrap(), 1);
    assert_eq!(f.wallet.entry_count().unwrap(), 1);
    assert_eq!(f.wallet.taps().unwrap()[0].state, "settled");

    // A locked wallet settles later.
    tap(&f.wallet, &params()).result.unwrap();
    f.wallet.lock();
    f.wallet.on_deactivated(DeactivationReason::LinkLoss);
    assert!(matches!(f.wallet.settle_taps(), Err(Error::Locked)));
    f.wallet.unlock().unwrap();
    assert_eq!(f.wallet.settle_taps().unwrap(), 1);
    assert_eq!(f.wallet.entry_count().unwrap(), 2);
}

#[test]
fn tokens_are_listed_masked_and_go_with_their_card() {
    let f = tap_fixture(Profile::Aes, 3);
    let tokens = f.wallet.tokens().unwrap();
    assert_eq!(tokens.len(), 1);
    let t = &tokens[0];
    assert_eq!(t.masked_pan, "476173******0010");
    assert_eq!((t.last4.as_str(), t.psn, t.dki), ("0010", 1, 1));
    assert_eq!(t.profile, Profile::Aes);
    assert_eq!(t.aid, "A0000000031010");
    assert_eq!((t.keys.remaining, t.keys.low), (3, true));
    assert!(t.is_default_card);
    let shown = format!("{tokens:?} {}", serde_json::to_string(&tokens).unwrap());
    assert!(!shown.contains(TOKEN_PAN), "{shown}");
    assert!(shown.contains("\"profile\":\"aes\""));

    f.wallet.remove_card(&f.card_id).unwrap();
    assert!(f.wallet.tokens().unwrap().is_empty());
    let conn = rusqlite::Connection::open(f.wallet.db_path()).unwrap();
    let keys: i64 = conn
        .query_row("SELECT COUNT(*) FROM token_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(keys, 0, "the keys went with the token");
}

#[test]
fn a_replacement_token_never_goes_back_in_atc() {
    let f = tap_fixture(Profile::Tdes, 5);
    for _ in 0..3 {
        tap(&f.wallet, &params()).result.unwrap();
    }
    let t = f.wallet.provision_token(&f.card_id, &f.service).unwrap();
    assert_ne!(t.token_id, f.token.token_id);
    assert_eq!(t.keys.next_atc, 4);
    assert_eq!(f.wallet.tokens().unwrap().len(), 1);
    let out = tap(&f.wallet, &params()).result.unwrap();
    assert_eq!(out.cryptogram.atc, 4);
}

#[test]
fn bad_tokens_are_refused_whole() {
    let f = tap_fixture(Profile::Tdes, 2);
    let svc = wallet_core::TestTokenService::new(IMK, config(Profile::Aes, 2));
    let req = wallet_core::ProvisionRequest {
        card_id: f.card_id.clone(),
        funding_pan: FUNDING_PAN.to_string().into(),
        funding_expiry: "12/29".into(),
        min_first_atc: 1,
    };
    let good = wallet_core::TokenService::provision(&svc, &req).unwrap();

    let mut bad = good.clone();
    bad.token_id = "has space".into();
    assert!(matches!(
        f.wallet.install_token(&f.card_id, &bad),
        Err(Error::InvalidToken(_))
    ));
    let mut bad = good.clone();
    bad.pan = "12ab".to_string().into();
    assert!(matches!(
        f.wallet.install_token(&f.card_id, &bad),
        Err(Error::InvalidToken(_))
    ));
    let mut bad = good.clone();
    bad.expiry = "291331".into();
    assert!(matches!(
        f.wallet.install_token(&f.card_id, &bad),
        Err(Error::InvalidToken(_))
    ));
    let mut bad = good.clone();
    bad.profile = Profile::Tdes; // its keys are AES
    assert!(matches!(
        f.wallet.install_token(&f.card_id, &bad),
        Err(Error::InvalidToken(_))
    ));
    let mut bad = good.clone();
    bad.keys.first_atc = 0xFFFF;
    assert!(matches!(
        f.wallet.install_token(&f.card_id, &bad),
        Err(Error::InvalidToken(_))
    ));
    assert!(matches!(
        f.wallet.install_token("nope", &good),
        Err(Error::CardNotFound)
    ));
    // Nothing changed: the old token still taps.
    assert_eq!(f.wallet.tokens().unwrap()[0].token_id, f.token.token_id);
    assert_eq!(tap(&f.wallet, &params()).result.unwrap().cryptogram.atc, 1);
    // The messages carry no number.
    let e = f.wallet.install_token(&f.card_id, &{
        let mut b = good.clone();
        b.pan = "1".repeat(25).into();
        b
    });
    assert!(!e.unwrap_err().to_string().contains("1111111111"));
}

#[test]
fn a_tampered_key_declines_without_spending_it() {
    let f = tap_fixture(Profile::Tdes, 2);
    let conn = rusqlite::Connection::open(f.wallet.db_path()).unwrap();
    conn.execute(
        "UPDATE token_keys SET key_ct = (SELECT key_ct FROM token_keys WHERE atc = 2) WHERE atc = 1",
        [],
    )
    .unwrap();
    declines(&f, TapDeclineReason::Unavailable);
}

#[test]
fn garbage_never_panics_and_always_gets_a_status_word() {
    let f = tap_fixture(Profile::Aes, 2);
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let heads: [&[u8]; 5] = [
        &[0x00, 0xA4, 0x04, 0x00],
        &[0x80, 0xA8, 0x00, 0x00],
        &[0x00, 0xB2, 0x01, 0x0C],
        &[0x80, 0xAE, 0x80, 0x00],
        &[],
    ];
    for i in 0..3000 {
        let mut apdu = heads[i % heads.len()].to_vec();
        let len = (next() % 300) as usize;
        apdu.extend((0..len).map(|_| next() as u8));
        let r = f.wallet.process_apdu(&apdu);
        assert!(r.len() >= 2);
        if i % 97 == 0 {
            f.wallet.on_deactivated(DeactivationReason::LinkLoss);
        }
    }
    // Still a working card afterwards.
    f.wallet.on_deactivated(DeactivationReason::LinkLoss);
    assert_eq!(
        tap(&f.wallet, &params()).result.unwrap().kind(),
        CryptogramKind::Arqc
    );
}

#[test]
fn a_wallet_from_before_tokens_migrates_and_taps() {
    let before = wallet_core::testing::MIGRATIONS
        .iter()
        .position(|m| m.contains("CREATE TABLE token_keys"))
        .expect("the tokens migration") as u32;
    let dir = tempfile::tempdir().unwrap();
    let keystore = Arc::new(wallet_core::SoftwareKeyStore::generate().unwrap());
    let clock = Arc::new(wallet_core::ManualClock::new(NOW_MS));
    let old =
        wallet_core::Wallet::create_at_schema(dir.path(), keystore.clone(), clock.clone(), before)
            .unwrap();
    let card = old
        .add_card(&wallet_core::NewCard {
            pan: FUNDING_PAN.into(),
            expiry: "12/29".into(),
            cardholder_name: "Ada Lovelace".into(),
            nickname: None,
        })
        .unwrap();
    old.close().unwrap();
    let w = wallet_core::Wallet::open(dir.path(), keystore, clock).unwrap();
    let service = wallet_core::TestTokenService::new(IMK, config(Profile::Aes, 2));
    w.provision_token(&card.id, &service).unwrap();
    assert_eq!(
        tap(&w, &params()).result.unwrap().kind(),
        CryptogramKind::Arqc
    );
    assert_eq!(w.integrity_check().unwrap(), "ok");
}

#[test]
fn the_wal_stays_bounded_when_taps_come_without_settlements() {
    // Each tap's commit holds SQLite's automatic checkpoint off once, for
    // the settlement to run; taps in a row must not grow the WAL forever.
    let f = tap_fixture(Profile::Aes, 260);
    for _ in 0..250 {
        tap(&f.wallet, &params()).result.unwrap();
    }
    let wal = std::fs::metadata(f.dir.path().join("wallet.db-wal"))
        .unwrap()
        .len();
    assert!(wal < 6 << 20, "WAL is {wal} bytes");
    assert_eq!(f.wallet.settle_taps().unwrap(), 250);
}

#[test]
fn a_token_pan_that_used_every_atc_is_not_reissued() {
    let f = tap_fixture(Profile::Tdes, 1);
    let keys = f
        .service
        .issuer()
        .session_keys(Profile::Tdes, 1, TOKEN_PAN, 1, 0xFFFF, 1)
        .unwrap();
    let last = wallet_core::ProvisionedToken {
        token_id: "last-atc".into(),
        pan: TOKEN_PAN.to_string().into(),
        psn: 1,
        expiry: "291231".into(),
        profile: Profile::Tdes,
        dki: 1,
        aid: hex::decode("A0000000031010").unwrap(),
        label: "BILLFOLD".into(),
        keys: wallet_core::KeyBatch {
            token_id: "last-atc".into(),
            first_atc: 0xFFFF,
            keys: keys.into_iter().map(|(_, k)| k).collect(),
        },
    };
    f.wallet.install_token(&f.card_id, &last).unwrap();
    let out = tap(&f.wallet, &params()).result.unwrap();
    assert_eq!(out.cryptogram.atc, 0xFFFF);
    let status = &f.wallet.token_key_status().unwrap()[0];
    assert_eq!((status.next_atc, status.remaining), (0x1_0000, 0));
    assert!(
        f.wallet.tokens_running_low().unwrap().is_empty(),
        "no more keys can come for it"
    );
    // The same PAN cannot start again below 65536.
    assert!(matches!(
        f.wallet.provision_token(&f.card_id, &f.service),
        Err(Error::TokenService(_))
    ));
    f.wallet.on_deactivated(DeactivationReason::LinkLoss);
    declines(&f, TapDeclineReason::KeysExhausted);
}

//! Whole transactions in-process: reader kernel ↔ card application ↔
//! issuer, for both cryptographic profiles, and the ways they decline.

mod tap_support;

use emv::apdu::StatusWord;
use emv::card::{CardApp, Decline, TapOutcome};
use emv::crypto::{CryptogramKind, Iad, Profile};
use emv::issuer::{AtcRecord, IssuerError};
use emv::kernel::{KernelError, Step};
use tap_support::*;

#[test]
fn approved_online_for_both_profiles() {
    let issuer = issuer();
    let tokens = vec![tdes_token(), aes_token()];
    let mut wallet = TestWallet::provisioned(&issuer, &tokens, 1, 5);
    let mut card = CardApp::new(tokens.clone());

    for token in &tokens {
        let mut p = params();
        p.preferred_aid = Some(token.aid.clone());
        let run = tap(&mut card, &mut wallet, &p);
        let out = run.result.expect("transaction completes");
        assert_eq!(
            run.transcript.len(),
            5,
            "PPSE, SELECT, GPO, one record, GENERATE AC"
        );
        assert!(run
            .transcript
            .iter()
            .all(|e| e.status() == Some(StatusWord::OK)));

        assert_eq!(out.kind(), CryptogramKind::Arqc);
        assert_eq!(out.pan, token.pan());
        assert_eq!(out.psn, Some(token.psn));
        assert_eq!(out.label.as_deref(), Some(token.label.as_str()));
        assert_eq!(out.cryptogram.atc, 1);
        let iad = Iad::parse(&out.cryptogram.iad).unwrap();
        assert_eq!((iad.profile, iad.dki), (token.profile, DKI));

        // The issuer recomputes the ARQC from the data and answers.
        let mut atcs = AtcRecord::new();
        let verified = issuer
            .verify_arqc(&out.pan, token.psn, &out.cryptogram, &mut atcs)
            .unwrap();
        assert_eq!(verified.atc, 1);
        assert_ne!(verified.arpc(*b"00"), verified.arpc(*b"51"));

        // The wallet learns what was bought, and where.
        let done = card.take_completed().expect("completed tap");
        assert_eq!(done.token_id, token.id);
        let t = &done.transaction;
        assert_eq!((t.amount_minor, t.currency, t.country), (4_250, 978, 250));
        assert_eq!(t.mcc, Some(5812));
        assert_eq!(t.merchant_name.as_deref(), Some("CAFE DE FLORE PARIS"));
        assert_eq!(t.unpredictable_number, [0x12, 0x34, 0x56, 0x78]);
        assert_eq!(done.outcome, TapOutcome::Online(out.cryptogram.clone()));
    }
    assert_eq!(wallet.remaining("card-1"), 4);
    assert_eq!(wallet.remaining("card-2"), 4);
}

#[test]
fn default_card_is_the_first_token() {
    let issuer = issuer();
    let tokens = vec![aes_token(), tdes_token()];
    let mut wallet = TestWallet::provisioned(&issuer, &tokens, 10, 2);
    let mut card = CardApp::new(tokens);
    let out = tap(&mut card, &mut wallet, &params()).result.unwrap();
    assert_eq!(out.aid, aes_token().aid);
    assert_eq!(
        Iad::parse(&out.cryptogram.iad).unwrap().profile,
        Profile::Aes
    );
    assert_eq!(out.cryptogram.atc, 10);
}

#[test]
fn consecutive_taps_use_new_keys_and_atcs() {
    let issuer = issuer();
    let tokens = vec![tdes_token()];
    let mut wallet = TestWallet::provisioned(&issuer, &tokens, 1, 3);
    let mut card = CardApp::new(tokens);
    let mut atcs = AtcRecord::new();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let out = tap(&mut card, &mut wallet, &params()).result.unwrap();
        issuer
            .verify_arqc(&out.pan, 1, &out.cryptogram, &mut atcs)
            .unwrap();
        seen.push((out.cryptogram.atc, out.cryptogram.ac));
    }
    assert_eq!(seen.iter().map(|s| s.0).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_ne!(seen[0].1, seen[1].1);
    // The fourth tap finds no key: declined, and the wallet is told why.
    let out = tap(&mut card, &mut wallet, &params()).result.unwrap();
    assert_eq!(out.kind(), CryptogramKind::Aac);
    assert_eq!(
        card.take_completed().unwrap().outcome,
        TapOutcome::Declined(Decline::KeysExhausted)
    );
}

#[test]
fn replayed_atc_is_rejected() {
    let issuer = issuer();
    let tokens = vec![aes_token()];
    let mut wallet = TestWallet::provisioned(&issuer, &tokens, 7, 1);
    let mut card = CardApp::new(tokens);
    let out = tap(&mut card, &mut wallet, &params()).result.unwrap();
    let mut atcs = AtcRecord::new();
    issuer
        .verify_arqc(&out.pan, 3, &out.cryptogram, &mut atcs)
        .unwrap();
    // The record survives a round trip through storage.
    let mut atcs = AtcRecord::from_bytes(&atcs.to_bytes()).unwrap();
    assert_eq!(
        issuer
            .verify_arqc(&out.pan, 3, &out.cryptogram, &mut atcs)
            .unwrap_err(),
        IssuerError::ReplayedAtc(7)
    );
}

#[test]
fn tampered_data_fails_and_does_not_burn_the_atc() {
    let issuer = issuer();
    let tokens = vec![tdes_token()];
    let mut wallet = TestWallet::provisioned(&issuer, &tokens, 1, 1);
    let mut card = CardApp::new(tokens);
    let out = tap(&mut card, &mut wallet, &params()).result.unwrap();
    let mut atcs = AtcRecord::new();

    let mut forged = out.cryptogram.clone();
    forged.cdol1_data[5] ^= 0x01; // the amount's last byte
    assert_eq!(
        issuer
            .verify_arqc(&out.pan, 1, &forged, &mut atcs)
            .unwrap_err(),
        IssuerError::CryptogramMismatch
    );
    assert_eq!(
        issuer
            .verify_arqc("4761739001010011", 1, &out.cryptogram, &mut atcs)
            .unwrap_err(),
        IssuerError::CryptogramMismatch
    );
    assert_eq!(
        issuer
            .verify_arqc(&out.pan, 2, &out.cryptogram, &mut atcs)
            .unwrap_err(),
        IssuerError::CryptogramMismatch
    );
    assert!(atcs.is_fresh(1));
    issuer
        .verify_arqc(&out.pan, 1, &out.cryptogram, &mut atcs)
        .unwrap();
}

fn declined_with(setup: impl FnOnce(&mut TestWallet), reason: Decline) {
    let issuer = issuer();
    let tokens = vec![tdes_token()];
    let mut wallet = TestWallet::provisioned(&issuer, &tokens, 1, 2);
    setup(&mut wallet);
    let before = wallet.taken;
    let mut card = CardApp::new(tokens);
    let out = tap(&mut card, &mut wallet, &params()).result.unwrap();
    assert_eq!(out.kind(), CryptogramKind::Aac);
    assert_eq!(out.cryptogram.ac, [0; 8]);
    assert_eq!(
        Iad::parse(&out.cryptogram.iad).unwrap().decline_code,
        reason.code()
    );
    assert_eq!(Decline::from_code(reason.code()), Some(reason));
    let done = card.take_completed().unwrap();
    assert_eq!(done.outcome, TapOutcome::Declined(reason));
    assert_eq!(
        done.transaction.amount_minor, 4_250,
        "the attempt is still described"
    );
    // The issuer will not take an AAC as an authorisation request.
    assert!(matches!(
        issuer.verify_arqc(&out.pan, 1, &out.cryptogram, &mut AtcRecord::new()),
        Err(IssuerError::NotAnArqc(CryptogramKind::Aac))
    ));
    if reason != Decline::KeysExhausted {
        assert_eq!(wallet.taken, before, "no key spent on a decline");
    }
}

#[test]
fn frozen_card_declines() {
    declined_with(|w| w.frozen.push("card-1".into()), Decline::Frozen);
}

#[test]
fn locked_wallet_declines() {
    declined_with(|w| w.locked = true, Decline::Locked);
}

#[test]
fn exhausted_keys_decline() {
    declined_with(|w| w.keys.clear(), Decline::KeysExhausted);
}

#[test]
fn key_for_the_wrong_profile_declines() {
    let issuer = issuer();
    let mut wallet = TestWallet::provisioned(&issuer, &[aes_token()], 1, 1);
    // Hand the 3DES token the AES token's keys.
    let keys = wallet.keys.remove("card-2").unwrap();
    wallet.keys.insert("card-1".into(), keys);
    let mut card = CardApp::new(vec![tdes_token()]);
    let out = tap(&mut card, &mut wallet, &params()).result.unwrap();
    assert_eq!(out.kind(), CryptogramKind::Aac);
    assert_eq!(
        card.take_completed().unwrap().outcome,
        TapOutcome::Declined(Decline::KeyMismatch)
    );
}

#[test]
fn wrong_aid_is_not_found() {
    let issuer = issuer();
    let tokens = vec![tdes_token()];
    let mut wallet = TestWallet::provisioned(&issuer, &tokens, 1, 1);
    let mut card = CardApp::new(tokens);
    let mut p = params();
    p.preferred_aid = Some(hex::decode("A0000000651010").unwrap());
    let run = tap(&mut card, &mut wallet, &p);
    assert_eq!(
        run.result.unwrap_err(),
        KernelError::Status {
            step: Step::SelectApplication,
            sw: StatusWord::FILE_NOT_FOUND
        }
    );
    assert_eq!(run.transcript.len(), 2);
    assert_eq!(wallet.taken, 0);
    assert!(card.completed().is_none());
}

#[test]
fn no_tokens_means_no_directory() {
    let mut card = CardApp::new(vec![]);
    let run = tap(&mut card, &mut TestWallet::default(), &params());
    assert_eq!(
        run.result.unwrap_err(),
        KernelError::Status {
            step: Step::SelectPpse,
            sw: StatusWord::FILE_NOT_FOUND
        }
    );
}

#[test]
fn transcript_and_debug_hide_the_pan() {
    let issuer = issuer();
    let tokens = vec![tdes_token()];
    let mut wallet = TestWallet::provisioned(&issuer, &tokens, 1, 1);
    let mut card = CardApp::new(tokens.clone());
    let run = tap(&mut card, &mut wallet, &params());
    let shown = format!(
        "{:?}\n{}\n{:?}\n{:?}\n{:?}",
        run,
        run.transcript
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
        tokens,
        card,
        wallet.keys
    );
    assert!(!shown.contains("4761739001010010"), "{shown}");
    assert!(!shown.contains("476173900101"), "{shown}");
    assert!(shown.contains("0010"));
    // The hex dump is the explicit way to see card data.
    assert!(run.transcript[3].hex().1.contains("4761739001010010"));
}

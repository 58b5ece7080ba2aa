//! The later features' exported API driven from Rust, for what the Kotlin
//! suite cannot reach or should not be the only check of: a whole tap run
//! by the core's own reader kernel through the exported `process_apdu`
//! (an independent terminal, unlike the Kotlin test's fixed byte strings),
//! and what a closed wallet answers to the NFC stack and the camera.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use billfold_ffi::{
    Alert, AlertListener, Bytes, CallbackError, Clock, DeactivationReason, KeyStore, KeyStoreError,
    LedgerEntry, Money, NewBudget, Period, Wallet,
};
use emv::card::TxnDate;
use emv::crypto::CryptogramKind;
use emv::kernel::{self, TerminalParams};

/// 2026-11-23T12:00:00Z.
const NOW_MS: i64 = 1_795_435_200_000;
const IMK: [u8; 16] = [
    0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10,
];

struct XorKeyStore;

impl KeyStore for XorKeyStore {
    fn wrap_key(&self, data_key: Vec<u8>) -> Result<Vec<u8>, KeyStoreError> {
        Ok(data_key.iter().map(|b| b ^ 0x5A).collect())
    }

    fn unwrap_key(&self, wrapped: Vec<u8>) -> Result<Vec<u8>, KeyStoreError> {
        Ok(wrapped.iter().map(|b| b ^ 0x5A).collect())
    }
}

struct FixedClock(AtomicI64);

impl Clock for FixedClock {
    fn now_millis(&self) -> Result<i64, CallbackError> {
        Ok(self.0.load(Ordering::SeqCst))
    }
}

#[derive(Default)]
struct Heard {
    alerts: Mutex<Vec<Alert>>,
    entries: Mutex<Vec<LedgerEntry>>,
}

impl AlertListener for Heard {
    fn on_alert(&self, alert: Alert) -> Result<(), CallbackError> {
        self.alerts.lock().unwrap().push(alert);
        Ok(())
    }

    fn on_transaction(&self, entry: LedgerEntry) -> Result<(), CallbackError> {
        self.entries.lock().unwrap().push(entry);
        Ok(())
    }
}

fn wallet_with_token(tmp: &tempfile::TempDir) -> Arc<Wallet> {
    let clock = Arc::new(FixedClock(AtomicI64::new(NOW_MS)));
    let w = Wallet::create(
        tmp.path().join("w").to_string_lossy().into_owned(),
        Arc::new(XorKeyStore),
        Some(clock),
    )
    .unwrap();
    let card = w
        .add_card(
            "4111111111111111".into(),
            "12/29".into(),
            "Ada Lovelace".into(),
            None,
        )
        .unwrap();
    w.provision_test_token(card.id, IMK.to_vec(), 3, None, None)
        .unwrap();
    w
}

/// A €42.50 purchase at a Paris cafe (MCC 5812) on the clock's date.
fn purchase() -> TerminalParams {
    TerminalParams::purchase(
        4_250,
        978,
        250,
        TxnDate {
            year: 2026,
            month: 11,
            day: 23,
        },
        [0x12, 0x34, 0x56, 0x78],
        5812,
        "CAFE DE FLORE PARIS",
    )
}

#[test]
fn the_reader_kernel_pays_through_the_exported_apdu_call() {
    let tmp = tempfile::tempdir().unwrap();
    let w = wallet_with_token(&tmp);
    let heard = Arc::new(Heard::default());
    w.set_alert_listener(heard.clone()).unwrap();
    w.create_budget(NewBudget {
        name: "Cafés".into(),
        limit: Money {
            amount: "40.00".into(),
            currency: "EUR".into(),
        },
        period: Period::Monthly { start_day: 1 },
        time_zone: "Europe/Paris".into(),
        category: None,
        rollover: None,
        thresholds: None,
        starts_on: None,
    })
    .unwrap();

    let run = kernel::run(&purchase(), |cmd: &[u8]| {
        Ok::<_, std::convert::Infallible>(w.process_apdu(Bytes(cmd.to_vec())).0)
    });
    let outcome = run.result.expect("the terminal completes the transaction");
    assert_eq!(outcome.kind(), CryptogramKind::Arqc);
    assert_eq!(outcome.cryptogram.atc, 1);

    let report = w.on_deactivated(DeactivationReason::LinkLoss).unwrap();
    assert!(report.sent_online);
    assert_eq!(report.atc, Some(1));
    assert_eq!(w.tokens().unwrap()[0].keys.remaining, 2);
    let entries = heard.entries.lock().unwrap().clone();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].amount.amount, "-42.50");
    // Over the limit at once: one "exceeded" alert.
    let alerts = heard.alerts.lock().unwrap().clone();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].threshold_percent, Some(100));
}

#[test]
fn a_closed_wallet_answers_the_nfc_stack_and_the_camera_without_panicking() {
    let tmp = tempfile::tempdir().unwrap();
    let w = wallet_with_token(&tmp);
    w.close().unwrap();

    let select_ppse = b"\x00\xA4\x04\x00\x0E2PAY.SYS.DDF01\x00".to_vec();
    assert_eq!(w.process_apdu(Bytes(select_ppse)).0, vec![0x69, 0x85]);
    assert_eq!(w.on_deactivated(DeactivationReason::LinkLoss), None);
    assert_eq!(w.last_tap(), None);
    assert_eq!(
        w.scan_frame(Bytes(vec![0; 64]), 8, 8, 8, 0)
            .unwrap_err()
            .code(),
        "closed"
    );
    assert_eq!(w.balances().unwrap_err().code(), "closed");
    assert_eq!(w.budgets().unwrap_err().code(), "closed");
    assert_eq!(
        w.set_alert_listener(Arc::new(Heard::default()))
            .unwrap_err()
            .code(),
        "closed"
    );
}

#[test]
fn test_token_provisioning_refuses_bad_parameters() {
    let tmp = tempfile::tempdir().unwrap();
    let w = wallet_with_token(&tmp);
    let card = w.list_cards().unwrap().remove(0);
    for (imk, keys, expiry, code) in [
        (vec![0u8; 15], 3, None, "invalid_input"),
        (IMK.to_vec(), 0, None, "invalid_input"),
        (IMK.to_vec(), 3, Some("2912".to_string()), "invalid_input"),
        (IMK.to_vec(), 3, Some("29AB31".to_string()), "invalid_token"),
    ] {
        let e = w
            .provision_test_token(card.id.clone(), imk, keys, None, expiry)
            .unwrap_err();
        assert_eq!(e.code(), code, "{e:?}");
    }
    // The token it had is untouched.
    assert_eq!(w.tokens().unwrap()[0].keys.remaining, 3);
}

//! The exported API driven from Rust, for what Kotlin cannot reach: the
//! exported `close()` (Kotlin uses AutoCloseable instead), and the
//! key-store error mapping without a JVM in the loop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use billfold_ffi::{KeyStore, KeyStoreError, Wallet, WalletError};

/// XOR with a device byte: not crypto, just a store that only opens its own blobs.
struct TestKeyStore {
    device: u8,
    fail_unwrap: AtomicBool,
}

impl TestKeyStore {
    fn new(device: u8) -> Arc<Self> {
        Arc::new(TestKeyStore {
            device,
            fail_unwrap: AtomicBool::new(false),
        })
    }
}

impl KeyStore for TestKeyStore {
    fn wrap_key(&self, data_key: Vec<u8>) -> Result<Vec<u8>, KeyStoreError> {
        let mut out = vec![self.device];
        out.extend(data_key.iter().map(|b| b ^ self.device));
        Ok(out)
    }

    fn unwrap_key(&self, wrapped: Vec<u8>) -> Result<Vec<u8>, KeyStoreError> {
        if self.fail_unwrap.load(Ordering::SeqCst) {
            return Err(KeyStoreError::Unavailable {
                reason: "authenticate first".into(),
            });
        }
        match wrapped.split_first() {
            Some((&d, rest)) if d == self.device => Ok(rest.iter().map(|b| b ^ d).collect()),
            _ => Err(KeyStoreError::ForeignKey),
        }
    }
}

const VISA: &str = "4000056655665556";

fn dir(tmp: &tempfile::TempDir) -> String {
    tmp.path().join("w").to_string_lossy().into_owned()
}

#[test]
fn close_reports_then_every_call_answers_closed() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = TestKeyStore::new(7);
    let w = Wallet::create(dir(&tmp), keys.clone(), None).unwrap();
    let card = w
        .add_card(VISA.into(), "12/30".into(), "Ada Lovelace".into(), None)
        .unwrap();
    w.close().unwrap();
    w.close().unwrap();
    assert!(w.is_locked());
    w.lock();
    let e = w.list_cards().unwrap_err();
    assert_eq!(e.code(), "closed");
    assert!(matches!(e, WalletError::Closed { .. }));
    assert_eq!(w.unlock().unwrap_err().code(), "closed");

    let again = Wallet::open(dir(&tmp), keys, None).unwrap();
    assert_eq!(again.list_cards().unwrap(), vec![card]);
}

#[test]
fn key_store_failures_map_to_public_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = TestKeyStore::new(7);
    Wallet::create(dir(&tmp), keys.clone(), None)
        .unwrap()
        .close()
        .unwrap();

    let foreign = Wallet::open(dir(&tmp), TestKeyStore::new(9), None)
        .err()
        .unwrap();
    assert_eq!(foreign.code(), "wrong_key_store");

    keys.fail_unwrap.store(true, Ordering::SeqCst);
    let e = Wallet::open(dir(&tmp), keys.clone(), None).err().unwrap();
    assert!(matches!(e, WalletError::KeyStore { .. }));
    assert!(e.to_string().contains("authenticate first"), "{e}");

    keys.fail_unwrap.store(false, Ordering::SeqCst);
    let w = Wallet::open(dir(&tmp), keys.clone(), None).unwrap();
    w.lock();
    keys.fail_unwrap.store(true, Ordering::SeqCst);
    assert_eq!(w.unlock().unwrap_err().code(), "key_store");
    assert!(w.is_locked());
}

#[test]
fn inputs_are_validated_at_the_boundary() {
    let tmp = tempfile::tempdir().unwrap();
    let w = Wallet::create(dir(&tmp), TestKeyStore::new(7), None).unwrap();
    for (r, code) in [
        (w.card("../../etc".into()).map(|_| ()), "invalid_input"),
        (w.card(String::new()).map(|_| ()), "invalid_input"),
        (w.card("ab".repeat(40)).map(|_| ()), "invalid_input"),
        (w.remove_card("0".repeat(32)), "card_not_found"),
        (w.set_auto_lock(Some(0)), "invalid_input"),
        (w.set_auto_lock(Some(u64::MAX)), "invalid_input"),
        (
            w.add_card("4".repeat(100), "12/30".into(), "Ada".into(), None)
                .map(|_| ()),
            "invalid_input",
        ),
        (
            w.add_card(
                VISA.into(),
                "12/30".into(),
                "Ada".into(),
                Some("n".repeat(300)),
            )
            .map(|_| ()),
            "invalid_input",
        ),
    ] {
        let e = r.unwrap_err();
        assert_eq!(e.code(), code, "{e:?}");
        assert!(!format!("{e:?}").contains("4444"), "{e:?}");
    }
    assert_eq!(
        Wallet::create("a\0b".into(), TestKeyStore::new(1), None)
            .err()
            .unwrap()
            .code(),
        "invalid_input"
    );
    assert!(w.list_cards().unwrap().is_empty());
}

//! Cards through their life, locking, and schema migrations.

mod common;

use std::sync::Arc;

use common::*;
use wallet_core::testing::SCHEMA_VERSION;
use wallet_core::{Error, Network, Wallet};

#[test]
fn add_list_freeze_default_remove() {
    let mut f = fixture();
    let visa = f.wallet.add_card(&new_card(PANS[0], "visa")).unwrap();
    let mc = f.wallet.add_card(&new_card(PANS[1], "mc")).unwrap();
    assert_eq!(visa.network, Network::Visa);
    assert_eq!(visa.masked_pan, "411111******1111");
    assert!(visa.is_default, "the first card becomes the default");
    assert!(!mc.is_default);

    let listed = f.wallet.list_cards().unwrap();
    assert_eq!(listed, vec![visa.clone(), mc.clone()]);

    assert!(f.wallet.freeze_card(&mc.id).unwrap().frozen);
    f.reopen();
    assert!(f.wallet.card(&mc.id).unwrap().frozen, "freezing is durable");
    assert!(!f.wallet.unfreeze_card(&mc.id).unwrap().frozen);

    f.wallet.set_default_card(&mc.id).unwrap();
    assert_eq!(f.wallet.default_card().unwrap().unwrap().id, mc.id);
    assert!(!f.wallet.card(&visa.id).unwrap().is_default);

    f.wallet.remove_card(&mc.id).unwrap();
    assert!(matches!(f.wallet.card(&mc.id), Err(Error::CardNotFound)));
    assert_eq!(
        f.wallet.default_card().unwrap().unwrap().id,
        visa.id,
        "removing the default promotes the oldest remaining card"
    );
    assert!(matches!(
        f.wallet.remove_card(&mc.id),
        Err(Error::CardNotFound)
    ));
    assert!(matches!(
        f.wallet.freeze_card("nope"),
        Err(Error::CardNotFound)
    ));
    assert!(matches!(
        f.wallet.set_default_card("nope"),
        Err(Error::CardNotFound)
    ));
}

#[test]
fn lock_unlock_and_auto_lock() {
    let f = fixture();
    f.wallet.add_card(&new_card(PANS[0], "main")).unwrap();
    f.wallet.lock();
    assert!(f.wallet.is_locked());
    assert!(matches!(f.wallet.list_cards(), Err(Error::Locked)));
    assert!(matches!(
        f.wallet.add_card(&new_card(PANS[1], "x")),
        Err(Error::Locked)
    ));
    f.wallet.unlock().unwrap();
    assert_eq!(f.wallet.list_cards().unwrap().len(), 1);

    f.wallet.set_auto_lock(Some(60_000));
    f.clock.advance(59_000);
    assert!(f.wallet.list_cards().is_ok(), "use within the timeout");
    f.clock.advance(59_000);
    assert!(f.wallet.list_cards().is_ok(), "each use restarts the timer");
    f.clock.advance(60_001);
    assert!(matches!(f.wallet.list_cards(), Err(Error::Locked)));
    assert!(f.wallet.is_locked());
    f.wallet.unlock().unwrap();
    assert!(f.wallet.list_cards().is_ok());
}

#[test]
fn expired_cards_are_refused_by_the_clock() {
    let f = fixture();
    let mut card = new_card(PANS[0], "old");
    card.expiry = "10/26".into();
    assert!(matches!(f.wallet.add_card(&card), Err(Error::CardExpired)));
    card.expiry = "11/26".into();
    assert!(
        f.wallet.add_card(&card).is_ok(),
        "valid through the end of its month"
    );
}

#[test]
fn opening_needs_an_existing_wallet_and_create_refuses_to_overwrite() {
    let f = fixture();
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        Wallet::open(empty.path(), f.keystore.clone(), f.clock.clone()),
        Err(Error::WalletNotFound)
    ));
    assert!(matches!(
        Wallet::create(f.dir.path(), f.keystore.clone(), f.clock.clone()),
        Err(Error::WalletExists)
    ));
}

#[test]
fn every_earlier_schema_migrates_to_the_latest_keeping_its_cards() {
    for version in 1..=SCHEMA_VERSION {
        let dir = tempfile::tempdir().unwrap();
        let keystore = Arc::new(wallet_core::SoftwareKeyStore::generate().unwrap());
        let clock = Arc::new(wallet_core::ManualClock::new(NOW_MS));
        let old =
            Wallet::create_at_schema(dir.path(), keystore.clone(), clock.clone(), version).unwrap();
        assert_eq!(old.schema_version().unwrap(), version);
        let card = old.add_card(&new_card(PANS[0], "kept")).unwrap();
        old.close().unwrap();

        let w = Wallet::open(dir.path(), keystore, clock).unwrap();
        assert_eq!(
            w.schema_version().unwrap(),
            SCHEMA_VERSION,
            "from v{version}"
        );
        assert_eq!(w.integrity_check().unwrap(), "ok");
        assert_eq!(w.card(&card.id).unwrap(), card, "from v{version}");
    }
}

//! DESIGN's "sync under faults" property, end to end: a real wallet
//! (wallet-core's blocking sync client) against the real `billfold-server`
//! process, with a fault-injecting proxy between them. For each fault — the
//! bank killed mid-request, 500 and 503 answers, answers slower than the
//! client's timeout, connections dropped after the bank committed — the
//! wallet recovers by itself (its retries, or simply the next `sync`), and
//! afterwards every queued operation is posted exactly once: the outbox is
//! empty, the wallet's ledger and balance match, the bank's own books
//! match, and a second device of the same account sees the same.
//!
//! Also `pay_qr` under faults: an unknown outcome leaves a pending hold
//! that the next sync settles without paying twice, and a bank that is
//! down entirely gives `Offline` and changes nothing.

mod devices;
mod proxy;
mod support;

use proxy::{Fault, Proxy};
use support::{
    account_id, enrolled_wallet, queue_payments, quick_network, rejections, wallet_ledger, Bank,
    Books, Queued, TestWallet, OPENING_MINOR,
};
use wallet_core::qr::{PaymentRequest, ReceiveRequest};
use wallet_core::{Currency, Error, Money, SyncReport, Wallet};

const SYNC: &str = "/v1/sync";
const PAY: &str = "/v1/payments/qr";
/// The client's operations per sync request (engine.rs's PUSH_BATCH):
/// faults are aimed at a given round.
const ROUND: u64 = 2_000;
/// Attempts per request in `quick_network`: this many faults in a row
/// exhaust one call's retries.
const ATTEMPTS: usize = 5;
/// Generous, so only the injected faults ever time out.
const PATIENT_MS: u64 = 30_000;

/// Calls `sync` until it succeeds with the outbox empty, as an app's
/// background sync would; returns the successful reports.
fn sync_until_done(w: &Wallet) -> Vec<SyncReport> {
    let mut reports = Vec::new();
    for _ in 0..20 {
        match w.sync(None) {
            Ok(r) => {
                reports.push(r);
                if w.outbox_len().unwrap() == 0 {
                    return reports;
                }
            }
            Err(Error::BankUnavailable(_) | Error::Offline) => {}
            Err(e) => panic!("sync failed for good: {e:?}"),
        }
    }
    panic!("the wallet did not recover within 20 syncs");
}

fn total(queued: &[Queued]) -> i64 {
    queued.iter().map(|(_, m)| m).sum()
}

fn eur(w: &Wallet) -> wallet_core::Balance {
    let mut b = w.balance("main").unwrap();
    assert_eq!(b.len(), 1, "one currency: {b:?}");
    b.remove(0)
}

/// Every queued operation posted exactly once, seen from the wallet, the
/// bank's books and a second device of the account.
fn assert_posted_exactly_once(bank: &Bank, phone: &Wallet, prefix: &str, queued: &[Queued]) {
    let n = queued.len() as i64;
    let sum = total(queued);
    assert_eq!(phone.outbox_len().unwrap(), 0, "the outbox drained");
    assert_eq!(rejections(phone), 0, "the bank refused nothing");

    let b = eur(phone);
    assert_eq!(b.posted.to_minor().unwrap(), OPENING_MINOR - sum);
    assert_eq!(b.pending_holds.to_minor().unwrap(), 0);
    // Posted: the opening balance and one entry per operation, each with
    // its own bank id (a double post would be a second bank id).
    assert_eq!(wallet_ledger(phone, prefix), (n + 1, 0, 0, n, n + 1));
    let enrollment = phone.enrollment().unwrap().unwrap();
    assert_eq!(
        enrollment.posted_balance.unwrap().to_minor().unwrap(),
        OPENING_MINOR - sum,
        "the balance the bank reported at the last sync"
    );

    assert_eq!(
        bank.books_for(&enrollment.account_id, prefix),
        (n, n, -sum, OPENING_MINOR - sum),
        "the bank's books: one entry per key, and the balance"
    );

    let code = phone.create_link_code().unwrap();
    let witness = enrolled_wallet(&bank.url(), quick_network(PATIENT_MS), Some(&code.code));
    assert_eq!(account_id(&witness), enrollment.account_id);
    sync_until_done(&witness);
    assert_eq!(
        eur(&witness).posted.to_minor().unwrap(),
        OPENING_MINOR - sum
    );
    assert_eq!(wallet_ledger(&witness, prefix), (n + 1, 0, 0, n, n + 1));
}

struct Setup {
    bank: Bank,
    proxy: Proxy,
    phone: TestWallet,
}

/// A bank, a proxy in front of it, and a phone enrolled through the proxy.
fn setup(request_timeout_ms: u64) -> Setup {
    let bank = Bank::start(Books::Sqlite);
    let proxy = Proxy::start(bank.addr());
    let phone = enrolled_wallet(&proxy.url(), quick_network(request_timeout_ms), None);
    Setup { bank, proxy, phone }
}

/// Kills the bank (SIGKILL) while the second of three sync rounds is at
/// `fault`, restarts it on the same port and data, and lets the wallet
/// recover. Returns the duplicates the bank reported.
fn kill_during_sync(fault: Fault, prefix: &str) -> u64 {
    let Setup {
        mut bank,
        proxy,
        phone,
    } = setup(PATIENT_MS);
    let queued = queue_payments(&phone, prefix, 5_000);
    proxy.inject(SYNC, [Fault::Pass, fault]);
    let first = std::thread::scope(|s| {
        let running = s.spawn(|| phone.sync(None));
        proxy.wait_paused();
        bank.kill();
        proxy.resume();
        bank.restart();
        running.join().unwrap()
    });
    // The retries may or may not outlast the restart.
    let mut reports = match first {
        Ok(r) => vec![r],
        Err(Error::BankUnavailable(_)) => Vec::new(),
        Err(e) => panic!("unexpected: {e:?}"),
    };
    if phone.outbox_len().unwrap() > 0 {
        reports.extend(sync_until_done(&phone));
    }
    assert_eq!(proxy.applied(SYNC), [fault]);
    assert_posted_exactly_once(&bank, &phone, prefix, &queued);
    reports.iter().map(|r| r.duplicates).sum()
}

#[test]
fn bank_killed_mid_request() {
    // Half a body reached the bank: it cannot have committed anything.
    assert_eq!(kill_during_sync(Fault::PauseMidRequest, "kill-mid:"), 0);
}

#[test]
fn bank_killed_after_committing() {
    // Round 2 was committed before the kill: its retry after the restart
    // finds every key already applied.
    assert_eq!(
        kill_during_sync(Fault::PauseAfterCommit, "kill-commit:"),
        ROUND
    );
}

#[test]
fn bank_answers_503() {
    let Setup { bank, proxy, phone } = setup(PATIENT_MS);
    let prefix = "unavail:";
    let mut queued = queue_payments(&phone, prefix, 2_500);
    // Twice in a row: the retries inside the one call get through.
    proxy.inject(SYNC, [Fault::Unavailable503; 2]);
    let r = phone.sync(None).unwrap();
    assert_eq!((r.applied, r.duplicates), (2_500, 0));

    // On every attempt: the call gives up, nothing is lost or sent, and
    // the next sync carries on.
    queued.extend(queue_payments(&phone, "unavail:late:", 300));
    proxy.inject(SYNC, [Fault::Unavailable503; ATTEMPTS]);
    assert!(matches!(phone.sync(None), Err(Error::BankUnavailable(_))));
    assert_eq!(phone.outbox_len().unwrap(), 300);
    let r = phone.sync(None).unwrap();
    assert_eq!(
        (r.applied, r.duplicates),
        (300, 0),
        "the 503s never reached the bank"
    );
    assert_eq!(proxy.unused(), 0);
    assert_posted_exactly_once(&bank, &phone, prefix, &queued);
}

#[test]
fn bank_answers_500_after_committing() {
    let Setup { bank, proxy, phone } = setup(PATIENT_MS);
    let prefix = "err500:";
    let mut queued = queue_payments(&phone, prefix, 5_000);
    // Round 2 commits, the client sees 500 and resends the same keys.
    proxy.inject(SYNC, [Fault::Pass, Fault::Error500AfterCommit]);
    let r = phone.sync(None).unwrap();
    assert_eq!((r.applied, r.duplicates), (5_000 - ROUND, ROUND));

    // A 500 on every attempt: the bank committed on the first, the client
    // gives up not knowing, and the next sync learns the outcome.
    queued.extend(queue_payments(&phone, "err500:late:", 300));
    proxy.inject(SYNC, [Fault::Error500AfterCommit; ATTEMPTS]);
    assert!(matches!(phone.sync(None), Err(Error::BankUnavailable(_))));
    assert_eq!(phone.outbox_len().unwrap(), 300);
    let r = phone.sync(None).unwrap();
    assert_eq!((r.applied, r.duplicates), (0, 300));
    assert_eq!(proxy.unused(), 0);
    assert_posted_exactly_once(&bank, &phone, prefix, &queued);
}

#[test]
fn bank_too_slow_so_the_client_times_out() {
    // Short enough to keep the test quick, long enough that only the held
    // answer ever times out (one round of 300 operations).
    let Setup { bank, proxy, phone } = setup(1_500);
    let prefix = "slow:";
    let queued = queue_payments(&phone, prefix, 300);
    proxy.inject(SYNC, [Fault::SlowAnswer]);
    let r = phone.sync(None).unwrap();
    assert_eq!(
        proxy.clients_gave_up(),
        1,
        "the client timed out and hung up"
    );
    assert_eq!(
        (r.applied, r.duplicates),
        (0, 300),
        "the slow answer had committed"
    );
    assert_posted_exactly_once(&bank, &phone, prefix, &queued);
}

#[test]
fn connection_dropped_after_commit() {
    let Setup { bank, proxy, phone } = setup(PATIENT_MS);
    let prefix = "drop:";
    let mut queued = queue_payments(&phone, prefix, 2_500);
    proxy.inject(SYNC, [Fault::DropAfterCommit]);
    let r = phone.sync(None).unwrap();
    assert_eq!((r.applied, r.duplicates), (500, ROUND));

    queued.extend(queue_payments(&phone, "drop:late:", 300));
    proxy.inject(SYNC, [Fault::DropAfterCommit; ATTEMPTS]);
    assert!(matches!(phone.sync(None), Err(Error::BankUnavailable(_))));
    let r = phone.sync(None).unwrap();
    assert_eq!((r.applied, r.duplicates), (0, 300));
    assert_eq!(proxy.unused(), 0);
    assert_posted_exactly_once(&bank, &phone, prefix, &queued);
}

/// A merchant's code for 4.20 EUR.
fn cafe_code() -> PaymentRequest {
    let eur = Currency::from_code("EUR").unwrap();
    let payload = ReceiveRequest {
        name: "Corner Cafe".into(),
        city: "Berlin".into(),
        country: "DE".into(),
        currency: eur,
        amount: Some(Money::from_minor(420, eur)),
        mcc: Some("5814".into()),
        account: Some("DE89370400440532013000".into()),
        scheme_guid: ReceiveRequest::BILLFOLD_GUID.into(),
        reference: None,
    }
    .payload()
    .unwrap();
    let req = PaymentRequest::from_payload(&payload).unwrap();
    assert!(req.crc_valid);
    req
}

#[test]
fn payment_unconfirmed_then_posted_once_by_sync() {
    let Setup { bank, proxy, phone } = setup(PATIENT_MS);
    sync_until_done(&phone);
    let account = account_id(&phone);
    // Every attempt reaches the bank (the first pays, the rest are
    // replays) and every answer is lost.
    proxy.inject(PAY, [Fault::DropAfterCommit; ATTEMPTS]);
    let err = phone.pay_qr(&cafe_code(), None, None).unwrap_err();
    assert!(matches!(err, Error::PaymentUnconfirmed), "{err:?}");
    assert_eq!(proxy.unused(), 0);

    // A hold, the operation kept for sync, and the bank paid once.
    let b = eur(&phone);
    assert_eq!(b.posted.to_minor().unwrap(), OPENING_MINOR);
    assert_eq!(b.pending_holds.to_minor().unwrap(), 420);
    assert_eq!(b.available.to_minor().unwrap(), OPENING_MINOR - 420);
    assert_eq!(phone.outbox_len().unwrap(), 1);
    assert_eq!(wallet_ledger(&phone, "qr:"), (1, 1, 0, 0, 1));
    assert_eq!(
        bank.books_for(&account, "qr:"),
        (1, 1, -420, OPENING_MINOR - 420)
    );

    let r = phone.sync(None).unwrap();
    assert_eq!((r.applied, r.duplicates), (0, 1));
    assert_posted_exactly_once(&bank, &phone, "qr:", &[("qr:".into(), 420)]);
}

#[test]
fn payment_offline_when_the_bank_is_down() {
    let mut bank = Bank::start(Books::Sqlite);
    let phone = enrolled_wallet(&bank.url(), quick_network(PATIENT_MS), None);
    sync_until_done(&phone);
    let account = account_id(&phone);
    let before = (eur(&phone), wallet_ledger(&phone, ""));

    bank.kill();
    let err = phone.pay_qr(&cafe_code(), None, None).unwrap_err();
    assert!(matches!(err, Error::Offline), "{err:?}");
    assert_eq!(phone.outbox_len().unwrap(), 0, "nothing left to send later");
    assert_eq!((eur(&phone), wallet_ledger(&phone, "")), before);

    bank.restart();
    assert_eq!(
        bank.books_for(&account, ""),
        (0, 0, 0, OPENING_MINOR),
        "the bank never heard of it"
    );
    let r = phone.sync(None).unwrap();
    assert_eq!((r.applied, r.duplicates), (0, 0));
    assert_eq!((eur(&phone), wallet_ledger(&phone, "")), before);
}

//! Two phones on one account, through the real bank process: edits of the
//! same budget converge field by field (last writer by HLC, deletes as
//! tombstones), and a budget alert one phone sent is never repeated by the
//! other when the same spending reaches it.

use std::sync::{Arc, Mutex};

use wallet_core::budgets::{BudgetEdit, BudgetSpec, Period, Rollover};
use wallet_core::qr::{PaymentRequest, ReceiveRequest};
use wallet_core::{Alert, AlertListener, Currency, Money, Wallet};

use crate::support::{enrolled_wallet, quick_network, Bank, Books, TestWallet};

#[derive(Default)]
struct Heard(Mutex<Vec<Alert>>);

impl AlertListener for Heard {
    fn on_alert(&self, alert: Alert) {
        self.0.lock().unwrap().push(alert);
    }
}

fn eur(amount: &str) -> Money {
    Money::parse(amount, Currency::from_code("EUR").unwrap()).unwrap()
}

fn phones(bank: &Bank) -> (TestWallet, TestWallet) {
    let a = enrolled_wallet(&bank.url(), quick_network(5_000), None);
    let code = a.create_link_code().unwrap();
    let b = enrolled_wallet(&bank.url(), quick_network(5_000), Some(&code.code));
    assert_eq!(
        a.enrollment().unwrap().unwrap().account_id,
        b.enrollment().unwrap().unwrap().account_id,
        "linked into one account"
    );
    (a, b)
}

/// Syncs both phones until neither has anything left to say.
fn settle(a: &Wallet, b: &Wallet) {
    for _ in 0..3 {
        a.sync(None).unwrap();
        b.sync(None).unwrap();
    }
    assert_eq!(a.outbox_len().unwrap(), 0);
    assert_eq!(b.outbox_len().unwrap(), 0);
}

fn groceries(w: &Wallet, limit: &str) -> String {
    w.create_budget(&BudgetSpec {
        name: "Groceries".into(),
        category: Some("food".into()),
        limit: eur(limit),
        period: Period::Monthly { start_day: 1 },
        time_zone: "Europe/Paris".into(),
        rollover: Rollover::None,
        thresholds: None,
        starts_on: None,
    })
    .unwrap()
    .budget
    .id
}

#[test]
fn two_phones_editing_one_budget_converge() {
    let bank = Bank::start(Books::Sqlite);
    let (a, b) = phones(&bank);
    let id = groceries(&a, "100.00");
    settle(&a, &b);
    let on_b = b.budget(&id).expect("the budget reached the other phone");
    assert_eq!(on_b.name, "Groceries");

    // Different fields at once: both edits survive everywhere.
    a.edit_budget(
        &id,
        &BudgetEdit {
            name: Some("Food shopping".into()),
            ..Default::default()
        },
    )
    .unwrap();
    b.edit_budget(
        &id,
        &BudgetEdit {
            thresholds: Some(vec![25, 75, 100]),
            ..Default::default()
        },
    )
    .unwrap();
    settle(&a, &b);
    for w in [&a, &b] {
        let budget = w.budget(&id).unwrap();
        assert_eq!(budget.name, "Food shopping");
        assert_eq!(budget.thresholds, vec![25, 75, 100]);
    }

    // The same field: the later write wins on both phones, whichever
    // reaches the bank first.
    a.edit_budget(
        &id,
        &BudgetEdit {
            limit: Some(eur("150.00")),
            ..Default::default()
        },
    )
    .unwrap();
    b.edit_budget(
        &id,
        &BudgetEdit {
            limit: Some(eur("130.00")),
            ..Default::default()
        },
    )
    .unwrap();
    b.sync(None).unwrap();
    a.sync(None).unwrap();
    settle(&a, &b);
    let limits: Vec<Money> = [&a, &b]
        .iter()
        .map(|w| w.budget_status(&id).unwrap().limit)
        .collect();
    assert_eq!(limits, vec![eur("130.00"), eur("130.00")]);

    // A delete is a tombstone field, merged like the others.
    a.delete_budget(&id).unwrap();
    settle(&a, &b);
    assert!(b.budget(&id).is_err(), "the delete reached the other phone");
    assert!(b.budgets().unwrap().iter().all(|x| x.id != id));
}

fn grocer_code(amount: &str) -> PaymentRequest {
    let payload = ReceiveRequest {
        name: "Marche Bio".into(),
        city: "Paris".into(),
        country: "FR".into(),
        currency: Currency::from_code("EUR").unwrap(),
        amount: Some(eur(amount)),
        mcc: Some("5411".into()),
        account: Some("FR7630006000011234567890189".into()),
        scheme_guid: ReceiveRequest::BILLFOLD_GUID.into(),
        reference: None,
    }
    .payload()
    .unwrap();
    PaymentRequest::from_payload(&payload).unwrap()
}

#[test]
fn an_alert_fires_on_one_phone_and_is_never_repeated_on_the_other() {
    let bank = Bank::start(Books::Sqlite);
    let (a, b) = phones(&bank);
    let heard_a = Arc::new(Heard::default());
    let heard_b = Arc::new(Heard::default());
    a.set_alert_listener(heard_a.clone());
    b.set_alert_listener(heard_b.clone());
    let id = groceries(&a, "100.00");
    settle(&a, &b);

    // 85% of the budget, paid on phone A: A alerts at 50% and 80%.
    a.pay_qr(&grocer_code("85.00"), None, None).unwrap();
    let fired: Vec<Option<u32>> = heard_a
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|x| x.budget_id == id)
        .map(|x| x.threshold_percent)
        .collect();
    assert!(fired.contains(&Some(80)), "phone A alerted: {fired:?}");

    // Phone B learns of the same spending from the bank, and of the
    // alerts A sent: it must not alert again.
    a.sync(None).unwrap();
    b.sync(None).unwrap();
    let status = b.budget_status(&id).unwrap();
    assert_eq!(status.spent, eur("85.00"), "phone B sees the payment");
    assert!(
        heard_b
            .0
            .lock()
            .unwrap()
            .iter()
            .all(|x| x.budget_id != id || x.threshold_percent.is_none_or(|t| t > 80)),
        "phone B repeated an alert A already sent: {:?}",
        heard_b.0.lock().unwrap()
    );

    // Past 100% on phone B: only the new threshold fires, on B, once.
    b.pay_qr(&grocer_code("20.00"), None, None).unwrap();
    settle(&a, &b);
    let exceeded_b = heard_b
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|x| x.budget_id == id && x.threshold_percent == Some(100))
        .count();
    let exceeded_a = heard_a
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|x| x.budget_id == id && x.threshold_percent == Some(100))
        .count();
    assert_eq!((exceeded_b, exceeded_a), (1, 0));
}

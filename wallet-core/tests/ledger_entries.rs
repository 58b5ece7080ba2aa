//! The ledger: deduplication on idempotency key and bank id (never on
//! content), postings replacing holds, balances, history pages,
//! categories and overrides, bills, locking.

mod common;
mod ledger_support;

use common::*;
use ledger_support::*;
use wallet_core::{EntryKind, EntryStatus, Error, HistoryQuery, NewBill, PendingEntry};

#[test]
fn idempotency_keys_deduplicate_and_content_never_does() {
    let f = fixture();
    let w = &f.wallet;
    let a = spend(w, "k1", "4.20 USD", None, "2026-11-23T08:00:00Z");
    assert!(!a.duplicate);
    let again = w
        .record_pending(&pending("k1", "4.20 USD", None, "2026-11-23T08:00:00Z"))
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(again.entry.id, a.entry.id);
    // Same key, different payment: refused.
    assert!(matches!(
        w.record_pending(&pending("k1", "5.00 USD", None, "2026-11-23T08:00:00Z")),
        Err(Error::IdempotencyConflict)
    ));
    // Identical content, another key: another purchase.
    spend(w, "k2", "4.20 USD", None, "2026-11-23T08:00:00Z");
    assert_eq!(w.entry_count().unwrap(), 2);
    let b = &w.balances().unwrap()[0];
    assert_eq!(b.pending_holds, money("8.40 USD"));
    assert_eq!(b.available, money("-8.40 USD"));
}

#[test]
fn a_posting_replaces_the_hold_and_bank_ids_deduplicate() {
    let f = fixture();
    let w = &f.wallet;
    w.apply_bank_entries(&[bank(
        "salary",
        "1000.00 USD",
        EntryKind::Income,
        "2026-11-01T09:00:00Z",
    )])
    .unwrap();
    let tap = spend(w, "tap-1", "20.00 USD", None, "2026-11-22T18:00:00Z");
    let b = &w.balances().unwrap()[0];
    assert_eq!(
        (b.posted, b.pending_holds, b.available),
        (
            money("1000.00 USD"),
            money("20.00 USD"),
            money("980.00 USD")
        )
    );

    // The bank posts it with a tip: one entry, posted, at the new amount.
    let mut post = bank(
        "B-77",
        "23.00 USD",
        EntryKind::Purchase,
        "2026-11-22T18:00:00Z",
    );
    post.idempotency_key = Some("tap-1".into());
    let applied = w.apply_bank_entries(std::slice::from_ref(&post)).unwrap();
    assert_eq!((applied.inserted, applied.updated), (0, 1));
    assert_eq!(w.entry_count().unwrap(), 2);
    let e = w.entry(&tap.entry.id).unwrap();
    assert_eq!(e.status, EntryStatus::Posted);
    assert_eq!(e.bank_id.as_deref(), Some("B-77"));
    assert_eq!(e.amount, money("-23.00 USD"));
    let b = &w.balances().unwrap()[0];
    assert_eq!(
        (b.posted, b.pending_holds, b.available),
        (money("977.00 USD"), money("0.00 USD"), money("977.00 USD"))
    );

    // The same sync page again changes nothing.
    let applied = w.apply_bank_entries(&[post.clone()]).unwrap();
    assert_eq!(
        (applied.inserted, applied.updated, applied.unchanged),
        (0, 0, 1)
    );
    // The tap retried locally with its key still names this payment.
    assert!(
        w.record_pending(&pending("tap-1", "20.00 USD", None, "2026-11-22T18:00:00Z"))
            .unwrap()
            .duplicate
    );

    // A refund, then the bank marks the purchase refunded.
    let mut refunded = post.clone();
    refunded.status = EntryStatus::Refunded;
    w.apply_bank_entries(&[
        refunded,
        bank(
            "B-78",
            "23.00 USD",
            EntryKind::Refund,
            "2026-11-23T10:00:00Z",
        ),
    ])
    .unwrap();
    assert_eq!(w.balances().unwrap()[0].posted, money("1000.00 USD"));
    assert!(w.verify_balances().unwrap());
}

#[test]
fn a_posting_to_another_account_moves_the_entry_with_its_balance() {
    let f = fixture();
    let w = &f.wallet;
    let tap = spend(w, "tap-9", "12.00 USD", None, "2026-11-22T18:00:00Z");
    let mut post = bank(
        "B-90",
        "12.00 USD",
        EntryKind::Purchase,
        "2026-11-22T18:00:00Z",
    );
    post.idempotency_key = Some("tap-9".into());
    post.account = "joint".into();
    let applied = w.apply_bank_entries(&[post]).unwrap();
    assert_eq!((applied.inserted, applied.updated), (0, 1));
    // The entry and its money are both on the account the bank says.
    assert_eq!(w.entry(&tap.entry.id).unwrap().account, "joint");
    assert!(w.verify_balances().unwrap());
}

#[test]
fn history_pages_are_newest_first_without_gaps() {
    let f = fixture();
    let w = &f.wallet;
    let entries: Vec<wallet_core::BankEntry> = (0..120)
        .map(|i| {
            let mut e = bank(
                &format!("b{i}"),
                "1.00 USD",
                EntryKind::Purchase,
                "2026-11-01T00:00:00Z",
            );
            // Pairs share a booking time: order falls back on insertion.
            e.booked_at_ms += (i / 2) * 60_000;
            e.mcc = Some(if i % 3 == 0 { 5411 } else { 5812 });
            e
        })
        .collect();
    assert_eq!(w.apply_bank_entries(&entries).unwrap().inserted, 120);
    let mut seen = Vec::new();
    let mut q = HistoryQuery::default();
    loop {
        let page = w.history(&q).unwrap();
        assert!(page.entries.len() <= 50);
        seen.extend(
            page.entries
                .iter()
                .map(|e| (e.booked_at_ms, e.bank_id.clone().unwrap())),
        );
        match page.next {
            Some(n) => q.before = Some(n),
            None => break,
        }
    }
    assert_eq!(seen.len(), 120);
    let mut sorted = seen.clone();
    sorted.sort_by_key(|s| std::cmp::Reverse(s.0));
    assert_eq!(
        seen.iter().map(|s| s.0).collect::<Vec<_>>(),
        sorted.iter().map(|s| s.0).collect::<Vec<_>>()
    );
    let mut ids: Vec<_> = seen.iter().map(|s| s.1.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 120);

    let groceries = w
        .history(&HistoryQuery {
            category: Some("food".into()),
            limit: 500,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(groceries.entries.len(), 120, "sub-categories included");
    let groceries = w
        .history(&HistoryQuery {
            category: Some("Groceries".into()),
            limit: 500,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(groceries.entries.len(), 40);
    assert!(matches!(
        w.history(&HistoryQuery {
            limit: 0,
            ..Default::default()
        }),
        Err(Error::InvalidText { .. })
    ));
    assert!(w
        .history(&HistoryQuery {
            before: Some("junk".into()),
            ..Default::default()
        })
        .is_err());
}

#[test]
fn categories_can_be_overridden_created_renamed_and_merged() {
    let f = fixture();
    let w = &f.wallet;
    let mut p = pending("p", "30.00 USD", None, "2026-11-23T08:00:00Z");
    p.mcc = Some(5812);
    let e = w.record_pending(&p).unwrap().entry;
    assert_eq!(
        (e.category.as_str(), e.category_name.as_str()),
        ("food.restaurants", "Restaurants & bars")
    );

    let lunch = w.create_category("Work lunches", Some("food")).unwrap();
    assert_eq!(lunch.path, "Food & drink / Work lunches");
    let budget = w
        .create_budget(&monthly("Lunch", "100.00 USD", Some("Work lunches"), "UTC"))
        .unwrap()
        .budget;
    let e = w.categorize(&e.id, "work lunches").unwrap().entry;
    assert_eq!(e.category, lunch.id);
    assert_eq!(
        w.budget_status(&budget.id).unwrap().spent,
        money("30.00 USD")
    );

    // The override survives the bank's posting.
    let mut post = bank(
        "B1",
        "30.00 USD",
        EntryKind::Purchase,
        "2026-11-23T08:00:00Z",
    );
    post.idempotency_key = Some("p".into());
    post.mcc = Some(5812);
    w.apply_bank_entries(&[post]).unwrap();
    assert_eq!(w.entry(&e.id).unwrap().category, lunch.id);

    let renamed = w.rename_category(&lunch.id, "Team lunches").unwrap();
    assert_eq!(renamed.name, "Team lunches");
    assert!(
        w.rename_category(&lunch.id, "Groceries").is_err(),
        "names are unique"
    );

    // Merge into restaurants: entries and the budget follow.
    let into = w
        .merge_categories("Team lunches", "food.restaurants")
        .unwrap();
    assert_eq!(into.id, "food.restaurants");
    assert_eq!(w.entry(&e.id).unwrap().category, "food.restaurants");
    assert_eq!(
        w.budget(&budget.id).unwrap().category.as_deref(),
        Some("food.restaurants")
    );
    assert_eq!(
        w.budget_status(&budget.id).unwrap().spent,
        money("30.00 USD")
    );
    assert!(!w.categories().unwrap().iter().any(|c| c.id == lunch.id));
    assert!(matches!(
        w.categorize(&e.id, "no such thing"),
        Err(Error::CategoryNotFound)
    ));
    assert!(w.merge_categories("food", "food.groceries").is_err());
}

#[test]
fn projected_balance_subtracts_scheduled_bills() {
    let f = fixture();
    let w = &f.wallet;
    w.apply_bank_entries(&[bank(
        "s",
        "500.00 USD",
        EntryKind::Income,
        "2026-11-01T09:00:00Z",
    )])
    .unwrap();
    spend(w, "h", "50.00 USD", None, "2026-11-23T08:00:00Z");
    let bill = w
        .schedule_bill(&NewBill {
            account: "main".into(),
            name: "Rent".into(),
            amount: money("300.00 USD"),
            due_ms: at("2026-12-01T00:00:00Z"),
        })
        .unwrap();
    let b = &w.balance("main").unwrap()[0];
    assert_eq!(b.available, money("450.00 USD"));
    assert_eq!(b.scheduled_bills, money("300.00 USD"));
    assert_eq!(b.projected, money("150.00 USD"));
    w.remove_bill(&bill.id).unwrap();
    assert_eq!(w.balance("main").unwrap()[0].projected, money("450.00 USD"));
    assert!(matches!(w.remove_bill(&bill.id), Err(Error::BillNotFound)));
}

#[test]
fn card_numbers_never_reach_the_ledger_and_locking_applies() {
    let f = fixture();
    let w = &f.wallet;
    let canary = "4929123456781236";
    let mut p = pending("c", "1.00 USD", None, "2026-11-23T08:00:00Z");
    p.merchant = Some(format!("Shop card {canary}"));
    p.note = Some("paid with 4929 1234 5678 1236".into());
    let e = w.record_pending(&p).unwrap().entry;
    assert_eq!(e.merchant.as_deref(), Some("Shop card ••••1236"));
    assert_eq!(e.note.as_deref(), Some("paid with ••••1236"));
    w.checkpoint().unwrap();
    for (name, bytes) in read_all(f.dir.path()) {
        assert!(
            !bytes.windows(12).any(|win| win == &canary.as_bytes()[..12]),
            "card digits in {name}"
        );
    }

    w.lock();
    assert!(matches!(w.balances(), Err(Error::Locked)));
    assert!(matches!(
        w.record_pending(&pending("d", "1.00 USD", None, "2026-11-23T08:00:00Z")),
        Err(Error::Locked)
    ));
    w.unlock().unwrap();
    assert_eq!(w.entry_count().unwrap(), 1);
}

#[test]
fn bad_entries_get_typed_errors_and_store_nothing() {
    let f = fixture();
    let w = &f.wallet;
    let base = pending("x", "1.00 USD", None, "2026-11-23T08:00:00Z");
    let cases: Vec<(PendingEntry, &str)> = vec![
        (
            PendingEntry {
                amount: money("-1.00 USD"),
                ..base.clone()
            },
            "invalid_amount",
        ),
        (
            PendingEntry {
                amount: wallet_core::Money::new(rust_decimal::Decimal::new(1234, 3), cur("USD")),
                ..base.clone()
            },
            "invalid_amount",
        ),
        (
            PendingEntry {
                idempotency_key: String::new(),
                ..base.clone()
            },
            "invalid_input",
        ),
        (
            PendingEntry {
                category: Some("nope".into()),
                ..base.clone()
            },
            "category_not_found",
        ),
        (
            PendingEntry {
                booked_at_ms: -1,
                ..base.clone()
            },
            "invalid_input",
        ),
        (
            PendingEntry {
                mcc: Some(12345),
                ..base.clone()
            },
            "invalid_input",
        ),
        (
            PendingEntry {
                merchant: Some("x".repeat(201)),
                ..base.clone()
            },
            "invalid_input",
        ),
    ];
    for (p, code) in cases {
        let e = w.record_pending(&p).unwrap_err();
        assert_eq!(e.code(), code, "{e}");
    }
    assert_eq!(w.entry_count().unwrap(), 0);
    assert!(w.balances().unwrap().is_empty());
}

//! Two wallets (two replicas of one user's data, each a real SQLite file)
//! exchange their outbox operations through a stand-in for the bank's merge
//! (the rules of `server/src/records.rs`) or directly, and converge: per
//! field, last writer by HLC, with tombstones, and a grow-only set of sent
//! alerts that no device repeats.

mod common;
mod ledger_support;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use billfold_protocol::{
    AlertKey, AlertRecord, Collection, FieldChange, Hlc, Op, RecordUpdate, TOMBSTONE_FIELD,
};
use common::*;
use ledger_support::*;
use serde_json::{json, Value};
use wallet_core::replica::{MergeReport, RejectReason, FORECAST_THRESHOLD};
use wallet_core::{Budget, BudgetEdit, Clock, EntryKind, Wallet};

/// One device: a wallet, what it has pushed and pulled, what it heard.
struct Device {
    f: Fixture,
    name: &'static str,
    pushed: i64,
    cursor: u64,
    heard: Arc<Recorder>,
}

impl Device {
    fn new(name: &'static str) -> Self {
        let f = fixture();
        let heard = Recorder::install(&f.wallet);
        Device {
            f,
            name,
            pushed: 0,
            cursor: 0,
            heard,
        }
    }

    fn w(&self) -> &Wallet {
        &self.f.wallet
    }

    fn at(&self, rfc3339: &str) {
        self.f.clock.set(at(rfc3339));
    }

    fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.f.dir.path().join(Wallet::DB_FILE)).unwrap()
    }

    /// Sync's operations still in the outbox after `after`, with their seq
    /// and idempotency key.
    fn outbox_after(&self, after: i64) -> Vec<(i64, String, Op)> {
        let db = self.db();
        let mut stmt = db
            .prepare(
                "SELECT seq, idempotency_key, kind, payload FROM outbox
                 WHERE seq > ?1 AND kind IN ('record_update', 'alert_sent') ORDER BY seq",
            )
            .unwrap();
        let rows = stmt
            .query_map([after], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .unwrap();
        rows.map(|r| {
            let (seq, key, kind, payload) = r.unwrap();
            let op: Op = serde_json::from_str(&payload).expect("the payload is an Op");
            assert_eq!(op.kind(), kind);
            (seq, key, op)
        })
        .collect()
    }

    /// The operations queued since the last push (without pushing).
    fn unpushed(&self) -> Vec<Op> {
        self.outbox_after(self.pushed)
            .into_iter()
            .map(|(_, _, op)| op)
            .collect()
    }

    fn budget(&self, id: &str) -> Budget {
        self.w().budget(id).unwrap()
    }
}

/// The bank's side, as `server/src/records.rs` and `sync.rs` do it: each
/// field is a register replaced only by a strictly greater stamp; alerts
/// are a set; the feed is everything after a cursor, records from other
/// devices only.
#[derive(Default)]
struct Bank {
    seq: u64,
    records: BTreeMap<FieldKey, Register>,
    alerts: BTreeMap<(String, String, u16), (&'static str, i64, u64)>,
}

/// (collection, record, field).
type FieldKey = (Collection, String, String);
/// (value, stamp, device that wrote it, feed position).
type Register = (Value, Hlc, &'static str, u64);

impl Bank {
    fn push(&mut self, d: &mut Device) {
        for (seq, _, op) in d.outbox_after(d.pushed) {
            match op {
                Op::RecordUpdate(u) => {
                    for (field, w) in u.fields {
                        let k = (u.collection, u.record_id.clone(), field);
                        if self.records.get(&k).is_none_or(|cur| w.hlc > cur.1) {
                            self.seq += 1;
                            self.records.insert(k, (w.value, w.hlc, d.name, self.seq));
                        }
                    }
                }
                Op::AlertSent(a) => {
                    let k = (a.budget_id, a.period, a.threshold);
                    if !self.alerts.contains_key(&k) {
                        self.seq += 1;
                        self.alerts
                            .insert(k, (d.name, d.f.clock.now_millis(), self.seq));
                    }
                }
                other => panic!("unexpected operation {other:?}"),
            }
            d.pushed = seq;
        }
    }

    fn pull(&self, d: &mut Device) -> (Vec<FieldChange>, Vec<AlertRecord>) {
        let mut records: Vec<FieldChange> = self
            .records
            .iter()
            .filter(|(_, v)| v.3 > d.cursor && v.2 != d.name)
            .map(|((c, id, field), v)| FieldChange {
                collection: *c,
                record_id: id.clone(),
                field: field.clone(),
                value: v.0.clone(),
                hlc: v.1.clone(),
                seq: v.3,
            })
            .collect();
        records.sort_by_key(|c| c.seq);
        let mut alerts: Vec<AlertRecord> = self
            .alerts
            .iter()
            .filter(|(_, v)| v.2 > d.cursor)
            .map(|((b, p, t), v)| AlertRecord {
                alert: AlertKey {
                    budget_id: b.clone(),
                    period: p.clone(),
                    threshold: *t,
                },
                device_id: v.0.into(),
                sent_at_ms: v.1,
                seq: v.2,
            })
            .collect();
        alerts.sort_by_key(|a| a.seq);
        d.cursor = self.seq;
        (records, alerts)
    }

    fn sync(&mut self, d: &mut Device) -> MergeReport {
        self.push(d);
        let (records, alerts) = self.pull(d);
        d.w().merge_remote(&records, &alerts).unwrap()
    }
}

/// Operations as the field changes the bank would hand another device,
/// without the bank: every field, winning or not.
fn as_changes(ops: &[Op]) -> Vec<FieldChange> {
    ops.iter()
        .filter_map(|op| match op {
            Op::RecordUpdate(u) => Some(u),
            _ => None,
        })
        .flat_map(|u| {
            u.fields.iter().map(|(field, w)| FieldChange {
                collection: u.collection,
                record_id: u.record_id.clone(),
                field: field.clone(),
                value: w.value.clone(),
                hlc: w.hlc.clone(),
                seq: 0,
            })
        })
        .collect()
}

fn updates(ops: &[Op]) -> Vec<&RecordUpdate> {
    ops.iter()
        .filter_map(|op| match op {
            Op::RecordUpdate(u) => Some(u),
            _ => None,
        })
        .collect()
}

fn fields_of(u: &RecordUpdate) -> Vec<&str> {
    u.fields.keys().map(String::as_str).collect()
}

/// Two devices of one user, both at 2026-11-23 noon, with a food budget
/// made on `a` and already synced to `b`.
fn pair() -> (Bank, Device, Device, String) {
    let mut bank = Bank::default();
    let mut a = Device::new("a");
    let mut b = Device::new("b");
    let id = a
        .w()
        .create_budget(&monthly("Food", "100.00 USD", Some("food"), "UTC"))
        .unwrap()
        .budget
        .id;
    bank.sync(&mut a);
    let report = bank.sync(&mut b);
    assert_eq!(report.records_changed, 1, "{report:?}");
    assert!(report.rejected.is_empty(), "{report:?}");
    (bank, a, b, id)
}

#[test]
fn a_budget_made_on_one_device_appears_on_the_other_with_every_setting() {
    let (_bank, a, b, id) = pair();
    assert_eq!(a.budget(&id), b.budget(&id));
    assert_eq!(b.budget(&id).limit, money("100.00 USD"));
    assert_eq!(b.w().budgets().unwrap().len(), 1);
    // Its status works on the replica: totals were built from b's ledger.
    spend(
        b.w(),
        "b1",
        "30.00 USD",
        Some("food"),
        "2026-11-20T10:00:00Z",
    );
    assert_eq!(b.w().budget_status(&id).unwrap().spent, money("30.00 USD"));
}

#[test]
fn local_edits_queue_only_the_changed_fields_with_valid_unique_keys() {
    let (_bank, a, _b, id) = pair();
    a.at("2026-11-23T12:01:00Z");
    a.w()
        .edit_budget(
            &id,
            &BudgetEdit {
                name: Some("Groceries and more".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let ops = a.unpushed();
    let u = updates(&ops);
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].collection, Collection::Budgets);
    assert_eq!(u[0].record_id, id);
    assert_eq!(fields_of(u[0]), vec![TOMBSTONE_FIELD, "name"]);

    // An edit that changes nothing queues nothing.
    a.w()
        .edit_budget(
            &id,
            &BudgetEdit {
                name: Some("Groceries and more".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(a.unpushed().len(), 1);

    // A limit is a field per period start; thresholds are an array.
    a.w()
        .edit_budget(
            &id,
            &BudgetEdit {
                limit: Some(money("250.00 USD")),
                thresholds: Some(vec![90, 75]),
                ..Default::default()
            },
        )
        .unwrap();
    let ops = a.unpushed();
    let last = updates(&ops)[1];
    assert_eq!(
        fields_of(last),
        vec![TOMBSTONE_FIELD, "limit_20261101", "thresholds"]
    );
    assert_eq!(last.fields["limit_20261101"].value, json!(25000));
    assert_eq!(last.fields["thresholds"].value, json!([75, 90]));

    // Every operation of every kind of edit has a valid, unique key, and
    // each edit's fields share one stamp, later than the one before.
    a.w().create_category("Coffee", Some("food")).unwrap();
    a.w().rename_category("Coffee", "Coffee & tea").unwrap();
    let e = spend(
        a.w(),
        "k1",
        "3.00 USD",
        Some("food"),
        "2026-11-22T08:00:00Z",
    )
    .entry;
    a.w().categorize(&e.id, "Coffee & tea").unwrap();
    a.w().set_note(&e.id, Some("with Ada")).unwrap();
    a.w().delete_category("Coffee & tea").unwrap();
    a.w().delete_budget(&id).unwrap();
    let all = a.outbox_after(0);
    let mut keys = HashSet::new();
    let mut last_stamp: Option<Hlc> = None;
    for (_, key, op) in &all {
        assert!(
            (1..=128).contains(&key.len())
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b)),
            "{key}"
        );
        assert!(keys.insert(key.clone()), "duplicate key {key}");
        if let Op::RecordUpdate(u) = op {
            let stamps: HashSet<&Hlc> = u.fields.values().map(|w| &w.hlc).collect();
            assert_eq!(stamps.len(), 1);
            let s = (*stamps.iter().next().unwrap()).clone();
            if let Some(prev) = &last_stamp {
                assert!(s >= *prev);
            }
            last_stamp = Some(s);
            for (name, w) in &u.fields {
                assert!(
                    name == TOMBSTONE_FIELD
                        || name
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                );
                assert!(serde_json::to_string(&w.value).unwrap().len() <= 8 * 1024);
            }
        }
    }
    let collections: HashSet<Collection> = updates(&a.unpushed())
        .iter()
        .map(|u| u.collection)
        .collect();
    assert_eq!(collections.len(), 3, "budgets, categories and notes");
}

#[test]
fn concurrent_edits_of_different_fields_of_one_budget_both_survive() {
    let (mut bank, mut a, mut b, id) = pair();
    a.at("2026-11-23T12:01:00Z");
    b.at("2026-11-23T12:02:00Z");
    a.w()
        .edit_budget(
            &id,
            &BudgetEdit {
                name: Some("Eating".into()),
                ..Default::default()
            },
        )
        .unwrap();
    b.w()
        .edit_budget(
            &id,
            &BudgetEdit {
                thresholds: Some(vec![25, 100]),
                rollover: Some(wallet_core::Rollover::Surplus),
                ..Default::default()
            },
        )
        .unwrap();
    bank.sync(&mut a);
    bank.sync(&mut b);
    bank.sync(&mut a);
    let (on_a, on_b) = (a.budget(&id), b.budget(&id));
    assert_eq!(on_a, on_b);
    assert_eq!(on_a.name, "Eating");
    assert_eq!(on_a.thresholds, vec![25, 100]);
    assert_eq!(on_a.rollover, wallet_core::Rollover::Surplus);
}

#[test]
fn the_same_field_takes_the_later_stamp_on_both_devices() {
    let (mut bank, mut a, mut b, id) = pair();
    // b edits first by the wall clock but syncs last.
    b.at("2026-11-23T12:05:00Z");
    a.at("2026-11-23T12:10:00Z");
    let edit = |w: &Wallet, name: &str, limit: &str| {
        w.edit_budget(
            &id,
            &BudgetEdit {
                name: Some(name.into()),
                limit: Some(money(limit)),
                ..Default::default()
            },
        )
        .unwrap();
    };
    edit(b.w(), "Older", "120.00 USD");
    edit(a.w(), "Newer", "80.00 USD");
    bank.sync(&mut a);
    bank.sync(&mut b);
    bank.sync(&mut a);
    assert_eq!(a.budget(&id), b.budget(&id));
    assert_eq!(a.budget(&id).name, "Newer");
    assert_eq!(a.budget(&id).limit, money("80.00 USD"));

    // Without the bank, fed each other's operations in either order, the
    // devices resolve it the same way.
    let (_bank, c, d, id) = pair();
    d.at("2026-11-23T12:05:00Z");
    c.at("2026-11-23T12:10:00Z");
    c.w()
        .edit_budget(
            &id,
            &BudgetEdit {
                name: Some("From c".into()),
                ..Default::default()
            },
        )
        .unwrap();
    d.w()
        .edit_budget(
            &id,
            &BudgetEdit {
                name: Some("From d".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let (from_c, from_d) = (as_changes(&c.unpushed()), as_changes(&d.unpushed()));
    let rc = c.w().merge_remote(&from_d, &[]).unwrap();
    let rd = d.w().merge_remote(&from_c, &[]).unwrap();
    assert_eq!(c.budget(&id).name, "From c");
    assert_eq!(d.budget(&id).name, "From c");
    assert_eq!((rc.applied, rd.stale), (0, 0), "{rc:?} {rd:?}");
    assert!(rc.stale > 0 && rd.applied > 0);
}

#[test]
fn equal_wall_clocks_break_ties_the_same_way_everywhere() {
    let (_bank, a, b, id) = pair();
    a.at("2026-11-23T12:10:00Z");
    b.at("2026-11-23T12:10:00Z");
    for (d, name) in [(&a, "A"), (&b, "B")] {
        d.w()
            .edit_budget(
                &id,
                &BudgetEdit {
                    name: Some(name.into()),
                    ..Default::default()
                },
            )
            .unwrap();
    }
    let (from_a, from_b) = (as_changes(&a.unpushed()), as_changes(&b.unpushed()));
    a.w().merge_remote(&from_b, &[]).unwrap();
    b.w().merge_remote(&from_a, &[]).unwrap();
    assert_eq!(a.budget(&id).name, b.budget(&id).name);
}

#[test]
fn a_delete_and_a_later_edit_resolve_by_stamp_on_both_devices() {
    // The delete is later: the budget is gone everywhere.
    let (mut bank, mut a, mut b, id) = pair();
    b.at("2026-11-23T12:05:00Z");
    a.at("2026-11-23T12:10:00Z");
    b.w()
        .edit_budget(
            &id,
            &BudgetEdit {
                name: Some("Edited".into()),
                ..Default::default()
            },
        )
        .unwrap();
    a.w().delete_budget(&id).unwrap();
    bank.sync(&mut a);
    bank.sync(&mut b);
    bank.sync(&mut a);
    for d in [&a, &b] {
        assert!(d.w().budgets().unwrap().is_empty(), "{}", d.name);
        assert!(matches!(
            d.w().budget(&id),
            Err(wallet_core::Error::BudgetNotFound)
        ));
    }

    // The edit is later: the budget lives on both, with the edit.
    let (mut bank, mut a, mut b, id) = pair();
    a.at("2026-11-23T12:05:00Z");
    b.at("2026-11-23T12:10:00Z");
    a.w().delete_budget(&id).unwrap();
    b.w()
        .edit_budget(
            &id,
            &BudgetEdit {
                name: Some("Kept".into()),
                ..Default::default()
            },
        )
        .unwrap();
    bank.sync(&mut a);
    bank.sync(&mut b);
    let report = bank.sync(&mut a);
    assert_eq!(report.records_changed, 1, "{report:?}");
    assert_eq!(a.budget(&id), b.budget(&id));
    assert_eq!(a.budget(&id).name, "Kept");
    // Brought back on a, its totals are rebuilt from a's ledger.
    spend(
        a.w(),
        "a1",
        "10.00 USD",
        Some("food"),
        "2026-11-23T12:06:00Z",
    );
    assert_eq!(a.w().budget_status(&id).unwrap().spent, money("10.00 USD"));
}

#[test]
fn a_category_deleted_on_one_device_and_renamed_later_on_another_comes_back() {
    let mut bank = Bank::default();
    let mut a = Device::new("a");
    let mut b = Device::new("b");
    let c = a.w().create_category("Coffee", Some("food")).unwrap();
    bank.sync(&mut a);
    bank.sync(&mut b);
    // The same payment on both devices, in the new category.
    let mut e = bank_entry("bank-1", "4.00 USD", "2026-11-22T09:00:00Z");
    e.category = Some("Coffee".into());
    a.w().apply_bank_entries(std::slice::from_ref(&e)).unwrap();
    b.w().apply_bank_entries(&[e]).unwrap();

    a.at("2026-11-23T12:05:00Z");
    b.at("2026-11-23T12:10:00Z");
    let moved_to = a.w().delete_category(&c.id).unwrap();
    assert_eq!(moved_to.id, "food");
    b.w().rename_category(&c.id, "Coffee & tea").unwrap();
    bank.sync(&mut a);
    bank.sync(&mut b);
    bank.sync(&mut a);
    for d in [&a, &b] {
        let names: Vec<String> = d
            .w()
            .categories()
            .unwrap()
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert!(names.contains(&"Coffee & tea".to_string()), "{}", d.name);
        let h = d.w().history(&Default::default()).unwrap();
        assert_eq!(h.entries[0].category, c.id, "{}", d.name);
    }
}

#[test]
fn a_category_merge_moves_the_other_devices_entries_and_budgets() {
    let mut bank = Bank::default();
    let mut a = Device::new("a");
    let mut b = Device::new("b");
    let lunches = a.w().create_category("Team lunches", Some("food")).unwrap();
    bank.sync(&mut a);
    bank.sync(&mut b);
    let budget = b
        .w()
        .create_budget(&monthly(
            "Lunches",
            "50.00 USD",
            Some("Team lunches"),
            "UTC",
        ))
        .unwrap()
        .budget
        .id;
    let restaurants = b
        .w()
        .create_budget(&monthly(
            "Restaurants",
            "500.00 USD",
            Some("food.restaurants"),
            "UTC",
        ))
        .unwrap()
        .budget
        .id;
    let mut e = bank_entry("bank-2", "20.00 USD", "2026-11-22T13:00:00Z");
    e.category = Some("Team lunches".into());
    b.w().apply_bank_entries(&[e]).unwrap();
    assert_eq!(
        b.w().budget_status(&restaurants).unwrap().spent,
        money("0 USD")
    );

    a.at("2026-11-23T12:05:00Z");
    a.w()
        .merge_categories(&lunches.id, "food.restaurants")
        .unwrap();
    bank.sync(&mut a);
    let report = bank.sync(&mut b);
    assert!(report.rejected.is_empty(), "{report:?}");
    let h = b.w().history(&Default::default()).unwrap();
    assert_eq!(h.entries[0].category, "food.restaurants");
    assert_eq!(
        b.w().budget_status(&restaurants).unwrap().spent,
        money("20.00 USD")
    );
    // The budget on the merged category follows it once b's budgets reach a.
    bank.sync(&mut b);
    bank.sync(&mut a);
    assert_eq!(
        a.budget(&budget).category.as_deref(),
        Some(lunches.id.as_str())
    );
    assert_eq!(
        b.w().budget_status(&budget).unwrap().spent,
        money("20.00 USD"),
        "a budget on a merged category covers where it went"
    );
}

fn bank_entry(id: &str, amount: &str, when: &str) -> wallet_core::BankEntry {
    bank(id, amount, EntryKind::Purchase, when)
}

#[test]
fn notes_and_overrides_merge_and_wait_for_an_entry_not_pulled_yet() {
    let (mut bank, mut a, mut b, food) = pair();
    let e = bank_entry("bank-3", "60.00 USD", "2026-11-22T19:00:00Z");
    let on_a = a.w().apply_bank_entries(std::slice::from_ref(&e)).unwrap();
    b.w().apply_bank_entries(&[e]).unwrap();
    assert_eq!(on_a.inserted, 1);
    let id = a.w().history(&Default::default()).unwrap().entries[0]
        .id
        .clone();

    a.at("2026-11-23T12:05:00Z");
    b.at("2026-11-23T12:06:00Z");
    a.w().categorize(&id, "food.restaurants").unwrap();
    b.w().set_note(&id, Some("birthday dinner")).unwrap();
    bank.sync(&mut a);
    bank.sync(&mut b);
    bank.sync(&mut a);
    for d in [&a, &b] {
        let h = d.w().history(&Default::default()).unwrap();
        assert_eq!(h.entries[0].category, "food.restaurants", "{}", d.name);
        assert_eq!(h.entries[0].note.as_deref(), Some("birthday dinner"));
        // The override moved the spending into the food budget.
        assert_eq!(
            d.w().budget_status(&food).unwrap().spent,
            money("60.00 USD"),
            "{}",
            d.name
        );
    }

    // a annotates a payment b has not heard of yet: it waits on b, and is
    // applied when the bank's entry arrives; the bank's own note does not
    // replace the user's.
    let late = bank_entry("bank-4", "9.00 USD", "2026-11-23T08:00:00Z");
    a.w()
        .apply_bank_entries(std::slice::from_ref(&late))
        .unwrap();
    let late_id = a
        .w()
        .history(&Default::default())
        .unwrap()
        .entries
        .iter()
        .find(|x| x.bank_id.as_deref() == Some("bank-4"))
        .unwrap()
        .id
        .clone();
    a.at("2026-11-23T12:20:00Z");
    a.w().categorize(&late_id, "transport.taxi").unwrap();
    a.w().set_note(&late_id, Some("airport")).unwrap();
    bank.sync(&mut a);
    let report = bank.sync(&mut b);
    assert_eq!(report.incomplete, 1, "{report:?}");
    let mut posted = late;
    posted.note = Some("CARD PURCHASE 0042".into());
    b.w().apply_bank_entries(&[posted]).unwrap();
    let h = b.w().history(&Default::default()).unwrap();
    let got = h.entries.iter().find(|x| x.id == late_id).unwrap();
    assert_eq!(got.category, "transport.taxi");
    assert_eq!(got.note.as_deref(), Some("airport"));
}

#[test]
fn an_alert_sent_on_another_device_is_never_delivered_here() {
    let (mut bank, mut a, mut b, id) = pair();
    // The month's last day, so no pace forecast joins the thresholds.
    a.at("2026-11-30T12:00:00Z");
    b.at("2026-11-30T12:00:00Z");
    // a crosses 50% and 80% at once: 80% is announced, both are sent.
    let r = spend(
        a.w(),
        "a1",
        "85.00 USD",
        Some("food"),
        "2026-11-30T08:00:00Z",
    );
    assert_eq!(r.alerts.len(), 1);
    let sent: Vec<u16> = a
        .unpushed()
        .iter()
        .filter_map(|op| match op {
            Op::AlertSent(k) => Some(k.threshold),
            _ => None,
        })
        .collect();
    assert_eq!(sent, vec![50, 80]);
    for op in a.unpushed() {
        if let Op::AlertSent(k) = op {
            assert_eq!(
                (k.budget_id.as_str(), k.period.as_str()),
                (id.as_str(), "2026-11-01")
            );
        }
    }
    bank.sync(&mut a);
    let report = bank.sync(&mut b);
    assert_eq!((report.alerts_added, report.alerts_known), (2, 0));
    assert_eq!(b.w().sent_alerts(Some(&id)).unwrap().len(), 2);
    assert!(b.heard.take().is_empty(), "merging delivers nothing");

    // b never saw a's (pending) spending; its own crosses 50% and 80%:
    // both already sent, so nothing is delivered.
    let r = spend(
        b.w(),
        "b1",
        "90.00 USD",
        Some("food"),
        "2026-11-30T08:30:00Z",
    );
    assert!(r.alerts.is_empty(), "{:?}", r.alerts);
    assert!(b.heard.take().is_empty());
    // Going over 100% is new, and is delivered once.
    let r = spend(
        b.w(),
        "b2",
        "20.00 USD",
        Some("food"),
        "2026-11-30T08:40:00Z",
    );
    assert_eq!(r.alerts.len(), 1);
    assert_eq!(r.alerts[0].threshold_percent, Some(100));
    assert_eq!(b.heard.take().len(), 1);

    // ...and then never on a.
    bank.sync(&mut b);
    let report = bank.sync(&mut a);
    assert_eq!(report.alerts_added, 1, "{report:?}");
    let r = spend(
        a.w(),
        "a2",
        "30.00 USD",
        Some("food"),
        "2026-11-30T08:50:00Z",
    );
    assert!(r.alerts.is_empty(), "{:?}", r.alerts);
    assert!(
        a.heard.take().len() == 1,
        "only a's own 80% alert, long before"
    );

    // The forecast alert travels as threshold 0.
    let forecast = AlertRecord {
        alert: AlertKey {
            budget_id: id.clone(),
            period: "2026-11-01".into(),
            threshold: FORECAST_THRESHOLD,
        },
        device_id: "c".into(),
        sent_at_ms: NOW_MS,
        seq: 99,
    };
    a.w().merge_remote(&[], &[forecast]).unwrap();
    let keys: Vec<String> = a
        .w()
        .sent_alerts(Some(&id))
        .unwrap()
        .into_iter()
        .map(|s| s.key)
        .collect();
    assert!(keys.contains(&"forecast".to_string()), "{keys:?}");
}

#[test]
fn a_lower_limit_from_another_device_fires_only_what_no_device_sent() {
    let (mut bank, mut a, mut b, id) = pair();
    // The month's last day, so no pace forecast joins the thresholds.
    b.at("2026-11-30T12:00:00Z");
    spend(
        b.w(),
        "b1",
        "60.00 USD",
        Some("food"),
        "2026-11-23T09:00:00Z",
    );
    assert_eq!(b.heard.take().len(), 1, "b's 50% alert");
    bank.sync(&mut b);
    bank.sync(&mut a);
    // a lowers the limit; on a nothing is spent, so nothing fires there.
    a.at("2026-11-23T12:30:00Z");
    a.w()
        .edit_budget(
            &id,
            &BudgetEdit {
                limit: Some(money("70.00 USD")),
                ..Default::default()
            },
        )
        .unwrap();
    bank.sync(&mut a);
    let report = bank.sync(&mut b);
    // On b, 60 of 70 is past 80%: newly due, recorded and delivered once;
    // 50% was already sent.
    let fired: Vec<Option<u32>> = report.alerts.iter().map(|x| x.threshold_percent).collect();
    assert_eq!(fired, vec![Some(80)], "{report:?}");
    assert_eq!(b.heard.take().len(), 1);
    let again = bank.sync(&mut b);
    assert!(again.alerts.is_empty());
    assert_eq!(b.budget(&id).limit, money("70.00 USD"));
}

#[test]
fn applying_the_same_changes_twice_changes_nothing_more() {
    let (mut bank, mut a, mut b, id) = pair();
    a.at("2026-11-23T12:05:00Z");
    a.w()
        .edit_budget(
            &id,
            &BudgetEdit {
                name: Some("Twice".into()),
                limit: Some(money("90.00 USD")),
                ..Default::default()
            },
        )
        .unwrap();
    spend(
        a.w(),
        "a1",
        "95.00 USD",
        Some("food"),
        "2026-11-23T12:05:00Z",
    );
    bank.push(&mut a);
    let (records, alerts) = bank.pull(&mut b);
    assert!(!records.is_empty() && !alerts.is_empty());
    let first = b.w().merge_remote(&records, &alerts).unwrap();
    let budget = b.budget(&id);
    let outbox = b.outbox_after(0).len();
    let sent = b.w().sent_alerts(None).unwrap();
    let second = b.w().merge_remote(&records, &alerts).unwrap();
    assert!(first.applied > 0 && first.records_changed > 0);
    assert_eq!(second.applied, 0);
    assert_eq!(second.stale as usize, records.len());
    assert_eq!(second.records_changed, 0);
    assert_eq!(second.alerts_added, 0);
    assert_eq!(second.alerts_known as usize, alerts.len());
    assert!(second.alerts.is_empty());
    assert_eq!(b.budget(&id), budget);
    assert_eq!(b.outbox_after(0).len(), outbox, "nothing new to send");
    assert_eq!(b.w().sent_alerts(None).unwrap(), sent);
}

#[test]
fn a_device_whose_clock_is_behind_still_wins_after_seeing_an_edit() {
    let (mut bank, mut a, mut b, id) = pair();
    // b's clock is an hour fast.
    b.at("2026-11-23T13:00:00Z");
    b.w()
        .edit_budget(
            &id,
            &BudgetEdit {
                name: Some("From the future".into()),
                ..Default::default()
            },
        )
        .unwrap();
    bank.sync(&mut b);
    bank.sync(&mut a);
    assert_eq!(a.budget(&id).name, "From the future");
    // a edits afterwards, by its own slow clock: the edit is still later.
    a.at("2026-11-23T12:01:00Z");
    a.w()
        .edit_budget(
            &id,
            &BudgetEdit {
                name: Some("Seen and replaced".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let stamp = updates(&a.unpushed())[0].fields["name"].hlc.clone();
    assert!(stamp.wall_ms >= at("2026-11-23T13:00:00Z") as u64);
    bank.sync(&mut a);
    bank.sync(&mut b);
    assert_eq!(b.budget(&id).name, "Seen and replaced");
    assert_eq!(a.budget(&id), b.budget(&id));
}

fn change(collection: Collection, id: &str, field: &str, value: Value) -> FieldChange {
    FieldChange {
        collection,
        record_id: id.into(),
        field: field.into(),
        value,
        hlc: Hlc::new(at("2026-11-23T12:30:00Z") as u64, 0, "remote"),
        seq: 1,
    }
}

#[test]
fn bad_remote_input_is_skipped_and_counted_and_loses_nothing() {
    let (_bank, _a, b, id) = pair();
    let before = b.budget(&id);
    let categories = b.w().categories().unwrap();
    let big = "x".repeat(9000);
    let mut bad_hlc = change(Collection::Budgets, &id, "name", json!("Clock"));
    bad_hlc.hlc.node = String::new();
    let mut huge_wall = change(Collection::Budgets, &id, "name", json!("Far"));
    huge_wall.hlc.wall_ms = u64::MAX;
    let cases: Vec<(FieldChange, RejectReason)> = vec![
        (
            change(Collection::Budgets, &id, "colour", json!("blue")),
            RejectReason::UnknownField,
        ),
        (
            change(Collection::Budgets, &id, "Name", json!("x")),
            RejectReason::UnknownField,
        ),
        (
            change(Collection::Budgets, &id, "limit_2026110", json!(1)),
            RejectReason::UnknownField,
        ),
        (
            change(Collection::Budgets, &id, "name", json!(42)),
            RejectReason::WrongType,
        ),
        (
            change(Collection::Budgets, &id, "thresholds", json!("50,80")),
            RejectReason::WrongType,
        ),
        (
            change(Collection::Budgets, &id, "thresholds", json!([-5])),
            RejectReason::InvalidValue,
        ),
        (
            change(Collection::Budgets, &id, "time_zone", json!("Mars/Olympus")),
            RejectReason::InvalidValue,
        ),
        (
            change(Collection::Budgets, &id, "limit_20261101", json!(-100)),
            RejectReason::InvalidValue,
        ),
        (
            change(Collection::Budgets, &id, "limit_20261101", json!(1.5)),
            RejectReason::InvalidValue,
        ),
        (
            change(Collection::Budgets, &id, "currency", json!("XYZ")),
            RejectReason::InvalidValue,
        ),
        (
            change(Collection::Budgets, &id, "name", json!("")),
            RejectReason::InvalidValue,
        ),
        (
            change(Collection::Budgets, &id, TOMBSTONE_FIELD, json!("yes")),
            RejectReason::WrongType,
        ),
        (
            change(Collection::Budgets, &id, "name", json!(big)),
            RejectReason::TooLarge,
        ),
        (
            change(Collection::Budgets, "bad id!", "name", json!("x")),
            RejectReason::InvalidRecordId,
        ),
        (
            change(Collection::Budgets, &"a".repeat(129), "name", json!("x")),
            RejectReason::InvalidRecordId,
        ),
        (bad_hlc, RejectReason::InvalidHlc),
        (huge_wall, RejectReason::InvalidHlc),
        (
            change(Collection::Categories, "food", "parent", json!("food")),
            RejectReason::InvalidValue,
        ),
        (
            change(Collection::Categories, "food", "parent", json!("not an id")),
            RejectReason::InvalidValue,
        ),
        (
            change(Collection::Categories, "food", "name", json!(["x"])),
            RejectReason::WrongType,
        ),
        (
            change(Collection::Notes, "abc", "note", json!("line\nbreak")),
            RejectReason::InvalidValue,
        ),
        (
            change(Collection::Notes, "abc", "category", json!(7)),
            RejectReason::WrongType,
        ),
        (
            change(Collection::Notes, "abc", TOMBSTONE_FIELD, json!(true)),
            RejectReason::UnknownField,
        ),
    ];
    let bad_alerts = vec![
        AlertRecord {
            alert: AlertKey {
                budget_id: id.clone(),
                period: "March".into(),
                threshold: 80,
            },
            device_id: "x".into(),
            sent_at_ms: 0,
            seq: 1,
        },
        AlertRecord {
            alert: AlertKey {
                budget_id: id.clone(),
                period: "2026-11-01".into(),
                threshold: 5000,
            },
            device_id: "x".into(),
            sent_at_ms: 0,
            seq: 2,
        },
        AlertRecord {
            alert: AlertKey {
                budget_id: "no spaces allowed".into(),
                period: "2026-11-01".into(),
                threshold: 80,
            },
            device_id: "x".into(),
            sent_at_ms: 0,
            seq: 3,
        },
    ];
    let good = change(Collection::Budgets, &id, "rollover", json!("surplus"));
    let mut records: Vec<FieldChange> = cases.iter().map(|(c, _)| c.clone()).collect();
    records.push(good);
    let report = b.w().merge_remote(&records, &bad_alerts).unwrap();

    let reasons: Vec<RejectReason> = report.rejected.iter().map(|r| r.reason).collect();
    // Alerts are merged first, then records in order.
    let mut expected = vec![RejectReason::InvalidAlert; 3];
    expected.extend(cases.iter().map(|(_, r)| *r));
    assert_eq!(reasons, expected, "{report:#?}");
    assert_eq!(report.applied, 1);
    assert!(report.rejected.iter().all(|r| r.record_id.len() <= 128));
    assert_eq!(report.alerts_added, 0);

    // The valid change is in; nothing else moved.
    let after = b.budget(&id);
    assert_eq!(after.rollover, wallet_core::Rollover::Surplus);
    assert_eq!(
        Budget {
            rollover: before.rollover,
            ..after
        },
        before
    );
    assert_eq!(b.w().categories().unwrap(), categories);
    assert!(b.w().sent_alerts(None).unwrap().is_empty());

    // A budget known only in part waits, and appears when complete.
    let part = change(Collection::Budgets, "partial1", "name", json!("Partial"));
    let report = b.w().merge_remote(&[part], &[]).unwrap();
    assert_eq!(report.incomplete, 1);
    assert_eq!(b.w().budgets().unwrap().len(), 1);
    let rest: Vec<FieldChange> = [
        ("currency", json!("USD")),
        ("period", json!("weekly:mon")),
        ("time_zone", json!("Europe/Paris")),
        ("rollover", json!("none")),
        ("thresholds", json!([100])),
        ("starts_on", json!("2026-11-23")),
        ("limit_20261123", json!(5000)),
    ]
    .into_iter()
    .map(|(f, v)| change(Collection::Budgets, "partial1", f, v))
    .collect();
    let report = b.w().merge_remote(&rest, &[]).unwrap();
    assert_eq!(report.records_changed, 1, "{report:?}");
    let p = b.budget("partial1");
    assert_eq!((p.name.as_str(), p.limit), ("Partial", money("50.00 USD")));
    assert_eq!(p.time_zone, "Europe/Paris");
    assert_eq!(b.w().budgets().unwrap().len(), 2);
}

#[test]
fn migrating_to_v5_gives_existing_records_clocks_and_queues_them_once() {
    // A wallet as v4 left it: budgets and categories with row stamps and no
    // per-field registers. Made by writing with this version and taking the
    // v5 parts away again.
    let mut old = Device::new("old");
    let id = old
        .w()
        .create_budget(&monthly("Travel", "300.00 USD", Some("travel"), "UTC"))
        .unwrap()
        .budget
        .id;
    old.at("2026-11-23T12:05:00Z");
    let cat = old
        .w()
        .create_category("Ski trips", Some("travel"))
        .unwrap();
    old.w().rename_category("food", "Food").unwrap();
    {
        let db = old.db();
        db.execute_batch("DROP TABLE replica_fields; DELETE FROM outbox; PRAGMA user_version = 4;")
            .unwrap();
    }
    old.f.reopen();
    assert_eq!(
        old.w().schema_version().unwrap(),
        wallet_core::testing::SCHEMA_VERSION
    );
    let ops = old.unpushed();
    let queued: Vec<(Collection, &str)> = updates(&ops)
        .iter()
        .map(|u| (u.collection, u.record_id.as_str()))
        .collect();
    assert_eq!(
        queued,
        vec![
            (Collection::Categories, "food"),
            (Collection::Categories, cat.id.as_str()),
            (Collection::Budgets, id.as_str()),
        ]
    );

    // Another device learns all of it from those operations.
    let fresh = Device::new("fresh");
    let report = fresh.w().merge_remote(&as_changes(&ops), &[]).unwrap();
    assert!(report.rejected.is_empty(), "{report:?}");
    assert_eq!(fresh.budget(&id), old.budget(&id));
    let names: Vec<String> = fresh
        .w()
        .categories()
        .unwrap()
        .into_iter()
        .map(|c| c.path)
        .collect();
    assert!(names.contains(&"Travel / Ski trips".to_string()));
    assert!(names.contains(&"Food".to_string()));

    // The migrated clocks are the rows' own: an edit made before the
    // migration still loses to a later one from elsewhere, and the old
    // device's next edit is later than its migrated stamps.
    old.at("2026-11-23T12:10:00Z");
    old.w()
        .edit_budget(
            &id,
            &BudgetEdit {
                name: Some("Trips".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let again = fresh
        .w()
        .merge_remote(&as_changes(&old.unpushed()), &[])
        .unwrap();
    assert!(again.applied >= 1);
    assert_eq!(fresh.budget(&id).name, "Trips");
}

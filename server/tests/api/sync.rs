//! The sync endpoint: exactly-once push, ordered pull with a cursor,
//! per-field LWW merge by HLC with tombstones, the alerts-sent set, card
//! and token status, and key replenishment.

use billfold_protocol::{OpOutcome, OpStatus, PrincipalKind, SyncResponse};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{for_each_backend, Device, TestServer};

fn qr_op(key: &str, amount: i64) -> serde_json::Value {
    json!({"idempotency_key": key, "op": {"type": "qr_payment",
        "amount": {"amount_minor": amount, "currency": "EUR"},
        "merchant": {"name": "Grocer", "mcc": 5411}}})
}

fn budget_op(
    key: &str,
    record: &str,
    field: &str,
    value: serde_json::Value,
    wall: u64,
    node: &str,
) -> serde_json::Value {
    json!({"idempotency_key": key, "op": {"type": "record_update", "collection": "budgets", "record_id": record,
        "fields": {field: {"value": value, "hlc": {"wall_ms": wall, "counter": 0, "node": node}}}}})
}

async fn sync(d: &Device, cursor: u64, ops: Vec<serde_json::Value>) -> SyncResponse {
    d.post("/v1/sync", &json!({"cursor": cursor, "ops": ops}))
        .await
        .parse()
}

/// Pulls until nothing is left; returns everything and the final cursor.
async fn drain(d: &Device, mut cursor: u64, limit: u32) -> (Vec<SyncResponse>, u64) {
    let mut pages = Vec::new();
    loop {
        let s: SyncResponse = d
            .post("/v1/sync", &json!({"cursor": cursor, "limit": limit}))
            .await
            .parse();
        assert!(s.cursor >= cursor, "the cursor never goes back");
        cursor = s.cursor;
        let more = s.has_more;
        pages.push(s);
        if !more {
            return (pages, cursor);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_is_exactly_once_and_pull_is_ordered() {
    for_each_backend(|storage| async move {
        let ts = TestServer::start(&storage).await;
        let phone = ts.device().await;
        let ops: Vec<_> = (0..30).map(|i| qr_op(&format!("op-{i}"), 100 + i)).collect();
        let s = sync(&phone, 0, ops.clone()).await;
        assert_eq!(s.results.len(), 30);
        assert!(s.results.iter().all(|r| r.status == OpStatus::Applied), "{:?}", s.results[0]);
        let paid: i64 = (0..30).map(|i| 100 + i).sum();
        assert_eq!(s.posted_balance.amount_minor, 250_000 - paid);
        // The opening balance and 30 payments, in the bank's order.
        assert_eq!(s.ledger.len(), 31);
        assert!(s.ledger.windows(2).all(|w| w[0].seq < w[1].seq));
        assert!(!s.has_more);

        // The response was lost: the same push again changes nothing.
        let again = sync(&phone, 0, ops.clone()).await;
        assert!(again.results.iter().all(|r| r.status == OpStatus::Duplicate));
        assert_eq!(again.results[3].outcome, s.results[3].outcome);
        assert_eq!(again.ledger, s.ledger);
        assert_eq!(again.posted_balance, s.posted_balance);

        // Paged pull from the start: every entry exactly once, in order.
        let (pages, cursor) = drain(&phone, 0, 7).await;
        assert!(pages.len() >= 5);
        let seqs: Vec<u64> = pages.iter().flat_map(|p| p.ledger.iter().map(|e| e.seq)).collect();
        let mut sorted = seqs.clone();
        sorted.dedup();
        assert_eq!(seqs, sorted);
        assert_eq!(seqs.len(), 31);
        assert_eq!(cursor, s.cursor);

        // A key reused for a different operation is rejected, alone.
        let mixed = sync(&phone, cursor, vec![qr_op("op-1", 5), qr_op("op-new", 5)]).await;
        assert_eq!(mixed.results[0].status, OpStatus::Rejected);
        assert_eq!(mixed.results[0].error.as_ref().unwrap().code, "idempotency_conflict");
        assert_eq!(mixed.results[1].status, OpStatus::Applied);
        assert_eq!(mixed.ledger.len(), 1);

        // An invalid operation is rejected without stopping the others.
        let bad = json!({"idempotency_key": "bad key with spaces", "op": {"type": "alert_sent", "budget_id": "b", "period": "p", "threshold": 80}});
        let r = sync(&phone, mixed.cursor, vec![bad, qr_op("op-after", 5)]).await;
        assert_eq!(r.results[0].status, OpStatus::Rejected);
        assert_eq!(r.results[1].status, OpStatus::Applied);

        // Garbage is a clear error.
        let r = phone.post("/v1/sync", &json!({"cursor": "zero"})).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"));
        ts.server.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_identical_syncs_apply_once() {
    for_each_backend(|storage| async move {
        let ts = TestServer::start(&storage).await;
        let phone = ts.device().await;
        let ops: Vec<_> = (0..10).map(|i| qr_op(&format!("c-{i}"), 1_000)).collect();
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let (p, o) = (phone.clone(), ops.clone());
            tasks.push(tokio::spawn(async move { sync(&p, 0, o).await }));
        }
        let mut applied = 0;
        for t in tasks {
            applied += t
                .await
                .unwrap()
                .results
                .iter()
                .filter(|r| r.status == OpStatus::Applied)
                .count();
        }
        assert_eq!(applied, 10);
        assert_eq!(phone.balance().await, 250_000 - 10_000);
        ts.server.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_converge_on_budgets_alerts_and_cards() {
    for_each_backend(|storage| async move {
        let ts = TestServer::start(&storage).await;
        let phone = ts.device().await;
        let code = phone.post("/v1/devices/link-codes", &()).await.ok()["code"].as_str().unwrap().to_string();
        let tablet = ts.enroll(PrincipalKind::Device, Some(&code)).await;
        let now = billfold_server::clock::unix_ms_now() as u64;

        // Both edit the same budget: different fields both survive; the
        // same field goes to the later HLC, whatever order they arrive in.
        let p = sync(&phone, 0, vec![
            budget_op("p1", "groceries", "limit_minor", json!(40_000), now, "phone"),
            budget_op("p2", "groceries", "name", json!("Food"), now + 5, "phone"),
        ]).await;
        let t = sync(&tablet, 0, vec![
            budget_op("t1", "groceries", "name", json!("Groceries"), now + 1, "tablet"),
            budget_op("t2", "groceries", "period", json!("monthly"), now + 2, "tablet"),
        ]).await;
        match &t.results[0].outcome {
            Some(OpOutcome::RecordUpdate(r)) => assert_eq!(r.superseded, vec!["name".to_string()]),
            o => panic!("unexpected {o:?}"),
        }
        // The tablet pulls the phone's writes (and not its own).
        let names: Vec<_> = t.records.iter().map(|r| (r.field.as_str(), r.value.clone())).collect();
        assert!(names.contains(&("limit_minor", json!(40_000))));
        assert!(names.contains(&("name", json!("Food"))));
        assert!(!names.iter().any(|(f, _)| *f == "period"));
        // The phone pulls the tablet's winning field.
        let p2 = sync(&phone, p.cursor, vec![]).await;
        assert_eq!(p2.records.len(), 1);
        assert_eq!(p2.records[0].field, "period");

        // A delete is a tombstone field, merged like the others.
        let del = json!({"idempotency_key": "del", "op": {"type": "record_update", "collection": "budgets", "record_id": "groceries",
            "fields": {"_deleted": {"value": true, "hlc": {"wall_ms": now + 10, "counter": 0, "node": "tablet"}}}}});
        let t2 = sync(&tablet, t.cursor, vec![del]).await;
        assert_eq!(t2.results[0].status, OpStatus::Applied);
        let p3 = sync(&phone, p2.cursor, vec![]).await;
        assert_eq!(p3.records[0].field, "_deleted");
        assert_eq!(p3.records[0].value, json!(true));
        // An HLC far in the future is refused.
        let r = sync(&phone, p3.cursor, vec![budget_op("fut", "x", "name", json!("x"), now + 3_600_000, "phone")]).await;
        assert_eq!(r.results[0].error.as_ref().unwrap().code, "hlc_in_future");

        // An alert fires once across devices.
        let alert = |k: &str| json!({"idempotency_key": k, "op": {"type": "alert_sent", "budget_id": "groceries", "period": "2026-03", "threshold": 80}});
        let a1 = sync(&phone, p3.cursor, vec![alert("a-phone")]).await;
        let a2 = sync(&tablet, t2.cursor, vec![alert("a-tablet")]).await;
        let first = |s: &SyncResponse| match &s.results[0].outcome {
            Some(OpOutcome::AlertSent(a)) => a.first,
            o => panic!("unexpected {o:?}"),
        };
        assert!(first(&a1));
        assert!(!first(&a2));
        assert_eq!(a2.alerts.len(), 1);
        assert_eq!(a2.alerts[0].device_id, phone.id);

        // Card status and key batches through sync.
        let card = phone.add_card(None).await;
        let freeze = json!({"idempotency_key": "fz", "op": {"type": "card_status", "card_id": card.card.card_id, "status": "frozen"}});
        let s = phone
            .post("/v1/sync", &json!({"cursor": a1.cursor, "ops": [freeze],
                "key_status": [{"token_id": card.token.token_id, "remaining": 2, "provisioned_until": 21}]}))
            .await
            .parse::<SyncResponse>();
        assert_eq!(s.key_batches.len(), 1);
        assert_eq!((s.key_batches[0].first_atc, s.key_batches[0].keys.len()), (21, 20));
        assert_eq!(s.tokens.last().unwrap().keys_issued_until, 41);
        let tab = sync(&tablet, a2.cursor, vec![]).await;
        assert_eq!(tab.cards.last().unwrap().status, billfold_protocol::CardStatus::Frozen);
        assert!(tab.key_batches.is_empty(), "keys go only to the token's device");
        assert!(!serde_json::to_string(&tab).unwrap().contains(&card.token.pan), "the feed never carries a token PAN");
        ts.server.stop().await;
    })
    .await;
}

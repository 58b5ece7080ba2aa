//! Cards, tokens and key batches.

use billfold_protocol::{CardInfo, CardList, CardStatus, KeyBatch, ProvisionedCard};
use reqwest::StatusCode;

use crate::common::{for_each_backend, TestServer};

fn luhn_ok(pan: &str) -> bool {
    let sum: u32 = pan
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisioning_tokens_and_keys() {
    for_each_backend(|storage| async move {
        let ts = TestServer::start(&storage).await;
        let phone = ts.device().await;
        let body = serde_json::json!({"pan": "4111111111111111", "expiry": "12/39", "nickname": "Everyday"});
        let r = phone.post_idem("/v1/cards", &body, "add-card-1").await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let p: ProvisionedCard = r.parse();
        assert_eq!((p.card.bin.as_str(), p.card.last4.as_str()), ("411111", "1111"));
        assert!(!r.body.to_string().contains("4111111111111111"), "the funding PAN is never echoed");
        assert_eq!(p.card.limit.amount_minor, 50_000);
        assert!(p.token.pan.starts_with("476173") && p.token.pan.len() == 16 && luhn_ok(&p.token.pan));
        assert_ne!(p.token.pan, "4111111111111111");
        assert_eq!(p.key_batch.first_atc, 1);
        assert_eq!(p.key_batch.keys.len(), 20);
        assert_eq!(p.key_batch.keys.last().unwrap().atc, 20);
        assert_eq!(p.token.keys_issued_until, 21);

        // A retry returns the same card, token and keys; a different card
        // under the same key is refused.
        let again: ProvisionedCard = phone.post_idem("/v1/cards", &body, "add-card-1").await.parse();
        assert_eq!(again, p);
        let other = serde_json::json!({"pan": "5555555555554444", "expiry": "12/39"});
        let r = phone.post_idem("/v1/cards", &other, "add-card-1").await;
        assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_conflict"));
        let list: CardList = phone.get("/v1/cards").await.parse();
        assert_eq!(list.cards.len(), 1);

        // Bad input is a typed error that never echoes the number.
        let r = phone.post_idem("/v1/cards", &serde_json::json!({"pan": "4111111111111112", "expiry": "12/39"}), "k2").await;
        assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_pan"));
        assert!(!r.body.to_string().contains("4111111111111112"));
        let r = phone.post_idem("/v1/cards", &serde_json::json!({"pan": "4111111111111111", "expiry": "13/39"}), "k3").await;
        assert_eq!(r.code(), "invalid_expiry");
        let r = phone.post_idem("/v1/cards", &serde_json::json!({"pan": 4111111111111111u64, "expiry": "12/39"}), "k4").await;
        assert_eq!(r.code(), "invalid_request");
        assert!(!r.body.to_string().contains("4111111111111111"), "{}", r.body);
        let r = phone.post("/v1/cards", &body).await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "missing_idempotency_key"));

        // Keys: nothing while the device has plenty.
        let path = format!("/v1/tokens/{}/keys", p.token.token_id);
        let b: KeyBatch = phone.post(&path, &serde_json::json!({"remaining": 20, "provisioned_until": 21})).await.parse();
        assert!(b.keys.is_empty());
        // Running low: the next batch.
        let b: KeyBatch = phone.post(&path, &serde_json::json!({"remaining": 3, "provisioned_until": 21})).await.parse();
        assert_eq!((b.first_atc, b.keys.len(), b.issued_until), (21, 20, 41));
        // The response was lost: the same keys again, not a new batch.
        let again: KeyBatch = phone.post(&path, &serde_json::json!({"remaining": 3, "provisioned_until": 21})).await.parse();
        assert_eq!(again, b);
        // Stored: the next report is satisfied.
        let none: KeyBatch = phone.post(&path, &serde_json::json!({"remaining": 23, "provisioned_until": 41})).await.parse();
        assert!(none.keys.is_empty());

        // Keys go only to the device the token was provisioned to.
        let code = phone.call(reqwest::Method::POST, "/v1/devices/link-codes", None::<&()>, None).await.ok()["code"]
            .as_str()
            .unwrap()
            .to_string();
        let tablet = ts.enroll(billfold_protocol::PrincipalKind::Device, Some(&code)).await;
        let r = tablet.post(&path, &serde_json::json!({"remaining": 0, "provisioned_until": 0})).await;
        assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "token_of_other_device"));
        // ...and to no other account at all.
        let stranger = ts.device().await;
        let r = stranger.post(&path, &serde_json::json!({"remaining": 0, "provisioned_until": 0})).await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "unknown_token"));

        // Freeze and unfreeze.
        let status_path = format!("/v1/cards/{}/status", p.card.card_id);
        let c: CardInfo = phone.post(&status_path, &serde_json::json!({"status": "frozen"})).await.parse();
        assert_eq!(c.status, CardStatus::Frozen);
        assert!(c.seq > p.card.seq);
        let again: CardInfo = phone.post(&status_path, &serde_json::json!({"status": "frozen"})).await.parse();
        assert_eq!(again.seq, c.seq, "no change, no new feed position");
        let r = stranger.post(&status_path, &serde_json::json!({"status": "active"})).await;
        assert_eq!(r.code(), "unknown_card");
        ts.server.stop().await;
    })
    .await;
}

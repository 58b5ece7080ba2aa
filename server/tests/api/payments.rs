//! QR payments: idempotent, declines recorded, conflicts refused.

use billfold_protocol::{DeclineReason, PaymentResult, PaymentStatus};
use reqwest::StatusCode;

use crate::common::{for_each_backend, TestServer};

fn qr(amount: i64) -> serde_json::Value {
    serde_json::json!({
        "amount": {"amount_minor": amount, "currency": "EUR"},
        "tip_minor": 100,
        "merchant": {"name": "Cafe Roma", "city": "Rome", "country": "IT", "mcc": 5812},
        "scheme": "sepa-qr"
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qr_payments_are_idempotent() {
    for_each_backend(|storage| async move {
        let ts = TestServer::start(&storage).await;
        let phone = ts.device().await;
        let r = phone
            .post_idem("/v1/payments/qr", &qr(1_250), "pay-1")
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let p: PaymentResult = r.parse();
        assert_eq!(p.status, PaymentStatus::Approved);
        assert_eq!(p.total.amount_minor, 1_350);
        let entry = p.entry.clone().unwrap();
        assert_eq!(entry.amount.amount_minor, -1_350);
        assert_eq!(entry.origin_key.as_deref(), Some("pay-1"));
        assert_eq!(phone.balance().await, 250_000 - 1_350);

        // Same key, same body: the same result, posted once.
        let r = phone
            .post_idem("/v1/payments/qr", &qr(1_250), "pay-1")
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.headers.get("idempotent-replayed").unwrap(), "true");
        assert_eq!(r.parse::<PaymentResult>(), p);
        assert_eq!(phone.balance().await, 250_000 - 1_350);

        // Same key, different body: refused, nothing posted.
        let r = phone
            .post_idem("/v1/payments/qr", &qr(9_999), "pay-1")
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_conflict")
        );
        assert_eq!(phone.balance().await, 250_000 - 1_350);

        // Keys are per account: another customer's "pay-1" is their own.
        let other = ts.device().await;
        let r = other.post_idem("/v1/payments/qr", &qr(500), "pay-1").await;
        assert_eq!(r.status, StatusCode::CREATED);

        // A decline is an outcome, remembered like an approval.
        let r = phone
            .post_idem("/v1/payments/qr", &qr(10_000_000), "pay-2")
            .await;
        let d: PaymentResult = r.parse();
        assert_eq!(
            (d.status, d.decline_reason),
            (
                PaymentStatus::Declined,
                Some(DeclineReason::InsufficientFunds)
            )
        );
        assert!(d.entry.is_none());
        assert_eq!(
            phone
                .post_idem("/v1/payments/qr", &qr(10_000_000), "pay-2")
                .await
                .parse::<PaymentResult>(),
            d
        );

        // Invalid requests are errors, not recorded: corrected, they go through.
        let mut bad = qr(100);
        bad["amount"]["amount_minor"] = serde_json::json!(-5);
        let r = phone.post_idem("/v1/payments/qr", &bad, "pay-3").await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_amount")
        );
        assert_eq!(
            phone
                .post_idem("/v1/payments/qr", &qr(100), "pay-3")
                .await
                .status,
            StatusCode::CREATED
        );
        let mut usd = qr(100);
        usd["amount"]["currency"] = serde_json::json!("USD");
        let d: PaymentResult = phone
            .post_idem("/v1/payments/qr", &usd, "pay-4")
            .await
            .parse();
        assert_eq!(d.decline_reason, Some(DeclineReason::CurrencyNotSupported));

        // A frozen card cannot pay; over its limit neither.
        let card = phone.add_card(Some(5_000)).await;
        let mut with_card = qr(6_000);
        with_card["card_id"] = serde_json::json!(card.card.card_id);
        let d: PaymentResult = phone
            .post_idem("/v1/payments/qr", &with_card, "pay-5")
            .await
            .parse();
        assert_eq!(d.decline_reason, Some(DeclineReason::LimitExceeded));
        phone
            .post(
                &format!("/v1/cards/{}/status", card.card.card_id),
                &serde_json::json!({"status": "frozen"}),
            )
            .await
            .ok();
        with_card["amount"]["amount_minor"] = serde_json::json!(100);
        let d: PaymentResult = phone
            .post_idem("/v1/payments/qr", &with_card, "pay-6")
            .await
            .parse();
        assert_eq!(d.decline_reason, Some(DeclineReason::CardFrozen));
        ts.server.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_retries_post_once() {
    for_each_backend(|storage| async move {
        let ts = TestServer::start(&storage).await;
        let phone = ts.device().await;
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let p = phone.clone();
            tasks.push(tokio::spawn(async move {
                p.post_idem("/v1/payments/qr", &qr(1_000), "race-1").await
            }));
        }
        let mut created = 0;
        let mut ids = std::collections::HashSet::new();
        for t in tasks {
            let r = t.await.unwrap();
            if r.status == StatusCode::CREATED {
                created += 1;
            }
            ids.insert(r.parse::<PaymentResult>().payment_id);
        }
        assert_eq!(created, 1, "exactly one request applied the payment");
        assert_eq!(ids.len(), 1, "every retry got the same payment");
        assert_eq!(phone.balance().await, 250_000 - 1_100);
        ts.server.stop().await;
    })
    .await;
}

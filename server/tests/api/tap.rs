//! Tap authorization: a real card application and reader kernel produce
//! the ARQC, the terminal forwards it, the bank verifies it and answers
//! with an ARPC the card's key can check.

use billfold_protocol::{AuthorizationResult, DeclineReason, SyncResponse};
use emv::crypto::{arpc_method1, Profile, SessionKey};
use reqwest::StatusCode;

use crate::common::{for_each_backend, Phone, TestServer};

fn auth_body(pan: &str, psn: Option<u8>, c: &billfold_protocol::Cryptogram) -> serde_json::Value {
    serde_json::json!({"pan": pan, "psn": psn, "cryptogram": c})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_happy_path_and_declines() {
    for_each_backend(|storage| async move {
        let ts = TestServer::start(&storage).await;
        let phone = ts.device().await;
        let pos = ts.terminal().await;
        let card = phone.add_card(Some(20_000)).await;
        let mut handset = Phone::new(&card);
        let first_key = card.key_batch.keys[0].clone();

        // Approved: ARPC over "00" with the tap's session key; entry posted.
        let (pan, psn, c) = handset.tap(1_234, "CAFE ROMA ROME");
        assert_eq!(pan, card.token.pan);
        let r = pos
            .post("/v1/authorizations", &auth_body(&pan, psn, &c))
            .await;
        let a: AuthorizationResult = r.parse();
        assert!(a.approved, "{a:?}");
        assert_eq!(a.response_code, "00");
        assert_eq!(a.amount.as_ref().unwrap().amount_minor, 1_234);
        assert_eq!(a.amount.as_ref().unwrap().currency, "EUR");
        assert_eq!(a.merchant.as_ref().unwrap().mcc, Some(5812));
        assert!(
            a.entry_id.is_none(),
            "terminals do not see the customer's ledger"
        );
        let sk =
            SessionKey::from_slice(Profile::Aes, &hex::decode(&first_key.key).unwrap()).unwrap();
        let arqc: [u8; 8] = hex::decode(&c.ac).unwrap().try_into().unwrap();
        assert_eq!(
            a.arpc.as_deref().unwrap(),
            hex::encode_upper(arpc_method1(&sk, &arqc, *b"00"))
        );
        assert_eq!(phone.balance().await, 250_000 - 1_234);

        // The terminal retries (timeout): same answer, posted once.
        let again: AuthorizationResult = pos
            .post("/v1/authorizations", &auth_body(&pan, psn, &c))
            .await
            .parse();
        assert_eq!(again, a);
        assert_eq!(phone.balance().await, 250_000 - 1_234);

        // A cloned card reusing a spent key and ATC: a valid ARQC over other
        // data, refused as a replay.
        let mut clone = Phone::new(&card);
        let (_, _, replay) = clone.tap(99, "ELSEWHERE");
        assert_eq!(replay.atc, c.atc);
        let d: AuthorizationResult = pos
            .post("/v1/authorizations", &auth_body(&pan, psn, &replay))
            .await
            .parse();
        assert_eq!(
            (d.approved, d.decline_reason),
            (false, Some(DeclineReason::ReplayedAtc))
        );
        assert!(d.arpc.is_none());

        // A tampered cryptogram (amount changed in transit).
        let (_, _, mut t) = handset.tap(500, "SHOP");
        t.cdol1_data.replace_range(10..12, "99");
        let d: AuthorizationResult = pos
            .post("/v1/authorizations", &auth_body(&pan, psn, &t))
            .await
            .parse();
        assert_eq!(d.decline_reason, Some(DeclineReason::CryptogramInvalid));
        assert_eq!(d.response_code, "63");

        // Over the card's limit: declined with an ARPC over "61".
        let (_, _, c2) = handset.tap(25_000, "TV STORE");
        let d: AuthorizationResult = pos
            .post("/v1/authorizations", &auth_body(&pan, psn, &c2))
            .await
            .parse();
        assert_eq!(
            (d.decline_reason, d.response_code.as_str()),
            (Some(DeclineReason::LimitExceeded), "61")
        );
        assert!(d.arpc.is_some());

        // Another currency: no FX here.
        let (_, _, c3) = handset.tap_in(100, 840, "NYC DELI");
        let d: AuthorizationResult = pos
            .post("/v1/authorizations", &auth_body(&pan, psn, &c3))
            .await
            .parse();
        assert_eq!(d.decline_reason, Some(DeclineReason::CurrencyNotSupported));

        // Frozen card.
        phone
            .post(
                &format!("/v1/cards/{}/status", card.card.card_id),
                &serde_json::json!({"status": "frozen"}),
            )
            .await
            .ok();
        let (_, _, c4) = handset.tap(100, "BAKERY");
        let d: AuthorizationResult = pos
            .post("/v1/authorizations", &auth_body(&pan, psn, &c4))
            .await
            .parse();
        assert_eq!(
            (d.decline_reason, d.response_code.as_str()),
            (Some(DeclineReason::CardFrozen), "62")
        );
        phone
            .post(
                &format!("/v1/cards/{}/status", card.card.card_id),
                &serde_json::json!({"status": "active"}),
            )
            .await
            .ok();

        // Insufficient funds.
        let big = phone.add_card(Some(10_000_000)).await;
        let mut rich = Phone::new(&big);
        let (bpan, bpsn, c5) = rich.tap(900_000, "CAR DEALER");
        let d: AuthorizationResult = pos
            .post("/v1/authorizations", &auth_body(&bpan, bpsn, &c5))
            .await
            .parse();
        assert_eq!(
            (d.decline_reason, d.response_code.as_str()),
            (Some(DeclineReason::InsufficientFunds), "51")
        );

        // Unknown card; malformed request; a phone may not authorise.
        let d: AuthorizationResult = pos
            .post(
                "/v1/authorizations",
                &auth_body("4761739999999999", psn, &c),
            )
            .await
            .parse();
        assert_eq!(
            (d.decline_reason, d.response_code.as_str()),
            (Some(DeclineReason::UnknownCard), "14")
        );
        let mut bad = c.clone();
        bad.ac = "zz".into();
        let r = pos
            .post("/v1/authorizations", &auth_body(&pan, psn, &bad))
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_cryptogram")
        );
        let r = phone
            .post("/v1/authorizations", &auth_body(&pan, psn, &c))
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::FORBIDDEN, "terminal_only")
        );

        assert_eq!(
            phone.balance().await,
            250_000 - 1_234,
            "only the approved tap was posted"
        );
        ts.server.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_phones_tap_record_links_or_posts_once() {
    for_each_backend(|storage| async move {
        let ts = TestServer::start(&storage).await;
        let phone = ts.device().await;
        let pos = ts.terminal().await;
        let card = phone.add_card(None).await;
        let mut handset = Phone::new(&card);
        let token_id = card.token.token_id.clone();

        // Online tap: the terminal authorises; the phone's record links to it.
        let (pan, psn, online) = handset.tap(700, "KIOSK");
        let a: AuthorizationResult = pos.post("/v1/authorizations", &auth_body(&pan, psn, &online)).await.parse();
        assert!(a.approved);
        // Offline tap: the terminal never reached the bank.
        let (_, _, offline) = handset.tap(300, "MARKET STALL");

        let sync = |cursor: u64| {
            serde_json::json!({
                "cursor": cursor,
                "ops": [
                    {"idempotency_key": "tap-1", "op": {"type": "tap", "token_id": token_id, "cryptogram": online}},
                    {"idempotency_key": "tap-2", "op": {"type": "tap", "token_id": token_id, "cryptogram": offline}},
                ]
            })
        };
        let s: SyncResponse = phone.post("/v1/sync", &sync(0)).await.parse();
        let outcome = |i: usize| match s.results[i].outcome.clone().unwrap() {
            billfold_protocol::OpOutcome::Tap(a) => a,
            o => panic!("unexpected {o:?}"),
        };
        assert_eq!(outcome(0).authorization_id, a.authorization_id, "linked, not re-authorised");
        assert!(outcome(0).entry_id.is_some());
        assert!(outcome(1).approved);
        let taps: Vec<_> = s.ledger.iter().filter(|e| e.token_id.as_deref() == Some(&token_id)).collect();
        assert_eq!(taps.len(), 2);
        assert_eq!(taps[0].atc, Some(online.atc));
        assert_eq!(taps[1].origin_key.as_deref(), Some("tap-2"));
        assert_eq!(s.posted_balance.amount_minor, 250_000 - 1_000);

        // Retried: duplicates, nothing posted again.
        let s2: SyncResponse = phone.post("/v1/sync", &sync(s.cursor)).await.parse();
        assert!(s2.results.iter().all(|r| r.status == billfold_protocol::OpStatus::Duplicate));
        assert!(s2.ledger.is_empty());
        assert_eq!(s2.posted_balance.amount_minor, 250_000 - 1_000);
        ts.server.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_master_key_lets_an_independent_issuer_verify() {
    for_each_backend(|storage| async move {
        let imk = [0x42u8; 16];
        let ts = TestServer::start_with(&storage, |c| c.issuer_master_key = Some(imk), None).await;
        let phone = ts.device().await;
        let card = phone.add_card(None).await;
        let mut handset = Phone::new(&card);
        let (pan, psn, c) = handset.tap(100, "SHOP");
        // An issuer built only from the configured key verifies the tap.
        let issuer = emv::issuer::Issuer::new()
            .with_key(1, emv::crypto::IssuerMasterKey::new(Profile::Aes, imk));
        let data = emv::crypto::CryptogramData {
            kind: emv::crypto::CryptogramKind::Arqc,
            atc: c.atc,
            aip: hex::decode(&c.aip).unwrap().try_into().unwrap(),
            cdol1_data: hex::decode(&c.cdol1_data).unwrap(),
            iad: hex::decode(&c.iad).unwrap(),
            ac: hex::decode(&c.ac).unwrap().try_into().unwrap(),
        };
        let mut atcs = emv::issuer::AtcRecord::new();
        issuer
            .verify_arqc(&pan, psn.unwrap_or(0), &data, &mut atcs)
            .expect("verifies with the configured key");
        ts.server.stop().await;
    })
    .await;
}

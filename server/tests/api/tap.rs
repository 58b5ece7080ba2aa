//! Tap authorization: a real card application and reader kernel produce
//! the ARQC, the terminal forwards it, the bank verifies it and answers
//! with an ARPC the card's key can check.

use billfold_protocol::{
    AuthorizationResult, Cryptogram, CryptogramKind, DeclineReason, LedgerEntry, OpOutcome,
    OpResult, OpStatus, SyncResponse, TapOutcome,
};
use emv::crypto::{arpc_method1, Profile, SessionKey};
use reqwest::StatusCode;

use crate::common::{for_each_backend, Device, Phone, TestServer};

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

fn tap_op(key: &str, token_id: &str, c: &Cryptogram) -> serde_json::Value {
    serde_json::json!({"idempotency_key": key, "op": {"type": "tap", "token_id": token_id, "cryptogram": c}})
}

async fn push(phone: &Device, cursor: u64, ops: Vec<serde_json::Value>) -> SyncResponse {
    phone
        .post(
            "/v1/sync",
            &serde_json::json!({"cursor": cursor, "ops": ops}),
        )
        .await
        .parse()
}

#[track_caller]
fn tap_outcome(r: &OpResult) -> TapOutcome {
    match r.outcome.clone() {
        Some(OpOutcome::Tap(t)) => t,
        o => panic!("not a tap outcome: {o:?} ({:?})", r.error),
    }
}

/// Card payments in a pull for this token.
fn card_entries<'a>(s: &'a SyncResponse, token_id: &str) -> Vec<&'a LedgerEntry> {
    s.ledger
        .iter()
        .filter(|e| e.token_id.as_deref() == Some(token_id))
        .collect()
}

/// The phone recorded a tap whose answer may never have reached the
/// terminal: its report charges nothing, and only the terminal's
/// authorization posts, once, carrying the report's key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tap_report_charges_nothing_until_the_terminal_authorises() {
    for_each_backend(|storage| async move {
        let ts = TestServer::start(&storage).await;
        let phone = ts.device().await;
        let pos = ts.terminal().await;
        let card = phone.add_card(None).await;
        let mut handset = Phone::new(&card);
        let token_id = card.token.token_id.clone();
        let (pan, psn, c) = handset.tap(300, "MARKET STALL");

        // The report alone: kept, nothing posted, balance unchanged.
        let s = push(&phone, 0, vec![tap_op("tap-a", &token_id, &c)]).await;
        assert_eq!(s.results[0].status, OpStatus::Applied, "{:?}", s.results[0]);
        let awaiting = match tap_outcome(&s.results[0]) {
            TapOutcome::AwaitingTerminal(a) => a,
            o => panic!("{o:?}"),
        };
        assert_eq!(
            (
                awaiting.token_id.as_str(),
                awaiting.atc,
                awaiting.origin_key.as_str()
            ),
            (token_id.as_str(), c.atc, "tap-a")
        );
        assert!(card_entries(&s, &token_id).is_empty());
        assert_eq!(s.posted_balance.amount_minor, 250_000);
        assert_eq!(phone.balance().await, 250_000);

        // Retried (the answer was lost): a duplicate with the same outcome.
        let s2 = push(&phone, s.cursor, vec![tap_op("tap-a", &token_id, &c)]).await;
        assert_eq!(s2.results[0].status, OpStatus::Duplicate);
        assert_eq!(s2.results[0].outcome, s.results[0].outcome);
        assert!(s2.ledger.is_empty());
        // The same tap under another key keeps the first report's key.
        let s3 = push(
            &phone,
            s.cursor,
            vec![tap_op("tap-a-rebuilt", &token_id, &c)],
        )
        .await;
        assert_eq!(s3.results[0].status, OpStatus::Applied);
        assert_eq!(
            tap_outcome(&s3.results[0]),
            TapOutcome::AwaitingTerminal(awaiting.clone())
        );
        assert_eq!(phone.balance().await, 250_000);

        // The terminal's authorization arrives (deferred): the report did
        // not spend the ATC, and the entry carries the report's key.
        let a: AuthorizationResult = pos
            .post("/v1/authorizations", &auth_body(&pan, psn, &c))
            .await
            .parse();
        assert!(a.approved, "{a:?}");
        assert_eq!(phone.balance().await, 250_000 - 300);
        let s4 = push(&phone, s.cursor, vec![]).await;
        let posted = card_entries(&s4, &token_id);
        assert_eq!(posted.len(), 1);
        assert_eq!(posted[0].origin_key.as_deref(), Some("tap-a"));
        assert_eq!(posted[0].atc, Some(c.atc));
        assert_eq!(posted[0].amount.amount_minor, -300);
        assert_eq!(posted[0].authorization_id, a.authorization_id);

        // Everything again: the report is a duplicate, the terminal's retry
        // gets the same answer, and nothing is posted twice.
        let s5 = push(&phone, s4.cursor, vec![tap_op("tap-a", &token_id, &c)]).await;
        assert_eq!(s5.results[0].status, OpStatus::Duplicate);
        assert!(s5.ledger.is_empty());
        let again: AuthorizationResult = pos
            .post("/v1/authorizations", &auth_body(&pan, psn, &c))
            .await
            .parse();
        assert_eq!(again, a);
        assert_eq!(phone.balance().await, 250_000 - 300);
        let all = push(&phone, 0, vec![]).await;
        assert_eq!(
            card_entries(&all, &token_id).len(),
            1,
            "posted exactly once"
        );
        ts.server.stop().await;
    })
    .await;
}

/// The terminal was first: the report links to its authorization and gets
/// the very same result, with the entry it posted; nothing is posted twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tap_report_after_the_terminal_links_to_its_authorization() {
    for_each_backend(|storage| async move {
        let ts = TestServer::start(&storage).await;
        let phone = ts.device().await;
        let pos = ts.terminal().await;
        let card = phone.add_card(Some(20_000)).await;
        let mut handset = Phone::new(&card);
        let token_id = card.token.token_id.clone();

        let (pan, psn, online) = handset.tap(700, "KIOSK");
        let a: AuthorizationResult = pos
            .post("/v1/authorizations", &auth_body(&pan, psn, &online))
            .await
            .parse();
        assert!(a.approved);
        // Declined by the bank: the report learns it too.
        let (_, _, over) = handset.tap(25_000, "TV STORE");
        let d: AuthorizationResult = pos
            .post("/v1/authorizations", &auth_body(&pan, psn, &over))
            .await
            .parse();
        assert_eq!(d.decline_reason, Some(DeclineReason::LimitExceeded));
        let before = push(&phone, 0, vec![]).await;
        assert_eq!(card_entries(&before, &token_id).len(), 1);

        let ops = vec![
            tap_op("tap-1", &token_id, &online),
            tap_op("tap-2", &token_id, &over),
        ];
        let s = push(&phone, before.cursor, ops.clone()).await;
        let linked = match tap_outcome(&s.results[0]) {
            TapOutcome::Decided(r) => r,
            o => panic!("{o:?}"),
        };
        let entry_id = linked.entry_id.clone().expect("the phone sees its entry");
        assert_eq!(
            AuthorizationResult {
                entry_id: None,
                ..linked
            },
            a,
            "the terminal's very answer"
        );
        assert_eq!(
            card_entries(&before, &token_id)[0].entry_id,
            entry_id,
            "the entry the terminal's authorization posted"
        );
        assert_eq!(
            tap_outcome(&s.results[1]),
            TapOutcome::Decided(d.clone()),
            "a decline has no entry"
        );
        assert!(s.ledger.is_empty(), "nothing posted by the reports");
        assert_eq!(s.posted_balance.amount_minor, 250_000 - 700);

        // Retried: duplicates, still nothing posted.
        let s2 = push(&phone, s.cursor, ops).await;
        assert!(s2.results.iter().all(|r| r.status == OpStatus::Duplicate));
        assert!(s2.ledger.is_empty());
        assert_eq!(s2.posted_balance.amount_minor, 250_000 - 700);
        ts.server.stop().await;
    })
    .await;
}

/// Reports no terminal could ever be charged for are decided at once (so
/// the phone drops its hold) and kept nowhere; bad input is refused and not
/// remembered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tap_reports_that_cannot_be_charged_are_decided_at_once() {
    for_each_backend(|storage| async move {
        let ts = TestServer::start(&storage).await;
        let phone = ts.device().await;
        let pos = ts.terminal().await;
        let card = phone.add_card(None).await;
        let mut handset = Phone::new(&card);
        let token_id = card.token.token_id.clone();

        // Tampered in the phone's store: it does not verify.
        let (pan, psn, genuine) = handset.tap(400, "SHOP");
        let mut forged = genuine.clone();
        forged.cdol1_data.replace_range(10..12, "99");
        // Not a cryptogram at all: refused, and not remembered under its key.
        let mut garbled = genuine.clone();
        garbled.ac = "zz".into();
        let s = push(
            &phone,
            0,
            vec![
                tap_op("tap-forged", &token_id, &forged),
                tap_op("tap-garbled", &token_id, &garbled),
                tap_op("tap-unknown", "tok_nope", &genuine),
            ],
        )
        .await;
        match tap_outcome(&s.results[0]) {
            TapOutcome::Decided(r) => {
                assert_eq!(r.decline_reason, Some(DeclineReason::CryptogramInvalid));
                assert!(!r.approved && r.authorization_id.is_none() && r.entry_id.is_none());
            }
            o => panic!("{o:?}"),
        }
        assert_eq!(s.results[1].status, OpStatus::Rejected);
        assert_eq!(
            s.results[1].error.as_ref().unwrap().code,
            "invalid_cryptogram"
        );
        assert_eq!(s.results[2].status, OpStatus::Rejected);
        assert_eq!(s.results[2].error.as_ref().unwrap().code, "unknown_token");
        let corrected = push(
            &phone,
            s.cursor,
            vec![tap_op("tap-garbled", &token_id, &genuine)],
        )
        .await;
        assert_eq!(corrected.results[0].status, OpStatus::Applied);
        assert!(matches!(
            tap_outcome(&corrected.results[0]),
            TapOutcome::AwaitingTerminal(ref w) if w.origin_key == "tap-garbled"
        ));

        // The genuine cryptogram still authorises, carrying the key of the
        // report that verified, never the forged one's.
        let a: AuthorizationResult = pos
            .post("/v1/authorizations", &auth_body(&pan, psn, &genuine))
            .await
            .parse();
        assert!(a.approved);
        let pulled = push(&phone, corrected.cursor, vec![]).await;
        let posted = card_entries(&pulled, &token_id);
        assert_eq!(posted.len(), 1);
        assert_eq!(posted[0].origin_key.as_deref(), Some("tap-garbled"));

        // A card decline (AAC) never goes online: decided, nothing kept.
        let (_, _, mut aac) = handset.tap(100, "SHOP");
        aac.kind = CryptogramKind::Aac;
        let s = push(
            &phone,
            pulled.cursor,
            vec![tap_op("tap-aac", &token_id, &aac)],
        )
        .await;
        assert!(matches!(
            tap_outcome(&s.results[0]),
            TapOutcome::Decided(ref r) if r.decline_reason == Some(DeclineReason::CardDeclined)
        ));
        assert_eq!(phone.balance().await, 250_000 - 400);
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

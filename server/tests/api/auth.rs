//! Enrollment and signed requests: bad signatures, tampered bodies,
//! stale timestamps and replays are refused with clear JSON errors.

use billfold_protocol::signing::{self, ENROLL_DEVICE_ID, HEADER_SIGNATURE};
use billfold_protocol::{AccountSummary, LinkCode, PrincipalKind};
use billfold_server::ManualClock;
use reqwest::{Method, StatusCode};
use ring::rand::SystemRandom;

use crate::common::{for_each_backend, new_key, Device, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrollment_and_accounts() {
    for_each_backend(|storage| async move {
        let ts = TestServer::start(&storage).await;
        let phone = ts.device().await;
        let account: AccountSummary = phone.get("/v1/account").await.parse();
        assert_eq!(account.currency, "EUR");
        assert_eq!(account.posted_balance.amount_minor, 250_000, "{}", storage.name);
        assert_eq!(Some(&account.account_id), phone.account_id.as_ref());

        // A second device joins with a single-use link code.
        let code: LinkCode = phone.call(Method::POST, "/v1/devices/link-codes", None::<&()>, None).await.parse();
        let tablet = ts.enroll(PrincipalKind::Device, Some(&code.code)).await;
        assert_eq!(tablet.account_id, phone.account_id);
        assert_eq!(tablet.balance().await, 250_000, "joining does not credit again");

        // The code is used up.
        let key = new_key();
        let body = serde_json::json!({"kind": "device", "public_key": signing::public_key_b64(&key), "name": "x", "link_code": code.code});
        let r = enroll_raw(&ts, &key, &body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.code(), "invalid_link_code");

        // A terminal has no account and may not act for one.
        let pos = ts.terminal().await;
        assert!(pos.account_id.is_none());
        let r = pos.get("/v1/account").await;
        assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "device_only"));

        // The same key cannot enroll twice.
        let key = new_key();
        let body = serde_json::json!({"kind": "device", "public_key": signing::public_key_b64(&key), "name": "a"});
        assert_eq!(enroll_raw(&ts, &key, &body).await.status, StatusCode::CREATED);
        let r = enroll_raw(&ts, &key, &body).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "already_enrolled"));

        // Enrollment must be signed by the key being enrolled.
        let other = new_key();
        let body = serde_json::json!({"kind": "device", "public_key": signing::public_key_b64(&new_key()), "name": "b"});
        let r = enroll_raw(&ts, &other, &body).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "bad_signature"));

        let h = ts.http.get(format!("{}/v1/health", ts.base)).send().await.unwrap();
        assert_eq!(h.status(), StatusCode::OK);
        let h: serde_json::Value = h.json().await.unwrap();
        assert_eq!(h["backend"], storage.name);
        ts.server.stop().await;
    })
    .await;
}

async fn enroll_raw(
    ts: &TestServer,
    key: &ring::signature::Ed25519KeyPair,
    body: &serde_json::Value,
) -> crate::common::Resp {
    let bytes = serde_json::to_vec(body).unwrap();
    let nonce = signing::new_nonce(&SystemRandom::new()).unwrap();
    let h = signing::sign_request(
        key,
        ENROLL_DEVICE_ID,
        "POST",
        "/v1/enroll",
        &bytes,
        ts.now_s(),
        &nonce,
    );
    let d = Device {
        key: std::sync::Arc::new(new_key()),
        id: "unused".into(),
        account_id: None,
        http: ts.http.clone(),
        base: ts.base.clone(),
        clock: None,
    };
    d.raw(Method::POST, "/v1/enroll", bytes, &h.pairs()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signature_failures_are_clear_errors() {
    for_each_backend(|storage| async move {
        let ts = TestServer::start(&storage).await;
        let phone = ts.device().await;

        // No signature at all.
        let r = phone.raw(Method::GET, "/v1/account", Vec::new(), &[]).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNAUTHORIZED, "missing_auth_header")
        );
        assert!(r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("x-billfold-device"));

        // Signed by another key.
        let mut h = phone.sign("GET", "/v1/account", b"");
        let impostor = Device {
            key: std::sync::Arc::new(new_key()),
            ..phone.clone()
        };
        let forged = impostor.sign("GET", "/v1/account", b"");
        for (k, v) in h.iter_mut() {
            if *k == HEADER_SIGNATURE {
                *v = forged
                    .iter()
                    .find(|(n, _)| *n == HEADER_SIGNATURE)
                    .unwrap()
                    .1
                    .clone();
            }
        }
        let r = phone.raw(Method::GET, "/v1/account", Vec::new(), &h).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNAUTHORIZED, "bad_signature")
        );

        // Signed for one path, sent to another.
        let h = phone.sign("GET", "/v1/cards", b"");
        let r = phone.raw(Method::GET, "/v1/account", Vec::new(), &h).await;
        assert_eq!(r.code(), "bad_signature");

        // The body was changed after signing.
        let body = br#"{"status":"frozen"}"#.to_vec();
        let h = phone.sign("POST", "/v1/sync", br#"{"cursor":0}"#);
        let r = phone.raw(Method::POST, "/v1/sync", body, &h).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "body_hash_mismatch")
        );

        // Unknown device.
        let stranger = Device {
            id: "dev_00000000000000000000000000000000".into(),
            ..phone.clone()
        };
        let r = stranger.get("/v1/account").await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNAUTHORIZED, "unknown_device")
        );

        // Malformed header values.
        let mut h = phone.sign("GET", "/v1/account", b"");
        h.retain(|(k, _)| *k != "x-billfold-timestamp");
        h.push(("x-billfold-timestamp", "-5".into()));
        let r = phone.raw(Method::GET, "/v1/account", Vec::new(), &h).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "malformed_auth_header")
        );

        // A replay of a good request.
        let h = phone.sign("GET", "/v1/account", b"");
        assert_eq!(
            phone
                .raw(Method::GET, "/v1/account", Vec::new(), &h)
                .await
                .status,
            StatusCode::OK
        );
        let r = phone.raw(Method::GET, "/v1/account", Vec::new(), &h).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNAUTHORIZED, "replayed_nonce")
        );

        // Unknown routes and methods answer in the same JSON shape.
        let r = phone.get("/v1/nope").await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
        let r = phone
            .call(Method::DELETE, "/v1/sync", None::<&()>, None)
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
        );
        ts.server.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timestamps_are_checked_against_the_servers_clock() {
    for_each_backend(|storage| async move {
        let server_clock = ManualClock::new(1_800_000_000_000);
        let ts = TestServer::start_with(&storage, |_| {}, Some(server_clock.clone())).await;
        let phone = ts.device().await;
        // The device's own clock, moved independently of the server's.
        let device_clock = ManualClock::new(1_800_000_000_000);
        let phone = Device {
            clock: Some(device_clock.clone()),
            ..phone
        };
        for (skew_s, ok) in [
            (-300, true),
            (300, true),
            (-301, false),
            (301, false),
            (-3600, false),
        ] {
            device_clock.set(1_800_000_000_000 + skew_s * 1000);
            let r = phone.get("/v1/account").await;
            if ok {
                assert_eq!(r.status, StatusCode::OK, "skew {skew_s}: {}", r.body);
            } else {
                assert_eq!(
                    (r.status, r.code()),
                    (StatusCode::UNAUTHORIZED, "stale_timestamp"),
                    "skew {skew_s}"
                );
            }
        }
        // A request captured now and replayed after the window is stale,
        // even once its nonce has been pruned.
        device_clock.set(1_800_000_000_000);
        let h = phone.sign("GET", "/v1/account", b"");
        assert_eq!(
            phone
                .raw(Method::GET, "/v1/account", Vec::new(), &h)
                .await
                .status,
            StatusCode::OK
        );
        server_clock.advance_ms(11 * 60 * 1000);
        let r = phone.raw(Method::GET, "/v1/account", Vec::new(), &h).await;
        assert_eq!(r.code(), "stale_timestamp");
        ts.server.stop().await;
    })
    .await;
}

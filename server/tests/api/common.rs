//! Shared test support: a real server on 127.0.0.1:0 for each storage
//! backend, enrolled devices and terminals that sign their requests with
//! the protocol crate, and a phone that taps with the EMV card
//! application and its provisioned keys.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;

use billfold_protocol::signing::{self, ENROLL_DEVICE_ID, HEADER_IDEMPOTENCY_KEY};
use billfold_protocol::{
    Cryptogram, CryptogramKind, EnrollResponse, PrincipalKind, ProvisionedCard,
};
use billfold_server::{Clock, Config, ManualClock, Server, Storage, SystemClock};
use emv::card::{CardApp, CardBackend, Decline, Expiry, Token, TxnDate};
use emv::crypto::{Profile, SessionKey};
use emv::kernel::{self, TerminalParams};
use reqwest::{Method, StatusCode};
use ring::rand::SystemRandom;
use ring::signature::Ed25519KeyPair;
use serde::Serialize;
use serde_json::Value;

pub const PG_ENV: &str = "BILLFOLD_TEST_POSTGRES_URL";

/// A storage backend for one test, cleaned up when dropped.
pub struct TestStorage {
    pub name: &'static str,
    pub storage: Storage,
    _dir: Option<tempfile::TempDir>,
}

impl TestStorage {
    /// SQLite in a fresh temporary directory.
    pub fn sqlite() -> TestStorage {
        let dir = tempfile::tempdir().unwrap();
        TestStorage {
            name: "sqlite",
            storage: Storage::Sqlite {
                data_dir: dir.path().to_path_buf(),
            },
            _dir: Some(dir),
        }
    }
}

/// Runs `test` once per backend: SQLite always, PostgreSQL when
/// `BILLFOLD_TEST_POSTGRES_URL` is set (`make test` sets it), each in a
/// fresh database (PostgreSQL: a fresh schema).
pub async fn for_each_backend<F, Fut>(test: F)
where
    F: Fn(TestStorage) -> Fut,
    Fut: Future<Output = ()>,
{
    test(TestStorage::sqlite()).await;
    match postgres_storage().await {
        Some(s) => test(s).await,
        None => {
            // Straight to the process's stderr: the test harness captures
            // `eprintln!` of passing tests, and this must be seen.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "\n*** {PG_ENV} is not set: the PostgreSQL half of this test was SKIPPED. ***\n\
                 *** Run `make test` or `scripts/with-postgres.sh cargo test -p billfold-server`. ***\n"
            );
        }
    }
}

/// A fresh schema in the test database.
pub async fn postgres_storage() -> Option<TestStorage> {
    let base = std::env::var(PG_ENV).ok().filter(|s| !s.is_empty())?;
    let (client, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .expect("cannot connect to the test PostgreSQL");
    tokio::spawn(conn);
    let mut b = [0u8; 8];
    ring::rand::SecureRandom::fill(&SystemRandom::new(), &mut b).unwrap();
    let schema = format!("t_{}", hex::encode(b));
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(TestStorage {
        name: "postgres",
        storage: Storage::Postgres {
            url: format!("{base}{sep}options=-c%20search_path%3D{schema}"),
        },
        _dir: None,
    })
}

pub struct TestServer {
    pub server: Server,
    pub http: reqwest::Client,
    pub base: String,
    pub clock: Option<ManualClock>,
    pub backend: &'static str,
}

impl TestServer {
    pub async fn start(storage: &TestStorage) -> TestServer {
        Self::start_with(storage, |_| {}, None).await
    }

    pub async fn start_with(
        storage: &TestStorage,
        tweak: impl FnOnce(&mut Config),
        clock: Option<ManualClock>,
    ) -> TestServer {
        let mut cfg = Config::for_tests(storage.storage.clone());
        tweak(&mut cfg);
        let c: Arc<dyn Clock> = match &clock {
            Some(c) => Arc::new(c.clone()),
            None => Arc::new(SystemClock),
        };
        let server = billfold_server::start(cfg, c).await.expect("server starts");
        let base = server.url();
        assert!(server.addr().ip().is_loopback());
        TestServer {
            backend: server.backend(),
            server,
            http: reqwest::Client::builder().build().unwrap(),
            base,
            clock,
        }
    }

    /// Seconds on the server's clock.
    pub fn now_s(&self) -> i64 {
        match &self.clock {
            Some(c) => c.now_ms().div_euclid(1000),
            None => billfold_server::clock::unix_ms_now() / 1000,
        }
    }

    pub async fn enroll(&self, kind: PrincipalKind, link_code: Option<&str>) -> Device {
        let key = new_key();
        let body = serde_json::json!({
            "kind": kind,
            "public_key": signing::public_key_b64(&key),
            "name": "test device",
            "link_code": link_code,
        });
        let bytes = serde_json::to_vec(&body).unwrap();
        let nonce = signing::new_nonce(&SystemRandom::new()).unwrap();
        let h = signing::sign_request(
            &key,
            ENROLL_DEVICE_ID,
            "POST",
            "/v1/enroll",
            &bytes,
            self.now_s(),
            &nonce,
        );
        let mut req = self
            .http
            .post(format!("{}/v1/enroll", self.base))
            .body(bytes);
        for (k, v) in h.pairs() {
            req = req.header(k, v);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let v: Value = resp.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{v}");
        let e: EnrollResponse = serde_json::from_value(v).unwrap();
        Device {
            key: Arc::new(key),
            id: e.device_id,
            account_id: e.account.map(|a| a.account_id),
            http: self.http.clone(),
            base: self.base.clone(),
            clock: self.clock.clone(),
        }
    }

    pub async fn device(&self) -> Device {
        self.enroll(PrincipalKind::Device, None).await
    }

    pub async fn terminal(&self) -> Device {
        self.enroll(PrincipalKind::Terminal, None).await
    }
}

pub fn new_key() -> Ed25519KeyPair {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
}

/// An enrolled device or terminal.
#[derive(Clone)]
pub struct Device {
    pub key: Arc<Ed25519KeyPair>,
    pub id: String,
    pub account_id: Option<String>,
    pub http: reqwest::Client,
    pub base: String,
    pub clock: Option<ManualClock>,
}

/// A response: status, JSON body, headers.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Resp {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert!(self.status.is_success(), "{} {}", self.status, self.body);
        &self.body
    }

    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.ok().clone()).unwrap()
    }
}

impl Device {
    pub fn now_s(&self) -> i64 {
        match &self.clock {
            Some(c) => c.now_ms().div_euclid(1000),
            None => billfold_server::clock::unix_ms_now() / 1000,
        }
    }

    /// Signed headers for a request, as a client would make them.
    pub fn sign(&self, method: &str, path: &str, body: &[u8]) -> Vec<(&'static str, String)> {
        let nonce = signing::new_nonce(&SystemRandom::new()).unwrap();
        signing::sign_request(
            &self.key,
            &self.id,
            method,
            path,
            body,
            self.now_s(),
            &nonce,
        )
        .pairs()
        .to_vec()
    }

    /// Sends raw bytes with the given headers.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, String)],
    ) -> Resp {
        let mut req = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"))
        };
        Resp {
            status,
            body,
            headers,
        }
    }

    /// A signed request with an optional JSON body and idempotency key.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
        idem: Option<&str>,
    ) -> Resp {
        let bytes = body
            .map(|b| serde_json::to_vec(b).unwrap())
            .unwrap_or_default();
        let mut headers = self.sign(method.as_str(), path, &bytes);
        if !bytes.is_empty() {
            headers.push(("content-type", "application/json".into()));
        }
        if let Some(k) = idem {
            headers.push((HEADER_IDEMPOTENCY_KEY, k.to_string()));
        }
        self.raw(method, path, bytes, &headers).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call(Method::GET, path, None::<&()>, None).await
    }

    pub async fn post(&self, path: &str, body: &impl Serialize) -> Resp {
        self.call(Method::POST, path, Some(body), None).await
    }

    pub async fn post_idem(&self, path: &str, body: &impl Serialize, key: &str) -> Resp {
        self.call(Method::POST, path, Some(body), Some(key)).await
    }

    pub async fn balance(&self) -> i64 {
        self.get("/v1/account").await.ok()["posted_balance"]["amount_minor"]
            .as_i64()
            .unwrap()
    }

    /// Adds a card and returns the provisioned token and keys.
    pub async fn add_card(&self, limit_minor: Option<i64>) -> ProvisionedCard {
        let key = format!("card-{}", hex::encode(rand_bytes()));
        let body = serde_json::json!({"pan": "4111 1111 1111 1111", "expiry": "12/39", "nickname": "Everyday", "limit_minor": limit_minor});
        self.post_idem("/v1/cards", &body, &key).await.parse()
    }
}

pub fn rand_bytes() -> [u8; 8] {
    let mut b = [0u8; 8];
    ring::rand::SecureRandom::fill(&SystemRandom::new(), &mut b).unwrap();
    b
}

/// The phone's card application with its provisioned token and keys.
pub struct Phone {
    pub app: CardApp,
    pub keys: Keys,
    pub token: Token,
    pub profile: Profile,
    /// The phone holds keys for ATCs below this.
    pub provisioned_until: u32,
}

#[derive(Default)]
pub struct Keys(pub VecDeque<(u16, SessionKey)>);

impl CardBackend for Keys {
    fn take_session_key(&mut self, _token: &Token) -> Result<(u16, SessionKey), Decline> {
        self.0.pop_front().ok_or(Decline::KeysExhausted)
    }
}

impl Phone {
    pub fn new(card: &ProvisionedCard) -> Phone {
        let t = &card.token;
        let profile = match t.profile {
            billfold_protocol::CryptoProfile::Aes => Profile::Aes,
            billfold_protocol::CryptoProfile::Tdes => Profile::Tdes,
        };
        let token = Token::new(
            t.token_id.clone(),
            hex::decode(&t.aid).unwrap(),
            t.label.clone(),
            t.pan.clone(),
            t.psn,
            Expiry::parse_yymmdd(&t.expiry).unwrap(),
            profile,
            t.dki,
        )
        .unwrap();
        let keys = card
            .key_batch
            .keys
            .iter()
            .map(|k| {
                (
                    k.atc,
                    SessionKey::from_slice(profile, &hex::decode(&k.key).unwrap()).unwrap(),
                )
            })
            .collect();
        Phone {
            app: CardApp::new(vec![token.clone()]),
            keys: Keys(keys),
            token,
            profile,
            provisioned_until: card.key_batch.issued_until,
        }
    }

    /// Stores a key batch from the bank.
    pub fn add_batch(&mut self, batch: &billfold_protocol::KeyBatch) {
        for k in &batch.keys {
            if u32::from(k.atc) >= self.provisioned_until {
                let key =
                    SessionKey::from_slice(self.profile, &hex::decode(&k.key).unwrap()).unwrap();
                self.keys.0.push_back((k.atc, key));
            }
        }
        self.provisioned_until = self.provisioned_until.max(batch.issued_until);
    }

    /// Taps at a terminal for `amount_minor` EUR; returns the PAN read and
    /// the cryptogram for the authorization request.
    pub fn tap(&mut self, amount_minor: u64, merchant: &str) -> (String, Option<u8>, Cryptogram) {
        self.tap_in(amount_minor, 978, merchant)
    }

    pub fn tap_in(
        &mut self,
        amount_minor: u64,
        currency: u16,
        merchant: &str,
    ) -> (String, Option<u8>, Cryptogram) {
        let params = TerminalParams::purchase(
            amount_minor,
            currency,
            250,
            TxnDate {
                year: 2026,
                month: 3,
                day: 14,
            },
            rand_bytes()[..4].try_into().unwrap(),
            5812,
            merchant,
        );
        let (app, keys) = (&mut self.app, &mut self.keys);
        let run = kernel::run(&params, |apdu: &[u8]| -> Result<Vec<u8>, String> {
            Ok(app.process_apdu(apdu, keys))
        });
        let out = run.result.expect("the tap completes");
        (out.pan.clone(), out.psn, to_wire(&out.cryptogram))
    }
}

pub fn to_wire(c: &emv::crypto::CryptogramData) -> Cryptogram {
    Cryptogram {
        kind: match c.kind {
            emv::crypto::CryptogramKind::Arqc => CryptogramKind::Arqc,
            emv::crypto::CryptogramKind::Aac => CryptogramKind::Aac,
            emv::crypto::CryptogramKind::Tc => CryptogramKind::Tc,
        },
        atc: c.atc,
        aip: hex::encode_upper(c.aip),
        cdol1_data: hex::encode_upper(&c.cdol1_data),
        iad: hex::encode_upper(&c.iad),
        ac: hex::encode_upper(c.ac),
    }
}

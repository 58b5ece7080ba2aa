//! The HTTP link to the bank: transport policy (HTTPS only, loopback HTTP
//! in development, TLS 1.2 or later, optional certificate pinning, no
//! redirects), Ed25519 request signing, and retries with exponential
//! backoff and full jitter.
//!
//! A retry re-signs the same body (fresh timestamp and nonce), so an
//! operation keeps its idempotency key however often it is sent. Failures
//! are sorted by whether the request may have reached the bank: a refused
//! connection certainly did not (the caller may report "offline"), while a
//! timeout or a 5xx may have been committed there, so the outcome is
//! unknown and only a retry with the same key can settle it.

use std::time::Duration;

use billfold_protocol::signing::{self, HEADER_IDEMPOTENCY_KEY};
use billfold_protocol::ErrorBody;
use reqwest::blocking::{Client, Response};
use reqwest::{StatusCode, Url};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::Ed25519KeyPair;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};

/// How hard to try before giving up on one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// The first retry waits up to this long; each further one doubles it.
    pub base_delay_ms: u64,
    /// No single wait is longer than this.
    pub max_delay_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay_ms: 200,
            max_delay_ms: 5_000,
        }
    }
}

/// How the wallet talks to the bank. The app sets it once; the defaults
/// suit a phone on a mobile network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkConfig {
    pub connect_timeout_ms: u64,
    /// The whole request, answer included.
    pub request_timeout_ms: u64,
    pub retry: RetryPolicy,
    /// PEM certificates (the bank's CA or its own certificate). When any
    /// are given, only they are trusted: the system's roots are not.
    pub pinned_certificates_pem: Vec<String>,
    /// Plain HTTP to a loopback address (development and tests). Never
    /// allows HTTP to any other host.
    pub allow_loopback_http: bool,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            connect_timeout_ms: 5_000,
            request_timeout_ms: 15_000,
            retry: RetryPolicy::default(),
            pinned_certificates_pem: Vec::new(),
            allow_loopback_http: true,
        }
    }
}

/// Checks the bank's address against the transport policy and returns it
/// without a trailing slash.
pub(crate) fn check_url(url: &str, cfg: &NetworkConfig) -> Result<Url> {
    let url = url.trim();
    // Host names are ASCII only: the library is built without Unicode IDNA
    // tables (bindings/README.md, "Size"), so a bank with an international
    // name is given in its xn-- form.
    if !url.is_ascii() {
        return Err(Error::InsecureUrl(
            "write an international host name in its xn-- (punycode) form",
        ));
    }
    let parsed = Url::parse(url).map_err(|_| Error::InsecureUrl("it is not a URL"))?;
    if parsed.cannot_be_a_base() || parsed.host_str().is_none() {
        return Err(Error::InsecureUrl("it has no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::InsecureUrl(
            "credentials do not belong in the address",
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(Error::InsecureUrl("give the bank's base address only"));
    }
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if billfold_protocol::is_loopback_host(parsed.host_str().unwrap_or("")) => {
            if cfg.allow_loopback_http {
                Ok(parsed)
            } else {
                Err(Error::InsecureUrl("plain HTTP is turned off; use https"))
            }
        }
        "http" => Err(Error::InsecureUrl(
            "plain HTTP is only allowed to this machine (loopback); use https",
        )),
        _ => Err(Error::InsecureUrl("use an https address")),
    }
}

/// The enrolled device's identity: requests are signed with its key.
pub(crate) struct Signer {
    pub device_id: String,
    pub key: Ed25519KeyPair,
}

/// Why one attempt failed, and whether the bank may have acted on it.
enum Failure {
    /// The request certainly did not reach the bank.
    NotSent(String),
    /// It may have: a timeout, a dropped connection, a 5xx.
    Unknown(String),
    /// Final: the bank refused, or its answer is unreadable.
    Final(Error),
}

pub(crate) struct BankClient {
    base: Url,
    http: Client,
    retry: RetryPolicy,
    rng: SystemRandom,
}

impl BankClient {
    pub fn new(url: &str, cfg: &NetworkConfig) -> Result<Self> {
        let base = check_url(url, cfg)?;
        let mut builder = Client::builder()
            .connect_timeout(Duration::from_millis(cfg.connect_timeout_ms.max(1)))
            .timeout(Duration::from_millis(cfg.request_timeout_ms.max(1)))
            .min_tls_version(reqwest::tls::Version::TLS_1_2)
            // The API never redirects; following one could leave HTTPS.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("billfold-wallet/", env!("CARGO_PKG_VERSION")));
        if base.scheme() == "https" {
            builder = builder.https_only(true);
        }
        if !cfg.pinned_certificates_pem.is_empty() {
            builder = builder.tls_built_in_root_certs(false);
            for pem in &cfg.pinned_certificates_pem {
                let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                    .ok()
                    .filter(|c| !c.is_empty())
                    .ok_or(Error::InsecureUrl("a pinned certificate is not valid PEM"))?;
                for cert in certs {
                    builder = builder.add_root_certificate(cert);
                }
            }
        }
        let http = builder
            .build()
            .map_err(|_| Error::BankUnavailable("the HTTP client could not start".into()))?;
        Ok(BankClient {
            base,
            http,
            retry: cfg.retry.clone(),
            rng: SystemRandom::new(),
        })
    }

    pub fn base_url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// A signed POST of `body`, retried while the outcome is unknown or the
    /// request was not sent. `signer_id` overrides the device id in the
    /// signature (enrollment signs as [`signing::ENROLL_DEVICE_ID`]).
    pub fn post<B: Serialize, R: DeserializeOwned>(
        &self,
        key: &Ed25519KeyPair,
        signer_id: &str,
        path: &str,
        body: &B,
        idempotency_key: Option<&str>,
        retry_unknown: bool,
    ) -> Result<R> {
        let bytes = serde_json::to_vec(body)
            .map_err(|_| Error::BankProtocol("a request could not be encoded"))?;
        self.send(key, signer_id, path, bytes, idempotency_key, retry_unknown)
    }

    fn send<R: DeserializeOwned>(
        &self,
        key: &Ed25519KeyPair,
        signer_id: &str,
        path: &str,
        body: Vec<u8>,
        idempotency_key: Option<&str>,
        retry_unknown: bool,
    ) -> Result<R> {
        let url = format!("{}{path}", self.base_url());
        let mut delivered_maybe = false;
        let mut last = String::new();
        let attempts = self.retry.max_attempts.max(1);
        for attempt in 0..attempts {
            if attempt > 0 {
                std::thread::sleep(self.backoff(attempt));
            }
            match self.attempt(key, signer_id, path, &url, &body, idempotency_key) {
                Ok(r) => return Ok(r),
                // A refusal after an attempt that may have been applied
                // does not prove it was not: the outcome stays unknown, so
                // the caller keeps the operation for the next sync.
                Err(Failure::Final(Error::BankRefused { code, .. })) if delivered_maybe => {
                    return Err(Error::BankUnavailable(format!(
                        "refused ({code}) after an attempt that went unanswered"
                    )))
                }
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::NotSent(why)) => last = why,
                Err(Failure::Unknown(why)) => {
                    delivered_maybe = true;
                    last = why;
                    if !retry_unknown {
                        break;
                    }
                }
            }
            tracing::debug!(attempt, path, reason = %last, "bank request failed; retrying");
        }
        if delivered_maybe {
            Err(Error::BankUnavailable(last))
        } else {
            Err(Error::Offline)
        }
    }

    /// Full jitter: a uniform wait in [0, min(cap, base * 2^(n-1))], so
    /// many phones coming back at once do not retry in step.
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .retry
            .base_delay_ms
            .saturating_mul(1u64 << (attempt - 1).min(20))
            .min(self.retry.max_delay_ms);
        let mut b = [0u8; 8];
        let r = self.rng.fill(&mut b).map(|_| u64::from_le_bytes(b));
        Duration::from_millis(r.map_or(ceiling, |r| r % (ceiling + 1)))
    }

    #[allow(clippy::too_many_arguments)]
    fn attempt<R: DeserializeOwned>(
        &self,
        key: &Ed25519KeyPair,
        signer_id: &str,
        path: &str,
        url: &str,
        body: &[u8],
        idempotency_key: Option<&str>,
    ) -> std::result::Result<R, Failure> {
        let nonce = signing::new_nonce(&self.rng)
            .map_err(|_| Failure::Final(Error::BankProtocol("no randomness for a nonce")))?;
        let headers = signing::sign_request(key, signer_id, "POST", path, body, unix_s(), &nonce);
        let mut req = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_vec());
        for (k, v) in headers.pairs() {
            req = req.header(k, v);
        }
        if let Some(k) = idempotency_key {
            req = req.header(HEADER_IDEMPOTENCY_KEY, k);
        }
        let resp = req.send().map_err(classify)?;
        read(resp)
    }
}

fn unix_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A transport error, sorted by whether the bank may have seen the request.
fn classify(e: reqwest::Error) -> Failure {
    // A certificate the pins (or the system's roots) do not vouch for is
    // not a network problem: retrying cannot help and "offline" would lie.
    if untrusted_certificate(&e) {
        return Failure::Final(Error::InsecureUrl(
            "the bank's certificate is not trusted (pinning or an unknown authority)",
        ));
    }
    // reqwest's messages name the URL, never a body or header.
    if e.is_connect() {
        return Failure::NotSent("the connection was refused".into());
    }
    if e.is_timeout() {
        return Failure::Unknown("timed out".into());
    }
    if e.is_builder() || e.is_redirect() {
        return Failure::Final(Error::InsecureUrl("the request could not be built"));
    }
    Failure::Unknown("the connection failed".into())
}

/// Whether the TLS handshake failed on the server's certificate. rustls's
/// error is deep in the chain and its type is not ours to name, so its
/// message is what is looked at.
fn untrusted_certificate(e: &reqwest::Error) -> bool {
    let mut cause: Option<&dyn std::error::Error> = Some(e);
    while let Some(c) = cause {
        if c.to_string().to_ascii_lowercase().contains("certificate") {
            return true;
        }
        cause = c.source();
    }
    false
}

fn read<R: DeserializeOwned>(resp: Response) -> std::result::Result<R, Failure> {
    let status = resp.status();
    // Reading the body can time out or be cut too: the bank may well have
    // committed by now.
    let bytes = resp.bytes().map_err(|e| match classify(e) {
        Failure::NotSent(w) => Failure::Unknown(w),
        other => other,
    })?;
    if status.is_success() {
        return serde_json::from_slice(&bytes)
            .map_err(|_| Failure::Final(Error::BankProtocol("an answer does not match the API")));
    }
    let retryable = status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT;
    if retryable {
        return Err(Failure::Unknown(format!("HTTP {}", status.as_u16())));
    }
    Err(Failure::Final(
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(b) => Error::BankRefused {
                code: b.error.code,
                message: b.error.message,
            },
            Err(_) => Error::BankRefused {
                code: format!("http_{}", status.as_u16()),
                message: format!("HTTP {}", status.as_u16()),
            },
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_is_allowed() {
        let cfg = NetworkConfig::default();
        for ok in [
            "https://bank.example",
            "https://bank.example:8443/api",
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:9",
            "https://xn--bnk-qla.example", // "bänk", as punycode
        ] {
            assert!(check_url(ok, &cfg).is_ok(), "{ok}");
        }
        for bad in [
            "http://bank.example",
            "http://10.0.0.1",
            "http://127.0.0.1.nip.io",
            "ftp://127.0.0.1",
            "https://user:pw@bank.example",
            "https://bank.example/?x=1",
            "not a url",
            "",
            "https://bänk.example",
        ] {
            assert!(
                matches!(check_url(bad, &cfg), Err(Error::InsecureUrl(_))),
                "{bad}"
            );
        }
        let strict = NetworkConfig {
            allow_loopback_http: false,
            ..NetworkConfig::default()
        };
        assert!(check_url("http://127.0.0.1:1", &strict).is_err());
    }

    #[test]
    fn backoff_stays_under_its_ceiling() {
        let c = BankClient::new("http://127.0.0.1:1", &NetworkConfig::default()).unwrap();
        for attempt in 1..30 {
            let cap = (200u64 << (attempt - 1).min(20)).min(5_000);
            assert!(c.backoff(attempt) <= Duration::from_millis(cap));
        }
    }

    #[test]
    fn a_bad_pin_is_a_typed_error() {
        let cfg = NetworkConfig {
            pinned_certificates_pem: vec!["not a certificate".into()],
            ..NetworkConfig::default()
        };
        assert!(matches!(
            BankClient::new("https://bank.example", &cfg),
            Err(Error::InsecureUrl(_))
        ));
    }
}

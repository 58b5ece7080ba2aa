//! The terminal's link to the bank: `POST /v1/authorizations`, signed with
//! the terminal's enrolled Ed25519 key, carrying what the card returned.
//! The bank verifies the ARQC (refusing a replayed ATC), applies its own
//! checks, posts the entry and answers with a response code and an ARPC.
//!
//! The terminal's key lives in `--terminal-key FILE` (created and enrolled
//! on first use); without it a fresh key is enrolled for the one run.
//!
//! Failures are typed, because an offline-capable terminal treats "no
//! answer" (the bank could not be reached) differently from a refusal: see
//! [`BankError`].

use std::path::Path;
use std::time::Duration;

use billfold_protocol::signing::{self, ENROLL_DEVICE_ID, HEADER_IDEMPOTENCY_KEY};
use billfold_protocol::{
    AuthorizationRequest, AuthorizationResult, Cryptogram, CryptogramKind, EnrollRequest,
    EnrollResponse, ErrorBody, PrincipalKind,
};
use emv::crypto::CryptogramData;
use ring::rand::SystemRandom;
use ring::signature::Ed25519KeyPair;
use serde::{Deserialize, Serialize};

/// Why the bank gave no authorization result. Declines are not errors: they
/// are results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankError {
    /// The bank could not be reached: connection refused, a timeout, the
    /// connection dropped before an answer, or a gateway saying the bank is
    /// unavailable (502, 503, 504). For a request that went out the outcome
    /// is unknown, which is safe: the same cryptogram sent again gets the
    /// bank's same answer.
    NoAnswer(String),
    /// The bank answered and refused the request itself (a bad signature,
    /// an unknown terminal, a malformed cryptogram).
    Refused { status: u16, message: String },
    /// Anything else: a bad URL, an answer that cannot be read, local
    /// trouble.
    Other(String),
}

impl std::fmt::Display for BankError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BankError::NoAnswer(m) | BankError::Other(m) => f.write_str(m),
            BankError::Refused { message, .. } => f.write_str(message),
        }
    }
}

/// An error and its causes ("error sending request: connection refused"),
/// which name the URL at most, never the request's body.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

/// A terminal enrolled with the bank.
pub struct Terminal {
    id: String,
    key: Ed25519KeyPair,
}

/// How the key file stores a terminal: its id and PKCS#8 key, hex. The
/// terminal's own signing key, never card data.
#[derive(Serialize, Deserialize)]
struct KeyFile {
    terminal_id: String,
    pkcs8: String,
}

pub struct Bank {
    base: String,
    http: reqwest::Client,
    rt: tokio::runtime::Runtime,
}

fn unix_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Bank {
    /// A client for the bank at `url`: HTTPS, or plain HTTP to loopback
    /// only (development), as DESIGN requires.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, BankError> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|_| BankError::Other("--server: not a URL".to_string()))?;
        let loopback = billfold_protocol::is_loopback_host(parsed.host_str().unwrap_or(""));
        match parsed.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => {
                return Err(BankError::Other(
                    "--server: use https (plain http only to loopback)".into(),
                ))
            }
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .https_only(!loopback)
            .build()
            .map_err(|e| BankError::Other(format!("cannot make an HTTP client: {e}")))?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| BankError::Other(format!("cannot start the HTTP runtime: {e}")))?;
        Ok(Bank {
            base: url.trim_end_matches('/').to_string(),
            http,
            rt,
        })
    }

    /// The terminal from `file`, or a newly enrolled one (saved to `file`).
    pub fn terminal(&self, file: Option<&Path>) -> Result<Terminal, BankError> {
        let local = |m: &str| BankError::Other(m.to_string());
        if let Some(f) = file.filter(|f| f.exists()) {
            let text = std::fs::read_to_string(f)
                .map_err(|e| BankError::Other(format!("cannot read the terminal key file: {e}")))?;
            let kf: KeyFile = serde_json::from_str(&text)
                .map_err(|_| local("the terminal key file is malformed"))?;
            let pkcs8 =
                hex::decode(&kf.pkcs8).map_err(|_| local("the terminal key file is malformed"))?;
            let key = Ed25519KeyPair::from_pkcs8(&pkcs8)
                .map_err(|_| local("the terminal key file is malformed"))?;
            return Ok(Terminal {
                id: kf.terminal_id,
                key,
            });
        }
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| local("cannot make a terminal key"))?;
        let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
            .map_err(|_| local("cannot make a terminal key"))?;
        let body = serde_json::to_vec(&EnrollRequest {
            kind: PrincipalKind::Terminal,
            public_key: signing::public_key_b64(&key),
            name: "billfold-pos".into(),
            link_code: None,
        })
        .map_err(|_| local("cannot encode the enrollment"))?;
        let enrolled: EnrollResponse =
            self.send(&key, ENROLL_DEVICE_ID, "/v1/enroll", body, None)?;
        if let Some(f) = file {
            let kf = KeyFile {
                terminal_id: enrolled.device_id.clone(),
                pkcs8: hex::encode(pkcs8.as_ref()),
            };
            write_private(f, &serde_json::to_string_pretty(&kf).unwrap_or_default())
                .map_err(|e| BankError::Other(format!("cannot save the terminal key file: {e}")))?;
        }
        Ok(Terminal {
            id: enrolled.device_id,
            key,
        })
    }

    /// Asks the bank to authorise what the card returned: now, or later
    /// for a tap accepted offline.
    pub fn authorize(
        &self,
        terminal: &Terminal,
        request: &AuthorizationRequest,
    ) -> Result<AuthorizationResult, BankError> {
        let body = serde_json::to_vec(request)
            .map_err(|_| BankError::Other("cannot encode the request".into()))?;
        let c = &request.cryptogram;
        // The same cryptogram sent again (a retry after a timeout, or a
        // queued tap submitted twice) gets the same answer rather than a
        // replay decline.
        let idem = format!("pos-{}-{}", c.atc, c.ac.to_ascii_lowercase());
        self.send(
            &terminal.key,
            &terminal.id,
            "/v1/authorizations",
            body,
            Some(&idem),
        )
    }

    fn send<T: for<'de> Deserialize<'de>>(
        &self,
        key: &Ed25519KeyPair,
        signer: &str,
        path: &str,
        body: Vec<u8>,
        idempotency_key: Option<&str>,
    ) -> Result<T, BankError> {
        let nonce = signing::new_nonce(&SystemRandom::new())
            .map_err(|_| BankError::Other("no randomness for the request nonce".into()))?;
        let headers = signing::sign_request(key, signer, "POST", path, &body, unix_s(), &nonce);
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body);
        for (k, v) in headers.pairs() {
            req = req.header(k, v);
        }
        if let Some(k) = idempotency_key {
            req = req.header(HEADER_IDEMPOTENCY_KEY, k);
        }
        self.rt.block_on(async {
            let resp = req.send().await.map_err(|e| {
                let text = format!("the bank is unreachable: {}", with_causes(&e));
                if e.is_builder() || e.is_redirect() {
                    BankError::Other(text)
                } else {
                    BankError::NoAnswer(text)
                }
            })?;
            let status = resp.status();
            let bytes = resp.bytes().await.map_err(|e| {
                BankError::NoAnswer(format!(
                    "the bank's answer was cut off: {}",
                    with_causes(&e)
                ))
            })?;
            if !status.is_success() {
                let detail = match serde_json::from_slice::<ErrorBody>(&bytes) {
                    Ok(e) => format!("({}): {}", e.error.code, e.error.message),
                    Err(_) => format!("{status}"),
                };
                return Err(match status.as_u16() {
                    502..=504 => BankError::NoAnswer(format!("the bank is unavailable {detail}")),
                    code => BankError::Refused {
                        status: code,
                        message: format!("the bank refused {detail}"),
                    },
                });
            }
            serde_json::from_slice(&bytes)
                .map_err(|_| BankError::Other("the bank's answer is malformed".into()))
        })
    }
}

/// The request for what the card returned. Holds the PAN: never print it.
pub fn request(pan: &str, psn: Option<u8>, c: &CryptogramData) -> AuthorizationRequest {
    AuthorizationRequest {
        pan: pan.to_string(),
        psn,
        cryptogram: Cryptogram {
            kind: match c.kind {
                emv::crypto::CryptogramKind::Arqc => CryptogramKind::Arqc,
                emv::crypto::CryptogramKind::Tc => CryptogramKind::Tc,
                emv::crypto::CryptogramKind::Aac => CryptogramKind::Aac,
            },
            atc: c.atc,
            aip: hex::encode(c.aip),
            cdol1_data: hex::encode(&c.cdol1_data),
            iad: hex::encode(&c.iad),
            ac: hex::encode(c.ac),
        },
    }
}

/// Writes a file readable by its owner only.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(text.as_bytes())
}

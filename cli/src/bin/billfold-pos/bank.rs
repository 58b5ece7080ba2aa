//! The terminal's link to the bank: `POST /v1/authorizations`, signed with
//! the terminal's enrolled Ed25519 key, carrying what the card returned.
//! The bank verifies the ARQC (refusing a replayed ATC), applies its own
//! checks, posts the entry and answers with a response code and an ARPC.
//!
//! The terminal's key lives in `--terminal-key FILE` (created and enrolled
//! on first use); without it a fresh key is enrolled for the one run.

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
    pub fn new(url: &str, timeout: Duration) -> Result<Self, String> {
        let parsed = reqwest::Url::parse(url).map_err(|_| "--server: not a URL".to_string())?;
        let host = parsed.host_str().unwrap_or("");
        let loopback = host == "localhost"
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|a| a.is_loopback());
        match parsed.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => return Err("--server: use https (plain http only to loopback)".into()),
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .https_only(!loopback)
            .build()
            .map_err(|e| format!("cannot make an HTTP client: {e}"))?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the HTTP runtime: {e}"))?;
        Ok(Bank {
            base: url.trim_end_matches('/').to_string(),
            http,
            rt,
        })
    }

    /// The terminal from `file`, or a newly enrolled one (saved to `file`).
    pub fn terminal(&self, file: Option<&Path>) -> Result<Terminal, String> {
        if let Some(f) = file.filter(|f| f.exists()) {
            let text = std::fs::read_to_string(f)
                .map_err(|e| format!("cannot read the terminal key file: {e}"))?;
            let kf: KeyFile = serde_json::from_str(&text)
                .map_err(|_| "the terminal key file is malformed".to_string())?;
            let pkcs8 = hex::decode(&kf.pkcs8)
                .map_err(|_| "the terminal key file is malformed".to_string())?;
            let key = Ed25519KeyPair::from_pkcs8(&pkcs8)
                .map_err(|_| "the terminal key file is malformed".to_string())?;
            return Ok(Terminal {
                id: kf.terminal_id,
                key,
            });
        }
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| "cannot make a terminal key".to_string())?;
        let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
            .map_err(|_| "cannot make a terminal key".to_string())?;
        let body = serde_json::to_vec(&EnrollRequest {
            kind: PrincipalKind::Terminal,
            public_key: signing::public_key_b64(&key),
            name: "billfold-pos".into(),
            link_code: None,
        })
        .map_err(|e| e.to_string())?;
        let enrolled: EnrollResponse =
            self.send(&key, ENROLL_DEVICE_ID, "/v1/enroll", body, None)?;
        if let Some(f) = file {
            let kf = KeyFile {
                terminal_id: enrolled.device_id.clone(),
                pkcs8: hex::encode(pkcs8.as_ref()),
            };
            write_private(f, &serde_json::to_string_pretty(&kf).unwrap_or_default())
                .map_err(|e| format!("cannot save the terminal key file: {e}"))?;
        }
        Ok(Terminal {
            id: enrolled.device_id,
            key,
        })
    }

    /// Asks the bank to authorise what the card returned.
    pub fn authorize(
        &self,
        terminal: &Terminal,
        pan: &str,
        psn: Option<u8>,
        c: &CryptogramData,
    ) -> Result<AuthorizationResult, String> {
        let request = AuthorizationRequest {
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
        };
        let body = serde_json::to_vec(&request).map_err(|e| e.to_string())?;
        // The same cryptogram sent again (a retry after a timeout) gets the
        // same answer rather than a replay decline.
        let idem = format!("pos-{}-{}", c.atc, hex::encode(c.ac));
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
    ) -> Result<T, String> {
        let nonce = signing::new_nonce(&SystemRandom::new())
            .map_err(|_| "no randomness for the request nonce".to_string())?;
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
            let resp = req
                .send()
                .await
                .map_err(|e| format!("the bank is unreachable: {e}"))?;
            let status = resp.status();
            let bytes = resp
                .bytes()
                .await
                .map_err(|e| format!("the bank's answer was cut off: {e}"))?;
            if !status.is_success() {
                return Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
                    Ok(e) => format!("the bank refused ({}): {}", e.error.code, e.error.message),
                    Err(_) => format!("the bank answered {status}"),
                });
            }
            serde_json::from_slice(&bytes).map_err(|_| "the bank's answer is malformed".to_string())
        })
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

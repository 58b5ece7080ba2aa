//! Signed requests: the extractor that checks a request's signature
//! headers (see `billfold_protocol::signing`) against the enrolled key,
//! refuses stale timestamps and replayed nonces, and only then parses the
//! body. Every route except health and enrollment goes through it.

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{FromRequest, OriginalUri, Request};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use billfold_protocol::signing::{self, AuthError, ParsedAuth, MAX_CLOCK_SKEW_SECS};
use billfold_protocol::PrincipalKind;
use serde::de::DeserializeOwned;

use crate::app::AppState;
use crate::error::ApiError;
use crate::params;

/// Largest request body accepted (a sync push of thousands of operations).
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// An enrolled key and what it may act for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub id: String,
    pub kind: PrincipalKind,
    /// The customer's account; `None` for terminals.
    pub account_id: Option<String>,
    pub public_key: [u8; 32],
}

impl Principal {
    /// The account of a customer's device; terminals are refused.
    pub fn device_account(&self) -> Result<&str, ApiError> {
        match (self.kind, &self.account_id) {
            (PrincipalKind::Device, Some(a)) => Ok(a),
            _ => Err(ApiError::forbidden(
                "device_only",
                "only an enrolled customer device may call this",
            )),
        }
    }

    pub fn require_terminal(&self) -> Result<(), ApiError> {
        match self.kind {
            PrincipalKind::Terminal => Ok(()),
            PrincipalKind::Device => Err(ApiError::forbidden(
                "terminal_only",
                "only an enrolled terminal may call this",
            )),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let code = e.code();
        match e {
            AuthError::BodyHashMismatch
            | AuthError::MalformedHeader(_)
            | AuthError::BadPublicKey => ApiError::bad_request(code, e.to_string()),
            _ => ApiError::unauthorized(code, e.to_string()),
        }
    }
}

/// A request whose signature checked out, with its parsed body.
#[derive(Debug)]
pub struct Signed<T> {
    pub principal: Principal,
    pub headers: HeaderMap,
    pub body: T,
}

/// Splits a request into its parts and body bytes (bounded).
pub(crate) async fn read_request(req: Request) -> Result<(Parts, Bytes), ApiError> {
    let (parts, body): (Parts, Body) = req.into_parts();
    let bytes = to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the request body is too large or was cut off",
        )
    })?;
    Ok((parts, bytes))
}

/// The path and query the client signed.
pub(crate) fn signed_path(parts: &Parts) -> String {
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map(|o| &o.0)
        .unwrap_or(&parts.uri);
    uri.path_and_query()
        .map_or_else(|| uri.path().to_string(), |pq| pq.as_str().to_string())
}

/// Parses the signature headers and checks the timestamp.
pub(crate) fn parse_headers(parts: &Parts, now_ms: i64) -> Result<ParsedAuth, ApiError> {
    let auth =
        signing::parse_auth_headers(|name| parts.headers.get(name).and_then(|v| v.to_str().ok()))?;
    signing::check_timestamp(auth.timestamp, now_ms.div_euclid(1000))?;
    Ok(auth)
}

/// Records the nonce; refuses it if this principal used it before.
pub(crate) async fn consume_nonce(
    state: &AppState,
    principal_id: &str,
    auth: &ParsedAuth,
) -> Result<(), ApiError> {
    let (id, nonce) = (principal_id.to_string(), auth.nonce.clone());
    // Remembered until the request's timestamp is out of the window.
    let expires_at = auth
        .timestamp
        .saturating_add(2 * MAX_CLOCK_SKEW_SECS)
        .saturating_mul(1000);
    let inserted = state
        .store
        .tx(move |tx| {
            Ok(tx.execute(
                "INSERT INTO nonces (principal_id, nonce, expires_at) VALUES ($1, $2, $3)
                 ON CONFLICT (principal_id, nonce) DO NOTHING",
                params![id.as_str(), nonce.as_str(), expires_at],
            )?)
        })
        .await?;
    if inserted == 0 {
        return Err(ApiError::unauthorized(
            "replayed_nonce",
            "this nonce was already used: sign every request with a fresh nonce",
        ));
    }
    Ok(())
}

/// Parses a JSON body. Error messages keep serde's position and field
/// names but drop any quoted input value, which could be card data.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.is_empty() { b"null" } else { bytes };
    serde_json::from_slice(bytes).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Syntax | Category::Eof | Category::Io => ApiError::bad_request(
                "invalid_json",
                format!(
                    "the body is not valid JSON (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            ),
            Category::Data => {
                ApiError::unprocessable("invalid_request", sanitize_serde_message(&e.to_string()))
            }
        }
    })
}

/// Keeps field names (`missing field `pan``) but not input values
/// (`invalid type: string "4111…"`): quoted values become `<value>`, and
/// any long run of digits left over is masked too.
fn sanitize_serde_message(msg: &str) -> String {
    let keep_names = ["missing field", "unknown field", "duplicate field"]
        .iter()
        .any(|p| msg.starts_with(p));
    let mut out = String::with_capacity(msg.len());
    let mut quote: Option<char> = None;
    for c in msg.chars() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                if keep_names && q == '`' {
                    out.push(c);
                }
            }
            Some(q) => {
                if keep_names && q == '`' {
                    out.push(c);
                }
            }
            None if c == '`' || c == '"' => {
                quote = Some(c);
                if keep_names && c == '`' {
                    out.push(c);
                } else {
                    out.push_str("<value>");
                }
            }
            None => out.push(c),
        }
    }
    // Mask digit runs of six or more (a card number, whatever its quoting).
    let mut masked = String::with_capacity(out.len());
    let mut digits = String::new();
    for c in out.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if digits.len() >= 6 {
            masked.push_str("<value>");
        } else {
            masked.push_str(&digits);
        }
        digits.clear();
        masked.push(c);
    }
    masked.pop();
    masked
}

/// Looks up an enrolled key (cached: keys never change once enrolled).
pub(crate) async fn principal(state: &AppState, id: &str) -> Result<Principal, ApiError> {
    if let Ok(cache) = state.principals.read() {
        if let Some(p) = cache.get(id) {
            return Ok(p.clone());
        }
    }
    let key = id.to_string();
    let found = state
        .store
        .tx(move |tx| {
            Ok(tx.query_opt(
                "SELECT id, kind, account_id, public_key FROM principals WHERE id = $1",
                params![key.as_str()],
            )?)
        })
        .await?;
    let row = found.ok_or_else(|| {
        ApiError::unauthorized(
            "unknown_device",
            "no device or terminal is enrolled with this id",
        )
    })?;
    let kind = match row.text(1)?.as_str() {
        "terminal" => PrincipalKind::Terminal,
        _ => PrincipalKind::Device,
    };
    let public_key: [u8; 32] = row
        .bytes(3)?
        .try_into()
        .map_err(|_| ApiError::internal("stored public key has the wrong length"))?;
    let p = Principal {
        id: row.text(0)?,
        kind,
        account_id: row.opt_text(2)?,
        public_key,
    };
    if let Ok(mut cache) = state.principals.write() {
        cache.insert(p.id.clone(), p.clone());
    }
    Ok(p)
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Signed<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let (parts, bytes) = read_request(req).await?;
        let auth = parse_headers(&parts, state.now_ms())?;
        if auth.device_id == signing::ENROLL_DEVICE_ID {
            return Err(ApiError::unauthorized(
                "unknown_device",
                "enroll first, then sign with the device id",
            ));
        }
        let principal = principal(state, &auth.device_id).await?;
        signing::verify_request(
            &principal.public_key,
            &auth,
            parts.method.as_str(),
            &signed_path(&parts),
            &bytes,
        )?;
        consume_nonce(state, &principal.id, &auth).await?;
        let body = parse_json(&bytes)?;
        Ok(Signed {
            principal,
            headers: parts.headers,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Card {
        pan: String,
        n: u8,
    }

    #[test]
    fn json_errors_hide_values() {
        let e = parse_json::<Card>(br#"{"pan": 4111111111111111, "n": 1}"#).unwrap_err();
        assert_eq!(e.code, "invalid_request");
        assert!(!e.message.contains("4111"), "{}", e.message);
        let e = parse_json::<Card>(br#"{"pan": "x", "n": "4111111111111111"}"#).unwrap_err();
        assert!(!e.message.contains("4111"), "{}", e.message);
        let e = parse_json::<Card>(br#"{"n": 1}"#).unwrap_err();
        assert!(e.message.contains("`pan`"), "{}", e.message);
        let e = parse_json::<Card>(b"{").unwrap_err();
        assert_eq!(e.code, "invalid_json");
    }

    proptest! {
        /// Whatever serde says, a card number in the input never comes back.
        #[test]
        fn sanitizer_never_leaks_digits(pan in "[0-9]{12,19}", quote in prop_oneof![Just('"'), Just('`')]) {
            for msg in [
                format!("invalid type: string {quote}{pan}{quote}, expected u8"),
                format!("invalid value: integer {quote}{pan}{quote}, expected a string"),
                format!("unknown variant {quote}{pan}{quote}, expected one of `a`"),
            ] {
                let out = sanitize_serde_message(&msg);
                prop_assert!(!out.contains(&pan), "{}", out);
            }
        }

        #[test]
        fn sanitizer_never_panics(msg in ".{0,80}") {
            let _ = sanitize_serde_message(&msg);
        }
    }
}

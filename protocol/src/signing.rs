//! Request signing: every call to the bank carries the device's Ed25519
//! signature over a canonical string of the request, so the server knows
//! which enrolled device sent it, that nothing was altered on the way, and
//! (with the timestamp and nonce) that it is not a replay.
//!
//! The canonical string is six lines joined by `\n`, no trailing newline:
//!
//! ```text
//! BILLFOLD-ED25519-V1
//! POST
//! /v1/sync
//! dev_0123456789abcdef0123456789abcdef
//! 1767225600
//! 3f0c4a6b9e1d2c8f7a6b5c4d3e2f1a0b
//! e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
//! ```
//!
//! that is: the scheme, the upper-case method, the path with its query
//! string exactly as sent, the device id, the Unix timestamp in seconds,
//! the nonce, and the lower-case hex SHA-256 of the raw body bytes (the
//! hash of nothing for an empty body). The signature travels as base64url
//! without padding.
//!
//! Enrollment is signed the same way with the new key itself, whose public
//! half is in the body, and the device id [`ENROLL_DEVICE_ID`]: that proves
//! the caller holds the private key.
//!
//! Everything here is pure: randomness comes in as a parameter and the
//! clock as a number.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::digest;
use ring::rand::SecureRandom;
use ring::signature::{self, Ed25519KeyPair, KeyPair as _};

/// Names the scheme and its version; the first line of the canonical string.
pub const SCHEME: &str = "BILLFOLD-ED25519-V1";

/// Header: the enrolled device (or terminal) id.
pub const HEADER_DEVICE: &str = "x-billfold-device";
/// Header: Unix time in seconds when the request was signed.
pub const HEADER_TIMESTAMP: &str = "x-billfold-timestamp";
/// Header: a fresh random value per request (16 to 64 of `[A-Za-z0-9_-]`).
pub const HEADER_NONCE: &str = "x-billfold-nonce";
/// Header: lower-case hex SHA-256 of the body bytes.
pub const HEADER_CONTENT_SHA256: &str = "x-billfold-content-sha256";
/// Header: base64url (no padding) Ed25519 signature of the canonical string.
pub const HEADER_SIGNATURE: &str = "x-billfold-signature";
/// Header: the client's idempotency key for a state-changing request.
pub const HEADER_IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The device id used in the canonical string of an enrollment request,
/// which is signed by the key being enrolled.
pub const ENROLL_DEVICE_ID: &str = "enroll";

/// How far a request's timestamp may be from the server's clock, either
/// way. Nonces are remembered for at least twice this long.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// Why a request's signature headers were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the {0} header is missing")]
    MissingHeader(&'static str),
    #[error("the {0} header is malformed")]
    MalformedHeader(&'static str),
    #[error("the body does not match its SHA-256 header")]
    BodyHashMismatch,
    #[error("the signature does not verify")]
    BadSignature,
    #[error(
        "the request timestamp is more than {MAX_CLOCK_SKEW_SECS} seconds from the server's clock"
    )]
    StaleTimestamp,
    #[error("the public key is not a 32-byte Ed25519 key in base64url")]
    BadPublicKey,
}

impl AuthError {
    /// The stable machine-readable code for the API's error body.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::MissingHeader(_) => "missing_auth_header",
            AuthError::MalformedHeader(_) => "malformed_auth_header",
            AuthError::BodyHashMismatch => "body_hash_mismatch",
            AuthError::BadSignature => "bad_signature",
            AuthError::StaleTimestamp => "stale_timestamp",
            AuthError::BadPublicKey => "bad_public_key",
        }
    }
}

/// Lower-case hex SHA-256 of `body`.
pub fn body_sha256_hex(body: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, body))
}

/// The string that is signed (see the module documentation).
pub fn canonical_string(
    method: &str,
    path_and_query: &str,
    device_id: &str,
    timestamp: i64,
    nonce: &str,
    body_sha256_hex: &str,
) -> String {
    format!(
        "{SCHEME}\n{}\n{path_and_query}\n{device_id}\n{timestamp}\n{nonce}\n{body_sha256_hex}",
        method.to_ascii_uppercase()
    )
}

/// The five signature headers of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub device_id: String,
    pub timestamp: i64,
    pub nonce: String,
    pub content_sha256: String,
    pub signature: String,
}

impl SignedHeaders {
    /// Header names and values, ready to add to a request.
    pub fn pairs(&self) -> [(&'static str, String); 5] {
        [
            (HEADER_DEVICE, self.device_id.clone()),
            (HEADER_TIMESTAMP, self.timestamp.to_string()),
            (HEADER_NONCE, self.nonce.clone()),
            (HEADER_CONTENT_SHA256, self.content_sha256.clone()),
            (HEADER_SIGNATURE, self.signature.clone()),
        ]
    }
}

/// A fresh nonce: 16 random bytes as 32 hex digits.
pub fn new_nonce(rng: &dyn SecureRandom) -> Result<String, ring::error::Unspecified> {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

/// Signs a request with the device's key.
#[allow(clippy::too_many_arguments)]
pub fn sign_request(
    key: &Ed25519KeyPair,
    device_id: &str,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    timestamp: i64,
    nonce: &str,
) -> SignedHeaders {
    let content_sha256 = body_sha256_hex(body);
    let canonical = canonical_string(
        method,
        path_and_query,
        device_id,
        timestamp,
        nonce,
        &content_sha256,
    );
    let signature = URL_SAFE_NO_PAD.encode(key.sign(canonical.as_bytes()).as_ref());
    SignedHeaders {
        device_id: device_id.to_string(),
        timestamp,
        nonce: nonce.to_string(),
        content_sha256,
        signature,
    }
}

/// The public half of a key pair in the form enrollment sends it.
pub fn public_key_b64(key: &Ed25519KeyPair) -> String {
    URL_SAFE_NO_PAD.encode(key.public_key().as_ref())
}

/// Decodes a base64url Ed25519 public key.
pub fn parse_public_key(b64: &str) -> Result<[u8; 32], AuthError> {
    if b64.len() != 43 {
        return Err(AuthError::BadPublicKey);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(b64)
        .map_err(|_| AuthError::BadPublicKey)?;
    bytes.try_into().map_err(|_| AuthError::BadPublicKey)
}

/// The signature headers of a received request, syntactically checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuth {
    pub device_id: String,
    pub timestamp: i64,
    pub nonce: String,
    pub content_sha256: [u8; 32],
    pub signature: [u8; 64],
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Whether `s` can be a device id: 1 to 64 of `[A-Za-z0-9_-]`.
pub fn valid_device_id(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(is_token_char)
}

/// Whether `s` can be a nonce: 16 to 64 of `[A-Za-z0-9_-]`.
pub fn valid_nonce(s: &str) -> bool {
    (16..=64).contains(&s.len()) && s.bytes().all(is_token_char)
}

/// Reads and checks the five signature headers; `header` looks one up by
/// its lower-case name and returns `None` when it is absent or not text.
pub fn parse_auth_headers<'a>(
    header: impl Fn(&str) -> Option<&'a str>,
) -> Result<ParsedAuth, AuthError> {
    let get = |name: &'static str| header(name).ok_or(AuthError::MissingHeader(name));
    let device_id = get(HEADER_DEVICE)?;
    if !valid_device_id(device_id) {
        return Err(AuthError::MalformedHeader(HEADER_DEVICE));
    }
    let ts = get(HEADER_TIMESTAMP)?;
    // Plain decimal seconds only: no sign, no spaces, at most 12 digits.
    if ts.is_empty() || ts.len() > 12 || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AuthError::MalformedHeader(HEADER_TIMESTAMP));
    }
    let timestamp: i64 = ts
        .parse()
        .map_err(|_| AuthError::MalformedHeader(HEADER_TIMESTAMP))?;
    let nonce = get(HEADER_NONCE)?;
    if !valid_nonce(nonce) {
        return Err(AuthError::MalformedHeader(HEADER_NONCE));
    }
    let hash = get(HEADER_CONTENT_SHA256)?;
    if hash.len() != 64 || !hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(AuthError::MalformedHeader(HEADER_CONTENT_SHA256));
    }
    let mut content_sha256 = [0u8; 32];
    hex::decode_to_slice(hash, &mut content_sha256)
        .map_err(|_| AuthError::MalformedHeader(HEADER_CONTENT_SHA256))?;
    let sig = get(HEADER_SIGNATURE)?;
    if sig.len() != 86 {
        return Err(AuthError::MalformedHeader(HEADER_SIGNATURE));
    }
    let sig = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| AuthError::MalformedHeader(HEADER_SIGNATURE))?;
    let signature: [u8; 64] = sig
        .try_into()
        .map_err(|_| AuthError::MalformedHeader(HEADER_SIGNATURE))?;
    Ok(ParsedAuth {
        device_id: device_id.to_string(),
        timestamp,
        nonce: nonce.to_string(),
        content_sha256,
        signature,
    })
}

/// Checks the timestamp against the verifier's clock (`now` in seconds).
pub fn check_timestamp(timestamp: i64, now: i64) -> Result<(), AuthError> {
    if (timestamp - now).abs() > MAX_CLOCK_SKEW_SECS {
        return Err(AuthError::StaleTimestamp);
    }
    Ok(())
}

/// Checks the body against its hash header and the signature against the
/// device's public key. Timestamp and nonce freshness are the caller's
/// (they need a clock and memory).
pub fn verify_request(
    public_key: &[u8; 32],
    auth: &ParsedAuth,
    method: &str,
    path_and_query: &str,
    body: &[u8],
) -> Result<(), AuthError> {
    let actual = digest::digest(&digest::SHA256, body);
    if actual.as_ref() != auth.content_sha256 {
        return Err(AuthError::BodyHashMismatch);
    }
    let canonical = canonical_string(
        method,
        path_and_query,
        &auth.device_id,
        auth.timestamp,
        &auth.nonce,
        &hex::encode(auth.content_sha256),
    );
    signature::UnparsedPublicKey::new(&signature::ED25519, public_key)
        .verify(canonical.as_bytes(), &auth.signature)
        .map_err(|_| AuthError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use ring::rand::SystemRandom;
    use std::collections::HashMap;

    fn key() -> Ed25519KeyPair {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
    }

    fn headers(s: &SignedHeaders) -> HashMap<&'static str, String> {
        s.pairs().into_iter().collect()
    }

    #[test]
    fn canonical_form() {
        let c = canonical_string("post", "/v1/sync?x=1", "dev_1", 1767225600, "n", "h");
        assert_eq!(
            c,
            "BILLFOLD-ED25519-V1\nPOST\n/v1/sync?x=1\ndev_1\n1767225600\nn\nh"
        );
        assert_eq!(
            body_sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn sign_and_verify() {
        let k = key();
        let pk = parse_public_key(&public_key_b64(&k)).unwrap();
        let nonce = new_nonce(&SystemRandom::new()).unwrap();
        let s = sign_request(
            &k,
            "dev_abc",
            "POST",
            "/v1/sync",
            b"{}",
            1_700_000_000,
            &nonce,
        );
        let h = headers(&s);
        let parsed = parse_auth_headers(|n| h.get(n).map(String::as_str)).unwrap();
        verify_request(&pk, &parsed, "POST", "/v1/sync", b"{}").unwrap();
        assert_eq!(
            verify_request(&pk, &parsed, "POST", "/v1/sync", b"{ }"),
            Err(AuthError::BodyHashMismatch)
        );
        assert_eq!(
            verify_request(&pk, &parsed, "POST", "/v1/account", b"{}"),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            verify_request(&pk, &parsed, "GET", "/v1/sync", b"{}"),
            Err(AuthError::BadSignature)
        );
        let other = parse_public_key(&public_key_b64(&key())).unwrap();
        assert_eq!(
            verify_request(&other, &parsed, "POST", "/v1/sync", b"{}"),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn timestamps() {
        assert!(check_timestamp(1000, 1000 + MAX_CLOCK_SKEW_SECS).is_ok());
        assert!(check_timestamp(1000, 1000 - MAX_CLOCK_SKEW_SECS).is_ok());
        assert_eq!(
            check_timestamp(1000, 1001 + MAX_CLOCK_SKEW_SECS),
            Err(AuthError::StaleTimestamp)
        );
        assert_eq!(
            check_timestamp(1001 + MAX_CLOCK_SKEW_SECS, 1000),
            Err(AuthError::StaleTimestamp)
        );
    }

    #[test]
    fn header_errors() {
        let k = key();
        let s = sign_request(
            &k,
            "dev_abc",
            "GET",
            "/v1/account",
            b"",
            1,
            "0123456789abcdef",
        );
        let good = headers(&s);
        for name in [
            HEADER_DEVICE,
            HEADER_TIMESTAMP,
            HEADER_NONCE,
            HEADER_CONTENT_SHA256,
            HEADER_SIGNATURE,
        ] {
            let mut h = good.clone();
            h.remove(name);
            assert_eq!(
                parse_auth_headers(|n| h.get(n).map(String::as_str)),
                Err(AuthError::MissingHeader(name))
            );
            let mut h = good.clone();
            h.insert(name, "-1 !".into());
            assert_eq!(
                parse_auth_headers(|n| h.get(n).map(String::as_str)),
                Err(AuthError::MalformedHeader(name))
            );
        }
        assert_eq!(parse_public_key("AAAA"), Err(AuthError::BadPublicKey));
    }

    proptest! {
        /// Arbitrary header values never panic the parser, and whatever it
        /// accepts is within the documented syntax.
        #[test]
        fn parser_never_panics(values in proptest::collection::vec(".{0,100}", 5)) {
            let names = [HEADER_DEVICE, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_CONTENT_SHA256, HEADER_SIGNATURE];
            let h: HashMap<&str, &str> = names.iter().copied().zip(values.iter().map(String::as_str)).collect();
            if let Ok(p) = parse_auth_headers(|n| h.get(n).copied()) {
                prop_assert!(valid_device_id(&p.device_id));
                prop_assert!(valid_nonce(&p.nonce));
                prop_assert!(p.timestamp >= 0);
            }
        }

        /// Well-formed values round-trip through the headers.
        #[test]
        fn round_trip(device in "[A-Za-z0-9_-]{1,64}", nonce in "[A-Za-z0-9_-]{16,64}", ts in 0i64..999_999_999_999, body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let k = key();
            let s = sign_request(&k, &device, "PUT", "/p?q", &body, ts, &nonce);
            let h = headers(&s);
            let p = parse_auth_headers(|n| h.get(n).map(String::as_str)).unwrap();
            prop_assert_eq!(&p.device_id, &device);
            prop_assert_eq!(p.timestamp, ts);
            let pk = parse_public_key(&public_key_b64(&k)).unwrap();
            prop_assert!(verify_request(&pk, &p, "PUT", "/p?q", &body).is_ok());
        }

        #[test]
        fn public_key_parser_never_panics(s in ".{0,80}") {
            let _ = parse_public_key(&s);
        }
    }
}

//! The sync client's TLS: against a bank on loopback speaking HTTPS with a
//! self-signed certificate, a wallet pinned to that certificate enrolls; one
//! pinned to another certificate, or trusting only the system's roots,
//! refuses the connection with a clear error and stores nothing.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::thread;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use wallet_core::{Error, NetworkConfig, SoftwareKeyStore, SystemClock, Wallet};

struct TlsBank {
    url: String,
    cert_pem: String,
}

/// Answers every HTTPS request on a loopback port with one enrollment.
fn tls_bank() -> TlsBank {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let cert_pem = cert.cert.pem();
    let chain = vec![CertificateDer::from(cert.cert.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key_pair.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(tcp) = stream else { continue };
            let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                continue;
            };
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            // A refused handshake ends here; the next client may be fine.
            let _ = answer(&mut tls);
        }
    });
    TlsBank { url, cert_pem }
}

fn answer(tls: &mut impl ReadWrite) -> std::io::Result<()> {
    let mut reader = BufReader::new(&mut *tls);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let reply = serde_json::json!({
        "device_id": "dev_0123456789abcdef0123456789abcdef",
        "kind": "device",
        "account": {
            "account_id": "acct_0123456789abcdef0123456789abcdef",
            "currency": "EUR",
            "posted_balance": { "amount_minor": 100, "currency": "EUR" },
            "created_at_ms": 0
        }
    })
    .to_string();
    write!(
        tls,
        "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
        reply.len()
    )?;
    tls.flush()
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

fn wallet(pins: Vec<String>) -> (Wallet, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let w = Wallet::create(
        dir.path(),
        Arc::new(SoftwareKeyStore::generate().unwrap()),
        Arc::new(SystemClock),
    )
    .unwrap();
    w.set_network_config(NetworkConfig {
        pinned_certificates_pem: pins,
        ..NetworkConfig::default()
    });
    (w, dir)
}

#[test]
fn a_wallet_pinned_to_the_banks_certificate_enrolls() {
    let bank = tls_bank();
    let (w, _dir) = wallet(vec![bank.cert_pem.clone()]);
    let e = w.enroll(&bank.url, "pinned phone", None).unwrap();
    assert_eq!(e.account_id, "acct_0123456789abcdef0123456789abcdef");
    assert!(e.server_url.starts_with("https://127.0.0.1:"));
}

#[test]
fn another_certificate_or_the_system_roots_are_refused() {
    let bank = tls_bank();
    let other = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()])
        .unwrap()
        .cert
        .pem();
    for pins in [vec![other], Vec::new()] {
        let (w, _dir) = wallet(pins);
        match w.enroll(&bank.url, "phone", None) {
            Err(Error::InsecureUrl(why)) => assert!(why.contains("certificate"), "{why}"),
            other => panic!("expected a certificate refusal, got {other:?}"),
        }
        assert!(w.enrollment().unwrap().is_none(), "nothing was stored");
    }
}

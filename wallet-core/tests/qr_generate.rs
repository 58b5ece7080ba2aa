//! Generated codes: the matrix, PNG and SVG agree, scan back to their
//! payload, and bad requests are typed errors.

use wallet_core::qr::{
    consumer_presented_code, payload_code, scan_image_file, ErrorCorrection, QrMatrix,
};

const PAYLOAD: &str = "00020101021126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913FULANO DE TAL6008BRASILIA62070503***63041D3D";

#[test]
fn matrix_has_the_version_size_and_error_correction() {
    let m = QrMatrix::encode(PAYLOAD, ErrorCorrection::Medium).unwrap();
    assert!((1..=40).contains(&m.version));
    assert_eq!(m.size, 17 + 4 * m.version as u32);
    assert_eq!(m.modules.len(), (m.size * m.size) as usize);
    assert_eq!(m.error_correction, ErrorCorrection::Medium);
    let rows = m.rows();
    assert_eq!(rows.len(), m.size as usize);
    // Finder pattern: the top-left 7x7 has a dark ring and a light ring.
    assert!(rows[0][0] && rows[0][6] && rows[6][0] && rows[6][6]);
    assert!(!rows[1][1] && !rows[1][5] && rows[3][3]);
    assert!(!m.is_dark(m.size, 0), "outside the symbol is light");
    // More error correction, larger symbol.
    let high = QrMatrix::encode(PAYLOAD, ErrorCorrection::High).unwrap();
    assert!(high.size > m.size);
}

#[test]
fn png_scans_back_to_the_payload() {
    let dir = tempfile::tempdir().unwrap();
    let m = payload_code(PAYLOAD).unwrap();
    let png = m.to_png(3).unwrap();
    let img = image::load_from_memory(&png).unwrap().into_luma8();
    assert_eq!(img.width(), m.image_side(3));
    assert_eq!(img.width(), (m.size + 8) * 3);
    // Module (0, 0) is dark, the quiet zone light.
    let q = QrMatrix::QUIET_ZONE * 3;
    assert_eq!(img.get_pixel(q + 1, q + 1).0, [0]);
    assert_eq!(img.get_pixel(1, 1).0, [255]);
    let path = dir.path().join("code.png");
    std::fs::write(&path, &png).unwrap();
    let found = scan_image_file(&path).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].text, PAYLOAD);
}

#[test]
fn svg_draws_the_same_modules() {
    let m = payload_code("hello svg").unwrap();
    let svg = m.to_svg(10).unwrap();
    let side = (m.size + 8) * 10;
    assert!(svg.contains("<svg"), "{svg}");
    assert!(
        svg.contains(&format!("viewBox=\"0 0 {side} {side}\"")),
        "{svg}"
    );
    assert!(svg.trim_end().ends_with("</svg>"));
}

#[test]
fn consumer_presented_codes_are_base64_at_low_correction() {
    let payload =
        "hQVDUFYwMWETTwegAAAAVVVVUAhQcm9kdWN0MVoIVVVVVVVVVVlfIBJDVVNUT01FUi9JTlNUQU5DRQ==";
    let m = consumer_presented_code(payload).unwrap();
    assert_eq!(m.error_correction, ErrorCorrection::Low);
    assert_eq!(
        consumer_presented_code("not base64!").unwrap_err().code(),
        "qr_encode"
    );
}

#[test]
fn bad_requests_are_typed_errors() {
    assert_eq!(payload_code("").unwrap_err().code(), "qr_encode");
    let huge = "x".repeat(3000);
    let e = payload_code(&huge).unwrap_err();
    assert_eq!(e.code(), "qr_encode");
    assert!(e.to_string().contains("too long"));
    let m = payload_code("ok").unwrap();
    assert_eq!(m.to_png(0).unwrap_err().code(), "qr_encode");
    assert_eq!(m.to_png(33).unwrap_err().code(), "qr_encode");
    assert_eq!(m.to_svg(0).unwrap_err().code(), "qr_encode");
}

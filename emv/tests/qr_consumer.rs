//! Consumer-presented codes: the EMVCo example, building and parsing,
//! rejections, and that card data stays out of summaries and Debug.

use emv::qr::cpm::{self, ConsumerPayload, ConsumerSummary, CpmError, CpmTemplate};
use emv::qr::{parse_any, EmvQr};
use emv::tlv::{Tag, Tlv};
use proptest::prelude::*;

/// EMVCo QR Code Specification for Payment Systems, Consumer-Presented
/// Mode: the example with two applications ("Product1", "Product2") and a
/// common data template, as reproduced by dongri/emv-qrcode and
/// mvallim/emv-qrcode.
const EMVCO_CPM_SAMPLE: &str = "hQVDUFYwMWETTwegAAAAVVVVUAhQcm9kdWN0MWETTwegAAAAZmZmUAhQcm9kdWN0MmJJWggSNFZ4kBI0WF8gDkNBUkRIT0xERVIvRU1WXy0IcnVlc2RlZW5kIZ8QBwYBCgMAAACfJghYT9OF+iNLzJ82AgABnzcEbVjvEw==";

#[test]
fn emvco_example() {
    let p = cpm::parse(EMVCO_CPM_SAMPLE).unwrap();
    assert_eq!(p.applications.len(), 2);
    assert_eq!(
        p.applications[0].aid(),
        Some(&[0xA0, 0, 0, 0, 0x55, 0x55, 0x55][..])
    );
    assert_eq!(p.applications[0].label(), Some("Product1"));
    assert_eq!(p.applications[1].label(), Some("Product2"));
    let common = p.common.as_ref().unwrap();
    assert_eq!(common.pan().as_deref(), Some("1234567890123458"));
    assert_eq!(common.cardholder_name(), Some("CARDHOLDER/EMV"));
    assert_eq!(common.language_preference(), Some("ruesdeen"));
    let tags: Vec<Tag> = common.transparent().iter().map(|t| t.tag).collect();
    assert_eq!(tags, [Tag(0x9F10), Tag(0x9F26), Tag(0x9F36), Tag(0x9F37)]);
    assert_eq!(p.encode().unwrap(), EMVCO_CPM_SAMPLE);

    match parse_any(EMVCO_CPM_SAMPLE).unwrap() {
        EmvQr::Consumer(c) => assert_eq!(c, p),
        other => panic!("{other:?}"),
    }
}

fn wallet_code() -> ConsumerPayload {
    let app = CpmTemplate::application(&[0xA0, 0, 0, 0, 0x03, 0x10, 0x10])
        .with(0x50, b"VISA DEBIT".to_vec())
        .with(0x5A, vec![0x47, 0x61, 0x73, 0x90, 0x01, 0x01, 0x00, 0x10])
        .with(0x9F25, vec![0x00, 0x10])
        .with(0x9F19, vec![0x04, 0x00, 0x00, 0x00, 0x00, 0x02])
        .with(
            0x57,
            vec![
                0x47, 0x61, 0x73, 0x90, 0x01, 0x01, 0x00, 0x10, 0xD2, 0x81, 0x22, 0x01,
            ],
        )
        .with_template(
            0x63,
            vec![
                Tlv::primitive(0x9F26u32, vec![0x11; 8]),
                Tlv::primitive(0x9F27u32, vec![0x80]),
                Tlv::primitive(0x9F36u32, vec![0x00, 0x2A]),
                Tlv::primitive(0x9F37u32, vec![0xDE, 0xAD, 0xBE, 0xEF]),
            ],
        );
    ConsumerPayload {
        applications: vec![app],
        common: None,
        other: vec![],
    }
}

#[test]
fn build_then_parse() {
    let code = wallet_code();
    let text = code.encode().unwrap();
    assert!(text.starts_with("hQVDUFYwMW"));
    let parsed = cpm::parse(&text).unwrap();
    assert_eq!(parsed, code);
    let app = &parsed.applications[0];
    assert_eq!(app.last4().as_deref(), Some("0010"));
    assert_eq!(app.token_requestor_id().as_deref(), Some("040000000002"));
    assert_eq!(app.transparent().len(), 4);
    // Padding is optional on input.
    assert_eq!(cpm::parse(text.trim_end_matches('=')).unwrap(), code);
}

#[test]
fn card_data_stays_out_of_summaries_and_debug() {
    let code = wallet_code();
    let summary = ConsumerSummary::of(&code);
    let app = &summary.applications[0];
    assert_eq!(app.pan_masked.as_deref(), Some("476173******0010"));
    assert!(app.has_track2);
    assert_eq!(app.transparent_tags, ["9F26", "9F27", "9F36", "9F37"]);
    let json = serde_json::to_string(&summary).unwrap();
    assert!(!json.contains("4761739001010010"), "{json}");
    assert!(!json.contains("DEADBEEF"), "{json}");
    let debug = format!("{code:?}");
    assert!(
        !debug.contains("4761739001010010") && !debug.contains("71, 97, 115"),
        "{debug}"
    );
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn rejections() {
    let app = [0x61, 0x03, 0x4F, 0x01, 0xA0];
    let pfi = [0x85, 0x05, b'C', b'P', b'V', b'0', b'1'];
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "empty_payload"),
        ("not base64!".into(), "invalid_base64"),
        (b64(&app), "missing_payload_format"),
        (
            b64(&[
                0x85, 0x05, b'C', b'P', b'V', b'0', b'2', 0x61, 0x03, 0x4F, 0x01, 0xA0,
            ]),
            "unsupported_payload_format",
        ),
        (b64(&pfi), "missing_application"),
        (
            b64(&[&pfi[..], &[0x61, 0x03, 0x50, 0x01, b'X']].concat()),
            "missing_aid",
        ),
        (
            b64(&[&pfi[..], &app, &[0x62, 0x00, 0x62, 0x00]].concat()),
            "duplicate_tag",
        ),
        (b64(&[&pfi[..], &app, &pfi].concat()), "duplicate_tag"),
        (
            b64(&[&pfi[..], &[0x61, 0x05, 0x4F, 0x01]].concat()),
            "malformed_tlv",
        ),
    ];
    for (payload, code) in cases {
        let err = cpm::parse(&payload).unwrap_err();
        assert_eq!(err.code(), code, "{payload}: {err}");
    }
    assert_eq!(
        ConsumerPayload::default().encode(),
        Err(CpmError::MissingApplication)
    );
    let no_aid = ConsumerPayload {
        applications: vec![CpmTemplate::default().with(0x50, b"X".to_vec())],
        ..Default::default()
    };
    assert_eq!(no_aid.encode(), Err(CpmError::MissingAid { index: 0 }));
}

#[test]
fn parse_any_tells_the_modes_apart() {
    let mpm = "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D";
    assert!(matches!(parse_any(mpm), Ok(EmvQr::Merchant(m)) if m.crc_valid));
    let damaged = mpm.replace("1D3D", "1D3E");
    assert!(matches!(parse_any(&damaged), Ok(EmvQr::Merchant(m)) if !m.crc_valid));
    assert_eq!(
        parse_any("https://example.com").unwrap_err().code(),
        "not_emv_qr"
    );
    assert_eq!(parse_any("000201").unwrap_err().code(), "missing_crc");
    assert_eq!(
        parse_any("hQVDUFYw!!").unwrap_err().code(),
        "invalid_base64"
    );
}

fn tlv_value() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..40)
}

fn template() -> impl Strategy<Value = CpmTemplate> {
    (
        proptest::collection::vec(any::<u8>(), 5..=16),
        proptest::collection::vec(
            (
                prop::sample::select(vec![
                    0x50u32, 0x57, 0x5A, 0x5F20, 0x5F2D, 0x9F08, 0x9F19, 0x9F24, 0x9F25,
                ]),
                tlv_value(),
            ),
            0..5,
        ),
        proptest::collection::vec(
            (
                prop::sample::select(vec![0x9F26u32, 0x9F27, 0x9F10, 0x9F36, 0x9F37, 0x82]),
                tlv_value(),
            ),
            0..5,
        ),
    )
        .prop_map(|(aid, objects, transparent)| {
            let mut t = CpmTemplate::application(&aid);
            for (tag, v) in objects {
                t = t.with(tag, v);
            }
            if !transparent.is_empty() {
                t = t.with_template(
                    0x63,
                    transparent
                        .into_iter()
                        .map(|(tag, v)| Tlv::primitive(tag, v))
                        .collect(),
                );
            }
            t
        })
}

proptest! {
    #[test]
    fn consumer_round_trip(
        applications in proptest::collection::vec(template(), 1..3),
        common in proptest::option::of(template()),
    ) {
        let code = ConsumerPayload { applications, common, other: vec![] };
        let text = code.encode().unwrap();
        prop_assert_eq!(cpm::parse(&text).unwrap(), code);
    }
}

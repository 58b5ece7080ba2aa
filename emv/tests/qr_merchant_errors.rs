//! Merchant-presented payloads that must be rejected, each with its stable
//! error code, and the deviations that are tolerated with a warning.

use emv::qr::crc::{crc16_ccitt_false, crc_hex};
use emv::qr::{mpm, FieldId, MpmError, QrWarning};

const PIX: &str = "26360014br.gov.bcb.pix0114+5561999990000";

/// `body` with a correct CRC appended.
fn with_crc(body: &str) -> String {
    let mut s = format!("{body}6304");
    s.push_str(&crc_hex(crc16_ccitt_false(s.as_bytes())));
    s
}

/// A valid payload with `middle` between the merchant account and the
/// country, and a correct CRC.
fn payload(middle: &str) -> String {
    with_crc(&format!(
        "000201010211{PIX}{middle}5802BR5905Alice6006Recife"
    ))
}

fn error(payload: &str) -> MpmError {
    match mpm::parse(payload) {
        Ok(_) => panic!("accepted"),
        Err(e) => e,
    }
}

fn code(payload: &str) -> &'static str {
    error(payload).code()
}

fn warnings(payload: &str) -> Vec<QrWarning> {
    match mpm::parse(payload) {
        Ok(p) => p.warnings,
        Err(e) => panic!("{}: {e}", e.code()),
    }
}

#[test]
fn the_base_payload_is_valid() {
    assert_eq!(warnings(&payload("520400005303986")), vec![]);
}

#[test]
fn wrong_crc() {
    let good = payload("520400005303986");
    let bad = format!("{}0000", &good[..good.len() - 4]);
    let err = error(&bad);
    assert_eq!(err.code(), "crc_mismatch");
    assert!(matches!(err, MpmError::CrcMismatch { found: 0, .. }));
    // Inspecting reports it instead, so the app can say what is wrong.
    let inspected = mpm::inspect(&bad).unwrap();
    assert!(!inspected.crc_valid);
    assert_eq!(inspected.payload.merchant_name.as_deref(), Some("Alice"));
    let q = emv::qr::inspect_merchant_qr(&bad).unwrap();
    assert!(!q.crc_valid);
    assert_eq!(
        emv::qr::parse_merchant_qr(&bad).unwrap_err().code(),
        "crc_mismatch"
    );
}

#[test]
fn a_changed_character_breaks_the_crc() {
    let good = payload("520400005303986");
    let tampered = good.replace("Alice", "Alica");
    assert_eq!(code(&tampered), "crc_mismatch");
}

#[test]
fn missing_or_misplaced_crc() {
    let body = format!("000201{PIX}5303986" /* no CRC */);
    assert_eq!(code(&format!("{body}5802BR")), "missing_crc");
    let crc_first = format!("000201{PIX}6304ABCD53039865802BR");
    assert_eq!(code(&crc_first), "crc_not_last");
    assert_eq!(code(&format!("{body}5802BR6303ABC")), "malformed_crc");
    assert_eq!(code(&format!("{body}5802BR6304XYZW")), "malformed_crc");
}

#[test]
fn lowercase_crc_is_accepted_with_a_warning() {
    let good = payload("520400005303986");
    let (body, crc) = good.split_at(good.len() - 4);
    let lower = format!("{body}{}", crc.to_ascii_lowercase());
    if lower == good {
        // The CRC happens to be all digits; nothing to lowercase.
        return;
    }
    assert_eq!(warnings(&lower), vec![QrWarning::LowercaseCrc]);
}

#[test]
fn truncated_and_overlong_fields() {
    // A header cut short.
    assert_eq!(code("0002010"), "truncated_field");
    assert!(matches!(
        error("000201590"),
        MpmError::Truncated { position: 6 }
    ));
    // A declared length longer than what remains.
    let err = error("0002015930Alice");
    assert_eq!(err.code(), "length_overflow");
    assert_eq!(
        err,
        MpmError::LengthOverflow {
            field: FieldId::top(59),
            declared: 30,
            remaining: 5
        }
    );
    // The same inside a template.
    let err = error(&with_crc("00020126080014ABCD53039865802BR"));
    assert_eq!(
        err,
        MpmError::LengthOverflow {
            field: FieldId::sub(26, 0),
            declared: 14,
            remaining: 4
        }
    );
}

#[test]
fn non_numeric_ids_and_lengths() {
    assert_eq!(code("0002015A05Alice"), "non_numeric_id");
    assert_eq!(code("00020159A5Alice"), "non_numeric_length");
    assert_eq!(code("00 201"), "non_numeric_length");
}

#[test]
fn duplicate_ids() {
    let err = error(&payload("5204000053039865903Bob"));
    assert_eq!(err.code(), "duplicate_id");
    let err = error(&payload("520400005303986621405031230503456"));
    assert_eq!(
        err,
        MpmError::DuplicateId {
            field: FieldId::sub(62, 5)
        }
    );
}

#[test]
fn fields_longer_than_the_specification_allows() {
    // 26 characters of merchant name (max 25).
    let body = format!(
        "000201{PIX}520400005303986{}",
        "5802BR5926ABCDEFGHIJKLMNOPQRSTUVWXYZ6006Recife"
    );
    let err = error(&with_crc(&body));
    assert_eq!(
        err,
        MpmError::TooLong {
            field: FieldId::top(59),
            len: 26,
            max: 25
        }
    );
    assert_eq!(err.code(), "field_too_long");
    // Published as an example by phannaly/emv-qr-code: its city, "Banteay
    // Meanchey", is 16 characters where EMVCo allows 15.
    let kh = "00020101021252044131153137210116372101160123456789ABCDE6016Banteay Meanchey5913Kuntheas Shop5802KH540510.005303840621201081234567863041FF2";
    assert_eq!(code(kh), "field_too_long");
    // Bill number over 25 characters inside ID 62.
    let bill = format!("62300126{}", "X".repeat(26));
    assert_eq!(
        error(&payload(&format!("520400005303986{bill}"))),
        MpmError::TooLong {
            field: FieldId::sub(62, 1),
            len: 26,
            max: 25
        }
    );
    // A fixed-length field of the wrong length.
    assert_eq!(
        error(&payload("52030005303986")),
        MpmError::WrongLength {
            field: FieldId::top(52),
            len: 3,
            expected: 4
        }
    );
}

#[test]
fn malformed_values() {
    for (middle, expected) in [
        ("52040000530398654041,00", "invalid_amount"),
        ("5204000053039865405-5.00", "invalid_amount"),
        ("52040000530398654051.2.3", "invalid_amount"),
        ("5204000053039865403.50", "invalid_amount"),
        ("520400005303ABC", "invalid_currency"),
        ("52041A345303986", "invalid_mcc"),
        ("520400005303986550204", "invalid_tip_indicator"),
        ("520400005303986550202", "missing_tip_value"),
        ("520400005303986550203", "missing_tip_value"),
        ("5204000053039865502035703150", "invalid_percentage"),
        ("520400005303986550203570200", "invalid_percentage"),
        ("520400005303986550202560312,", "invalid_amount"),
        ("5204000053039865900", "empty_value"),
        ("52040000530398662060002ab", "unexpected_id"),
        ("52040000530398664110002ZH9901X", "missing_field"),
        ("52040000530398664150002Z10105Alice", "invalid_language"),
        ("5204000053039862705hello", "malformed_template"),
    ] {
        assert_eq!(code(&payload(middle)), expected, "{middle}");
    }
    let bad_country = with_crc(&format!("000201{PIX}5204000053039865802br5905Alice"));
    assert_eq!(code(&bad_country), "invalid_country");
    let bad_poi = with_crc(&format!("000201010213{PIX}53039865802BR"));
    assert_eq!(code(&bad_poi), "invalid_point_of_initiation");
}

#[test]
fn missing_mandatory_fields() {
    let no_currency = with_crc(&format!("000201{PIX}5802BR"));
    assert_eq!(
        error(&no_currency),
        MpmError::MissingField {
            field: FieldId::top(53)
        }
    );
    let no_country = with_crc(&format!("000201{PIX}5303986"));
    assert_eq!(
        error(&no_country),
        MpmError::MissingField {
            field: FieldId::top(58)
        }
    );
    let no_account = with_crc("00020153039865802BR");
    assert_eq!(code(&no_account), "missing_merchant_account");
}

#[test]
fn payload_format_indicator() {
    let v2 = with_crc(&format!(
        "000202{PIX}5204000053039865802BR5905Alice6006Recife"
    ));
    assert_eq!(warnings(&v2), vec![QrWarning::PayloadFormat02]);
    let v3 = with_crc(&format!("000203{PIX}53039865802BR"));
    assert_eq!(code(&v3), "unsupported_payload_format");
    let not_first = with_crc(&format!("{PIX}00020153039865802BR"));
    assert_eq!(code(&not_first), "payload_format_not_first");
    assert_eq!(code(""), "empty_payload");
}

#[test]
fn person_to_person_codes_without_mcc_name_or_city() {
    let p2p = with_crc(&format!("000201010211{PIX}53039865802BR"));
    assert_eq!(
        warnings(&p2p),
        vec![
            QrWarning::MissingMcc,
            QrWarning::MissingMerchantName,
            QrWarning::MissingMerchantCity
        ]
    );
    let codes: Vec<&str> = warnings(&p2p).iter().map(QrWarning::code).collect();
    assert_eq!(
        codes,
        [
            "missing_mcc",
            "missing_merchant_name",
            "missing_merchant_city"
        ]
    );
}

#[test]
fn other_warnings() {
    assert_eq!(
        warnings(&payload("5204000053030015405100.0")),
        vec![QrWarning::UnknownCurrency]
    );
    assert_eq!(
        warnings(&payload("520400005303392540410.5")),
        vec![QrWarning::AmountPrecision]
    );
    assert_eq!(
        warnings(&payload("5204000053039865603100")),
        vec![QrWarning::UnexpectedFeeField { id: 56 }]
    );
    assert_eq!(
        warnings(&payload("52040000530398680080104abcd")),
        vec![QrWarning::MissingGuid { id: 80 }]
    );
}

#[test]
fn lengths_counted_in_bytes_are_tolerated() {
    // "São" is 3 characters and 4 bytes; this encoder counted bytes.
    let bytes = with_crc(&format!(
        "000201{PIX}5204000053039865802BR5904São6006Recife"
    ));
    let parsed = mpm::parse(&bytes).unwrap();
    assert_eq!(parsed.payload.merchant_name.as_deref(), Some("São"));
    assert_eq!(parsed.warnings, vec![QrWarning::LengthCountsBytes]);
    // Counted in characters, as specified, there is no warning.
    let chars = with_crc(&format!(
        "000201{PIX}5204000053039865802BR5903São6006Recife"
    ));
    assert_eq!(mpm::parse(&chars).unwrap().warnings, vec![]);
}

#[test]
fn messages_do_not_echo_the_payload() {
    let secretish = "ZZSECRETZZSECRETZZSECRETZZ";
    let body = format!(
        "000201{PIX}5204000053039865802BR59{:02}{secretish}",
        secretish.len()
    );
    let err = error(&with_crc(&body));
    assert_eq!(err.code(), "field_too_long");
    assert!(!err.to_string().contains("SECRET"), "{err}");
    let valid = with_crc(&format!("000201{PIX}5204000053039865802BR5906SECRET"));
    let err = error(&format!("{}0000", &valid[..valid.len() - 4]));
    assert_eq!(err.code(), "crc_mismatch");
    assert!(!err.to_string().contains("SECRET"), "{err}");
    for e in [error("0002015930Alice"), error("0002015A05Alice")] {
        assert!(!e.to_string().contains("Alice"), "{e}");
    }
}

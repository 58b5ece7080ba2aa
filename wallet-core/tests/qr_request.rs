//! From a scanned payload to a payment request, and receive-money codes
//! back again.

use rust_decimal::Decimal;
use wallet_core::qr::{PaymentRequest, PointOfInitiation, ReceiveRequest, TipRule};
use wallet_core::{Currency, Money};

/// The Pix manual's example static code (Banco Central do Brasil).
const PIX: &str = "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D";

fn with_crc(body: &str) -> String {
    let body = format!("{body}6304");
    let crc = emv::qr::crc::crc16_ccitt_false(body.as_bytes());
    format!("{body}{crc:04X}")
}

#[test]
fn a_pix_code_becomes_a_request_the_customer_completes() {
    let r = PaymentRequest::from_payload(PIX).unwrap();
    assert_eq!(r.merchant_name.as_deref(), Some("Fulano de Tal"));
    assert_eq!(r.merchant_city.as_deref(), Some("BRASILIA"));
    assert_eq!(r.country, "BR");
    assert_eq!(r.mcc.as_deref(), Some("0000"));
    assert_eq!(r.currency, Currency::from_code("BRL").unwrap());
    assert!(r.customer_enters_amount());
    assert_eq!(r.tip, TipRule::None);
    assert!(r.crc_valid);
    assert_eq!(r.schemes.len(), 1);
    assert_eq!(r.schemes[0].tag, "26");
    assert_eq!(r.schemes[0].scheme, "pix");
    assert_eq!(r.schemes[0].guid.as_deref(), Some("br.gov.bcb.pix"));
    assert_eq!(
        r.schemes[0].payee.as_deref(),
        Some("123e4567-e12b-12d1-a456-426655440000")
    );
    assert_eq!(
        r.additional_data.get("reference_label").map(String::as_str),
        Some("***")
    );
    assert_eq!(r.payload, PIX);

    let json = serde_json::to_value(&r).unwrap();
    for field in [
        "merchant_name",
        "merchant_city",
        "country",
        "mcc",
        "currency",
        "amount",
        "point_of_initiation",
        "schemes",
        "additional_data",
        "crc_valid",
        "warnings",
    ] {
        assert!(json.get(field).is_some(), "{field} missing from {json}");
    }
    assert_eq!(json["currency"], "BRL");
    assert!(json["amount"].is_null());
}

#[test]
fn amounts_tips_and_initiation_map_to_wallet_types() {
    let body = "00020101021229370016A000000677010111011300668123456785204581253037645406129.50550202560510.005802TH5915SOMCHAI NOODLES6007BANGKOK";
    let r = PaymentRequest::from_payload(&with_crc(body)).unwrap();
    let thb = Currency::from_code("THB").unwrap();
    assert_eq!(r.amount, Some(Money::parse("129.50", thb).unwrap()));
    assert_eq!(r.point_of_initiation, Some(PointOfInitiation::Dynamic));
    assert_eq!(
        r.tip,
        TipRule::FixedFee {
            fee: Money::parse("10.00", thb).unwrap()
        }
    );
    assert_eq!(r.category, "restaurants");
    assert_eq!(r.schemes[0].scheme, "promptpay");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["amount"], "129.50");
    assert_eq!(json["point_of_initiation"], "dynamic");
    assert_eq!(json["tip"]["kind"], "fixed_fee");
}

#[test]
fn a_wrong_crc_is_reported_not_hidden() {
    let bad = PIX.replace("1D3D", "1D3E");
    let r = PaymentRequest::from_payload(&bad).unwrap();
    assert!(!r.crc_valid);
}

#[test]
fn tolerated_deviations_are_warnings() {
    let lower = PIX.replace("1D3D", "1d3d");
    let r = PaymentRequest::from_payload(&lower).unwrap();
    assert!(r.crc_valid);
    assert!(
        r.warnings.iter().any(|w| w.code == "lowercase_crc"),
        "{:?}",
        r.warnings
    );
}

#[test]
fn broken_payloads_are_typed_errors() {
    for bad in ["", "hello", "000201", &PIX[..PIX.len() - 10]] {
        let e = PaymentRequest::from_payload(bad).unwrap_err();
        assert_eq!(e.code(), "invalid_qr", "{bad}: {e}");
    }
    // A currency no wallet can pay in (999 is ISO 4217's "no currency").
    let body = "00020101021126180014br.gov.bcb.pix52040000530399954031.005802BR5903ABC6003XYZ";
    let e = PaymentRequest::from_payload(&with_crc(body)).unwrap_err();
    assert_eq!(e.code(), "invalid_qr");
}

#[test]
fn receive_requests_round_trip() {
    let eur = Currency::from_code("EUR").unwrap();
    let req = ReceiveRequest {
        name: "Ada Lovelace".into(),
        city: "London".into(),
        country: "GB".into(),
        currency: eur,
        amount: Some(Money::parse("12.5", eur).unwrap()),
        mcc: None,
        account: Some("ada@billfold".into()),
        scheme_guid: ReceiveRequest::BILLFOLD_GUID.into(),
        reference: Some("dinner".into()),
    };
    let payload = req.payload().unwrap();
    let back = PaymentRequest::from_payload(&payload).unwrap();
    assert!(back.crc_valid);
    assert_eq!(back.merchant_name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(back.amount.unwrap().amount(), Decimal::new(1250, 2));
    assert_eq!(back.currency, eur);
    assert_eq!(back.schemes[0].guid.as_deref(), Some("app.billfold"));
    assert_eq!(back.schemes[0].payee.as_deref(), Some("ada@billfold"));
    assert_eq!(back.additional_data["reference_label"], "dinner");
    assert_eq!(back.point_of_initiation, Some(PointOfInitiation::Dynamic));
    assert!(req.code().unwrap().size >= 21);

    let open = ReceiveRequest {
        amount: None,
        ..req.clone()
    };
    let back = PaymentRequest::from_payload(&open.payload().unwrap()).unwrap();
    assert!(back.customer_enters_amount());
    assert_eq!(back.point_of_initiation, Some(PointOfInitiation::Static));

    let usd = Currency::from_code("USD").unwrap();
    let wrong = ReceiveRequest {
        amount: Some(Money::parse("1", usd).unwrap()),
        ..req.clone()
    };
    assert_eq!(wrong.payload().unwrap_err().code(), "currency_mismatch");
    let long_name = ReceiveRequest {
        name: "x".repeat(40),
        ..req
    };
    assert_eq!(long_name.payload().unwrap_err().code(), "invalid_qr");
}

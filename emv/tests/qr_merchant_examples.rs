//! Public example payloads of the EMVCo merchant-presented specification
//! and of national schemes, parsed end to end. Each constant says where it
//! was published; the CRCs are the publishers', not recomputed here.

use emv::qr::{
    self, mpm, Category, MerchantQr, PayeeKind, PointOfInitiation, QrWarning, Scheme, TipRule,
};

/// EMVCo QR Code Specification for Payment Systems, Merchant-Presented
/// Mode v1.0/v1.1, Appendix A example ("BEST TRANSPORT", Beijing), as
/// reproduced in the test suites of open-source EMV QR libraries (e.g.
/// juanroman/StandardizedQR, Exemvi). Template 64 carries Chinese text
/// whose lengths count characters.
const EMVCO_SPEC_SAMPLE: &str = "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A";

/// Banco Central do Brasil, "Manual de Padrões para Iniciação do Pix",
/// static BR Code example with a random key (also quoted in the docs of
/// brazilian-utils' isValidPixPayload).
const PIX_BCB_MANUAL: &str = "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D";

/// PromptPay, phone 081-234-5678, static and with THB 100.00: the outputs
/// of the reference `promptpay-qr` package (dtinth/promptpay-qr), as
/// pinned in downstream test suites.
const PROMPTPAY_STATIC: &str =
    "00020101021129370016A000000677010111011300668123456785802TH530376463045D82";
const PROMPTPAY_AMOUNT: &str =
    "00020101021229370016A000000677010111011300668123456785802TH53037645406100.006304BB8A";

/// PayNow (Singapore), Woodbridge Hospital Charity Fund by UEN, from the
/// pyPayNowSg test suite.
const PAYNOW_UEN: &str = "00020101021126400009SG.PAYNOW010120213200002150HWCF030115204000053037025802SG5923NATIONAL HEALTHCARE GRO6009Singapore6304DF3F";

/// SGQR, the sample of the SGQR specification ("FOOD XYZ PTE LTD"): one
/// code carrying Visa, Mastercard, Amex, UnionPay and thirteen
/// Singaporean wallets, with the SGQR registry template in ID 51.
const SGQR_SPEC_SAMPLE: &str = "00020101021102164761360000000*1704155123456789123451110123456789012153123456789012341531250003440001034450003445311000126330015SG.COM.DASH.WWW0110000005550127670014A00000076200010120COM.LQDPALLIANCE.WWW021512345678901234503020028660011SG.COM.OCBC0147OCBCP2P629A358D-ECE7-4554-AD56-EBD12D84CA7E4F7329500006SG.EZI013603600006-76bb-4a5a-aa1a-fbcb64d6ecf530850013SG.COM.EZLINK01201234567890123456-1230204SGQR0324A123456,B123456,C12345670404A23X31260008COM.GRAB0110A93FO3230Q32390007COM.DBS011012345678900210123456789033900011SG.COM.NETS01230201401832831128823590002150001118703240000308885872010901199084E5DC3D834430017COM.QQ.WEIXIN.PAY011012345678900204123435660010SG.COM.UOB014845D233507F5E8C306E3871A4E9FACA601A80C114B5645E5D36940009SG.PAYNOW010100216+6212345678901230301004351234567890123456789012345678901234505082020123137270009SG.AIRPAY0110A11BC0000X51860007SG.SGQR0112201803070317020701.0003030608100604020205031380609Counter010708201804075204581453037025802SG5916FOOD XYZ PTE LTD6009SINGAPORE610608100663043320";

/// PayNow + SGQR for an individual's UEN, from the README of the PHP
/// EmvMerchantDecoder library ("RATINAN LEE").
const PAYNOW_SGQR: &str = "00020101021126490009SG.PAYNOW010120210202012345X0301104082021123151820007SG.SGQR0113202012345X123020701.000103068286710402010503123060400000708201912315204000053037025802SG5911RATINAN LEE6009SINGAPORE610682876162140110987654321X630429FD";

/// DuitNow QR (Malaysia), PayNet developer documentation, "QR Code
/// Examples", Example 1: Static Retail POS. Payload format "02".
const DUITNOW_PAYNET: &str = "00020201021126410014A000000615000101065016640209123456789520499995303458540510.005802MY5909QRCSDNBHD6005BANGI6304343F";

/// VietQR (NAPAS IBFT to account), from the README of subiz/vietqr:
/// BIN 970415, account 0011001932418, VND 120000. No MCC, name or city.
const VIETQR_ACCOUNT: &str = "00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA530370454061200005802VN62170813ung ho lu lut6304C15C";

/// KHQR (Cambodia), individual account in tag 29, USD 1.0: the vector of
/// the NBC "KHQR SDK Document".
const KHQR_NBC: &str = "00020101021229180014jonhsmith@nbcq52045999530384054031.05802KH5910Jonh Smith6010Phnom Penh6304C297";

/// KHQR with additional data, a Chinese alternate-language template and a
/// timestamp in unreserved template 99, from the README of ts-khqr.
const KHQR_FULL: &str = "00020101021229420013ishinvin@devb01090123456780208Dev Bank5204599953031165405100005802KH5909Ishin Vin6010Phnom Penh62680114INV-2022-12-250211855123456780310Ishin Shop07060123450807Payment64180002ZH0102文山0202金边9917001316935559673876304AE27";

/// Bharat QR (India) with Visa, Mastercard, RuPay, IFSC account and UPI
/// (tags 26 and 27), from Razorpay's QR Codes API documentation.
const BHARAT_QR_RAZORPAY: &str = "000201010212021643926300000000850415540461000000008061661005900000000890827YESB0CMSNOC222333004882700126430010A0000005240117razorpaybqr@icici02041.1027350010A0000005240117RZPGT8ildsFTgS5Sp52047531530335654041.105802IN5906zxcbmn6005Delhi610611008562300514GT8ildsFTgS5Sp070838R004506304B6A9";

/// QRIS-style acquirer template (ID.CO.SHOPEE.WWW), from the README of
/// sunary/qris. No MCC.
const QRIS_SUNARY: &str = "00020101021226380016ID.CO.SHOPEE.WWW010201020815863724530336054061440005802ID5921PT. SHOPPEE INDONESIA6007JAKARTA62180814gen by go-qris63049635";

/// UnionPay merchant ID in ID 15, from the README of dongri/emv-qrcode.
const UNIONPAY_DONGRI: &str = "0002010102121516ABCDEF123456789052045311530339254039995802JP5906DONGRI6005TOKYO62240104hoge0504fuga0704piyo63043FE6";

fn request(payload: &str) -> MerchantQr {
    match qr::parse_merchant_qr(payload) {
        Ok(q) => q,
        Err(e) => panic!("{}: {e}", e.code()),
    }
}

#[test]
fn emvco_specification_sample() {
    let parsed = mpm::parse(EMVCO_SPEC_SAMPLE).unwrap();
    assert!(parsed.crc_valid);
    assert_eq!(parsed.crc, "A13A");
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let p = &parsed.payload;
    assert_eq!(p.point_of_initiation, Some(PointOfInitiation::Dynamic));
    assert_eq!(p.merchant_accounts.len(), 2);
    assert_eq!(p.merchant_accounts[0].guid(), Some("D15600000000"));
    assert_eq!(p.merchant_accounts[0].field(5), Some("A93FO3230Q"));
    assert_eq!(p.tip, TipRule::Prompt);
    let lang = p.language.as_ref().unwrap();
    assert_eq!(lang.language, "ZH");
    assert_eq!(lang.merchant_name, "最佳运输");
    assert_eq!(lang.merchant_city.as_deref(), Some("北京"));
    let data = p.additional_data.as_ref().unwrap();
    assert_eq!(data.store_label.as_deref(), Some("1234"));
    assert_eq!(data.customer_label.as_deref(), Some("***"));
    assert_eq!(data.terminal_label.as_deref(), Some("A6008667"));
    assert_eq!(data.consumer_data_request.as_deref(), Some("ME"));
    assert_eq!(p.unreserved.len(), 1);
    assert_eq!(p.unreserved[0].id, 91);
    assert_eq!(p.unreserved[0].field(0), Some("A011223344998877"));

    let q = request(EMVCO_SPEC_SAMPLE);
    assert_eq!(q.merchant_name.as_deref(), Some("BEST TRANSPORT"));
    assert_eq!(q.merchant_city.as_deref(), Some("BEIJING"));
    assert_eq!(q.country, "CN");
    assert_eq!(q.mcc.as_deref(), Some("4111"));
    assert_eq!(q.category, Category::Transport);
    assert_eq!(q.currency.as_deref(), Some("CNY"));
    assert_eq!(q.amount.as_deref(), Some("23.72"));
}

#[test]
fn emvco_sample_json_view() {
    let json = serde_json::to_value(request(EMVCO_SPEC_SAMPLE)).unwrap();
    let expected = serde_json::json!({
        "merchant_name": "BEST TRANSPORT",
        "merchant_city": "BEIJING",
        "country": "CN",
        "mcc": "4111",
        "category": "transport",
        "currency": "CNY",
        "amount": "23.72",
        "tip": {"kind": "prompt"},
        "point_of_initiation": "dynamic",
        "schemes": [
            {"tag": "29", "scheme": "other", "guid": "D15600000000", "payee": null},
            {"tag": "31", "scheme": "other", "guid": "D15600000001", "payee": null}
        ],
        "additional_data": {
            "store_label": "1234",
            "customer_label": "***",
            "terminal_label": "A6008667",
            "consumer_data_request": "ME"
        },
        "language": {"language": "ZH", "merchant_name": "最佳运输", "merchant_city": "北京"},
        "crc_valid": true,
        "warnings": []
    });
    assert_eq!(json, expected);
}

#[test]
fn pix_bcb_manual() {
    let q = request(PIX_BCB_MANUAL);
    assert_eq!(q.merchant_name.as_deref(), Some("Fulano de Tal"));
    assert_eq!(q.currency.as_deref(), Some("BRL"));
    assert_eq!(q.category, Category::Unspecified);
    assert!(q.payer_enters_amount());
    assert_eq!(q.point_of_initiation, None);
    let s = &q.schemes[0];
    assert_eq!((s.tag, s.scheme), (26, Scheme::Pix));
    assert_eq!(s.guid.as_deref(), Some("br.gov.bcb.pix"));
    let payee = s.payee.as_ref().unwrap();
    assert_eq!(payee.kind, PayeeKind::RandomKey);
    assert_eq!(payee.value, "123e4567-e12b-12d1-a456-426655440000");
    assert_eq!(
        q.additional_data.get("reference_label").map(String::as_str),
        Some("***")
    );
}

#[test]
fn promptpay_reference_payloads() {
    let q = request(PROMPTPAY_STATIC);
    assert_eq!(q.point_of_initiation, Some(PointOfInitiation::Static));
    assert_eq!(q.currency.as_deref(), Some("THB"));
    assert_eq!(q.amount, None);
    let s = &q.schemes[0];
    assert_eq!(s.scheme, Scheme::PromptPay);
    let payee = s.payee.as_ref().unwrap();
    assert_eq!(
        (payee.kind, payee.value.as_str()),
        (PayeeKind::Phone, "0066812345678")
    );
    // Person-to-person: no MCC, name or city, accepted with warnings.
    assert_eq!(
        q.warnings,
        vec![
            QrWarning::MissingMcc,
            QrWarning::MissingMerchantName,
            QrWarning::MissingMerchantCity
        ]
    );

    let q = request(PROMPTPAY_AMOUNT);
    assert_eq!(q.point_of_initiation, Some(PointOfInitiation::Dynamic));
    assert_eq!(q.amount.as_deref(), Some("100.00"));
}

#[test]
fn paynow_by_uen() {
    let q = request(PAYNOW_UEN);
    assert_eq!(q.currency.as_deref(), Some("SGD"));
    let s = &q.schemes[0];
    assert_eq!(s.scheme, Scheme::PayNow);
    let payee = s.payee.as_ref().unwrap();
    assert_eq!(
        (payee.kind, payee.value.as_str()),
        (PayeeKind::Uen, "200002150HWCF")
    );
}

#[test]
fn sgqr_specification_sample() {
    let q = request(SGQR_SPEC_SAMPLE);
    assert_eq!(q.merchant_name.as_deref(), Some("FOOD XYZ PTE LTD"));
    assert_eq!(q.category, Category::Restaurants);
    let schemes: Vec<(u8, Scheme)> = q.schemes.iter().map(|s| (s.tag, s.scheme)).collect();
    assert_eq!(schemes.len(), 18);
    for expected in [
        (2, Scheme::Visa),
        (4, Scheme::Mastercard),
        (11, Scheme::Amex),
        (15, Scheme::UnionPay),
        (33, Scheme::Nets),
        (36, Scheme::PayNow),
        (51, Scheme::Sgqr),
    ] {
        assert!(schemes.contains(&expected), "{expected:?}");
    }
    let sgqr = q.schemes.iter().find(|s| s.scheme == Scheme::Sgqr).unwrap();
    assert_eq!(sgqr.payee.as_ref().unwrap().value, "201803070317");
    let paynow = q
        .schemes
        .iter()
        .find(|s| s.scheme == Scheme::PayNow)
        .unwrap();
    assert_eq!(paynow.payee.as_ref().unwrap().kind, PayeeKind::Phone);
}

#[test]
fn paynow_with_sgqr_and_bill_number() {
    let q = request(PAYNOW_SGQR);
    assert_eq!(q.schemes[0].scheme, Scheme::PayNow);
    assert_eq!(q.schemes[0].payee.as_ref().unwrap().value, "202012345X");
    assert_eq!(q.schemes[1].scheme, Scheme::Sgqr);
    assert_eq!(
        q.additional_data.get("bill_number").map(String::as_str),
        Some("987654321X")
    );
}

#[test]
fn duitnow_paynet_example() {
    let q = request(DUITNOW_PAYNET);
    assert_eq!(q.warnings, vec![QrWarning::PayloadFormat02]);
    assert_eq!(q.currency.as_deref(), Some("MYR"));
    assert_eq!(q.amount.as_deref(), Some("10.00"));
    let s = &q.schemes[0];
    assert_eq!(s.scheme, Scheme::DuitNow);
    let payee = s.payee.as_ref().unwrap();
    assert_eq!(payee.value, "123456789");
    assert_eq!(payee.institution.as_deref(), Some("501664"));
}

#[test]
fn vietqr_account_transfer() {
    let q = request(VIETQR_ACCOUNT);
    assert_eq!(q.currency.as_deref(), Some("VND"));
    assert_eq!(q.amount.as_deref(), Some("120000"));
    assert_eq!(q.merchant_name, None);
    assert_eq!(q.category, Category::Unspecified);
    let s = &q.schemes[0];
    assert_eq!((s.tag, s.scheme), (38, Scheme::VietQr));
    let payee = s.payee.as_ref().unwrap();
    assert_eq!(payee.kind, PayeeKind::BankAccount);
    assert_eq!(payee.value, "0011001932418");
    assert_eq!(payee.institution.as_deref(), Some("970415"));
    assert_eq!(
        q.additional_data.get("purpose").map(String::as_str),
        Some("ung ho lu lut")
    );
}

#[test]
fn khqr_nbc_vector() {
    let q = request(KHQR_NBC);
    assert_eq!(q.currency.as_deref(), Some("USD"));
    assert_eq!(q.amount.as_deref(), Some("1.0"));
    let s = &q.schemes[0];
    assert_eq!((s.tag, s.scheme), (29, Scheme::Bakong));
    let payee = s.payee.as_ref().unwrap();
    assert_eq!(
        (payee.kind, payee.value.as_str()),
        (PayeeKind::BakongAccount, "jonhsmith@nbcq")
    );
}

#[test]
fn khqr_with_language_template_and_timestamp() {
    let parsed = mpm::parse(KHQR_FULL).unwrap();
    let p = &parsed.payload;
    assert_eq!(p.currency, "116");
    let lang = p.language.as_ref().unwrap();
    assert_eq!(lang.merchant_name, "文山");
    assert_eq!(lang.merchant_city.as_deref(), Some("金边"));
    assert_eq!(p.unreserved[0].id, 99);
    assert_eq!(p.unreserved[0].field(0), Some("1693555967387"));
    let q = MerchantQr::from_parsed(&parsed);
    assert_eq!(q.currency.as_deref(), Some("KHR"));
    let payee = q.schemes[0].payee.as_ref().unwrap();
    assert_eq!(payee.institution.as_deref(), Some("Dev Bank"));
    assert_eq!(q.additional_data.len(), 5);
}

#[test]
fn bharat_qr_with_upi() {
    let q = request(BHARAT_QR_RAZORPAY);
    assert_eq!(q.currency.as_deref(), Some("INR"));
    let by_tag = |tag: u8| q.schemes.iter().find(|s| s.tag == tag).unwrap();
    assert_eq!(by_tag(2).scheme, Scheme::Visa);
    assert_eq!(by_tag(4).scheme, Scheme::Mastercard);
    assert_eq!(by_tag(6).scheme, Scheme::Rupay);
    let account = by_tag(8).payee.as_ref().unwrap();
    assert_eq!(account.kind, PayeeKind::BankAccount);
    assert_eq!(account.institution.as_deref(), Some("YESB0CMSNOC"));
    let upi = by_tag(26);
    assert_eq!(upi.scheme, Scheme::Upi);
    let vpa = upi.payee.as_ref().unwrap();
    assert_eq!(
        (vpa.kind, vpa.value.as_str()),
        (PayeeKind::Vpa, "razorpaybqr@icici")
    );
    assert_eq!(by_tag(27).reference.as_deref(), Some("RZPGT8ildsFTgS5Sp"));
}

#[test]
fn qris_acquirer_template() {
    let q = request(QRIS_SUNARY);
    assert_eq!(q.currency.as_deref(), Some("IDR"));
    assert_eq!(q.warnings, vec![QrWarning::MissingMcc]);
    let s = &q.schemes[0];
    assert_eq!(s.scheme, Scheme::Qris);
    let payee = s.payee.as_ref().unwrap();
    assert_eq!(
        (payee.kind, payee.value.as_str()),
        (PayeeKind::MerchantId, "15863724")
    );
}

#[test]
fn unionpay_network_id() {
    let q = request(UNIONPAY_DONGRI);
    assert_eq!(q.currency.as_deref(), Some("JPY"));
    assert_eq!(q.schemes[0].scheme, Scheme::UnionPay);
    assert_eq!(
        q.schemes[0].payee.as_ref().unwrap().value,
        "ABCDEF1234567890"
    );
}

#[test]
fn every_example_reencodes_to_an_equal_payload() {
    for payload in [
        EMVCO_SPEC_SAMPLE,
        PIX_BCB_MANUAL,
        PROMPTPAY_STATIC,
        PROMPTPAY_AMOUNT,
        PAYNOW_UEN,
        SGQR_SPEC_SAMPLE,
        PAYNOW_SGQR,
        DUITNOW_PAYNET,
        VIETQR_ACCOUNT,
        KHQR_NBC,
        KHQR_FULL,
        BHARAT_QR_RAZORPAY,
        QRIS_SUNARY,
        UNIONPAY_DONGRI,
    ] {
        let parsed = mpm::parse(payload).unwrap();
        let encoded = parsed.payload.encode().unwrap();
        assert_eq!(mpm::parse(&encoded).unwrap().payload, parsed.payload);
    }
    // Payloads already in the specification's order come back verbatim.
    for payload in [PIX_BCB_MANUAL, PAYNOW_UEN, KHQR_FULL, UNIONPAY_DONGRI] {
        let parsed = mpm::parse(payload).unwrap();
        assert_eq!(parsed.payload.encode().unwrap(), payload);
    }
}

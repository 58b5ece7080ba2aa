//! The builder: known payloads built from scratch, its rejections, and a
//! property test that whatever it builds parses back to what was built.

use emv::qr::{
    mpm, AdditionalData, DataObject, FieldId, LanguageTemplate, MerchantAccount, MerchantPayload,
    MpmError, PointOfInitiation, Template, TipRule,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::subsequence;

fn pix(key: &str) -> MerchantAccount {
    MerchantAccount::template(26, "br.gov.bcb.pix", [(1, key)])
}

fn minimal() -> MerchantPayload {
    MerchantPayload {
        merchant_accounts: vec![pix("+5561999990000")],
        mcc: Some("5812".into()),
        currency: "986".into(),
        country: "BR".into(),
        merchant_name: Some("Padaria".into()),
        merchant_city: Some("Recife".into()),
        ..Default::default()
    }
}

#[test]
fn builds_the_bcb_manual_example_exactly() {
    // Banco Central do Brasil, "Manual de Padrões para Iniciação do Pix".
    let payload = MerchantPayload {
        merchant_accounts: vec![pix("123e4567-e12b-12d1-a456-426655440000")],
        mcc: Some("0000".into()),
        currency: "986".into(),
        country: "BR".into(),
        merchant_name: Some("Fulano de Tal".into()),
        merchant_city: Some("BRASILIA".into()),
        additional_data: Some(AdditionalData {
            reference_label: Some("***".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(
        payload.encode().unwrap(),
        "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
    );
}

#[test]
fn builds_every_kind_of_data_object() {
    let payload = MerchantPayload {
        point_of_initiation: Some(PointOfInitiation::Dynamic),
        merchant_accounts: vec![
            MerchantAccount::network(2, "4111111111111111"),
            pix("fulano@example.com"),
            MerchantAccount::template(51, "SG.SGQR", [(1, "ABC123")]),
        ],
        mcc: Some("5411".into()),
        currency: "764".into(),
        amount: Some("99.50".into()),
        tip: TipRule::Percentage("12.5".into()),
        country: "TH".into(),
        merchant_name: Some("Market".into()),
        merchant_city: Some("Bangkok".into()),
        postal_code: Some("10110".into()),
        additional_data: Some(AdditionalData {
            bill_number: Some("INV-1".into()),
            terminal_label: Some("T1".into()),
            consumer_data_request: Some("AME".into()),
            merchant_channel: Some("211".into()),
            payment_system_specific: vec![DataObject::new(50, "0004abcd")],
            ..Default::default()
        }),
        language: Some(LanguageTemplate {
            language: "th".into(),
            merchant_name: "ตลาด".into(),
            merchant_city: Some("กรุงเทพ".into()),
            rfu: vec![],
        }),
        rfu: vec![DataObject::new(65, "future")],
        unreserved: vec![Template {
            id: 80,
            fields: vec![DataObject::new(0, "com.example"), DataObject::new(1, "x")],
        }],
    };
    let encoded = payload.encode().unwrap();
    let parsed = mpm::parse(&encoded).unwrap();
    assert_eq!(parsed.payload, payload);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    // The CRC is four uppercase hex digits, and last.
    let crc = &encoded[encoded.len() - 4..];
    assert!(crc
        .bytes()
        .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()));
    assert_eq!(&encoded[encoded.len() - 8..encoded.len() - 4], "6304");
    // Template 64's lengths count characters: "ตลาด" is 4, not 12.
    assert!(encoded.contains("0104ตลาด0207กรุงเทพ"));
}

#[test]
fn tip_rules_encode_their_indicator() {
    for (tip, fragment) in [
        (TipRule::Prompt, "550201"),
        (TipRule::Fixed("2.00".into()), "55020256042.00"),
        (TipRule::Percentage("3".into()), "55020357013"),
    ] {
        let payload = MerchantPayload {
            tip: tip.clone(),
            ..minimal()
        };
        let encoded = payload.encode().unwrap();
        assert!(encoded.contains(fragment), "{encoded}");
        assert_eq!(mpm::parse(&encoded).unwrap().payload.tip, tip);
    }
}

#[test]
fn the_builder_rejects_what_the_parser_would() {
    let cases: Vec<(MerchantPayload, MpmError)> = vec![
        (
            MerchantPayload {
                merchant_name: Some("A".repeat(26)),
                ..minimal()
            },
            MpmError::TooLong {
                field: FieldId::top(59),
                len: 26,
                max: 25,
            },
        ),
        (
            MerchantPayload {
                merchant_accounts: vec![],
                ..minimal()
            },
            MpmError::MissingMerchantAccount,
        ),
        (
            MerchantPayload {
                merchant_accounts: vec![pix("a"), pix("b")],
                ..minimal()
            },
            MpmError::DuplicateId {
                field: FieldId::top(26),
            },
        ),
        (
            MerchantPayload {
                merchant_accounts: vec![MerchantAccount::network(26, "x")],
                ..minimal()
            },
            MpmError::UnexpectedId {
                field: FieldId::top(26),
            },
        ),
        (
            MerchantPayload {
                merchant_accounts: vec![pix(&"k".repeat(78))],
                ..minimal()
            },
            MpmError::TooLong {
                field: FieldId::top(26),
                len: 99 + 1,
                max: 99,
            },
        ),
        (
            MerchantPayload {
                amount: Some("1,50".into()),
                ..minimal()
            },
            MpmError::InvalidAmount {
                field: FieldId::top(54),
            },
        ),
        (
            MerchantPayload {
                tip: TipRule::Percentage("100".into()),
                ..minimal()
            },
            MpmError::InvalidPercentage,
        ),
        (
            MerchantPayload {
                currency: "BRL".into(),
                ..minimal()
            },
            MpmError::InvalidCurrency,
        ),
        (
            MerchantPayload {
                currency: String::new(),
                ..minimal()
            },
            MpmError::MissingField {
                field: FieldId::top(53),
            },
        ),
        (
            MerchantPayload {
                country: "Brazil".into(),
                ..minimal()
            },
            MpmError::WrongLength {
                field: FieldId::top(58),
                len: 6,
                expected: 2,
            },
        ),
        (
            MerchantPayload {
                merchant_city: Some(String::new()),
                ..minimal()
            },
            MpmError::EmptyValue {
                field: FieldId::top(60),
            },
        ),
        (
            MerchantPayload {
                rfu: vec![DataObject::new(80, "x")],
                ..minimal()
            },
            MpmError::UnexpectedId {
                field: FieldId::top(80),
            },
        ),
        (
            MerchantPayload {
                additional_data: Some(AdditionalData::default()),
                ..minimal()
            },
            MpmError::EmptyValue {
                field: FieldId::top(62),
            },
        ),
    ];
    for (payload, expected) in cases {
        assert_eq!(payload.encode(), Err(expected));
    }
}

// ---- property test ---------------------------------------------------

fn ascii(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[ -~]{{1,{max}}}")).unwrap()
}

/// Any printable text, most of it outside ASCII, for template 64.
fn unicode(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[\\PC&&[^\\p{{Zl}}\\p{{Zp}}]]{{1,{max}}}")).unwrap()
}

fn amount() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[0-9]{1,7}(\\.[0-9]{0,2})?").unwrap()
}

fn account(id: u8) -> BoxedStrategy<MerchantAccount> {
    if id < 26 {
        ascii(40)
            .prop_map(move |v| MerchantAccount::network(id, v))
            .boxed()
    } else {
        (
            ascii(20),
            subsequence((1u8..=99).collect::<Vec<_>>(), 0..3),
            vec(ascii(20), 3),
        )
            .prop_map(move |(guid, subs, values)| {
                MerchantAccount::template(id, guid, subs.into_iter().zip(values))
            })
            .boxed()
    }
}

fn accounts() -> impl Strategy<Value = Vec<MerchantAccount>> {
    subsequence((2u8..=51).collect::<Vec<_>>(), 1..4)
        .prop_shuffle()
        .prop_flat_map(|ids| ids.into_iter().map(account).collect::<Vec<_>>())
}

fn tip() -> impl Strategy<Value = TipRule> {
    prop_oneof![
        Just(TipRule::None),
        Just(TipRule::Prompt),
        amount().prop_map(TipRule::Fixed),
        proptest::string::string_regex("[1-9][0-9]?(\\.[0-9]{1,2})?")
            .unwrap()
            .prop_map(TipRule::Percentage),
    ]
}

fn additional_data() -> impl Strategy<Value = AdditionalData> {
    (
        subsequence((1u8..=11).collect::<Vec<_>>(), 1..=11),
        vec(ascii(3), 11),
    )
        .prop_map(|(ids, values)| {
            let mut data = AdditionalData::default();
            for (id, value) in ids.into_iter().zip(values) {
                let value = if id == 11 {
                    format!("{value:_<3}")
                } else {
                    value
                };
                if let Some(slot) = emv_slot(&mut data, id) {
                    *slot = Some(value);
                }
            }
            data
        })
}

fn emv_slot(data: &mut AdditionalData, id: u8) -> Option<&mut Option<String>> {
    Some(match id {
        1 => &mut data.bill_number,
        2 => &mut data.mobile_number,
        3 => &mut data.store_label,
        4 => &mut data.loyalty_number,
        5 => &mut data.reference_label,
        6 => &mut data.customer_label,
        7 => &mut data.terminal_label,
        8 => &mut data.purpose,
        9 => &mut data.consumer_data_request,
        10 => &mut data.merchant_tax_id,
        11 => &mut data.merchant_channel,
        _ => return None,
    })
}

fn language() -> impl Strategy<Value = LanguageTemplate> {
    (
        proptest::string::string_regex("[a-zA-Z]{2}").unwrap(),
        unicode(25),
        proptest::option::of(unicode(15)),
    )
        .prop_map(
            |(language, merchant_name, merchant_city)| LanguageTemplate {
                language,
                merchant_name,
                merchant_city,
                rfu: vec![],
            },
        )
}

prop_compose! {
    fn payload()(
        point_of_initiation in proptest::option::of(prop_oneof![
            Just(PointOfInitiation::Static),
            Just(PointOfInitiation::Dynamic)
        ]),
        merchant_accounts in accounts(),
        mcc in proptest::option::of(proptest::string::string_regex("[0-9]{4}").unwrap()),
        currency in prop::sample::select(vec!["986", "764", "702", "458", "360", "704", "116", "356", "156", "840", "978", "392", "414"]),
        amount in proptest::option::of(amount()),
        tip in tip(),
        country in proptest::string::string_regex("[A-Z]{2}").unwrap(),
        merchant_name in proptest::option::of(ascii(25)),
        merchant_city in proptest::option::of(ascii(15)),
        postal_code in proptest::option::of(proptest::string::string_regex("[0-9A-Z -]{1,10}").unwrap()),
        additional_data in proptest::option::of(additional_data()),
        language in proptest::option::of(language()),
        rfu in proptest::option::of((65u8..=79, ascii(30))),
        unreserved in proptest::option::of((80u8..=99, ascii(20), unicode(10))),
    ) -> MerchantPayload {
        MerchantPayload {
            point_of_initiation,
            merchant_accounts,
            mcc,
            currency: currency.to_string(),
            amount,
            tip,
            country,
            merchant_name,
            merchant_city,
            postal_code,
            additional_data,
            language,
            rfu: rfu.map(|(id, v)| DataObject::new(id, v)).into_iter().collect(),
            unreserved: unreserved
                .map(|(id, guid, v)| Template {
                    id,
                    fields: vec![DataObject::new(0, guid), DataObject::new(1, v)],
                })
                .into_iter()
                .collect(),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn build_then_parse_gives_back_the_payload(p in payload()) {
        let encoded = p.encode().unwrap();
        let parsed = mpm::parse(&encoded).unwrap();
        prop_assert!(parsed.crc_valid);
        prop_assert_eq!(&parsed.payload, &p);
        prop_assert!(!parsed.warnings.contains(&emv::qr::QrWarning::LengthCountsBytes));
        // Encoding is deterministic: the parsed payload writes the same text.
        prop_assert_eq!(parsed.payload.encode().unwrap(), encoded);
    }

    #[test]
    fn any_change_to_the_body_is_caught(p in payload(), index in any::<prop::sample::Index>()) {
        let encoded = p.encode().unwrap();
        let body = &encoded[..encoded.len() - 8];
        // Flip one ASCII character of the body to another ASCII character.
        let positions: Vec<usize> = body.char_indices().filter(|(_, c)| c.is_ascii_alphanumeric()).map(|(i, _)| i).collect();
        prop_assume!(!positions.is_empty());
        let at = positions[index.index(positions.len())];
        let old = body.as_bytes()[at];
        let new = if old == b'0' { b'1' } else { b'0' };
        let mut bytes = encoded.clone().into_bytes();
        bytes[at] = new;
        let tampered = String::from_utf8(bytes).unwrap();
        prop_assert!(mpm::parse(&tampered).is_err());
    }
}

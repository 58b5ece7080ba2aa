//! Bad input gets a typed error, stored data survives it, and no error text
//! ever carries a card number (canary values).

mod common;

use common::*;
use proptest::prelude::*;
use wallet_core::{Currency, Error, Money, NewCard, PanProblem};

/// Luhn-valid, so it reaches as deep into the code as a real number would.
const CANARY: &str = "4929123456781236";

fn assert_no_canary(e: &Error) {
    for text in [e.to_string(), format!("{e:?}")] {
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        assert!(!digits.contains(&CANARY[..8]), "leak: {text}");
        assert!(!text.contains(&CANARY[4..12]), "leak: {text}");
    }
}

#[test]
fn canary_is_luhn_valid() {
    assert!(wallet_core::card::luhn_valid(CANARY.as_bytes()));
}

#[test]
fn invalid_cards_give_typed_errors_and_keep_stored_data() {
    let f = fixture();
    let kept = f.wallet.add_card(&new_card(CANARY, "kept")).unwrap();
    let cases: Vec<(NewCard, &str)> = vec![
        (new_card("4929123456781237", "x"), "invalid_pan"),
        (new_card("49291234567", "x"), "invalid_pan"),
        (new_card("4929 1234 5678 1236 5678", "x"), "invalid_pan"),
        (new_card("4929l23456781236", "x"), "invalid_pan"),
        (new_card("", "x"), "invalid_pan"),
        (
            NewCard {
                expiry: "13/29".into(),
                ..new_card(PANS[1], "x")
            },
            "invalid_expiry",
        ),
        (
            NewCard {
                expiry: "1229".into(),
                ..new_card(PANS[1], "x")
            },
            "invalid_expiry",
        ),
        (
            NewCard {
                expiry: "01/20".into(),
                ..new_card(PANS[1], "x")
            },
            "card_expired",
        ),
        (
            NewCard {
                cardholder_name: "".into(),
                ..new_card(PANS[1], "x")
            },
            "invalid_input",
        ),
        (
            NewCard {
                cardholder_name: "   ".into(),
                ..new_card(PANS[1], "x")
            },
            "invalid_input",
        ),
        (
            NewCard {
                cardholder_name: "N".repeat(27),
                ..new_card(PANS[1], "x")
            },
            "invalid_input",
        ),
        (
            NewCard {
                cardholder_name: CANARY.into(),
                ..new_card(PANS[1], "x")
            },
            "invalid_input",
        ),
        (
            NewCard {
                nickname: Some("x".repeat(33)),
                ..new_card(PANS[1], "x")
            },
            "invalid_input",
        ),
        (
            NewCard {
                nickname: Some(CANARY.into()),
                ..new_card(PANS[1], "x")
            },
            "invalid_input",
        ),
        (
            NewCard {
                nickname: Some("bell\u{7}".into()),
                ..new_card(PANS[1], "x")
            },
            "invalid_input",
        ),
        (new_card(CANARY, "again"), "duplicate_card"),
    ];
    for (card, code) in cases {
        let err = f.wallet.add_card(&card).unwrap_err();
        assert_eq!(err.code(), code, "{card:?}");
        assert_no_canary(&err);
        if card.pan == CANARY {
            assert!(
                !format!("{card:?}").contains(CANARY),
                "NewCard's Debug leaks"
            );
        }
    }
    assert_eq!(f.wallet.list_cards().unwrap(), vec![kept]);
    assert_eq!(f.wallet.integrity_check().unwrap(), "ok");
}

#[test]
fn pan_problems_are_specific() {
    let f = fixture();
    let problem = |pan: &str| match f.wallet.add_card(&new_card(pan, "x")) {
        Err(Error::InvalidPan(p)) => p,
        other => panic!("{other:?}"),
    };
    assert_eq!(problem("4929123456781237"), PanProblem::CheckDigit);
    assert_eq!(problem("4929"), PanProblem::Length);
    assert_eq!(problem("4929-1234-abcd-1234"), PanProblem::NotDigits);
}

#[test]
fn invalid_currency_codes_and_amounts() {
    for bad in ["", "US", "USDX", "XXX", "usd1", "€€€", CANARY] {
        let err = Currency::from_code(bad).unwrap_err();
        assert_eq!(err.code(), "invalid_currency");
        assert_no_canary(&err);
    }
    let usd = Currency::from_code("USD").unwrap();
    for bad in ["", "abc", "1.001", "1e5", CANARY.repeat(3).as_str()] {
        let err = Money::parse(bad, usd).unwrap_err();
        assert_eq!(err.code(), "invalid_amount");
        assert_no_canary(&err);
    }
}

#[test]
fn non_utf8_bytes_never_reach_storage_as_text() {
    // The FFI and CLI take bytes; lossy decoding yields U+FFFD, which the
    // validators reject for card numbers and expiries.
    let raw = [0x34u8, 0x31, 0xff, 0xfe, 0x31, 0x31];
    let text = String::from_utf8_lossy(&raw).into_owned();
    let f = fixture();
    let err = f.wallet.add_card(&new_card(&text, "x")).unwrap_err();
    assert_eq!(err.code(), "invalid_pan");
    let err = f
        .wallet
        .add_card(&NewCard {
            expiry: text.clone(),
            ..new_card(PANS[0], "x")
        })
        .unwrap_err();
    assert_eq!(err.code(), "invalid_expiry");
    assert!(f.wallet.list_cards().unwrap().is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever a user types, adding a card returns, never panics, and no
    /// message carries the digits typed.
    #[test]
    fn arbitrary_card_input_never_panics(pan in "\\PC{0,40}", expiry in "\\PC{0,8}", name in "\\PC{0,40}") {
        let f = fixture();
        let r = f.wallet.add_card(&NewCard { pan: pan.clone(), expiry, cardholder_name: name, nickname: None });
        if let Err(e) = r {
            let digits: String = pan.chars().filter(char::is_ascii_digit).collect();
            if digits.len() >= 8 {
                prop_assert!(!e.to_string().contains(&digits));
            }
        }
    }
}

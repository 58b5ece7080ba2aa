//! Card data and its validation: card numbers (Luhn, network by BIN),
//! expiry dates, cardholder names and nicknames, and masking for display.
//!
//! A `Pan` never prints its digits: its `Debug` is redacted, and only
//! `masked()` (at most the BIN and the last four) is meant for screens.

use std::fmt;

use serde::Serialize;
use zeroize::Zeroizing;

use crate::error::{Error, PanProblem, Result};

/// A primary account number that passed the Luhn check.
#[derive(Clone)]
pub struct Pan(Zeroizing<String>);

impl Pan {
    /// Accepts digits with optional spaces or dashes between groups.
    pub fn parse(input: &str) -> Result<Self> {
        let mut digits = Zeroizing::new(String::with_capacity(19));
        for c in input.trim().chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' => {}
                _ => return Err(Error::InvalidPan(PanProblem::NotDigits)),
            }
            if digits.len() > 19 {
                return Err(Error::InvalidPan(PanProblem::Length));
            }
        }
        if digits.len() < 12 {
            return Err(Error::InvalidPan(PanProblem::Length));
        }
        if !luhn_valid(digits.as_bytes()) {
            return Err(Error::InvalidPan(PanProblem::CheckDigit));
        }
        Ok(Pan(digits))
    }

    pub fn digits(&self) -> &str {
        &self.0
    }

    pub fn network(&self) -> Network {
        Network::from_pan_digits(&self.0)
    }

    /// The BIN (first six) and the last four, everything between starred.
    /// Numbers under 15 digits show only the last four, so a masked form
    /// never gives away more than two thirds of the digits.
    pub fn masked(&self) -> String {
        mask_digits(&self.0)
    }

    pub fn last4(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }
}

pub(crate) fn mask_digits(d: &str) -> String {
    let len = d.len();
    let shown_head = if len >= 15 { 6 } else { 0 };
    let mut out = String::with_capacity(len);
    out.push_str(&d[..shown_head]);
    out.extend(std::iter::repeat_n('*', len - shown_head - 4));
    out.push_str(&d[len - 4..]);
    out
}

impl fmt::Debug for Pan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pan(****{})", self.last4())
    }
}

/// The Luhn mod-10 check over ASCII digits.
pub fn luhn_valid(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &b) in digits.iter().rev().enumerate() {
        let mut d = (b - b'0') as u32;
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Network {
    Visa,
    Mastercard,
    Amex,
    Discover,
    Diners,
    Jcb,
    UnionPay,
    Maestro,
    RuPay,
    Mir,
    Elo,
    Verve,
    Unknown,
}

/// (first prefix, last prefix, network), inclusive, compared on as many
/// leading digits as the bounds have. The longest matching prefix wins, so
/// RuPay's 6521 beats Discover's 65 and Discover's 6011 beats RuPay's 60.
const BIN_RANGES: &[(&str, &str, Network)] = &[
    ("4", "4", Network::Visa),
    ("51", "55", Network::Mastercard),
    ("2221", "2720", Network::Mastercard),
    ("34", "34", Network::Amex),
    ("37", "37", Network::Amex),
    ("6011", "6011", Network::Discover),
    ("644", "649", Network::Discover),
    ("65", "65", Network::Discover),
    ("300", "305", Network::Diners),
    ("3095", "3095", Network::Diners),
    ("36", "36", Network::Diners),
    ("38", "39", Network::Diners),
    ("3528", "3589", Network::Jcb),
    ("62", "62", Network::UnionPay),
    ("81", "81", Network::UnionPay),
    ("50", "50", Network::Maestro),
    ("56", "58", Network::Maestro),
    ("639", "639", Network::Maestro),
    ("67", "67", Network::Maestro),
    ("60", "60", Network::RuPay),
    ("6521", "6522", Network::RuPay),
    ("508", "508", Network::RuPay),
    ("353", "353", Network::RuPay),
    ("356", "356", Network::RuPay),
    ("82", "82", Network::RuPay),
    ("2200", "2204", Network::Mir),
    ("401178", "401179", Network::Elo),
    ("431274", "431274", Network::Elo),
    ("438935", "438935", Network::Elo),
    ("451416", "451416", Network::Elo),
    ("457393", "457393", Network::Elo),
    ("504175", "504175", Network::Elo),
    ("506699", "506778", Network::Elo),
    ("509000", "509999", Network::Elo),
    ("636297", "636297", Network::Elo),
    ("636368", "636368", Network::Elo),
    ("650031", "650033", Network::Elo),
    ("650035", "650051", Network::Elo),
    ("650405", "650439", Network::Elo),
    ("650485", "650538", Network::Elo),
    ("650541", "650598", Network::Elo),
    ("650700", "650718", Network::Elo),
    ("650720", "650727", Network::Elo),
    ("650901", "650978", Network::Elo),
    ("651652", "651679", Network::Elo),
    ("655000", "655058", Network::Elo),
    ("506099", "506198", Network::Verve),
    ("650002", "650027", Network::Verve),
];

impl Network {
    pub fn from_pan_digits(digits: &str) -> Network {
        let mut best = (0, Network::Unknown);
        for &(lo, hi, network) in BIN_RANGES {
            let n = lo.len();
            if digits.len() < n || n <= best.0 {
                continue;
            }
            let head = &digits[..n];
            if head >= lo && head <= hi {
                best = (n, network);
            }
        }
        best.1
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Network::Visa => "visa",
            Network::Mastercard => "mastercard",
            Network::Amex => "amex",
            Network::Discover => "discover",
            Network::Diners => "diners",
            Network::Jcb => "jcb",
            Network::UnionPay => "union_pay",
            Network::Maestro => "maestro",
            Network::RuPay => "ru_pay",
            Network::Mir => "mir",
            Network::Elo => "elo",
            Network::Verve => "verve",
            Network::Unknown => "unknown",
        }
    }

    pub fn from_str_lossy(s: &str) -> Network {
        [
            Network::Visa,
            Network::Mastercard,
            Network::Amex,
            Network::Discover,
            Network::Diners,
            Network::Jcb,
            Network::UnionPay,
            Network::Maestro,
            Network::RuPay,
            Network::Mir,
            Network::Elo,
            Network::Verve,
        ]
        .into_iter()
        .find(|n| n.as_str() == s)
        .unwrap_or(Network::Unknown)
    }
}

/// A card's expiry: the card is valid through the last day of this month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expiry {
    pub year: u16,
    pub month: u8,
}

impl Expiry {
    /// Parses "MM/YY" (or "MM/YYYY").
    pub fn parse(s: &str) -> Result<Self> {
        let (m, y) = s
            .trim()
            .split_once('/')
            .ok_or(Error::InvalidExpiry("write it as MM/YY"))?;
        let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(m) || !all_digits(y) || m.len() > 2 || !(y.len() == 2 || y.len() == 4) {
            return Err(Error::InvalidExpiry("write it as MM/YY"));
        }
        let month: u8 = m
            .parse()
            .map_err(|_| Error::InvalidExpiry("write it as MM/YY"))?;
        let mut year: u16 = y
            .parse()
            .map_err(|_| Error::InvalidExpiry("write it as MM/YY"))?;
        if y.len() == 2 {
            year += 2000;
        }
        if !(1..=12).contains(&month) {
            return Err(Error::InvalidExpiry("the month must be 01 to 12"));
        }
        Ok(Expiry { year, month })
    }

    /// Refuses cards already expired at `now` or implausibly far out.
    pub fn check_current(&self, now: (u16, u8)) -> Result<()> {
        if (self.year, self.month) < now {
            return Err(Error::CardExpired);
        }
        if self.year > now.0 + 20 {
            return Err(Error::InvalidExpiry("it is more than 20 years away"));
        }
        Ok(())
    }

    /// YYMM, as EMV tag 5F24 and track 2 carry it.
    pub fn yymm(&self) -> String {
        format!("{:02}{:02}", self.year % 100, self.month)
    }
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}/{:02}", self.month, self.year % 100)
    }
}

/// A cardholder name as printed on the card: 2 to 26 characters (EMV tag
/// 5F20's limit), letters and the punctuation names use, and no digits, so
/// a card number can never be stored by mistake in a name field.
pub fn validate_cardholder_name(input: &str) -> Result<String> {
    let name = input.trim();
    let err = |reason| Error::InvalidText {
        field: "cardholder name",
        reason,
    };
    let len = name.chars().count();
    if len < 2 {
        return Err(err("it must have at least 2 characters"));
    }
    if len > 26 {
        return Err(err("it may have at most 26 characters"));
    }
    if !name
        .chars()
        .all(|c| c.is_alphabetic() || matches!(c, ' ' | '.' | '\'' | '-' | '/'))
    {
        return Err(err("use letters, spaces and . ' - / only"));
    }
    Ok(name.to_string())
}

/// A user's label for a card: up to 32 printable characters, and never
/// something that looks like a card number.
pub fn validate_nickname(input: &str) -> Result<String> {
    let nick = input.trim();
    let err = |reason| Error::InvalidText {
        field: "nickname",
        reason,
    };
    if nick.is_empty() {
        return Err(err("it must not be empty"));
    }
    if nick.chars().count() > 32 {
        return Err(err("it may have at most 32 characters"));
    }
    if nick.chars().any(char::is_control) {
        return Err(err("it may not contain control characters"));
    }
    if nick.chars().filter(char::is_ascii_digit).count() >= 12 {
        return Err(err("it looks like a card number"));
    }
    Ok(nick.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_lengths() {
        assert!(Pan::parse("4111 1111 1111 1111").is_ok());
        assert!(Pan::parse("4111-1111-1111-1111").is_ok());
        assert!(matches!(
            Pan::parse("4111111111111112"),
            Err(Error::InvalidPan(PanProblem::CheckDigit))
        ));
        assert!(matches!(
            Pan::parse("41111111111"),
            Err(Error::InvalidPan(PanProblem::Length))
        ));
        assert!(matches!(
            Pan::parse("41111111111111111111"),
            Err(Error::InvalidPan(PanProblem::Length))
        ));
        assert!(matches!(
            Pan::parse("4111x11111111111"),
            Err(Error::InvalidPan(PanProblem::NotDigits))
        ));
    }

    #[test]
    fn networks_by_bin() {
        for (pan, network) in [
            ("4111111111111111", Network::Visa),
            ("5555555555554444", Network::Mastercard),
            ("2223003122003222", Network::Mastercard),
            ("378282246310005", Network::Amex),
            ("6011111111111117", Network::Discover),
            ("6521000000000000", Network::RuPay),
            ("6070000000000000", Network::RuPay),
            ("3056930009020004", Network::Diners),
            ("3566002020360505", Network::Jcb),
            ("6200000000000005", Network::UnionPay),
            ("6759649826438453", Network::Maestro),
            ("2200000000000004", Network::Mir),
            ("5067000000000000", Network::Elo),
            ("9999999999999995", Network::Unknown),
        ] {
            assert_eq!(Network::from_pan_digits(pan), network, "{pan}");
        }
    }

    #[test]
    fn masking_shows_at_most_bin_and_last_four() {
        let pan = Pan::parse("4111111111111111").unwrap();
        assert_eq!(pan.masked(), "411111******1111");
        assert_eq!(format!("{pan:?}"), "Pan(****1111)");
        assert_eq!(
            Pan::parse("378282246310005").unwrap().masked(),
            "378282*****0005"
        );
        assert_eq!(mask_digits("1234567890123"), "*********0123");
    }

    #[test]
    fn expiry_rules() {
        let e = Expiry::parse("02/29").unwrap();
        assert_eq!(
            (e.year, e.month, e.to_string(), e.yymm()),
            (2029, 2, "02/29".into(), "2902".into())
        );
        for bad in ["13/29", "00/29", "1/2/3", "ab/cd", "0229", "", "02/9"] {
            assert!(Expiry::parse(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            e.check_current((2029, 3)),
            Err(Error::CardExpired)
        ));
        assert!(e.check_current((2029, 2)).is_ok());
        assert!(Expiry::parse("01/2099")
            .unwrap()
            .check_current((2026, 1))
            .is_err());
    }

    #[test]
    fn names_and_nicknames() {
        assert_eq!(
            validate_cardholder_name("  Ada Lovelace ").unwrap(),
            "Ada Lovelace"
        );
        assert!(validate_cardholder_name("Ada 4111").is_err());
        assert!(validate_cardholder_name("").is_err());
        assert!(validate_cardholder_name(&"A".repeat(27)).is_err());
        assert!(validate_nickname("Travel 💳").is_ok());
        assert!(validate_nickname("4111 1111 1111 1111").is_err());
        assert!(validate_nickname("a\u{7}b").is_err());
    }
}

//! Length limits and value formats of merchant-presented data objects
//! (EMVCo MPM v1.1 §4.7 and §4.8), shared by the parser and the builder so
//! both accept exactly the same payloads.

use crate::qr::data_object::char_len;
use crate::qr::error::{FieldId, MpmError};

/// How long a value may be, in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Length {
    Exactly(usize),
    AtMost(usize),
}

/// The longest value a two-digit length can declare.
pub(crate) const MAX_VALUE: usize = 99;

/// Limits of top-level IDs.
pub(crate) fn top_level(id: u8) -> Length {
    match id {
        0 | 1 => Length::Exactly(2),
        52 => Length::Exactly(4),
        53 => Length::Exactly(3),
        54 | 56 => Length::AtMost(13),
        55 => Length::Exactly(2),
        57 => Length::AtMost(5),
        58 => Length::Exactly(2),
        59 => Length::AtMost(25),
        60 => Length::AtMost(15),
        61 => Length::AtMost(10),
        63 => Length::Exactly(4),
        _ => Length::AtMost(MAX_VALUE),
    }
}

/// Limits inside the additional data field template (ID 62).
pub(crate) fn additional_data(sub: u8) -> Length {
    match sub {
        1..=8 => Length::AtMost(25),
        9 => Length::AtMost(3),
        10 => Length::AtMost(20),
        11 => Length::Exactly(3),
        _ => Length::AtMost(MAX_VALUE),
    }
}

/// Limits inside the merchant information language template (ID 64).
pub(crate) fn language(sub: u8) -> Length {
    match sub {
        0 => Length::Exactly(2),
        1 => Length::AtMost(25),
        2 => Length::AtMost(15),
        _ => Length::AtMost(MAX_VALUE),
    }
}

/// Checks a value against its limit; values are never empty.
pub(crate) fn check_length(field: FieldId, value: &str, limit: Length) -> Result<(), MpmError> {
    let len = char_len(value);
    if len == 0 {
        return Err(MpmError::EmptyValue { field });
    }
    match limit {
        Length::Exactly(expected) if len != expected => Err(MpmError::WrongLength {
            field,
            len,
            expected,
        }),
        Length::AtMost(max) if len > max => Err(MpmError::TooLong { field, len, max }),
        _ => Ok(()),
    }
}

/// An amount: digits with at most one '.' as decimal mark, starting with a
/// digit. "10." is allowed: the specification lets the mark stand alone.
pub(crate) fn is_amount(value: &str) -> bool {
    let mut dots = 0;
    value.starts_with(|c: char| c.is_ascii_digit())
        && value.chars().all(|c| match c {
            '0'..='9' => true,
            '.' => {
                dots += 1;
                dots == 1
            }
            _ => false,
        })
}

/// A convenience fee percentage: an amount strictly between 0 and 100.
pub(crate) fn is_percentage(value: &str) -> bool {
    if !is_amount(value) {
        return false;
    }
    let (int, frac) = value.split_once('.').unwrap_or((value, ""));
    let int = int.trim_start_matches('0');
    let nonzero = !int.is_empty() || frac.chars().any(|c| c != '0');
    int.len() <= 2 && nonzero
}

/// Decimal places of an amount ("23.72" has 2, "10" and "10." have 0).
pub(crate) fn decimals(amount: &str) -> usize {
    amount.split_once('.').map_or(0, |(_, frac)| frac.len())
}

pub(crate) fn is_digits(value: &str, len: usize) -> bool {
    value.len() == len && value.bytes().all(|b| b.is_ascii_digit())
}

pub(crate) fn is_country(value: &str) -> bool {
    value.len() == 2 && value.bytes().all(|b| b.is_ascii_uppercase())
}

pub(crate) fn is_language(value: &str) -> bool {
    value.len() == 2 && value.bytes().all(|b| b.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        for ok in ["0", "1", "23.72", "10.", "1.0", "120000", "0.99"] {
            assert!(is_amount(ok), "{ok}");
        }
        for bad in ["", ".5", "1.2.3", "-1", "1,00", "1e3", " 1", "١"] {
            assert!(!is_amount(bad), "{bad}");
        }
    }

    #[test]
    fn percentages() {
        for ok in ["0.01", "5", "99.99", "05.5", "10."] {
            assert!(is_percentage(ok), "{ok}");
        }
        for bad in ["0", "0.00", "100", "100.0", "abc", "00"] {
            assert!(!is_percentage(bad), "{bad}");
        }
    }

    #[test]
    fn lengths() {
        let f = FieldId::top(59);
        assert!(check_length(f, "ab", Length::AtMost(2)).is_ok());
        assert!(matches!(
            check_length(f, "abc", Length::AtMost(2)),
            Err(MpmError::TooLong { len: 3, max: 2, .. })
        ));
        assert!(matches!(
            check_length(f, "", Length::AtMost(2)),
            Err(MpmError::EmptyValue { .. })
        ));
        // Characters, not bytes.
        assert!(check_length(f, "北京", Length::Exactly(2)).is_ok());
    }
}

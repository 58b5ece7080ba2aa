//! ISO 4217 currencies as merchant-presented codes carry them: three-digit
//! numeric codes, mapped to alphabetic codes and minor units for display
//! and amount checks.

use iso_currency::Currency;

fn lookup(numeric: &str) -> Option<Currency> {
    if numeric.len() != 3 || !numeric.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    numeric.parse::<u16>().ok().and_then(Currency::from_numeric)
}

/// The alphabetic code ("BRL") of a numeric code ("986"), if it is one.
pub fn alpha_code(numeric: &str) -> Option<&'static str> {
    lookup(numeric).map(|c| c.code())
}

/// How many decimals the currency's minor unit has (JPY 0, USD 2, KWD 3),
/// if it has one.
pub fn minor_units(numeric: &str) -> Option<u16> {
    lookup(numeric).and_then(Currency::exponent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_codes() {
        assert_eq!(alpha_code("986"), Some("BRL"));
        assert_eq!(alpha_code("764"), Some("THB"));
        assert_eq!(alpha_code("116"), Some("KHR"));
        assert_eq!(alpha_code("999"), Some("XXX"));
        assert_eq!(alpha_code("123"), None);
        assert_eq!(alpha_code("98"), None);
        assert_eq!(alpha_code("+98"), None);
        assert_eq!(minor_units("392"), Some(0));
        assert_eq!(minor_units("840"), Some(2));
        assert_eq!(minor_units("414"), Some(3));
    }
}

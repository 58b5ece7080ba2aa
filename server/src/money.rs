//! ISO 4217 lookups for the bank: which currencies exist, and how an EMV
//! numeric currency code (tag 5F2A) maps to the alpha code the ledger uses.
//! Amounts themselves are integer minor units throughout; never floats.

use iso_currency::Currency;

fn active(code: &str) -> Option<Currency> {
    if code.len() != 3 {
        return None;
    }
    Currency::from_code(code)
        .filter(|c| !c.is_special() && c.is_superseded().is_none() && c.exponent().is_some())
}

/// The minor-unit exponent of an active currency (EUR 2, JPY 0, KWD 3).
pub fn exponent(code: &str) -> Option<u16> {
    active(code).and_then(Currency::exponent)
}

/// The ISO 4217 numeric code of an active currency.
pub fn numeric(code: &str) -> Option<u16> {
    active(code).map(Currency::numeric)
}

/// The alpha code for an EMV numeric currency code.
pub fn alpha_from_numeric(numeric: u16) -> Option<&'static str> {
    Currency::from_numeric(numeric)
        .filter(|c| !c.is_special() && c.is_superseded().is_none())
        .map(|c| c.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        assert_eq!(exponent("EUR"), Some(2));
        assert_eq!(exponent("JPY"), Some(0));
        assert_eq!(exponent("XXX"), None);
        assert_eq!(numeric("EUR"), Some(978));
        assert_eq!(alpha_from_numeric(840), Some("USD"));
        assert_eq!(alpha_from_numeric(1), None);
    }
}

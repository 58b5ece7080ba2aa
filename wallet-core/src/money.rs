//! Money: exact decimal amounts in an ISO 4217 currency.
//!
//! Amounts are `rust_decimal` values, stored as integer minor units with the
//! exponent taken from the ISO 4217 table (JPY 0, USD 2, KWD 3). Arithmetic
//! keeps full precision; rounding happens once, at the end of a computation,
//! half-even for internal totals. There are no floats anywhere.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Serialize, Serializer};

use crate::error::{Error, Result};

/// An active ISO 4217 currency: alpha code, numeric code and minor-unit exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Looks up an alpha code such as "USD". Case-insensitive; superseded and
    /// special codes (XXX, XAU, HRK…) are refused, since no payment uses them.
    pub fn from_code(code: &str) -> Result<Self> {
        if code.len() != 3 || !code.is_ascii() {
            return Err(Error::InvalidCurrency);
        }
        iso_currency::Currency::from_code(&code.to_ascii_uppercase())
            .and_then(Self::active)
            .ok_or(Error::InvalidCurrency)
    }

    /// Looks up a numeric code such as 840, as EMV tags 5F2A and QR tag 53 carry it.
    pub fn from_numeric(numeric: u16) -> Result<Self> {
        iso_currency::Currency::from_numeric(numeric)
            .and_then(Self::active)
            .ok_or(Error::InvalidCurrency)
    }

    fn active(c: iso_currency::Currency) -> Option<Self> {
        (!c.is_special() && c.is_superseded().is_none() && c.exponent().is_some())
            .then_some(Currency(c))
    }

    pub fn code(self) -> &'static str {
        self.0.code()
    }

    pub fn numeric(self) -> u16 {
        self.0.numeric()
    }

    /// Digits after the decimal point in the minor unit.
    pub fn exponent(self) -> u32 {
        // `active` guarantees an exponent.
        self.0.exponent().unwrap_or(0) as u32
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Currency::from_code(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// An exact amount of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Money { amount, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Money::new(Decimal::ZERO, currency)
    }

    /// Parses a user-entered amount such as "12.34" for a currency, refusing
    /// more decimal places than the currency has (no silent rounding of what
    /// the user typed) and anything but plain decimal notation.
    pub fn parse(amount: &str, currency: Currency) -> Result<Self> {
        let s = amount.trim();
        let digits_ok = !s.is_empty()
            && s.len() <= 32
            && s.trim_start_matches('-')
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.')
            && s.matches('.').count() <= 1
            && s.trim_start_matches('-')
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit());
        if !digits_ok {
            return Err(Error::InvalidAmount(
                "use digits with an optional decimal point",
            ));
        }
        let value =
            Decimal::from_str(s).map_err(|_| Error::InvalidAmount("the number is out of range"))?;
        if value.scale() > currency.exponent() {
            return Err(Error::InvalidAmount(
                "more decimal places than the currency allows",
            ));
        }
        Ok(Money::new(value, currency))
    }

    /// Builds an amount from integer minor units (cents, yen, fils).
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        Money::new(Decimal::new(minor, currency.exponent()), currency)
    }

    /// Integer minor units, after half-even rounding to the currency's exponent.
    pub fn to_minor(&self) -> Result<i64> {
        let rounded = self.rounded();
        let mut mantissa = rounded.amount;
        mantissa.rescale(self.currency.exponent());
        i64::try_from(mantissa.mantissa())
            .map_err(|_| Error::InvalidAmount("the amount is too large"))
    }

    pub fn amount(&self) -> Decimal {
        self.amount
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// Rounds half-even to the currency's minor unit: the rule for internal totals.
    pub fn rounded(&self) -> Self {
        self.rounded_with(RoundingStrategy::MidpointNearestEven)
    }

    /// Rounds with an explicit rule, for conversions shown to the user.
    pub fn rounded_with(&self, strategy: RoundingStrategy) -> Self {
        Money::new(
            self.amount
                .round_dp_with_strategy(self.currency.exponent(), strategy),
            self.currency,
        )
    }

    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    pub fn checked_add(&self, other: &Money) -> Result<Money> {
        self.same_currency(other)?;
        self.amount
            .checked_add(other.amount)
            .map(|a| Money::new(a, self.currency))
            .ok_or(Error::InvalidAmount("the sum is out of range"))
    }

    pub fn checked_sub(&self, other: &Money) -> Result<Money> {
        self.same_currency(other)?;
        self.amount
            .checked_sub(other.amount)
            .map(|a| Money::new(a, self.currency))
            .ok_or(Error::InvalidAmount("the difference is out of range"))
    }

    /// Converts at `rate` (units of `to` per unit of self), unrounded: the
    /// caller rounds once at the end.
    pub fn convert(&self, rate: Decimal, to: Currency) -> Result<Money> {
        if rate <= Decimal::ZERO {
            return Err(Error::InvalidAmount("an exchange rate must be positive"));
        }
        self.amount
            .checked_mul(rate)
            .map(|a| Money::new(a, to))
            .ok_or(Error::InvalidAmount("the converted amount is out of range"))
    }

    fn same_currency(&self, other: &Money) -> Result<()> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(Error::CurrencyMismatch)
        }
    }

    /// The amount rounded and written with exactly the currency's decimals,
    /// e.g. "1234.50" for USD, "1234" for JPY, "1.235" for KWD.
    pub fn amount_string(&self) -> String {
        let mut r = self.rounded().amount;
        r.rescale(self.currency.exponent());
        r.to_string()
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount_string(), self.currency)
    }
}

impl FromStr for Money {
    type Err = Error;
    /// "12.34 USD" or "USD 12.34".
    fn from_str(s: &str) -> Result<Self> {
        let mut parts = s.split_whitespace();
        let (a, b) = match (parts.next(), parts.next(), parts.next()) {
            (Some(a), Some(b), None) => (a, b),
            _ => return Err(Error::InvalidAmount("write an amount and a currency code")),
        };
        match Currency::from_code(b) {
            Ok(c) => Money::parse(a, c),
            Err(_) => Money::parse(b, Currency::from_code(a)?),
        }
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Money", 2)?;
        st.serialize_field("amount", &self.amount_string())?;
        st.serialize_field("currency", self.currency.code())?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(code: &str) -> Currency {
        Currency::from_code(code).unwrap()
    }

    #[test]
    fn exponents_come_from_the_iso_table() {
        assert_eq!(c("USD").exponent(), 2);
        assert_eq!(c("JPY").exponent(), 0);
        assert_eq!(c("KWD").exponent(), 3);
        assert_eq!(c("CLF").exponent(), 4);
        assert_eq!(c("usd").numeric(), 840);
        assert_eq!(Currency::from_numeric(986).unwrap().code(), "BRL");
    }

    #[test]
    fn inactive_and_malformed_codes_are_refused() {
        for bad in ["XXX", "XAU", "HRK", "US", "USDD", "", "ÜSD", "123"] {
            assert!(
                matches!(Currency::from_code(bad), Err(Error::InvalidCurrency)),
                "{bad}"
            );
        }
        assert!(Currency::from_numeric(0).is_err());
    }

    #[test]
    fn parsing_refuses_excess_precision_and_odd_notation() {
        assert!(Money::parse("1.234", c("USD")).is_err());
        assert!(Money::parse("1.5", c("JPY")).is_err());
        assert!(Money::parse("1.234", c("KWD")).is_ok());
        for bad in ["", "1e3", "1,00", "--1", ".5", "1.2.3", "NaN", "+1", " "] {
            assert!(Money::parse(bad, c("USD")).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn minor_units_round_trip() {
        for (minor, code, text) in [
            (123456, "USD", "1234.56 USD"),
            (1234, "JPY", "1234 JPY"),
            (1235, "KWD", "1.235 KWD"),
            (-5, "EUR", "-0.05 EUR"),
        ] {
            let m = Money::from_minor(minor, c(code));
            assert_eq!(m.to_string(), text);
            assert_eq!(m.to_minor().unwrap(), minor);
            assert_eq!(text.parse::<Money>().unwrap(), m);
        }
    }

    #[test]
    fn rounding_is_half_even_and_happens_at_the_end() {
        let usd = c("USD");
        // Three thirds of 1.00 at full precision add back to 1.00; rounding each
        // part first would lose a cent.
        let third = Money::new(Decimal::ONE / Decimal::from(3), usd);
        let total = third
            .checked_add(&third)
            .unwrap()
            .checked_add(&third)
            .unwrap();
        assert_eq!(total.amount_string(), "1.00");
        assert_eq!(
            Money::new(Decimal::new(1125, 3), usd).amount_string(),
            "1.12"
        );
        assert_eq!(
            Money::new(Decimal::new(1135, 3), usd).amount_string(),
            "1.14"
        );
        assert_eq!(
            Money::new(Decimal::new(25, 1), c("JPY"))
                .to_minor()
                .unwrap(),
            2
        );
    }

    #[test]
    fn mixed_currencies_need_a_rate() {
        let a = Money::from_minor(100, c("USD"));
        let b = Money::from_minor(100, c("EUR"));
        assert!(matches!(a.checked_add(&b), Err(Error::CurrencyMismatch)));
        let converted = b.convert(Decimal::new(10837, 4), c("USD")).unwrap();
        assert_eq!(a.checked_add(&converted).unwrap().amount_string(), "2.08");
        assert!(b.convert(Decimal::ZERO, c("USD")).is_err());
    }
}

//! Money at the boundary: a decimal string and an ISO 4217 code, never a
//! float, so no amount is ever rounded by a binary fraction on its way
//! through Kotlin or Swift.

use wallet_core::{Currency, Money as CoreMoney};

use crate::error::{guard, WalletError};

/// An exact amount of one currency, e.g. `Money(amount = "12.34",
/// currency = "USD")`. `amount` has exactly the currency's number of
/// decimals when it comes from the wallet ("1234" for JPY, "1.235" for KWD).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Money {
    pub amount: String,
    pub currency: String,
}

/// Parses an amount the user typed for a currency ("12.34", "USD"). More
/// decimals than the currency has, exponents, commas and signs other than a
/// leading minus are refused, never silently rounded.
#[uniffi::export]
pub fn parse_money(amount: String, currency: String) -> Result<Money, WalletError> {
    guard(|| Ok(Money::from(parse(&amount, &currency)?)))
}

/// Builds an amount from integer minor units (cents, yen, fils).
#[uniffi::export]
pub fn money_from_minor_units(minor_units: i64, currency: String) -> Result<Money, WalletError> {
    guard(|| {
        let c = Currency::from_code(&currency)?;
        Ok(Money::from(CoreMoney::from_minor(minor_units, c)))
    })
}

// Records cannot have uniffi constructors (hence the two functions above),
// but they can have methods.
#[uniffi::export]
impl Money {
    /// The amount in integer minor units.
    pub fn minor_units(&self) -> Result<i64, WalletError> {
        guard(|| Ok(self.to_core()?.to_minor()?))
    }

    /// The currency's number of decimals (2 for USD, 0 for JPY, 3 for KWD).
    pub fn decimals(&self) -> Result<u32, WalletError> {
        guard(|| Ok(Currency::from_code(&self.currency)?.exponent()))
    }
}

impl Money {
    /// Validates a record that came from the app.
    pub(crate) fn to_core(&self) -> Result<CoreMoney, WalletError> {
        parse(&self.amount, &self.currency)
    }
}

fn parse(amount: &str, currency: &str) -> Result<CoreMoney, WalletError> {
    let c = Currency::from_code(currency)?;
    Ok(CoreMoney::parse(amount, c)?)
}

impl Money {
    /// The amount as stated, unrounded: for what someone else wrote (a
    /// merchant's QR code may state more decimals than its currency has,
    /// which the wallet reports as a warning rather than hide by rounding).
    pub(crate) fn exact(m: CoreMoney) -> Self {
        Money {
            amount: m.amount().to_string(),
            currency: m.currency().code().to_string(),
        }
    }
}

impl From<CoreMoney> for Money {
    fn from(m: CoreMoney) -> Self {
        Money {
            amount: m.amount_string(),
            currency: m.currency().code().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_normalises_and_refuses_excess_precision() {
        let m = parse_money("12.3".into(), "usd".into()).unwrap();
        assert_eq!((m.amount.as_str(), m.currency.as_str()), ("12.30", "USD"));
        assert_eq!(m.minor_units().unwrap(), 1230);
        assert_eq!(
            parse_money("1.5".into(), "JPY".into()).unwrap_err().code(),
            "invalid_amount"
        );
        assert_eq!(
            parse_money("1".into(), "XXX".into()).unwrap_err().code(),
            "invalid_currency"
        );
    }

    #[test]
    fn minor_units_round_trip() {
        let m = money_from_minor_units(1235, "KWD".into()).unwrap();
        assert_eq!(m.amount, "1.235");
        assert_eq!(m.decimals().unwrap(), 3);
        assert_eq!(m.minor_units().unwrap(), 1235);
        let forged = Money {
            amount: "1e9".into(),
            currency: "USD".into(),
        };
        assert!(forged.minor_units().is_err());
    }
}

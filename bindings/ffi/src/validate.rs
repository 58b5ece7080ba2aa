//! Checks applied to what the app passes in, before the core sees it.
//!
//! The core validates meaning (Luhn, currencies, periods, time zones); this
//! layer adds what only the boundary needs: ceilings on sizes so a buggy or
//! hostile caller cannot make the core scan megabytes, refusal of control
//! characters in identifiers, and parsing of the plain text forms (dates,
//! hex) the bindings use instead of platform types. Every refusal is a
//! typed `InvalidInput` that describes the field and never echoes the value.

use std::path::PathBuf;

use chrono::NaiveDate;
use wallet_core::Error as CoreError;

use crate::error::WalletError;

/// Instants the ledger accepts: 1970 up to the end of year 9999, in ms.
pub(crate) const MAX_INSTANT_MS: i64 = 253_402_300_799_999;

fn invalid(field: &'static str, reason: &'static str) -> WalletError {
    CoreError::InvalidText { field, reason }.into()
}

pub(crate) fn data_dir_path(dir: &str) -> Result<PathBuf, WalletError> {
    if dir.trim().is_empty() {
        return Err(WalletError::invalid_input(
            "invalid data directory: it must not be empty",
        ));
    }
    if dir.contains('\0') {
        return Err(WalletError::invalid_input(
            "invalid data directory: it may not contain NUL characters",
        ));
    }
    check_len("data directory", dir, 4096)?;
    Ok(PathBuf::from(dir))
}

/// A file the wallet writes (an export): same rules as the data directory.
pub(crate) fn file_path(path: &str) -> Result<PathBuf, WalletError> {
    if path.trim().is_empty() || path.contains('\0') || path.len() > 4096 {
        return Err(invalid("file path", "give a writable file path"));
    }
    Ok(PathBuf::from(path))
}

/// Card ids are the wallet's own (128 random bits in hex today); anything
/// else cannot name a card, so it is refused before touching the database.
pub(crate) fn check_card_id(id: &str) -> Result<(), WalletError> {
    if is_id(id) {
        Ok(())
    } else {
        Err(WalletError::invalid_input(
            "invalid card id: use an id from listCards",
        ))
    }
}

/// Ids of transactions, budgets and bills: the wallet's own hex ids (a
/// transaction may also be named by a unique prefix of its id).
pub(crate) fn check_id(field: &'static str, id: &str) -> Result<(), WalletError> {
    if is_id(id) {
        Ok(())
    } else {
        Err(invalid(field, "use an id the wallet returned"))
    }
}

/// Token ids are the bank's: up to 64 of `[A-Za-z0-9_.:-]`.
pub(crate) fn check_token_id(id: &str) -> Result<(), WalletError> {
    let ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(invalid("token id", "use an id from tokens()"))
    }
}

fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A cheap ceiling before the core's own validation. The value is never echoed.
pub(crate) fn check_len(field: &str, value: &str, max_bytes: usize) -> Result<(), WalletError> {
    if value.len() > max_bytes {
        return Err(WalletError::invalid_input(format!(
            "invalid {field}: it is far too long"
        )));
    }
    Ok(())
}

/// Short free text that names something (an account, a category by id or
/// name, a time zone): bounded and without control characters. Whether it
/// names anything real is the core's question.
pub(crate) fn check_text(
    field: &'static str,
    value: &str,
    max_bytes: usize,
) -> Result<(), WalletError> {
    if value.len() > max_bytes {
        return Err(invalid(field, "it is far too long"));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(field, "it may not contain control characters"));
    }
    Ok(())
}

pub(crate) fn check_opt_text(
    field: &'static str,
    value: Option<&str>,
    max_bytes: usize,
) -> Result<(), WalletError> {
    value.map_or(Ok(()), |v| check_text(field, v, max_bytes))
}

/// A calendar date written `YYYY-MM-DD`, as the bindings carry dates.
pub(crate) fn date(field: &'static str, value: &str) -> Result<NaiveDate, WalletError> {
    if value.len() != 10 {
        return Err(invalid(field, "write the date as YYYY-MM-DD"));
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| invalid(field, "write the date as YYYY-MM-DD"))
}

/// An instant in UTC milliseconds within the range the ledger stores.
pub(crate) fn instant(field: &'static str, ms: i64) -> Result<i64, WalletError> {
    if (0..=MAX_INSTANT_MS).contains(&ms) {
        Ok(ms)
    } else {
        Err(invalid(field, "the time is out of range"))
    }
}

/// The ISO 4217 code the bindings carry for a currency.
pub(crate) fn currency(code: &str) -> Result<wallet_core::Currency, WalletError> {
    if code.len() > 8 {
        return Err(CoreError::InvalidCurrency.into());
    }
    Ok(wallet_core::Currency::from_code(code)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_ids_and_text_are_checked_without_echoing_them() {
        assert_eq!(
            date("date", "2026-02-28").unwrap(),
            NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
        );
        for bad in [
            "2026-02-30",
            "26-02-28",
            "2026-2-28",
            "",
            "2026-02-28T00:00",
        ] {
            let e = date("date", bad).unwrap_err();
            assert_eq!(e.code(), "invalid_input");
            assert!(bad.is_empty() || !e.to_string().contains(bad));
        }
        assert!(check_id("budget", "0123abcd").is_ok());
        assert!(check_id("budget", "x'; DROP TABLE budgets").is_err());
        assert!(check_id("budget", &"a".repeat(65)).is_err());
        assert!(check_token_id("test-1234:a.b").is_ok());
        assert!(check_token_id("a b").is_err());
        assert!(check_text("account", "main", 128).is_ok());
        assert!(check_text("account", "a\nb", 128).is_err());
        assert!(check_text("account", &"a".repeat(129), 128).is_err());
        assert!(instant("time", -1).is_err());
        assert!(instant("time", MAX_INSTANT_MS + 1).is_err());
        assert_eq!(
            currency("USDUSDUSD").unwrap_err().code(),
            "invalid_currency"
        );
    }
}

//! Statement parsing as one function of raw bytes, for the `statement`
//! fuzz target and its corpus replay: a bank statement file is outside
//! input, now reachable from the apps (`importStatement`). Both parsers run
//! on every input, as OFX and as CSV, with and without a default currency;
//! a defect must come back as a typed error, never a panic.

use super::{csv, ofx, ImportFormat, ImportOptions};
use crate::money::Currency;

#[doc(hidden)]
pub fn statement(data: &[u8]) {
    let fingerprint = |acct: &str| format!("{:016x}", acct.len());
    for currency in [None, Currency::from_code("EUR").ok()] {
        let opts = ImportOptions {
            format: ImportFormat::Auto,
            account: None,
            currency,
        };
        for result in [
            ofx::parse(data, &opts, &fingerprint),
            csv::parse(data, &opts),
        ] {
            if let Err(e) = result {
                let _ = e.to_string();
            }
        }
    }
}

//! Importing bank statements (OFX, and the CSV layout documented in
//! `import::csv`) so users can bring their history.
//!
//! Every statement line becomes a posted `BankEntry` keyed by a stable id
//! from the statement (OFX's FITID, the CSV's `id` column), and the whole
//! file is applied in one transaction through the same path as the bank's
//! sync: importing the same file twice changes nothing, and a bad line
//! stores nothing. Imports of history notify no listener.

mod csv;
pub mod fuzzing;
mod ofx;

use crate::error::{Error, Result};
use crate::ledger::Applied;
use crate::money::Currency;
use crate::wallet::Wallet;

pub use self::csv::{parse_instant, CSV_LAYOUT};

/// The statement's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// OFX when the file says so, CSV otherwise.
    Auto,
    Ofx,
    Csv,
}

impl ImportFormat {
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(ImportFormat::Auto),
            "ofx" | "qfx" => Ok(ImportFormat::Ofx),
            "csv" => Ok(ImportFormat::Csv),
            _ => Err(Error::InvalidText {
                field: "format",
                reason: "use ofx, csv or auto",
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOptions {
    pub format: ImportFormat,
    /// The account the entries go to; OFX defaults to "ofx-" and the last
    /// four digits of the statement's account, CSV to its `account` column
    /// or "main".
    pub account: Option<String>,
    /// For CSV files without a `currency` column.
    pub currency: Option<Currency>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            format: ImportFormat::Auto,
            account: None,
            currency: None,
        }
    }
}

/// Statements larger than this are refused rather than read into memory.
const MAX_BYTES: usize = 64 * 1024 * 1024;

fn looks_like_ofx(data: &[u8]) -> bool {
    let head = &data[..data.len().min(4096)];
    let text = String::from_utf8_lossy(head).to_ascii_uppercase();
    text.contains("OFXHEADER") || text.contains("<OFX>")
}

impl Wallet {
    /// Imports a statement; returns how many entries were new, updated or
    /// already known.
    pub fn import_statement(&self, data: &[u8], opts: &ImportOptions) -> Result<Applied> {
        let keys = self.keys()?;
        if data.len() > MAX_BYTES {
            return Err(Error::InvalidImport {
                record: 0,
                reason: "the file is larger than 64 MiB",
            });
        }
        let format = match opts.format {
            ImportFormat::Auto if looks_like_ofx(data) => ImportFormat::Ofx,
            ImportFormat::Auto => ImportFormat::Csv,
            f => f,
        };
        let entries = match format {
            ImportFormat::Ofx => {
                // A card statement's account id is the card number: only a
                // keyed fingerprint of it goes into the stable ids.
                let fingerprint = |acct: &str| {
                    hex::encode(&keys.fingerprint("ofx-account", acct.as_bytes())[..8])
                };
                ofx::parse(data, opts, &fingerprint)?
            }
            _ => csv::parse(data, opts)?,
        };
        drop(keys);
        self.apply_bank_entries_with(&entries, false)
    }
}

//! CSV export of the ledger, oldest first, in the same layout that
//! `import` reads (see `import::csv`), so an export can be brought into
//! another wallet.

use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::categories::CategoryTree;
use crate::error::{Error, Result};
use crate::ledger::{StoredRow, SELECT_ROW};
use crate::wallet::Wallet;

/// The export's columns; the import reads these names.
pub const EXPORT_COLUMNS: [&str; 18] = [
    "id",
    "date",
    "amount",
    "currency",
    "kind",
    "status",
    "merchant",
    "category",
    "mcc",
    "account",
    "original_amount",
    "original_currency",
    "fx_rate",
    "fx_source",
    "fx_as_of",
    "note",
    "bank_id",
    "idempotency_key",
];

pub(crate) fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Free text that a spreadsheet would run as a formula gets a leading
/// apostrophe (the usual CSV-injection guard); the import strips it again.
pub(crate) fn defuse(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

fn csv_err(_: csv::Error) -> Error {
    Error::Io("the CSV could not be written".into())
}

impl Wallet {
    /// Writes the ledger (entries booked in `[from_ms, to_ms)`, or all) as
    /// CSV; returns the number of entries written.
    pub fn export_csv<W: Write>(
        &self,
        out: W,
        from_ms: Option<i64>,
        to_ms: Option<i64>,
    ) -> Result<u64> {
        self.keys()?;
        let conn = self.conn();
        let tree = CategoryTree::load(&conn)?;
        let mut w = csv::Writer::from_writer(out);
        w.write_record(EXPORT_COLUMNS).map_err(csv_err)?;
        let mut stmt = conn.prepare_cached(&format!(
            "{SELECT_ROW} WHERE booked_at_ms >= ?1 AND booked_at_ms < ?2 ORDER BY booked_at_ms, seq"
        ))?;
        let rows = stmt.query_map(
            [from_ms.unwrap_or(i64::MIN), to_ms.unwrap_or(i64::MAX)],
            StoredRow::from_row,
        )?;
        let mut n = 0;
        for row in rows {
            let r = row?;
            let e = r.to_entry(&tree);
            let original = e.original.as_ref();
            w.write_record([
                e.id.as_str(),
                &rfc3339(e.booked_at_ms),
                &e.amount.amount_string(),
                e.amount.currency().code(),
                e.kind.as_str(),
                e.status.as_str(),
                &defuse(e.merchant.as_deref().unwrap_or("")),
                &e.category,
                &e.mcc.map(|m| format!("{m:04}")).unwrap_or_default(),
                &e.account,
                &original
                    .map(|o| o.original.amount_string())
                    .unwrap_or_default(),
                original.map(|o| o.original.currency().code()).unwrap_or(""),
                &original
                    .map(|o| o.rate.normalize().to_string())
                    .unwrap_or_default(),
                original.map(|o| o.source.as_str()).unwrap_or(""),
                &original.map(|o| rfc3339(o.as_of_ms)).unwrap_or_default(),
                &defuse(e.note.as_deref().unwrap_or("")),
                e.bank_id.as_deref().unwrap_or(""),
                e.idempotency_key.as_deref().unwrap_or(""),
            ])
            .map_err(csv_err)?;
            n += 1;
        }
        w.flush()?;
        Ok(n)
    }
}

//! The CSV statement layout Billfold reads (and `export` writes).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;

use super::ImportOptions;
use crate::error::{Error, Result};
use crate::ledger::{BankEntry, EntryKind, EntryStatus, FxDetail};
use crate::money::{Currency, Money};

/// The documented layout, for `--help` and the README.
pub const CSV_LAYOUT: &str = "\
A header row names the columns, in any order (names are case-insensitive).
Required:
  id        the bank's stable id for the line; importing it again never duplicates it
  date      2026-11-23, 2026-11-23 14:05[:SS] (UTC) or RFC 3339 (2026-11-23T14:05:00+01:00);
            a date alone means 12:00 UTC
  amount    signed decimal, negative when money leaves the account: -12.34
Optional:
  currency  ISO 4217 code (required unless --currency is given)
  merchant  (or description) the payee
  category  a category id or name; otherwise from the MCC
  mcc       merchant category code
  kind      purchase, refund, fee, income, transfer_in, transfer_out
            (default: purchase when negative, income when positive)
  status    posted (default), pending, reversed or refunded
  account   the account (default: --account, else main)
  note
  original_amount, original_currency, fx_rate, fx_source, fx_as_of
            the amount before conversion and the rate used (settled per original)
  bank_id   when present, used as the stable id instead of the `id` column
  idempotency_key   posts the local pending entry with this key";

const MAX_RECORDS: usize = 1_000_000;

/// Reads `2026-11-23`, `2026-11-23 14:05[:SS]` (UTC) or RFC 3339; a date
/// alone means 12:00 UTC.
pub fn parse_instant(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()?
        .and_hms_opt(12, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
}

/// Undoes the export's spreadsheet-formula guard.
fn undefuse(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => s,
    }
}

fn truncated(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.chars().take(200).collect())
}

pub(super) fn parse(data: &[u8], opts: &ImportOptions) -> Result<Vec<BankEntry>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(data);
    let headers = reader
        .headers()
        .map_err(|_| Error::InvalidImport {
            record: 1,
            reason: "the header row cannot be read",
        })?
        .clone();
    let col: HashMap<String, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            (
                h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase(),
                i,
            )
        })
        .collect();
    for required in ["id", "date", "amount"] {
        if !col.contains_key(required) {
            return Err(Error::InvalidImport {
                record: 1,
                reason: "the header needs id, date and amount columns",
            });
        }
    }
    if !col.contains_key("currency") && opts.currency.is_none() {
        return Err(Error::InvalidImport {
            record: 1,
            reason: "add a currency column or give the currency",
        });
    }
    let mut out = Vec::new();
    for (n, rec) in reader.records().enumerate() {
        let record = n as u64 + 2;
        let bad = |reason: &'static str| Error::InvalidImport { record, reason };
        let rec = rec.map_err(|_| bad("the line is not valid CSV"))?;
        if out.len() >= MAX_RECORDS {
            return Err(bad("too many lines in one file"));
        }
        let get = |name: &str| {
            col.get(name)
                .and_then(|i| rec.get(*i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let id = get("id").ok_or(bad("the id is empty"))?;
        let booked = get("date")
            .and_then(parse_instant)
            .ok_or(bad("the date cannot be read"))?;
        let currency = match get("currency") {
            Some(c) => Currency::from_code(c).map_err(|_| bad("unknown currency"))?,
            None => opts.currency.ok_or(bad("the currency is empty"))?,
        };
        let text = get("amount").ok_or(bad("the amount is empty"))?;
        let negative = text.starts_with('-');
        let amount = Money::parse(text.trim_start_matches(['-', '+']), currency)
            .map_err(|_| bad("the amount is not a decimal number in its currency"))?;
        let kind = match get("kind") {
            Some(k) => EntryKind::parse(k).map_err(|_| bad("unknown kind"))?,
            None if negative => EntryKind::Purchase,
            None => EntryKind::Income,
        };
        let status = match get("status") {
            Some(s) => EntryStatus::parse(s).map_err(|_| bad("unknown status"))?,
            None => EntryStatus::Posted,
        };
        let original = match (
            get("original_amount"),
            get("original_currency"),
            get("fx_rate"),
        ) {
            (Some(a), Some(c), Some(r)) => {
                let c = Currency::from_code(c).map_err(|_| bad("unknown original currency"))?;
                Some(FxDetail {
                    original: Money::parse(a.trim_start_matches(['-', '+']), c)
                        .map_err(|_| bad("the original amount cannot be read"))?,
                    rate: r
                        .parse::<Decimal>()
                        .map_err(|_| bad("the rate cannot be read"))?,
                    source: get("fx_source").unwrap_or("statement").to_string(),
                    as_of_ms: get("fx_as_of").and_then(parse_instant).unwrap_or(booked),
                })
            }
            _ => None,
        };
        let account = get("account")
            .map(str::to_string)
            .or(opts.account.clone())
            .unwrap_or_else(|| "main".into());
        let mcc = match get("mcc") {
            Some(m) => Some(
                m.parse::<u16>()
                    .ok()
                    .filter(|m| *m <= 9999)
                    .ok_or(bad("the mcc is not a 4-digit code"))?,
            ),
            None => None,
        };
        out.push(BankEntry {
            bank_id: match get("bank_id") {
                Some(b) => b.to_string(),
                None => format!("csv:{account}:{id}"),
            },
            idempotency_key: get("idempotency_key").map(str::to_string),
            account,
            status,
            kind,
            amount,
            original,
            merchant: get("merchant")
                .or(get("description"))
                .map(undefuse)
                .and_then(truncated),
            mcc,
            category: get("category").map(str::to_string),
            note: get("note").map(undefuse).and_then(truncated),
            booked_at_ms: booked,
            posted_at_ms: (status != EntryStatus::Pending).then_some(booked),
        });
    }
    Ok(out)
}

//! OFX statements, version 1 (SGML, where leaf elements have no end tag)
//! and version 2 (XML), read by one tolerant tokenizer: only the parts a
//! statement needs (account, default currency, transactions) are kept.
//! Untrusted input: nothing here panics or allocates without bound.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use rust_decimal::Decimal;

use super::ImportOptions;
use crate::error::{Error, Result};
use crate::ledger::{BankEntry, EntryKind, EntryStatus, FxDetail};
use crate::money::{Currency, Money};

const MAX_TRANSACTIONS: usize = 1_000_000;

enum Tok<'a> {
    Open(String),
    Close(String),
    Text(&'a str),
}

fn tokens(text: &str) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let mut rest = match text.find('<') {
        Some(i) => &text[i..],
        None => return out,
    };
    while let Some(start) = rest.find('<') {
        let before = &rest[..start];
        if !before.trim().is_empty() {
            out.push(Tok::Text(before.trim()));
        }
        let after = &rest[start + 1..];
        let Some(end) = after.find('>') else { break };
        let tag = after[..end].trim();
        rest = &after[end + 1..];
        if tag.starts_with('?') || tag.starts_with('!') || tag.is_empty() {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            out.push(Tok::Close(name.trim().to_ascii_uppercase()));
        } else {
            let name = tag.trim_end_matches('/').trim();
            // Attributes do not occur in OFX; keep the element name only.
            let name = name.split_whitespace().next().unwrap_or("");
            out.push(Tok::Open(name.to_ascii_uppercase()));
        }
    }
    if !rest.trim().is_empty() {
        out.push(Tok::Text(rest.trim()));
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// One `<STMTTRN>` with the statement context it appeared in.
struct RawTxn {
    fields: Vec<(String, String)>,
    account: Option<String>,
    currency: Option<String>,
}

impl RawTxn {
    fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn collect(text: &str) -> Result<Vec<RawTxn>> {
    let toks = tokens(text);
    let mut stack: Vec<String> = Vec::new();
    let mut account: Option<String> = None;
    let mut currency: Option<String> = None;
    let mut current: Option<RawTxn> = None;
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Tok::Open(tag) => {
                if let Some(Tok::Text(value)) = toks.get(i + 1) {
                    // A leaf: `<TAG>value`, with or without `</TAG>`.
                    let value = unescape(value);
                    if let Some(t) = current.as_mut() {
                        let key = match stack.last().map(String::as_str) {
                            Some(p @ ("CURRENCY" | "ORIGCURRENCY")) => format!("{p}.{tag}"),
                            _ => tag.clone(),
                        };
                        if t.fields.len() < 64 {
                            t.fields.push((key, value));
                        }
                    } else if tag == "ACCTID" {
                        account = Some(value);
                    } else if tag == "CURDEF" {
                        currency = Some(value);
                    }
                    i += 2;
                    if matches!(toks.get(i), Some(Tok::Close(c)) if c == tag) {
                        i += 1;
                    }
                    continue;
                }
                if tag == "STMTTRN" {
                    current = Some(RawTxn {
                        fields: Vec::new(),
                        account: account.clone(),
                        currency: currency.clone(),
                    });
                }
                if stack.len() < 64 {
                    stack.push(tag.clone());
                }
            }
            Tok::Close(tag) => {
                if let Some(pos) = stack.iter().rposition(|t| t == tag) {
                    stack.truncate(pos);
                    if tag == "STMTTRN" {
                        if let Some(t) = current.take() {
                            if out.len() >= MAX_TRANSACTIONS {
                                return Err(Error::InvalidImport {
                                    record: out.len() as u64,
                                    reason: "too many transactions in one file",
                                });
                            }
                            out.push(t);
                        }
                    }
                }
            }
            Tok::Text(_) => {}
        }
        i += 1;
    }
    Ok(out)
}

/// `YYYYMMDD[HHMMSS[.XXX]][[+|-]H[.MM][:TZ]]`. A date alone is taken as
/// 12:00 UTC, which is the same calendar day from UTC-11 to UTC+11.
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    let (main, tz) = match s.split_once('[') {
        Some((m, t)) => (m.trim(), Some(t.trim_end_matches(']'))),
        None => (s.trim(), None),
    };
    let digits: String = main.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.len() < 8 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        digits[0..4].parse().ok()?,
        digits[4..6].parse().ok()?,
        digits[6..8].parse().ok()?,
    )?;
    if digits.len() < 14 {
        return Some(date.and_hms_opt(12, 0, 0)?.and_utc().timestamp_millis());
    }
    let time = NaiveTime::from_hms_opt(
        digits[8..10].parse().ok()?,
        digits[10..12].parse().ok()?,
        digits[12..14].parse().ok()?,
    )?;
    let offset_min: i64 = match tz {
        Some(t) => {
            let off = t.split(':').next().unwrap_or("0").trim();
            let (sign, off) = match off.strip_prefix('-') {
                Some(o) => (-1, o),
                None => (1, off.trim_start_matches('+')),
            };
            let (h, m) = off.split_once('.').unwrap_or((off, "0"));
            let h: i64 = h.parse().ok()?;
            let m: i64 = m.parse().ok()?;
            if h > 14 || m > 59 {
                return None;
            }
            sign * (h * 60 + m)
        }
        None => 0,
    };
    let local = NaiveDateTime::new(date, time).and_utc().timestamp_millis();
    Some(local - offset_min * 60_000)
}

fn decimal(s: &str) -> Option<Decimal> {
    let s = s.trim();
    // Some banks write a decimal comma.
    let s = if !s.contains('.') {
        s.replace(',', ".")
    } else {
        s.to_string()
    };
    if s.is_empty() || s.len() > 32 {
        return None;
    }
    s.parse().ok()
}

fn truncated(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.chars().take(200).collect())
}

fn money(amount: Decimal, currency: Currency) -> Money {
    // A converted amount is rounded once, here, half-even.
    Money::new(amount.abs(), currency).rounded()
}

pub(super) fn parse(
    data: &[u8],
    opts: &ImportOptions,
    fingerprint: &dyn Fn(&str) -> String,
) -> Result<Vec<BankEntry>> {
    let text = String::from_utf8_lossy(data);
    let raw = collect(&text)?;
    let mut out = Vec::with_capacity(raw.len());
    for (n, t) in raw.iter().enumerate() {
        let record = n as u64 + 1;
        let bad = |reason: &'static str| Error::InvalidImport { record, reason };
        let fitid = t.get("FITID").ok_or(bad("a transaction has no FITID"))?;
        let amount = t
            .get("TRNAMT")
            .and_then(decimal)
            .ok_or(bad("a transaction has no readable TRNAMT"))?;
        let booked = t
            .get("DTPOSTED")
            .or(t.get("DTUSER"))
            .and_then(parse_date)
            .ok_or(bad("a transaction has no readable DTPOSTED"))?;
        let curdef = Currency::from_code(t.currency.as_deref().unwrap_or(""))
            .map_err(|_| bad("the statement has no valid CURDEF currency"))?;
        let acct = t.account.as_deref().unwrap_or("");
        let last4: String = {
            let d: Vec<char> = acct.chars().filter(char::is_ascii_alphanumeric).collect();
            d[d.len().saturating_sub(4)..].iter().collect()
        };
        let fx_of = |prefix: &str| -> Result<Option<(Decimal, Currency)>> {
            match (
                t.get(&format!("{prefix}.CURRATE")),
                t.get(&format!("{prefix}.CURSYM")),
            ) {
                (Some(r), Some(c)) => {
                    let rate = decimal(r)
                        .filter(|r| *r > Decimal::ZERO)
                        .ok_or(bad("a currency rate is not a positive number"))?;
                    let cur = Currency::from_code(c).map_err(|_| bad("unknown currency"))?;
                    Ok(Some((rate, cur)))
                }
                _ => Ok(None),
            }
        };
        let (settled, original) = if let Some((rate, cur)) = fx_of("CURRENCY")? {
            // The amount is in `cur`; CURRATE converts it to CURDEF.
            let settled = amount
                .checked_mul(rate)
                .ok_or(bad("the amount is out of range"))?;
            (
                money(settled, curdef),
                Some(FxDetail {
                    original: money(amount, cur),
                    rate,
                    source: "ofx".into(),
                    as_of_ms: booked,
                }),
            )
        } else if let Some((rate, cur)) = fx_of("ORIGCURRENCY")? {
            // The amount is already in CURDEF; the original was in `cur`.
            let orig = amount
                .checked_div(rate)
                .ok_or(bad("the amount is out of range"))?;
            (
                money(amount, curdef),
                Some(FxDetail {
                    original: money(orig, cur),
                    rate,
                    source: "ofx".into(),
                    as_of_ms: booked,
                }),
            )
        } else {
            let m = Money::new(amount.abs(), curdef);
            if m.rounded() != m {
                return Err(bad("an amount has more decimals than its currency"));
            }
            (m, None)
        };
        let original = original.filter(|o| o.original.currency() != settled.currency());
        let trntype = t.get("TRNTYPE").unwrap_or("OTHER").to_ascii_uppercase();
        let kind = match (
            amount.is_sign_negative() && !amount.is_zero(),
            trntype.as_str(),
        ) {
            (true, "FEE" | "SRVCHG") => EntryKind::Fee,
            (true, "XFER") => EntryKind::TransferOut,
            (true, _) => EntryKind::Purchase,
            (false, "XFER") => EntryKind::TransferIn,
            (false, "POS" | "DEBIT") => EntryKind::Refund,
            (false, _) => EntryKind::Income,
        };
        let mcc = t
            .get("SIC")
            .and_then(|s| s.trim().parse::<u16>().ok())
            .filter(|m| *m <= 9999);
        out.push(BankEntry {
            bank_id: format!("ofx:{}:{}", fingerprint(acct), fitid.trim()),
            idempotency_key: None,
            account: opts.account.clone().unwrap_or_else(|| {
                if last4.is_empty() {
                    "ofx".into()
                } else {
                    format!("ofx-{last4}")
                }
            }),
            status: EntryStatus::Posted,
            kind,
            amount: settled,
            original,
            merchant: t.get("NAME").or(t.get("PAYEE")).and_then(truncated),
            mcc,
            category: None,
            note: t.get("MEMO").and_then(truncated),
            booked_at_ms: booked,
            posted_at_ms: Some(booked),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_with_and_without_time_and_offset() {
        // 2026-11-15 12:00 UTC for a bare date.
        assert_eq!(parse_date("20261115"), Some(1_794_744_000_000));
        // 10:00 at UTC-5 is 15:00 UTC.
        assert_eq!(
            parse_date("20261115100000.000[-5:EST]"),
            Some(1_794_744_000_000 + 3 * 3_600_000)
        );
        assert_eq!(parse_date("2026"), None);
        assert_eq!(parse_date("20261340"), None);
        assert_eq!(parse_date("20261115100000[+99:X]"), None);
    }

    #[test]
    fn garbage_never_panics() {
        for s in [
            "<",
            "<<>>",
            "<STMTTRN><FITID>",
            "</STMTTRN>",
            "<a<b>c>",
            "\u{0}<\u{ffff}>",
        ] {
            let _ = collect(s);
        }
    }
}

//! The ledger: the bank's posted entries with the phone's pending holds on
//! top, and the balances derived from them.
//!
//! The ledger is the bank's: entries are identified by an idempotency key
//! (local writes: taps, QR payments, the CLI) or a bank id (posted and
//! imported entries), and deduplicated only on those, never on content: two
//! identical coffees on the same day are two coffees. Amounts are integer
//! minor units with their currency code.
//!
//! Merchant names and notes are stored in the clear. DESIGN's "no secret on
//! disk" covers PANs, tokens, keys and CVVs; merchant names are not secrets,
//! and grouping 100k of them for insights needs them queryable. What is
//! guarded is the one secret that could hide in free text: any run of 12 to
//! 19 digits that passes the Luhn check is masked before it is stored.

mod apply;
mod bills;
pub(crate) mod fx;
pub(crate) mod notes;
mod query;
mod record;

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

use crate::alerts::Alert;
use crate::error::{Error, Result};
use crate::money::{Currency, Money};

pub(crate) use apply::{Aggregates, StoredRow, SELECT_ROW};

/// The largest amount one entry or limit may have, in minor units (10^13:
/// a hundred billion dollars), so sums over millions of entries fit in i64.
pub(crate) const MAX_MINOR: i64 = 10_000_000_000_000;
pub use bills::{NewBill, ScheduledBill};
pub use fx::FxRate;
pub use query::{Balance, HistoryPage, HistoryQuery};
pub(crate) use record::{apply_bank_entries_in, reverse_pending_in};

/// The ledger account of the bank account the wallet's cards draw on: taps,
/// QR payments and the bank's postings all book here.
pub const MAIN_ACCOUNT: &str = "main";

/// Where an entry is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    /// A local hold from a tap or QR payment, not yet posted by the bank.
    Pending,
    /// Posted by the bank.
    Posted,
    /// Voided: it no longer moves money or counts as spending.
    Reversed,
    /// Posted and later refunded; the refund is its own entry, so this one
    /// still counts and the refund offsets it.
    Refunded,
}

impl EntryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryStatus::Pending => "pending",
            EntryStatus::Posted => "posted",
            EntryStatus::Reversed => "reversed",
            EntryStatus::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "pending" => EntryStatus::Pending,
            "posted" => EntryStatus::Posted,
            "reversed" => EntryStatus::Reversed,
            "refunded" => EntryStatus::Refunded,
            _ => {
                return Err(Error::InvalidText {
                    field: "status",
                    reason: "use pending, posted, reversed or refunded",
                })
            }
        })
    }
}

/// What an entry is. The kind sets the direction of the money, so amounts
/// given to the ledger are magnitudes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Money out to a merchant: spending.
    Purchase,
    /// Money back from a merchant: lowers spending.
    Refund,
    /// A bank fee: spending.
    Fee,
    /// Money in that is not a refund (salary, interest).
    Income,
    /// Between the user's own accounts: never spending.
    TransferIn,
    TransferOut,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Purchase => "purchase",
            EntryKind::Refund => "refund",
            EntryKind::Fee => "fee",
            EntryKind::Income => "income",
            EntryKind::TransferIn => "transfer_in",
            EntryKind::TransferOut => "transfer_out",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s.replace('-', "_").as_str() {
            "purchase" => EntryKind::Purchase,
            "refund" => EntryKind::Refund,
            "fee" => EntryKind::Fee,
            "income" => EntryKind::Income,
            "transfer_in" => EntryKind::TransferIn,
            "transfer_out" => EntryKind::TransferOut,
            _ => {
                return Err(Error::InvalidText {
                    field: "kind",
                    reason: "use purchase, refund, fee, income, transfer_in or transfer_out",
                })
            }
        })
    }

    /// Money leaves the account.
    pub fn is_debit(self) -> bool {
        matches!(
            self,
            EntryKind::Purchase | EntryKind::Fee | EntryKind::TransferOut
        )
    }

    /// Counts in "spent": expenses minus refunds, never transfers or income.
    pub fn is_spending(self) -> bool {
        matches!(
            self,
            EntryKind::Purchase | EntryKind::Fee | EntryKind::Refund
        )
    }

    fn default_category(self) -> &'static str {
        match self {
            EntryKind::Income => "income",
            EntryKind::TransferIn | EntryKind::TransferOut => "transfers",
            EntryKind::Fee => "fees",
            EntryKind::Purchase | EntryKind::Refund => "other",
        }
    }
}

pub(crate) fn ser_decimal<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&d.normalize().to_string())
}

/// The amount in the currency the payment was made in, and the rate the
/// bank (or the terminal) converted it at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FxDetail {
    /// In the original currency. Given as a magnitude; shown with the
    /// entry's sign.
    pub original: Money,
    /// Units of the settled currency per unit of the original.
    #[serde(serialize_with = "ser_decimal")]
    pub rate: Decimal,
    /// Who set the rate, e.g. "issuer", "ECB".
    pub source: String,
    /// When the rate was valid, UTC ms.
    pub as_of_ms: i64,
}

/// A local entry from a tap or a QR payment: a hold until the bank posts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    /// Unique per payment; the same key again returns the same entry.
    pub idempotency_key: String,
    /// The account (or card) the money comes from; created on first use.
    pub account: String,
    pub kind: EntryKind,
    /// The settled amount, as a magnitude (the kind sets the sign).
    pub amount: Money,
    pub original: Option<FxDetail>,
    pub merchant: Option<String>,
    pub mcc: Option<u16>,
    /// A category id or name; when absent it comes from the MCC.
    pub category: Option<String>,
    pub note: Option<String>,
    /// When the payment happened, UTC ms.
    pub booked_at_ms: i64,
}

/// An entry as the bank reports it, at sync or from an imported statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankEntry {
    /// The bank's stable id; the same id again updates, never duplicates.
    pub bank_id: String,
    /// The idempotency key of the local pending entry this posts, if any:
    /// the posting replaces that hold.
    pub idempotency_key: Option<String>,
    pub account: String,
    pub status: EntryStatus,
    pub kind: EntryKind,
    pub amount: Money,
    pub original: Option<FxDetail>,
    pub merchant: Option<String>,
    pub mcc: Option<u16>,
    pub category: Option<String>,
    pub note: Option<String>,
    pub booked_at_ms: i64,
    pub posted_at_ms: Option<i64>,
}

/// An entry as the user sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerEntry {
    pub id: String,
    pub idempotency_key: Option<String>,
    pub bank_id: Option<String>,
    pub account: String,
    pub status: EntryStatus,
    pub kind: EntryKind,
    /// Signed: negative when money leaves the account.
    pub amount: Money,
    pub original: Option<FxDetail>,
    pub merchant: Option<String>,
    pub mcc: Option<u16>,
    pub category: String,
    pub category_name: String,
    pub note: Option<String>,
    pub booked_at_ms: i64,
    pub posted_at_ms: Option<i64>,
}

/// What `record_pending` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recorded {
    pub entry: LedgerEntry,
    /// The budget alerts this entry fired (also sent to the listener).
    pub alerts: Vec<Alert>,
    /// The idempotency key was already used for this same payment; nothing
    /// new was written.
    pub duplicate: bool,
}

/// What `apply_bank_entries` (and an import) did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Applied {
    pub inserted: u32,
    /// Pending holds posted, and entries whose status or amount changed.
    pub updated: u32,
    /// Already known with the same content.
    pub unchanged: u32,
    pub alerts: Vec<Alert>,
}

// --- validation shared by the write paths ---------------------------------

/// Instants the ledger accepts: 1970 to 9999, so every date conversion works.
pub(crate) fn check_instant(field: &'static str, ms: i64) -> Result<()> {
    const MAX: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
    if (0..=MAX).contains(&ms) {
        Ok(())
    } else {
        Err(Error::InvalidText {
            field,
            reason: "the time is out of range",
        })
    }
}

/// An amount given as a magnitude with no more decimals than its currency.
pub(crate) fn check_magnitude(m: &Money) -> Result<i64> {
    if m.is_negative() {
        return Err(Error::InvalidAmount(
            "give the amount without a sign; the kind sets the direction",
        ));
    }
    if m.rounded() != *m {
        return Err(Error::InvalidAmount(
            "more decimal places than the currency allows",
        ));
    }
    let minor = m.to_minor()?;
    if minor > MAX_MINOR {
        return Err(Error::InvalidAmount("the amount is too large"));
    }
    Ok(minor)
}

pub(crate) fn check_key(field: &'static str, key: &str) -> Result<()> {
    if key.is_empty() || key.len() > 128 || key.chars().any(|c| c.is_control()) {
        return Err(Error::InvalidText {
            field,
            reason: "use 1 to 128 printable characters",
        });
    }
    Ok(())
}

/// Free text (merchant, note) made safe to store: trimmed, bounded, and with
/// anything that looks like a card number masked to its last four digits.
pub(crate) fn clean_text(field: &'static str, text: Option<&str>) -> Result<Option<String>> {
    let Some(t) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if t.chars().count() > 200 || t.chars().any(char::is_control) {
        return Err(Error::InvalidText {
            field,
            reason: "use at most 200 printable characters",
        });
    }
    Ok(Some(mask_card_numbers(t)))
}

/// Masks every run of 12 to 19 digits (spaces and dashes allowed between
/// them) that passes the Luhn check, keeping only the last four digits.
pub fn mask_card_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // The longest run of digits with single separators between them.
        let mut j = i;
        let mut digits = Vec::new();
        while j < chars.len() {
            if chars[j].is_ascii_digit() {
                digits.push(chars[j] as u8);
                j += 1;
            } else if (chars[j] == ' ' || chars[j] == '-')
                && j + 1 < chars.len()
                && chars[j + 1].is_ascii_digit()
            {
                j += 1;
            } else {
                break;
            }
        }
        let looks_like_pan = (12..=19).contains(&digits.len()) && crate::card::luhn_valid(&digits)
            || digits.len() > 19;
        if looks_like_pan {
            let last4: String = digits[digits.len() - 4..]
                .iter()
                .map(|&d| d as char)
                .collect();
            out.push_str("••••");
            out.push_str(&last4);
        } else {
            out.extend(&chars[i..j]);
        }
        i = j;
    }
    out
}

fn check_fx(fx: &FxDetail, settled: Currency) -> Result<i64> {
    if fx.original.currency() == settled {
        return Err(Error::InvalidAmount(
            "the original amount is in the settled currency; leave it out",
        ));
    }
    if fx.rate <= Decimal::ZERO {
        return Err(Error::InvalidAmount("an exchange rate must be positive"));
    }
    check_instant("rate time", fx.as_of_ms)?;
    check_key("rate source", &fx.source)?;
    check_magnitude(&fx.original)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_numbers_in_free_text_are_masked() {
        assert_eq!(
            mask_card_numbers("paid with 4111 1111 1111 1111 ok"),
            "paid with ••••1111 ok"
        );
        assert_eq!(mask_card_numbers("4111-1111-1111-1111"), "••••1111");
        // Not Luhn-valid, or too short: left alone (order numbers, phones).
        assert_eq!(
            mask_card_numbers("order 4111111111111112"),
            "order 4111111111111112"
        );
        assert_eq!(mask_card_numbers("Store #1234, 2026"), "Store #1234, 2026");
    }
}

//! The ledger as the apps see it: balances, history a page at a time,
//! recording a payment the phone made (a pending hold until the bank posts
//! it), putting a transaction in another category, categories, and
//! scheduled bills (which the projected balance subtracts).
//!
//! Amounts are `Money` records (decimal text), instants UTC milliseconds,
//! and everything given to the ledger is a magnitude: the entry's kind sets
//! the direction of the money.

use rust_decimal::Decimal;
use wallet_core::{
    Balance as CoreBalance, Category as CoreCategory, EntryKind as CoreKind,
    EntryStatus as CoreStatus, FxDetail as CoreFx, FxRate as CoreFxRate,
    HistoryPage as CoreHistoryPage, ImportFormat, ImportOptions, LedgerEntry as CoreEntry,
    Recorded as CoreRecorded, ScheduledBill as CoreBill,
};

use crate::alerts::{alerts, Alert};
use crate::bytes::Bytes;
use crate::error::WalletError;
use crate::money::Money;
use crate::validate::{check_id, check_len, check_opt_text, check_text, currency, instant};
use crate::wallet::Wallet;

/// Where a transaction is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum EntryStatus {
    /// A local hold from a tap or QR payment, not yet posted by the bank.
    Pending,
    /// Posted by the bank.
    Posted,
    /// Voided: it no longer moves money or counts as spending.
    Reversed,
    /// Posted and later refunded; the refund is its own entry.
    Refunded,
}

impl From<CoreStatus> for EntryStatus {
    fn from(s: CoreStatus) -> Self {
        match s {
            CoreStatus::Pending => EntryStatus::Pending,
            CoreStatus::Posted => EntryStatus::Posted,
            CoreStatus::Reversed => EntryStatus::Reversed,
            CoreStatus::Refunded => EntryStatus::Refunded,
        }
    }
}

/// What a transaction is; it sets the direction of the money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
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

impl From<CoreKind> for EntryKind {
    fn from(k: CoreKind) -> Self {
        match k {
            CoreKind::Purchase => EntryKind::Purchase,
            CoreKind::Refund => EntryKind::Refund,
            CoreKind::Fee => EntryKind::Fee,
            CoreKind::Income => EntryKind::Income,
            CoreKind::TransferIn => EntryKind::TransferIn,
            CoreKind::TransferOut => EntryKind::TransferOut,
        }
    }
}

impl From<EntryKind> for CoreKind {
    fn from(k: EntryKind) -> Self {
        match k {
            EntryKind::Purchase => CoreKind::Purchase,
            EntryKind::Refund => CoreKind::Refund,
            EntryKind::Fee => CoreKind::Fee,
            EntryKind::Income => CoreKind::Income,
            EntryKind::TransferIn => CoreKind::TransferIn,
            EntryKind::TransferOut => CoreKind::TransferOut,
        }
    }
}

/// A payment made in another currency, and the rate it was converted at.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FxDetail {
    /// In the original currency, as a magnitude.
    pub original: Money,
    /// Units of the settled currency per unit of the original, as decimal
    /// text ("1.0842").
    pub rate: String,
    /// Who set the rate, e.g. "issuer", "ECB".
    pub source: String,
    /// When the rate was valid, UTC milliseconds.
    pub as_of_ms: i64,
}

impl From<CoreFx> for FxDetail {
    fn from(f: CoreFx) -> Self {
        FxDetail {
            original: f.original.into(),
            rate: f.rate.normalize().to_string(),
            source: f.source,
            as_of_ms: f.as_of_ms,
        }
    }
}

impl FxDetail {
    fn to_core(&self) -> Result<CoreFx, WalletError> {
        check_text("rate source", &self.source, 128)?;
        Ok(CoreFx {
            original: self.original.to_core()?,
            rate: parse_rate(&self.rate)?,
            source: self.source.clone(),
            as_of_ms: instant("rate time", self.as_of_ms)?,
        })
    }
}

/// Plain decimal notation only, like amounts: no exponent, no sign.
fn parse_rate(text: &str) -> Result<Decimal, WalletError> {
    let plain = !text.is_empty()
        && text.len() <= 40
        && text.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    plain
        .then(|| text.parse::<Decimal>().ok())
        .flatten()
        .ok_or_else(|| {
            WalletError::from(wallet_core::Error::InvalidAmount(
                "an exchange rate is a positive decimal number",
            ))
        })
}

/// An exchange rate for budgets and insights in a currency an entry does
/// not carry: `rate` units of `quote` per unit of `base`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FxRate {
    /// ISO 4217 codes, e.g. "USD" and "EUR".
    pub base: String,
    pub quote: String,
    /// Decimal text, e.g. "0.9231".
    pub rate: String,
    /// Who set it, e.g. "ECB", "manual".
    pub source: String,
    /// From when it applies, UTC milliseconds.
    pub as_of_ms: i64,
}

impl From<CoreFxRate> for FxRate {
    fn from(r: CoreFxRate) -> Self {
        FxRate {
            base: r.base.code().to_string(),
            quote: r.quote.code().to_string(),
            rate: r.rate.normalize().to_string(),
            source: r.source,
            as_of_ms: r.as_of_ms,
        }
    }
}

/// A transaction as the user sees it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LedgerEntry {
    /// Opaque id, for `entry`, `categorize` and `reverseEntry`.
    pub id: String,
    /// The idempotency key it was recorded with, for local payments.
    pub idempotency_key: Option<String>,
    /// The bank's id, once the bank knows it.
    pub bank_id: Option<String>,
    pub account: String,
    pub status: EntryStatus,
    pub kind: EntryKind,
    /// Signed: negative when money leaves the account.
    pub amount: Money,
    pub original: Option<FxDetail>,
    /// Anything in it that looks like a card number is masked.
    pub merchant: Option<String>,
    /// ISO 18245 merchant category code.
    pub mcc: Option<u16>,
    /// Category id, and its name for display.
    pub category: String,
    pub category_name: String,
    pub note: Option<String>,
    /// When the payment happened, UTC milliseconds.
    pub booked_at_ms: i64,
    /// When the bank posted it.
    pub posted_at_ms: Option<i64>,
}

impl From<CoreEntry> for LedgerEntry {
    fn from(e: CoreEntry) -> Self {
        LedgerEntry {
            id: e.id,
            idempotency_key: e.idempotency_key,
            bank_id: e.bank_id,
            account: e.account,
            status: e.status.into(),
            kind: e.kind.into(),
            amount: e.amount.into(),
            original: e.original.map(FxDetail::from),
            merchant: e.merchant,
            mcc: e.mcc,
            category: e.category,
            category_name: e.category_name,
            note: e.note,
            booked_at_ms: e.booked_at_ms,
            posted_at_ms: e.posted_at_ms,
        }
    }
}

/// A payment the phone made (a tap elsewhere, a QR payment), recorded as a
/// pending hold until the bank posts it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PendingEntry {
    /// Unique per payment: recording the same key again returns the stored
    /// entry and fires nothing; the same key for a different payment is
    /// refused (`idempotency_conflict`).
    pub idempotency_key: String,
    /// The amount settled, as a magnitude; `kind` sets the direction.
    pub amount: Money,
    pub kind: EntryKind,
    /// The account (or card) the money comes from; created on first use.
    #[uniffi(default = "main")]
    pub account: String,
    #[uniffi(default = None)]
    pub merchant: Option<String>,
    /// Sets the category when `category` is not given.
    #[uniffi(default = None)]
    pub mcc: Option<u16>,
    /// A category id or name (see `categories`).
    #[uniffi(default = None)]
    pub category: Option<String>,
    #[uniffi(default = None)]
    pub note: Option<String>,
    #[uniffi(default = None)]
    pub original: Option<FxDetail>,
    /// When the payment happened, UTC milliseconds; null for now.
    #[uniffi(default = None)]
    pub booked_at_ms: Option<i64>,
}

/// What recording or re-categorising did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Recorded {
    pub entry: LedgerEntry,
    /// The budget alerts this fired (also sent to the `AlertListener`).
    pub alerts: Vec<Alert>,
    /// The idempotency key was already used for this same payment; nothing
    /// new was written.
    pub duplicate: bool,
}

impl From<CoreRecorded> for Recorded {
    fn from(r: CoreRecorded) -> Self {
        Recorded {
            entry: r.entry.into(),
            alerts: alerts(r.alerts),
            duplicate: r.duplicate,
        }
    }
}

/// One account's money in one currency.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Balance {
    pub account: String,
    /// ISO 4217.
    pub currency: String,
    /// What the bank has posted.
    pub posted: Money,
    /// Local holds not yet posted (a positive amount).
    pub pending_holds: Money,
    /// `posted - pendingHolds`: what can be spent now.
    pub available: Money,
    /// Scheduled bills not yet paid (a positive amount).
    pub scheduled_bills: Money,
    /// `available - scheduledBills`.
    pub projected: Money,
}

impl From<CoreBalance> for Balance {
    fn from(b: CoreBalance) -> Self {
        Balance {
            account: b.account,
            currency: b.currency.code().to_string(),
            posted: b.posted.into(),
            pending_holds: b.pending_holds.into(),
            available: b.available.into(),
            scheduled_bills: b.scheduled_bills.into(),
            projected: b.projected.into(),
        }
    }
}

/// A page of history, newest first.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HistoryPage {
    pub entries: Vec<LedgerEntry>,
    /// Pass as `before` for the next (older) page; null at the end.
    pub next: Option<String>,
}

impl From<CoreHistoryPage> for HistoryPage {
    fn from(p: CoreHistoryPage) -> Self {
        HistoryPage {
            entries: p.entries.into_iter().map(LedgerEntry::from).collect(),
            next: p.next,
        }
    }
}

/// A spending category.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Category {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
    /// "Food & drink / Groceries".
    pub path: String,
}

impl From<CoreCategory> for Category {
    fn from(c: CoreCategory) -> Self {
        Category {
            id: c.id,
            name: c.name,
            parent_id: c.parent_id,
            path: c.path,
        }
    }
}

/// A bank statement's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum StatementFormat {
    /// OFX when the file says so, CSV otherwise.
    Auto,
    /// OFX 1 (SGML) or 2 (XML), also QFX.
    Ofx,
    /// The documented CSV layout (a header row naming id, date, amount…).
    Csv,
}

/// What a statement import did. Importing the same file again changes
/// nothing: lines are known by the bank's ids.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportResult {
    pub inserted: u32,
    /// Pending holds the statement posted, and lines whose status or amount changed.
    pub updated: u32,
    pub unchanged: u32,
    /// Budget alerts the imported spending fired (also sent to the AlertListener).
    pub alerts: Vec<Alert>,
}

/// A bill to schedule: the projected balance subtracts it until removed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewBill {
    pub name: String,
    /// A magnitude: the money the bill will take.
    pub amount: Money,
    /// When it is due, UTC milliseconds.
    pub due_at_ms: i64,
    #[uniffi(default = "main")]
    pub account: String,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ScheduledBill {
    pub id: String,
    pub account: String,
    pub name: String,
    pub amount: Money,
    pub due_at_ms: i64,
}

impl From<CoreBill> for ScheduledBill {
    fn from(b: CoreBill) -> Self {
        ScheduledBill {
            id: b.id,
            account: b.account,
            name: b.name,
            amount: b.amount.into(),
            due_at_ms: b.due_ms,
        }
    }
}

/// Accounts, merchants and notes are short text; the core enforces the
/// exact rules (and masks card numbers in free text).
const MAX_TEXT: usize = 1024;

#[uniffi::export]
impl Wallet {
    /// Balances per account and currency.
    pub fn balances(&self) -> Result<Vec<Balance>, WalletError> {
        self.with(|w| w.balances())
            .map(|v| v.into_iter().map(Balance::from).collect())
    }

    /// The balances of one account (one per currency it holds).
    pub fn balance(&self, account: String) -> Result<Vec<Balance>, WalletError> {
        check_text("account", &account, MAX_TEXT)?;
        self.with(|w| w.balance(&account))
            .map(|v| v.into_iter().map(Balance::from).collect())
    }

    /// A page of history, newest first: `limit` (1 to 500) entries older
    /// than the cursor `before` (the previous page's `next`), optionally of
    /// one account or one category and its sub-categories.
    #[uniffi::method(default(account = None, category = None, limit = 50, before = None))]
    pub fn history(
        &self,
        account: Option<String>,
        category: Option<String>,
        limit: u32,
        before: Option<String>,
    ) -> Result<HistoryPage, WalletError> {
        check_opt_text("account", account.as_deref(), MAX_TEXT)?;
        check_opt_text("category", category.as_deref(), MAX_TEXT)?;
        check_opt_text("cursor", before.as_deref(), 64)?;
        let q = wallet_core::HistoryQuery {
            account,
            category,
            limit,
            before,
        };
        self.with(|w| w.history(&q)).map(HistoryPage::from)
    }

    /// One transaction by its id (or a unique prefix of 6 or more characters).
    pub fn entry(&self, id: String) -> Result<LedgerEntry, WalletError> {
        check_id("transaction id", &id)?;
        self.with(|w| w.entry(&id)).map(LedgerEntry::from)
    }

    /// Records a payment the phone made as a pending hold, evaluates the
    /// budgets and notifies the `AlertListener`.
    pub fn record_pending(&self, entry: PendingEntry) -> Result<Recorded, WalletError> {
        check_text("idempotency key", &entry.idempotency_key, MAX_TEXT)?;
        check_text("account", &entry.account, MAX_TEXT)?;
        check_opt_text("merchant", entry.merchant.as_deref(), MAX_TEXT)?;
        check_opt_text("category", entry.category.as_deref(), MAX_TEXT)?;
        check_opt_text("note", entry.note.as_deref(), MAX_TEXT)?;
        let booked_at_ms = match entry.booked_at_ms {
            Some(ms) => instant("booking time", ms)?,
            None => self.now_ms(),
        };
        let p = wallet_core::PendingEntry {
            idempotency_key: entry.idempotency_key,
            account: entry.account,
            kind: entry.kind.into(),
            amount: entry.amount.to_core()?,
            original: entry.original.as_ref().map(FxDetail::to_core).transpose()?,
            merchant: entry.merchant,
            mcc: entry.mcc,
            category: entry.category,
            note: entry.note,
            booked_at_ms,
        };
        self.with(|w| w.record_pending(&p)).map(Recorded::from)
    }

    /// Puts a transaction in another category (kept across the bank's
    /// postings). Budgets are re-evaluated, which may fire alerts.
    pub fn categorize(&self, entry_id: String, category: String) -> Result<Recorded, WalletError> {
        check_id("transaction id", &entry_id)?;
        check_text("category", &category, MAX_TEXT)?;
        self.with(|w| w.categorize(&entry_id, &category))
            .map(Recorded::from)
    }

    /// Voids a pending transaction (a cancelled payment). The bank reverses
    /// posted ones.
    pub fn reverse_entry(&self, entry_id: String) -> Result<LedgerEntry, WalletError> {
        check_id("transaction id", &entry_id)?;
        self.with(|w| w.reverse_entry(&entry_id))
            .map(LedgerEntry::from)
    }

    /// All categories, ordered by path.
    pub fn categories(&self) -> Result<Vec<Category>, WalletError> {
        self.with(|w| w.categories())
            .map(|v| v.into_iter().map(Category::from).collect())
    }

    /// Creates a category, optionally under a parent (its id or name).
    pub fn create_category(
        &self,
        name: String,
        parent: Option<String>,
    ) -> Result<Category, WalletError> {
        check_text("category name", &name, MAX_TEXT)?;
        check_opt_text("parent category", parent.as_deref(), MAX_TEXT)?;
        self.with(|w| w.create_category(&name, parent.as_deref()))
            .map(Category::from)
    }

    /// Renames a category (by id or name). Synced to the user's other devices.
    pub fn rename_category(&self, category: String, name: String) -> Result<Category, WalletError> {
        check_text("category", &category, MAX_TEXT)?;
        check_text("category name", &name, MAX_TEXT)?;
        self.with(|w| w.rename_category(&category, &name))
            .map(Category::from)
    }

    /// Merges `from` into `into`: its transactions, sub-categories and
    /// budgets move there. Returns `into`.
    pub fn merge_categories(&self, from: String, into: String) -> Result<Category, WalletError> {
        check_text("category", &from, MAX_TEXT)?;
        check_text("category", &into, MAX_TEXT)?;
        self.with(|w| w.merge_categories(&from, &into))
            .map(Category::from)
    }

    /// Deletes a category without losing anything: it is merged into its
    /// parent, or into Other for a top-level one. Returns where its
    /// transactions went. Other itself cannot be deleted.
    pub fn delete_category(&self, category: String) -> Result<Category, WalletError> {
        check_text("category", &category, MAX_TEXT)?;
        self.with(|w| w.delete_category(&category))
            .map(Category::from)
    }

    /// Sets, or clears with `null` or blank text, a transaction's note: at
    /// most 200 characters, anything like a card number masked. Synced to
    /// the user's other devices.
    pub fn set_note(
        &self,
        entry_id: String,
        note: Option<String>,
    ) -> Result<LedgerEntry, WalletError> {
        check_id("transaction id", &entry_id)?;
        if let Some(n) = &note {
            check_len("note", n, MAX_TEXT)?;
        }
        self.with(|w| w.set_note(&entry_id, note.as_deref()))
            .map(LedgerEntry::from)
    }

    /// Records an exchange rate (a later one for the same pair applies from
    /// its own time on). Budgets in either currency are recomputed.
    pub fn set_fx_rate(&self, rate: FxRate) -> Result<(), WalletError> {
        check_text("rate source", &rate.source, 128)?;
        let r = CoreFxRate {
            base: currency(&rate.base)?,
            quote: currency(&rate.quote)?,
            rate: parse_rate(&rate.rate)?,
            source: rate.source,
            as_of_ms: instant("rate time", rate.as_of_ms)?,
        };
        self.with(|w| w.set_fx_rate(&r))
    }

    /// Every recorded rate, by pair and time.
    pub fn fx_rates(&self) -> Result<Vec<FxRate>, WalletError> {
        self.with(|w| w.fx_rates())
            .map(|v| v.into_iter().map(FxRate::from).collect())
    }

    /// Imports a bank statement file's bytes (at most 64 MB). `account`
    /// overrides where the lines go; `currency` is for CSV files without a
    /// currency column. A bad line refuses the whole file, naming the line
    /// but never echoing its content.
    pub fn import_statement(
        &self,
        data: Bytes,
        format: StatementFormat,
        account: Option<String>,
        currency_code: Option<String>,
    ) -> Result<ImportResult, WalletError> {
        check_opt_text("account", account.as_deref(), MAX_TEXT)?;
        let opts = ImportOptions {
            format: match format {
                StatementFormat::Auto => ImportFormat::Auto,
                StatementFormat::Ofx => ImportFormat::Ofx,
                StatementFormat::Csv => ImportFormat::Csv,
            },
            account,
            currency: currency_code.as_deref().map(currency).transpose()?,
        };
        self.with(|w| w.import_statement(&data.0, &opts))
            .map(|a| ImportResult {
                inserted: a.inserted,
                updated: a.updated,
                unchanged: a.unchanged,
                alerts: alerts(a.alerts),
            })
    }

    /// Schedules a bill; the projected balance subtracts it.
    pub fn schedule_bill(&self, bill: NewBill) -> Result<ScheduledBill, WalletError> {
        check_text("bill name", &bill.name, MAX_TEXT)?;
        check_text("account", &bill.account, MAX_TEXT)?;
        let b = wallet_core::NewBill {
            account: bill.account,
            name: bill.name,
            amount: bill.amount.to_core()?,
            due_ms: instant("due date", bill.due_at_ms)?,
        };
        self.with(|w| w.schedule_bill(&b)).map(ScheduledBill::from)
    }

    pub fn scheduled_bills(&self) -> Result<Vec<ScheduledBill>, WalletError> {
        self.with(|w| w.scheduled_bills())
            .map(|v| v.into_iter().map(ScheduledBill::from).collect())
    }

    /// Removes a bill once paid or cancelled.
    pub fn remove_bill(&self, id: String) -> Result<(), WalletError> {
        check_id("bill id", &id)?;
        self.with(|w| w.remove_bill(&id))
    }
}

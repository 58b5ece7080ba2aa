//! Spending insights for the Insights screen (by month with
//! month-over-month change, by category, by merchant, in one currency and
//! time zone) and the CSV export of the ledger.
//!
//! The chart the CLI renders is left out: the apps draw their own from
//! these figures, at the screen's density.

use wallet_core::{
    CategoryAmount as CoreCategoryAmount, Insights as CoreInsights,
    MerchantSpend as CoreMerchantSpend, MonthSpend as CoreMonthSpend,
};

use crate::error::WalletError;
use crate::money::Money;
use crate::validate::{check_text, file_path, instant};
use crate::wallet::Wallet;

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CategoryAmount {
    /// Category id, and its name for display.
    pub category: String,
    pub name: String,
    pub spent: Money,
    /// Whole percent of the total, rounded down.
    pub share_percent: u32,
}

impl From<CoreCategoryAmount> for CategoryAmount {
    fn from(c: CoreCategoryAmount) -> Self {
        CategoryAmount {
            category: c.category,
            name: c.name,
            spent: c.spent.into(),
            share_percent: c.share_percent,
        }
    }
}

fn amounts(v: Vec<CoreCategoryAmount>) -> Vec<CategoryAmount> {
    v.into_iter().map(CategoryAmount::from).collect()
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MonthSpend {
    /// "2026-11".
    pub month: String,
    pub spent: Money,
    /// Against the month before; null when there was no data then.
    pub change: Option<Money>,
    /// Whole percent; null when the month before was zero.
    pub change_percent: Option<i64>,
    /// By top-level category, largest first.
    pub categories: Vec<CategoryAmount>,
}

impl From<CoreMonthSpend> for MonthSpend {
    fn from(m: CoreMonthSpend) -> Self {
        MonthSpend {
            month: m.month,
            spent: m.spent.into(),
            change: m.change.map(Money::from),
            change_percent: m.change_percent,
            categories: amounts(m.categories),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MerchantSpend {
    pub merchant: String,
    pub spent: Money,
    pub transactions: u32,
}

impl From<CoreMerchantSpend> for MerchantSpend {
    fn from(m: CoreMerchantSpend) -> Self {
        MerchantSpend {
            merchant: m.merchant,
            spent: m.spent.into(),
            transactions: m.transactions,
        }
    }
}

/// Spending over the last months, in one currency.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Insights {
    pub currency: String,
    pub time_zone: String,
    /// The first and last days included, `YYYY-MM-DD` (the last is today).
    pub from: String,
    pub to: String,
    pub total: Money,
    /// Oldest first.
    pub months: Vec<MonthSpend>,
    /// Leaf categories, largest first.
    pub by_category: Vec<CategoryAmount>,
    /// Top-level categories (sub-categories rolled up), largest first.
    pub by_top_category: Vec<CategoryAmount>,
    pub top_merchants: Vec<MerchantSpend>,
}

impl From<CoreInsights> for Insights {
    fn from(i: CoreInsights) -> Self {
        Insights {
            currency: i.currency.code().to_string(),
            time_zone: i.time_zone,
            from: i.from.to_string(),
            to: i.to.to_string(),
            total: i.total.into(),
            months: i.months.into_iter().map(MonthSpend::from).collect(),
            by_category: amounts(i.by_category),
            by_top_category: amounts(i.by_top_category),
            top_merchants: i
                .top_merchants
                .into_iter()
                .map(MerchantSpend::from)
                .collect(),
        }
    }
}

#[uniffi::export]
impl Wallet {
    /// Spending over the last `months` calendar months (1 to 120, the
    /// current one included), converted into `currency`, with month
    /// boundaries in `time_zone`. Foreign spending without a recorded
    /// exchange rate fails with `missing_rate`.
    #[uniffi::method(default(months = 6, top_merchants = 10))]
    pub fn insights(
        &self,
        currency: String,
        time_zone: String,
        months: u32,
        top_merchants: u32,
    ) -> Result<Insights, WalletError> {
        check_text("time zone", &time_zone, 128)?;
        let q = wallet_core::InsightsQuery {
            months,
            currency: crate::validate::currency(&currency)?,
            time_zone,
            top_merchants,
        };
        self.with(|w| w.insights(&q)).map(Insights::from)
    }

    /// Writes the ledger as CSV to `path` (created or replaced): the
    /// entries booked in `[from_ms, to_ms)`, or all of them. Returns how
    /// many entries were written. Text a spreadsheet would run as a formula
    /// is defused. The file appears whole or not at all.
    #[uniffi::method(default(from_ms = None, to_ms = None))]
    pub fn export_csv(
        &self,
        path: String,
        from_ms: Option<i64>,
        to_ms: Option<i64>,
    ) -> Result<u64, WalletError> {
        let path = file_path(&path)?;
        let from_ms = from_ms.map(|t| instant("start time", t)).transpose()?;
        let to_ms = to_ms.map(|t| instant("end time", t)).transpose()?;
        // Written beside the target and renamed over it, so a locked
        // wallet or a full disk never leaves a truncated export for the
        // share sheet to send.
        let mut partial = path.clone().into_os_string();
        partial.push(".partial");
        let partial = std::path::PathBuf::from(partial);
        let written = self.with(|w| {
            let file = std::fs::File::create(&partial)?;
            let mut out = std::io::BufWriter::new(file);
            let n = w.export_csv(&mut out, from_ms, to_ms)?;
            std::io::Write::flush(&mut out)?;
            out.get_ref().sync_all()?;
            std::fs::rename(&partial, &path)?;
            Ok(n)
        });
        if written.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        written
    }
}

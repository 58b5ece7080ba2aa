//! Budgets as the apps see them: create, list, status, edit, delete.
//!
//! A budget's period is an enum with its parameters (a monthly start day,
//! a weekday, a fortnight's anchor date, or a custom range); dates travel
//! as `YYYY-MM-DD` text and are checked here. Creating or editing a budget
//! re-evaluates it, so the change itself can fire alerts: they come back in
//! the result and go to the `AlertListener`.

use chrono::Weekday as ChronoWeekday;
use wallet_core::{
    Budget as CoreBudget, BudgetChange as CoreChange, BudgetStatus as CoreStatus,
    Forecast as CoreForecast, Period as CorePeriod, Rollover as CoreRollover,
};

use crate::alerts::{alerts, Alert};
use crate::error::WalletError;
use crate::money::Money;
use crate::validate::{check_id, check_opt_text, check_text, date};
use crate::wallet::Wallet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl From<ChronoWeekday> for Weekday {
    fn from(w: ChronoWeekday) -> Self {
        match w {
            ChronoWeekday::Mon => Weekday::Monday,
            ChronoWeekday::Tue => Weekday::Tuesday,
            ChronoWeekday::Wed => Weekday::Wednesday,
            ChronoWeekday::Thu => Weekday::Thursday,
            ChronoWeekday::Fri => Weekday::Friday,
            ChronoWeekday::Sat => Weekday::Saturday,
            ChronoWeekday::Sun => Weekday::Sunday,
        }
    }
}

impl From<Weekday> for ChronoWeekday {
    fn from(w: Weekday) -> Self {
        match w {
            Weekday::Monday => ChronoWeekday::Mon,
            Weekday::Tuesday => ChronoWeekday::Tue,
            Weekday::Wednesday => ChronoWeekday::Wed,
            Weekday::Thursday => ChronoWeekday::Thu,
            Weekday::Friday => ChronoWeekday::Fri,
            Weekday::Saturday => ChronoWeekday::Sat,
            Weekday::Sunday => ChronoWeekday::Sun,
        }
    }
}

/// How a budget's periods are laid out, in the budget's time zone.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Period {
    /// From `start_day` of each month (1 to 31, clamped to short months:
    /// 31 means the last day of February).
    Monthly { start_day: u32 },
    /// Seven days from each `start` weekday.
    Weekly { start: Weekday },
    /// Fourteen days, aligned on `anchor` (`YYYY-MM-DD`).
    BiWeekly { anchor: String },
    /// One range of dates (`YYYY-MM-DD`), both ends included.
    Custom { start: String, end: String },
}

impl From<CorePeriod> for Period {
    fn from(p: CorePeriod) -> Self {
        match p {
            CorePeriod::Monthly { start_day } => Period::Monthly { start_day },
            CorePeriod::Weekly { start } => Period::Weekly {
                start: start.into(),
            },
            CorePeriod::BiWeekly { anchor } => Period::BiWeekly {
                anchor: anchor.to_string(),
            },
            CorePeriod::Custom { start, end } => Period::Custom {
                start: start.to_string(),
                end: end.to_string(),
            },
        }
    }
}

impl Period {
    fn to_core(&self) -> Result<CorePeriod, WalletError> {
        let p = match self {
            Period::Monthly { start_day } => CorePeriod::Monthly {
                start_day: *start_day,
            },
            Period::Weekly { start } => CorePeriod::Weekly {
                start: (*start).into(),
            },
            Period::BiWeekly { anchor } => CorePeriod::BiWeekly {
                anchor: date("period anchor", anchor)?,
            },
            Period::Custom { start, end } => CorePeriod::Custom {
                start: date("period start", start)?,
                end: date("period end", end)?,
            },
        };
        p.validate()?;
        Ok(p)
    }
}

/// What happens to what is left (or overspent) at the end of a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Rollover {
    /// Every period starts from its limit. (Not called `None`: in Swift,
    /// `.none` in an optional context means nil, and `BudgetEdit` would
    /// silently leave the rollover as it was.)
    Off,
    /// Unspent money is added to the next period; overspending is forgotten.
    Surplus,
    /// Both carry: overspending shrinks the next period.
    SurplusAndDeficit,
}

impl From<CoreRollover> for Rollover {
    fn from(r: CoreRollover) -> Self {
        match r {
            CoreRollover::None => Rollover::Off,
            CoreRollover::Surplus => Rollover::Surplus,
            CoreRollover::SurplusAndDeficit => Rollover::SurplusAndDeficit,
        }
    }
}

impl From<Rollover> for CoreRollover {
    fn from(r: Rollover) -> Self {
        match r {
            Rollover::Off => CoreRollover::None,
            Rollover::Surplus => CoreRollover::Surplus,
            Rollover::SurplusAndDeficit => CoreRollover::SurplusAndDeficit,
        }
    }
}

/// A budget.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Budget {
    pub id: String,
    pub name: String,
    /// The category id it covers (sub-categories included); null for all
    /// spending.
    pub category: Option<String>,
    pub category_name: Option<String>,
    /// The current period's limit, before rollover.
    pub limit: Money,
    pub period: Period,
    /// IANA name, e.g. "Europe/Paris": periods follow its calendar.
    pub time_zone: String,
    pub rollover: Rollover,
    /// Alert thresholds in percent, ascending.
    pub thresholds: Vec<u32>,
    /// The first day of the first period covered, `YYYY-MM-DD`.
    pub starts_on: String,
    pub created_at_ms: i64,
}

impl From<CoreBudget> for Budget {
    fn from(b: CoreBudget) -> Self {
        Budget {
            id: b.id,
            name: b.name,
            category: b.category,
            category_name: b.category_name,
            limit: b.limit.into(),
            period: b.period.into(),
            time_zone: b.time_zone,
            rollover: b.rollover.into(),
            thresholds: b.thresholds,
            starts_on: b.starts_on.to_string(),
            created_at_ms: b.created_ms,
        }
    }
}

/// What the user fills in to create a budget.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewBudget {
    pub name: String,
    /// Per period; its currency is the budget's.
    pub limit: Money,
    pub period: Period,
    /// IANA name, e.g. "Europe/Paris".
    pub time_zone: String,
    /// A category id or name; null for all spending.
    #[uniffi(default = None)]
    pub category: Option<String>,
    /// Null for `Rollover.Off`.
    #[uniffi(default = None)]
    pub rollover: Option<Rollover>,
    /// Percentages (1 to 1000, at most 10); null for 50, 80 and 100.
    #[uniffi(default = None)]
    pub thresholds: Option<Vec<u32>>,
    /// Any day of the first period to cover (`YYYY-MM-DD`); null for today.
    #[uniffi(default = None)]
    pub starts_on: Option<String>,
}

/// Which spending a budget covers, when editing it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum BudgetScope {
    /// All spending.
    Overall,
    /// One category (id or name) and its sub-categories.
    Category { category: String },
}

/// A change to a budget; null leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct BudgetEdit {
    #[uniffi(default = None)]
    pub name: Option<String>,
    /// Applies from the current period on; earlier periods keep theirs.
    #[uniffi(default = None)]
    pub limit: Option<Money>,
    #[uniffi(default = None)]
    pub thresholds: Option<Vec<u32>>,
    #[uniffi(default = None)]
    pub rollover: Option<Rollover>,
    #[uniffi(default = None)]
    pub period: Option<Period>,
    #[uniffi(default = None)]
    pub time_zone: Option<String>,
    #[uniffi(default = None)]
    pub scope: Option<BudgetScope>,
}

/// A budget after a change, with the alerts the change fired.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BudgetChange {
    pub budget: Budget,
    pub alerts: Vec<Alert>,
}

impl From<CoreChange> for BudgetChange {
    fn from(c: CoreChange) -> Self {
        BudgetChange {
            budget: c.budget.into(),
            alerts: alerts(c.alerts),
        }
    }
}

/// "At this pace you will exceed by `overshoot` around `around`."
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Forecast {
    /// Spending at the end of the period if the pace so far holds.
    pub projected: Money,
    pub overshoot: Money,
    /// `YYYY-MM-DD`.
    pub around: String,
}

impl From<CoreForecast> for Forecast {
    fn from(f: CoreForecast) -> Self {
        Forecast {
            projected: f.projected.into(),
            overshoot: f.overshoot.into(),
            around: f.around.to_string(),
        }
    }
}

/// Where a budget stands in its current period.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BudgetStatus {
    pub budget: Budget,
    /// The current period, `YYYY-MM-DD`, both ends included.
    pub period_start: String,
    pub period_end: String,
    /// The period's own limit.
    pub limit: Money,
    /// Rollover from earlier periods: positive for a surplus, negative for
    /// a deficit.
    pub carried_in: Money,
    /// `limit + carriedIn`: what may be spent this period.
    pub available: Money,
    /// Expenses minus refunds, pending included, transfers excluded.
    pub spent: Money,
    /// `available - spent`; negative when over.
    pub remaining: Money,
    /// Whole percent of `available` spent, rounded down; null when nothing
    /// is available.
    pub percent_used: Option<u32>,
    pub days_elapsed: u32,
    pub days_in_period: u32,
    /// Present after a few days when the pace would exceed the budget.
    pub forecast: Option<Forecast>,
}

impl From<CoreStatus> for BudgetStatus {
    fn from(s: CoreStatus) -> Self {
        BudgetStatus {
            budget: s.budget.into(),
            period_start: s.period_start.to_string(),
            period_end: s.period_end.to_string(),
            limit: s.limit.into(),
            carried_in: s.carried_in.into(),
            available: s.available.into(),
            spent: s.spent.into(),
            remaining: s.remaining.into(),
            percent_used: s.percent_used,
            days_elapsed: s.days_elapsed,
            days_in_period: s.days_in_period,
            forecast: s.forecast.map(Forecast::from),
        }
    }
}

/// Names, categories and zone names are short; the core has the exact rules.
const MAX_TEXT: usize = 1024;

/// More thresholds than this cannot be valid (the core allows 10); the
/// ceiling only keeps a huge list from being copied and sorted.
const MAX_THRESHOLDS: usize = 64;

fn check_thresholds(t: Option<&Vec<u32>>) -> Result<(), WalletError> {
    if t.is_some_and(|t| t.len() > MAX_THRESHOLDS) {
        return Err(wallet_core::Error::InvalidThresholds("at most 10 thresholds").into());
    }
    Ok(())
}

#[uniffi::export]
impl Wallet {
    /// Creates a budget and evaluates it against the spending already in
    /// its current period (which may fire alerts at once).
    pub fn create_budget(&self, budget: NewBudget) -> Result<BudgetChange, WalletError> {
        check_text("name", &budget.name, MAX_TEXT)?;
        check_text("time zone", &budget.time_zone, 128)?;
        check_opt_text("category", budget.category.as_deref(), MAX_TEXT)?;
        check_thresholds(budget.thresholds.as_ref())?;
        let spec = wallet_core::BudgetSpec {
            name: budget.name,
            category: budget.category,
            limit: budget.limit.to_core()?,
            period: budget.period.to_core()?,
            time_zone: budget.time_zone,
            rollover: budget.rollover.unwrap_or(Rollover::Off).into(),
            thresholds: budget.thresholds,
            starts_on: budget
                .starts_on
                .as_deref()
                .map(|d| date("start date", d))
                .transpose()?,
        };
        self.with(|w| w.create_budget(&spec))
            .map(BudgetChange::from)
    }

    /// All budgets, oldest first.
    pub fn budgets(&self) -> Result<Vec<Budget>, WalletError> {
        self.with(|w| w.budgets())
            .map(|v| v.into_iter().map(Budget::from).collect())
    }

    pub fn budget(&self, id: String) -> Result<Budget, WalletError> {
        check_id("budget id", &id)?;
        self.with(|w| w.budget(&id)).map(Budget::from)
    }

    /// Where one budget stands in its current period.
    pub fn budget_status(&self, id: String) -> Result<BudgetStatus, WalletError> {
        check_id("budget id", &id)?;
        self.with(|w| w.budget_status(&id)).map(BudgetStatus::from)
    }

    /// Where every budget stands, in the order of `budgets`.
    pub fn budget_statuses(&self) -> Result<Vec<BudgetStatus>, WalletError> {
        self.with(|w| w.budget_statuses())
            .map(|v| v.into_iter().map(BudgetStatus::from).collect())
    }

    /// Changes a budget and re-evaluates it: a lower limit can fire alerts;
    /// a higher one never retracts an alert already sent.
    pub fn edit_budget(&self, id: String, edit: BudgetEdit) -> Result<BudgetChange, WalletError> {
        check_id("budget id", &id)?;
        check_opt_text("name", edit.name.as_deref(), MAX_TEXT)?;
        check_opt_text("time zone", edit.time_zone.as_deref(), 128)?;
        check_thresholds(edit.thresholds.as_ref())?;
        let category = match edit.scope {
            None => None,
            Some(BudgetScope::Overall) => Some(None),
            Some(BudgetScope::Category { category }) => {
                check_text("category", &category, MAX_TEXT)?;
                Some(Some(category))
            }
        };
        let e = wallet_core::BudgetEdit {
            name: edit.name,
            limit: edit.limit.as_ref().map(Money::to_core).transpose()?,
            thresholds: edit.thresholds,
            rollover: edit.rollover.map(Into::into),
            period: edit.period.as_ref().map(Period::to_core).transpose()?,
            time_zone: edit.time_zone,
            category,
        };
        self.with(|w| w.edit_budget(&id, &e))
            .map(BudgetChange::from)
    }

    /// Deletes a budget. Its sent alerts stay in `sentAlerts`.
    pub fn delete_budget(&self, id: String) -> Result<(), WalletError> {
        check_id("budget id", &id)?;
        self.with(|w| w.delete_budget(&id))
    }
}

//! `billfold budget create|list|status|edit|delete|alerts`.

use std::ffi::OsString;
use std::path::Path;

use chrono::NaiveDate;
use clap::Subcommand;
use serde_json::json;
use wallet_core::budgets::parse_thresholds;
use wallet_core::{Budget, BudgetEdit, BudgetSpec, BudgetStatus, Error, Period, Rollover, Wallet};

use crate::ledger::{alert_lines, money};
use crate::output::Out;
use crate::session::{open, text};

#[derive(Subcommand)]
pub enum BudgetCommand {
    /// Create a budget, overall or for a category (its sub-categories included).
    Create {
        #[arg(long)]
        name: OsString,
        /// "500.00 USD"
        #[arg(long, allow_hyphen_values = true)]
        limit: OsString,
        /// A category id or name; leave out for an overall budget.
        #[arg(long)]
        category: Option<OsString>,
        /// monthly[:START_DAY], weekly[:mon..sun], biweekly:YYYY-MM-DD, custom:YYYY-MM-DD..YYYY-MM-DD
        #[arg(long, default_value = "monthly")]
        period: OsString,
        /// IANA time zone; transactions are bucketed by local date there.
        #[arg(long, default_value = "UTC")]
        tz: OsString,
        /// none, surplus or surplus_and_deficit
        #[arg(long, default_value = "none")]
        rollover: OsString,
        /// Alert thresholds in percent, e.g. 50,80,100 (the default).
        #[arg(long)]
        thresholds: Option<OsString>,
        /// Any day of the first period to cover (YYYY-MM-DD). Default: today.
        #[arg(long)]
        starts_on: Option<OsString>,
    },
    List,
    /// Where each budget (or one) stands in its current period.
    Status {
        budget: Option<OsString>,
    },
    Edit {
        budget: OsString,
        #[arg(long)]
        name: Option<OsString>,
        /// Applies from the current period on.
        #[arg(long, allow_hyphen_values = true)]
        limit: Option<OsString>,
        #[arg(long)]
        thresholds: Option<OsString>,
        #[arg(long)]
        rollover: Option<OsString>,
        #[arg(long)]
        period: Option<OsString>,
        #[arg(long)]
        tz: Option<OsString>,
        /// A category, or "none" for an overall budget.
        #[arg(long)]
        category: Option<OsString>,
    },
    Delete {
        budget: OsString,
    },
    /// Alerts already sent.
    Alerts {
        budget: Option<OsString>,
    },
}

fn date(v: OsString) -> Result<NaiveDate, Error> {
    NaiveDate::parse_from_str(&text("date", v)?, "%Y-%m-%d").map_err(|_| Error::InvalidText {
        field: "date",
        reason: "write YYYY-MM-DD",
    })
}

fn period(v: OsString) -> Result<Period, Error> {
    text("period", v)?.parse()
}

/// A budget named by id, unique id prefix (4+ characters) or name.
fn resolve(wallet: &Wallet, selector: OsString) -> Result<String, Error> {
    let sel = text("budget", selector)?;
    let all = wallet.budgets()?;
    if let Some(b) = all.iter().find(|b| b.id == sel) {
        return Ok(b.id.clone());
    }
    let hits: Vec<&Budget> = all
        .iter()
        .filter(|b| b.name.eq_ignore_ascii_case(&sel) || (sel.len() >= 4 && b.id.starts_with(&sel)))
        .collect();
    match hits.as_slice() {
        [one] => Ok(one.id.clone()),
        [] => Err(Error::BudgetNotFound),
        _ => Err(Error::InvalidText {
            field: "budget",
            reason: "it matches more than one budget; use the id",
        }),
    }
}

fn budget_line(b: &Budget) -> String {
    format!(
        "{:<8} {:<20} {:>14} {:<14} {:<20} {} rollover:{} alerts:{}",
        &b.id[..8],
        b.name,
        b.limit.to_string(),
        b.period.to_string(),
        b.category_name.as_deref().unwrap_or("(all spending)"),
        b.time_zone,
        b.rollover.as_str(),
        b.thresholds
            .iter()
            .map(|t| format!("{t}%"))
            .collect::<Vec<_>>()
            .join("/"),
    )
}

pub fn status_line(s: &BudgetStatus) -> String {
    let mut line = format!(
        "{:<20} {} .. {}  spent {} of {} ({}){}, {} left",
        s.budget.name,
        s.period_start,
        s.period_end,
        s.spent,
        s.available,
        s.percent_used
            .map(|p| format!("{p}%"))
            .unwrap_or_else(|| "-".into()),
        if s.carried_in.amount().is_zero() {
            String::new()
        } else {
            format!(", {} carried in", s.carried_in)
        },
        s.remaining,
    );
    if let Some(f) = &s.forecast {
        line.push_str(&format!(
            "\n  at this pace: over by {} around {}",
            f.overshoot, f.around
        ));
    }
    line
}

pub fn run(cmd: BudgetCommand, home: Option<&Path>, out: &Out) -> Result<(), Error> {
    let wallet = open(home)?;
    match cmd {
        BudgetCommand::Create {
            name,
            limit,
            category,
            period: p,
            tz,
            rollover,
            thresholds,
            starts_on,
        } => {
            let change = wallet.create_budget(&BudgetSpec {
                name: text("name", name)?,
                category: category.map(|c| text("category", c)).transpose()?,
                limit: money(limit, None)?,
                period: period(p)?,
                time_zone: text("time zone", tz)?,
                rollover: Rollover::parse(&text("rollover", rollover)?)?,
                thresholds: thresholds
                    .map(|t| text("thresholds", t).and_then(|t| parse_thresholds(&t)))
                    .transpose()?,
                starts_on: starts_on.map(date).transpose()?,
            })?;
            out.print(&change, || {
                format!(
                    "Created {}{}",
                    budget_line(&change.budget),
                    alert_lines(&change.alerts)
                )
            });
        }
        BudgetCommand::List => {
            let all = wallet.budgets()?;
            out.print(&all, || {
                if all.is_empty() {
                    "No budgets yet. Create one with: billfold budget create".into()
                } else {
                    all.iter().map(budget_line).collect::<Vec<_>>().join("\n")
                }
            });
        }
        BudgetCommand::Status { budget } => {
            let statuses = match budget {
                Some(b) => vec![wallet.budget_status(&resolve(&wallet, b)?)?],
                None => wallet.budget_statuses()?,
            };
            out.print(&statuses, || {
                if statuses.is_empty() {
                    "No budgets yet.".into()
                } else {
                    statuses
                        .iter()
                        .map(status_line)
                        .collect::<Vec<_>>()
                        .join("\n")
                }
            });
        }
        BudgetCommand::Edit {
            budget,
            name,
            limit,
            thresholds,
            rollover,
            period: p,
            tz,
            category,
        } => {
            let id = resolve(&wallet, budget)?;
            let category = match category {
                None => None,
                Some(c) => {
                    let c = text("category", c)?;
                    Some((!c.eq_ignore_ascii_case("none")).then_some(c))
                }
            };
            let change = wallet.edit_budget(
                &id,
                &BudgetEdit {
                    name: name.map(|n| text("name", n)).transpose()?,
                    limit: limit.map(|l| money(l, None)).transpose()?,
                    thresholds: thresholds
                        .map(|t| text("thresholds", t).and_then(|t| parse_thresholds(&t)))
                        .transpose()?,
                    rollover: rollover
                        .map(|r| text("rollover", r).and_then(|r| Rollover::parse(&r)))
                        .transpose()?,
                    period: p.map(period).transpose()?,
                    time_zone: tz.map(|t| text("time zone", t)).transpose()?,
                    category,
                },
            )?;
            out.print(&change, || {
                format!(
                    "Updated {}{}",
                    budget_line(&change.budget),
                    alert_lines(&change.alerts)
                )
            });
        }
        BudgetCommand::Delete { budget } => {
            let id = resolve(&wallet, budget)?;
            wallet.delete_budget(&id)?;
            out.print(&json!({ "deleted": id }), || format!("Deleted budget {id}"));
        }
        BudgetCommand::Alerts { budget } => {
            let id = budget.map(|b| resolve(&wallet, b)).transpose()?;
            let sent = wallet.sent_alerts(id.as_deref())?;
            out.print(&sent, || {
                if sent.is_empty() {
                    "No alerts sent.".into()
                } else {
                    sent.iter()
                        .map(|a| {
                            format!("{} {}", crate::ledger::show_time(a.fired_at_ms), a.message)
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                }
            });
        }
    }
    wallet.close()
}

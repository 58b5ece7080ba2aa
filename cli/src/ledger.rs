//! `billfold balance`, `tx …`, `category …`, `bill …`, `fx …`, `import` and
//! `export`: the ledger from a terminal.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use clap::Subcommand;
use serde_json::json;
use wallet_core::import::parse_instant;
use wallet_core::{
    Alert, Currency, EntryKind, Error, FxDetail, FxRate, HistoryQuery, ImportFormat, ImportOptions,
    LedgerEntry, Money, NewBill, PendingEntry, Wallet,
};

use crate::output::Out;
use crate::session::{open, text};

// Parsed once per run: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub enum TxCommand {
    /// Record a payment (a pending entry until the bank posts it).
    Add {
        /// "12.34 USD", or "12.34" with --currency.
        #[arg(long, allow_hyphen_values = true)]
        amount: OsString,
        #[arg(long)]
        currency: Option<OsString>,
        #[arg(long)]
        merchant: Option<OsString>,
        /// Merchant category code; sets the category when --category is not given.
        #[arg(long)]
        mcc: Option<u16>,
        /// A category id or name (see `billfold category list`).
        #[arg(long)]
        category: Option<OsString>,
        /// purchase, refund, fee, income, transfer_in or transfer_out.
        #[arg(long, default_value = "purchase")]
        kind: OsString,
        #[arg(long, default_value = "main")]
        account: OsString,
        /// When it happened: 2026-11-23, "2026-11-23 14:05" (UTC) or RFC 3339. Default: now.
        #[arg(long)]
        at: Option<OsString>,
        /// Idempotency key: the same key again records nothing new. Default: a fresh one.
        #[arg(long)]
        key: Option<OsString>,
        /// Amount paid in another currency, e.g. "10.00 EUR" (needs --rate).
        #[arg(long, requires = "rate")]
        original: Option<OsString>,
        /// Units of the settled currency per unit of the original.
        #[arg(long, requires = "original")]
        rate: Option<OsString>,
        #[arg(long, default_value = "manual")]
        rate_source: OsString,
        #[arg(long)]
        note: Option<OsString>,
    },
    /// History, newest first, one page at a time.
    List {
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// The `next` cursor printed with the previous page.
        #[arg(long)]
        before: Option<OsString>,
        #[arg(long)]
        account: Option<OsString>,
        #[arg(long)]
        category: Option<OsString>,
    },
    /// Put a transaction in another category.
    Categorize { id: OsString, category: OsString },
    /// Void a pending transaction.
    Reverse { id: OsString },
    /// One transaction in full.
    Show { id: OsString },
}

#[derive(Subcommand)]
pub enum CategoryCommand {
    List,
    Create {
        name: OsString,
        #[arg(long)]
        parent: Option<OsString>,
    },
    Rename {
        category: OsString,
        name: OsString,
    },
    /// Move everything in FROM into INTO and remove FROM.
    Merge {
        from: OsString,
        into: OsString,
    },
}

#[derive(Subcommand)]
pub enum BillCommand {
    /// Schedule a bill; the projected balance subtracts it.
    Add {
        name: OsString,
        #[arg(long)]
        amount: OsString,
        #[arg(long)]
        due: OsString,
        #[arg(long, default_value = "main")]
        account: OsString,
    },
    List,
    /// Remove a bill once paid or cancelled.
    Remove {
        id: OsString,
    },
}

#[derive(Subcommand)]
pub enum FxCommand {
    /// Record a rate: 1 BASE = RATE QUOTE.
    Set {
        base: OsString,
        quote: OsString,
        rate: OsString,
        #[arg(long, default_value = "manual")]
        source: OsString,
        /// When the rate was valid. Default: now.
        #[arg(long)]
        at: Option<OsString>,
    },
    List,
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub fn when(value: Option<OsString>, field: &'static str) -> Result<i64, Error> {
    match value {
        None => Ok(now_ms()),
        Some(v) => parse_instant(&text(field, v)?).ok_or(Error::InvalidText {
            field,
            reason: "write 2026-11-23, \"2026-11-23 14:05\" or RFC 3339",
        }),
    }
}

pub fn money(value: OsString, currency: Option<OsString>) -> Result<Money, Error> {
    let v = text("amount", value)?;
    match currency {
        Some(c) => Money::parse(&v, Currency::from_code(&text("currency", c)?)?),
        None => v.parse(),
    }
}

pub fn show_time(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

pub fn alert_lines(alerts: &[Alert]) -> String {
    alerts
        .iter()
        .map(|a| format!("\n  ALERT {}", a.message))
        .collect()
}

fn line(e: &LedgerEntry) -> String {
    format!(
        "{:<8} {} {:>14}  {:<24} {:<20} {}",
        &e.id[..8.min(e.id.len())],
        show_time(e.booked_at_ms),
        e.amount.to_string(),
        e.merchant.as_deref().unwrap_or("-"),
        e.category_name,
        e.status.as_str(),
    )
}

fn home_entry(wallet: &Wallet, id: OsString) -> Result<LedgerEntry, Error> {
    wallet.entry(&text("transaction", id)?)
}

pub fn balance(account: Option<OsString>, home: Option<&Path>, out: &Out) -> Result<(), Error> {
    let wallet = open(home)?;
    let balances = match account {
        Some(a) => wallet.balance(&text("account", a)?)?,
        None => wallet.balances()?,
    };
    out.print(&balances, || {
        if balances.is_empty() {
            return "No transactions yet. Record one with: billfold tx add".into();
        }
        let mut s = format!(
            "{:<12} {:>16} {:>16} {:>16} {:>16}",
            "account", "posted", "pending holds", "available", "projected"
        );
        for b in &balances {
            s.push_str(&format!(
                "\n{:<12} {:>16} {:>16} {:>16} {:>16}",
                b.account,
                b.posted.to_string(),
                b.pending_holds.to_string(),
                b.available.to_string(),
                b.projected.to_string()
            ));
        }
        s
    });
    wallet.close()
}

pub fn tx(cmd: TxCommand, home: Option<&Path>, out: &Out) -> Result<(), Error> {
    let wallet = open(home)?;
    match cmd {
        TxCommand::Add {
            amount,
            currency,
            merchant,
            mcc,
            category,
            kind,
            account,
            at,
            key,
            original,
            rate,
            rate_source,
            note,
        } => {
            let booked = when(at, "time")?;
            let original = match (original, rate) {
                (Some(o), Some(r)) => Some(FxDetail {
                    original: text("original amount", o)?.parse()?,
                    rate: text("rate", r)?
                        .parse()
                        .map_err(|_| Error::InvalidAmount("the rate is not a decimal number"))?,
                    source: text("rate source", rate_source)?,
                    as_of_ms: booked,
                }),
                _ => None,
            };
            let key = match key {
                Some(k) => text("key", k)?,
                None => format!("cli-{}-{}", now_ms(), std::process::id()),
            };
            let recorded = wallet.record_pending(&PendingEntry {
                idempotency_key: key,
                account: text("account", account)?,
                kind: EntryKind::parse(&text("kind", kind)?)?,
                amount: money(amount, currency)?,
                original,
                merchant: merchant.map(|m| text("merchant", m)).transpose()?,
                mcc,
                category: category.map(|c| text("category", c)).transpose()?,
                note: note.map(|n| text("note", n)).transpose()?,
                booked_at_ms: booked,
            })?;
            out.print(&recorded, || {
                format!(
                    "{} {}{}",
                    if recorded.duplicate {
                        "Already recorded"
                    } else {
                        "Recorded"
                    },
                    line(&recorded.entry),
                    alert_lines(&recorded.alerts)
                )
            });
        }
        TxCommand::List {
            limit,
            before,
            account,
            category,
        } => {
            let page = wallet.history(&HistoryQuery {
                account: account.map(|a| text("account", a)).transpose()?,
                category: category.map(|c| text("category", c)).transpose()?,
                limit,
                before: before.map(|b| text("cursor", b)).transpose()?,
            })?;
            out.print(&page, || {
                if page.entries.is_empty() {
                    return "No transactions.".into();
                }
                let mut s: Vec<String> = page.entries.iter().map(line).collect();
                if let Some(n) = &page.next {
                    s.push(format!("more: billfold tx list --before {n}"));
                }
                s.join("\n")
            });
        }
        TxCommand::Categorize { id, category } => {
            let e = home_entry(&wallet, id)?;
            let r = wallet.categorize(&e.id, &text("category", category)?)?;
            out.print(&r, || {
                format!("Categorized {}{}", line(&r.entry), alert_lines(&r.alerts))
            });
        }
        TxCommand::Reverse { id } => {
            let e = home_entry(&wallet, id)?;
            let e = wallet.reverse_entry(&e.id)?;
            out.print(&e, || format!("Reversed {}", line(&e)));
        }
        TxCommand::Show { id } => {
            let e = home_entry(&wallet, id)?;
            out.print(&e, || {
                serde_json::to_string_pretty(&e).unwrap_or_else(|_| line(&e))
            });
        }
    }
    wallet.close()
}

pub fn category(cmd: CategoryCommand, home: Option<&Path>, out: &Out) -> Result<(), Error> {
    let wallet = open(home)?;
    match cmd {
        CategoryCommand::List => {
            let all = wallet.categories()?;
            out.print(&all, || {
                all.iter()
                    .map(|c| format!("{:<24} {}", c.id, c.path))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        CategoryCommand::Create { name, parent } => {
            let c = wallet.create_category(
                &text("name", name)?,
                parent.map(|p| text("parent", p)).transpose()?.as_deref(),
            )?;
            out.print(&c, || format!("Created {} ({})", c.path, c.id));
        }
        CategoryCommand::Rename { category, name } => {
            let c = wallet.rename_category(&text("category", category)?, &text("name", name)?)?;
            out.print(&c, || format!("Renamed to {}", c.path));
        }
        CategoryCommand::Merge { from, into } => {
            let c = wallet.merge_categories(&text("category", from)?, &text("category", into)?)?;
            out.print(&c, || format!("Merged into {}", c.path));
        }
    }
    wallet.close()
}

pub fn bill(cmd: BillCommand, home: Option<&Path>, out: &Out) -> Result<(), Error> {
    let wallet = open(home)?;
    match cmd {
        BillCommand::Add {
            name,
            amount,
            due,
            account,
        } => {
            let b = wallet.schedule_bill(&NewBill {
                account: text("account", account)?,
                name: text("name", name)?,
                amount: money(amount, None)?,
                due_ms: when(Some(due), "due date")?,
            })?;
            out.print(&b, || {
                format!(
                    "Scheduled {} {} due {}",
                    b.name,
                    b.amount,
                    show_time(b.due_ms)
                )
            });
        }
        BillCommand::List => {
            let bills = wallet.scheduled_bills()?;
            out.print(&bills, || {
                bills
                    .iter()
                    .map(|b| {
                        format!(
                            "{:<8} {} {:>14}  {}",
                            &b.id[..8],
                            show_time(b.due_ms),
                            b.amount.to_string(),
                            b.name
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        BillCommand::Remove { id } => {
            let id = text("bill", id)?;
            let full = wallet
                .scheduled_bills()?
                .into_iter()
                .find(|b| b.id == id || (id.len() >= 4 && b.id.starts_with(&id)))
                .ok_or(Error::BillNotFound)?;
            wallet.remove_bill(&full.id)?;
            out.print(&json!({ "removed": full.id }), || {
                format!("Removed {}", full.name)
            });
        }
    }
    wallet.close()
}

pub fn fx(cmd: FxCommand, home: Option<&Path>, out: &Out) -> Result<(), Error> {
    let wallet = open(home)?;
    match cmd {
        FxCommand::Set {
            base,
            quote,
            rate,
            source,
            at,
        } => {
            let r = FxRate {
                base: Currency::from_code(&text("currency", base)?)?,
                quote: Currency::from_code(&text("currency", quote)?)?,
                rate: text("rate", rate)?
                    .parse()
                    .map_err(|_| Error::InvalidAmount("the rate is not a decimal number"))?,
                source: text("source", source)?,
                as_of_ms: when(at, "time")?,
            };
            wallet.set_fx_rate(&r)?;
            out.print(&r, || {
                format!("1 {} = {} {} ({})", r.base, r.rate, r.quote, r.source)
            });
        }
        FxCommand::List => {
            let rates = wallet.fx_rates()?;
            out.print(&rates, || {
                rates
                    .iter()
                    .map(|r| {
                        format!(
                            "1 {} = {} {}  {} {}",
                            r.base,
                            r.rate,
                            r.quote,
                            r.source,
                            show_time(r.as_of_ms)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
    }
    wallet.close()
}

pub fn import(
    file: PathBuf,
    format: OsString,
    account: Option<OsString>,
    currency: Option<OsString>,
    home: Option<&Path>,
    out: &Out,
) -> Result<(), Error> {
    let data = std::fs::read(&file)?;
    let opts = ImportOptions {
        format: ImportFormat::parse(&text("format", format)?)?,
        account: account.map(|a| text("account", a)).transpose()?,
        currency: currency
            .map(|c| text("currency", c).and_then(|c| Currency::from_code(&c)))
            .transpose()?,
    };
    let wallet = open(home)?;
    let applied = wallet.import_statement(&data, &opts)?;
    out.print(&applied, || {
        format!(
            "Imported {} new, {} updated, {} already known{}",
            applied.inserted,
            applied.updated,
            applied.unchanged,
            alert_lines(&applied.alerts)
        )
    });
    wallet.close()
}

pub fn export(
    file: Option<PathBuf>,
    from: Option<OsString>,
    to: Option<OsString>,
    home: Option<&Path>,
    out: &Out,
) -> Result<(), Error> {
    let from = from.map(|f| when(Some(f), "from")).transpose()?;
    let to = to.map(|t| when(Some(t), "to")).transpose()?;
    let wallet = open(home)?;
    match file {
        Some(path) => {
            // Written beside the target and renamed, so a failed export
            // never leaves half a file under the real name.
            let tmp = path.with_extension("csv.partial");
            let n = {
                let f = std::fs::File::create(&tmp)?;
                let mut w = std::io::BufWriter::new(f);
                let n = wallet.export_csv(&mut w, from, to)?;
                std::io::Write::flush(&mut w)?;
                n
            };
            std::fs::rename(&tmp, &path)?;
            let shown = path.display().to_string();
            out.print(&json!({ "exported": n, "file": shown }), || {
                format!("Exported {n} transactions to {shown}")
            });
        }
        None => {
            let stdout = std::io::stdout();
            wallet.export_csv(stdout.lock(), from, to)?;
        }
    }
    wallet.close()
}

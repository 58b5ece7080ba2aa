//! `billfold`: the wallet from a terminal. Every command opens the wallet in
//! `--home`, does one thing, and prints it for people or, with `--json`, for
//! programs. Errors go to stderr with a non-zero exit; with `--json` they
//! have the shape `{"error":{"code":...,"message":...}}`.

mod bank;
mod budgets;
mod cards;
mod hce;
mod insights;
mod ledger;
mod output;
mod qr;
mod session;
mod token;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use output::Out;

#[derive(Parser)]
#[command(name = "billfold", version, about = "Billfold wallet")]
struct Cli {
    /// The wallet's data directory.
    #[arg(long, global = true, env = "BILLFOLD_HOME", value_name = "DIR")]
    home: Option<PathBuf>,
    /// Machine-readable output.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a wallet in --home.
    Init,
    /// Register this wallet with a bank (once); cards get tokens and keys.
    Enroll {
        /// The bank's address: https, or http to loopback in development.
        #[arg(long, value_name = "URL")]
        server: OsString,
        /// What the bank calls this device.
        #[arg(long, default_value = "billfold cli")]
        name: OsString,
        /// Join the account of an enrolled device (from its `link-code`).
        #[arg(long)]
        link_code: Option<OsString>,
    },
    /// A one-time code to enroll another device into this account.
    LinkCode,
    /// Show a consumer-presented payment code for the merchant to scan
    /// (works offline: a single-use key signs the amount).
    PayCode {
        /// e.g. "12.50 EUR".
        #[arg(long)]
        amount: OsString,
        /// Also write the code to this .png or .svg file.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Send pending operations to the bank and fetch what is new.
    Sync,
    /// Pay a merchant-presented QR code through the bank (needs a connection).
    Pay {
        /// The code's payload; or give --image.
        payload: Option<OsString>,
        /// A photo or screenshot of the code (PNG or JPEG).
        #[arg(long, value_name = "FILE")]
        image: Option<PathBuf>,
        /// For codes that leave the amount to the customer.
        #[arg(long)]
        amount: Option<OsString>,
        /// For codes that prompt for a tip.
        #[arg(long)]
        tip: Option<OsString>,
    },
    /// Payment tokens for tapping: provision a test token, list, key status.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// The phone's contactless card application (Host Card Emulation).
    Hce {
        /// One hex APDU per input line, one hex response per output line,
        /// until end of input.
        #[arg(long)]
        stdio: bool,
    },
    /// Add, list, freeze and remove cards.
    #[command(subcommand)]
    Card(cards::CardCommand),
    /// EMV QR codes: parse a payload, scan an image, make a code. No wallet needed.
    #[command(subcommand)]
    Qr(qr::QrCommand),
    /// Posted, available and projected balances per account and currency.
    Balance {
        #[arg(long)]
        account: Option<OsString>,
    },
    /// Record, list, re-categorize and reverse transactions.
    #[command(subcommand)]
    Tx(ledger::TxCommand),
    /// Spending categories: list, create, rename, merge.
    #[command(subcommand)]
    Category(ledger::CategoryCommand),
    /// Budgets and their alerts.
    #[command(subcommand)]
    Budget(budgets::BudgetCommand),
    /// Scheduled bills, which the projected balance subtracts.
    #[command(subcommand)]
    Bill(ledger::BillCommand),
    /// Exchange rates for budgets and insights across currencies.
    #[command(subcommand)]
    Fx(ledger::FxCommand),
    /// Spending by month, category and merchant; --chart writes a PNG or SVG.
    Insights {
        #[arg(long, default_value_t = 12)]
        months: u32,
        /// Default: the currency of the first balance.
        #[arg(long)]
        currency: Option<OsString>,
        /// IANA time zone for month boundaries.
        #[arg(long, default_value = "UTC")]
        tz: OsString,
        #[arg(long, default_value_t = 10)]
        top: u32,
        /// Write the spending chart to this .png or .svg file.
        #[arg(long)]
        chart: Option<PathBuf>,
    },
    /// Export transactions as CSV (the layout `import` reads).
    Export {
        /// Default: standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        from: Option<OsString>,
        #[arg(long)]
        to: Option<OsString>,
    },
    /// Import a bank statement (OFX, or CSV in the layout `billfold import --help` shows).
    #[command(after_help = wallet_core::import::CSV_LAYOUT)]
    Import {
        file: PathBuf,
        /// ofx, csv or auto
        #[arg(long, default_value = "auto")]
        format: OsString,
        #[arg(long)]
        account: Option<OsString>,
        /// For CSV files without a currency column.
        #[arg(long)]
        currency: Option<OsString>,
    },
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let json = args.iter().any(|a| a == "--json");
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => return output::usage_error(e, json),
    };
    let out = Out { json: cli.json };
    let result = match cli.command {
        Command::Init => session::init(cli.home.as_deref(), &out),
        Command::Enroll {
            server,
            name,
            link_code,
        } => bank::enroll(server, name, link_code, cli.home.as_deref(), &out),
        Command::LinkCode => bank::link_code(cli.home.as_deref(), &out),
        Command::PayCode { amount, out: file } => {
            bank::pay_code(amount, file, cli.home.as_deref(), &out)
        }
        Command::Sync => bank::sync(cli.home.as_deref(), &out),
        Command::Pay {
            payload,
            image,
            amount,
            tip,
        } => bank::pay(
            bank::PayArgs {
                payload,
                image,
                amount,
                tip,
            },
            cli.home.as_deref(),
            &out,
        ),
        Command::Card(cmd) => cards::run(cmd, cli.home.as_deref(), &out),
        Command::Qr(cmd) => qr::run(cmd, &out),
        Command::Token(cmd) => token::run(cmd, cli.home.as_deref(), &out),
        Command::Hce { stdio } => hce::run(stdio, cli.home.as_deref(), &out),
        Command::Balance { account } => ledger::balance(account, cli.home.as_deref(), &out),
        Command::Tx(cmd) => ledger::tx(cmd, cli.home.as_deref(), &out),
        Command::Category(cmd) => ledger::category(cmd, cli.home.as_deref(), &out),
        Command::Budget(cmd) => budgets::run(cmd, cli.home.as_deref(), &out),
        Command::Bill(cmd) => ledger::bill(cmd, cli.home.as_deref(), &out),
        Command::Fx(cmd) => ledger::fx(cmd, cli.home.as_deref(), &out),
        Command::Insights {
            months,
            currency,
            tz,
            top,
            chart,
        } => insights::run(
            insights::Args {
                months,
                currency,
                tz,
                top,
                chart,
            },
            cli.home.as_deref(),
            &out,
        ),
        Command::Export {
            out: file,
            from,
            to,
        } => ledger::export(file, from, to, cli.home.as_deref(), &out),
        Command::Import {
            file,
            format,
            account,
            currency,
        } => ledger::import(file, format, account, currency, cli.home.as_deref(), &out),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => out.error(&e),
    }
}

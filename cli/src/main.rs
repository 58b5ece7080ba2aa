//! `billfold`: the wallet from a terminal. Every command opens the wallet in
//! `--home`, does one thing, and prints it for people or, with `--json`, for
//! programs. Errors go to stderr with a non-zero exit; with `--json` they
//! have the shape `{"error":{"code":...,"message":...}}`.

mod cards;
mod output;
mod session;

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
    /// Add, list, freeze and remove cards.
    #[command(subcommand)]
    Card(cards::CardCommand),
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
        Command::Card(cmd) => cards::run(cmd, cli.home.as_deref(), &out),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => out.error(&e),
    }
}

//! `billfold-server`: the reference bank, from the command line.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use billfold_server::config::{Cli, Storage};
use billfold_server::SystemClock;
use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BILLFOLD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour only for a person at a terminal, not in captured logs.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let config = match Cli::parse().into_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("billfold-server: {e}");
            return ExitCode::from(2);
        }
    };
    let storage = match &config.storage {
        Storage::Sqlite { data_dir } => format!("sqlite in {}", data_dir.display()),
        // The URL may carry a password: show the engine only.
        Storage::Postgres { .. } => "postgres".to_string(),
    };
    let server = match billfold_server::start(config, Arc::new(SystemClock)).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("billfold-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Scripts wait for this line (and read the port from it when
    // listening on port 0).
    println!("billfold-server listening on {} ({storage})", server.url());
    if let Err(e) = server.run_until(shutdown_signal()).await {
        eprintln!("billfold-server: {e}");
        return ExitCode::FAILURE;
    }
    tracing::info!("stopped");
    ExitCode::SUCCESS
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

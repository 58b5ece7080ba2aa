//! Printing results and errors, for people and for programs.

use std::io::Write;
use std::process::ExitCode;

use serde::Serialize;
use serde_json::json;
use wallet_core::Error;

pub struct Out {
    pub json: bool,
}

impl Out {
    /// Prints `value` as JSON with --json, or `human` otherwise.
    pub fn print<T: Serialize>(&self, value: &T, human: impl FnOnce() -> String) {
        let text = if self.json {
            serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into())
        } else {
            human()
        };
        let mut stdout = std::io::stdout().lock();
        // A closed pipe is the reader's choice, not our failure.
        let _ = writeln!(stdout, "{text}");
        let _ = stdout.flush();
    }

    pub fn error(&self, e: &Error) -> ExitCode {
        self.fail(e.code(), &e.to_string())
    }

    pub fn fail(&self, code: &str, message: &str) -> ExitCode {
        if self.json {
            eprintln!(
                "{}",
                json!({ "error": { "code": code, "message": message } })
            );
        } else {
            eprintln!("billfold: {message}");
        }
        ExitCode::FAILURE
    }
}

pub fn usage_error(e: clap::Error, json: bool) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) || !json {
        let _ = e.print();
        return ExitCode::from(e.exit_code() as u8);
    }
    let message = e.kind().to_string();
    eprintln!(
        "{}",
        json!({ "error": { "code": "usage", "message": message } })
    );
    ExitCode::from(2)
}

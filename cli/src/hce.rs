//! `billfold hce --stdio`: the phone's card application over a pipe, so any
//! reader (`billfold-pos`, a lab's own tools) can drive it. One command
//! APDU in hex per input line, one response (data and SW1 SW2, hex) per
//! output line, until end of input. A line that is not hex gets `6700`
//! (wrong length) like any malformed command: the session never breaks.
//!
//! Standard output carries responses only; what happened at each GENERATE
//! AC goes to standard error. End of input is the field going away: the
//! tap is settled into the ledger and the wallet closed.

use std::io::{BufRead, Read, Write};
use std::path::Path;

use serde_json::json;
use wallet_core::{DeactivationReason, Error, TapReport};

use crate::output::Out;
use crate::session::open;

/// Answer to a line that is not a hex APDU.
const WRONG_LENGTH: [u8; 2] = [0x67, 0x00];

pub fn run(stdio: bool, home: Option<&Path>, out: &Out) -> Result<(), Error> {
    if !stdio {
        return Err(Error::InvalidText {
            field: "hce",
            reason: "only --stdio is available on this platform",
        });
    }
    // Opened once for the whole session: the passphrase's key derivation
    // must not sit between the reader's commands.
    let wallet = open(home)?;
    crate::session::print_alerts(&wallet);
    // Taps a crashed earlier session answered but never settled.
    let _ = wallet.settle_taps();

    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let stdout = std::io::stdout();
    let mut output = stdout.lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        // Bounded, so an endless line cannot exhaust memory: a short APDU
        // is at most 261 bytes, 522 hex digits.
        match (&mut input).take(MAX_LINE).read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let too_long = line.len() as u64 == MAX_LINE && line.last() != Some(&b'\n');
        if too_long && !skip_line(&mut input) {
            break;
        }
        let apdu = if too_long { None } else { decode(&line) };
        let response = match &apdu {
            Some(apdu) => wallet.process_apdu(apdu),
            None => WRONG_LENGTH.to_vec(),
        };
        // A reader that hung up is the field going away.
        if writeln!(output, "{}", hex::encode_upper(&response))
            .and_then(|()| output.flush())
            .is_err()
        {
            break;
        }
        if apdu.is_some_and(|a| a.starts_with(&[0x80, 0xAE])) {
            if let Some(report) = wallet.last_tap() {
                tell(out, &report);
            }
        }
    }
    wallet.on_deactivated(DeactivationReason::LinkLoss);
    wallet.close()
}

/// The longest input line read whole; longer ones are answered `6700`.
const MAX_LINE: u64 = 4096;

/// Discards the rest of an over-long line; false at end of input.
fn skip_line(input: &mut impl BufRead) -> bool {
    let mut sink = Vec::new();
    loop {
        sink.clear();
        match input.take(MAX_LINE).read_until(b'\n', &mut sink) {
            Ok(0) | Err(_) => return false,
            Ok(_) if sink.last() == Some(&b'\n') => return true,
            Ok(_) => {}
        }
    }
}

/// Hex digits, with spaces allowed between them; `None` for anything else.
fn decode(line: &[u8]) -> Option<Vec<u8>> {
    let digits: Vec<u8> = line
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if digits.is_empty() {
        return None;
    }
    hex::decode(digits).ok()
}

/// What the tap did, on standard error (never card data).
fn tell(out: &Out, r: &TapReport) {
    if out.json {
        eprintln!("{}", json!({ "tap": r }));
        return;
    }
    let what = match (&r.amount, &r.merchant) {
        (Some(a), Some(m)) => format!("{a} at {m}"),
        (Some(a), None) => a.to_string(),
        _ => "payment".into(),
    };
    match r.decline {
        None if r.sent_online => eprintln!(
            "billfold: {what} sent to the bank for approval (ATC {})",
            r.atc.unwrap_or_default()
        ),
        None => {}
        Some(reason) => eprintln!("billfold: {what} declined: {}", reason.message()),
    }
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn lines() {
        assert_eq!(decode(b"00A4 0400\r\n"), Some(vec![0, 0xA4, 4, 0]));
        assert_eq!(decode(b"\n"), None);
        assert_eq!(decode(b"0G\n"), None);
        assert_eq!(decode(b"ABC\n"), None);
        assert_eq!(decode(&[0xFF, 0xFE, b'\n']), None);
    }
}

//! `billfold-pos`: a contactless terminal simulator. It runs the EMV reader
//! kernel through a whole transaction against a card — any command that
//! speaks the stdio protocol (`billfold hce --stdio`, a lab's card), the
//! wallet in-process, or a built-in test card — prints a readable
//! transcript of every command and response (the PAN's middle digits
//! masked, as everywhere it prints), and has an issuer verify the ARQC and
//! answer with an ARPC.
//!
//! The issuer is the bank (`--server URL`, which authorises and posts the
//! payment), or a local one from `--issuer-master-key` (which verifies the
//! ARQC and computes the ARPC, as a lab would), or both.
//!
//! Deferred authorization, as transit terminals do with online-only cards
//! when the link to the acquirer is down: with `--offline-queue FILE`, a tap
//! the bank gives no answer for (connection refused, timeout; never a
//! decline, which stands) is accepted up to `--floor-limit` and its
//! cryptogram appended to FILE; above the limit it is declined. Later,
//! `--submit-queue FILE --server URL` sends each queued cryptogram to the
//! bank, which charges it then, and takes it out of the queue once the
//! bank has answered. FILE holds token PANs: it is owner-only (0600), and
//! a real terminal also encrypts it (see `queue.rs`).
//!
//! Exit status: 0 when the issuer approved (or, with no issuer given, the
//! card went online with an ARQC), or the tap was accepted offline; with
//! `--submit-queue`, when every queued tap got the bank's answer (approved
//! or declined). 1 when the card or the issuer declined, the transaction
//! failed, or queued taps are left; 2 for bad arguments.

mod bank;
mod queue;

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::Duration;

use bank::BankError;
use billfold_protocol::AuthorizationResult;
use chrono::{Datelike, NaiveDate, Utc};
use clap::Parser;
use emv::card::{CardApp, CardBackend, Decline, Expiry, Token, TxnDate};
use emv::crypto::{CryptogramKind, Iad, IssuerMasterKey, Profile, SessionKey};
use emv::issuer::{AtcRecord, Issuer};
use emv::kernel::{self, KernelOutcome, KernelRun, Step, TerminalParams};
use serde_json::{json, Value};
use wallet_core::{Currency, DeactivationReason, Money, PassphraseKeyStore, SystemClock, Wallet};

#[derive(Parser)]
#[command(
    name = "billfold-pos",
    version,
    about = "Contactless terminal simulator: runs a whole EMV transaction against a card and has the issuer verify the ARQC"
)]
struct Args {
    /// A command speaking the stdio protocol (one hex APDU per line in, one
    /// hex response per line out), run with `sh -c`, e.g.
    /// "billfold --home DIR hce --stdio".
    #[arg(long, value_name = "CMD", conflicts_with_all = ["home", "test_card"])]
    card_cmd: Option<String>,
    /// Tap the wallet in DIR in-process (passphrase from BILLFOLD_PASSPHRASE).
    #[arg(long, value_name = "DIR", conflicts_with = "test_card")]
    home: Option<PathBuf>,
    /// Tap a built-in test card whose keys come from --issuer-master-key.
    #[arg(long)]
    test_card: bool,
    /// Amount, e.g. 12.34, in --currency.
    #[arg(long, required_unless_present = "submit_queue")]
    amount: Option<String>,
    /// ISO 4217 code, alphabetic (EUR) or numeric (978).
    #[arg(long, default_value = "EUR")]
    currency: String,
    /// Merchant name and location (9F4E).
    #[arg(long, default_value = "BILLFOLD TEST SHOP")]
    merchant: String,
    /// Merchant category code (9F15).
    #[arg(long, default_value_t = 5999)]
    mcc: u16,
    /// Terminal country, ISO 3166 numeric (9F1A).
    #[arg(long, default_value_t = 250)]
    country: u16,
    /// Transaction date YYYY-MM-DD; default today (UTC).
    #[arg(long)]
    date: Option<String>,
    /// Unpredictable number, 8 hex digits; default random.
    #[arg(long, value_name = "HEX")]
    un: Option<String>,
    /// Select this AID instead of the directory's first choice.
    #[arg(long, value_name = "HEX")]
    aid: Option<String>,
    /// Verify the ARQC locally with this issuer master key (32 hex digits,
    /// used for both profiles).
    #[arg(long, value_name = "HEX")]
    issuer_master_key: Option<String>,
    /// Have the bank at URL authorise the payment (`POST /v1/authorizations`).
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// The terminal's enrolled key for --server, created and enrolled on
    /// first use; default: a fresh terminal for this run.
    #[arg(long, value_name = "FILE", requires = "server")]
    terminal_key: Option<PathBuf>,
    /// When --server gives no answer (connection refused, timeout), accept
    /// the tap up to --floor-limit and append it to FILE for deferred
    /// authorization with --submit-queue. FILE holds card numbers: it is
    /// kept readable by its owner only.
    #[arg(long, value_name = "FILE", requires = "server")]
    offline_queue: Option<PathBuf>,
    /// The most a tap is accepted offline for, in --currency.
    #[arg(
        long,
        value_name = "AMOUNT",
        default_value = "50.00",
        requires = "offline_queue"
    )]
    floor_limit: String,
    /// Tap nothing: submit the taps queued in FILE by --offline-queue to
    /// --server, print each answer, and take each out of FILE once the bank
    /// has answered it.
    #[arg(
        long,
        value_name = "FILE",
        requires = "server",
        conflicts_with_all = ["card_cmd", "home", "test_card", "offline_queue", "amount"]
    )]
    submit_queue: Option<PathBuf>,
    /// The issuer master key's derivation key index.
    #[arg(long, default_value_t = 1)]
    dki: u8,
    /// Authorisation response code the local issuer answers with.
    #[arg(long, default_value = "00")]
    arc: String,
    /// Profile of the built-in test card: tdes or aes.
    #[arg(long, default_value = "tdes")]
    profile: String,
    /// ATC of the built-in test card.
    #[arg(long, default_value_t = 1)]
    atc: u16,
    /// How long to wait for each response from --card-cmd, in milliseconds
    /// (the first includes opening the wallet).
    #[arg(long, default_value_t = 30_000)]
    timeout_ms: u64,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let json_flag = args.iter().any(|a| a == "--json");
    let args = match Args::try_parse_from(&args) {
        Ok(a) => a,
        Err(e) => {
            if json_flag
                && !matches!(
                    e.kind(),
                    clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
                )
            {
                eprintln!(
                    "{}",
                    json!({"error": {"code": "usage", "message": e.kind().to_string()}})
                );
                return ExitCode::from(2);
            }
            let _ = e.print();
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err((code, message)) => {
            if args.json {
                eprintln!("{}", json!({"error": {"code": code, "message": message}}));
            } else {
                eprintln!("billfold-pos: {message}");
            }
            ExitCode::from(if code == "invalid_input" { 2 } else { 1 })
        }
    }
}

type Failure = (&'static str, String);

fn invalid(message: impl Into<String>) -> Failure {
    ("invalid_input", message.into())
}

fn run(args: &Args) -> Result<bool, Failure> {
    if let Some(file) = &args.submit_queue {
        return submit_queue(args, file);
    }
    let params = terminal_params(args)?;
    let floor_limit = match &args.offline_queue {
        Some(_) => Some(floor_limit(args, &params)?),
        None => None,
    };
    let issuer = args
        .issuer_master_key
        .as_deref()
        .map(|k| issuer(k, args.dki))
        .transpose()?;
    // Enrolled before the tap, so a bank that cannot be reached is found
    // out before a key is spent; unless the terminal can take the tap
    // offline, and then enrols when it submits its queue.
    let bank = match &args.server {
        Some(url) => {
            let bank = bank::Bank::new(url, Duration::from_millis(args.timeout_ms))
                .map_err(|e| ("bank", e.to_string()))?;
            let terminal = match bank.terminal(args.terminal_key.as_deref()) {
                Ok(t) => Ok(t),
                Err(e @ BankError::NoAnswer(_)) if args.offline_queue.is_some() => Err(e),
                Err(e) => return Err(("bank", e.to_string())),
            };
            Some((bank, terminal))
        }
        None => None,
    };

    let run = if let Some(cmd) = &args.card_cmd {
        let mut card = StdioCard::spawn(cmd, Duration::from_millis(args.timeout_ms))?;
        let run = kernel::run(&params, |apdu: &[u8]| card.exchange(apdu));
        card.finish();
        run
    } else if let Some(home) = &args.home {
        let passphrase = std::env::var("BILLFOLD_PASSPHRASE")
            .map_err(|_| invalid("set BILLFOLD_PASSPHRASE to open the wallet"))?;
        let keystore =
            PassphraseKeyStore::new(passphrase).map_err(|e| (e.code(), e.to_string()))?;
        let wallet = Wallet::open(home, Arc::new(keystore), Arc::new(SystemClock))
            .map_err(|e| (e.code(), e.to_string()))?;
        let run = kernel::run(&params, |apdu: &[u8]| {
            Ok::<_, std::convert::Infallible>(wallet.process_apdu(apdu))
        });
        wallet.on_deactivated(DeactivationReason::LinkLoss);
        wallet.close().map_err(|e| (e.code(), e.to_string()))?;
        run
    } else if args.test_card {
        let issuer = issuer
            .clone()
            .ok_or_else(|| invalid("--test-card needs --issuer-master-key"))?;
        let profile = match args.profile.to_ascii_lowercase().as_str() {
            "tdes" | "3des" => Profile::Tdes,
            "aes" => Profile::Aes,
            _ => return Err(invalid("--profile: use tdes or aes")),
        };
        let token = Token::new(
            "test-card",
            vec![0xA0, 0x00, 0x00, 0x00, 0x03, 0x10, 0x10],
            "BILLFOLD TEST",
            TEST_CARD_PAN,
            1,
            Expiry {
                yy: 30,
                mm: 12,
                dd: 31,
            },
            profile,
            args.dki,
        )
        .map_err(|e| invalid(e.to_string()))?;
        let mut card = CardApp::new(vec![token]);
        let mut backend = TestCardKeys {
            issuer,
            atc: Some(args.atc),
        };
        kernel::run(&params, |apdu: &[u8]| {
            Ok::<_, std::convert::Infallible>(card.process_apdu(apdu, &mut backend))
        })
    } else {
        return Err(invalid("give --card-cmd CMD, --home DIR or --test-card"));
    };

    // Only an ARQC goes online; a card's decline stays at the terminal.
    let answer = match (&bank, &run.result) {
        (Some((bank, terminal)), Ok(out)) if out.cryptogram.kind == CryptogramKind::Arqc => {
            let request = bank::request(&out.pan, out.psn, &out.cryptogram);
            let result = match terminal {
                Ok(t) => bank.authorize(t, &request),
                Err(e) => Err(e.clone()),
            };
            Some(match (result, &args.offline_queue, &floor_limit) {
                (Ok(a), _, _) => BankAnswer::Online(a),
                (Err(BankError::NoAnswer(reason)), Some(file), Some(limit)) => {
                    BankAnswer::Offline(offline(args, &params, request, reason, file, limit))
                }
                (Err(e), _, _) => BankAnswer::Failed(e.to_string()),
            })
        }
        _ => None,
    };
    let report = Report::new(args, &params, &run, issuer.as_ref(), answer)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report.json).unwrap_or_default()
        );
    } else {
        println!("{}", report.text);
    }
    Ok(report.success)
}

/// What came of going online to the bank.
enum BankAnswer {
    Online(AuthorizationResult),
    /// No result, and no offline acceptance to fall back on.
    Failed(String),
    /// No answer: the terminal decided on its own.
    Offline(Offline),
}

/// The terminal's own decision on a tap the bank gave no answer for.
struct Offline {
    /// Why there was no answer.
    reason: String,
    floor_limit: String,
    decision: OfflineDecision,
}

enum OfflineDecision {
    /// Accepted, and queued for deferred authorization in this file.
    Queued(PathBuf),
    /// Declined: the amount is above the floor limit.
    OverFloorLimit,
    /// Declined: the tap could not be queued, so it could never be charged.
    NotQueued(String),
}

/// The floor limit in the transaction's minor units, and as shown.
struct FloorLimit {
    minor: u64,
    shown: String,
}

fn floor_limit(args: &Args, params: &TerminalParams) -> Result<FloorLimit, Failure> {
    let currency = Currency::from_numeric(params.currency)
        .map_err(|_| invalid("--currency: use an ISO 4217 code such as EUR or 978"))?;
    let limit = Money::parse(&args.floor_limit, currency)
        .map_err(|e| invalid(format!("--floor-limit: {e}")))?;
    let minor = limit
        .to_minor()
        .ok()
        .and_then(|m| u64::try_from(m).ok())
        .ok_or_else(|| invalid("--floor-limit: give a positive amount"))?;
    Ok(FloorLimit {
        minor,
        shown: format!("{} {}", args.floor_limit, currency.code()),
    })
}

/// Accepts the tap offline if the floor limit allows and it can be queued.
fn offline(
    args: &Args,
    params: &TerminalParams,
    request: billfold_protocol::AuthorizationRequest,
    reason: String,
    file: &std::path::Path,
    limit: &FloorLimit,
) -> Offline {
    let decision = if params.amount_minor > limit.minor {
        OfflineDecision::OverFloorLimit
    } else {
        let entry = queue::Entry {
            queued_at_ms: Utc::now().timestamp_millis(),
            amount: args.amount.clone().unwrap_or_default(),
            currency: args.currency.to_ascii_uppercase(),
            merchant: params.merchant_name.clone(),
            request,
        };
        match queue::Queue::new(file).append(&entry) {
            Ok(()) => OfflineDecision::Queued(file.to_path_buf()),
            Err(e) => OfflineDecision::NotQueued(e.to_string()),
        }
    };
    Offline {
        reason,
        floor_limit: limit.shown.clone(),
        decision,
    }
}

/// `--submit-queue FILE`: deferred authorization of the taps accepted
/// offline. Each leaves the queue only once the bank has answered it, so
/// a crash or a lost connection means sending it again, which the bank
/// answers the same way.
fn submit_queue(args: &Args, file: &std::path::Path) -> Result<bool, Failure> {
    let url = args
        .server
        .as_deref()
        .ok_or_else(|| invalid("--submit-queue needs --server"))?;
    let q = queue::Queue::new(file);
    let cannot_read = |e: std::io::Error| ("queue", format!("cannot read the queue: {e}"));
    let snapshot = q.load().map_err(cannot_read)?;
    let mut text = vec![format!(
        "Queue: {} tap(s) to submit to {url}",
        snapshot.entries.len()
    )];
    let mut submitted = Vec::new();
    let mut remaining = snapshot.entries.len() + snapshot.unreadable;
    if !snapshot.entries.is_empty() {
        let bank = bank::Bank::new(url, Duration::from_millis(args.timeout_ms))
            .map_err(|e| ("bank", e.to_string()))?;
        let terminal = bank
            .terminal(args.terminal_key.as_deref())
            .map_err(|e| ("bank", e.to_string()))?;
        for entry in &snapshot.entries {
            let c = &entry.request.cryptogram;
            let what = format!(
                "ATC {}  PAN {}  {} {}  {:?}",
                c.atc,
                masked(&entry.request.pan),
                entry.amount,
                entry.currency,
                entry.merchant
            );
            let mut item = json!({
                "atc": c.atc,
                "masked_pan": masked(&entry.request.pan),
                "amount": entry.amount,
                "currency": entry.currency,
                "merchant": entry.merchant,
                "queued_at_ms": entry.queued_at_ms,
            });
            match bank.authorize(&terminal, &entry.request) {
                Ok(a) => {
                    text.push(format!("{what}: {}", bank_line(&a)));
                    item["bank"] = serde_json::to_value(&a).unwrap_or_default();
                    submitted.push(item);
                    remaining = q.remove(entry).map_err(|e| {
                        ("queue", format!("the bank answered, but the queue cannot be updated (submitting again is safe): {e}"))
                    })?;
                }
                Err(e) => {
                    text.push(format!("{what}: {e} → left in the queue"));
                    item["error"] = json!(e.to_string());
                    submitted.push(item);
                    // Without the bank, or refused as a terminal, the rest
                    // would fare no better; a refused cryptogram stays
                    // queued for a person to look at.
                    let stop = matches!(
                        e,
                        BankError::NoAnswer(_)
                            | BankError::Refused {
                                status: 401 | 403,
                                ..
                            }
                    );
                    if stop {
                        break;
                    }
                }
            }
        }
    }
    if snapshot.unreadable > 0 {
        text.push(format!(
            "{} line(s) of the queue cannot be read; they are kept",
            snapshot.unreadable
        ));
    }
    text.push(format!("Queue: {remaining} left"));
    let drained = remaining == 0;
    if args.json {
        let out = json!({
            "submitted": submitted,
            "remaining": remaining,
            "unreadable": snapshot.unreadable,
            "outcome": if drained { "drained" } else { "incomplete" },
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        println!("{}", text.join("\n"));
    }
    Ok(drained)
}

/// The bank's answer on one line.
fn bank_line(a: &AuthorizationResult) -> String {
    let reason = a.decline_reason.map(|r| r.as_str());
    format!(
        "response code {}{}{} → {}",
        a.response_code,
        reason.map_or(String::new(), |r| format!(" ({})", r.replace('_', " "))),
        a.arpc.as_deref().map_or(String::new(), |p| format!(
            ", ARPC {}",
            p.to_ascii_uppercase()
        )),
        if a.approved { "APPROVED" } else { "DECLINED" }
    )
}

/// The built-in test card's PAN (a public EMV example number).
const TEST_CARD_PAN: &str = "4761739001010010";

/// The test card's keys, derived on the spot: one ATC per run.
struct TestCardKeys {
    issuer: Issuer,
    atc: Option<u16>,
}

impl CardBackend for TestCardKeys {
    fn take_session_key(&mut self, token: &Token) -> Result<(u16, SessionKey), Decline> {
        let atc = self.atc.take().ok_or(Decline::KeysExhausted)?;
        let keys = self
            .issuer
            .session_keys(token.profile, token.dki, token.pan(), token.psn, atc, 1)
            .map_err(|_| Decline::Unavailable)?;
        keys.into_iter().next().ok_or(Decline::Unavailable)
    }
}

fn issuer(hex_key: &str, dki: u8) -> Result<Issuer, Failure> {
    let key: [u8; 16] = hex::decode(hex_key.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| invalid("--issuer-master-key: give 32 hex digits (16 bytes)"))?;
    Ok(Issuer::new()
        .with_key(dki, IssuerMasterKey::new(Profile::Tdes, key))
        .with_key(dki, IssuerMasterKey::new(Profile::Aes, key)))
}

fn terminal_params(args: &Args) -> Result<TerminalParams, Failure> {
    let currency = if args.currency.bytes().all(|b| b.is_ascii_digit()) {
        args.currency
            .parse::<u16>()
            .ok()
            .and_then(|n| Currency::from_numeric(n).ok())
    } else {
        Currency::from_code(&args.currency.to_ascii_uppercase()).ok()
    }
    .ok_or_else(|| invalid("--currency: use an ISO 4217 code such as EUR or 978"))?;
    let amount = Money::parse(args.amount.as_deref().unwrap_or_default(), currency)
        .map_err(|e| invalid(format!("--amount: {e}")))?;
    if amount.is_negative() {
        return Err(invalid("--amount: give a positive amount"));
    }
    let minor = amount
        .to_minor()
        .ok()
        .and_then(|m| u64::try_from(m).ok())
        .filter(|m| *m <= 999_999_999_999)
        .ok_or_else(|| invalid("--amount: at most 12 digits"))?;
    let date = match &args.date {
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| invalid("--date: use YYYY-MM-DD"))?,
        None => Utc::now().date_naive(),
    };
    if !(2000..=2099).contains(&date.year()) {
        return Err(invalid("--date: between 2000 and 2099"));
    }
    let un: [u8; 4] = match &args.un {
        Some(h) => hex::decode(h)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| invalid("--un: give 8 hex digits"))?,
        None => random_un(),
    };
    if args.mcc > 9999 {
        return Err(invalid("--mcc: four digits"));
    }
    if args.country > 999 {
        return Err(invalid("--country: an ISO 3166 numeric code"));
    }
    if !args.merchant.is_ascii() || args.merchant.len() > 40 {
        return Err(invalid("--merchant: at most 40 ASCII characters"));
    }
    let mut p = TerminalParams::purchase(
        minor,
        currency.numeric(),
        args.country,
        TxnDate {
            year: date.year() as u16,
            month: date.month() as u8,
            day: date.day() as u8,
        },
        un,
        args.mcc,
        args.merchant.clone(),
    );
    if let Some(aid) = &args.aid {
        p.preferred_aid = Some(
            hex::decode(aid)
                .ok()
                .filter(|a| (5..=16).contains(&a.len()))
                .ok_or_else(|| invalid("--aid: 5 to 16 bytes of hex"))?,
        );
    }
    Ok(p)
}

/// Four unpredictable bytes from the OS; the clock if that fails (this is a
/// simulator, and the number is printed in the transcript anyway).
fn random_un() -> [u8; 4] {
    let mut b = [0u8; 4];
    let ok = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b))
        .is_ok();
    if !ok {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        b = nanos.to_be_bytes();
    }
    b
}

/// A card reached through a child process speaking the stdio protocol.
struct StdioCard {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<std::io::Result<String>>,
    timeout: Duration,
}

impl StdioCard {
    fn spawn(cmd: &str, timeout: Duration) -> Result<Self, Failure> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                (
                    "card_command",
                    format!("cannot start the card command: {e}"),
                )
            })?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| ("card_command", "the card command has no output".to_string()))?;
        // A reader thread, so a silent card times out instead of hanging us.
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(StdioCard {
            child,
            stdin,
            lines,
            timeout,
        })
    }

    fn exchange(&mut self, apdu: &[u8]) -> Result<Vec<u8>, String> {
        let stdin = self.stdin.as_mut().ok_or("the card's input is closed")?;
        writeln!(stdin, "{}", hex::encode_upper(apdu))
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("the card went away ({e})"))?;
        let line = match self.lines.recv_timeout(self.timeout) {
            Ok(Ok(line)) => line,
            Ok(Err(e)) => return Err(format!("reading the card failed ({e})")),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err("the card did not answer in time".into())
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return Err("the card went away".into()),
        };
        hex::decode(line.trim()).map_err(|_| "the card's answer is not hex".into())
    }

    /// Ends the session: end of input is the field going away.
    fn finish(mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// The transaction's outcome, for people and for programs.
struct Report {
    text: String,
    json: Value,
    success: bool,
}

fn step_name(s: Step) -> &'static str {
    match s {
        Step::SelectPpse => "select_ppse",
        Step::SelectApplication => "select_application",
        Step::GetProcessingOptions => "get_processing_options",
        Step::ReadRecord => "read_record",
        Step::GenerateAc => "generate_ac",
    }
}

fn masked(pan: &str) -> String {
    let n = pan.len();
    if n < 10 {
        return "*".repeat(n);
    }
    format!("{}{}{}", &pan[..6], "*".repeat(n - 10), &pan[n - 4..])
}

/// The PANs the card returned (5A, and track 2 equivalent data 57), as
/// digits, so the transcript can mask them.
fn pans_read(run: &KernelRun) -> Vec<String> {
    let mut pans: Vec<String> = run.result.iter().map(|o| o.pan.clone()).collect();
    for e in &run.transcript {
        let Some(data) = e.response.get(..e.response.len().saturating_sub(2)) else {
            continue;
        };
        let Ok(tlvs) = emv::tlv::decode(data) else {
            continue;
        };
        for (tag, value) in emv::tlv::flatten(&tlvs) {
            let digits = hex::encode_upper(value);
            let pan = match tag.0 {
                0x5A => digits.trim_end_matches('F').to_string(),
                0x57 => digits.split('D').next().unwrap_or_default().to_string(),
                _ => continue,
            };
            if pan.len() >= 10 && !pans.contains(&pan) {
                pans.push(pan);
            }
        }
    }
    pans
}

/// A response in hex with the PAN's middle digits masked, as on the
/// "Card:" line: BCD digits read the same in hex.
fn mask_pans(mut hex: String, pans: &[String]) -> String {
    for pan in pans {
        hex = hex.replace(pan.as_str(), &masked(pan));
    }
    hex
}

fn decline_name(d: Decline) -> &'static str {
    match d {
        Decline::Frozen => "card_frozen",
        Decline::Locked => "locked",
        Decline::KeysExhausted => "keys_exhausted",
        Decline::Unavailable => "unavailable",
        Decline::KeyMismatch => "key_mismatch",
        Decline::TerminalDeclined => "terminal_declined",
    }
}

impl Report {
    fn new(
        args: &Args,
        params: &TerminalParams,
        run: &KernelRun,
        issuer: Option<&Issuer>,
        answer: Option<BankAnswer>,
    ) -> Result<Self, Failure> {
        let mut text = Vec::new();
        text.push(format!(
            "Terminal: {} {} at {:?} (MCC {:04}, country {:03}), date {:04}-{:02}-{:02}, UN {}",
            args.amount.as_deref().unwrap_or_default(),
            args.currency.to_ascii_uppercase(),
            params.merchant_name,
            params.mcc,
            params.country,
            params.date.year,
            params.date.month,
            params.date.day,
            hex::encode_upper(params.unpredictable_number)
        ));
        let mut transcript = Vec::new();
        let pans = pans_read(run);
        for (i, e) in run.transcript.iter().enumerate() {
            let (c, r) = e.hex();
            let r = mask_pans(r, &pans);
            let sw = e
                .status()
                .map(|s| format!("{s}"))
                .unwrap_or_else(|| "no response".into());
            text.push(format!("{:>2}. {}", i + 1, e.description));
            text.push(format!("    C-APDU {c}"));
            text.push(format!(
                "    R-APDU {}  [{sw}]",
                if r.is_empty() { "-" } else { &r }
            ));
            transcript.push(json!({
                "step": step_name(e.step),
                "description": e.description,
                "command": c,
                "response": r,
                "status": e.status().map(|s| format!("{:04X}", s.0)),
            }));
        }

        let mut json = json!({ "transcript": transcript });
        let out: &KernelOutcome = match &run.result {
            Ok(out) => out,
            Err(e) => {
                text.push(format!("Transaction failed: {e}"));
                json["error"] = json!(e.to_string());
                json["outcome"] = json!("failed");
                return Ok(Report {
                    text: text.join("\n"),
                    json,
                    success: false,
                });
            }
        };
        let c = &out.cryptogram;
        let iad = Iad::parse(&c.iad);
        text.push(format!(
            "Card: {} AID {}  PAN {}  PSN {}",
            out.label.as_deref().unwrap_or("(no label)"),
            hex::encode_upper(&out.aid),
            masked(&out.pan),
            out.psn.map_or("-".into(), |p| format!("{p:02}"))
        ));
        let kind = match c.kind {
            CryptogramKind::Arqc => "arqc",
            CryptogramKind::Tc => "tc",
            CryptogramKind::Aac => "aac",
        };
        text.push(format!(
            "Cryptogram: {}  ATC {}  AC {}{}",
            kind.to_ascii_uppercase(),
            c.atc,
            hex::encode_upper(c.ac),
            iad.map_or(String::new(), |i| format!(
                "  ({}, DKI {})",
                match i.profile {
                    Profile::Tdes => "3DES",
                    Profile::Aes => "AES",
                },
                i.dki
            ))
        ));
        json["card"] = json!({
            "aid": hex::encode_upper(&out.aid),
            "label": out.label,
            "masked_pan": masked(&out.pan),
            "psn": out.psn,
        });
        json["cryptogram"] = json!({
            "kind": kind,
            "atc": c.atc,
            "ac": hex::encode_upper(c.ac),
            "aip": hex::encode_upper(c.aip),
            "iad": hex::encode_upper(&c.iad),
            "cdol1_data": hex::encode_upper(&c.cdol1_data),
        });

        if c.kind != CryptogramKind::Arqc {
            let reason = iad
                .and_then(|i| Decline::from_code(i.decline_code))
                .map(decline_name);
            text.push(format!(
                "Declined by the card{}",
                reason.map_or(String::new(), |r| format!(": {}", r.replace('_', " ")))
            ));
            json["card_decline"] = json!(reason);
            json["outcome"] = json!("declined");
            return Ok(Report {
                text: text.join("\n"),
                json,
                success: false,
            });
        }

        // The local issuer, as a lab verifies.
        let mut local = None;
        if let Some(issuer) = issuer {
            let arc: [u8; 2] = args
                .arc
                .as_bytes()
                .try_into()
                .map_err(|_| invalid("--arc: two characters, e.g. 00"))?;
            // A fresh replay record: this run's issuer has seen nothing before.
            let mut atcs = AtcRecord::new();
            local = Some(
                match issuer.verify_arqc(&out.pan, out.psn.unwrap_or(0), c, &mut atcs) {
                    Ok(v) => {
                        let arpc = hex::encode_upper(v.arpc(arc));
                        let approved = &arc == b"00";
                        text.push(format!(
                            "Issuer: ARQC verified; response code {}, ARPC {arpc} → {}",
                            args.arc,
                            if approved { "APPROVED" } else { "DECLINED" }
                        ));
                        json["issuer"] = json!({
                            "verified": true,
                            "response_code": args.arc,
                            "arpc": arpc,
                        });
                        approved
                    }
                    Err(e) => {
                        text.push(format!("Issuer: {e} → DECLINED"));
                        json["issuer"] = json!({ "verified": false, "error": e.to_string() });
                        false
                    }
                },
            );
        }
        // The bank, whose answer decides when it was asked.
        let mut bank = None;
        let mut offline_outcome = None;
        match answer {
            None => {}
            Some(BankAnswer::Online(a)) => {
                text.push(format!("Bank: {}", bank_line(&a)));
                json["bank"] = serde_json::to_value(&a).unwrap_or_default();
                bank = Some(a.approved);
            }
            Some(BankAnswer::Failed(e)) => {
                text.push(format!("Bank: {e} → NOT AUTHORISED"));
                json["bank"] = json!({ "error": e });
                bank = Some(false);
            }
            Some(BankAnswer::Offline(o)) => {
                text.push(format!("Bank: no answer ({})", o.reason));
                json["bank"] = json!({ "error": o.reason });
                let (approved, line, queue) = match &o.decision {
                    OfflineDecision::Queued(file) => (
                        true,
                        format!(
                            "Offline: within the floor limit of {} → APPROVED OFFLINE for deferred authorization; queued in {}",
                            o.floor_limit,
                            file.display()
                        ),
                        Some(file.display().to_string()),
                    ),
                    OfflineDecision::OverFloorLimit => (
                        false,
                        format!("Offline: above the floor limit of {} → DECLINED", o.floor_limit),
                        None,
                    ),
                    OfflineDecision::NotQueued(e) => (
                        false,
                        format!("Offline: cannot queue the tap for deferred authorization ({e}) → DECLINED"),
                        None,
                    ),
                };
                text.push(line);
                json["offline"] = json!({
                    "approved": approved,
                    "floor_limit": o.floor_limit,
                    "queue": queue,
                });
                offline_outcome = Some(if approved {
                    "approved_offline"
                } else {
                    "declined_offline"
                });
                bank = Some(approved);
            }
        }
        if let Some(outcome) = offline_outcome {
            json["outcome"] = json!(outcome);
            return Ok(Report {
                text: text.join("\n"),
                json,
                success: bank.unwrap_or(false),
            });
        }
        let success = match (bank, local) {
            (Some(b), _) => b,
            (None, Some(l)) => l,
            (None, None) => {
                text.push(
                    "Online: no issuer given (--server or --issuer-master-key), cryptogram not verified"
                        .into(),
                );
                json["outcome"] = json!("online");
                return Ok(Report {
                    text: text.join("\n"),
                    json,
                    success: true,
                });
            }
        };
        json["outcome"] = json!(if success { "approved" } else { "declined" });
        Ok(Report {
            text: text.join("\n"),
            json,
            success,
        })
    }
}

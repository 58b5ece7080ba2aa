//! `billfold-pos`: a contactless terminal simulator. It runs the EMV reader
//! kernel through a whole transaction against a card — any command that
//! speaks the stdio protocol (`billfold hce --stdio`, a lab's card), the
//! wallet in-process, or a built-in test card — prints a readable
//! transcript of every command and response, and has an issuer verify the
//! ARQC and answer with an ARPC.
//!
//! The issuer is the bank (`--server URL`, which authorises and posts the
//! payment), or a local one from `--issuer-master-key` (which verifies the
//! ARQC and computes the ARPC, as a lab would), or both.
//!
//! Exit status: 0 when the issuer approved (or, with no issuer given, the
//! card went online with an ARQC); 1 when the card or the issuer declined
//! or the transaction failed; 2 for bad arguments.

mod bank;

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::Duration;

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
    #[arg(long)]
    amount: String,
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
    let params = terminal_params(args)?;
    let issuer = args
        .issuer_master_key
        .as_deref()
        .map(|k| issuer(k, args.dki))
        .transpose()?;
    // Enrolled before the tap, so a bank that cannot be reached is found
    // out before a key is spent.
    let bank = match &args.server {
        Some(url) => {
            let bank = bank::Bank::new(url, Duration::from_millis(args.timeout_ms))
                .map_err(|e| ("bank", e))?;
            let terminal = bank
                .terminal(args.terminal_key.as_deref())
                .map_err(|e| ("bank", e))?;
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
    let authorization = match (&bank, &run.result) {
        (Some((bank, terminal)), Ok(out)) if out.cryptogram.kind == CryptogramKind::Arqc => {
            Some(bank.authorize(terminal, &out.pan, out.psn, &out.cryptogram))
        }
        _ => None,
    };
    let report = Report::new(args, &params, &run, issuer.as_ref(), authorization)?;
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
    let amount =
        Money::parse(&args.amount, currency).map_err(|e| invalid(format!("--amount: {e}")))?;
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
        authorization: Option<Result<AuthorizationResult, String>>,
    ) -> Result<Self, Failure> {
        let mut text = Vec::new();
        text.push(format!(
            "Terminal: {} {} at {:?} (MCC {:04}, country {:03}), date {:04}-{:02}-{:02}, UN {}",
            args.amount,
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
        for (i, e) in run.transcript.iter().enumerate() {
            let (c, r) = e.hex();
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
        match authorization {
            None => {}
            Some(Ok(a)) => {
                let reason = a.decline_reason.map(|r| r.as_str());
                text.push(format!(
                    "Bank: response code {}{}{} → {}",
                    a.response_code,
                    reason.map_or(String::new(), |r| format!(" ({})", r.replace('_', " "))),
                    a.arpc.as_deref().map_or(String::new(), |p| format!(
                        ", ARPC {}",
                        p.to_ascii_uppercase()
                    )),
                    if a.approved { "APPROVED" } else { "DECLINED" }
                ));
                json["bank"] = serde_json::to_value(&a).unwrap_or_default();
                bank = Some(a.approved);
            }
            Some(Err(e)) => {
                text.push(format!("Bank: {e} → NOT AUTHORISED"));
                json["bank"] = json!({ "error": e });
                bank = Some(false);
            }
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

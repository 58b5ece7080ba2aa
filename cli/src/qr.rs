//! `billfold qr …`: parse an EMV QR payload, scan an image for codes, and
//! make codes as PNG or SVG. All three are stateless: no wallet, no
//! passphrase, no --home.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;
use serde_json::{json, Value};
use wallet_core::qr::{
    consumer_presented_code, payload_code, scan_image_file, EmvPayload, ErrorCorrection, QrMatrix,
    ReceiveRequest,
};
use wallet_core::{Currency, Error, Money};

use crate::output::Out;
use crate::session::text;

#[derive(Subcommand)]
pub enum QrCommand {
    /// Parse an EMV QR payload (merchant- or consumer-presented) and check its CRC.
    Parse { payload: OsString },
    /// Find every QR code in a PNG or JPEG image (a photo is turned upright
    /// as its EXIF orientation says), with its corners, and parse the EMV ones.
    Scan { image: PathBuf },
    /// Write a QR code as PNG or SVG: a payload given as text, or a
    /// receive-money request built from its fields.
    Make(Box<MakeArgs>),
}

#[derive(Args)]
pub struct MakeArgs {
    /// Write this file; .png or .svg.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Encode this payload as it is.
    #[arg(long, conflicts_with_all = ["merchant_name", "city", "country", "currency", "amount", "mcc", "account", "reference"])]
    text: Option<OsString>,
    /// With --text: the payload is a consumer-presented code (base64),
    /// shown on a phone, so low error correction.
    #[arg(long, requires = "text")]
    consumer: bool,
    /// The payee's name as the payer sees it (tag 59).
    #[arg(long, required_unless_present = "text")]
    merchant_name: Option<OsString>,
    /// Tag 60.
    #[arg(long, required_unless_present = "text")]
    city: Option<OsString>,
    /// ISO 3166-1 alpha-2, e.g. BR (tag 58).
    #[arg(long, required_unless_present = "text")]
    country: Option<OsString>,
    /// ISO 4217 alphabetic code, e.g. BRL.
    #[arg(long, required_unless_present = "text")]
    currency: Option<OsString>,
    /// Omit to let the payer enter the amount.
    #[arg(long)]
    amount: Option<OsString>,
    /// ISO 18245 merchant category code, four digits.
    #[arg(long)]
    mcc: Option<OsString>,
    /// The payee identifier at the scheme (account, phone, alias).
    #[arg(long)]
    account: Option<OsString>,
    /// The scheme's globally unique identifier (tag 26 sub-ID 00).
    #[arg(long, default_value = ReceiveRequest::BILLFOLD_GUID)]
    scheme_guid: OsString,
    /// A reference the payer's app sends back (tag 62 sub-ID 05).
    #[arg(long)]
    reference: Option<OsString>,
    /// Pixels (PNG) or user units (SVG) per module.
    #[arg(long, default_value_t = 8)]
    module_px: u32,
    /// Error correction; default: medium, or low with --consumer.
    #[arg(long, value_enum)]
    ec: Option<Ec>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Ec {
    Low,
    Medium,
    Quartile,
    High,
}

pub fn run(cmd: QrCommand, out: &Out) -> Result<(), Error> {
    match cmd {
        QrCommand::Parse { payload } => parse(&text("payload", payload)?, out),
        QrCommand::Scan { image } => scan(&image, out),
        QrCommand::Make(args) => make(*args, out),
    }
}

fn parse(payload: &str, out: &Out) -> Result<(), Error> {
    let parsed = EmvPayload::parse(payload.trim())?;
    out.print(&parsed, || describe(&parsed));
    Ok(())
}

/// One code found in an image, as `qr scan --json` prints it.
#[derive(Serialize)]
struct FoundCode {
    text: String,
    /// Top-left, top-right, bottom-right, bottom-left, as [x, y] in pixels of
    /// the upright image.
    corners: [[f32; 2]; 4],
    inverted: bool,
    /// The parsed payload where the text is an EMV QR code, else null.
    emv: Option<EmvPayload>,
    /// Why a text that claims to be EMV could not be parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    emv_error: Option<Value>,
}

fn scan(image: &Path, out: &Out) -> Result<(), Error> {
    let codes: Vec<FoundCode> = scan_image_file(image)?
        .into_iter()
        .map(|c| {
            let (emv, emv_error) = if EmvPayload::looks_like_emv(&c.text) {
                match EmvPayload::parse(&c.text) {
                    Ok(p) => (Some(p), None),
                    Err(e) => (
                        None,
                        Some(json!({ "code": e.code(), "message": e.to_string() })),
                    ),
                }
            } else {
                (None, None)
            };
            FoundCode {
                corners: c.corners.map(|p| [p.x, p.y]),
                text: c.text,
                inverted: c.inverted,
                emv,
                emv_error,
            }
        })
        .collect();
    out.print(&json!({ "codes": codes }), || {
        if codes.is_empty() {
            return "No QR code found.".into();
        }
        codes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let at = c
                    .corners
                    .iter()
                    .map(|[x, y]| format!("({x:.0}, {y:.0})"))
                    .collect::<Vec<_>>()
                    .join(" ");
                let mut s = format!("Code {} at {at}:\n  {}", i + 1, c.text);
                if let Some(p) = &c.emv {
                    s.push('\n');
                    s.push_str(&indent(&describe(p)));
                }
                s
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

fn make(args: MakeArgs, out: &Out) -> Result<(), Error> {
    let format = match args
        .out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => "png",
        Some("svg") => "svg",
        _ => {
            return Err(Error::InvalidText {
                field: "out",
                reason: "the file name must end in .png or .svg",
            })
        }
    };
    let ec = args.ec.map(|e| match e {
        Ec::Low => ErrorCorrection::Low,
        Ec::Medium => ErrorCorrection::Medium,
        Ec::Quartile => ErrorCorrection::Quartile,
        Ec::High => ErrorCorrection::High,
    });
    let (payload, matrix) = match args.text {
        Some(t) => {
            let t = text("text", t)?;
            let m = match (ec, args.consumer) {
                (Some(ec), _) => QrMatrix::encode(&t, ec)?,
                (None, true) => consumer_presented_code(&t)?,
                (None, false) => payload_code(&t)?,
            };
            (t, m)
        }
        None => {
            let field = |name, v: Option<OsString>| -> Result<String, Error> {
                text(name, v.unwrap_or_default())
            };
            let currency = Currency::from_code(&field("currency", args.currency)?)?;
            let amount = args
                .amount
                .map(|a| Money::parse(&text("amount", a)?, currency))
                .transpose()?;
            let request = ReceiveRequest {
                name: field("merchant name", args.merchant_name)?,
                city: field("city", args.city)?,
                country: field("country", args.country)?.to_ascii_uppercase(),
                currency,
                amount,
                mcc: args.mcc.map(|m| text("mcc", m)).transpose()?,
                account: args.account.map(|a| text("account", a)).transpose()?,
                scheme_guid: text("scheme guid", args.scheme_guid)?,
                reference: args.reference.map(|r| text("reference", r)).transpose()?,
            };
            let payload = request.payload()?;
            let m = QrMatrix::encode(&payload, ec.unwrap_or_default())?;
            (payload, m)
        }
    };
    let bytes = if format == "png" {
        matrix.to_png(args.module_px)?
    } else {
        matrix.to_svg(args.module_px)?.into_bytes()
    };
    std::fs::write(&args.out, bytes)?;
    let path = args.out.display().to_string();
    out.print(
        &json!({
            "out": path,
            "format": format,
            "payload": payload,
            "version": matrix.version,
            "modules": matrix.size,
            "error_correction": matrix.error_correction,
        }),
        || {
            format!(
                "Wrote {path} (QR version {}, {}x{} modules)\n{payload}",
                matrix.version, matrix.size, matrix.size
            )
        },
    );
    Ok(())
}

/// A few lines for people.
fn describe(p: &EmvPayload) -> String {
    match p {
        EmvPayload::MerchantPresented(r) => {
            let mut lines = vec![format!(
                "Pay {} ({}, {})",
                r.merchant_name.as_deref().unwrap_or("(no name)"),
                r.merchant_city.as_deref().unwrap_or("(no city)"),
                r.country
            )];
            lines.push(match &r.amount {
                Some(m) => format!("Amount: {m}"),
                None => format!("Amount: entered by the customer, in {}", r.currency),
            });
            if let Some(mcc) = &r.mcc {
                lines.push(format!("Category: {} (MCC {mcc})", r.category));
            }
            for s in &r.schemes {
                lines.push(format!(
                    "Scheme {}: {}{}",
                    s.tag,
                    s.scheme,
                    s.payee
                        .as_deref()
                        .map(|p| format!(", payee {p}"))
                        .unwrap_or_default()
                ));
            }
            lines.push(if r.crc_valid {
                "CRC: valid".into()
            } else {
                "CRC: WRONG - the code is damaged or altered; do not pay it".into()
            });
            for w in &r.warnings {
                lines.push(format!("Warning: {}", w.message));
            }
            lines.join("\n")
        }
        EmvPayload::ConsumerPresented(c) => {
            let apps = &c.summary.applications;
            let mut lines = vec![format!(
                "Consumer-presented code ({}), {} application(s)",
                c.summary.payload_format,
                apps.len()
            )];
            for a in apps {
                lines.push(format!(
                    "  {} {}",
                    a.label.as_deref().unwrap_or("(no label)"),
                    a.pan_masked.as_deref().unwrap_or("")
                ));
            }
            lines.join("\n")
        }
    }
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

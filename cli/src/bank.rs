//! `billfold enroll | sync | pay | link-code`: the wallet and its bank.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde_json::json;
use wallet_core::qr::{scan_image_file, PaymentRequest};
use wallet_core::{Error, Money, SyncListener, SyncProgress, Wallet};

use crate::output::Out;
use crate::session::{open, print_alerts, text};

pub struct PayArgs {
    pub payload: Option<OsString>,
    pub image: Option<PathBuf>,
    pub amount: Option<OsString>,
    pub tip: Option<OsString>,
}

pub fn enroll(
    server: OsString,
    name: OsString,
    link_code: Option<OsString>,
    home: Option<&Path>,
    out: &Out,
) -> Result<(), Error> {
    let wallet = open(home)?;
    let server = text("server", server)?;
    let name = text("device name", name)?;
    let code = link_code.map(|c| text("link code", c)).transpose()?;
    let e = wallet.enroll(&server, &name, code.as_deref())?;
    // Cards added before enrolling get their tokens now.
    let mut registered = Vec::new();
    for card in wallet.list_cards()? {
        registered.push(wallet.register_card(&card.id)?);
    }
    // The opening balance and anything the account already has.
    let report = wallet.sync(None)?;
    let e = wallet.enrollment()?.unwrap_or(e);
    out.print(
        &json!({ "enrollment": e, "tokens": registered, "sync": report }),
        || {
            let mut s = format!(
                "Enrolled with {} as device {} (account {})",
                e.server_url, e.device_id, e.account_id
            );
            if let Some(b) = &e.posted_balance {
                s.push_str(&format!("\nBank balance: {b}"));
            }
            for t in &registered {
                s.push_str(&format!(
                    "\nToken {} for card {}: {} single-use keys",
                    t.masked_pan, t.card_id, t.keys.remaining
                ));
            }
            s
        },
    );
    Ok(())
}

pub fn link_code(home: Option<&Path>, out: &Out) -> Result<(), Error> {
    let wallet = open(home)?;
    let code = wallet.create_link_code()?;
    out.print(&code, || {
        format!(
            "Link code: {} (enroll the other device with --link-code)",
            code.code
        )
    });
    Ok(())
}

/// Prints each round of a long sync on stderr (stdout stays the result).
struct Progress;

impl SyncListener for Progress {
    fn on_progress(&self, p: &SyncProgress) {
        if p.has_more || p.remaining > 0 {
            eprintln!(
                "sync: round {}, {} pushed, {} to go, {} pulled",
                p.round, p.pushed, p.remaining, p.pulled
            );
        }
    }
}

pub fn sync(home: Option<&Path>, out: &Out) -> Result<(), Error> {
    let wallet = open(home)?;
    // Taps answered since the last run become pending entries first.
    wallet.settle_taps()?;
    let report = wallet.sync(Some(&Progress))?;
    let e = wallet.enrollment()?.ok_or(Error::NotEnrolled)?;
    out.print(&json!({ "sync": report, "enrollment": e }), || {
        let mut s = format!(
            "Synced: {} operations sent ({} already known to the bank, {} refused), {} new and {} updated entries, {} new keys",
            report.applied + report.duplicates + report.rejected,
            report.duplicates,
            report.rejected,
            report.entries_inserted,
            report.entries_updated,
            report.keys_added
        );
        if report.holds_released > 0 {
            s.push_str(&format!("\nReleased {} pending holds", report.holds_released));
        }
        if let Some(b) = &e.posted_balance {
            s.push_str(&format!("\nBank balance: {b}"));
        }
        for a in &report.alerts {
            s.push_str(&format!("\nALERT {}", a.message));
        }
        s
    });
    Ok(())
}

fn request_from(args: &PayArgs) -> Result<PaymentRequest, Error> {
    match (&args.payload, &args.image) {
        (Some(p), None) => PaymentRequest::from_payload(&text("payload", p.clone())?),
        (None, Some(image)) => {
            let found = scan_image_file(image)?;
            let code = found
                .iter()
                .find_map(|c| PaymentRequest::from_payload(&c.text).ok())
                .ok_or(Error::InvalidQr {
                    reason: "no_payment_code",
                    message: "the image has no EMV payment code".into(),
                })?;
            Ok(code)
        }
        _ => Err(Error::InvalidText {
            field: "code",
            reason: "give the payload or --image, not both",
        }),
    }
}

pub fn pay(args: PayArgs, home: Option<&Path>, out: &Out) -> Result<(), Error> {
    let request = request_from(&args)?;
    let wallet: Wallet = open(home)?;
    print_alerts(&wallet);
    let money = |v: &Option<OsString>, field| {
        v.clone()
            .map(|a| Money::parse(&text(field, a)?, request.currency))
            .transpose()
    };
    let amount = money(&args.amount, "amount")?;
    let tip = money(&args.tip, "tip")?;
    let paid = wallet.pay_qr(&request, amount, tip)?;
    out.print(&paid, || {
        format!(
            "Paid {} to {} (payment {})",
            paid.total,
            paid.entry.merchant.as_deref().unwrap_or("the merchant"),
            paid.payment_id
        )
    });
    Ok(())
}

/// The QR matrix drawn with half blocks, two module rows per text line,
/// with the quiet zone scanners need.
fn draw(m: &wallet_core::qr::QrMatrix) -> String {
    let size = m.size as i64;
    let dark =
        |x: i64, y: i64| x >= 0 && y >= 0 && x < size && y < size && m.is_dark(x as u32, y as u32);
    let mut s = String::new();
    let mut y = -2;
    while y < size + 2 {
        for x in -2..size + 2 {
            s.push(match (dark(x, y), dark(x, y + 1)) {
                (true, true) => ' ',
                (true, false) => '▄',
                (false, true) => '▀',
                (false, false) => '█',
            });
        }
        s.push('\n');
        y += 2;
    }
    s
}

pub fn pay_code(
    amount: OsString,
    file: Option<PathBuf>,
    home: Option<&Path>,
    out: &Out,
) -> Result<(), Error> {
    let amount: Money = text("amount", amount)?.parse()?;
    let wallet = open(home)?;
    print_alerts(&wallet);
    let code = wallet.consumer_payment_code(&amount)?;
    if let Some(f) = &file {
        let bytes = if f.extension().is_some_and(|e| e.eq_ignore_ascii_case("svg")) {
            code.matrix.to_svg(8)?.into_bytes()
        } else {
            code.matrix.to_png(8)?
        };
        std::fs::write(f, bytes)?;
    }
    out.print(
        &json!({ "code": code, "out": file.as_ref().map(|f| f.display().to_string()) }),
        || {
            format!(
                "{}Show this code to the merchant: {} with token {} (single-use key, ATC {})",
                draw(&code.matrix),
                code.amount,
                code.masked_pan,
                code.atc
            )
        },
    );
    Ok(())
}

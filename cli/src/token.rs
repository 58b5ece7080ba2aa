//! `billfold token …`: payment tokens for tapping. `provision-test` issues
//! one from an in-process test issuer (labs know its master key and verify
//! cryptograms with their own tools); `list` shows tokens masked; `status`
//! shows the single-use keys left and whether sync should ask for more.

use std::ffi::OsString;
use std::path::Path;

use chrono::{Datelike, Months, Utc};
use clap::Subcommand;
use emv::crypto::Profile;
use serde_json::json;
use wallet_core::{
    Card, Error, TestTokenConfig, TestTokenService, TokenInfo, Wallet, KEY_LOW_WATER,
};

use crate::output::Out;
use crate::session::{open, text};

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Provision a test token straight from an in-process issuer, for
    /// development and certification labs: whoever knows the issuer master
    /// key can derive every key, which is what a lab needs. Replaces the
    /// card's current token.
    ProvisionTest {
        /// The issuer master key (IMK-AC), 32 hex digits; used for both
        /// profiles.
        #[arg(long, value_name = "HEX")]
        issuer_master_key: OsString,
        /// The card (id, id prefix or nickname); default: the tap card.
        #[arg(long)]
        card: Option<OsString>,
        /// The token PAN; default: a random test number (BIN 476173).
        #[arg(long)]
        pan: Option<OsString>,
        /// PAN sequence number, 0 to 99.
        #[arg(long, default_value_t = 0)]
        psn: u8,
        /// How many single-use keys to provision.
        #[arg(long, default_value_t = 10)]
        keys: u16,
        /// tdes or aes.
        #[arg(long, default_value = "tdes")]
        profile: OsString,
        /// Derivation key index reported in the IAD.
        #[arg(long, default_value_t = 1)]
        dki: u8,
        /// Application identifier, hex.
        #[arg(long, default_value = "A0000000031010")]
        aid: OsString,
        #[arg(long, default_value = "BILLFOLD")]
        label: OsString,
        /// Token expiry YYMMDD; default: end of the month in three years.
        #[arg(long)]
        expiry: Option<OsString>,
    },
    /// List tokens, masked.
    List,
    /// Single-use keys left per token, and whether sync should ask for more.
    Status,
}

pub fn run(cmd: TokenCommand, home: Option<&Path>, out: &Out) -> Result<(), Error> {
    let wallet = open(home)?;
    match cmd {
        TokenCommand::ProvisionTest {
            issuer_master_key,
            card,
            pan,
            psn,
            keys,
            profile,
            dki,
            aid,
            label,
            expiry,
        } => {
            let imk = parse_key(&text("issuer master key", issuer_master_key)?)?;
            let card = match card {
                Some(sel) => resolve(&wallet, sel)?,
                None => wallet.default_card()?.ok_or(Error::InvalidText {
                    field: "card",
                    reason: "there is no default card; add one or give --card",
                })?,
            };
            if keys == 0 {
                return Err(Error::InvalidText {
                    field: "keys",
                    reason: "provision at least one key",
                });
            }
            let mut config = TestTokenConfig::new(match expiry {
                Some(e) => text("expiry", e)?,
                None => default_expiry(),
            });
            config.pan = pan
                .map(|p| text("token PAN", p))
                .transpose()?
                .map(|p| p.replace([' ', '-'], "").into());
            // Checked here as well as by the wallet: the test issuer derives
            // keys from PAN and PSN before the wallet sees the token.
            if config.pan.as_ref().is_some_and(|p| {
                !(12..=19).contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_digit())
            }) {
                return Err(Error::InvalidText {
                    field: "token PAN",
                    reason: "use 12 to 19 digits",
                });
            }
            if psn > 99 {
                return Err(Error::InvalidText {
                    field: "PAN sequence number",
                    reason: "use 0 to 99",
                });
            }
            config.psn = psn;
            config.batch_size = keys;
            config.profile = parse_profile(&text("profile", profile)?)?;
            config.dki = dki;
            config.aid = hex::decode(text("AID", aid)?).map_err(|_| Error::InvalidText {
                field: "AID",
                reason: "give it in hex",
            })?;
            config.label = text("label", label)?;
            let service = TestTokenService::new(imk, config);
            let token = wallet.provision_token(&card.id, &service)?;
            out.print(&token, || {
                format!(
                    "Provisioned test token {} for card {} ({}): {} single-use keys, ATC {} to {}\n{}\n\
                     Test only: anyone with the issuer master key can derive its keys.",
                    token.token_id,
                    short(&card.id),
                    card.nickname.as_deref().unwrap_or(&card.masked_pan),
                    token.keys.remaining,
                    token.keys.next_atc,
                    token.keys.provisioned_until.saturating_sub(1),
                    line(&token)
                )
            });
        }
        TokenCommand::List => {
            let tokens = wallet.tokens()?;
            out.print(&tokens, || {
                if tokens.is_empty() {
                    "No tokens yet. For a test token: billfold token provision-test".into()
                } else {
                    tokens.iter().map(line).collect::<Vec<_>>().join("\n")
                }
            });
        }
        TokenCommand::Status => {
            let status = wallet.token_key_status()?;
            let low = status.iter().any(|s| s.low);
            let value = json!({
                "tokens": status,
                "low_water": KEY_LOW_WATER,
                "needs_replenishment": wallet.needs_replenishment()?,
            });
            out.print(&value, || {
                if status.is_empty() {
                    return "No tokens yet.".into();
                }
                let mut lines: Vec<String> = status
                    .iter()
                    .map(|s| {
                        format!(
                            "{:<24} {:>5} keys left, next ATC {}, keys up to ATC {}{}",
                            s.token_id,
                            s.remaining,
                            s.next_atc,
                            s.provisioned_until.saturating_sub(1),
                            if s.low { "  [low: sync to get more]" } else { "" }
                        )
                    })
                    .collect();
                if low {
                    lines.push(format!(
                        "Fewer than {KEY_LOW_WATER} keys left on some tokens: the next sync asks for more."
                    ));
                }
                lines.join("\n")
            });
        }
    }
    wallet.close()
}

fn parse_key(s: &str) -> Result<[u8; 16], Error> {
    let bad = Error::InvalidText {
        field: "issuer master key",
        reason: "give 32 hex digits (16 bytes)",
    };
    hex::decode(s.trim())
        .ok()
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .ok_or(bad)
}

pub fn parse_profile(s: &str) -> Result<Profile, Error> {
    match s.to_ascii_lowercase().as_str() {
        "tdes" | "3des" => Ok(Profile::Tdes),
        "aes" => Ok(Profile::Aes),
        _ => Err(Error::InvalidText {
            field: "profile",
            reason: "use tdes or aes",
        }),
    }
}

/// The last day of the month three years from now, `YYMMDD`.
fn default_expiry() -> String {
    let today = Utc::now().date_naive();
    let last = today
        .with_day(1)
        .and_then(|d| d.checked_add_months(Months::new(37)))
        .and_then(|d| d.pred_opt())
        .unwrap_or(today);
    format!(
        "{:02}{:02}{:02}",
        last.year() % 100,
        last.month(),
        last.day()
    )
}

/// A card named by its id, a unique id prefix (at least 4 characters), or
/// its nickname.
fn resolve(wallet: &Wallet, selector: OsString) -> Result<Card, Error> {
    let sel = text("card", selector)?;
    let cards = wallet.list_cards()?;
    if let Some(c) = cards.iter().find(|c| c.id == sel) {
        return Ok(c.clone());
    }
    let matches: Vec<&Card> = cards
        .iter()
        .filter(|c| {
            c.nickname
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(&sel))
                || (sel.len() >= 4 && c.id.starts_with(&sel))
        })
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(Error::CardNotFound),
        _ => Err(Error::InvalidText {
            field: "card",
            reason: "it matches more than one card; use the id",
        }),
    }
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

fn line(t: &TokenInfo) -> String {
    format!(
        "{:<24} card {}  {} PSN {:02}  exp {}  {} DKI {}  {} {}  {} keys{}{}",
        t.token_id,
        short(&t.card_id),
        t.masked_pan,
        t.psn,
        t.expiry,
        match t.profile {
            Profile::Tdes => "3DES",
            Profile::Aes => "AES",
        },
        t.dki,
        t.aid,
        t.label,
        t.keys.remaining,
        if t.keys.low { " [low]" } else { "" },
        if t.is_default_card {
            "  [tap card]"
        } else {
            ""
        },
    )
}

//! `billfold card …`: add, list, freeze, unfreeze, remove, and the default card.

use std::ffi::OsString;
use std::path::Path;

use clap::Subcommand;
use serde_json::json;
use wallet_core::{Card, Error, NewCard, Wallet};

use crate::output::Out;
use crate::session::{open, text};

#[derive(Subcommand)]
pub enum CardCommand {
    /// Add a card. CVV is never asked for: Billfold does not store it.
    Add {
        #[arg(long)]
        pan: OsString,
        /// MM/YY
        #[arg(long)]
        expiry: OsString,
        /// Cardholder name as printed on the card.
        #[arg(long)]
        name: OsString,
        #[arg(long)]
        nickname: Option<OsString>,
    },
    /// Register a card with the bank (enrolled wallets do this on `add`):
    /// the bank issues its payment token and single-use keys.
    Register {
        card: OsString,
    },
    /// List cards, masked.
    List,
    /// Freeze a card: taps and payments with it are declined.
    Freeze {
        card: OsString,
    },
    Unfreeze {
        card: OsString,
    },
    Remove {
        card: OsString,
    },
    /// Make a card the one taps pay with.
    Default {
        card: OsString,
    },
}

pub fn run(cmd: CardCommand, home: Option<&Path>, out: &Out) -> Result<(), Error> {
    let wallet = open(home)?;
    match cmd {
        CardCommand::Add {
            pan,
            expiry,
            name,
            nickname,
        } => {
            let card = wallet.add_card(&NewCard {
                pan: text("card number", pan)?,
                expiry: text("expiry", expiry)?,
                cardholder_name: text("cardholder name", name)?,
                nickname: nickname.map(|n| text("nickname", n)).transpose()?,
            })?;
            // An enrolled wallet registers the card with the bank at once;
            // if the bank cannot be reached the card stays, unregistered.
            let token =
                if wallet.enrollment()?.is_some() {
                    Some(wallet.register_card(&card.id).map_err(|e| {
                        Error::InvalidText {
                    field: "card",
                    reason: match e {
                        Error::Offline | Error::BankUnavailable(_) => {
                            "added, but the bank could not be reached; run `billfold card register`"
                        }
                        _ => "added, but the bank refused to issue a token for it",
                    },
                }
                    })?)
                } else {
                    None
                };
            // The card's own fields, plus the token when one was issued.
            let mut shown = serde_json::to_value(&card).unwrap_or_default();
            if let (Some(map), Some(t)) = (shown.as_object_mut(), &token) {
                map.insert("token".into(), serde_json::to_value(t).unwrap_or_default());
            }
            out.print(&shown, || {
                let mut s = format!("Added {}", line(&card));
                if let Some(t) = &token {
                    s.push_str(&format!(
                        "\nThe bank issued token {} with {} single-use keys",
                        t.masked_pan, t.keys.remaining
                    ));
                }
                s
            });
        }
        CardCommand::Register { card } => {
            let token = wallet.register_card(&resolve(&wallet, card)?)?;
            out.print(&token, || {
                format!(
                    "The bank issued token {} with {} single-use keys",
                    token.masked_pan, token.keys.remaining
                )
            });
        }
        CardCommand::List => {
            let cards = wallet.list_cards()?;
            out.print(&cards, || {
                if cards.is_empty() {
                    "No cards yet. Add one with: billfold card add".into()
                } else {
                    cards.iter().map(line).collect::<Vec<_>>().join("\n")
                }
            });
        }
        CardCommand::Freeze { card } => {
            let card = wallet.freeze_card(&resolve(&wallet, card)?)?;
            out.print(&card, || format!("Frozen {}", line(&card)));
        }
        CardCommand::Unfreeze { card } => {
            let card = wallet.unfreeze_card(&resolve(&wallet, card)?)?;
            out.print(&card, || format!("Unfrozen {}", line(&card)));
        }
        CardCommand::Default { card } => {
            let card = wallet.set_default_card(&resolve(&wallet, card)?)?;
            out.print(&card, || format!("Taps now pay with {}", line(&card)));
        }
        CardCommand::Remove { card } => {
            let id = resolve(&wallet, card)?;
            wallet.remove_card(&id)?;
            out.print(&json!({ "removed": id }), || format!("Removed card {id}"));
        }
    }
    wallet.close()
}

/// A card named by its id, a unique id prefix (at least 4 characters), or its nickname.
fn resolve(wallet: &Wallet, selector: OsString) -> Result<String, Error> {
    let sel = text("card", selector)?;
    let cards = wallet.list_cards()?;
    if let Some(c) = cards.iter().find(|c| c.id == sel) {
        return Ok(c.id.clone());
    }
    let by_nick: Vec<&Card> = cards
        .iter()
        .filter(|c| {
            c.nickname
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(&sel))
        })
        .collect();
    let by_prefix: Vec<&Card> = if sel.len() >= 4 {
        cards.iter().filter(|c| c.id.starts_with(&sel)).collect()
    } else {
        vec![]
    };
    match (by_nick.as_slice(), by_prefix.as_slice()) {
        ([one], _) | ([], [one]) => Ok(one.id.clone()),
        ([], []) => Err(Error::CardNotFound),
        _ => Err(Error::InvalidText {
            field: "card",
            reason: "it matches more than one card; use the id",
        }),
    }
}

fn line(c: &Card) -> String {
    format!(
        "{:<8} {:<12} {} {:>5}  {}{}{}",
        &c.id[..8],
        c.network.as_str(),
        c.masked_pan,
        c.expiry,
        c.nickname.as_deref().unwrap_or(&c.cardholder_name),
        if c.is_default { "  [default]" } else { "" },
        if c.frozen { "  [frozen]" } else { "" },
    )
}

//! Finding the wallet's home and the passphrase, and opening the wallet.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use serde_json::json;
use wallet_core::{Error, PassphraseKeyStore, SystemClock, Wallet};

use crate::output::Out;

pub fn home(home: Option<&Path>) -> Result<&Path, Error> {
    home.ok_or(Error::InvalidText {
        field: "home",
        reason: "give --home DIR or set BILLFOLD_HOME",
    })
}

fn keystore(confirm: bool) -> Result<Arc<PassphraseKeyStore>, Error> {
    let passphrase = match std::env::var_os("BILLFOLD_PASSPHRASE") {
        Some(p) => text("passphrase", p)?,
        None if std::io::stdin().is_terminal() => {
            let p = rpassword::prompt_password("Passphrase: ")?;
            if confirm && rpassword::prompt_password("Again: ")? != p {
                return Err(Error::InvalidText {
                    field: "passphrase",
                    reason: "the two entries differ",
                });
            }
            p
        }
        None => {
            return Err(Error::InvalidText {
                field: "passphrase",
                reason: "set BILLFOLD_PASSPHRASE or run in a terminal",
            })
        }
    };
    Ok(Arc::new(PassphraseKeyStore::new(passphrase)?))
}

pub fn open(home_dir: Option<&Path>) -> Result<Wallet, Error> {
    let dir = home(home_dir)?;
    Wallet::open(dir, keystore(false)?, Arc::new(SystemClock))
}

pub fn init(home_dir: Option<&Path>, out: &Out) -> Result<(), Error> {
    let dir = home(home_dir)?;
    let wallet = Wallet::create(dir, keystore(true)?, Arc::new(SystemClock))?;
    let path = wallet.db_path().display().to_string();
    wallet.close()?;
    out.print(&json!({ "created": path }), || {
        format!("Created a wallet in {path}")
    });
    Ok(())
}

/// Command-line text must be UTF-8; anything else is a typed error, never a panic.
pub fn text(field: &'static str, value: OsString) -> Result<String, Error> {
    value.into_string().map_err(|_| Error::InvalidText {
        field,
        reason: "it is not valid UTF-8",
    })
}

/// Prints budget alerts on stderr as the wallet delivers them, for
/// commands whose result is not the alert itself (a payment, a tap).
struct AlertPrinter;

impl wallet_core::AlertListener for AlertPrinter {
    fn on_alert(&self, alert: wallet_core::Alert) {
        eprintln!("ALERT: {}", alert.message);
    }
}

pub fn print_alerts(wallet: &Wallet) {
    wallet.set_alert_listener(Arc::new(AlertPrinter));
}

//! The server's configuration: command-line flags, each also readable from
//! a `BILLFOLD_*` environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use emv::crypto::Profile;

/// Where the bank keeps its books.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// `bank.db` in this directory (created if missing).
    Sqlite { data_dir: PathBuf },
    /// A PostgreSQL database (`postgres://...`).
    Postgres { url: String },
}

/// Everything the running server needs to know.
#[derive(Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub storage: Storage,
    /// Development only: the issuer master key (16 bytes), so an
    /// independent EMV implementation can verify cryptograms. Without it the
    /// server generates one on first start and keeps it in its database.
    pub issuer_master_key: Option<[u8; 16]>,
    pub profile: Profile,
    /// Derivation key index reported in each token's IAD.
    pub dki: u8,
    /// The currency of every account this bank opens (ISO 4217 alpha).
    pub currency: String,
    /// Credited to each new account, in minor units (a demo bank).
    pub opening_balance_minor: i64,
    /// Default per-transaction limit of a new card, in minor units.
    pub card_limit_minor: i64,
    /// Keys per batch.
    pub key_batch_size: u16,
    /// A device with fewer unused keys than this gets a new batch.
    pub key_low_water: u32,
    /// The first six digits of every token PAN.
    pub token_bin: String,
}

// Never print the master key, even in a debug dump of the configuration.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("storage", &self.storage)
            .field(
                "issuer_master_key",
                &self.issuer_master_key.map(|_| "<configured>"),
            )
            .field("profile", &self.profile)
            .field("currency", &self.currency)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Defaults for tests and embedding: SQLite in `data_dir`, loopback on
    /// an ephemeral port.
    pub fn for_tests(storage: Storage) -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            storage,
            issuer_master_key: None,
            profile: Profile::Aes,
            dki: 1,
            currency: "EUR".into(),
            opening_balance_minor: 250_000,
            card_limit_minor: 50_000,
            key_batch_size: 20,
            key_low_water: 5,
            token_bin: "476173".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfileArg {
    Aes,
    Tdes,
}

/// Billfold's reference bank server.
#[derive(Debug, Parser)]
#[command(name = "billfold-server", version, about)]
pub struct Cli {
    /// Address to listen on. Plain HTTP is only for loopback in development,
    /// so other addresses are refused unless --allow-non-loopback is given.
    #[arg(long, env = "BILLFOLD_LISTEN", default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,
    /// Listen on a non-loopback address (behind a TLS-terminating proxy).
    #[arg(long)]
    pub allow_non_loopback: bool,
    /// Directory for the SQLite database (the default storage).
    #[arg(
        long,
        env = "BILLFOLD_DATA_DIR",
        default_value = "billfold-server-data"
    )]
    pub data_dir: PathBuf,
    /// Use PostgreSQL instead of SQLite: postgres://user@host:port/database.
    #[arg(long, env = "BILLFOLD_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Development only: the issuer master key, 32 hex digits.
    #[arg(long, env = "BILLFOLD_ISSUER_MASTER_KEY", hide_env_values = true)]
    pub issuer_master_key: Option<String>,
    /// Cryptographic profile of new tokens.
    #[arg(long, value_enum, default_value = "aes")]
    pub profile: ProfileArg,
    /// Derivation key index of the issuer master key.
    #[arg(long, default_value_t = 1)]
    pub dki: u8,
    /// Currency of new accounts (ISO 4217 alpha code).
    #[arg(long, env = "BILLFOLD_CURRENCY", default_value = "EUR")]
    pub currency: String,
    /// Opening balance of a new account, in minor units.
    #[arg(long, default_value_t = 250_000)]
    pub opening_balance_minor: i64,
    /// Default per-transaction card limit, in minor units.
    #[arg(long, default_value_t = 50_000)]
    pub card_limit_minor: i64,
    /// Single-use keys per batch.
    #[arg(long, default_value_t = 20)]
    pub key_batch_size: u16,
    /// Issue a new batch when a device has fewer keys left than this.
    #[arg(long, default_value_t = 5)]
    pub key_low_water: u32,
    /// First six digits of token PANs (a test range by default).
    #[arg(long, default_value = "476173")]
    pub token_bin: String,
}

/// Why a configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("the issuer master key must be 32 hex digits (16 bytes)")]
    BadMasterKey,
    #[error("{0} is not a loopback address: plain HTTP is for loopback only (pass --allow-non-loopback behind a TLS proxy)")]
    NotLoopback(SocketAddr),
    #[error("the database URL must start with postgres:// or postgresql://")]
    BadDatabaseUrl,
    #[error("{0:?} is not an active ISO 4217 currency")]
    BadCurrency(String),
    #[error("the token BIN must be 6 digits")]
    BadBin,
    #[error("key batch size must be 1 to 1000, and the low-water mark below it")]
    BadBatch,
    #[error("amounts must not be negative")]
    NegativeAmount,
}

impl Cli {
    pub fn into_config(self) -> Result<Config, ConfigError> {
        if !self.listen.ip().is_loopback() && !self.allow_non_loopback {
            return Err(ConfigError::NotLoopback(self.listen));
        }
        let issuer_master_key = match &self.issuer_master_key {
            None => None,
            Some(h) => {
                let mut k = [0u8; 16];
                hex::decode_to_slice(h.trim(), &mut k).map_err(|_| ConfigError::BadMasterKey)?;
                Some(k)
            }
        };
        let storage = match self.database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Storage::Postgres { url }
            }
            Some(_) => return Err(ConfigError::BadDatabaseUrl),
            None => Storage::Sqlite {
                data_dir: self.data_dir,
            },
        };
        let currency = self.currency.to_ascii_uppercase();
        if crate::money::exponent(&currency).is_none() {
            return Err(ConfigError::BadCurrency(self.currency));
        }
        if self.token_bin.len() != 6 || !self.token_bin.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConfigError::BadBin);
        }
        if self.key_batch_size == 0
            || self.key_batch_size > 1000
            || self.key_low_water >= u32::from(self.key_batch_size)
        {
            return Err(ConfigError::BadBatch);
        }
        if self.opening_balance_minor < 0 || self.card_limit_minor < 0 {
            return Err(ConfigError::NegativeAmount);
        }
        Ok(Config {
            listen: self.listen,
            storage,
            issuer_master_key,
            profile: match self.profile {
                ProfileArg::Aes => Profile::Aes,
                ProfileArg::Tdes => Profile::Tdes,
            },
            dki: self.dki,
            currency,
            opening_balance_minor: self.opening_balance_minor,
            card_limit_minor: self.card_limit_minor,
            key_batch_size: self.key_batch_size,
            key_low_water: self.key_low_water,
            token_bin: self.token_bin,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, ConfigError> {
        let mut all = vec!["billfold-server"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).unwrap().into_config()
    }

    #[test]
    fn defaults_and_checks() {
        let c = parse(&[]).unwrap();
        assert!(c.listen.ip().is_loopback());
        assert!(matches!(c.storage, Storage::Sqlite { .. }));
        assert!(matches!(
            parse(&["--database-url", "postgres://u@127.0.0.1:5/db"])
                .unwrap()
                .storage,
            Storage::Postgres { .. }
        ));
        assert_eq!(
            parse(&["--listen", "0.0.0.0:1"]).unwrap_err(),
            ConfigError::NotLoopback("0.0.0.0:1".parse().unwrap())
        );
        assert_eq!(
            parse(&["--issuer-master-key", "00"]).unwrap_err(),
            ConfigError::BadMasterKey
        );
        let c = parse(&["--issuer-master-key", "000102030405060708090a0b0c0d0e0f"]).unwrap();
        assert_eq!(c.issuer_master_key.unwrap()[15], 15);
        assert!(!format!("{c:?}").contains("0e0f"));
        assert_eq!(
            parse(&["--currency", "XXX"]).unwrap_err(),
            ConfigError::BadCurrency("XXX".into())
        );
        assert_eq!(
            parse(&["--database-url", "mysql://x"]).unwrap_err(),
            ConfigError::BadDatabaseUrl
        );
    }
}

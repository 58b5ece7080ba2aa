//! Enrollment: the device's Ed25519 key, registered once with the bank,
//! and the wallet's record of it (`sync_state`). The private key is sealed
//! by the vault like a card number; only the bank's ids and the cursor are
//! stored in the clear.

use billfold_protocol::signing::{self, ENROLL_DEVICE_ID};
use billfold_protocol::{EnrollRequest, EnrollResponse, LinkCode as WireLinkCode, PrincipalKind};
use ring::rand::SystemRandom;
use ring::signature::Ed25519KeyPair;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::money::{Currency, Money};
use crate::sync::client::{check_url, BankClient, Signer};
use crate::vault::FieldRef;
use crate::wallet::Wallet;

const KEY_AT: FieldRef<'static> = FieldRef {
    table: "sync_state",
    column: "device_key",
    row: "1",
};

/// The wallet's enrollment, as the app shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Enrollment {
    pub server_url: String,
    pub device_id: String,
    pub account_id: String,
    pub currency: Currency,
    /// The bank's posted balance at the last sync.
    pub posted_balance: Option<Money>,
    /// The bank's feed position of the last pull applied.
    pub cursor: u64,
    pub last_sync_ms: Option<i64>,
    /// Operations waiting to go to the bank.
    pub pending_operations: u64,
}

/// A one-time code that lets another device join this account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkCode {
    pub code: String,
    pub expires_at_ms: i64,
}

impl Wallet {
    /// Registers this device with the bank at `server_url`: a new account,
    /// or, with `link_code` from an enrolled device, that device's account.
    ///
    /// Not retried once the request may have reached the bank: a second
    /// enrollment would be a second device. After `BankUnavailable`, enroll
    /// again (a fresh key is made; the half-made one is never used).
    pub fn enroll(
        &self,
        server_url: &str,
        device_name: &str,
        link_code: Option<&str>,
    ) -> Result<Enrollment> {
        let keys = self.keys()?;
        if self.enrollment()?.is_some() {
            return Err(Error::AlreadyEnrolled);
        }
        let name = device_name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(Error::InvalidText {
                field: "device name",
                reason: "use 1 to 64 printable characters",
            });
        }
        let cfg = self.sync.config();
        check_url(server_url, &cfg)?;
        let client = BankClient::new(server_url, &cfg)?;
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| Error::KeyStore("no randomness for a device key".into()))?;
        let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
            .map_err(|_| Error::KeyStore("a device key could not be made".into()))?;
        let request = EnrollRequest {
            kind: PrincipalKind::Device,
            public_key: signing::public_key_b64(&key),
            name: name.to_string(),
            link_code: link_code.map(|c| c.trim().to_string()),
        };
        let resp: EnrollResponse =
            client.post(&key, ENROLL_DEVICE_ID, "/v1/enroll", &request, None, false)?;
        let account = resp
            .account
            .ok_or(Error::BankProtocol("the enrollment has no account"))?;
        let currency: Currency = account
            .currency
            .parse()
            .map_err(|_| Error::BankProtocol("the account's currency is unknown"))?;
        let sealed = keys.field().seal(KEY_AT, pkcs8.as_ref())?;
        self.conn().execute(
            "INSERT INTO sync_state (id, server_url, device_id, account_id, currency, device_key_ct, enrolled_ms)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                client.base_url(),
                resp.device_id,
                account.account_id,
                currency.code(),
                sealed,
                self.now_ms()
            ],
        )?;
        self.sync.set_client(client);
        self.enrollment()?.ok_or(Error::NotEnrolled)
    }

    /// The enrollment, or `None` before [`Wallet::enroll`].
    pub fn enrollment(&self) -> Result<Option<Enrollment>> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT server_url, device_id, account_id, currency, cursor, posted_minor, last_sync_ms,
                        (SELECT count(*) FROM outbox)
                 FROM sync_state WHERE id = 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, Option<i64>>(5)?,
                        r.get::<_, Option<i64>>(6)?,
                        r.get::<_, i64>(7)?,
                    ))
                },
            )
            .optional()?;
        let Some((server_url, device_id, account_id, currency, cursor, posted, last, pending)) =
            row
        else {
            return Ok(None);
        };
        let currency: Currency = currency
            .parse()
            .map_err(|_| Error::Corrupt("the enrollment's currency"))?;
        Ok(Some(Enrollment {
            server_url,
            device_id,
            account_id,
            currency,
            posted_balance: posted.map(|m| Money::from_minor(m, currency)),
            cursor: cursor.max(0) as u64,
            last_sync_ms: last,
            pending_operations: pending.max(0) as u64,
        }))
    }

    /// A code for enrolling another device into this account.
    pub fn create_link_code(&self) -> Result<LinkCode> {
        let (client, signer) = self.bank()?;
        let code: WireLinkCode = client.post(
            &signer.key,
            &signer.device_id,
            "/v1/devices/link-codes",
            &(),
            None,
            true,
        )?;
        Ok(LinkCode {
            code: code.code,
            expires_at_ms: code.expires_at_ms,
        })
    }

    /// The client and the device's signer, for an enrolled wallet.
    pub(crate) fn bank(&self) -> Result<(std::sync::Arc<BankClient>, Signer)> {
        let keys = self.keys()?;
        let row: Option<(String, String, Vec<u8>)> = self
            .conn()
            .query_row(
                "SELECT server_url, device_id, device_key_ct FROM sync_state WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let (url, device_id, sealed) = row.ok_or(Error::NotEnrolled)?;
        let pkcs8 = keys.field().open(KEY_AT, &sealed)?;
        let key = Ed25519KeyPair::from_pkcs8(&pkcs8)
            .map_err(|_| Error::Corrupt("the device key is malformed"))?;
        let client = self.sync.client(&url)?;
        Ok((client, Signer { device_id, key }))
    }
}

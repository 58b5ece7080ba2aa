//! The bank as token service: registering a card with the bank issues its
//! payment token and first batch of single-use keys; later batches come
//! with sync (the key-status report) or from [`BankTokenService::replenish`].

use billfold_protocol::{
    CryptoProfile, KeyBatch as WireKeyBatch, KeyRequest, NewCardRequest, ProvisionedCard,
};
use emv::crypto::Profile;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::tokens::{
    KeyBatch, ProvisionRequest, ProvisionedToken, TokenInfo, TokenKeyStatus, TokenService,
    TokenServiceError,
};
use crate::wallet::Wallet;

use super::client::{BankClient, Signer};

/// `TokenService` over the bank's API, for an enrolled wallet.
pub struct BankTokenService {
    client: std::sync::Arc<BankClient>,
    signer: Signer,
    /// Each token's profile: the bank sends raw keys, the profile says
    /// what they are for.
    profiles: std::collections::HashMap<String, Profile>,
    /// The bank's id of the last card provisioned, so the wallet can link
    /// its card to the bank's.
    last_card: std::sync::Mutex<Option<String>>,
}

fn unavailable(e: Error) -> TokenServiceError {
    match e {
        Error::BankRefused { message, .. } => TokenServiceError::Refused(message),
        other => TokenServiceError::Unavailable(other.to_string()),
    }
}

fn profile(p: CryptoProfile) -> Profile {
    match p {
        CryptoProfile::Aes => Profile::Aes,
        CryptoProfile::Tdes => Profile::Tdes,
    }
}

fn keys_from_wire(
    b: &WireKeyBatch,
    p: Profile,
) -> std::result::Result<KeyBatch, TokenServiceError> {
    super::engine::wire_batch(b, p)
        .map_err(|_| TokenServiceError::Unavailable("the bank sent a malformed key batch".into()))
}

impl TokenService for BankTokenService {
    fn provision(
        &self,
        request: &ProvisionRequest,
    ) -> std::result::Result<ProvisionedToken, TokenServiceError> {
        let body = NewCardRequest {
            pan: request.funding_pan.to_string(),
            expiry: request.funding_expiry.clone(),
            nickname: None,
            limit_minor: None,
        };
        // Keyed by the wallet's card id: a retry after a lost answer gets
        // the same card and token back instead of a second one.
        let key = format!("card:{}", request.card_id);
        let p: ProvisionedCard = self
            .client
            .post(
                &self.signer.key,
                &self.signer.device_id,
                "/v1/cards",
                &body,
                Some(&key),
                true,
            )
            .map_err(unavailable)?;
        let prof = profile(p.token.profile);
        *self.last_card.lock().unwrap_or_else(|e| e.into_inner()) = Some(p.card.card_id.clone());
        Ok(ProvisionedToken {
            token_id: p.token.token_id.clone(),
            pan: Zeroizing::new(p.token.pan.clone()),
            psn: p.token.psn,
            expiry: p.token.expiry.clone(),
            profile: prof,
            dki: p.token.dki,
            aid: hex::decode(&p.token.aid).map_err(|_| {
                TokenServiceError::Unavailable("the bank sent a malformed AID".into())
            })?,
            label: p.token.label.clone(),
            keys: keys_from_wire(&p.key_batch, prof)?,
        })
    }

    fn replenish(
        &self,
        status: &TokenKeyStatus,
    ) -> std::result::Result<Option<KeyBatch>, TokenServiceError> {
        let body = KeyRequest {
            remaining: status.remaining,
            provisioned_until: status.provisioned_until,
        };
        let path = format!("/v1/tokens/{}/keys", status.token_id);
        let b: WireKeyBatch = self
            .client
            .post(
                &self.signer.key,
                &self.signer.device_id,
                &path,
                &body,
                None,
                true,
            )
            .map_err(unavailable)?;
        if b.keys.is_empty() {
            return Ok(None);
        }
        let p = self
            .profiles
            .get(&status.token_id)
            .ok_or_else(|| TokenServiceError::Refused("no such token in this wallet".into()))?;
        keys_from_wire(&b, *p).map(Some)
    }
}

impl Wallet {
    /// The bank's token service, for an enrolled wallet.
    pub fn bank_token_service(&self) -> Result<BankTokenService> {
        let (client, signer) = self.bank()?;
        let profiles = self
            .tokens()?
            .into_iter()
            .map(|t| (t.token_id, t.profile))
            .collect();
        Ok(BankTokenService {
            client,
            signer,
            profiles,
            last_card: Default::default(),
        })
    }

    /// Registers a card with the bank: the bank links it to the account and
    /// issues its token with a first batch of keys, which the wallet stores.
    /// Safe to repeat: the bank answers a repeat with the same token.
    pub fn register_card(&self, card_id: &str) -> Result<TokenInfo> {
        let service = self.bank_token_service()?;
        let info = self.provision_token(card_id, &service)?;
        let bank_id = service
            .last_card
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(bank_id) = bank_id {
            self.conn().execute(
                "UPDATE cards SET bank_card_id = ?2 WHERE id = ?1",
                rusqlite::params![card_id, bank_id],
            )?;
        }
        Ok(info)
    }
}

//! The data key and the per-purpose keys HKDF derives from it.

use ring::rand::{SecureRandom, SystemRandom};
use ring::{aead, hkdf, hmac};
use zeroize::Zeroizing;

use super::field::FieldCipher;
use crate::error::{Error, Result};

/// The random 256-bit root of a wallet's key hierarchy. Never stored unwrapped.
pub(super) struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    pub(super) fn generate() -> Result<Self> {
        let mut k = Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(k.as_mut())
            .map_err(|_| Error::KeyStore("the system random generator failed".into()))?;
        Ok(DataKey(k))
    }

    pub(super) fn from_bytes(b: &[u8]) -> Option<Self> {
        let arr: [u8; 32] = b.try_into().ok()?;
        Some(DataKey(Zeroizing::new(arr)))
    }

    pub(super) fn as_bytes(&self) -> &[u8] {
        self.0.as_ref()
    }
}

/// Purposes are part of the HKDF info, so no two purposes ever share a key.
const PURPOSE_FIELD: &[u8] = b"billfold field encryption";
const PURPOSE_FINGERPRINT: &[u8] = b"billfold fingerprint";
const PURPOSE_CHECK: &[u8] = b"billfold key check";

/// The keys of an unlocked wallet.
pub struct Keys {
    field: FieldCipher,
    fingerprint: hmac::Key,
    check: hmac::Key,
}

impl Keys {
    pub(super) fn derive(data_key: &DataKey, version: u32) -> Result<Self> {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"billfold/v1").extract(data_key.as_bytes());
        let expand = |purpose: &[u8]| -> Result<Zeroizing<[u8; 32]>> {
            let v = version.to_be_bytes();
            let info = [purpose, &v[..]];
            let mut out = Zeroizing::new([0u8; 32]);
            prk.expand(&info, hkdf::HKDF_SHA256)
                .and_then(|okm| okm.fill(out.as_mut()))
                .map_err(|_| Error::Corrupt("key derivation failed"))?;
            Ok(out)
        };
        let field_key = aead::UnboundKey::new(&aead::AES_256_GCM, expand(PURPOSE_FIELD)?.as_ref())
            .map_err(|_| Error::Corrupt("key derivation failed"))?;
        Ok(Keys {
            field: FieldCipher::new(aead::LessSafeKey::new(field_key), version),
            fingerprint: hmac::Key::new(hmac::HMAC_SHA256, expand(PURPOSE_FINGERPRINT)?.as_ref()),
            check: hmac::Key::new(hmac::HMAC_SHA256, expand(PURPOSE_CHECK)?.as_ref()),
        })
    }

    pub fn field(&self) -> &FieldCipher {
        &self.field
    }

    /// A keyed fingerprint: equal inputs give equal fingerprints, but without
    /// the key nobody can test a guessed card number against the database.
    pub fn fingerprint(&self, domain: &str, value: &[u8]) -> Vec<u8> {
        let mut ctx = hmac::Context::with_key(&self.fingerprint);
        ctx.update(domain.as_bytes());
        ctx.update(&[0]);
        ctx.update(value);
        ctx.sign().as_ref().to_vec()
    }

    /// A tag stored beside the wrapped key: a key store that hands back the
    /// wrong bytes (another device's) is caught here rather than later as
    /// "tampered" data.
    pub(super) fn key_check(&self) -> Vec<u8> {
        hmac::sign(&self.check, PURPOSE_CHECK).as_ref().to_vec()
    }

    pub(super) fn matches_check(&self, stored: &[u8]) -> bool {
        hmac::verify(&self.check, PURPOSE_CHECK, stored).is_ok()
    }
}

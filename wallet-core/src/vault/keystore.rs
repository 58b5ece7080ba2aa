//! Key stores wrap and unwrap the wallet's data key.
//!
//! On phones the platform supplies one (Android Keystore, iOS Keychain)
//! through the `KeyStore` trait. Here live the passphrase store the CLI and
//! tests use, and a software store that stands in for a device's hardware key.

use argon2::{Algorithm, Argon2, Params, Version};
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::error::Error;

/// Wraps and unwraps the data key. Implementations must be deterministic in
/// one respect: what `wrap_key` produced, `unwrap_key` on the same device
/// and credentials turns back into the same bytes.
pub trait KeyStore: Send + Sync {
    fn wrap_key(&self, data_key: &[u8]) -> Result<Vec<u8>, KeyStoreError>;
    fn unwrap_key(&self, wrapped: &[u8]) -> Result<Vec<u8>, KeyStoreError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyStoreError {
    #[error("the passphrase is wrong")]
    WrongPassphrase,
    /// The blob was wrapped by another store: another device, or another app install.
    #[error("the key was wrapped by another key store")]
    ForeignKey,
    #[error("the stored key-derivation parameters are below the allowed floor")]
    WeakParameters,
    /// The platform could not do it now (user not authenticated, hardware busy…).
    #[error("{0}")]
    Unavailable(String),
}

impl From<KeyStoreError> for Error {
    fn from(e: KeyStoreError) -> Self {
        match e {
            KeyStoreError::WrongPassphrase => Error::WrongPassphrase,
            KeyStoreError::ForeignKey => Error::WrongKeyStore,
            KeyStoreError::WeakParameters => Error::WeakKdfParameters,
            KeyStoreError::Unavailable(why) => Error::KeyStore(why),
        }
    }
}

/// Argon2id cost parameters, stored beside the wrapped key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl KdfParams {
    /// OWASP's minimum for Argon2id (19 MiB, 2 passes, 1 lane). A stored blob
    /// asking for less is refused, so a tampered file cannot cheapen guessing.
    pub const FLOOR: KdfParams = KdfParams {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    pub const DEFAULT: KdfParams = KdfParams {
        memory_kib: 64 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    pub fn meets_floor(&self) -> bool {
        self.memory_kib >= Self::FLOOR.memory_kib
            && self.iterations >= Self::FLOOR.iterations
            && self.parallelism >= Self::FLOOR.parallelism
            // Ceilings keep a hostile file from making us allocate gigabytes.
            && self.memory_kib <= 4 * 1024 * 1024
            && self.iterations <= 64
            && self.parallelism <= 16
    }
}

const PASSPHRASE_MAGIC: &[u8; 4] = b"BFPK";
const SALT_LEN: usize = 16;
const PASSPHRASE_HEADER: usize = 4 + 1 + 12 + SALT_LEN;

/// Wraps the data key under a key derived from a passphrase with Argon2id.
/// The blob carries a random salt and the cost parameters.
pub struct PassphraseKeyStore {
    passphrase: Zeroizing<String>,
    params: KdfParams,
}

impl PassphraseKeyStore {
    pub fn new(passphrase: impl Into<String>) -> Result<Self, Error> {
        Self::with_params(passphrase, KdfParams::DEFAULT)
    }

    pub fn with_params(passphrase: impl Into<String>, params: KdfParams) -> Result<Self, Error> {
        let passphrase = Zeroizing::new(passphrase.into());
        if passphrase.chars().count() < 8 {
            return Err(Error::InvalidText {
                field: "passphrase",
                reason: "use at least 8 characters",
            });
        }
        if !params.meets_floor() {
            return Err(Error::WeakKdfParameters);
        }
        Ok(PassphraseKeyStore { passphrase, params })
    }

    fn kek(&self, salt: &[u8], p: KdfParams) -> Result<LessSafeKey, KeyStoreError> {
        let params = Params::new(p.memory_kib, p.iterations, p.parallelism, Some(32))
            .map_err(|_| KeyStoreError::WeakParameters)?;
        let mut out = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(self.passphrase.as_bytes(), salt, out.as_mut())
            .map_err(|_| KeyStoreError::Unavailable("key derivation failed".into()))?;
        aes_key(out.as_ref())
    }
}

impl KeyStore for PassphraseKeyStore {
    fn wrap_key(&self, data_key: &[u8]) -> Result<Vec<u8>, KeyStoreError> {
        let mut salt = [0u8; SALT_LEN];
        random(&mut salt)?;
        let p = self.params;
        let mut header = Vec::with_capacity(PASSPHRASE_HEADER);
        header.extend_from_slice(PASSPHRASE_MAGIC);
        header.push(1);
        for v in [p.memory_kib, p.iterations, p.parallelism] {
            header.extend_from_slice(&v.to_be_bytes());
        }
        header.extend_from_slice(&salt);
        let kek = self.kek(&salt, p)?;
        seal(&kek, header, data_key)
    }

    fn unwrap_key(&self, wrapped: &[u8]) -> Result<Vec<u8>, KeyStoreError> {
        if wrapped.len() < PASSPHRASE_HEADER || &wrapped[..4] != PASSPHRASE_MAGIC || wrapped[4] != 1
        {
            return Err(KeyStoreError::ForeignKey);
        }
        let u32_at = |i: usize| {
            u32::from_be_bytes([wrapped[i], wrapped[i + 1], wrapped[i + 2], wrapped[i + 3]])
        };
        let params = KdfParams {
            memory_kib: u32_at(5),
            iterations: u32_at(9),
            parallelism: u32_at(13),
        };
        if !params.meets_floor() {
            return Err(KeyStoreError::WeakParameters);
        }
        let kek = self.kek(&wrapped[17..PASSPHRASE_HEADER], params)?;
        open(&kek, wrapped, PASSPHRASE_HEADER).ok_or(KeyStoreError::WrongPassphrase)
    }
}

const DEVICE_MAGIC: &[u8; 4] = b"BFDK";

/// Wraps the data key with a 256-bit key held in memory: a stand-in for a
/// device's hardware-backed key, for tests, development and servers.
pub struct SoftwareKeyStore {
    key: LessSafeKey,
}

impl SoftwareKeyStore {
    pub fn new(device_key: &[u8; 32]) -> Self {
        SoftwareKeyStore {
            // 32 bytes is always a valid AES-256 key.
            key: aes_key(device_key).unwrap_or_else(|_| unreachable!()),
        }
    }

    /// A fresh random device key, as a new phone would have.
    pub fn generate() -> Result<Self, Error> {
        let mut k = Zeroizing::new([0u8; 32]);
        random(k.as_mut())?;
        Ok(Self::new(&k))
    }
}

impl KeyStore for SoftwareKeyStore {
    fn wrap_key(&self, data_key: &[u8]) -> Result<Vec<u8>, KeyStoreError> {
        seal(&self.key, DEVICE_MAGIC.to_vec(), data_key)
    }

    fn unwrap_key(&self, wrapped: &[u8]) -> Result<Vec<u8>, KeyStoreError> {
        if wrapped.len() < 4 || &wrapped[..4] != DEVICE_MAGIC {
            return Err(KeyStoreError::ForeignKey);
        }
        open(&self.key, wrapped, 4).ok_or(KeyStoreError::ForeignKey)
    }
}

fn aes_key(bytes: &[u8]) -> Result<LessSafeKey, KeyStoreError> {
    UnboundKey::new(&aead::AES_256_GCM, bytes)
        .map(LessSafeKey::new)
        .map_err(|_| KeyStoreError::Unavailable("bad key length".into()))
}

fn random(buf: &mut [u8]) -> Result<(), KeyStoreError> {
    SystemRandom::new()
        .fill(buf)
        .map_err(|_| KeyStoreError::Unavailable("the system random generator failed".into()))
}

/// header ‖ nonce ‖ ciphertext‖tag, with the header as associated data so
/// the parameters cannot be edited without detection.
fn seal(key: &LessSafeKey, header: Vec<u8>, plaintext: &[u8]) -> Result<Vec<u8>, KeyStoreError> {
    let mut nonce = [0u8; NONCE_LEN];
    random(&mut nonce)?;
    let mut body = plaintext.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(&header),
        &mut body,
    )
    .map_err(|_| KeyStoreError::Unavailable("wrapping failed".into()))?;
    let mut out = header;
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    Ok(out)
}

fn open(key: &LessSafeKey, blob: &[u8], header_len: usize) -> Option<Vec<u8>> {
    let (header, rest) = blob.split_at(header_len);
    if rest.len() < NONCE_LEN {
        return None;
    }
    let (nonce, body) = rest.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut body = body.to_vec();
    let len = key
        .open_in_place(nonce, Aad::from(header), &mut body)
        .ok()?
        .len();
    body.truncate(len);
    Some(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passphrase_round_trip_and_wrong_passphrase() {
        let store = PassphraseKeyStore::with_params("correct horse", KdfParams::FLOOR).unwrap();
        let wrapped = store.wrap_key(&[7u8; 32]).unwrap();
        assert_eq!(store.unwrap_key(&wrapped).unwrap(), vec![7u8; 32]);
        let other = PassphraseKeyStore::with_params("battery staple", KdfParams::FLOOR).unwrap();
        assert_eq!(
            other.unwrap_key(&wrapped),
            Err(KeyStoreError::WrongPassphrase)
        );
    }

    #[test]
    fn weakened_parameters_are_refused_before_any_derivation() {
        let store = PassphraseKeyStore::with_params("correct horse", KdfParams::FLOOR).unwrap();
        let mut wrapped = store.wrap_key(&[7u8; 32]).unwrap();
        wrapped[5..9].copy_from_slice(&1024u32.to_be_bytes());
        assert_eq!(
            store.unwrap_key(&wrapped),
            Err(KeyStoreError::WeakParameters)
        );
        let weak = KdfParams {
            iterations: 1,
            ..KdfParams::FLOOR
        };
        assert!(PassphraseKeyStore::with_params("correct horse", weak).is_err());
    }

    #[test]
    fn a_header_edit_that_keeps_the_floor_still_fails() {
        let store = PassphraseKeyStore::with_params("correct horse", KdfParams::FLOOR).unwrap();
        let mut wrapped = store.wrap_key(&[7u8; 32]).unwrap();
        wrapped[9..13].copy_from_slice(&3u32.to_be_bytes());
        assert!(store.unwrap_key(&wrapped).is_err());
    }

    #[test]
    fn device_stores_do_not_open_each_others_keys() {
        let a = SoftwareKeyStore::generate().unwrap();
        let b = SoftwareKeyStore::generate().unwrap();
        let wrapped = a.wrap_key(&[1u8; 32]).unwrap();
        assert_eq!(a.unwrap_key(&wrapped).unwrap(), vec![1u8; 32]);
        assert_eq!(b.unwrap_key(&wrapped), Err(KeyStoreError::ForeignKey));
        let pass = PassphraseKeyStore::with_params("correct horse", KdfParams::FLOOR).unwrap();
        assert_eq!(pass.unwrap_key(&wrapped), Err(KeyStoreError::ForeignKey));
    }
}

//! The platform key store as a foreign-implemented trait.
//!
//! Android implements `KeyStore` with the Android Keystore (an AES-GCM key
//! that never leaves the TEE or StrongBox), iOS with the Keychain / Secure
//! Enclave. The core only ever hands it the 256-bit data key to wrap, and
//! the wrapped blob to unwrap.
//!
//! A foreign implementation can fail in two ways: by throwing a
//! `KeyStoreError` (mapped to the matching core error), or by throwing
//! anything else, which uniffi reports as `UnexpectedUniFFICallbackError`.
//! The latter's text is the foreign stack trace, which may mention anything,
//! so it is replaced by a fixed sentence: the caller gets a clean
//! `WalletError::KeyStore`, never a crash and never a leaked message.

use std::sync::Arc;

use wallet_core::KeyStoreError as CoreKeyStoreError;

/// Wraps and unwraps the wallet's data key with a key only this device
/// (and this app install) holds.
///
/// `unwrap_key(wrap_key(k))` must give back `k` on the same device. Throw
/// `KeyStoreError.ForeignKey` when a blob was not wrapped by this store's
/// key (another device, a reinstall, an invalidated key), and
/// `KeyStoreError.Unavailable` when the platform cannot do it right now
/// (user not authenticated, hardware busy). Never put key material in a
/// `reason`.
#[uniffi::export(with_foreign)]
pub trait KeyStore: Send + Sync {
    /// Encrypts the 32-byte data key; the result is stored in the wallet.
    fn wrap_key(&self, data_key: Vec<u8>) -> Result<Vec<u8>, KeyStoreError>;
    /// Decrypts what `wrap_key` returned.
    fn unwrap_key(&self, wrapped: Vec<u8>) -> Result<Vec<u8>, KeyStoreError>;
}

/// How a key store says it failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum KeyStoreError {
    /// The blob was wrapped by another key: another device, another app
    /// install, or a platform key that has since been invalidated.
    #[error("the key was wrapped by another key store")]
    ForeignKey,
    /// A passphrase- or PIN-based store was given the wrong secret.
    #[error("the passphrase is wrong")]
    WrongPassphrase,
    /// The platform could not do it now; `reason` says why, for the user.
    #[error("{reason}")]
    Unavailable { reason: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for KeyStoreError {
    fn from(_: uniffi::UnexpectedUniFFICallbackError) -> Self {
        // The foreign exception's text is deliberately dropped: see the
        // module comment.
        KeyStoreError::Unavailable {
            reason: "the device key store failed unexpectedly".into(),
        }
    }
}

impl From<KeyStoreError> for CoreKeyStoreError {
    fn from(e: KeyStoreError) -> Self {
        match e {
            KeyStoreError::ForeignKey => CoreKeyStoreError::ForeignKey,
            KeyStoreError::WrongPassphrase => CoreKeyStoreError::WrongPassphrase,
            KeyStoreError::Unavailable { reason } => CoreKeyStoreError::Unavailable(reason),
        }
    }
}

/// Lets the core use a foreign key store through its own trait.
pub(crate) struct Platform(pub(crate) Arc<dyn KeyStore>);

impl wallet_core::KeyStore for Platform {
    fn wrap_key(&self, data_key: &[u8]) -> Result<Vec<u8>, CoreKeyStoreError> {
        let wrapped = self.0.wrap_key(data_key.to_vec())?;
        // An empty blob could never be unwrapped: refusing it here keeps a
        // misbehaving store from creating a wallet that can't be opened.
        if wrapped.is_empty() {
            return Err(CoreKeyStoreError::Unavailable(
                "the device key store returned no wrapped key".into(),
            ));
        }
        Ok(wrapped)
    }

    fn unwrap_key(&self, wrapped: &[u8]) -> Result<Vec<u8>, CoreKeyStoreError> {
        // A wrong-length result is caught by the core as WrongKeyStore.
        Ok(self.0.unwrap_key(wrapped.to_vec())?)
    }
}

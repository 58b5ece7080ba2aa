//! Key types for the three levels of the EMV hierarchy. Each holds 16
//! bytes plus its profile, wipes itself on drop, and never shows its bytes
//! in Debug output.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{CryptoError, Profile};

macro_rules! key_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Zeroize, ZeroizeOnDrop)]
        pub struct $name {
            #[zeroize(skip)]
            profile: Profile,
            bytes: [u8; 16],
        }

        impl $name {
            /// Wraps 16 key bytes for `profile`.
            pub fn new(profile: Profile, bytes: [u8; 16]) -> Self {
                Self { profile, bytes }
            }

            /// Wraps a 16-byte slice for `profile`.
            pub fn from_slice(profile: Profile, bytes: &[u8]) -> Result<Self, CryptoError> {
                let bytes: [u8; 16] = bytes.try_into().map_err(|_| CryptoError::KeyLength)?;
                Ok(Self::new(profile, bytes))
            }

            /// The profile this key belongs to.
            pub fn profile(&self) -> Profile {
                self.profile
            }

            /// The raw key bytes, for storage under encryption or transfer
            /// over an authenticated channel. Never log them.
            pub fn expose_bytes(&self) -> &[u8; 16] {
                &self.bytes
            }

            /// Key check value: the first 3 bytes of the key encrypting
            /// zeros (3DES) or of its CMAC over nothing (AES), the usual
            /// way to compare keys without showing them.
            pub fn check_value(&self) -> [u8; 3] {
                let full: [u8; 16] = match self.profile {
                    Profile::Tdes => {
                        let mut b = [0u8; 16];
                        b[..8].copy_from_slice(&super::tdes::tdes_encrypt_block(&self.bytes, [0; 8]));
                        b
                    }
                    Profile::Aes => super::aes::aes_cmac(&self.bytes, &[]),
                };
                [full[0], full[1], full[2]]
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:?}, <redacted>)"), self.profile)
            }
        }
    };
}

key_type!(
    /// An issuer master key for application cryptograms (IMK-AC).
    IssuerMasterKey
);
key_type!(
    /// A card's (token's) master key, derived from the issuer master key,
    /// PAN and PSN. Held by the issuer only: the phone gets session keys.
    CardMasterKey
);
key_type!(
    /// A single-use session key for one ATC.
    SessionKey
);

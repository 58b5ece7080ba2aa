//! Cryptograms for the contactless card and its issuer: key derivation
//! (EMV Book 2 Annex A1.3/A1.4), the application cryptogram (ARQC/AAC),
//! the authorisation response cryptogram (ARPC) and the Issuer Application
//! Data layout that tells the issuer how a cryptogram was made.
//!
//! Two profiles are supported, chosen per token:
//!
//! | | [`Profile::Tdes`] | [`Profile::Aes`] |
//! |---|---|---|
//! | ICC master key | Option A (A1.4.1), 2-key 3DES, odd parity | Option C (A1.4.3), AES-128 |
//! | session key | common derivation, `R = ATC ‖ 00×6` | `AES(MK)[ATC ‖ 00×14]` |
//! | MAC | ISO 9797-1 alg. 3, padding method 2 | AES-CMAC (ISO 9797-1 alg. 5), 8 bytes |
//! | ARPC method 1 | `3DES(SK)[ARQC ⊕ (ARC ‖ 00×6)]` | leftmost 8 of `AES(SK)[(ARQC ⊕ (ARC ‖ 00×6)) ‖ 00×8]` |
//!
//! The ARQC covers `CDOL1 data ‖ AIP ‖ ATC ‖ IAD`: the terminal data the
//! card was asked to sign (amount, currency, country, TVR, date, type, UN,
//! MCC and merchant name in this card's CDOL1), the card's AIP and ATC, and
//! the whole Issuer Application Data (which carries the CVR), so nothing
//! the issuer relies on can be altered in transit.

mod aes;
mod cryptogram;
mod derive;
mod iad;
mod keys;
mod tdes;

pub use cryptogram::{
    application_cryptogram, arpc_method1, arqc_input, constant_time_eq, CryptogramData,
};
pub use derive::{derive_icc_master_key, derive_session_key};
pub use iad::{CryptogramKind, Iad, IAD_LEN};
pub use keys::{CardMasterKey, IssuerMasterKey, SessionKey};

/// Low-level primitives, exposed for known-answer tests and for tools that
/// need exactly these constructions.
pub mod primitives {
    pub use super::aes::{aes128_encrypt_block, aes_cmac};
    pub use super::tdes::{adjust_parity, mac_iso9797_alg3, pad_method2, tdes_encrypt_block};
}

/// The cryptographic profile of a token: which block cipher and which
/// constructions its keys and cryptograms use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// Double-length 3DES keys (Cryptogram Version '5').
    Tdes,
    /// AES-128 keys (Cryptogram Version '6').
    Aes,
}

impl Profile {
    /// The Common Core Identifier byte of the IAD: format 'A' in the high
    /// nibble, cryptogram version in the low nibble.
    pub fn cci(self) -> u8 {
        match self {
            Profile::Tdes => 0xA5,
            Profile::Aes => 0xA6,
        }
    }

    /// The profile a Common Core Identifier byte names.
    pub fn from_cci(cci: u8) -> Option<Self> {
        match cci {
            0xA5 => Some(Profile::Tdes),
            0xA6 => Some(Profile::Aes),
            _ => None,
        }
    }
}

/// Why a cryptographic input is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("key must be 16 bytes")]
    KeyLength,
    #[error("PAN must be 1 to 19 decimal digits")]
    BadPan,
    #[error("PAN sequence number must be 0 to 99")]
    BadPsn,
}

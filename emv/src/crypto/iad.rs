//! Issuer Application Data (tag 9F10): what the card tells its issuer
//! about a cryptogram. The layout follows the EMV Common Core Definitions
//! format 'A' (32 bytes):
//!
//! | bytes | content |
//! |---|---|
//! | 0 | `0F`: length of the CCD part that follows |
//! | 1 | Common Core Identifier: `A5` (3DES) or `A6` (AES) |
//! | 2 | Derivation Key Index: which issuer master key |
//! | 3..8 | Card Verification Results (byte 3: AC type returned) |
//! | 8..16 | counters, unused here (zeros) |
//! | 16 | `0F`: length of the issuer-discretionary part |
//! | 17 | Billfold decline code (0 when the card approved online) |
//! | 18..32 | zeros |

use super::Profile;

/// Length of the Issuer Application Data.
pub const IAD_LEN: usize = 32;

/// The cryptogram type, as in the Cryptogram Information Data (9F27).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CryptogramKind {
    /// Application Authentication Cryptogram: declined.
    Aac,
    /// Transaction Certificate: approved offline (never produced here).
    Tc,
    /// Authorisation Request Cryptogram: go online.
    Arqc,
}

impl CryptogramKind {
    /// The CID byte (9F27).
    pub fn cid(self) -> u8 {
        match self {
            CryptogramKind::Aac => 0x00,
            CryptogramKind::Tc => 0x40,
            CryptogramKind::Arqc => 0x80,
        }
    }

    /// The kind a CID byte names (bits 8–7).
    pub fn from_cid(cid: u8) -> Option<Self> {
        match cid & 0xC0 {
            0x00 => Some(CryptogramKind::Aac),
            0x40 => Some(CryptogramKind::Tc),
            0x80 => Some(CryptogramKind::Arqc),
            _ => None,
        }
    }

    /// CVR byte 1: second GENERATE AC not requested (b8–7 = 10) and the
    /// type returned in the first (b6–5).
    fn cvr_byte1(self) -> u8 {
        0x80 | match self {
            CryptogramKind::Aac => 0x00,
            CryptogramKind::Tc => 0x10,
            CryptogramKind::Arqc => 0x20,
        }
    }
}

/// The decoded Issuer Application Data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Iad {
    pub profile: Profile,
    /// Derivation Key Index: which issuer master key the card's key came from.
    pub dki: u8,
    pub kind: CryptogramKind,
    /// Why the card declined, when it did (see `card::Decline::code`).
    pub decline_code: u8,
}

impl Iad {
    /// The 32-byte encoding.
    pub fn encode(&self) -> [u8; IAD_LEN] {
        let mut out = [0u8; IAD_LEN];
        out[0] = 0x0F;
        out[1] = self.profile.cci();
        out[2] = self.dki;
        out[3] = self.kind.cvr_byte1();
        out[16] = 0x0F;
        out[17] = self.decline_code;
        out
    }

    /// Decodes an IAD this crate produced; `None` for anything else.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != IAD_LEN || bytes[0] != 0x0F || bytes[16] != 0x0F {
            return None;
        }
        let kind = match bytes[3] & 0x30 {
            0x00 => CryptogramKind::Aac,
            0x10 => CryptogramKind::Tc,
            0x20 => CryptogramKind::Arqc,
            _ => return None,
        };
        Some(Iad {
            profile: Profile::from_cci(bytes[1])?,
            dki: bytes[2],
            kind,
            decline_code: bytes[17],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for profile in [Profile::Tdes, Profile::Aes] {
            for kind in [
                CryptogramKind::Aac,
                CryptogramKind::Tc,
                CryptogramKind::Arqc,
            ] {
                let iad = Iad {
                    profile,
                    dki: 7,
                    kind,
                    decline_code: 3,
                };
                assert_eq!(Iad::parse(&iad.encode()), Some(iad));
                assert_eq!(CryptogramKind::from_cid(kind.cid()), Some(kind));
            }
        }
        assert_eq!(Iad::parse(&[0; 32]), None);
        assert_eq!(Iad::parse(&[0x0F; 5]), None);
    }
}

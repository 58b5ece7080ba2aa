//! Key derivation (EMV Book 2 Annex A1.3 and A1.4): issuer master key →
//! card master key (PAN and PSN), card master key → session key (ATC).

use zeroize::Zeroizing;

use super::aes::aes128_encrypt_block;
use super::keys::{CardMasterKey, IssuerMasterKey, SessionKey};
use super::tdes::{adjust_parity, tdes_encrypt_block};
use super::{CryptoError, Profile};
use crate::bcd::is_digits;

/// Derives a card's master key from the issuer master key.
///
/// 3DES: Option A (A1.4.1). `Y` is the rightmost 16 digits of `PAN ‖ PSN`
/// (zero-padded on the left), `MK = 3DES(IMK)[Y] ‖ 3DES(IMK)[Y ⊕ FF×8]`
/// with odd parity.
///
/// AES: Option C (A1.4.3), AES-128. `Y` is `PAN ‖ PSN` zero-padded on the
/// left to 32 digits, `MK = AES(IMK)[Y]`.
///
/// `pan` is the decimal PAN without padding; `psn` the PAN sequence
/// number, 0 to 99 (use 0 when the card has none).
pub fn derive_icc_master_key(
    imk: &IssuerMasterKey,
    pan: &str,
    psn: u8,
) -> Result<CardMasterKey, CryptoError> {
    if !is_digits(pan) || pan.len() > 19 {
        return Err(CryptoError::BadPan);
    }
    if psn > 99 {
        return Err(CryptoError::BadPsn);
    }
    let x = Zeroizing::new(format!("{pan}{psn:02}"));
    let key = imk.expose_bytes();
    let mut mk = Zeroizing::new([0u8; 16]);
    match imk.profile() {
        Profile::Tdes => {
            let y = packed_digits::<8>(&x[x.len().saturating_sub(16)..]);
            let y_inv = y.map(|b| b ^ 0xFF);
            mk[..8].copy_from_slice(&tdes_encrypt_block(key, y));
            mk[8..].copy_from_slice(&tdes_encrypt_block(key, y_inv));
            adjust_parity(&mut mk[..]);
        }
        Profile::Aes => {
            let y = packed_digits::<16>(&x);
            *mk = aes128_encrypt_block(key, y);
        }
    }
    Ok(CardMasterKey::new(imk.profile(), *mk))
}

/// Derives the session key for one ATC (A1.3.1, common session key
/// derivation, with `R = ATC ‖ 00…`).
///
/// 3DES: `SK = 3DES(MK)[ATC ‖ F0 ‖ 00×5] ‖ 3DES(MK)[ATC ‖ 0F ‖ 00×5]`,
/// odd parity. AES: `SK = AES(MK)[ATC ‖ 00×14]`.
pub fn derive_session_key(mk: &CardMasterKey, atc: u16) -> SessionKey {
    let key = mk.expose_bytes();
    let [hi, lo] = atc.to_be_bytes();
    let mut sk = Zeroizing::new([0u8; 16]);
    match mk.profile() {
        Profile::Tdes => {
            sk[..8].copy_from_slice(&tdes_encrypt_block(key, [hi, lo, 0xF0, 0, 0, 0, 0, 0]));
            sk[8..].copy_from_slice(&tdes_encrypt_block(key, [hi, lo, 0x0F, 0, 0, 0, 0, 0]));
            adjust_parity(&mut sk[..]);
        }
        Profile::Aes => {
            let mut r = [0u8; 16];
            r[0] = hi;
            r[1] = lo;
            *sk = aes128_encrypt_block(key, r);
        }
    }
    SessionKey::new(mk.profile(), *sk)
}

/// Packs decimal digits (at most `N * 2`) into `N` bytes of BCD,
/// right-justified with leading zeros.
fn packed_digits<const N: usize>(digits: &str) -> [u8; N] {
    let mut out = [0u8; N];
    let nibbles = digits.bytes().rev().map(|b| b - b'0');
    for (i, n) in nibbles.take(N * 2).enumerate() {
        let byte = N - 1 - i / 2;
        out[byte] |= if i.is_multiple_of(2) { n } else { n << 4 };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_digits() {
        assert_eq!(
            packed_digits::<8>("5678123456789101"),
            [0x56, 0x78, 0x12, 0x34, 0x56, 0x78, 0x91, 0x01]
        );
        assert_eq!(packed_digits::<4>("12345"), [0x00, 0x01, 0x23, 0x45]);
    }

    #[test]
    fn rejects_bad_inputs() {
        let imk = IssuerMasterKey::new(Profile::Tdes, [0x11; 16]);
        assert_eq!(
            derive_icc_master_key(&imk, "", 0).unwrap_err(),
            CryptoError::BadPan
        );
        assert_eq!(
            derive_icc_master_key(&imk, "12a4", 0).unwrap_err(),
            CryptoError::BadPan
        );
        assert_eq!(
            derive_icc_master_key(&imk, &"1".repeat(20), 0).unwrap_err(),
            CryptoError::BadPan
        );
        assert_eq!(
            derive_icc_master_key(&imk, "4111", 100).unwrap_err(),
            CryptoError::BadPsn
        );
    }
}

//! Application cryptograms (ARQC, AAC) and the ARPC, for both profiles.

use zeroize::Zeroizing;

use super::aes::{aes128_encrypt_block, aes_cmac};
use super::keys::SessionKey;
use super::tdes::{mac_iso9797_alg3, tdes_encrypt_block};
use super::Profile;

/// The data an ARQC covers: `CDOL1 data ‖ AIP ‖ ATC ‖ IAD`.
pub fn arqc_input(cdol1_data: &[u8], aip: [u8; 2], atc: u16, iad: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(cdol1_data.len() + 4 + iad.len());
    out.extend_from_slice(cdol1_data);
    out.extend_from_slice(&aip);
    out.extend_from_slice(&atc.to_be_bytes());
    out.extend_from_slice(iad);
    out
}

/// An 8-byte application cryptogram over `data`: MAC algorithm 3 with
/// padding method 2 (3DES), or the leftmost 8 bytes of AES-CMAC (AES).
pub fn application_cryptogram(sk: &SessionKey, data: &[u8]) -> [u8; 8] {
    match sk.profile() {
        Profile::Tdes => mac_iso9797_alg3(sk.expose_bytes(), data),
        Profile::Aes => {
            let full = Zeroizing::new(aes_cmac(sk.expose_bytes(), data));
            let mut ac = [0u8; 8];
            ac.copy_from_slice(&full[..8]);
            ac
        }
    }
}

/// ARPC method 1 (Book 2 §8.2.1) from the ARQC and the 2-byte
/// Authorisation Response Code.
pub fn arpc_method1(sk: &SessionKey, arqc: &[u8; 8], arc: [u8; 2]) -> [u8; 8] {
    let mut y = *arqc;
    y[0] ^= arc[0];
    y[1] ^= arc[1];
    match sk.profile() {
        Profile::Tdes => tdes_encrypt_block(sk.expose_bytes(), y),
        Profile::Aes => {
            let mut block = [0u8; 16];
            block[..8].copy_from_slice(&y);
            let full = aes128_encrypt_block(sk.expose_bytes(), block);
            let mut arpc = [0u8; 8];
            arpc.copy_from_slice(&full[..8]);
            arpc
        }
    }
}

/// Compares two byte strings in time that depends only on their lengths,
/// so a verifier does not leak how much of a cryptogram matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Everything a cryptogram was computed over, as the card returned it and
/// the terminal forwards it to the issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CryptogramData {
    pub kind: super::CryptogramKind,
    /// Application Transaction Counter (9F36).
    pub atc: u16,
    /// Application Interchange Profile (82).
    pub aip: [u8; 2],
    /// The CDOL1 data the terminal sent in GENERATE AC.
    pub cdol1_data: Vec<u8>,
    /// Issuer Application Data (9F10).
    pub iad: Vec<u8>,
    /// The application cryptogram (9F26).
    pub ac: [u8; 8],
}

impl CryptogramData {
    /// The bytes the cryptogram covers (see [`arqc_input`]).
    pub fn input(&self) -> Vec<u8> {
        arqc_input(&self.cdol1_data, self.aip, self.atc, &self.iad)
    }
}

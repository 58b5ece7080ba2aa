//! Field encryption: AES-256-GCM with associated data binding where a value lives.
//!
//! The associated data names the table, column, row id and key version, so a
//! ciphertext copied to another row or column, or a flipped bit, fails to
//! open instead of decrypting to someone else's data.

use ring::aead::{self, Aad, LessSafeKey, Nonce, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The blob layout's version byte: format ‖ key version (u32 BE) ‖ nonce ‖ ciphertext‖tag.
const FORMAT: u8 = 1;
const HEADER_LEN: usize = 1 + 4 + NONCE_LEN;

/// Where an encrypted value lives.
#[derive(Debug, Clone, Copy)]
pub struct FieldRef<'a> {
    pub table: &'static str,
    pub column: &'static str,
    pub row: &'a str,
}

impl FieldRef<'_> {
    fn aad(&self, version: u32) -> Vec<u8> {
        let mut a = Vec::with_capacity(64);
        for part in [
            "billfold.field.v1".as_bytes(),
            self.table.as_bytes(),
            self.column.as_bytes(),
            self.row.as_bytes(),
        ] {
            // Length-prefixed so ("ab","c") and ("a","bc") differ.
            a.extend_from_slice(&(part.len() as u32).to_be_bytes());
            a.extend_from_slice(part);
        }
        a.extend_from_slice(&version.to_be_bytes());
        a
    }
}

pub struct FieldCipher {
    key: LessSafeKey,
    version: u32,
    rng: SystemRandom,
}

impl FieldCipher {
    pub(super) fn new(key: LessSafeKey, version: u32) -> Self {
        FieldCipher {
            key,
            version,
            rng: SystemRandom::new(),
        }
    }

    pub fn seal(&self, at: FieldRef<'_>, plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| Error::KeyStore("the system random generator failed".into()))?;
        let mut out =
            Vec::with_capacity(HEADER_LEN + plaintext.len() + aead::AES_256_GCM.tag_len());
        out.push(FORMAT);
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&nonce);
        let mut body = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(at.aad(self.version)),
                &mut body,
            )
            .map_err(|_| Error::Corrupt("encryption failed"))?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    pub fn open(&self, at: FieldRef<'_>, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let tampered = Error::Tampered {
            table: at.table,
            column: at.column,
        };
        if blob.len() < HEADER_LEN + aead::AES_256_GCM.tag_len() || blob[0] != FORMAT {
            return Err(tampered);
        }
        let version = u32::from_be_bytes([blob[1], blob[2], blob[3], blob[4]]);
        if version != self.version {
            return Err(tampered);
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&blob[5..HEADER_LEN]);
        let mut body = Zeroizing::new(blob[HEADER_LEN..].to_vec());
        let len = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(at.aad(version)),
                &mut body,
            )
            .map_err(|_| tampered)?
            .len();
        body.truncate(len);
        Ok(body)
    }

    pub fn open_string(&self, at: FieldRef<'_>, blob: &[u8]) -> Result<Zeroizing<String>> {
        let bytes = self.open(at, blob)?;
        String::from_utf8(bytes.to_vec())
            .map(Zeroizing::new)
            .map_err(|_| Error::Corrupt("a decrypted field is not text"))
    }
}

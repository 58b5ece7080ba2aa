//! AES building blocks for the [`Profile::Aes`](super::Profile) profile:
//! single AES-128 blocks and AES-CMAC (NIST SP 800-38B, ISO 9797-1 MAC
//! algorithm 5).

use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockEncrypt, KeyInit};
use aes::Aes128;
use cmac::{Cmac, Mac};

/// Encrypts one block with AES-128.
pub fn aes128_encrypt_block(key: &[u8; 16], block: [u8; 16]) -> [u8; 16] {
    let cipher = Aes128::new(GenericArray::from_slice(key));
    let mut b = GenericArray::from(block);
    cipher.encrypt_block(&mut b);
    b.into()
}

/// The full 16-byte AES-128 CMAC of `data`.
pub fn aes_cmac(key: &[u8; 16], data: &[u8]) -> [u8; 16] {
    let mut mac = <Cmac<Aes128> as KeyInit>::new(GenericArray::from_slice(key));
    mac.update(data);
    mac.finalize().into_bytes().into()
}

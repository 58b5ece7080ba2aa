//! 3DES building blocks for the [`Profile::Tdes`](super::Profile) profile:
//! two-key 3DES blocks, DES parity, ISO 9797-1 padding method 2 and MAC
//! algorithm 3 (the "retail MAC").

use des::cipher::generic_array::GenericArray;
use des::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use des::{Des, TdesEde2};

/// Encrypts one block with a double-length (K1 ‖ K2) 3DES key.
pub fn tdes_encrypt_block(key: &[u8; 16], block: [u8; 8]) -> [u8; 8] {
    let cipher = TdesEde2::new(GenericArray::from_slice(key));
    let mut b = GenericArray::from(block);
    cipher.encrypt_block(&mut b);
    b.into()
}

/// Sets the low bit of each byte so every byte has odd parity, as DES
/// keys require.
pub fn adjust_parity(key: &mut [u8]) {
    for b in key {
        let high = *b & 0xFE;
        *b = if high.count_ones().is_multiple_of(2) {
            high | 1
        } else {
            high
        };
    }
}

/// ISO 9797-1 padding method 2: append `80`, then zeros to a whole block.
pub fn pad_method2(data: &[u8], block: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + block);
    out.extend_from_slice(data);
    out.push(0x80);
    while !out.len().is_multiple_of(block) {
        out.push(0);
    }
    out
}

/// ISO 9797-1 MAC algorithm 3 with padding method 2: single-DES CBC under
/// K1 over every block, then decrypt with K2 and encrypt with K1.
pub fn mac_iso9797_alg3(key: &[u8; 16], data: &[u8]) -> [u8; 8] {
    let k1 = Des::new(GenericArray::from_slice(&key[..8]));
    let k2 = Des::new(GenericArray::from_slice(&key[8..]));
    let mut chain = GenericArray::from([0u8; 8]);
    for block in pad_method2(data, 8).chunks_exact(8) {
        for (c, d) in chain.iter_mut().zip(block) {
            *c ^= d;
        }
        k1.encrypt_block(&mut chain);
    }
    k2.decrypt_block(&mut chain);
    k1.encrypt_block(&mut chain);
    chain.into()
}

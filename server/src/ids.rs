//! Random identifiers and codes, from ring's system RNG.

use ring::rand::{SecureRandom, SystemRandom};

use crate::error::ApiError;

/// `prefix_` followed by 128 random bits in hex, e.g. `dev_3f0c…`.
pub fn new_id(rng: &SystemRandom, prefix: &str) -> Result<String, ApiError> {
    let mut b = [0u8; 16];
    rng.fill(&mut b)
        .map_err(|_| ApiError::internal("the system RNG failed"))?;
    Ok(format!("{prefix}_{}", hex::encode(b)))
}

/// Random decimal digits.
pub fn digits(rng: &SystemRandom, n: usize) -> Result<String, ApiError> {
    let mut out = String::with_capacity(n);
    let mut b = [0u8; 1];
    while out.len() < n {
        rng.fill(&mut b)
            .map_err(|_| ApiError::internal("the system RNG failed"))?;
        // Rejection sampling keeps the digits uniform.
        if b[0] < 250 {
            out.push(char::from(b'0' + b[0] % 10));
        }
    }
    Ok(out)
}

/// A link code a person can type: 10 characters from an alphabet without
/// look-alikes (no 0/O, 1/I/L).
pub fn link_code(rng: &SystemRandom) -> Result<String, ApiError> {
    const ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let mut out = String::with_capacity(10);
    let mut b = [0u8; 1];
    while out.len() < 10 {
        rng.fill(&mut b)
            .map_err(|_| ApiError::internal("the system RNG failed"))?;
        // 248 = 8 × 31: rejection sampling keeps the characters uniform.
        if b[0] < 248 {
            out.push(char::from(ALPHABET[usize::from(b[0] % 31)]));
        }
    }
    Ok(out)
}

/// The Luhn check digit for `digits`.
pub fn luhn_check_digit(digits: &str) -> u8 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// Whether `pan` is 12 to 19 digits with a valid Luhn check digit.
pub fn luhn_valid(pan: &str) -> bool {
    if !(12..=19).contains(&pan.len()) || !pan.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let (body, check) = pan.split_at(pan.len() - 1);
    luhn_check_digit(body) == check.as_bytes()[0] - b'0'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn() {
        assert!(luhn_valid("4111111111111111"));
        assert!(!luhn_valid("4111111111111112"));
        assert!(luhn_valid("378282246310005"));
        assert!(!luhn_valid("41111111111x1111"));
        assert_eq!(luhn_check_digit("411111111111111"), 1);
    }

    #[test]
    fn codes() {
        let rng = SystemRandom::new();
        assert_eq!(digits(&rng, 9).unwrap().len(), 9);
        let c = link_code(&rng).unwrap();
        assert_eq!(c.len(), 10);
        assert!(new_id(&rng, "dev").unwrap().starts_with("dev_"));
    }
}

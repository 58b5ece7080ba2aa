//! Binary-coded decimal helpers for EMV's `n` (numeric, right-justified,
//! zero-padded) and `cn` (compressed numeric, left-justified, F-padded)
//! formats.

/// Encodes `value` as `n` format in exactly `bytes` bytes, or `None` if it
/// has too many digits.
pub fn encode_n(value: u64, bytes: usize) -> Option<Vec<u8>> {
    let mut out = vec![0u8; bytes];
    let mut v = value;
    for b in out.iter_mut().rev() {
        let lo = (v % 10) as u8;
        v /= 10;
        let hi = (v % 10) as u8;
        v /= 10;
        *b = (hi << 4) | lo;
    }
    (v == 0).then_some(out)
}

/// Decodes an `n` format value; `None` if a nibble is not a decimal digit
/// or the value overflows `u64`.
pub fn decode_n(bytes: &[u8]) -> Option<u64> {
    bytes.iter().try_fold(0u64, |acc, b| {
        let (hi, lo) = (b >> 4, b & 0x0F);
        if hi > 9 || lo > 9 {
            return None;
        }
        acc.checked_mul(100)?.checked_add(u64::from(hi * 10 + lo))
    })
}

/// Encodes a string of decimal digits as `n` format in `bytes` bytes
/// (left-padded with zeros), or `None` if it is not all digits or too long.
pub fn encode_n_digits(digits: &str, bytes: usize) -> Option<Vec<u8>> {
    if !is_digits(digits) || digits.len() > bytes * 2 {
        return None;
    }
    let padded = format!("{:0>width$}", digits, width = bytes * 2);
    hex::decode(padded).ok()
}

/// Encodes decimal digits as `cn`: packed left to right, the last byte
/// padded with `F` when the count is odd.
pub fn encode_cn(digits: &str) -> Option<Vec<u8>> {
    if !is_digits(digits) {
        return None;
    }
    let mut s = digits.to_string();
    if !s.len().is_multiple_of(2) {
        s.push('F');
    }
    hex::decode(s).ok()
}

/// Decodes `cn` to its digits, stopping at the first `F`; `None` if a
/// nibble is neither a digit nor trailing `F` padding.
pub fn decode_cn(bytes: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(bytes.len() * 2);
    let mut padding = false;
    for nibble in bytes.iter().flat_map(|b| [b >> 4, b & 0x0F]) {
        match nibble {
            0..=9 if !padding => out.push(char::from(b'0' + nibble)),
            0x0F => padding = true,
            _ => return None,
        }
    }
    Some(out)
}

/// Whether `s` is non-empty and all ASCII decimal digits.
pub fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric() {
        assert_eq!(
            encode_n(1234, 6).unwrap(),
            hex::decode("000000001234").unwrap()
        );
        assert_eq!(encode_n(999, 1), None);
        assert_eq!(decode_n(&hex::decode("000000001234").unwrap()), Some(1234));
        assert_eq!(decode_n(&[0x1A]), None);
        assert_eq!(decode_n(&[0x99; 11]), None);
        assert_eq!(encode_n_digits("840", 2).unwrap(), vec![0x08, 0x40]);
        assert_eq!(encode_n_digits("12a", 2), None);
    }

    #[test]
    fn compressed_numeric() {
        assert_eq!(encode_cn("4761739001010010").unwrap().len(), 8);
        assert_eq!(encode_cn("123").unwrap(), vec![0x12, 0x3F]);
        assert_eq!(decode_cn(&[0x12, 0x3F]).unwrap(), "123");
        assert_eq!(decode_cn(&[0x1F, 0x3F]), None);
        assert_eq!(decode_cn(&[0x1A]), None);
    }
}

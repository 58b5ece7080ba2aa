//! CRC-16/CCITT-FALSE, the checksum that closes every merchant-presented
//! payload (EMVCo MPM §4.7.3: polynomial 0x1021, initial value 0xFFFF, no
//! reflection, no final XOR).

const POLY: u16 = 0x1021;

/// The CRC of `data`. For a payload this is computed over the UTF-8 bytes of
/// everything up to and including the `6304` header of the CRC object.
pub fn crc16_ccitt_false(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ POLY
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The four uppercase hex digits a payload carries as its CRC value.
pub fn crc_hex(crc: u16) -> String {
    format!("{crc:04X}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_check_value() {
        // The catalogued check value of CRC-16/CCITT-FALSE.
        assert_eq!(crc16_ccitt_false(b"123456789"), 0x29B1);
        assert_eq!(crc16_ccitt_false(b""), 0xFFFF);
        assert_eq!(crc_hex(0x0a1b), "0A1B");
    }
}

//! ISO 7816-4 short APDUs: command parsing and building (cases 1–4),
//! responses with their status words.
//!
//! Only short APDUs are supported: a contactless payment card never needs
//! more than 255 bytes of command data, so an extended-length command is
//! reported as [`ApduError::ExtendedLength`] and answered with `6700`.

use std::fmt;

/// A two-byte status word (SW1 SW2).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusWord(pub u16);

impl StatusWord {
    pub const OK: Self = Self(0x9000);
    pub const WRONG_LENGTH: Self = Self(0x6700);
    pub const SECURITY_STATUS_NOT_SATISFIED: Self = Self(0x6982);
    pub const REFERENCED_DATA_INVALIDATED: Self = Self(0x6984);
    pub const CONDITIONS_NOT_SATISFIED: Self = Self(0x6985);
    pub const WRONG_DATA: Self = Self(0x6A80);
    pub const FUNCTION_NOT_SUPPORTED: Self = Self(0x6A81);
    pub const FILE_NOT_FOUND: Self = Self(0x6A82);
    pub const RECORD_NOT_FOUND: Self = Self(0x6A83);
    pub const INCORRECT_P1P2: Self = Self(0x6A86);
    pub const INS_NOT_SUPPORTED: Self = Self(0x6D00);
    pub const CLA_NOT_SUPPORTED: Self = Self(0x6E00);
    pub const UNKNOWN_ERROR: Self = Self(0x6F00);

    pub fn sw1(self) -> u8 {
        (self.0 >> 8) as u8
    }

    pub fn sw2(self) -> u8 {
        self.0 as u8
    }

    pub fn is_success(self) -> bool {
        self == Self::OK
    }

    /// A short English meaning for transcripts and logs.
    pub fn describe(self) -> &'static str {
        match self.0 {
            0x9000 => "success",
            0x6700 => "wrong length",
            0x6982 => "security status not satisfied",
            0x6984 => "referenced data invalidated",
            0x6985 => "conditions of use not satisfied",
            0x6A80 => "incorrect data",
            0x6A81 => "function not supported",
            0x6A82 => "file or application not found",
            0x6A83 => "record not found",
            0x6A86 => "incorrect P1/P2",
            0x6D00 => "instruction not supported",
            0x6E00 => "class not supported",
            0x6F00 => "no precise diagnosis",
            _ if self.sw1() == 0x61 => "more data available",
            _ if self.sw1() == 0x6C => "wrong Le",
            _ => "unknown status",
        }
    }
}

impl fmt::Debug for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SW {:04X}", self.0)
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X} ({})", self.0, self.describe())
    }
}

/// Why bytes are not a valid short command APDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApduError {
    #[error("command APDU shorter than its 4-byte header")]
    TooShort,
    #[error("extended-length APDUs are not supported")]
    ExtendedLength,
    #[error("Lc does not match the command length")]
    LengthMismatch,
    #[error("command data longer than 255 bytes")]
    DataTooLong,
    #[error("response APDU shorter than its 2-byte status word")]
    ResponseTooShort,
}

impl ApduError {
    /// The status word a card answers for this malformed command.
    pub fn status_word(self) -> StatusWord {
        StatusWord::WRONG_LENGTH
    }
}

/// A short command APDU.
///
/// `le` is the expected response length: `None` when absent (cases 1 and
/// 3), `Some(256)` for an Le byte of `00`.
#[derive(Clone, PartialEq, Eq)]
pub struct CommandApdu {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    pub data: Vec<u8>,
    pub le: Option<u16>,
}

impl CommandApdu {
    /// A command with the given header, data, and Le.
    pub fn new(
        cla: u8,
        ins: u8,
        p1: u8,
        p2: u8,
        data: impl Into<Vec<u8>>,
        le: Option<u16>,
    ) -> Self {
        CommandApdu {
            cla,
            ins,
            p1,
            p2,
            data: data.into(),
            le,
        }
    }

    /// Parses a short APDU of any of the four cases.
    pub fn parse(bytes: &[u8]) -> Result<Self, ApduError> {
        let [cla, ins, p1, p2, body @ ..] = bytes else {
            return Err(ApduError::TooShort);
        };
        let (data, le) = match body {
            // Case 1: header only.
            [] => (&[][..], None),
            // Case 2: Le only (00 means 256).
            [le] => (&[][..], Some(le_value(*le))),
            // A zero first byte followed by more is the extended form.
            [0, _, ..] => return Err(ApduError::ExtendedLength),
            [lc, rest @ ..] => {
                let lc = usize::from(*lc);
                match rest.len().checked_sub(lc) {
                    // Case 3: Lc and data.
                    Some(0) => (rest, None),
                    // Case 4: Lc, data and Le.
                    Some(1) => (&rest[..lc], Some(le_value(rest[lc]))),
                    _ => return Err(ApduError::LengthMismatch),
                }
            }
        };
        Ok(CommandApdu {
            cla: *cla,
            ins: *ins,
            p1: *p1,
            p2: *p2,
            data: data.to_vec(),
            le,
        })
    }

    /// Encodes the command; fails only if the data or Le do not fit the
    /// short form.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ApduError> {
        if self.data.len() > 255 {
            return Err(ApduError::DataTooLong);
        }
        let mut out = Vec::with_capacity(6 + self.data.len());
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        if !self.data.is_empty() {
            out.push(self.data.len() as u8);
            out.extend_from_slice(&self.data);
        }
        match self.le {
            None => {}
            Some(256) => out.push(0),
            Some(n @ 1..=255) => out.push(n as u8),
            Some(_) => return Err(ApduError::ExtendedLength),
        }
        Ok(out)
    }
}

fn le_value(b: u8) -> u16 {
    if b == 0 {
        256
    } else {
        u16::from(b)
    }
}

// Command data can hold PDOL/CDOL values; show sizes, not bytes.
impl fmt::Debug for CommandApdu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CommandApdu({:02X} {:02X} {:02X} {:02X}, {} data bytes, le {:?})",
            self.cla,
            self.ins,
            self.p1,
            self.p2,
            self.data.len(),
            self.le
        )
    }
}

/// A response APDU: data followed by a status word.
#[derive(Clone, PartialEq, Eq)]
pub struct ResponseApdu {
    pub data: Vec<u8>,
    pub sw: StatusWord,
}

impl ResponseApdu {
    /// A `9000` response with data.
    pub fn ok(data: Vec<u8>) -> Self {
        ResponseApdu {
            data,
            sw: StatusWord::OK,
        }
    }

    /// An error response with no data.
    pub fn status(sw: StatusWord) -> Self {
        ResponseApdu {
            data: Vec::new(),
            sw,
        }
    }

    /// Splits response bytes into data and status word.
    pub fn parse(bytes: &[u8]) -> Result<Self, ApduError> {
        let split = bytes
            .len()
            .checked_sub(2)
            .ok_or(ApduError::ResponseTooShort)?;
        let (data, sw) = bytes.split_at(split);
        Ok(ResponseApdu {
            data: data.to_vec(),
            sw: StatusWord(u16::from_be_bytes([sw[0], sw[1]])),
        })
    }

    /// Data followed by SW1 SW2.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() + 2);
        out.extend_from_slice(&self.data);
        out.extend_from_slice(&self.sw.0.to_be_bytes());
        out
    }
}

impl fmt::Debug for ResponseApdu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ResponseApdu({} data bytes, {:?})",
            self.data.len(),
            self.sw
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(hex: &str) -> Result<CommandApdu, ApduError> {
        CommandApdu::parse(&hex::decode(hex).unwrap())
    }

    #[test]
    fn four_cases() {
        let c1 = parse("00A40400").unwrap();
        assert_eq!((c1.data.len(), c1.le), (0, None));
        let c2 = parse("00B2010C00").unwrap();
        assert_eq!((c2.data.len(), c2.le), (0, Some(256)));
        let c3 = parse("00A4040002AABB").unwrap();
        assert_eq!((&c3.data[..], c3.le), (&[0xAA, 0xBB][..], None));
        let c4 = parse("00A404000E325041592E5359532E444446303100").unwrap();
        assert_eq!(c4.data, b"2PAY.SYS.DDF01");
        assert_eq!(c4.le, Some(256));
        for c in [c1, c2, c3, c4] {
            assert_eq!(CommandApdu::parse(&c.to_bytes().unwrap()).unwrap(), c);
        }
    }

    #[test]
    fn malformed() {
        assert_eq!(parse("00A404"), Err(ApduError::TooShort));
        assert_eq!(parse("00A404000003AABBCC"), Err(ApduError::ExtendedLength));
        assert_eq!(
            parse("00A4040000"),
            Ok(CommandApdu::new(0, 0xA4, 4, 0, vec![], Some(256)))
        );
        assert_eq!(parse("00A4040003AABB"), Err(ApduError::LengthMismatch));
        assert_eq!(parse("00A4040001AABBCC"), Err(ApduError::LengthMismatch));
        assert_eq!(
            ApduError::ExtendedLength.status_word(),
            StatusWord::WRONG_LENGTH
        );
    }

    #[test]
    fn responses() {
        let r = ResponseApdu::parse(&[0x01, 0x02, 0x90, 0x00]).unwrap();
        assert_eq!(r.data, vec![1, 2]);
        assert!(r.sw.is_success());
        assert_eq!(r.to_bytes(), vec![1, 2, 0x90, 0x00]);
        assert_eq!(
            ResponseApdu::parse(&[0x90]),
            Err(ApduError::ResponseTooShort)
        );
        assert_eq!(
            StatusWord(0x6A82).to_string(),
            "6A82 (file or application not found)"
        );
    }
}

//! Data Object Lists (PDOL, CDOL1, ...): parsing the tag+length pairs a
//! card asks for, building the concatenated values a terminal sends back
//! (EMV Book 3 §5.4), and splitting such data on the card side.

use std::collections::{BTreeMap, HashMap};

use crate::tlv::{parse_length, Tag, Tlv, TlvError};

/// Upper bound on the data a DOL may request. A short APDU carries at most
/// 255 bytes, so anything larger cannot be sent and is rejected up front.
pub const MAX_DOL_DATA: usize = 252;

/// One requested data object: its tag and the length the card expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DolEntry {
    pub tag: Tag,
    pub len: usize,
}

/// A parsed Data Object List.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dol(pub Vec<DolEntry>);

/// Why a DOL or the data for it is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DolError {
    #[error("malformed DOL: {0}")]
    Malformed(#[from] TlvError),
    #[error("DOL asks for {0} bytes, more than fits in a command")]
    TooLong(usize),
    #[error("DOL data is {actual} bytes but the DOL asks for {expected}")]
    DataLength { expected: usize, actual: usize },
}

/// How a data element is formatted, which decides how it is padded or
/// truncated to the length a DOL asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `n`: right-justified BCD; pad with leading zeros, cut from the left.
    Numeric,
    /// `cn`: left-justified BCD; pad with trailing `FF`, cut from the right.
    CompressedNumeric,
    /// Everything else (`b`, `an`, `ans`, ...): pad with trailing zeros,
    /// cut from the right.
    Other,
}

/// The format of the terminal and card data elements this crate exchanges.
pub fn format_of(tag: Tag) -> Format {
    match tag.0 {
        // Amounts, codes, dates, type, counters and other `n` elements.
        0x9F02 | 0x9F03 | 0x9F1A | 0x5F2A | 0x9A | 0x9C | 0x9F15 | 0x9F21 | 0x5F24 | 0x5F25
        | 0x5F34 | 0x9F41 | 0x9F35 | 0x9F39 | 0x9F42 | 0x9F44 | 0x5F36 | 0x9F11 | 0x5F28
        | 0x9F3C | 0x9F3D | 0x9F01 | 0x5F30 | 0x9F08 | 0x9F09 => Format::Numeric,
        0x5A | 0x9F20 => Format::CompressedNumeric,
        _ => Format::Other,
    }
}

/// Fits `value` to `len` bytes per Book 3 §5.4 for the tag's format.
pub fn fit(tag: Tag, value: &[u8], len: usize) -> Vec<u8> {
    let format = format_of(tag);
    if value.len() >= len {
        return match format {
            Format::Numeric => value[value.len() - len..].to_vec(),
            _ => value[..len].to_vec(),
        };
    }
    let pad = len - value.len();
    match format {
        Format::Numeric => {
            let mut out = vec![0u8; pad];
            out.extend_from_slice(value);
            out
        }
        Format::CompressedNumeric => [value, &vec![0xFF; pad]].concat(),
        Format::Other => [value, &vec![0x00; pad]].concat(),
    }
}

/// Where a terminal (or a test) looks up the values a DOL asks for.
pub trait DataSource {
    fn value(&self, tag: Tag) -> Option<&[u8]>;
}

impl DataSource for HashMap<Tag, Vec<u8>> {
    fn value(&self, tag: Tag) -> Option<&[u8]> {
        self.get(&tag).map(Vec::as_slice)
    }
}

impl DataSource for BTreeMap<Tag, Vec<u8>> {
    fn value(&self, tag: Tag) -> Option<&[u8]> {
        self.get(&tag).map(Vec::as_slice)
    }
}

impl DataSource for [Tlv] {
    fn value(&self, tag: Tag) -> Option<&[u8]> {
        crate::tlv::find_value(self, tag)
    }
}

impl Dol {
    /// Parses the value of a DOL tag (e.g. 9F38 or 8C).
    pub fn parse(mut bytes: &[u8]) -> Result<Self, DolError> {
        let mut entries = Vec::new();
        let mut total = 0usize;
        while !bytes.is_empty() {
            let (tag, tag_len) = Tag::parse(bytes)?;
            let (len, len_len) = parse_length(&bytes[tag_len..])?;
            total = total.saturating_add(len);
            if total > MAX_DOL_DATA {
                return Err(DolError::TooLong(total));
            }
            entries.push(DolEntry { tag, len });
            bytes = &bytes[tag_len + len_len..];
        }
        Ok(Dol(entries))
    }

    /// Encodes the list back to tag+length pairs.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for e in &self.0 {
            out.extend_from_slice(&e.tag.to_bytes());
            // Lengths here are bounded by MAX_DOL_DATA, so this cannot fail.
            let _ = crate::tlv::encode_length(e.len, &mut out);
        }
        out
    }

    /// Total number of data bytes the DOL asks for.
    pub fn data_len(&self) -> usize {
        self.0.iter().map(|e| e.len).sum()
    }

    /// Builds the concatenated DOL data: each value fitted to its length,
    /// zeros where the source has nothing or the tag is constructed.
    pub fn build<S: DataSource + ?Sized>(&self, source: &S) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data_len());
        for e in &self.0 {
            match source.value(e.tag) {
                Some(v) if !e.tag.is_constructed() => out.extend(fit(e.tag, v, e.len)),
                _ => out.resize(out.len() + e.len, 0),
            }
        }
        out
    }

    /// Splits DOL data received from a terminal back into its elements.
    /// The data must be exactly as long as the DOL asks.
    pub fn split<'a>(&self, data: &'a [u8]) -> Result<Vec<(Tag, &'a [u8])>, DolError> {
        let expected = self.data_len();
        if data.len() != expected {
            return Err(DolError::DataLength {
                expected,
                actual: data.len(),
            });
        }
        let mut rest = data;
        let mut out = Vec::with_capacity(self.0.len());
        for e in &self.0 {
            let (value, tail) = rest.split_at(e.len);
            out.push((e.tag, value));
            rest = tail;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_encode() {
        let raw = hex::decode("9F66049F02069F03069F1A0295055F2A029A039C019F3704").unwrap();
        let dol = Dol::parse(&raw).unwrap();
        assert_eq!(dol.0.len(), 9);
        assert_eq!(
            dol.0[0],
            DolEntry {
                tag: Tag(0x9F66),
                len: 4
            }
        );
        assert_eq!(dol.data_len(), 4 + 6 + 6 + 2 + 5 + 2 + 3 + 1 + 4);
        assert_eq!(dol.encode(), raw);
        assert!(Dol::parse(&[0x9F]).is_err());
        assert!(Dol::parse(&[0x9F, 0x02]).is_err());
        assert_eq!(
            Dol::parse(&[0x9F, 0x4E, 0x81, 0xFF]),
            Err(DolError::TooLong(255))
        );
    }

    #[test]
    fn fitting_rules() {
        // Numeric: pad left with zeros, truncate leftmost.
        assert_eq!(fit(Tag(0x9F02), &[0x12, 0x34], 4), vec![0, 0, 0x12, 0x34]);
        assert_eq!(fit(Tag(0x9F02), &[0x01, 0x12, 0x34], 2), vec![0x12, 0x34]);
        // Compressed numeric: pad right with FF.
        assert_eq!(
            fit(Tag(0x5A), &[0x47, 0x61], 4),
            vec![0x47, 0x61, 0xFF, 0xFF]
        );
        // Other: pad right with zeros, truncate rightmost.
        assert_eq!(fit(Tag(0x9F4E), b"AB", 4), b"AB\0\0".to_vec());
        assert_eq!(fit(Tag(0x9F4E), b"ABCDEF", 3), b"ABC".to_vec());
    }

    #[test]
    fn build_and_split() {
        let dol = Dol::parse(&hex::decode("9F02069F37049F4E04BF0C02").unwrap()).unwrap();
        let mut src = HashMap::new();
        src.insert(Tag(0x9F02), vec![0x10, 0x00]);
        src.insert(Tag(0x9F4E), b"SHOP AND MORE".to_vec());
        src.insert(Tag(0xBF0C), vec![1, 2]);
        let data = dol.build(&src);
        assert_eq!(hex::encode_upper(&data), "0000000010000000000053484F500000");
        let parts = dol.split(&data).unwrap();
        assert_eq!(parts[2], (Tag(0x9F4E), &b"SHOP"[..]));
        assert!(matches!(
            dol.split(&data[1..]),
            Err(DolError::DataLength { .. })
        ));
    }
}

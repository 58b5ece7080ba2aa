//! BER-TLV (EMV Book 3 Annex B): tags, lengths, recursive decoding of
//! constructed objects, and encoding.
//!
//! Decoding never panics: every length is checked against the remaining
//! input, tags are limited to 4 bytes, lengths to 4 bytes, and nesting to
//! [`MAX_DEPTH`] levels so hostile input cannot exhaust the stack.

use std::fmt;

/// Deepest nesting of constructed objects the decoder accepts. EMV
/// templates nest three or four levels; anything far deeper is hostile.
pub const MAX_DEPTH: usize = 16;

/// A BER-TLV tag, held as its raw bytes big-endian in a `u32`
/// (e.g. `0x9F02`, `0x5F2A`, `0xBF0C`, `0x6F`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(pub u32);

impl Tag {
    /// Number of bytes of the encoded tag (1..=4).
    pub fn len(self) -> usize {
        match self.0 {
            0..=0xFF => 1,
            0x100..=0xFFFF => 2,
            0x1_0000..=0xFF_FFFF => 3,
            _ => 4,
        }
    }

    /// Always false: a tag has at least one byte. Present for clippy's sake.
    pub fn is_empty(self) -> bool {
        false
    }

    /// The encoded tag bytes.
    pub fn to_bytes(self) -> Vec<u8> {
        let be = self.0.to_be_bytes();
        be[4 - self.len()..].to_vec()
    }

    /// First byte of the encoded tag, which carries class and form.
    pub fn first_byte(self) -> u8 {
        (self.0 >> (8 * (self.len() - 1))) as u8
    }

    /// Bit 6 of the first byte: the value is itself a sequence of TLVs.
    pub fn is_constructed(self) -> bool {
        self.first_byte() & 0x20 != 0
    }

    /// Reads one tag from the start of `data`, returning it and its length.
    pub fn parse(data: &[u8]) -> Result<(Tag, usize), TlvError> {
        let first = *data.first().ok_or(TlvError::Truncated)?;
        let mut value = u32::from(first);
        let mut n = 1;
        // Low five bits all set: subsequent bytes follow, each with bit 8
        // set except the last.
        if first & 0x1F == 0x1F {
            loop {
                let b = *data.get(n).ok_or(TlvError::Truncated)?;
                n += 1;
                if n > 4 {
                    return Err(TlvError::TagTooLong);
                }
                value = (value << 8) | u32::from(b);
                if b & 0x80 == 0 {
                    break;
                }
            }
        }
        Ok((Tag(value), n))
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({self})")
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:0width$X}", self.0, width = self.len() * 2)
    }
}

impl From<u32> for Tag {
    fn from(v: u32) -> Self {
        Tag(v)
    }
}

/// Why a byte string is not valid BER-TLV.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlvError {
    #[error("TLV data ends in the middle of an object")]
    Truncated,
    #[error("tag longer than 4 bytes")]
    TagTooLong,
    #[error("length field longer than 4 bytes or indefinite")]
    BadLength,
    #[error("length {declared} exceeds the {available} bytes available")]
    LengthOverrun { declared: usize, available: usize },
    #[error("constructed objects nested deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("value of {0} bytes is too long to encode")]
    ValueTooLong(usize),
}

/// The value of a TLV object: raw bytes, or nested objects when the tag is
/// constructed.
#[derive(Clone, PartialEq, Eq)]
pub enum Value {
    Primitive(Vec<u8>),
    Constructed(Vec<Tlv>),
}

/// One decoded TLV object.
#[derive(Clone, PartialEq, Eq)]
pub struct Tlv {
    pub tag: Tag,
    pub value: Value,
}

// Debug shows tags and lengths only: values may be PANs or track data, and
// Debug output ends up in logs.
impl fmt::Debug for Tlv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Value::Primitive(v) => write!(f, "{}[{} bytes]", self.tag, v.len()),
            Value::Constructed(children) => {
                write!(f, "{}", self.tag)?;
                f.debug_list().entries(children).finish()
            }
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Primitive(v) => write!(f, "Primitive[{} bytes]", v.len()),
            Value::Constructed(c) => f.debug_tuple("Constructed").field(c).finish(),
        }
    }
}

impl Tlv {
    /// A primitive object.
    pub fn primitive(tag: impl Into<Tag>, value: impl Into<Vec<u8>>) -> Self {
        Tlv {
            tag: tag.into(),
            value: Value::Primitive(value.into()),
        }
    }

    /// A constructed object holding `children`.
    pub fn constructed(tag: impl Into<Tag>, children: Vec<Tlv>) -> Self {
        Tlv {
            tag: tag.into(),
            value: Value::Constructed(children),
        }
    }

    /// The bytes of a primitive value; `None` for constructed objects.
    pub fn bytes(&self) -> Option<&[u8]> {
        match &self.value {
            Value::Primitive(v) => Some(v),
            Value::Constructed(_) => None,
        }
    }

    /// The children of a constructed object; empty for primitives.
    pub fn children(&self) -> &[Tlv] {
        match &self.value {
            Value::Primitive(_) => &[],
            Value::Constructed(c) => c,
        }
    }

    /// Depth-first search for `tag` in this object and its descendants.
    pub fn find(&self, tag: impl Into<Tag>) -> Option<&Tlv> {
        let tag = tag.into();
        if self.tag == tag {
            return Some(self);
        }
        find(self.children(), tag)
    }

    /// Encoded length of this object's value.
    fn value_len(&self) -> usize {
        match &self.value {
            Value::Primitive(v) => v.len(),
            Value::Constructed(c) => c.iter().map(Tlv::encoded_len).sum(),
        }
    }

    /// Total encoded length (tag, length field and value).
    pub fn encoded_len(&self) -> usize {
        let vl = self.value_len();
        self.tag.len() + length_field_len(vl) + vl
    }

    /// Appends the encoding of this object to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), TlvError> {
        out.extend_from_slice(&self.tag.to_bytes());
        encode_length(self.value_len(), out)?;
        match &self.value {
            Value::Primitive(v) => out.extend_from_slice(v),
            Value::Constructed(c) => {
                for child in c {
                    child.encode_into(out)?;
                }
            }
        }
        Ok(())
    }

    /// The encoding of this object.
    pub fn encode(&self) -> Result<Vec<u8>, TlvError> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut out)?;
        Ok(out)
    }
}

/// Depth-first search for `tag` in a list of objects.
pub fn find(tlvs: &[Tlv], tag: impl Into<Tag>) -> Option<&Tlv> {
    let tag = tag.into();
    tlvs.iter().find_map(|t| t.find(tag))
}

/// The primitive value of the first object with `tag`, searched depth-first.
pub fn find_value(tlvs: &[Tlv], tag: impl Into<Tag>) -> Option<&[u8]> {
    find(tlvs, tag).and_then(Tlv::bytes)
}

/// Every primitive object in `tlvs` and their descendants, in order, so a
/// caller can build a tag → value map.
pub fn flatten(tlvs: &[Tlv]) -> Vec<(Tag, &[u8])> {
    let mut out = Vec::new();
    fn walk<'a>(tlvs: &'a [Tlv], out: &mut Vec<(Tag, &'a [u8])>) {
        for t in tlvs {
            match &t.value {
                Value::Primitive(v) => out.push((t.tag, v)),
                Value::Constructed(c) => walk(c, out),
            }
        }
    }
    walk(tlvs, &mut out);
    out
}

/// Reads a length field at the start of `data`, returning the length and
/// the size of the field. Indefinite form (0x80) is not allowed in EMV.
pub fn parse_length(data: &[u8]) -> Result<(usize, usize), TlvError> {
    let first = *data.first().ok_or(TlvError::Truncated)?;
    if first & 0x80 == 0 {
        return Ok((usize::from(first), 1));
    }
    let n = usize::from(first & 0x7F);
    if n == 0 || n > 4 {
        return Err(TlvError::BadLength);
    }
    let bytes = data.get(1..=n).ok_or(TlvError::Truncated)?;
    let len = bytes
        .iter()
        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
    Ok((len, 1 + n))
}

fn length_field_len(len: usize) -> usize {
    match len {
        0..=0x7F => 1,
        0x80..=0xFF => 2,
        0x100..=0xFFFF => 3,
        0x1_0000..=0xFF_FFFF => 4,
        _ => 5,
    }
}

/// Appends the shortest length field for `len` (short form below 128,
/// else 81 xx, 82 xx xx, ...).
pub fn encode_length(len: usize, out: &mut Vec<u8>) -> Result<(), TlvError> {
    let len32 = u32::try_from(len).map_err(|_| TlvError::ValueTooLong(len))?;
    let n = length_field_len(len);
    if n == 1 {
        out.push(len32 as u8);
    } else {
        out.push(0x80 | (n as u8 - 1));
        out.extend_from_slice(&len32.to_be_bytes()[5 - n..]);
    }
    Ok(())
}

/// Decodes every object in `data`, descending into constructed ones.
///
/// Padding bytes `0x00` and `0xFF` between objects are skipped, as EMV
/// Book 3 B allows.
pub fn decode(data: &[u8]) -> Result<Vec<Tlv>, TlvError> {
    decode_at_depth(data, 0)
}

/// Decodes exactly one object at the start of `data` and returns it with
/// the number of bytes consumed.
pub fn decode_one(data: &[u8]) -> Result<(Tlv, usize), TlvError> {
    decode_one_at_depth(data, 0)
}

fn decode_at_depth(mut data: &[u8], depth: usize) -> Result<Vec<Tlv>, TlvError> {
    if depth > MAX_DEPTH {
        return Err(TlvError::TooDeep);
    }
    let mut out = Vec::new();
    loop {
        while let [0x00 | 0xFF, rest @ ..] = data {
            data = rest;
        }
        if data.is_empty() {
            return Ok(out);
        }
        let (tlv, used) = decode_one_at_depth(data, depth)?;
        out.push(tlv);
        data = &data[used..];
    }
}

fn decode_one_at_depth(data: &[u8], depth: usize) -> Result<(Tlv, usize), TlvError> {
    let (tag, tag_len) = Tag::parse(data)?;
    let (len, len_len) = parse_length(&data[tag_len..])?;
    let start = tag_len + len_len;
    let available = data.len() - start;
    if len > available {
        return Err(TlvError::LengthOverrun {
            declared: len,
            available,
        });
    }
    let raw = &data[start..start + len];
    let value = if tag.is_constructed() {
        Value::Constructed(decode_at_depth(raw, depth + 1)?)
    } else {
        Value::Primitive(raw.to_vec())
    };
    Ok((Tlv { tag, value }, start + len))
}

/// Decodes a flat sequence of objects without descending into constructed
/// ones (each value kept as raw bytes). Useful where a template's value is
/// signed or MACed as bytes.
pub fn decode_flat(mut data: &[u8]) -> Result<Vec<(Tag, &[u8])>, TlvError> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let (tag, tag_len) = Tag::parse(data)?;
        let (len, len_len) = parse_length(&data[tag_len..])?;
        let start = tag_len + len_len;
        let available = data.len() - start;
        if len > available {
            return Err(TlvError::LengthOverrun {
                declared: len,
                available,
            });
        }
        out.push((tag, &data[start..start + len]));
        data = &data[start + len..];
    }
    Ok(out)
}

/// Encodes a list of objects back to back.
pub fn encode(tlvs: &[Tlv]) -> Result<Vec<u8>, TlvError> {
    let mut out = Vec::new();
    for t in tlvs {
        t.encode_into(&mut out)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_byte_tags() {
        for (bytes, tag) in [
            (&[0x9F, 0x02][..], 0x9F02),
            (&[0x5F, 0x2A], 0x5F2A),
            (&[0x9F, 0x4E], 0x9F4E),
            (&[0xBF, 0x0C], 0xBF0C),
            (&[0x9F, 0x81, 0x01], 0x9F8101),
        ] {
            let (t, n) = Tag::parse(bytes).unwrap();
            assert_eq!(t, Tag(tag));
            assert_eq!(n, bytes.len());
            assert_eq!(t.to_bytes(), bytes);
        }
        assert_eq!(Tag::parse(&[0x9F]), Err(TlvError::Truncated));
        assert_eq!(
            Tag::parse(&[0x9F, 0x81, 0x81, 0x81, 0x01]),
            Err(TlvError::TagTooLong)
        );
        assert!(Tag(0xBF0C).is_constructed());
        assert!(!Tag(0x9F02).is_constructed());
        assert_eq!(Tag(0x5F2A).to_string(), "5F2A");
    }

    #[test]
    fn lengths_round_trip() {
        for len in [0usize, 1, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000] {
            let mut out = Vec::new();
            encode_length(len, &mut out).unwrap();
            assert_eq!(parse_length(&out).unwrap(), (len, out.len()));
        }
        assert_eq!(parse_length(&[0x81, 0x80]).unwrap(), (0x80, 2));
        assert_eq!(parse_length(&[0x82, 0x01, 0x00]).unwrap(), (0x100, 3));
        assert_eq!(parse_length(&[0x80]), Err(TlvError::BadLength));
        assert_eq!(
            parse_length(&[0x85, 0, 0, 0, 0, 1]),
            Err(TlvError::BadLength)
        );
        assert_eq!(parse_length(&[0x82, 0x01]), Err(TlvError::Truncated));
    }

    #[test]
    fn decodes_nested_fci() {
        // 6F { 84 "A0000000031010", A5 { 50 "VISA", BF0C { 61 { 4F .. } } } }
        let data = hex::decode("6F1E8407A0000000031010A513500456495341BF0C0A61084F06A00000000310")
            .unwrap();
        let tlvs = decode(&data).unwrap();
        assert_eq!(tlvs.len(), 1);
        assert_eq!(
            find_value(&tlvs, 0x84),
            Some(&hex::decode("A0000000031010").unwrap()[..])
        );
        assert_eq!(find_value(&tlvs, 0x50), Some(&b"VISA"[..]));
        assert!(find(&tlvs, 0xBF0C).is_some());
        assert_eq!(find_value(&tlvs, 0x4F).map(<[u8]>::len), Some(6));
        assert_eq!(encode(&tlvs).unwrap(), data);
    }

    #[test]
    fn long_form_values() {
        let t = Tlv::primitive(0x9F4E, vec![0x41; 200]);
        let enc = t.encode().unwrap();
        assert_eq!(&enc[..4], &[0x9F, 0x4E, 0x81, 200]);
        let (back, used) = decode_one(&enc).unwrap();
        assert_eq!(used, enc.len());
        assert_eq!(back, t);

        let t = Tlv::primitive(0x5A, vec![0; 300]);
        let enc = t.encode().unwrap();
        assert_eq!(&enc[..4], &[0x5A, 0x82, 0x01, 0x2C]);
        assert_eq!(decode(&enc).unwrap(), vec![t]);
    }

    #[test]
    fn rejects_overruns_and_depth() {
        assert!(matches!(
            decode(&[0x5A, 0x05, 1, 2]),
            Err(TlvError::LengthOverrun {
                declared: 5,
                available: 2
            })
        ));
        // 40 nested empty-ish constructed objects.
        let mut data = vec![];
        for _ in 0..40 {
            let mut outer = vec![0x70];
            encode_length(data.len(), &mut outer).unwrap();
            outer.extend_from_slice(&data);
            data = outer;
        }
        assert_eq!(decode(&data), Err(TlvError::TooDeep));
    }

    #[test]
    fn skips_padding_and_debug_hides_values() {
        let tlvs = decode(&[0x00, 0x5A, 0x01, 0x42, 0xFF, 0xFF]).unwrap();
        assert_eq!(tlvs, vec![Tlv::primitive(0x5A, vec![0x42])]);
        let dbg = format!(
            "{:?}",
            Tlv::primitive(0x5A, hex::decode("4111111111111111").unwrap())
        );
        assert!(!dbg.contains("4111"), "{dbg}");
    }
}

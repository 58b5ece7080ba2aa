//! The text encoding of merchant-presented payloads: each data object is a
//! two-digit ID, a two-digit length and the value, and templates hold more
//! data objects in their value. Lengths count characters, not bytes (EMVCo
//! MPM §4.3), which matters for the UTF-8 text of template 64.

use serde::Serialize;

use super::error::{FieldId, MpmError};

/// One ID-value pair, as carried in a template or kept verbatim for IDs this
/// crate does not interpret.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct DataObject {
    pub id: u8,
    pub value: String,
}

impl DataObject {
    pub fn new(id: u8, value: impl Into<String>) -> Self {
        DataObject {
            id,
            value: value.into(),
        }
    }
}

/// What a declared length counts. Characters is the specification; bytes is
/// a fallback for encoders that got it wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LengthUnit {
    Chars,
    Bytes,
}

/// A data object as read, borrowing its value from the input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawObject<'a> {
    pub id: u8,
    pub value: &'a str,
    /// Where the object's ID starts, in length units from the start of the
    /// outermost payload (for error messages).
    pub position: usize,
    /// Byte offset of the value within the string that was read.
    pub value_offset: usize,
}

/// Reads a sequence of data objects that must exactly fill `input`.
///
/// `position` is where `input` starts within the outermost payload and
/// `parent` the ID of the enclosing template, if any; both only label
/// errors. Empty values and repeated IDs are rejected here, at every level.
pub(crate) fn read(
    input: &str,
    position: usize,
    parent: Option<u8>,
    unit: LengthUnit,
) -> Result<Vec<RawObject<'_>>, MpmError> {
    let field = |id: u8| match parent {
        Some(p) => FieldId::sub(p, id),
        None => FieldId::top(id),
    };
    let mut objects: Vec<RawObject<'_>> = Vec::new();
    let mut seen = [false; 100];
    let mut offset = 0usize;
    let mut pos = position;
    while offset < input.len() {
        let bytes = &input.as_bytes()[offset..];
        if bytes.len() < 4 {
            return Err(MpmError::Truncated { position: pos });
        }
        let id = two_digits(bytes[0], bytes[1]).ok_or(MpmError::NonNumericId { position: pos })?;
        let declared = usize::from(two_digits(bytes[2], bytes[3]).ok_or(
            MpmError::NonNumericLength {
                field: field(id),
                position: pos,
            },
        )?);
        // The four header bytes are ASCII digits, so this is a char boundary.
        let value_offset = offset + 4;
        let after = &input[value_offset..];
        let len_bytes = match unit {
            LengthUnit::Chars => char_prefix_len(after, declared),
            LengthUnit::Bytes => (declared <= after.len() && after.is_char_boundary(declared))
                .then_some(declared)
                .ok_or(after.len()),
        }
        .map_err(|remaining| MpmError::LengthOverflow {
            field: field(id),
            declared,
            remaining,
        })?;
        if declared == 0 {
            return Err(MpmError::EmptyValue { field: field(id) });
        }
        let slot = &mut seen[usize::from(id)];
        if *slot {
            return Err(MpmError::DuplicateId { field: field(id) });
        }
        *slot = true;
        objects.push(RawObject {
            id,
            value: &after[..len_bytes],
            position: pos,
            value_offset,
        });
        offset = value_offset + len_bytes;
        pos += 4 + declared;
    }
    Ok(objects)
}

/// Appends one data object. The caller has checked that the value is 1 to
/// 99 characters long.
pub(crate) fn write(out: &mut String, id: u8, value: &str) {
    use std::fmt::Write;
    // Writing to a String cannot fail.
    let _ = write!(out, "{:02}{:02}{}", id, value.chars().count(), value);
}

/// The length of a value in the unit lengths are declared in.
pub(crate) fn char_len(value: &str) -> usize {
    value.chars().count()
}

fn two_digits(a: u8, b: u8) -> Option<u8> {
    (a.is_ascii_digit() && b.is_ascii_digit()).then(|| (a - b'0') * 10 + (b - b'0'))
}

/// Byte length of the first `chars` characters of `s`, or the number of
/// characters available when there are fewer.
fn char_prefix_len(s: &str, chars: usize) -> Result<usize, usize> {
    let mut count = 0;
    for (i, _) in s.char_indices() {
        if count == chars {
            return Ok(i);
        }
        count += 1;
    }
    if count == chars {
        Ok(s.len())
    } else {
        Err(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(input: &str, unit: LengthUnit) -> Result<Vec<(u8, String)>, MpmError> {
        read(input, 0, None, unit)
            .map(|objs| objs.iter().map(|o| (o.id, o.value.to_string())).collect())
    }

    #[test]
    fn counts_characters_not_bytes() {
        let objs = ids("0104最佳运输0202北京", LengthUnit::Chars).unwrap();
        assert_eq!(objs, vec![(1, "最佳运输".into()), (2, "北京".into())]);
        assert!(ids("0104最佳运输", LengthUnit::Bytes).is_err());
        assert_eq!(
            ids("0112最佳运输", LengthUnit::Bytes).unwrap(),
            vec![(1, "最佳运输".into())]
        );
    }

    #[test]
    fn header_errors() {
        assert_eq!(
            ids("000", LengthUnit::Chars),
            Err(MpmError::Truncated { position: 0 })
        );
        assert_eq!(
            ids("0002010A01x", LengthUnit::Chars),
            Err(MpmError::NonNumericId { position: 6 })
        );
        assert!(matches!(
            ids("00x201", LengthUnit::Chars),
            Err(MpmError::NonNumericLength { .. })
        ));
        assert_eq!(
            ids("0005ab", LengthUnit::Chars),
            Err(MpmError::LengthOverflow {
                field: FieldId::top(0),
                declared: 5,
                remaining: 2
            })
        );
        assert!(matches!(
            ids("000201000201", LengthUnit::Chars),
            Err(MpmError::DuplicateId { .. })
        ));
        assert!(matches!(
            ids("0000", LengthUnit::Chars),
            Err(MpmError::EmptyValue { .. })
        ));
    }

    #[test]
    fn non_ascii_header_is_an_error_not_a_panic() {
        assert!(ids("é0201", LengthUnit::Chars).is_err());
        assert!(ids("00é1", LengthUnit::Bytes).is_err());
        assert!(ids("0001é", LengthUnit::Bytes).is_err());
    }
}

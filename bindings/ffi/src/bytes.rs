//! Byte arrays that cross the boundary in one copy.
//!
//! uniffi 0.32 carries a `Vec<u8>` argument as a length-prefixed buffer and
//! lifts it element by element, as for any `Vec<T>`: for a 1920x1080 camera
//! frame that is two million bounds-checked pushes, about 23 ms of the
//! shipped (size-optimised) library's time from Kotlin, more than twice the
//! scan budget on its own. [`Bytes`] has exactly `Vec<u8>`'s metadata and
//! wire format, so the generated Kotlin and Swift still see `ByteArray` and
//! `Data`, but it takes the buffer over whole and drops the 4-byte length
//! prefix.

use uniffi::{check_remaining, FfiConverter, MetadataBuffer, RustBuffer, TypeId};

/// A byte array from (or to) the app: a camera frame, an APDU.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

/// The length prefix uniffi writes before a byte array's contents.
const PREFIX: usize = 4;

fn read_len(buf: &[u8]) -> uniffi::Result<usize> {
    check_remaining(buf, PREFIX)?;
    let len = i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
    Ok(usize::try_from(len)?)
}

// SAFETY: `FfiType` is `RustBuffer`, the type uniffi uses for `Vec<u8>`,
// and every method reads and writes exactly `Vec<u8>`'s wire format (a
// big-endian i32 length, then the bytes), which `TYPE_ID_META` declares, so
// the generated foreign code and this implementation agree.
unsafe impl FfiConverter<crate::UniFfiTag> for Bytes {
    type FfiType = RustBuffer;

    fn lower(obj: Self) -> RustBuffer {
        let mut buf = Vec::with_capacity(PREFIX + obj.0.len());
        <Self as FfiConverter<crate::UniFfiTag>>::write(obj, &mut buf);
        RustBuffer::from_vec(buf)
    }

    fn try_lift(v: RustBuffer) -> uniffi::Result<Self> {
        let mut vec = v.destroy_into_vec();
        let len = read_len(&vec)?;
        if vec.len() != PREFIX + len {
            return Err(
                std::io::Error::other("a byte array's length does not match its buffer").into(),
            );
        }
        // One memmove instead of a copy into a second allocation.
        vec.drain(..PREFIX);
        Ok(Bytes(vec))
    }

    fn write(obj: Self, buf: &mut Vec<u8>) {
        // uniffi limits arrays to i32::MAX elements; nothing the wallet
        // returns comes near (APDU responses are at most 64 KiB).
        let len = i32::try_from(obj.0.len()).unwrap_or(i32::MAX);
        buf.extend_from_slice(&len.to_be_bytes());
        buf.extend_from_slice(&obj.0[..len as usize]);
    }

    fn try_read(buf: &mut &[u8]) -> uniffi::Result<Self> {
        let len = read_len(buf)?;
        check_remaining(buf, PREFIX + len)?;
        let bytes = buf[PREFIX..PREFIX + len].to_vec();
        *buf = &buf[PREFIX + len..];
        Ok(Bytes(bytes))
    }

    const TYPE_ID_META: MetadataBuffer = <Vec<u8> as TypeId<crate::UniFfiTag>>::TYPE_ID_META;
}

uniffi::derive_ffi_traits!(local Bytes);

#[cfg(test)]
mod tests {
    use super::*;
    use uniffi::{Lift, Lower};

    type Tag = crate::UniFfiTag;

    #[test]
    fn the_wire_format_is_vec_u8s() {
        let frame: Vec<u8> = (0..=255).cycle().take(100_000).collect();
        // What the foreign side sends for a byte array, lifted both ways.
        let sent = <Vec<u8> as Lower<Tag>>::lower(frame.clone());
        assert_eq!(<Bytes as Lift<Tag>>::try_lift(sent).unwrap().0, frame);
        let back = <Bytes as Lower<Tag>>::lower(Bytes(frame.clone()));
        assert_eq!(<Vec<u8> as Lift<Tag>>::try_lift(back).unwrap(), frame);

        let mut nested = Vec::new();
        <Bytes as Lower<Tag>>::write(Bytes(vec![1, 2, 3]), &mut nested);
        nested.push(9);
        let mut rest = nested.as_slice();
        assert_eq!(
            <Bytes as Lift<Tag>>::try_read(&mut rest).unwrap().0,
            [1, 2, 3]
        );
        assert_eq!(rest, [9]);
        assert_eq!(
            <Bytes as TypeId<Tag>>::TYPE_ID_META.as_ref(),
            <Vec<u8> as TypeId<Tag>>::TYPE_ID_META.as_ref()
        );
    }

    #[test]
    fn a_buffer_that_lies_about_its_length_is_refused() {
        for bad in [
            vec![],
            vec![0, 0],
            vec![0, 0, 0, 5, 1, 2],
            vec![0xFF, 0xFF, 0xFF, 0xFF],
        ] {
            assert!(<Bytes as Lift<Tag>>::try_lift(RustBuffer::from_vec(bad)).is_err());
        }
    }
}

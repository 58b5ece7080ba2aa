//! Entry points shared by the cargo-fuzz targets and the corpus replay
//! test, so both exercise exactly the same code and invariants. Each takes
//! arbitrary bytes and panics only when an invariant breaks.

use super::{cpm, detect, mpm, MerchantQr};

/// Merchant-presented: parse never panics, and whatever parses encodes
/// and parses back to the same payload.
pub fn merchant(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = detect::parse_any(&text);
    let _ = mpm::inspect(&text);
    if let Ok(parsed) = mpm::parse(&text) {
        let _ = MerchantQr::from_parsed(&parsed);
        let encoded = parsed
            .payload
            .encode()
            .expect("a parsed payload must encode");
        let again = mpm::parse(&encoded).expect("an encoded payload must parse");
        assert_eq!(
            again.payload, parsed.payload,
            "round trip changed the payload"
        );
    }
}

/// Consumer-presented: the bytes as BER-TLV and as base64 text; whatever
/// parses encodes and parses back to the same payload.
pub fn consumer(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for parsed in [cpm::parse_bytes(data), cpm::parse(&text)]
        .into_iter()
        .flatten()
    {
        let _ = cpm::ConsumerSummary::of(&parsed);
        let encoded = parsed.encode().expect("a parsed payload must encode");
        let again = cpm::parse(&encoded).expect("an encoded payload must parse");
        assert_eq!(again, parsed, "round trip changed the payload");
    }
}

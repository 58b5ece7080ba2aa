//! Fuzzes the consumer-presented QR parser, as base64 text and as raw
//! BER-TLV (body in `emv::qr::fuzzing::consumer`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| emv::qr::fuzzing::consumer(data));

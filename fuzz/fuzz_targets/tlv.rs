//! Fuzzes the BER-TLV, DOL and APDU parsers (body in `emv::fuzzing::tlv`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| emv::fuzzing::tlv(data));

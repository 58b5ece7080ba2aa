//! Fuzzes the merchant-presented QR parser on lossy UTF-8 text (body in
//! `emv::qr::fuzzing::merchant`: no panic, and parse-encode-parse is stable).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| emv::qr::fuzzing::merchant(data));

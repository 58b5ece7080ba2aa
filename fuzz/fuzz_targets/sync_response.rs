//! The wallet's handling of the bank's sync answer (outside input).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core::sync::fuzzing::sync_response(data);
});

//! Bank statement files (OFX and CSV), outside input the apps import.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core::import::fuzzing::statement(data);
});

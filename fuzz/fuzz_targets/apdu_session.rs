//! Fuzzes the card application with sequences of APDUs (body in
//! `emv::fuzzing::apdu_session`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| emv::fuzzing::apdu_session(data));

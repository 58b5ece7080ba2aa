//! A stable-Rust stand-in for running the fuzzers: proptest feeds random
//! bytes and mutated corpus seeds to the `tlv` and `apdu_session` target
//! bodies. (cargo-fuzz needs nightly; the corpora replay in fuzz_corpus.rs.)

use std::fs;
use std::path::PathBuf;

use proptest::prelude::*;

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut out: Vec<Vec<u8>> = fs::read_dir(dir)
        .unwrap()
        .map(|e| fs::read(e.unwrap().path()).unwrap())
        .collect();
    out.sort();
    out
}

/// A seed with a few bytes overwritten, inserted or removed.
fn mutated(target: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let edits = prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6);
    (prop::sample::select(seeds(target)), edits).prop_map(|(mut data, edits)| {
        for (at, byte, op) in edits {
            let i = at.index(data.len() + 1);
            match op {
                0 if i < data.len() => data[i] = byte,
                1 => data.insert(i, byte),
                _ if i < data.len() => {
                    data.remove(i);
                }
                _ => data.push(byte),
            }
        }
        data
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn tlv_random(data in prop::collection::vec(any::<u8>(), 0..512)) {
        emv::fuzzing::tlv(&data);
    }

    #[test]
    fn tlv_mutated(data in mutated("tlv")) {
        emv::fuzzing::tlv(&data);
    }

    #[test]
    fn apdu_session_random(data in prop::collection::vec(any::<u8>(), 0..1024)) {
        emv::fuzzing::apdu_session(&data);
    }

    #[test]
    fn apdu_session_mutated(data in mutated("apdu_session")) {
        emv::fuzzing::apdu_session(&data);
    }
}

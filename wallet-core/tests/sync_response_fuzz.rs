//! The bank's sync answer is outside input: its corpus (fuzz/corpus/
//! sync_response, also the `sync_response` cargo-fuzz target's) replays here
//! on stable Rust, and property tests throw mutated and hostile answers at
//! the same code. Nothing may panic; defects are typed errors.

use std::fs;
use std::path::PathBuf;

use billfold_protocol::SyncResponse;
use proptest::prelude::*;
use wallet_core::sync::fuzzing::sync_response;

fn corpus() -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/sync_response");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "corpus {} is empty", dir.display());
    files
        .into_iter()
        .map(|f| {
            let data = fs::read(&f).unwrap();
            (f, data)
        })
        .collect()
}

fn valid() -> Vec<u8> {
    corpus()
        .into_iter()
        .find(|(p, _)| p.ends_with("valid.json"))
        .expect("the corpus has a valid answer")
        .1
}

#[test]
fn the_corpus_replays_without_a_panic() {
    for (file, data) in corpus() {
        let outcome = std::panic::catch_unwind(|| sync_response(&data));
        assert!(
            outcome.is_ok(),
            "sync_response panicked on {}",
            file.display()
        );
    }
}

#[test]
fn the_valid_seed_is_a_real_answer() {
    // Otherwise every mutation would stop at the JSON decoding.
    let resp: SyncResponse = serde_json::from_slice(&valid()).unwrap();
    assert_eq!(resp.ledger.len(), 2);
    assert_eq!(resp.key_batches[0].keys.len(), 2);
}

proptest! {
    #[test]
    fn mutated_answers_never_panic(flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut data = valid();
        for (at, byte) in flips {
            let i = at % data.len();
            data[i] = byte;
        }
        sync_response(&data);
    }

    #[test]
    fn hostile_values_never_panic(
        amount in any::<i64>(),
        currency in "[A-Z]{0,4}",
        atc in any::<u16>(),
        first_atc in any::<u16>(),
        key in "[0-9a-fA-Fz]{0,40}",
        seq in any::<u64>(),
    ) {
        let mut v: serde_json::Value = serde_json::from_slice(&valid()).unwrap();
        v["ledger"][0]["amount"]["amount_minor"] = amount.into();
        v["ledger"][0]["amount"]["currency"] = currency.into();
        v["ledger"][0]["atc"] = atc.into();
        v["ledger"][0]["seq"] = seq.into();
        v["key_batches"][0]["first_atc"] = first_atc.into();
        v["key_batches"][0]["keys"][0]["key"] = key.into();
        sync_response(&serde_json::to_vec(&v).unwrap());
    }
}

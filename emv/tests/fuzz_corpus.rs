//! Replays every fuzz corpus under `fuzz/corpus/<target>/` through the same
//! target bodies the cargo-fuzz targets run (`emv::fuzzing`), so the
//! corpora are regression tests on stable Rust.

use std::fs;
use std::path::PathBuf;

/// Runs `target` on every file of `fuzz/corpus/<name>/`; fails if the
/// corpus is missing or empty, so a moved directory cannot pass silently.
fn replay(name: &str, target: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(name);
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "corpus {} is empty", dir.display());
    for file in files {
        let data = fs::read(&file).unwrap();
        let outcome = std::panic::catch_unwind(|| target(&data));
        assert!(
            outcome.is_ok(),
            "fuzz target {name} panicked on {}",
            file.display()
        );
    }
}

#[test]
fn tlv_corpus() {
    replay("tlv", emv::fuzzing::tlv);
}

#[test]
fn apdu_session_corpus() {
    replay("apdu_session", emv::fuzzing::apdu_session);
}

#[test]
fn qr_merchant_corpus() {
    replay("qr_merchant", emv::qr::fuzzing::merchant);
}

#[test]
fn qr_consumer_corpus() {
    replay("qr_consumer", emv::qr::fuzzing::consumer);
}

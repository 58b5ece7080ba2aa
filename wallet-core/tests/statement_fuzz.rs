//! Bank statement files are outside input (the apps import them): the
//! `statement` fuzz target's corpus (fuzz/corpus/statement) replays here on
//! stable Rust, and property tests throw mutated statements and hostile
//! field values at both parsers. Nothing may panic; defects are typed
//! errors (ledger_import.rs checks which ones).

use std::fs;
use std::path::PathBuf;

use proptest::prelude::*;
use wallet_core::import::fuzzing::statement;

fn corpus() -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/statement");
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

fn seed(name: &str) -> Vec<u8> {
    corpus()
        .into_iter()
        .find(|(p, _)| p.ends_with(name))
        .unwrap_or_else(|| panic!("the corpus has {name}"))
        .1
}

#[test]
fn the_corpus_replays_without_a_panic() {
    for (file, data) in corpus() {
        let outcome = std::panic::catch_unwind(|| statement(&data));
        assert!(outcome.is_ok(), "statement panicked on {}", file.display());
    }
}

proptest! {
    #[test]
    fn mutated_statements_never_panic(
        which in 0usize..3,
        flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let mut data = seed(["valid.csv", "ofx_sgml.ofx", "ofx_xml.ofx"][which]);
        for (at, byte) in flips {
            let i = at % data.len();
            data[i] = byte;
        }
        statement(&data);
        data.truncate(cut % (data.len() + 1));
        statement(&data);
    }

    #[test]
    fn hostile_csv_fields_never_panic(
        date in "\\PC{0,40}",
        amount in "[-+0-9.eE,]{0,40}",
        currency in "\\PC{0,5}",
        mcc in "\\PC{0,8}",
        kind in "\\PC{0,12}",
    ) {
        let line = format!("id,date,amount,currency,mcc,kind\nx1,{date},{amount},{currency},{mcc},{kind}\n");
        statement(line.as_bytes());
    }

    #[test]
    fn hostile_ofx_values_never_panic(
        posted in "[0-9.\\[\\]:+A-Z-]{0,40}",
        amount in "[-+0-9.eE,]{0,40}",
        rate in "[-0-9.eE]{0,20}",
        currency in "[A-Z]{0,4}",
    ) {
        let ofx = format!(
            "<OFX><CURDEF>{currency}<ACCTID>1<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>{posted}<TRNAMT>{amount}<FITID>F\
             <NAME>N<ORIGCURRENCY><CURRATE>{rate}<CURSYM>{currency}</ORIGCURRENCY></STMTTRN></OFX>"
        );
        statement(ofx.as_bytes());
    }
}

//! The card's answers to malformed and out-of-order commands, and a
//! property test that no sequence of APDUs makes it panic.

mod tap_support;

use emv::apdu::StatusWord;
use emv::card::{CardApp, DeactivationReason};
use emv::dol::Dol;
use proptest::prelude::*;
use tap_support::*;

const SELECT_PPSE: &str = "00A404000E325041592E5359532E444446303100";
const SELECT_VISA: &str = "00A4040007A000000003101000";
const READ_RECORD_1: &str = "00B2010C00";

fn sw(resp: &[u8]) -> StatusWord {
    StatusWord(u16::from_be_bytes([
        resp[resp.len() - 2],
        resp[resp.len() - 1],
    ]))
}

struct Harness {
    card: CardApp,
    wallet: TestWallet,
}

impl Harness {
    fn new() -> Self {
        let issuer = issuer();
        let tokens = vec![tdes_token(), aes_token()];
        Harness {
            wallet: TestWallet::provisioned(&issuer, &tokens, 1, 5),
            card: CardApp::new(tokens),
        }
    }

    fn send(&mut self, hex_apdu: &str) -> StatusWord {
        sw(&self.send_bytes(&hex::decode(hex_apdu).unwrap()))
    }

    fn send_bytes(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.card.process_apdu(apdu, &mut self.wallet)
    }
}

/// `80 A8 00 00 Lc 83 L <zeros>` with `pdol_len` bytes of PDOL data.
fn gpo(pdol_len: usize) -> String {
    format!(
        "80A80000{:02X}83{:02X}{}00",
        pdol_len + 2,
        pdol_len,
        "00".repeat(pdol_len)
    )
}

fn pdol_len() -> usize {
    Dol::parse(emv::card::templates::PDOL).unwrap().data_len()
}

fn cdol1_len() -> usize {
    Dol::parse(emv::card::templates::CDOL1).unwrap().data_len()
}

/// A valid CDOL1 payload: 1.00 EUR purchase in France on 2025-03-14.
fn cdol1_data() -> Vec<u8> {
    let mut d = hex::decode(
        "000000000100 000000000000 0250 0000000000 0978 250314 00 CAFEBABE 5812".replace(' ', ""),
    )
    .unwrap();
    d.resize(cdol1_len(), 0);
    d
}

fn generate_ac(p1: u8, data: &[u8]) -> String {
    format!(
        "80AE{p1:02X}00{:02X}{}00",
        data.len(),
        hex::encode_upper(data)
    )
}

fn initiated() -> Harness {
    let mut h = Harness::new();
    assert_eq!(h.send(SELECT_PPSE), StatusWord::OK);
    assert_eq!(h.send(SELECT_VISA), StatusWord::OK);
    assert_eq!(h.send(&gpo(pdol_len())), StatusWord::OK);
    h
}

#[test]
fn out_of_order_commands_are_refused() {
    let mut h = Harness::new();
    assert_eq!(
        h.send(&gpo(pdol_len())),
        StatusWord::CONDITIONS_NOT_SATISFIED
    );
    assert_eq!(h.send(READ_RECORD_1), StatusWord::CONDITIONS_NOT_SATISFIED);
    assert_eq!(
        h.send(&generate_ac(0x80, &cdol1_data())),
        StatusWord::CONDITIONS_NOT_SATISFIED
    );
    h.send(SELECT_PPSE);
    assert_eq!(
        h.send(&gpo(pdol_len())),
        StatusWord::CONDITIONS_NOT_SATISFIED,
        "GPO needs an application"
    );
    h.send(SELECT_VISA);
    assert_eq!(
        h.send(READ_RECORD_1),
        StatusWord::CONDITIONS_NOT_SATISFIED,
        "records need GPO first"
    );
    assert_eq!(
        h.send(&generate_ac(0x80, &cdol1_data())),
        StatusWord::CONDITIONS_NOT_SATISFIED
    );
    assert_eq!(h.wallet.taken, 0);
}

#[test]
fn second_generate_ac_is_refused() {
    let mut h = initiated();
    assert_eq!(h.send(READ_RECORD_1), StatusWord::OK);
    assert_eq!(h.send(&generate_ac(0x80, &cdol1_data())), StatusWord::OK);
    assert_eq!(
        h.send(&generate_ac(0x80, &cdol1_data())),
        StatusWord::CONDITIONS_NOT_SATISFIED
    );
    assert_eq!(
        h.send(&gpo(pdol_len())),
        StatusWord::CONDITIONS_NOT_SATISFIED
    );
    assert_eq!(h.wallet.taken, 1);
    // A new SELECT starts a new transaction.
    h.send(SELECT_VISA);
    h.send(&gpo(pdol_len()));
    assert_eq!(
        h.send(&generate_ac(0x40, &cdol1_data())),
        StatusWord::OK,
        "TC requested, ARQC given"
    );
    assert_eq!(h.wallet.taken, 2);
}

#[test]
fn terminal_requested_aac_spends_no_key() {
    let mut h = initiated();
    let resp = h.send_bytes(&hex::decode(generate_ac(0x00, &cdol1_data())).unwrap());
    assert_eq!(sw(&resp), StatusWord::OK);
    assert_eq!(h.wallet.taken, 0);
    let tlvs = emv::tlv::decode(&resp[..resp.len() - 2]).unwrap();
    assert_eq!(emv::tlv::find_value(&tlvs, 0x9F27), Some(&[0x00][..]));
}

#[test]
fn deactivation_resets_the_session() {
    let mut h = initiated();
    h.card.on_deactivated(DeactivationReason::LinkLoss);
    assert_eq!(h.send(READ_RECORD_1), StatusWord::CONDITIONS_NOT_SATISFIED);
    assert_eq!(
        h.send(&generate_ac(0x80, &cdol1_data())),
        StatusWord::CONDITIONS_NOT_SATISFIED
    );
}

#[test]
fn completed_tap_survives_deactivation() {
    let mut h = initiated();
    h.send(&generate_ac(0x80, &cdol1_data()));
    h.card.on_deactivated(DeactivationReason::Deselected);
    let done = h.card.take_completed().unwrap();
    assert_eq!(done.transaction.amount_minor, 100);
    assert_eq!(done.transaction.mcc, Some(5812));
    assert_eq!(done.transaction.merchant_name, None);
    assert!(h.card.take_completed().is_none());
}

#[test]
fn selection_errors() {
    let mut h = Harness::new();
    assert_eq!(
        h.send("00A4040007A000000065101000"),
        StatusWord::FILE_NOT_FOUND,
        "unknown AID"
    );
    assert_eq!(
        h.send("00A404000E315041592E5359532E444446303100"),
        StatusWord::FILE_NOT_FOUND,
        "contact PSE"
    );
    assert_eq!(h.send("00A4040000"), StatusWord::FILE_NOT_FOUND, "no name");
    assert_eq!(
        h.send("00A4000007A000000003101000"),
        StatusWord::INCORRECT_P1P2
    );
    assert_eq!(
        h.send("00A4040C07A000000003101000"),
        StatusWord::INCORRECT_P1P2
    );
    assert_eq!(
        h.send("00A4040207A000000003101000"),
        StatusWord::FILE_NOT_FOUND,
        "no next occurrence"
    );
    assert_eq!(
        h.send("00A4040005A00000000300"),
        StatusWord::OK,
        "partial AID selects by prefix"
    );
    assert_eq!(
        h.send("00A4040003A0000000"),
        StatusWord::FILE_NOT_FOUND,
        "too short to be partial"
    );
}

#[test]
fn length_errors() {
    let mut h = Harness::new();
    assert_eq!(
        h.send("00A404"),
        StatusWord::WRONG_LENGTH,
        "shorter than a header"
    );
    assert_eq!(
        h.send("00A40400000007A0000000031010"),
        StatusWord::WRONG_LENGTH,
        "extended length"
    );
    assert_eq!(
        h.send("00A4040007A0000000031010AABB"),
        StatusWord::WRONG_LENGTH,
        "Lc disagrees"
    );
    h.send(SELECT_VISA);
    assert_eq!(h.send(&gpo(pdol_len() - 1)), StatusWord::WRONG_LENGTH);
    assert_eq!(h.send(&gpo(pdol_len() + 1)), StatusWord::WRONG_LENGTH);
    assert_eq!(h.send("80A80000038301AA00"), StatusWord::WRONG_LENGTH);
    assert_eq!(h.send("80A800000483FF000000"), StatusWord::WRONG_LENGTH);
    assert_eq!(h.send(&gpo(pdol_len())), StatusWord::OK);
    let mut short = cdol1_data();
    short.pop();
    assert_eq!(h.send(&generate_ac(0x80, &short)), StatusWord::WRONG_LENGTH);
    assert_eq!(h.wallet.taken, 0);
}

#[test]
fn parameter_and_data_errors() {
    let mut h = initiated();
    assert_eq!(h.send("00B2000C00"), StatusWord::INCORRECT_P1P2, "record 0");
    assert_eq!(
        h.send("00B2010800"),
        StatusWord::INCORRECT_P1P2,
        "P2 not a record number"
    );
    assert_eq!(h.send("00B2020C00"), StatusWord::RECORD_NOT_FOUND);
    assert_eq!(h.send("00B2011400"), StatusWord::RECORD_NOT_FOUND, "SFI 2");
    assert_eq!(
        h.send(&generate_ac(0xC0, &cdol1_data())),
        StatusWord::INCORRECT_P1P2,
        "RFU cryptogram type"
    );
    assert_eq!(
        h.send(&generate_ac(0x81, &cdol1_data())),
        StatusWord::INCORRECT_P1P2
    );
    let mut bad_amount = cdol1_data();
    bad_amount[0] = 0xAB;
    assert_eq!(
        h.send(&generate_ac(0x80, &bad_amount)),
        StatusWord::WRONG_DATA
    );
    assert_eq!(h.wallet.taken, 0, "no key spent on bad terminal data");
    assert_eq!(h.send(&generate_ac(0x80, &cdol1_data())), StatusWord::OK);

    let mut h = Harness::new();
    h.send(SELECT_VISA);
    assert_eq!(h.send("80A8010002830000"), StatusWord::INCORRECT_P1P2);
    assert_eq!(
        h.send("80A80000029900"),
        StatusWord::WRONG_DATA,
        "not a command template"
    );
}

#[test]
fn class_and_instruction_errors() {
    let mut h = Harness::new();
    assert_eq!(h.send("00CA9F3600"), StatusWord::INS_NOT_SUPPORTED);
    assert_eq!(h.send("80CA9F3600"), StatusWord::INS_NOT_SUPPORTED);
    assert_eq!(h.send("9000000000"), StatusWord::CLA_NOT_SUPPORTED);
    assert_eq!(
        h.send("FFA404000E325041592E5359532E4444463031"),
        StatusWord::CLA_NOT_SUPPORTED
    );
    assert_eq!(
        h.send("80A404000E325041592E5359532E4444463031"),
        StatusWord::CLA_NOT_SUPPORTED,
        "SELECT with CLA 80"
    );
    assert_eq!(
        h.send("00A8000002830000"),
        StatusWord::CLA_NOT_SUPPORTED,
        "GPO with CLA 00"
    );
    assert_eq!(
        h.send("0CA404000E325041592E5359532E4444463031"),
        StatusWord::CLA_NOT_SUPPORTED,
        "secure messaging"
    );
}

/// Commands a fuzzer would take long to find, mixed with noise, so random
/// sequences reach every state.
fn command() -> impl Strategy<Value = Vec<u8>> {
    let valid = prop::sample::select(vec![
        hex::decode(SELECT_PPSE).unwrap(),
        hex::decode(SELECT_VISA).unwrap(),
        hex::decode("00A4040007A000000004101000").unwrap(),
        hex::decode(gpo(pdol_len())).unwrap(),
        hex::decode(READ_RECORD_1).unwrap(),
        hex::decode(generate_ac(0x80, &cdol1_data())).unwrap(),
        hex::decode(generate_ac(0x00, &cdol1_data())).unwrap(),
    ]);
    prop_oneof![
        valid.clone(),
        // A valid command with one byte changed.
        (valid, any::<prop::sample::Index>(), any::<u8>()).prop_map(|(mut c, i, b)| {
            let at = i.index(c.len());
            c[at] = b;
            c
        }),
        prop::collection::vec(any::<u8>(), 0..300),
    ]
}

proptest! {
    #[test]
    fn random_apdu_sequences_never_panic(
        cmds in prop::collection::vec(command(), 0..24),
        locked in any::<bool>(),
        deactivate_at in any::<prop::sample::Index>(),
    ) {
        let mut h = Harness::new();
        h.wallet.locked = locked;
        let stop = deactivate_at.index(cmds.len() + 1);
        for (i, cmd) in cmds.iter().enumerate() {
            if i == stop {
                h.card.on_deactivated(DeactivationReason::LinkLoss);
            }
            let resp = h.send_bytes(cmd);
            prop_assert!(resp.len() >= 2);
            let sw = sw(&resp);
            prop_assert!(sw == StatusWord::OK || resp.len() == 2, "errors carry no data");
        }
        prop_assert!(h.wallet.taken <= cmds.len());
    }
}

/// The apdu_session fuzz seeds are only useful if they reach the deep
/// states: replay the approve seed by hand and check every answer is 9000.
#[test]
fn fuzz_seed_reaches_generate_ac() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fuzz/corpus/apdu_session/visa_approve"
    );
    let seed = std::fs::read(path).unwrap();
    let mut h = Harness::new();
    let mut rest = &seed[1..];
    let mut answers = Vec::new();
    while let Some((&len, tail)) = rest.split_first() {
        let (apdu, next) = tail.split_at(usize::from(len));
        answers.push(sw(&h.send_bytes(apdu)));
        rest = next;
    }
    assert_eq!(answers, vec![StatusWord::OK; 5]);
    let done = h.card.take_completed().unwrap();
    assert_eq!(
        done.transaction.merchant_name.as_deref(),
        Some("CAFE DE FLORE PARIS")
    );
}

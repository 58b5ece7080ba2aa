//! The card's personalisation constants and the TLV templates it answers
//! with: PPSE and application FCIs, the GPO response, the record, and the
//! GENERATE AC response.

use crate::bcd::{encode_cn, encode_n};
use crate::dol::Dol;
use crate::tlv::{self, Tlv};

use super::Token;

/// The contactless directory's DF name.
pub const PPSE_NAME: &[u8] = b"2PAY.SYS.DDF01";

/// PDOL (9F38): TTQ, amount, other amount, country, currency, date, type,
/// unpredictable number.
pub const PDOL: &[u8] = &[
    0x9F, 0x66, 0x04, 0x9F, 0x02, 0x06, 0x9F, 0x03, 0x06, 0x9F, 0x1A, 0x02, 0x5F, 0x2A, 0x02, 0x9A,
    0x03, 0x9C, 0x01, 0x9F, 0x37, 0x04,
];

/// CDOL1 (8C): the PDOL's transaction data plus TVR, merchant category
/// code and merchant name and location, so the ARQC binds them all.
pub const CDOL1: &[u8] = &[
    0x9F, 0x02, 0x06, 0x9F, 0x03, 0x06, 0x9F, 0x1A, 0x02, 0x95, 0x05, 0x5F, 0x2A, 0x02, 0x9A, 0x03,
    0x9C, 0x01, 0x9F, 0x37, 0x04, 0x9F, 0x15, 0x02, 0x9F, 0x4E, 0x28,
];

/// AIP (82): no offline data authentication, no CVM list (the phone
/// verifies its user itself), online only; byte 2 bit 8: EMV mode.
pub const AIP: [u8; 2] = [0x00, 0x80];

/// The one short file identifier holding the record.
pub const SFI: u8 = 1;

/// AFL (94): SFI 1, records 1 to 1, none for offline authentication.
pub const AFL: [u8; 4] = [SFI << 3, 1, 1, 0];

/// Service code in track 2: international, chip, normal authorisation.
const SERVICE_CODE: &str = "201";

/// The parsed PDOL and CDOL1, fixed for every token.
pub fn pdol() -> Dol {
    Dol::parse(PDOL).unwrap_or_default()
}

pub fn cdol1() -> Dol {
    Dol::parse(CDOL1).unwrap_or_default()
}

fn encode(t: &Tlv) -> Vec<u8> {
    // Every template here is a few dozen bytes: encoding cannot overflow.
    t.encode().unwrap_or_default()
}

/// FCI of the PPSE: one directory entry per token, in priority order.
pub fn ppse_fci(tokens: &[Token]) -> Vec<u8> {
    let entries = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| {
            Tlv::constructed(
                0x61,
                vec![
                    Tlv::primitive(0x4F, t.aid.clone()),
                    Tlv::primitive(0x50, t.label.as_bytes()),
                    Tlv::primitive(0x87, vec![u8::try_from(i + 1).unwrap_or(0x0F).min(0x0F)]),
                ],
            )
        })
        .collect();
    encode(&Tlv::constructed(
        0x6F,
        vec![
            Tlv::primitive(0x84, PPSE_NAME),
            Tlv::constructed(0xA5, vec![Tlv::constructed(0xBF0C, entries)]),
        ],
    ))
}

/// FCI of an application: DF name, label, PDOL.
pub fn adf_fci(token: &Token) -> Vec<u8> {
    encode(&Tlv::constructed(
        0x6F,
        vec![
            Tlv::primitive(0x84, token.aid.clone()),
            Tlv::constructed(
                0xA5,
                vec![
                    Tlv::primitive(0x50, token.label.as_bytes()),
                    Tlv::primitive(0x9F38, PDOL),
                ],
            ),
        ],
    ))
}

/// GET PROCESSING OPTIONS response, format 2.
pub fn gpo_response() -> Vec<u8> {
    encode(&Tlv::constructed(
        0x77,
        vec![Tlv::primitive(0x82, AIP), Tlv::primitive(0x94, AFL)],
    ))
}

/// Track 2 equivalent data (57): PAN, separator D, YYMM, service code,
/// padded with F to whole bytes.
pub fn track2(token: &Token) -> Vec<u8> {
    let mut s = format!("{}D{}{}", token.pan(), token.expiry.yymm(), SERVICE_CODE);
    if !s.len().is_multiple_of(2) {
        s.push('F');
    }
    hex::decode(s).unwrap_or_default()
}

/// The application's only record (SFI 1, record 1).
pub fn record(token: &Token) -> Vec<u8> {
    encode(&Tlv::constructed(
        0x70,
        vec![
            Tlv::primitive(0x57, track2(token)),
            Tlv::primitive(0x5A, encode_cn(token.pan()).unwrap_or_default()),
            Tlv::primitive(0x5F24, token.expiry.to_bcd()),
            Tlv::primitive(
                0x5F34,
                encode_n(u64::from(token.psn), 1).unwrap_or_default(),
            ),
            Tlv::primitive(0x8C, CDOL1),
        ],
    ))
}

/// GENERATE AC response, format 2.
pub fn generate_ac_response(cid: u8, atc: u16, ac: [u8; 8], iad: &[u8]) -> Vec<u8> {
    tlv::encode(&[Tlv::constructed(
        0x77,
        vec![
            Tlv::primitive(0x9F27, vec![cid]),
            Tlv::primitive(0x9F36, atc.to_be_bytes()),
            Tlv::primitive(0x9F26, ac),
            Tlv::primitive(0x9F10, iad),
        ],
    )])
    .unwrap_or_default()
}

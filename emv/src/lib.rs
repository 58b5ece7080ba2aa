//! EMV protocols shared by the card the phone plays and by the terminal and
//! issuer that test it: BER-TLV, APDUs, the contactless card application, a
//! reader kernel, cryptograms, and EMV QR (merchant- and consumer-presented).
//!
//! Nothing here does I/O, reads a clock or draws randomness: whatever a
//! function needs of those is passed in, so every part is deterministic and
//! fuzzable.

#![forbid(unsafe_code)]

pub mod apdu;
pub mod bcd;
pub mod card;
pub mod crypto;
pub mod dol;
pub mod fuzzing;
pub mod issuer;
pub mod kernel;
pub mod qr;
pub mod tlv;

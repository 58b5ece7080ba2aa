//! EMV protocols shared by the card the phone plays and by the terminal and
//! issuer that test it. Filled in by the tap and QR work.

#![forbid(unsafe_code)]

//! The consumer-presented payment code (EMV CPM): what the phone shows
//! when it cannot reach the bank, or when the merchant scans rather than
//! shows a code. It is made offline, like a tap: the default card's token
//! and an ARQC from the next single-use key, over the amount the customer
//! entered. The merchant scans it and sends it to the bank, which verifies
//! the cryptogram and charges, exactly as for a tap.
//!
//! Making a code spends a key and records it like a tap (same commit, same
//! outbox report), so a code is good for one payment and the key is never
//! used twice. Its pending hold is released if no merchant presents it
//! (see the sync's hold expiry).

use std::collections::BTreeMap;

use chrono::{Datelike, TimeZone, Utc};
use emv::card::{templates, Decline};
use emv::qr::cpm::{ConsumerPayload, CpmTemplate};
use emv::tlv::{Tag, Tlv};
use ring::rand::{SecureRandom, SystemRandom};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::money::Money;
use crate::qr::{consumer_presented_code, QrMatrix};
use crate::wallet::Wallet;

/// A code ready to show, and what it commits to.
#[derive(Debug, Clone, Serialize)]
pub struct ConsumerPaymentCode {
    /// The base64 CPM payload. Holds the token number: show it, never log
    /// or store it.
    #[serde(skip)]
    pub payload: String,
    #[serde(skip)]
    pub matrix: QrMatrix,
    pub amount: Money,
    /// The token's BIN and last four.
    pub masked_pan: String,
    /// The single-use key's ATC.
    pub atc: u16,
    /// Also the idempotency key of its pending entry.
    pub tap_id: String,
}

fn bcd(value: u64, bytes: usize) -> Result<Vec<u8>> {
    emv::bcd::encode_n(value, bytes).ok_or(Error::InvalidAmount("the amount is too large"))
}

fn refused(d: Decline) -> Error {
    Error::InvalidToken(match d {
        Decline::Frozen => "the card is frozen or its token suspended",
        Decline::KeysExhausted => "no single-use keys are left; sync to get more",
        Decline::Locked => "the wallet is locked",
        _ => "the card application cannot make a code now",
    })
}

impl Wallet {
    /// Makes a consumer-presented code for `amount` with the default card.
    pub fn consumer_payment_code(&self, amount: &Money) -> Result<ConsumerPaymentCode> {
        let keys = self.keys()?;
        let minor = crate::ledger::check_magnitude(amount)?;
        if minor == 0 {
            return Err(Error::InvalidAmount("the amount must be more than zero"));
        }
        let token = self.default_emv_token()?.ok_or(Error::InvalidToken(
            "the default card has no payment token yet",
        ))?;
        let mut un = [0u8; 4];
        SystemRandom::new()
            .fill(&mut un)
            .map_err(|_| Error::KeyStore("no randomness for the code".into()))?;
        let today = Utc
            .timestamp_millis_opt(self.now_ms())
            .single()
            .ok_or(Error::InvalidText {
                field: "clock",
                reason: "the time is out of range",
            })?;
        let date = vec![
            bcd(u64::from(today.year() as u32 % 100), 1)?[0],
            bcd(u64::from(today.month()), 1)?[0],
            bcd(u64::from(today.day()), 1)?[0],
        ];
        let currency = bcd(u64::from(amount.currency().numeric()), 2)?;
        // The terminal's side of CDOL1 as the code fixes it: amount,
        // currency, date and a fresh unpredictable number. No merchant is
        // known yet; the bank takes it from the merchant's request.
        let mut values: BTreeMap<Tag, Vec<u8>> = BTreeMap::new();
        values.insert(Tag(0x9F02), bcd(minor as u64, 6)?);
        values.insert(Tag(0x9F03), bcd(0, 6)?);
        values.insert(Tag(0x9F1A), currency.clone());
        values.insert(Tag(0x5F2A), currency);
        values.insert(Tag(0x9A), date.clone());
        values.insert(Tag(0x9C), vec![0x00]);
        values.insert(Tag(0x9F37), un.to_vec());
        let cdol1 = templates::cdol1().build(&values);
        let (recorded, _key) = self.use_key(&keys, &token, &cdol1).map_err(refused)?;
        let pan = emv::bcd::encode_n_digits(token.pan(), token.pan().len().div_ceil(2))
            .ok_or(Error::Corrupt("a token number is malformed"))?;
        let app = CpmTemplate::application(&token.aid)
            .with(0x50, token.label.as_bytes().to_vec())
            .with(0x5A, pan)
            .with(0x5F34, vec![token.psn])
            .with(0x5F24, token.expiry.to_bcd().to_vec())
            .with_template(
                0x63,
                vec![
                    Tlv::primitive(0x9F27u32, vec![0x80]),
                    Tlv::primitive(0x9F36u32, recorded.atc.to_be_bytes().to_vec()),
                    Tlv::primitive(0x9F26u32, recorded.ac.to_vec()),
                    Tlv::primitive(0x9F10u32, recorded.iad.clone()),
                    Tlv::primitive(0x82u32, templates::AIP.to_vec()),
                    Tlv::primitive(0x9F37u32, un.to_vec()),
                    Tlv::primitive(0x9F02u32, values[&Tag(0x9F02)].clone()),
                    Tlv::primitive(0x5F2Au32, values[&Tag(0x5F2A)].clone()),
                    Tlv::primitive(0x9Au32, date),
                ],
            );
        let payload = ConsumerPayload {
            applications: vec![app],
            common: None,
            other: Vec::new(),
        }
        .encode()
        .map_err(|_| Error::QrEncode("the consumer-presented payload could not be built"))?;
        let matrix = consumer_presented_code(&payload)?;
        // The pending hold, like a tap's, named for what it is until the
        // merchant's posting brings the merchant's name.
        self.conn().execute(
            "UPDATE taps SET merchant = 'Payment code' WHERE id = ?1 AND merchant IS NULL",
            [&recorded.id],
        )?;
        self.settle_taps()?;
        Ok(ConsumerPaymentCode {
            payload,
            matrix,
            amount: *amount,
            masked_pan: crate::card::mask_digits(token.pan()),
            atc: recorded.atc,
            tap_id: recorded.id,
        })
    }
}

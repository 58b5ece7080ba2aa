//! The transaction as the terminal described it in the PDOL and CDOL1
//! data, decoded for the wallet's pending ledger entry.

use std::collections::BTreeMap;

use crate::bcd::decode_n;
use crate::crypto::CryptogramData;
use crate::tlv::Tag;

use super::Decline;

/// A transaction date (9A), in the terminal's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TxnDate {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

/// What the terminal told the card about the payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionData {
    /// Amount, authorised (9F02), in minor units of `currency`.
    pub amount_minor: u64,
    /// Amount, other (9F03): cashback, in minor units.
    pub other_amount_minor: u64,
    /// ISO 4217 numeric currency code (5F2A).
    pub currency: u16,
    /// ISO 3166 numeric terminal country code (9F1A).
    pub country: u16,
    /// Transaction date (9A).
    pub date: TxnDate,
    /// Transaction type (9C): 00 purchase, 01 cash, 09 cashback, 20 refund.
    pub transaction_type: u8,
    /// Unpredictable number (9F37).
    pub unpredictable_number: [u8; 4],
    /// Terminal verification results (95).
    pub tvr: [u8; 5],
    /// Merchant category code (9F15), when the terminal sent one.
    pub mcc: Option<u16>,
    /// Merchant name and location (9F4E), when the terminal sent one.
    pub merchant_name: Option<String>,
}

/// Why the terminal's data cannot describe a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransactionDataError {
    #[error("data element {0} is missing")]
    Missing(Tag),
    #[error("data element {0} is malformed")]
    Malformed(Tag),
}

impl TransactionData {
    /// Decodes the terminal data from PDOL and CDOL1 values (later values
    /// of the same tag win).
    pub fn from_values(values: &BTreeMap<Tag, Vec<u8>>) -> Result<Self, TransactionDataError> {
        let get = |tag: u32| values.get(&Tag(tag)).map(Vec::as_slice);
        let need = |tag: u32| get(tag).ok_or(TransactionDataError::Missing(Tag(tag)));
        let numeric =
            |tag: u32| decode_n(need(tag)?).ok_or(TransactionDataError::Malformed(Tag(tag)));
        let fixed = |tag: u32, len: usize| {
            let v = need(tag)?;
            if v.len() == len {
                Ok(v)
            } else {
                Err(TransactionDataError::Malformed(Tag(tag)))
            }
        };
        let code = |tag: u32| {
            u16::try_from(numeric(tag)?)
                .ok()
                .filter(|c| *c <= 999)
                .ok_or(TransactionDataError::Malformed(Tag(tag)))
        };

        let date_raw = fixed(0x9A, 3)?;
        let bad_date = TransactionDataError::Malformed(Tag(0x9A));
        let d = |i: usize| decode_n(&date_raw[i..=i]).map(|v| v as u8).ok_or(bad_date);
        let date = TxnDate {
            year: 2000 + u16::from(d(0)?),
            month: d(1)?,
            day: d(2)?,
        };
        if !(1..=12).contains(&date.month) || !(1..=31).contains(&date.day) {
            return Err(bad_date);
        }

        let mcc = match get(0x9F15) {
            None => None,
            Some(v) => {
                let mcc = decode_n(v).ok_or(TransactionDataError::Malformed(Tag(0x9F15)))?;
                // An all-zero MCC is what a terminal that lacks one sends.
                u16::try_from(mcc).ok().filter(|m| *m != 0 && *m <= 9999)
            }
        };

        Ok(TransactionData {
            amount_minor: numeric(0x9F02)?,
            other_amount_minor: get(0x9F03).map_or(Ok(0), |_| numeric(0x9F03))?,
            currency: code(0x5F2A)?,
            country: code(0x9F1A)?,
            date,
            transaction_type: numeric(0x9C)? as u8,
            unpredictable_number: fixed(0x9F37, 4)?.try_into().unwrap_or([0; 4]),
            tvr: get(0x95).and_then(|v| v.try_into().ok()).unwrap_or([0; 5]),
            mcc,
            merchant_name: get(0x9F4E).and_then(merchant_name),
        })
    }
}

/// Decodes a merchant name: zero/space padding trimmed, anything outside
/// printable ASCII replaced, empty as `None`.
fn merchant_name(raw: &[u8]) -> Option<String> {
    let s: String = raw
        .iter()
        .map(|&b| {
            if (0x20..0x7F).contains(&b) {
                char::from(b)
            } else {
                '\0'
            }
        })
        .collect::<String>()
        .trim_end_matches(['\0', ' '])
        .replace('\0', "?");
    let s = s.trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// How a tap ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TapOutcome {
    /// The card returned an ARQC: the terminal goes online with it.
    Online(CryptogramData),
    /// The card returned an AAC.
    Declined(Decline),
}

/// A finished tap, for the wallet's pending ledger entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedTap {
    /// The [`Token::id`](super::Token::id) that was used.
    pub token_id: String,
    pub transaction: TransactionData,
    pub outcome: TapOutcome,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> BTreeMap<Tag, Vec<u8>> {
        let mut m = BTreeMap::new();
        for (t, v) in [
            (0x9F02, "000000001234"),
            (0x9F03, "000000000000"),
            (0x9F1A, "0840"),
            (0x5F2A, "0840"),
            (0x9A, "250314"),
            (0x9C, "00"),
            (0x9F37, "DEADBEEF"),
            (0x9F15, "5812"),
        ] {
            m.insert(Tag(t), hex::decode(v).unwrap());
        }
        m.insert(Tag(0x9F4E), b"CAFE ROMA  ROME\0\0\0".to_vec());
        m
    }

    #[test]
    fn decodes() {
        let t = TransactionData::from_values(&values()).unwrap();
        assert_eq!(t.amount_minor, 1234);
        assert_eq!((t.currency, t.country), (840, 840));
        assert_eq!(
            t.date,
            TxnDate {
                year: 2025,
                month: 3,
                day: 14
            }
        );
        assert_eq!(t.mcc, Some(5812));
        assert_eq!(t.merchant_name.as_deref(), Some("CAFE ROMA  ROME"));
        assert_eq!(t.unpredictable_number, [0xDE, 0xAD, 0xBE, 0xEF]);
    }

    #[test]
    fn rejects_bad_data() {
        let mut v = values();
        v.insert(Tag(0x9F02), vec![0xAA; 6]);
        assert_eq!(
            TransactionData::from_values(&v),
            Err(TransactionDataError::Malformed(Tag(0x9F02)))
        );
        let mut v = values();
        v.insert(Tag(0x9A), vec![0x25, 0x13, 0x01]);
        assert!(TransactionData::from_values(&v).is_err());
        let mut v = values();
        v.remove(&Tag(0x5F2A));
        assert_eq!(
            TransactionData::from_values(&v),
            Err(TransactionDataError::Missing(Tag(0x5F2A)))
        );
        let mut v = values();
        v.insert(Tag(0x9F15), vec![0, 0]);
        v.insert(Tag(0x9F4E), vec![0; 10]);
        let t = TransactionData::from_values(&v).unwrap();
        assert_eq!((t.mcc, t.merchant_name), (None, None));
    }
}

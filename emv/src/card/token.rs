//! The payment tokens the card application can present, as the wallet
//! provisions them.

use std::fmt;

use crate::bcd::is_digits;
use crate::crypto::Profile;

/// An expiry date, as personalised in tag 5F24 (YYMMDD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expiry {
    /// Two-digit year (0–99, meaning 2000–2099).
    pub yy: u8,
    pub mm: u8,
    pub dd: u8,
}

impl Expiry {
    /// Parses `YYMMDD`.
    pub fn parse_yymmdd(s: &str) -> Result<Self, TokenError> {
        if s.len() != 6 || !is_digits(s) {
            return Err(TokenError::BadExpiry);
        }
        let n = |i: usize| s[i..i + 2].parse::<u8>().map_err(|_| TokenError::BadExpiry);
        let e = Expiry {
            yy: n(0)?,
            mm: n(2)?,
            dd: n(4)?,
        };
        if !(1..=12).contains(&e.mm) || !(1..=31).contains(&e.dd) {
            return Err(TokenError::BadExpiry);
        }
        Ok(e)
    }

    /// `YYMMDD` as three BCD bytes.
    pub fn to_bcd(self) -> [u8; 3] {
        [bcd_byte(self.yy), bcd_byte(self.mm), bcd_byte(self.dd)]
    }

    /// `YYMM`, the form used in track 2 data.
    pub fn yymm(self) -> String {
        format!("{:02}{:02}", self.yy, self.mm)
    }
}

fn bcd_byte(v: u8) -> u8 {
    ((v / 10) << 4) | (v % 10)
}

/// Why token details are unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("AID must be 5 to 16 bytes")]
    BadAid,
    #[error("application label must be 1 to 16 printable ASCII characters")]
    BadLabel,
    #[error("token PAN must be 12 to 19 digits")]
    BadPan,
    #[error("PAN sequence number must be 0 to 99")]
    BadPsn,
    #[error("expiry must be a valid YYMMDD date")]
    BadExpiry,
}

/// One payment token the phone can present.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    /// The wallet's own identifier for this token, returned with each
    /// completed tap and passed to the backend.
    pub id: String,
    /// Application identifier (4F / 84).
    pub aid: Vec<u8>,
    /// Application label (50) shown by terminals.
    pub label: String,
    /// Token PAN, decimal digits.
    pan: String,
    /// PAN sequence number (5F34), 0–99.
    pub psn: u8,
    pub expiry: Expiry,
    pub profile: Profile,
    /// Derivation Key Index reported in the IAD, so the issuer knows which
    /// of its master keys this token's keys come from.
    pub dki: u8,
}

impl Token {
    /// A validated token.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: impl Into<String>,
        aid: impl Into<Vec<u8>>,
        label: impl Into<String>,
        pan: impl Into<String>,
        psn: u8,
        expiry: Expiry,
        profile: Profile,
        dki: u8,
    ) -> Result<Self, TokenError> {
        let (aid, label, pan) = (aid.into(), label.into(), pan.into());
        if !(5..=16).contains(&aid.len()) {
            return Err(TokenError::BadAid);
        }
        if label.is_empty() || label.len() > 16 || !label.bytes().all(|b| (0x20..0x7F).contains(&b))
        {
            return Err(TokenError::BadLabel);
        }
        if !is_digits(&pan) || !(12..=19).contains(&pan.len()) {
            return Err(TokenError::BadPan);
        }
        if psn > 99 {
            return Err(TokenError::BadPsn);
        }
        Ok(Token {
            id: id.into(),
            aid,
            label,
            pan,
            psn,
            expiry,
            profile,
            dki,
        })
    }

    /// The token PAN's digits. Secret: never log it.
    pub fn pan(&self) -> &str {
        &self.pan
    }

    /// The last four digits, for display.
    pub fn pan_last4(&self) -> &str {
        &self.pan[self.pan.len() - 4..]
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("id", &self.id)
            .field("aid", &hex::encode_upper(&self.aid))
            .field("label", &self.label)
            .field("pan", &format_args!("…{}", self.pan_last4()))
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

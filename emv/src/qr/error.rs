//! Typed errors and warnings for merchant-presented payloads.
//!
//! Every variant has a stable `code()` for machines (the CLI's JSON error
//! shape, the FFI error mapping) and a message for people. Messages name
//! data objects by ID and position and never echo the payload: it can be
//! long, and a scanned code is untrusted text that does not belong in logs.

use std::fmt;

use serde::ser::{Serialize, SerializeStruct, Serializer};

/// A data object's place in the payload: a top-level ID, or an ID inside a
/// template (`62.05` is the reference label of the additional data field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldId {
    pub id: u8,
    pub sub: Option<u8>,
}

impl FieldId {
    pub const fn top(id: u8) -> Self {
        FieldId { id, sub: None }
    }

    pub const fn sub(id: u8, sub: u8) -> Self {
        FieldId { id, sub: Some(sub) }
    }
}

impl fmt::Display for FieldId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.sub {
            None => write!(f, "ID {:02}", self.id),
            Some(sub) => write!(f, "ID {:02}.{:02}", self.id, sub),
        }
    }
}

/// Why a merchant-presented payload was rejected, or could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MpmError {
    #[error("the payload is empty")]
    Empty,
    #[error("the data object header at position {position} is cut short")]
    Truncated { position: usize },
    #[error("the data object at position {position} has a non-numeric ID")]
    NonNumericId { position: usize },
    #[error("data object {field} at position {position} has a non-numeric length")]
    NonNumericLength { field: FieldId, position: usize },
    #[error("data object {field} declares {declared} characters but only {remaining} remain")]
    LengthOverflow {
        field: FieldId,
        declared: usize,
        remaining: usize,
    },
    #[error("data object {field} is empty")]
    EmptyValue { field: FieldId },
    #[error("data object {field} is {len} characters long; at most {max} are allowed")]
    TooLong {
        field: FieldId,
        len: usize,
        max: usize,
    },
    #[error("data object {field} must be exactly {expected} characters long, not {len}")]
    WrongLength {
        field: FieldId,
        len: usize,
        expected: usize,
    },
    #[error("data object {field} appears more than once")]
    DuplicateId { field: FieldId },
    #[error("data object {field} is not allowed there")]
    UnexpectedId { field: FieldId },
    #[error("the payload has no CRC (ID 63)")]
    MissingCrc,
    #[error("the CRC (ID 63) is not the last data object")]
    CrcNotLast,
    #[error("the CRC (ID 63) is not four hex digits")]
    MalformedCrc,
    #[error("CRC mismatch: the payload carries {found:04X} but its content gives {computed:04X}")]
    CrcMismatch { found: u16, computed: u16 },
    #[error("the payload does not start with the payload format indicator (ID 00)")]
    PayloadFormatNotFirst,
    #[error("unsupported payload format indicator (ID 00): expected 01")]
    UnsupportedPayloadFormat,
    #[error("required data object {field} is missing")]
    MissingField { field: FieldId },
    #[error("no merchant account information (IDs 02-51)")]
    MissingMerchantAccount,
    #[error("point of initiation (ID 01) must be 11 (static) or 12 (dynamic)")]
    InvalidPointOfInitiation,
    #[error(
        "data object {field} is not a valid amount (digits with an optional '.' decimal mark)"
    )]
    InvalidAmount { field: FieldId },
    #[error("convenience fee percentage (ID 57) must be a number between 0.01 and 99.99")]
    InvalidPercentage,
    #[error("tip or convenience indicator (ID 55) must be 01, 02 or 03")]
    InvalidTipIndicator,
    #[error("tip or convenience indicator (ID 55) requires data object {field}")]
    MissingTipValue { field: FieldId },
    #[error("transaction currency (ID 53) must be three digits (ISO 4217 numeric)")]
    InvalidCurrency,
    #[error("country code (ID 58) must be two uppercase letters (ISO 3166-1 alpha-2)")]
    InvalidCountry,
    #[error("merchant category code (ID 52) must be four digits (ISO 18245)")]
    InvalidMcc,
    #[error("language preference (ID 64.00) must be two letters (ISO 639-1)")]
    InvalidLanguage,
    #[error("data object {field} must be a template of data objects")]
    MalformedTemplate { field: FieldId },
}

impl MpmError {
    /// A stable, machine-readable identifier for the kind of error.
    pub fn code(&self) -> &'static str {
        match self {
            MpmError::Empty => "empty_payload",
            MpmError::Truncated { .. } => "truncated_field",
            MpmError::NonNumericId { .. } => "non_numeric_id",
            MpmError::NonNumericLength { .. } => "non_numeric_length",
            MpmError::LengthOverflow { .. } => "length_overflow",
            MpmError::EmptyValue { .. } => "empty_value",
            MpmError::TooLong { .. } => "field_too_long",
            MpmError::WrongLength { .. } => "wrong_field_length",
            MpmError::DuplicateId { .. } => "duplicate_id",
            MpmError::UnexpectedId { .. } => "unexpected_id",
            MpmError::MissingCrc => "missing_crc",
            MpmError::CrcNotLast => "crc_not_last",
            MpmError::MalformedCrc => "malformed_crc",
            MpmError::CrcMismatch { .. } => "crc_mismatch",
            MpmError::PayloadFormatNotFirst => "payload_format_not_first",
            MpmError::UnsupportedPayloadFormat => "unsupported_payload_format",
            MpmError::MissingField { .. } => "missing_field",
            MpmError::MissingMerchantAccount => "missing_merchant_account",
            MpmError::InvalidPointOfInitiation => "invalid_point_of_initiation",
            MpmError::InvalidAmount { .. } => "invalid_amount",
            MpmError::InvalidPercentage => "invalid_percentage",
            MpmError::InvalidTipIndicator => "invalid_tip_indicator",
            MpmError::MissingTipValue { .. } => "missing_tip_value",
            MpmError::InvalidCurrency => "invalid_currency",
            MpmError::InvalidCountry => "invalid_country",
            MpmError::InvalidMcc => "invalid_mcc",
            MpmError::InvalidLanguage => "invalid_language",
            MpmError::MalformedTemplate { .. } => "malformed_template",
        }
    }
}

/// Something off about a payload that real codes in circulation do anyway:
/// it is accepted, and reported so the app can decide what to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QrWarning {
    /// Payload format indicator "02" (DuitNow and others) instead of "01".
    PayloadFormat02,
    /// No merchant category code (ID 52): usual for person-to-person codes.
    MissingMcc,
    /// No merchant name (ID 59): usual for person-to-person codes.
    MissingMerchantName,
    /// No merchant city (ID 60): usual for person-to-person codes.
    MissingMerchantCity,
    /// The CRC is written in lowercase hex.
    LowercaseCrc,
    /// The currency (ID 53) is three digits but not an ISO 4217 code.
    UnknownCurrency,
    /// The amount has more decimals than the currency has minor units.
    AmountPrecision,
    /// Lengths count UTF-8 bytes instead of characters (a common encoder
    /// bug with non-ASCII names); the payload parsed only that way.
    LengthCountsBytes,
    /// A merchant account or unreserved template lacks its GUID (sub-ID 00).
    MissingGuid { id: u8 },
    /// A convenience fee (ID 56 or 57) without the indicator (ID 55) that
    /// calls for it; it is ignored.
    UnexpectedFeeField { id: u8 },
}

impl QrWarning {
    /// A stable, machine-readable identifier for the kind of warning.
    pub fn code(&self) -> &'static str {
        match self {
            QrWarning::PayloadFormat02 => "payload_format_02",
            QrWarning::MissingMcc => "missing_mcc",
            QrWarning::MissingMerchantName => "missing_merchant_name",
            QrWarning::MissingMerchantCity => "missing_merchant_city",
            QrWarning::LowercaseCrc => "lowercase_crc",
            QrWarning::UnknownCurrency => "unknown_currency",
            QrWarning::AmountPrecision => "amount_precision",
            QrWarning::LengthCountsBytes => "length_counts_bytes",
            QrWarning::MissingGuid { .. } => "missing_guid",
            QrWarning::UnexpectedFeeField { .. } => "unexpected_fee_field",
        }
    }
}

impl fmt::Display for QrWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QrWarning::PayloadFormat02 => {
                f.write_str("payload format indicator is 02 instead of 01")
            }
            QrWarning::MissingMcc => f.write_str("no merchant category code (ID 52)"),
            QrWarning::MissingMerchantName => f.write_str("no merchant name (ID 59)"),
            QrWarning::MissingMerchantCity => f.write_str("no merchant city (ID 60)"),
            QrWarning::LowercaseCrc => f.write_str("the CRC is written in lowercase hex"),
            QrWarning::UnknownCurrency => {
                f.write_str("the transaction currency (ID 53) is not a known ISO 4217 code")
            }
            QrWarning::AmountPrecision => {
                f.write_str("the amount has more decimals than the currency allows")
            }
            QrWarning::LengthCountsBytes => {
                f.write_str("data object lengths count bytes instead of characters")
            }
            QrWarning::MissingGuid { id } => {
                write!(f, "template ID {id:02} has no globally unique identifier (sub-ID 00)")
            }
            QrWarning::UnexpectedFeeField { id } => write!(
                f,
                "ID {id:02} is present without the matching tip or convenience indicator (ID 55) and is ignored"
            ),
        }
    }
}

/// JSON shape: `{"code": "...", "message": "..."}`.
impl Serialize for QrWarning {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("QrWarning", 2)?;
        s.serialize_field("code", self.code())?;
        s.serialize_field("message", &self.to_string())?;
        s.end()
    }
}

//! One entry point for any scanned EMV payload: merchant-presented text
//! starts with its payload format indicator ("0002"), consumer-presented
//! base64 with tag 85 ("hQVDUFYw", the encoding of 85 05 "CPV0").

use super::cpm::{self, ConsumerPayload, CpmError};
use super::error::MpmError;
use super::request::{inspect_merchant_qr, MerchantQr};

/// A parsed EMV QR payload of either mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmvQr {
    Merchant(Box<MerchantQr>),
    Consumer(ConsumerPayload),
}

/// Why a scanned text is not a usable EMV QR payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("not an EMV QR payload")]
    NotEmv,
    #[error(transparent)]
    Merchant(#[from] MpmError),
    #[error(transparent)]
    Consumer(#[from] CpmError),
}

impl QrError {
    pub fn code(&self) -> &'static str {
        match self {
            QrError::NotEmv => "not_emv_qr",
            QrError::Merchant(e) => e.code(),
            QrError::Consumer(e) => e.code(),
        }
    }
}

/// Parses either mode. A merchant-presented payload with a wrong CRC is
/// returned with `crc_valid: false` rather than rejected, since this is
/// for showing what a code says; paying must check `crc_valid`.
pub fn parse_any(payload: &str) -> Result<EmvQr, QrError> {
    if payload.starts_with("0002") {
        Ok(EmvQr::Merchant(Box::new(inspect_merchant_qr(payload)?)))
    } else if payload.starts_with("hQVDUFYw") {
        Ok(EmvQr::Consumer(cpm::parse(payload)?))
    } else {
        Err(QrError::NotEmv)
    }
}

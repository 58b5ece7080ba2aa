//! EMV QR codes: the merchant-presented format (parse, build, validate),
//! the consumer-presented format (build, parse), the national schemes that
//! ride on them, and the payment request a wallet shows for a scanned code.

pub mod cpm;
pub mod crc;
pub mod currency;
pub mod data_object;
mod detect;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod mcc;
pub mod mpm;
mod request;
pub mod schemes;

pub use cpm::{ConsumerPayload, ConsumerSummary, CpmError, CpmTemplate};
pub use data_object::DataObject;
pub use detect::{parse_any, EmvQr, QrError};
pub use error::{FieldId, MpmError, QrWarning};
pub use mcc::Category;
pub use mpm::{
    AdditionalData, LanguageTemplate, MerchantAccount, MerchantPayload, ParsedMerchant,
    PointOfInitiation, Template, TipRule,
};
pub use request::{inspect_merchant_qr, parse_merchant_qr, MerchantQr};
pub use schemes::{Payee, PayeeKind, Scheme, SchemeInfo};

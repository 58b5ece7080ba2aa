//! From a scanned EMV merchant-presented payload to the [`PaymentRequest`]
//! the app shows before the user confirms: the parsing and validation are
//! `emv`'s; this maps its view into the wallet's own money and currency
//! types, and a plain shape the bindings can carry.

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::money::{Currency, Money};

/// Whether a code is printed for every payment or made for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PointOfInitiation {
    Static,
    Dynamic,
}

/// What the payer adds on top of the amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TipRule {
    None,
    /// The app asks the payer for a tip.
    Prompt,
    /// A fixed convenience fee.
    FixedFee {
        fee: Money,
    },
    /// A convenience fee in percent of the amount.
    PercentageFee {
        #[serde(serialize_with = "decimal_string")]
        percent: Decimal,
    },
}

/// One scheme the code can be paid through, and who gets paid there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentScheme {
    /// The merchant account information ID, "02" to "51".
    pub tag: String,
    /// `pix`, `promptpay`, `paynow`, `visa`... (`unknown` for others).
    pub scheme: String,
    /// The template's globally unique identifier (AID or reverse domain).
    pub guid: Option<String>,
    /// What kind of identifier the payee is (`phone`, `pix_key`, `vpa`...).
    pub payee_kind: Option<String>,
    pub payee: Option<String>,
    /// The bank or acquirer holding the payee's account, where given.
    pub institution: Option<String>,
    /// A scheme-level reference (bill reference, UPI transaction note).
    pub reference: Option<String>,
}

/// Something unusual about the code that real codes do anyway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QrWarning {
    /// Stable, machine-readable: `missing_mcc`, `lowercase_crc`...
    pub code: String,
    pub message: String,
}

/// The merchant's name and city in an alternate language (template 64).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlternateLanguage {
    /// ISO 639-1.
    pub language: String,
    pub merchant_name: Option<String>,
    pub merchant_city: Option<String>,
}

/// A merchant-presented code, ready to show and to pay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentRequest {
    /// The scanned text, as the bank needs it to route the payment.
    #[serde(skip)]
    pub payload: String,
    pub merchant_name: Option<String>,
    pub merchant_city: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// ISO 18245 merchant category code.
    pub mcc: Option<String>,
    /// The spending category the MCC falls in (`groceries`, `restaurants`...).
    pub category: String,
    pub currency: Currency,
    /// `None`: the customer enters the amount.
    #[serde(serialize_with = "amount_string")]
    pub amount: Option<Money>,
    pub tip: TipRule,
    pub point_of_initiation: Option<PointOfInitiation>,
    pub schemes: Vec<PaymentScheme>,
    /// The additional-data sub-fields by name (`bill_number`,
    /// `reference_label`...); `***` asks the app to collect the value.
    pub additional_data: BTreeMap<String, String>,
    pub alternate_language: Option<AlternateLanguage>,
    /// False when the code's checksum does not match its content: show
    /// what it says, but do not pay it.
    pub crc_valid: bool,
    pub warnings: Vec<QrWarning>,
}

fn decimal_string<S: serde::Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&d.to_string())
}

fn amount_string<S: serde::Serializer>(amount: &Option<Money>, s: S) -> Result<S::Ok, S::Error> {
    match amount {
        Some(m) => s.serialize_str(&m.amount().to_string()),
        None => s.serialize_none(),
    }
}

impl PaymentRequest {
    /// Reads a merchant-presented payload. A wrong CRC still gives a
    /// request, with `crc_valid: false`, so the user can be told what the
    /// code says and why it cannot be paid; every other defect the
    /// specification forbids is an error.
    pub fn from_payload(payload: &str) -> Result<Self> {
        let qr = emv::qr::inspect_merchant_qr(payload).map_err(|e| Error::InvalidQr {
            reason: e.code(),
            message: e.to_string(),
        })?;
        Self::from_merchant_qr(payload, &qr)
    }

    /// Maps `emv`'s view of a parsed payload.
    pub fn from_merchant_qr(payload: &str, qr: &emv::qr::MerchantQr) -> Result<Self> {
        let invalid = |reason, message: &str| Error::InvalidQr {
            reason,
            message: message.to_string(),
        };
        let currency = qr
            .currency_numeric
            .parse::<u16>()
            .ok()
            .and_then(|n| Currency::from_numeric(n).ok())
            .ok_or_else(|| {
                invalid(
                    "unknown_currency",
                    "the code's currency (ID 53) is not one the wallet can pay in",
                )
            })?;
        let decimal = |s: &str, what: &str| {
            Decimal::from_str(s).map_err(|_| Error::InvalidQr {
                reason: "invalid_amount",
                message: format!("the code's {what} is not a number"),
            })
        };
        // Kept at the precision the code states: `emv` warns when that is
        // finer than the currency's minor unit, and the app decides.
        let amount = qr
            .amount
            .as_deref()
            .map(|a| decimal(a, "amount").map(|d| Money::new(d, currency)))
            .transpose()?;
        let tip = match &qr.tip {
            emv::qr::TipRule::None => TipRule::None,
            emv::qr::TipRule::Prompt => TipRule::Prompt,
            emv::qr::TipRule::Fixed(fee) => TipRule::FixedFee {
                fee: Money::new(decimal(fee, "convenience fee")?, currency),
            },
            emv::qr::TipRule::Percentage(p) => TipRule::PercentageFee {
                percent: decimal(p, "convenience fee percentage")?,
            },
        };
        let point_of_initiation = qr.point_of_initiation.map(|p| match p {
            emv::qr::PointOfInitiation::Static => PointOfInitiation::Static,
            emv::qr::PointOfInitiation::Dynamic => PointOfInitiation::Dynamic,
        });
        let schemes = qr
            .schemes
            .iter()
            .map(|s| PaymentScheme {
                tag: format!("{:02}", s.tag),
                scheme: s.scheme.id().to_string(),
                guid: s.guid.clone(),
                payee_kind: s.payee.as_ref().map(|p| serde_name(&p.kind)),
                payee: s.payee.as_ref().map(|p| p.value.clone()),
                institution: s.payee.as_ref().and_then(|p| p.institution.clone()),
                reference: s.reference.clone(),
            })
            .collect();
        Ok(PaymentRequest {
            payload: payload.to_string(),
            merchant_name: qr.merchant_name.clone(),
            merchant_city: qr.merchant_city.clone(),
            country: qr.country.clone(),
            mcc: qr.mcc.clone(),
            category: qr.category.id().to_string(),
            currency,
            amount,
            tip,
            point_of_initiation,
            schemes,
            additional_data: qr.additional_data.clone(),
            alternate_language: qr.language.as_ref().map(|l| AlternateLanguage {
                language: l.language.clone(),
                merchant_name: Some(l.merchant_name.clone()),
                merchant_city: l.merchant_city.clone(),
            }),
            crc_valid: qr.crc_valid,
            warnings: qr
                .warnings
                .iter()
                .map(|w| QrWarning {
                    code: w.code().to_string(),
                    message: w.to_string(),
                })
                .collect(),
        })
    }

    /// True when the customer must type the amount in.
    pub fn customer_enters_amount(&self) -> bool {
        self.amount.is_none()
    }
}

/// The JSON name serde gives a unit enum variant (`Phone` -> "phone").
fn serde_name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// A consumer-presented code (one a merchant scans from a phone), as it
/// may be shown: the PAN masked, no track 2 or cryptogram values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsumerCode {
    #[serde(flatten)]
    pub summary: emv::qr::ConsumerSummary,
}

/// Any EMV QR payload, by mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum EmvPayload {
    MerchantPresented(PaymentRequest),
    ConsumerPresented(ConsumerCode),
}

impl EmvPayload {
    /// Reads either mode: merchant-presented text starts with its payload
    /// format indicator ("0002"), consumer-presented base64 with "hQVDUFYw"
    /// (tag 85, "CPV0").
    pub fn parse(payload: &str) -> Result<Self> {
        let invalid = |reason: &'static str, message: String| Error::InvalidQr { reason, message };
        match emv::qr::parse_any(payload).map_err(|e| invalid(e.code(), e.to_string()))? {
            emv::qr::EmvQr::Merchant(qr) => Ok(EmvPayload::MerchantPresented(
                PaymentRequest::from_merchant_qr(payload, &qr)?,
            )),
            emv::qr::EmvQr::Consumer(c) => Ok(EmvPayload::ConsumerPresented(ConsumerCode {
                summary: emv::qr::ConsumerSummary::of(&c),
            })),
        }
    }

    /// Whether `text` claims to be EMV (so failing to parse it is worth
    /// reporting, unlike a URL on a poster).
    pub fn looks_like_emv(text: &str) -> bool {
        text.starts_with("0002") || text.starts_with("hQVDUFYw")
    }
}

//! What a wallet shows for a scanned merchant-presented code: who is paid,
//! where, how much in which currency, the tip rule and the schemes to pay
//! through. Its JSON form is what `billfold qr parse --json` prints.

use std::collections::BTreeMap;

use serde::Serialize;

use super::currency;
use super::error::{MpmError, QrWarning};
use super::mcc::{category_for_mcc, Category};
use super::mpm::{self, LanguageTemplate, ParsedMerchant, PointOfInitiation, TipRule};
use super::schemes::{self, SchemeInfo};

/// A merchant-presented code, summarised as a payment request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MerchantQr {
    pub merchant_name: Option<String>,
    pub merchant_city: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub mcc: Option<String>,
    /// `unspecified` when the code has no MCC or MCC 0000.
    pub category: Category,
    /// ISO 4217 alphabetic code; `None` when the numeric code is unknown.
    pub currency: Option<String>,
    /// ISO 4217 numeric code, as the payload carries it.
    #[serde(skip)]
    pub currency_numeric: String,
    /// The decimal string of the payload; `None` means the payer enters
    /// the amount.
    pub amount: Option<String>,
    pub tip: TipRule,
    pub point_of_initiation: Option<PointOfInitiation>,
    pub schemes: Vec<SchemeInfo>,
    /// The additional data field's sub-fields by name (`bill_number`,
    /// `reference_label`, ...); unnamed ones by their two-digit ID.
    pub additional_data: BTreeMap<String, String>,
    pub language: Option<LanguageTemplate>,
    pub crc_valid: bool,
    pub warnings: Vec<QrWarning>,
}

impl MerchantQr {
    pub fn from_parsed(parsed: &ParsedMerchant) -> Self {
        let p = &parsed.payload;
        let mut additional_data = BTreeMap::new();
        if let Some(data) = &p.additional_data {
            for (_, name, value) in data.named() {
                if let Some(value) = value {
                    additional_data.insert(name.to_string(), value.to_string());
                }
            }
            for o in data.rfu.iter().chain(&data.payment_system_specific) {
                additional_data.insert(format!("{:02}", o.id), o.value.clone());
            }
        }
        MerchantQr {
            merchant_name: p.merchant_name.clone(),
            merchant_city: p.merchant_city.clone(),
            country: p.country.clone(),
            mcc: p.mcc.clone(),
            category: p
                .mcc
                .as_deref()
                .map_or(Category::Unspecified, category_for_mcc),
            currency: currency::alpha_code(&p.currency).map(str::to_string),
            currency_numeric: p.currency.clone(),
            amount: p.amount.clone(),
            tip: p.tip.clone(),
            point_of_initiation: p.point_of_initiation,
            schemes: schemes::decode(p),
            additional_data,
            language: p.language.clone(),
            crc_valid: parsed.crc_valid,
            warnings: parsed.warnings.clone(),
        }
    }

    /// True when the payer must type the amount in.
    pub fn payer_enters_amount(&self) -> bool {
        self.amount.is_none()
    }
}

/// Parses a merchant-presented payload into a payment request, rejecting
/// it when the CRC is wrong.
pub fn parse_merchant_qr(payload: &str) -> Result<MerchantQr, MpmError> {
    mpm::parse(payload).map(|p| MerchantQr::from_parsed(&p))
}

/// As [`parse_merchant_qr`], but a wrong CRC gives `crc_valid: false`
/// instead of an error, so the user can be told what the code says and
/// why it cannot be paid.
pub fn inspect_merchant_qr(payload: &str) -> Result<MerchantQr, MpmError> {
    mpm::inspect(payload).map(|p| MerchantQr::from_parsed(&p))
}

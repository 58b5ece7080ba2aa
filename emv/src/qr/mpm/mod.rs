//! EMV merchant-presented mode (EMVCo MPM v1.1): the data model of a
//! payload, shared by the parser ([`parse`]) and the builder
//! ([`MerchantPayload::encode`]); both apply the checks in `validate`.

mod encode;
mod parse;
pub(crate) mod rules;
mod validate;

use serde::Serialize;

use super::data_object::DataObject;
use super::error::QrWarning;

pub use parse::{inspect, parse, parse_with, ParseOptions};

/// ID 01: whether the code is shown for many payments or just one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PointOfInitiation {
    /// "11": the same code for every payment.
    Static,
    /// "12": a code for one payment.
    Dynamic,
}

impl PointOfInitiation {
    pub fn code(self) -> &'static str {
        match self {
            PointOfInitiation::Static => "11",
            PointOfInitiation::Dynamic => "12",
        }
    }
}

/// IDs 55-57: what the payer adds on top of the amount.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum TipRule {
    /// No ID 55: nothing is added.
    #[default]
    None,
    /// "01": the app asks the payer for a tip.
    Prompt,
    /// "02" with ID 56: a fixed convenience fee, as a decimal string.
    Fixed(String),
    /// "03" with ID 57: a convenience fee in percent, as a decimal string.
    Percentage(String),
}

/// One merchant account information data object (IDs 02-51).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MerchantAccount {
    /// IDs 02-25: a card network's merchant identifier, a plain value.
    Network { id: u8, value: String },
    /// IDs 26-51: a template whose sub-ID 00 is the scheme's globally
    /// unique identifier (an AID or a reverse domain name).
    Template { id: u8, fields: Vec<DataObject> },
}

impl MerchantAccount {
    pub fn network(id: u8, value: impl Into<String>) -> Self {
        MerchantAccount::Network {
            id,
            value: value.into(),
        }
    }

    /// A template with its GUID in sub-ID 00 followed by `fields`.
    pub fn template<V: Into<String>>(
        id: u8,
        guid: impl Into<String>,
        fields: impl IntoIterator<Item = (u8, V)>,
    ) -> Self {
        let mut all = vec![DataObject::new(0, guid)];
        all.extend(fields.into_iter().map(|(sub, v)| DataObject::new(sub, v)));
        MerchantAccount::Template { id, fields: all }
    }

    pub fn id(&self) -> u8 {
        match self {
            MerchantAccount::Network { id, .. } | MerchantAccount::Template { id, .. } => *id,
        }
    }

    /// The template's sub-ID 00, if it is a template and has one.
    pub fn guid(&self) -> Option<&str> {
        self.field(0)
    }

    /// A sub-field of a template.
    pub fn field(&self, sub: u8) -> Option<&str> {
        match self {
            MerchantAccount::Network { .. } => None,
            MerchantAccount::Template { fields, .. } => field(fields, sub),
        }
    }
}

/// An unreserved template (IDs 80-99), free for any use; sub-ID 00 is
/// usually a GUID saying whose.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Template {
    pub id: u8,
    pub fields: Vec<DataObject>,
}

impl Template {
    pub fn field(&self, sub: u8) -> Option<&str> {
        field(&self.fields, sub)
    }
}

/// ID 62, the additional data field template.
///
/// A value of `***` asks the app to collect that item from the payer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize)]
pub struct AdditionalData {
    /// 01
    pub bill_number: Option<String>,
    /// 02
    pub mobile_number: Option<String>,
    /// 03
    pub store_label: Option<String>,
    /// 04
    pub loyalty_number: Option<String>,
    /// 05
    pub reference_label: Option<String>,
    /// 06
    pub customer_label: Option<String>,
    /// 07
    pub terminal_label: Option<String>,
    /// 08
    pub purpose: Option<String>,
    /// 09: letters A (address), M (mobile), E (email) the payer must supply.
    pub consumer_data_request: Option<String>,
    /// 10
    pub merchant_tax_id: Option<String>,
    /// 11
    pub merchant_channel: Option<String>,
    /// 12-49, reserved for future use, kept verbatim.
    pub rfu: Vec<DataObject>,
    /// 50-99, payment system specific templates, kept verbatim.
    pub payment_system_specific: Vec<DataObject>,
}

impl AdditionalData {
    /// The named sub-fields with their IDs, in ID order.
    pub fn named(&self) -> [(u8, &'static str, Option<&str>); 11] {
        [
            (1, "bill_number", self.bill_number.as_deref()),
            (2, "mobile_number", self.mobile_number.as_deref()),
            (3, "store_label", self.store_label.as_deref()),
            (4, "loyalty_number", self.loyalty_number.as_deref()),
            (5, "reference_label", self.reference_label.as_deref()),
            (6, "customer_label", self.customer_label.as_deref()),
            (7, "terminal_label", self.terminal_label.as_deref()),
            (8, "purpose", self.purpose.as_deref()),
            (
                9,
                "consumer_data_request",
                self.consumer_data_request.as_deref(),
            ),
            (10, "merchant_tax_id", self.merchant_tax_id.as_deref()),
            (11, "merchant_channel", self.merchant_channel.as_deref()),
        ]
    }

    pub(crate) fn slot(&mut self, sub: u8) -> Option<&mut Option<String>> {
        Some(match sub {
            1 => &mut self.bill_number,
            2 => &mut self.mobile_number,
            3 => &mut self.store_label,
            4 => &mut self.loyalty_number,
            5 => &mut self.reference_label,
            6 => &mut self.customer_label,
            7 => &mut self.terminal_label,
            8 => &mut self.purpose,
            9 => &mut self.consumer_data_request,
            10 => &mut self.merchant_tax_id,
            11 => &mut self.merchant_channel,
            _ => return None,
        })
    }
}

/// ID 64, the merchant's name and city in another language and script.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct LanguageTemplate {
    /// 00: ISO 639-1 language code.
    pub language: String,
    /// 01
    pub merchant_name: String,
    /// 02
    pub merchant_city: Option<String>,
    /// 03-99, reserved for future use, kept verbatim.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rfu: Vec<DataObject>,
}

/// Everything a merchant-presented payload says, apart from its payload
/// format (always written as "01") and CRC (computed).
///
/// Values are kept as the text the payload carries: amounts stay decimal
/// strings, never floats.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize)]
pub struct MerchantPayload {
    /// 01
    pub point_of_initiation: Option<PointOfInitiation>,
    /// 02-51, in payload order; at least one.
    pub merchant_accounts: Vec<MerchantAccount>,
    /// 52: ISO 18245 merchant category code.
    pub mcc: Option<String>,
    /// 53: ISO 4217 numeric currency code.
    pub currency: String,
    /// 54: absent when the payer enters the amount.
    pub amount: Option<String>,
    /// 55-57
    pub tip: TipRule,
    /// 58: ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// 59
    pub merchant_name: Option<String>,
    /// 60
    pub merchant_city: Option<String>,
    /// 61
    pub postal_code: Option<String>,
    /// 62
    pub additional_data: Option<AdditionalData>,
    /// 64
    pub language: Option<LanguageTemplate>,
    /// 65-79, reserved for future use, kept verbatim.
    pub rfu: Vec<DataObject>,
    /// 80-99
    pub unreserved: Vec<Template>,
}

/// A parsed payload with what was learned while reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedMerchant {
    pub payload: MerchantPayload,
    /// The CRC value as the payload carries it.
    pub crc: String,
    /// False only when parsing with [`ParseOptions::enforce_crc`] off and
    /// the CRC does not match.
    pub crc_valid: bool,
    pub warnings: Vec<QrWarning>,
}

pub(crate) fn field(fields: &[DataObject], sub: u8) -> Option<&str> {
    fields
        .iter()
        .find(|f| f.id == sub)
        .map(|f| f.value.as_str())
}

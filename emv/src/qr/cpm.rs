//! EMV consumer-presented mode (EMVCo CPM v1.1): the code a phone shows
//! for the merchant to scan. It is base64 text of BER-TLV (BER-TLV itself
//! is [`crate::tlv`]):
//!
//! - `85` payload format indicator, "CPV01", first;
//! - `61` application templates, one per payment application, each with
//!   `4F` (AID) and optionally `50`, `57`, `5A`, `5F20`, `9F19`, `9F25`, ...
//!   and `63`, an application specific transparent template carrying the
//!   cryptogram data;
//! - `62` an optional common data template with the same kinds of objects
//!   and `64`, a common data transparent template.
//!
//! The payload holds card data (PAN, track 2), so `Debug` shows tags and
//! lengths only (as [`Tlv`] does) and the JSON summary masks the PAN.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde::Serialize;

use crate::tlv::{self, Tag, Tlv, TlvError};

/// Tag 85's only defined value.
pub const PAYLOAD_FORMAT: &[u8] = b"CPV01";

const TAG_PAYLOAD_FORMAT: Tag = Tag(0x85);
const TAG_APPLICATION: Tag = Tag(0x61);
const TAG_COMMON: Tag = Tag(0x62);
const TAG_APP_TRANSPARENT: Tag = Tag(0x63);
const TAG_COMMON_TRANSPARENT: Tag = Tag(0x64);
const TAG_AID: Tag = Tag(0x4F);

/// Standard base64; padding is optional on input since some readers strip
/// it, and always written on output.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a consumer-presented payload was rejected or could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CpmError {
    #[error("the payload is empty")]
    Empty,
    #[error("the payload is not base64")]
    InvalidBase64,
    #[error("the payload is not valid BER-TLV: {0}")]
    Tlv(#[from] TlvError),
    #[error("the payload does not start with the payload format indicator (tag 85)")]
    MissingPayloadFormat,
    #[error("unsupported payload format indicator (tag 85): expected CPV01")]
    UnsupportedPayloadFormat,
    #[error("the payload has no application template (tag 61)")]
    MissingApplication,
    #[error("application template {index} has no application identifier (tag 4F)")]
    MissingAid { index: usize },
    #[error("tag {tag} appears more than once where only one is allowed")]
    DuplicateTag { tag: Tag },
}

impl CpmError {
    /// A stable, machine-readable identifier for the kind of error.
    pub fn code(&self) -> &'static str {
        match self {
            CpmError::Empty => "empty_payload",
            CpmError::InvalidBase64 => "invalid_base64",
            CpmError::Tlv(_) => "malformed_tlv",
            CpmError::MissingPayloadFormat => "missing_payload_format",
            CpmError::UnsupportedPayloadFormat => "unsupported_payload_format",
            CpmError::MissingApplication => "missing_application",
            CpmError::MissingAid { .. } => "missing_aid",
            CpmError::DuplicateTag { .. } => "duplicate_tag",
        }
    }
}

/// The data objects of an application template (61) or of the common data
/// template (62), in payload order, with accessors for the named ones.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CpmTemplate {
    pub objects: Vec<Tlv>,
}

impl CpmTemplate {
    /// An application template for `aid` (tag 4F).
    pub fn application(aid: &[u8]) -> Self {
        CpmTemplate {
            objects: vec![Tlv::primitive(TAG_AID, aid)],
        }
    }

    /// Adds a primitive object.
    pub fn with(mut self, tag: u32, value: impl Into<Vec<u8>>) -> Self {
        self.objects.push(Tlv::primitive(tag, value));
        self
    }

    /// Adds a constructed object (63 or 64, the transparent templates).
    pub fn with_template(mut self, tag: u32, children: Vec<Tlv>) -> Self {
        self.objects.push(Tlv::constructed(tag, children));
        self
    }

    /// The value of a primitive object directly in this template.
    pub fn get(&self, tag: u32) -> Option<&[u8]> {
        self.objects
            .iter()
            .find(|t| t.tag == Tag(tag))
            .and_then(Tlv::bytes)
    }

    /// 4F: the application identifier (ADF name).
    pub fn aid(&self) -> Option<&[u8]> {
        self.get(0x4F)
    }

    /// 50: the application label.
    pub fn label(&self) -> Option<&str> {
        self.get(0x50).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// 5F20: the cardholder name.
    pub fn cardholder_name(&self) -> Option<&str> {
        self.get(0x5F20).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// 5F2D: language preferences, two letters each.
    pub fn language_preference(&self) -> Option<&str> {
        self.get(0x5F2D).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// 5A: the application PAN, as digits (BCD, 'F'-padded).
    pub fn pan(&self) -> Option<String> {
        self.get(0x5A).map(bcd_digits)
    }

    /// 57: track 2 equivalent data, raw.
    pub fn track2(&self) -> Option<&[u8]> {
        self.get(0x57)
    }

    /// 9F25: the last four digits of the PAN.
    pub fn last4(&self) -> Option<String> {
        self.get(0x9F25).map(bcd_digits)
    }

    /// 9F19: the token requestor ID (11 digits).
    pub fn token_requestor_id(&self) -> Option<String> {
        self.get(0x9F19).map(bcd_digits)
    }

    /// The objects of the transparent template (63 in an application
    /// template, 64 in the common data template), if present.
    pub fn transparent(&self) -> &[Tlv] {
        self.objects
            .iter()
            .find(|t| t.tag == TAG_APP_TRANSPARENT || t.tag == TAG_COMMON_TRANSPARENT)
            .map_or(&[], Tlv::children)
    }
}

/// A consumer-presented payload.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsumerPayload {
    /// Tag 61, one or more, in payload order.
    pub applications: Vec<CpmTemplate>,
    /// Tag 62.
    pub common: Option<CpmTemplate>,
    /// Any other top-level objects, kept verbatim after the templates.
    pub other: Vec<Tlv>,
}

impl ConsumerPayload {
    /// The base64 payload to show as a QR code.
    pub fn encode(&self) -> Result<String, CpmError> {
        self.check()?;
        let mut tlvs = vec![Tlv::primitive(TAG_PAYLOAD_FORMAT, PAYLOAD_FORMAT)];
        tlvs.extend(
            self.applications
                .iter()
                .map(|a| Tlv::constructed(TAG_APPLICATION, a.objects.clone())),
        );
        if let Some(common) = &self.common {
            tlvs.push(Tlv::constructed(TAG_COMMON, common.objects.clone()));
        }
        tlvs.extend(self.other.iter().cloned());
        Ok(BASE64.encode(tlv::encode(&tlvs)?))
    }

    fn check(&self) -> Result<(), CpmError> {
        if self.applications.is_empty() {
            return Err(CpmError::MissingApplication);
        }
        if let Some(index) = self.applications.iter().position(|a| a.aid().is_none()) {
            return Err(CpmError::MissingAid { index });
        }
        // Those tags have fixed places; anywhere else they would parse back
        // as something different.
        if let Some(t) = self
            .other
            .iter()
            .find(|t| [TAG_PAYLOAD_FORMAT, TAG_APPLICATION, TAG_COMMON].contains(&t.tag))
        {
            return Err(CpmError::DuplicateTag { tag: t.tag });
        }
        Ok(())
    }
}

/// Parses a consumer-presented payload (base64 text).
pub fn parse(payload: &str) -> Result<ConsumerPayload, CpmError> {
    if payload.is_empty() {
        return Err(CpmError::Empty);
    }
    let bytes = BASE64
        .decode(payload.trim_end())
        .map_err(|_| CpmError::InvalidBase64)?;
    parse_bytes(&bytes)
}

/// Parses the BER-TLV bytes of a consumer-presented payload.
pub fn parse_bytes(bytes: &[u8]) -> Result<ConsumerPayload, CpmError> {
    let mut tlvs = tlv::decode(bytes)?.into_iter();
    match tlvs.next() {
        Some(t) if t.tag == TAG_PAYLOAD_FORMAT => {
            if t.bytes() != Some(PAYLOAD_FORMAT) {
                return Err(CpmError::UnsupportedPayloadFormat);
            }
        }
        _ => return Err(CpmError::MissingPayloadFormat),
    }
    let mut payload = ConsumerPayload::default();
    for t in tlvs {
        match t.tag {
            TAG_APPLICATION => {
                let objects = t.children().to_vec();
                let index = payload.applications.len();
                if !objects.iter().any(|o| o.tag == TAG_AID) {
                    return Err(CpmError::MissingAid { index });
                }
                payload.applications.push(CpmTemplate { objects });
            }
            TAG_COMMON if payload.common.is_none() => {
                payload.common = Some(CpmTemplate {
                    objects: t.children().to_vec(),
                });
            }
            TAG_COMMON | TAG_PAYLOAD_FORMAT => return Err(CpmError::DuplicateTag { tag: t.tag }),
            _ => payload.other.push(t),
        }
    }
    if payload.applications.is_empty() {
        return Err(CpmError::MissingApplication);
    }
    Ok(payload)
}

/// BCD nibbles as digits, dropping the 'F' padding.
fn bcd_digits(bytes: &[u8]) -> String {
    hex::encode_upper(bytes).trim_end_matches('F').to_string()
}

/// Shows at most the BIN (first six) and the last four digits.
pub fn mask_pan(pan: &str) -> String {
    let n = pan.chars().count();
    if n < 13 {
        let last: String = pan.chars().skip(n.saturating_sub(4)).collect();
        return format!("{}{}", "*".repeat(n.saturating_sub(4)), last);
    }
    pan.chars()
        .enumerate()
        .map(|(i, c)| if i < 6 || i >= n - 4 { c } else { '*' })
        .collect()
}

/// A consumer-presented code as it may be shown or logged: no track 2, no
/// cryptogram values, the PAN masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsumerSummary {
    pub payload_format: &'static str,
    pub applications: Vec<TemplateSummary>,
    pub common: Option<TemplateSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateSummary {
    /// Hex.
    pub aid: Option<String>,
    pub label: Option<String>,
    pub pan_masked: Option<String>,
    pub last4: Option<String>,
    pub token_requestor_id: Option<String>,
    pub has_track2: bool,
    /// The tags in the transparent template, values left out.
    pub transparent_tags: Vec<String>,
}

impl TemplateSummary {
    fn of(t: &CpmTemplate) -> Self {
        TemplateSummary {
            aid: t.aid().map(hex::encode_upper),
            label: t.label().map(str::to_string),
            pan_masked: t.pan().map(|p| mask_pan(&p)),
            last4: t.last4(),
            token_requestor_id: t.token_requestor_id(),
            has_track2: t.track2().is_some(),
            transparent_tags: t.transparent().iter().map(|o| o.tag.to_string()).collect(),
        }
    }
}

impl ConsumerSummary {
    pub fn of(payload: &ConsumerPayload) -> Self {
        ConsumerSummary {
            payload_format: "CPV01",
            applications: payload
                .applications
                .iter()
                .map(TemplateSummary::of)
                .collect(),
            common: payload.common.as_ref().map(TemplateSummary::of),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking() {
        assert_eq!(mask_pan("1234567890123458"), "123456******3458");
        assert_eq!(mask_pan("12345"), "*2345");
        assert_eq!(mask_pan("123"), "123");
        assert_eq!(bcd_digits(&[0x12, 0x34, 0x5F]), "12345");
    }
}

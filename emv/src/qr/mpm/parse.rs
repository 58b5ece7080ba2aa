//! Reading a merchant-presented payload: structure, CRC, then the meaning
//! of each data object. Never panics; every rejection is an [`MpmError`].

use super::{
    AdditionalData, LanguageTemplate, MerchantAccount, MerchantPayload, ParsedMerchant,
    PointOfInitiation, Template, TipRule,
};
use crate::qr::crc::crc16_ccitt_false;
use crate::qr::data_object::{self, DataObject, LengthUnit, RawObject};
use crate::qr::error::{FieldId, MpmError, QrWarning};

/// How strict to be about things a caller may want to see anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// Reject a payload whose CRC does not match (the default). When off,
    /// the payload is returned with `crc_valid: false`, so a user can be
    /// shown what the damaged code says and why it will not be paid.
    pub enforce_crc: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions { enforce_crc: true }
    }
}

/// Parses and validates a payload, rejecting a wrong CRC.
pub fn parse(payload: &str) -> Result<ParsedMerchant, MpmError> {
    parse_with(payload, ParseOptions::default())
}

/// Parses a payload but reports a wrong CRC as `crc_valid: false` instead
/// of failing: for showing a user what a damaged code says.
pub fn inspect(payload: &str) -> Result<ParsedMerchant, MpmError> {
    parse_with(payload, ParseOptions { enforce_crc: false })
}

pub fn parse_with(payload: &str, options: ParseOptions) -> Result<ParsedMerchant, MpmError> {
    if payload.is_empty() {
        return Err(MpmError::Empty);
    }
    match parse_in(payload, LengthUnit::Chars, options) {
        Ok(parsed) => Ok(parsed),
        // Some encoders count UTF-8 bytes; only worth trying when the two
        // differ, and the error reported stays the one for the spec's rule.
        Err(err) if !payload.is_ascii() => match parse_in(payload, LengthUnit::Bytes, options) {
            Ok(mut parsed) => {
                parsed.warnings.push(QrWarning::LengthCountsBytes);
                Ok(parsed)
            }
            Err(_) => Err(err),
        },
        Err(err) => Err(err),
    }
}

fn parse_in(
    payload: &str,
    unit: LengthUnit,
    options: ParseOptions,
) -> Result<ParsedMerchant, MpmError> {
    let objects = data_object::read(payload, 0, None, unit)?;
    let mut warnings = Vec::new();

    match objects.first() {
        Some(first) if first.id == 0 => match first.value {
            "01" => {}
            "02" => warnings.push(QrWarning::PayloadFormat02),
            _ => return Err(MpmError::UnsupportedPayloadFormat),
        },
        _ => return Err(MpmError::PayloadFormatNotFirst),
    }

    let (crc, crc_valid) = check_crc(payload, &objects, options, &mut warnings)?;

    let mut p = MerchantPayload::default();
    let mut fee_fixed = None;
    let mut fee_percent = None;
    let mut tip_indicator = None;
    for obj in &objects {
        let value = obj.value.to_string();
        match obj.id {
            0 | 63 => {}
            1 => {
                p.point_of_initiation = Some(match obj.value {
                    "11" => PointOfInitiation::Static,
                    "12" => PointOfInitiation::Dynamic,
                    _ => return Err(MpmError::InvalidPointOfInitiation),
                })
            }
            2..=25 => p
                .merchant_accounts
                .push(MerchantAccount::Network { id: obj.id, value }),
            26..=51 => p.merchant_accounts.push(MerchantAccount::Template {
                id: obj.id,
                fields: template(obj, unit)?,
            }),
            52 => p.mcc = Some(value),
            53 => p.currency = value,
            54 => p.amount = Some(value),
            55 => tip_indicator = Some(obj.value),
            56 => fee_fixed = Some(value),
            57 => fee_percent = Some(value),
            58 => p.country = value,
            59 => p.merchant_name = Some(value),
            60 => p.merchant_city = Some(value),
            61 => p.postal_code = Some(value),
            62 => p.additional_data = Some(additional_data(obj, unit)?),
            64 => p.language = Some(language(obj, unit)?),
            65..=79 => p.rfu.push(DataObject { id: obj.id, value }),
            _ => p.unreserved.push(Template {
                id: obj.id,
                fields: template(obj, unit)?,
            }),
        }
    }

    p.tip = match tip_indicator {
        None => TipRule::None,
        Some("01") => TipRule::Prompt,
        Some("02") => TipRule::Fixed(fee_fixed.take().ok_or(MpmError::MissingTipValue {
            field: FieldId::top(56),
        })?),
        Some("03") => TipRule::Percentage(fee_percent.take().ok_or(MpmError::MissingTipValue {
            field: FieldId::top(57),
        })?),
        Some(_) => return Err(MpmError::InvalidTipIndicator),
    };
    if fee_fixed.is_some() {
        warnings.push(QrWarning::UnexpectedFeeField { id: 56 });
    }
    if fee_percent.is_some() {
        warnings.push(QrWarning::UnexpectedFeeField { id: 57 });
    }

    // Fixed-length IDs are checked here too, so a short 55 is reported as
    // a length error rather than as an unknown indicator.
    for obj in &objects {
        if matches!(obj.id, 0 | 1 | 55 | 63) {
            super::rules::check_length(
                FieldId::top(obj.id),
                obj.value,
                super::rules::top_level(obj.id),
            )?;
        }
    }
    warnings.extend(p.validate()?);

    Ok(ParsedMerchant {
        payload: p,
        crc,
        crc_valid,
        warnings,
    })
}

/// Checks that the CRC is the last data object, four hex digits, and
/// matches the bytes before its value.
fn check_crc(
    payload: &str,
    objects: &[RawObject<'_>],
    options: ParseOptions,
    warnings: &mut Vec<QrWarning>,
) -> Result<(String, bool), MpmError> {
    let index = objects
        .iter()
        .position(|o| o.id == 63)
        .ok_or(MpmError::MissingCrc)?;
    if index + 1 != objects.len() {
        return Err(MpmError::CrcNotLast);
    }
    let obj = &objects[index];
    if obj.value.len() != 4 || !obj.value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(MpmError::MalformedCrc);
    }
    if obj.value.bytes().any(|b| b.is_ascii_lowercase()) {
        warnings.push(QrWarning::LowercaseCrc);
    }
    let found = u16::from_str_radix(obj.value, 16).map_err(|_| MpmError::MalformedCrc)?;
    let covered = payload
        .as_bytes()
        .get(..obj.value_offset)
        .ok_or(MpmError::MalformedCrc)?;
    let computed = crc16_ccitt_false(covered);
    if found != computed && options.enforce_crc {
        return Err(MpmError::CrcMismatch { found, computed });
    }
    Ok((obj.value.to_string(), found == computed))
}

/// Reads a template's sub-fields. A value that is not data objects at all
/// is reported as a malformed template; a recognisable but broken one
/// keeps the precise error.
fn template(obj: &RawObject<'_>, unit: LengthUnit) -> Result<Vec<DataObject>, MpmError> {
    Ok(sub_objects(obj, unit)?
        .iter()
        .map(|o| DataObject::new(o.id, o.value))
        .collect())
}

fn sub_objects<'a>(obj: &RawObject<'a>, unit: LengthUnit) -> Result<Vec<RawObject<'a>>, MpmError> {
    data_object::read(obj.value, obj.position + 4, Some(obj.id), unit).map_err(|e| match e {
        MpmError::NonNumericId { .. } | MpmError::Truncated { .. } => MpmError::MalformedTemplate {
            field: FieldId::top(obj.id),
        },
        other => other,
    })
}

fn additional_data(obj: &RawObject<'_>, unit: LengthUnit) -> Result<AdditionalData, MpmError> {
    let mut data = AdditionalData::default();
    for o in sub_objects(obj, unit)? {
        let value = o.value.to_string();
        match data.slot(o.id) {
            Some(slot) => *slot = Some(value),
            None if o.id < 50 => data.rfu.push(DataObject { id: o.id, value }),
            None => data
                .payment_system_specific
                .push(DataObject { id: o.id, value }),
        }
    }
    // Sub-ID 00, undefined here, lands in `rfu` and validation rejects it.
    Ok(data)
}

fn language(obj: &RawObject<'_>, unit: LengthUnit) -> Result<LanguageTemplate, MpmError> {
    let subs = sub_objects(obj, unit)?;
    let get = |id: u8| {
        subs.iter()
            .find(|o| o.id == id)
            .map(|o| o.value.to_string())
    };
    let missing = |sub: u8| MpmError::MissingField {
        field: FieldId::sub(64, sub),
    };
    Ok(LanguageTemplate {
        language: get(0).ok_or(missing(0))?,
        merchant_name: get(1).ok_or(missing(1))?,
        merchant_city: get(2),
        rfu: subs
            .iter()
            .filter(|o| o.id > 2)
            .map(|o| DataObject::new(o.id, o.value))
            .collect(),
    })
}

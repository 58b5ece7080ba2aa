//! The checks a merchant-presented payload must pass, whether parsed or
//! about to be built: formats, lengths, allowed IDs, no duplicates.

use super::rules::{self, check_length, Length};
use super::{field, AdditionalData, LanguageTemplate, MerchantAccount, MerchantPayload, TipRule};
use crate::qr::currency;
use crate::qr::data_object::DataObject;
use crate::qr::error::{FieldId, MpmError, QrWarning};

impl MerchantPayload {
    /// Checks every value against the specification's formats and limits,
    /// as both the parser and the builder require, and returns what is
    /// acceptable but worth a warning.
    pub fn validate(&self) -> Result<Vec<QrWarning>, MpmError> {
        let mut warnings = Vec::new();
        self.validate_accounts(&mut warnings)?;

        if let Some(mcc) = &self.mcc {
            check_top(52, mcc)?;
            if !rules::is_digits(mcc, 4) {
                return Err(MpmError::InvalidMcc);
            }
        } else {
            warnings.push(QrWarning::MissingMcc);
        }

        if self.currency.is_empty() {
            return Err(MpmError::MissingField {
                field: FieldId::top(53),
            });
        }
        check_top(53, &self.currency)?;
        if !rules::is_digits(&self.currency, 3) {
            return Err(MpmError::InvalidCurrency);
        }
        let minor_units = currency::minor_units(&self.currency);
        if currency::alpha_code(&self.currency).is_none() {
            warnings.push(QrWarning::UnknownCurrency);
        }

        if let Some(amount) = &self.amount {
            check_amount(54, amount)?;
            if minor_units.is_some_and(|units| rules::decimals(amount) > usize::from(units)) {
                warnings.push(QrWarning::AmountPrecision);
            }
        }
        match &self.tip {
            TipRule::None | TipRule::Prompt => {}
            TipRule::Fixed(fee) => check_amount(56, fee)?,
            TipRule::Percentage(pct) => {
                check_top(57, pct)?;
                if !rules::is_percentage(pct) {
                    return Err(MpmError::InvalidPercentage);
                }
            }
        }

        if self.country.is_empty() {
            return Err(MpmError::MissingField {
                field: FieldId::top(58),
            });
        }
        check_top(58, &self.country)?;
        if !rules::is_country(&self.country) {
            return Err(MpmError::InvalidCountry);
        }

        match &self.merchant_name {
            Some(name) => check_top(59, name)?,
            None => warnings.push(QrWarning::MissingMerchantName),
        }
        match &self.merchant_city {
            Some(city) => check_top(60, city)?,
            None => warnings.push(QrWarning::MissingMerchantCity),
        }
        if let Some(postal) = &self.postal_code {
            check_top(61, postal)?;
        }
        if let Some(data) = &self.additional_data {
            data.validate()?;
        }
        if let Some(lang) = &self.language {
            lang.validate()?;
        }

        let mut seen = [false; 100];
        for obj in &self.rfu {
            claim(&mut seen, obj.id, 65..=79)?;
            check_top(obj.id, &obj.value)?;
        }
        for t in &self.unreserved {
            claim(&mut seen, t.id, 80..=99)?;
            check_template(t.id, &t.fields)?;
            if field(&t.fields, 0).is_none() {
                warnings.push(QrWarning::MissingGuid { id: t.id });
            }
        }
        Ok(warnings)
    }

    fn validate_accounts(&self, warnings: &mut Vec<QrWarning>) -> Result<(), MpmError> {
        if self.merchant_accounts.is_empty() {
            return Err(MpmError::MissingMerchantAccount);
        }
        let mut seen = [false; 100];
        for account in &self.merchant_accounts {
            match account {
                MerchantAccount::Network { id, value } => {
                    claim(&mut seen, *id, 2..=25)?;
                    check_top(*id, value)?;
                }
                MerchantAccount::Template { id, fields } => {
                    claim(&mut seen, *id, 26..=51)?;
                    check_template(*id, fields)?;
                    if field(fields, 0).is_none() {
                        warnings.push(QrWarning::MissingGuid { id: *id });
                    }
                }
            }
        }
        Ok(())
    }
}

impl AdditionalData {
    /// The data objects of the template, in ID order.
    pub(crate) fn objects(&self) -> Vec<(u8, &str)> {
        let mut out: Vec<(u8, &str)> = self
            .named()
            .iter()
            .filter_map(|&(id, _, v)| v.map(|v| (id, v)))
            .collect();
        out.extend(self.rfu.iter().map(|o| (o.id, o.value.as_str())));
        out.extend(
            self.payment_system_specific
                .iter()
                .map(|o| (o.id, o.value.as_str())),
        );
        out
    }

    fn validate(&self) -> Result<(), MpmError> {
        let mut seen = [false; 100];
        for o in &self.rfu {
            claim_sub(&mut seen, 62, o.id, 12..=49)?;
        }
        for o in &self.payment_system_specific {
            claim_sub(&mut seen, 62, o.id, 50..=99)?;
        }
        let objects = self.objects();
        if objects.is_empty() {
            return Err(MpmError::EmptyValue {
                field: FieldId::top(62),
            });
        }
        for &(sub, value) in &objects {
            check_length(FieldId::sub(62, sub), value, rules::additional_data(sub))?;
        }
        check_encoded_len(62, objects.iter().map(|(_, v)| *v))
    }
}

impl LanguageTemplate {
    pub(crate) fn objects(&self) -> Vec<(u8, &str)> {
        let mut out = vec![
            (0, self.language.as_str()),
            (1, self.merchant_name.as_str()),
        ];
        if let Some(city) = &self.merchant_city {
            out.push((2, city.as_str()));
        }
        out.extend(self.rfu.iter().map(|o| (o.id, o.value.as_str())));
        out
    }

    fn validate(&self) -> Result<(), MpmError> {
        let mut seen = [false; 100];
        for o in &self.rfu {
            claim_sub(&mut seen, 64, o.id, 3..=99)?;
        }
        let objects = self.objects();
        for &(sub, value) in &objects {
            check_length(FieldId::sub(64, sub), value, rules::language(sub))?;
        }
        if !rules::is_language(&self.language) {
            return Err(MpmError::InvalidLanguage);
        }
        check_encoded_len(64, objects.iter().map(|(_, v)| *v))
    }
}

fn check_top(id: u8, value: &str) -> Result<(), MpmError> {
    check_length(FieldId::top(id), value, rules::top_level(id))
}

fn check_amount(id: u8, value: &str) -> Result<(), MpmError> {
    check_top(id, value)?;
    if rules::is_amount(value) {
        Ok(())
    } else {
        Err(MpmError::InvalidAmount {
            field: FieldId::top(id),
        })
    }
}

/// A template's sub-fields: unique IDs 00-99, each value 1-99 characters,
/// and the whole fitting in 99 characters.
fn check_template(id: u8, fields: &[DataObject]) -> Result<(), MpmError> {
    if fields.is_empty() {
        return Err(MpmError::EmptyValue {
            field: FieldId::top(id),
        });
    }
    let mut seen = [false; 100];
    for f in fields {
        claim_sub(&mut seen, id, f.id, 0..=99)?;
        check_length(
            FieldId::sub(id, f.id),
            &f.value,
            Length::AtMost(rules::MAX_VALUE),
        )?;
    }
    check_encoded_len(id, fields.iter().map(|f| f.value.as_str()))
}

/// The encoded template (4 header characters per sub-field) must itself
/// fit a two-digit length.
fn check_encoded_len<'a>(id: u8, values: impl Iterator<Item = &'a str>) -> Result<(), MpmError> {
    let len: usize = values.map(|v| 4 + v.chars().count()).sum();
    if len > rules::MAX_VALUE {
        return Err(MpmError::TooLong {
            field: FieldId::top(id),
            len,
            max: rules::MAX_VALUE,
        });
    }
    Ok(())
}

fn claim(
    seen: &mut [bool; 100],
    id: u8,
    allowed: std::ops::RangeInclusive<u8>,
) -> Result<(), MpmError> {
    mark(seen, FieldId::top(id), id, allowed)
}

fn claim_sub(
    seen: &mut [bool; 100],
    parent: u8,
    id: u8,
    allowed: std::ops::RangeInclusive<u8>,
) -> Result<(), MpmError> {
    mark(seen, FieldId::sub(parent, id), id, allowed)
}

fn mark(
    seen: &mut [bool; 100],
    field: FieldId,
    id: u8,
    allowed: std::ops::RangeInclusive<u8>,
) -> Result<(), MpmError> {
    // Every range is within 00-99, so `id` indexes `seen` safely.
    if !allowed.contains(&id) {
        return Err(MpmError::UnexpectedId { field });
    }
    let slot = &mut seen[usize::from(id)];
    if *slot {
        return Err(MpmError::DuplicateId { field });
    }
    *slot = true;
    Ok(())
}

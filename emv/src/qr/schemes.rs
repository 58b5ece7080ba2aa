//! Which payment schemes a merchant-presented code offers, and who gets
//! paid through each: card networks by ID (02-25), national schemes by the
//! GUID in sub-ID 00 of templates 26-51.
//!
//! Sources for the layouts: EMVCo MPM v1.1 §4.7.11 (ID allocation); BCB
//! "Manual de Padrões para Iniciação do Pix" (Pix); Bank of Thailand Thai
//! QR Code Standard (PromptPay); PayNow QR and SGQR specifications
//! (Singapore); PayNet DuitNow QR specification (Malaysia); Bank Indonesia
//! / ASPI QRIS specification; NAPAS VietQR (IBFT) specification; NBC KHQR
//! specification (Cambodia); NPCI Bharat QR specification (India).

use serde::{Serialize, Serializer};

use super::data_object::{self, LengthUnit};
use super::mpm::{MerchantAccount, MerchantPayload};

/// A payment scheme, with a stable snake_case id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    Visa,
    Mastercard,
    Discover,
    Amex,
    Jcb,
    #[serde(rename = "unionpay")]
    UnionPay,
    /// India's card network, in IDs 06-07 of Bharat QR codes.
    Rupay,
    /// Bharat QR's ID 08: a bank account by IFSC and account number.
    BharatQr,
    /// IDs reserved by EMVCo (06-08, 17-25) with no known owner here.
    Emvco,
    Pix,
    #[serde(rename = "promptpay")]
    PromptPay,
    #[serde(rename = "paynow")]
    PayNow,
    /// SGQR's own template (ID 51): the code's registry entry.
    Sgqr,
    Nets,
    #[serde(rename = "duitnow")]
    DuitNow,
    Qris,
    #[serde(rename = "vietqr")]
    VietQr,
    /// KHQR (Cambodia), paid through Bakong.
    Bakong,
    Upi,
    /// A template whose GUID this crate does not know.
    Other,
}

impl Scheme {
    pub fn id(self) -> &'static str {
        match self {
            Scheme::Visa => "visa",
            Scheme::Mastercard => "mastercard",
            Scheme::Discover => "discover",
            Scheme::Amex => "amex",
            Scheme::Jcb => "jcb",
            Scheme::UnionPay => "unionpay",
            Scheme::Rupay => "rupay",
            Scheme::BharatQr => "bharat_qr",
            Scheme::Emvco => "emvco",
            Scheme::Pix => "pix",
            Scheme::PromptPay => "promptpay",
            Scheme::PayNow => "paynow",
            Scheme::Sgqr => "sgqr",
            Scheme::Nets => "nets",
            Scheme::DuitNow => "duitnow",
            Scheme::Qris => "qris",
            Scheme::VietQr => "vietqr",
            Scheme::Bakong => "bakong",
            Scheme::Upi => "upi",
            Scheme::Other => "other",
        }
    }
}

/// What kind of identifier names the payee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PayeeKind {
    /// A card network merchant PAN (Visa, Mastercard, RuPay).
    MerchantPan,
    MerchantId,
    BankAccount,
    Card,
    Email,
    Phone,
    /// A national or tax identifier (CPF/CNPJ, Thai citizen or tax ID).
    TaxId,
    /// Pix's random key (a UUID).
    RandomKey,
    /// Where a dynamic code's details are fetched from (Pix).
    Url,
    Ewallet,
    BillerId,
    /// Singapore's Unique Entity Number.
    Uen,
    SgqrId,
    /// QRIS National Merchant ID (NMID).
    NationalMerchantId,
    BakongAccount,
    /// UPI virtual payment address.
    Vpa,
    /// An account identifier of a kind this crate does not know.
    Account,
}

/// Who gets paid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Payee {
    pub kind: PayeeKind,
    pub value: String,
    /// The bank or acquirer holding the account, where the code says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub institution: Option<String>,
}

/// One scheme a code can be paid through.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SchemeInfo {
    /// The merchant account information ID (02-51).
    #[serde(serialize_with = "two_digits")]
    pub tag: u8,
    pub scheme: Scheme,
    pub guid: Option<String>,
    pub payee: Option<Payee>,
    /// A scheme-level reference (PromptPay bill reference, UPI reference).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

fn two_digits<S: Serializer>(tag: &u8, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{tag:02}"))
}

/// Every merchant account of the payload, decoded, in payload order.
pub fn decode(payload: &MerchantPayload) -> Vec<SchemeInfo> {
    payload
        .merchant_accounts
        .iter()
        .map(|account| decode_account(account, &payload.country))
        .collect()
}

/// One merchant account. `country` (ID 58) settles IDs whose meaning is
/// national, as Bharat QR's 06-08 and QRIS acquirers' own GUIDs.
pub fn decode_account(account: &MerchantAccount, country: &str) -> SchemeInfo {
    match account {
        MerchantAccount::Network { id, value } => network(*id, value, country),
        MerchantAccount::Template { id, .. } => template(*id, account, country),
    }
}

fn info(tag: u8, scheme: Scheme, guid: Option<&str>, payee: Option<Payee>) -> SchemeInfo {
    SchemeInfo {
        tag,
        scheme,
        guid: guid.map(str::to_string),
        payee,
        reference: None,
    }
}

fn payee(kind: PayeeKind, value: &str) -> Option<Payee> {
    Some(Payee {
        kind,
        value: value.to_string(),
        institution: None,
    })
}

fn network(id: u8, value: &str, country: &str) -> SchemeInfo {
    use PayeeKind::{MerchantId, MerchantPan};
    let (scheme, kind) = match id {
        2 | 3 => (Scheme::Visa, MerchantPan),
        4 | 5 => (Scheme::Mastercard, MerchantPan),
        6 | 7 if country == "IN" => (Scheme::Rupay, MerchantPan),
        8 if country == "IN" => {
            // IFSC codes are 11 characters; the account number follows.
            let (ifsc, account) = split_at_char(value, 11);
            let payee = Payee {
                kind: PayeeKind::BankAccount,
                value: account.to_string(),
                institution: Some(ifsc.to_string()),
            };
            return info(id, Scheme::BharatQr, None, Some(payee));
        }
        9 | 10 => (Scheme::Discover, MerchantId),
        11 | 12 => (Scheme::Amex, MerchantId),
        13 | 14 => (Scheme::Jcb, MerchantId),
        15 | 16 => (Scheme::UnionPay, MerchantId),
        _ => (Scheme::Emvco, MerchantId),
    };
    info(id, scheme, None, payee(kind, value))
}

fn template(id: u8, account: &MerchantAccount, country: &str) -> SchemeInfo {
    let guid = account.guid();
    let upper = guid.unwrap_or("").to_ascii_uppercase();
    let sub = |n: u8| account.field(n);
    let sub_payee = |n: u8, kind: PayeeKind| sub(n).and_then(|v| payee(kind, v));

    // KHQR puts the Bakong account ID ("name@bank") where the GUID goes.
    if matches!(id, 29 | 30) && guid.is_some_and(|g| g.contains('@')) {
        let mut p = payee(PayeeKind::BakongAccount, guid.unwrap_or(""));
        if let Some(p) = p.as_mut() {
            p.institution = sub(2).map(str::to_string);
        }
        return info(id, Scheme::Bakong, None, p);
    }

    match upper.as_str() {
        "BR.GOV.BCB.PIX" => {
            let p = match (sub(1), sub(25)) {
                (Some(key), _) => payee(pix_key_kind(key), key),
                (None, Some(url)) => payee(PayeeKind::Url, url),
                _ => None,
            };
            info(id, Scheme::Pix, guid, p)
        }
        g if g.starts_with("A000000677010112") => {
            let mut i = info(
                id,
                Scheme::PromptPay,
                guid,
                sub_payee(1, PayeeKind::BillerId),
            );
            i.reference = sub(2).map(str::to_string);
            i
        }
        g if g.starts_with("A000000677") => {
            let p = sub_payee(1, PayeeKind::Phone)
                .or_else(|| sub_payee(2, PayeeKind::TaxId))
                .or_else(|| sub_payee(3, PayeeKind::Ewallet))
                .or_else(|| sub_payee(4, PayeeKind::BankAccount));
            info(id, Scheme::PromptPay, guid, p)
        }
        "SG.PAYNOW" => {
            let kind = match sub(1) {
                Some("0") => PayeeKind::Phone,
                Some("2") => PayeeKind::Uen,
                _ => PayeeKind::Account,
            };
            info(id, Scheme::PayNow, guid, sub_payee(2, kind))
        }
        "SG.SGQR" => info(id, Scheme::Sgqr, guid, sub_payee(1, PayeeKind::SgqrId)),
        "SG.COM.NETS" => info(id, Scheme::Nets, guid, sub_payee(2, PayeeKind::MerchantId)),
        g if g.starts_with("A000000615") || g == "MY.DUITNOW" => {
            let mut p = sub_payee(2, PayeeKind::MerchantId);
            if let Some(p) = p.as_mut() {
                p.institution = sub(1).map(str::to_string);
            }
            info(id, Scheme::DuitNow, guid, p)
        }
        "ID.CO.QRIS.WWW" => info(
            id,
            Scheme::Qris,
            guid,
            sub_payee(2, PayeeKind::NationalMerchantId),
        ),
        // QRIS acquirers use their own reverse-domain GUIDs (ID.CO.BANK...,
        // COM.GO-JEK.WWW): 01 is the merchant PAN, 02 the merchant ID.
        g if g.starts_with("ID.") || (country == "ID" && (26..=45).contains(&id)) => {
            // A merchant PAN is 16-19 digits; short values in 01 are not one.
            let p = sub(1)
                .filter(|v| v.len() >= 16)
                .and_then(|v| payee(PayeeKind::MerchantPan, v))
                .or_else(|| sub_payee(2, PayeeKind::MerchantId));
            info(id, Scheme::Qris, guid, p)
        }
        g if g.starts_with("A000000727") => info(id, Scheme::VietQr, guid, vietqr_payee(account)),
        "KH.GOV.NBC.BAKONG" => info(
            id,
            Scheme::Bakong,
            guid,
            sub_payee(1, PayeeKind::BakongAccount),
        ),
        g if g.starts_with("A000000524") => {
            let mut i = info(id, Scheme::Upi, guid, upi_payee(account));
            if i.payee.is_none() {
                i.reference = sub(1).map(str::to_string);
            }
            i
        }
        g if g.starts_with("A000000333") => info(
            id,
            Scheme::UnionPay,
            guid,
            sub_payee(1, PayeeKind::MerchantId),
        ),
        g if g.starts_with("A000000003") => {
            info(id, Scheme::Visa, guid, sub_payee(1, PayeeKind::MerchantId))
        }
        g if g.starts_with("A000000004") => info(
            id,
            Scheme::Mastercard,
            guid,
            sub_payee(1, PayeeKind::MerchantId),
        ),
        g if g.starts_with("A000000025") => {
            info(id, Scheme::Amex, guid, sub_payee(1, PayeeKind::MerchantId))
        }
        g if g.starts_with("A000000065") => {
            info(id, Scheme::Jcb, guid, sub_payee(1, PayeeKind::MerchantId))
        }
        g if g.starts_with("A000000152") => info(
            id,
            Scheme::Discover,
            guid,
            sub_payee(1, PayeeKind::MerchantId),
        ),
        _ => {
            // Any template may carry a UPI link; otherwise 01 is the usual
            // place for an account.
            let p = upi_payee(account).or_else(|| sub_payee(1, PayeeKind::Account));
            let scheme = if p.as_ref().is_some_and(|p| p.kind == PayeeKind::Vpa) {
                Scheme::Upi
            } else {
                Scheme::Other
            };
            info(id, scheme, guid, p)
        }
    }
}

/// Pix keys are an email, a phone number (+55...), a CPF (11 digits), a
/// CNPJ (14 digits) or a random UUID.
fn pix_key_kind(key: &str) -> PayeeKind {
    let digits = key.bytes().all(|b| b.is_ascii_digit());
    if key.contains('@') {
        PayeeKind::Email
    } else if key.starts_with('+') {
        PayeeKind::Phone
    } else if digits && (key.len() == 11 || key.len() == 14) {
        PayeeKind::TaxId
    } else if is_uuid(key) {
        PayeeKind::RandomKey
    } else {
        PayeeKind::Account
    }
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// VietQR nests the beneficiary in 01: 00 the bank's BIN, 01 the account
/// or card number; 02 says which (QRIBFTTA account, QRIBFTTC card).
fn vietqr_payee(account: &MerchantAccount) -> Option<Payee> {
    let beneficiary = account.field(1)?;
    let objects = data_object::read(beneficiary, 0, Some(1), LengthUnit::Chars).ok()?;
    let get = |n: u8| objects.iter().find(|o| o.id == n).map(|o| o.value);
    let kind = match account.field(2) {
        Some("QRIBFTTC") => PayeeKind::Card,
        Some("QRPUSH") => PayeeKind::MerchantId,
        _ => PayeeKind::BankAccount,
    };
    Some(Payee {
        kind,
        value: get(1)?.to_string(),
        institution: get(0).map(str::to_string),
    })
}

/// A VPA in sub-ID 01, or the `pa` parameter of a `upi://` link in any
/// sub-field.
fn upi_payee(account: &MerchantAccount) -> Option<Payee> {
    let MerchantAccount::Template { fields, .. } = account else {
        return None;
    };
    let from_link = fields.iter().find_map(|f| upi_link_vpa(&f.value));
    let vpa = from_link.or_else(|| {
        fields
            .iter()
            .find(|f| f.id == 1 && f.value.contains('@'))
            .map(|f| f.value.clone())
    })?;
    // Only a template with a UPI GUID may claim a bare "x@y" value.
    let upi_guid = account
        .guid()
        .is_some_and(|g| g.to_ascii_uppercase().starts_with("A000000524"));
    if fields.iter().any(|f| upi_link_vpa(&f.value).is_some()) || upi_guid {
        payee(PayeeKind::Vpa, &vpa)
    } else {
        None
    }
}

fn upi_link_vpa(value: &str) -> Option<String> {
    let lower = value.get(..6)?.to_ascii_lowercase();
    if lower != "upi://" {
        return None;
    }
    let query = value.split_once('?')?.1;
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("pa="))
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

fn split_at_char(s: &str, n: usize) -> (&str, &str) {
    match s.char_indices().nth(n) {
        Some((i, _)) => s.split_at(i),
        None => (s, ""),
    }
}

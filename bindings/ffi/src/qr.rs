//! QR codes for the Pay screen: scanning a camera frame's luma plane,
//! reading a merchant's EMV payload as a `PaymentRequest`, and making codes
//! to show (a module matrix the app draws, or PNG / SVG bytes).
//!
//! Scanning and parsing need nothing secret. Parsing and generating are
//! plain functions, so a screen can use them without an open wallet;
//! scanning is a `Wallet` method, as DESIGN names it.

use std::collections::HashMap;

use wallet_core::qr::{
    AlternateLanguage as CoreAltLang, ErrorCorrection as CoreEc, PaymentRequest as CoreRequest,
    PaymentScheme as CoreScheme, Point as CorePoint, PointOfInitiation as CorePoi, QrMatrix,
    QrWarning as CoreWarning, ReceiveRequest as CoreReceive, ScannedCode as CoreScanned,
    TipRule as CoreTip,
};

use crate::bytes::Bytes;
use crate::error::{guard, WalletError};
use crate::money::Money;
use crate::validate::{check_len, check_opt_text, check_text, currency};
use crate::wallet::Wallet;

/// A point in pixels: column `x`, row `y`, origin at the top left.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

impl From<CorePoint> for Point {
    fn from(p: CorePoint) -> Self {
        Point { x: p.x, y: p.y }
    }
}

/// One code found in a frame.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ScannedCode {
    /// The payload; for a payment code, pass it to `parsePaymentRequest`.
    pub text: String,
    /// The symbol's top-left, top-right, bottom-right and bottom-left
    /// corners, in pixels of the frame as given.
    pub corners: Vec<Point>,
    /// The same four corners in the upright frame (after `rotation`),
    /// ready for a box over the preview.
    pub upright_corners: Vec<Point>,
    /// Light modules on a dark background.
    pub inverted: bool,
}

impl From<CoreScanned> for ScannedCode {
    fn from(c: CoreScanned) -> Self {
        ScannedCode {
            text: c.text,
            corners: c.corners.into_iter().map(Point::from).collect(),
            upright_corners: c.upright_corners.into_iter().map(Point::from).collect(),
            inverted: c.inverted,
        }
    }
}

/// Whether a code is printed for every payment or made for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PointOfInitiation {
    Static,
    Dynamic,
}

/// What the payer adds on top of the amount.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum TipRule {
    None,
    /// Ask the payer for a tip.
    Prompt,
    /// A fixed convenience fee.
    FixedFee {
        fee: Money,
    },
    /// A convenience fee in percent of the amount (decimal text, "3.5").
    PercentageFee {
        percent: String,
    },
}

/// One scheme the code can be paid through, and who gets paid there.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PaymentScheme {
    /// The merchant account information ID, "02" to "51".
    pub tag: String,
    /// `pix`, `promptpay`, `paynow`, `upi`, `visa`… (`unknown` for others).
    pub scheme: String,
    /// The template's globally unique identifier (AID or reverse domain).
    pub guid: Option<String>,
    /// What kind of identifier the payee is (`phone`, `pix_key`, `vpa`…).
    pub payee_kind: Option<String>,
    pub payee: Option<String>,
    /// The bank or acquirer holding the payee's account, where given.
    pub institution: Option<String>,
    /// A scheme-level reference (bill reference, UPI transaction note).
    pub reference: Option<String>,
}

impl From<CoreScheme> for PaymentScheme {
    fn from(s: CoreScheme) -> Self {
        PaymentScheme {
            tag: s.tag,
            scheme: s.scheme,
            guid: s.guid,
            payee_kind: s.payee_kind,
            payee: s.payee,
            institution: s.institution,
            reference: s.reference,
        }
    }
}

/// Something unusual about a code that real codes do anyway.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct QrWarning {
    /// Stable, machine-readable: `missing_mcc`, `lowercase_crc`…
    pub code: String,
    pub message: String,
}

impl From<CoreWarning> for QrWarning {
    fn from(w: CoreWarning) -> Self {
        QrWarning {
            code: w.code,
            message: w.message,
        }
    }
}

/// The merchant's name and city in another language (template 64).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AlternateLanguage {
    /// ISO 639-1.
    pub language: String,
    pub merchant_name: Option<String>,
    pub merchant_city: Option<String>,
}

impl From<CoreAltLang> for AlternateLanguage {
    fn from(a: CoreAltLang) -> Self {
        AlternateLanguage {
            language: a.language,
            merchant_name: a.merchant_name,
            merchant_city: a.merchant_city,
        }
    }
}

/// A merchant-presented payment code, ready to show and confirm.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PaymentRequest {
    /// The scanned text, which the bank needs to route the payment.
    pub payload: String,
    pub merchant_name: Option<String>,
    pub merchant_city: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// ISO 18245 merchant category code, as the code states it ("5812").
    pub mcc: Option<String>,
    /// The spending category the MCC falls in (`groceries`, `restaurants`…).
    pub category: String,
    /// ISO 4217.
    pub currency: String,
    /// The amount as the code states it; null when the customer enters it.
    pub amount: Option<Money>,
    /// True when the customer must type the amount in (`amount` is null).
    pub customer_enters_amount: bool,
    pub tip: TipRule,
    pub point_of_initiation: Option<PointOfInitiation>,
    /// The schemes and payee identifiers the code can be paid through.
    pub schemes: Vec<PaymentScheme>,
    /// Additional-data fields by name (`bill_number`, `reference_label`…);
    /// the value `***` asks the app to collect it from the payer.
    pub additional_data: HashMap<String, String>,
    pub alternate_language: Option<AlternateLanguage>,
    /// False when the checksum does not match the content: show what the
    /// code says, but do not pay it.
    pub crc_valid: bool,
    pub warnings: Vec<QrWarning>,
}

impl From<CoreRequest> for PaymentRequest {
    fn from(r: CoreRequest) -> Self {
        let customer_enters_amount = r.customer_enters_amount();
        PaymentRequest {
            payload: r.payload,
            merchant_name: r.merchant_name,
            merchant_city: r.merchant_city,
            country: r.country,
            mcc: r.mcc,
            category: r.category,
            currency: r.currency.code().to_string(),
            // Unrounded: a code stating more decimals than its currency
            // carries a warning, and the app decides.
            amount: r.amount.map(Money::exact),
            customer_enters_amount,
            tip: match r.tip {
                CoreTip::None => TipRule::None,
                CoreTip::Prompt => TipRule::Prompt,
                CoreTip::FixedFee { fee } => TipRule::FixedFee {
                    fee: Money::exact(fee),
                },
                CoreTip::PercentageFee { percent } => TipRule::PercentageFee {
                    percent: percent.to_string(),
                },
            },
            point_of_initiation: r.point_of_initiation.map(|p| match p {
                CorePoi::Static => PointOfInitiation::Static,
                CorePoi::Dynamic => PointOfInitiation::Dynamic,
            }),
            schemes: r.schemes.into_iter().map(PaymentScheme::from).collect(),
            additional_data: r.additional_data.into_iter().collect(),
            alternate_language: r.alternate_language.map(AlternateLanguage::from),
            crc_valid: r.crc_valid,
            warnings: r.warnings.into_iter().map(QrWarning::from).collect(),
        }
    }
}

/// How much of a symbol may be damaged and still read; higher levels make
/// larger symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ErrorCorrection {
    /// About 7%: for codes on the phone's own clean screen.
    Low,
    /// About 15%: the usual choice for payment codes.
    Medium,
    /// About 25%.
    Quartile,
    /// About 30%: room for a logo over the centre.
    High,
}

impl From<ErrorCorrection> for CoreEc {
    fn from(e: ErrorCorrection) -> Self {
        match e {
            ErrorCorrection::Low => CoreEc::Low,
            ErrorCorrection::Medium => CoreEc::Medium,
            ErrorCorrection::Quartile => CoreEc::Quartile,
            ErrorCorrection::High => CoreEc::High,
        }
    }
}

impl From<CoreEc> for ErrorCorrection {
    fn from(e: CoreEc) -> Self {
        match e {
            CoreEc::Low => ErrorCorrection::Low,
            CoreEc::Medium => ErrorCorrection::Medium,
            CoreEc::Quartile => ErrorCorrection::Quartile,
            CoreEc::High => ErrorCorrection::High,
        }
    }
}

/// A QR symbol as modules, for the app to draw: `size` x `size`, row by
/// row, `true` for dark, so module (x, y) is `modules[y * size + x]`.
/// Draw at least `quietZone` light modules around it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct QrCode {
    pub size: u32,
    /// QR version, 1 to 40.
    pub version: u8,
    pub error_correction: ErrorCorrection,
    pub quiet_zone: u32,
    pub modules: Vec<bool>,
}

impl From<QrMatrix> for QrCode {
    fn from(m: QrMatrix) -> Self {
        QrCode {
            size: m.size,
            version: m.version,
            error_correction: m.error_correction.into(),
            quiet_zone: QrMatrix::QUIET_ZONE,
            modules: m.modules,
        }
    }
}

/// A "request money" code: a merchant-presented-style payload any EMV QR
/// wallet can pay, naming this user as the payee.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReceiveRequest {
    /// The name the payer sees.
    pub name: String,
    pub city: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// ISO 4217.
    pub currency: String,
    /// Null: the payer enters the amount (a static code).
    #[uniffi(default = None)]
    pub amount: Option<Money>,
    /// ISO 18245; person-to-person codes usually have none.
    #[uniffi(default = None)]
    pub mcc: Option<String>,
    /// The payee identifier at the scheme (account, phone or alias).
    #[uniffi(default = None)]
    pub account: Option<String>,
    /// The scheme's globally unique identifier; null for Billfold's own.
    #[uniffi(default = None)]
    pub scheme_guid: Option<String>,
    /// A reference the payer's app echoes back.
    #[uniffi(default = None)]
    pub reference: Option<String>,
}

/// EMV payloads are at most 512 characters; anything far beyond that is
/// refused before the parser copies it around.
const MAX_PAYLOAD: usize = 4096;
/// A QR symbol holds at most 2,953 bytes.
const MAX_CODE_TEXT: usize = 2953;

fn matrix(payload: &str, ec: Option<ErrorCorrection>) -> Result<QrMatrix, WalletError> {
    check_len("QR payload", payload, MAX_CODE_TEXT)?;
    let ec = ec.unwrap_or(ErrorCorrection::Medium).into();
    Ok(QrMatrix::encode(payload, ec)?)
}

/// Reads a merchant-presented EMV payload (as scanned). A wrong checksum
/// still gives a request, with `crcValid` false, so the app can say what
/// the code claims and why it cannot be paid; any other defect the
/// specification forbids is `InvalidInput` with code `invalid_qr`.
#[uniffi::export]
pub fn parse_payment_request(payload: String) -> Result<PaymentRequest, WalletError> {
    guard(|| {
        check_len("QR payload", &payload, MAX_PAYLOAD)?;
        Ok(CoreRequest::from_payload(&payload)?.into())
    })
}

/// A code for any text (a payment payload, a link), as modules to draw.
/// `error_correction` defaults to `Medium`.
#[uniffi::export(default(error_correction = None))]
pub fn generate_qr_code(
    payload: String,
    error_correction: Option<ErrorCorrection>,
) -> Result<QrCode, WalletError> {
    guard(|| Ok(matrix(&payload, error_correction)?.into()))
}

/// The same code as an 8-bit grey PNG, black on white with the quiet zone,
/// `module_px` (1 to 32) pixels per module.
#[uniffi::export(default(error_correction = None, module_px = 8))]
pub fn qr_code_png(
    payload: String,
    error_correction: Option<ErrorCorrection>,
    module_px: u32,
) -> Result<Vec<u8>, WalletError> {
    guard(|| Ok(matrix(&payload, error_correction)?.to_png(module_px)?))
}

/// The same code as an SVG document, `module_px` (1 to 32) units per module.
#[uniffi::export(default(error_correction = None, module_px = 8))]
pub fn qr_code_svg(
    payload: String,
    error_correction: Option<ErrorCorrection>,
    module_px: u32,
) -> Result<String, WalletError> {
    guard(|| Ok(matrix(&payload, error_correction)?.to_svg(module_px)?))
}

/// The EMV payload of a "request money" code; show it with
/// `generateQrCode`. Refuses what no wallet could pay (a non-positive
/// amount, an amount in another currency, fields over their EMV lengths).
#[uniffi::export]
pub fn receive_request_payload(request: ReceiveRequest) -> Result<String, WalletError> {
    guard(|| {
        check_text("name", &request.name, 256)?;
        check_text("city", &request.city, 256)?;
        check_text("country", &request.country, 8)?;
        check_opt_text("merchant category code", request.mcc.as_deref(), 8)?;
        check_opt_text("account", request.account.as_deref(), 256)?;
        check_opt_text("scheme identifier", request.scheme_guid.as_deref(), 256)?;
        check_opt_text("reference", request.reference.as_deref(), 256)?;
        let r = CoreReceive {
            name: request.name,
            city: request.city,
            country: request.country,
            currency: currency(&request.currency)?,
            amount: request.amount.as_ref().map(Money::to_core).transpose()?,
            mcc: request.mcc,
            account: request.account,
            scheme_guid: request
                .scheme_guid
                .unwrap_or_else(|| CoreReceive::BILLFOLD_GUID.to_string()),
            reference: request.reference,
        };
        Ok(r.payload()?)
    })
}

#[uniffi::export]
impl Wallet {
    /// Finds the QR codes in a camera frame's luma (Y) plane: `width` x
    /// `height` pixels whose rows start `row_stride` bytes apart (Android's
    /// `ImageProxy` plane 0 row stride, or the width for a packed buffer),
    /// and `rotation` (0, 90, 180 or 270) the degrees the frame must turn
    /// clockwise to be upright. A frame is never stored.
    pub fn scan_frame(
        &self,
        luma: Bytes,
        width: u32,
        height: u32,
        row_stride: u32,
        rotation: u32,
    ) -> Result<Vec<ScannedCode>, WalletError> {
        // Sizes and the buffer's length against them are the core's first
        // check (`LumaView`), before any pixel is read.
        self.with(|w| w.scan_frame(&luma.0, width, height, row_stride, rotation))
            .map(|v| v.into_iter().map(ScannedCode::from).collect())
    }
}

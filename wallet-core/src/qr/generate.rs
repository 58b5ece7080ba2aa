//! Making QR codes to show: the consumer-presented payment code and
//! "receive money" requests, as PNG, as SVG, or as a module matrix the apps
//! draw themselves (the crispest result on any screen density).

use std::io::Cursor;

use qrcode::{EcLevel, QrCode};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::money::{Currency, Money};

/// How much of the symbol may be damaged and still read. Higher levels
/// make larger symbols for the same payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorCorrection {
    /// About 7%: for codes on the phone's own clean screen.
    Low,
    /// About 15%: the usual choice for printed payment codes.
    #[default]
    Medium,
    /// About 25%.
    Quartile,
    /// About 30%: room for a logo over the centre.
    High,
}

impl From<ErrorCorrection> for EcLevel {
    fn from(e: ErrorCorrection) -> Self {
        match e {
            ErrorCorrection::Low => EcLevel::L,
            ErrorCorrection::Medium => EcLevel::M,
            ErrorCorrection::Quartile => EcLevel::Q,
            ErrorCorrection::High => EcLevel::H,
        }
    }
}

/// A QR symbol as modules: `size` x `size`, row by row, `true` = dark.
/// Excludes the quiet zone: draw at least [`QrMatrix::QUIET_ZONE`] light
/// modules around it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QrMatrix {
    pub size: u32,
    /// QR version, 1 to 40 (the symbol is 17 + 4 x version modules wide).
    pub version: u8,
    pub error_correction: ErrorCorrection,
    /// `size * size` modules, row-major.
    pub modules: Vec<bool>,
}

impl QrMatrix {
    /// The light margin, in modules, that readers need around the symbol.
    pub const QUIET_ZONE: u32 = 4;
    /// The largest module size the renderers accept, in pixels.
    pub const MAX_MODULE_PX: u32 = 32;

    /// Encodes `text` (bytes of UTF-8; the encoder picks numeric,
    /// alphanumeric and byte segments to keep the symbol small).
    pub fn encode(text: &str, error_correction: ErrorCorrection) -> Result<Self> {
        if text.is_empty() {
            return Err(Error::QrEncode("the payload is empty"));
        }
        let code = QrCode::with_error_correction_level(text.as_bytes(), error_correction.into())
            .map_err(|e| match e {
                qrcode::types::QrError::DataTooLong => {
                    Error::QrEncode("the payload is too long for a QR code")
                }
                _ => Error::QrEncode("the payload cannot be encoded"),
            })?;
        let version = match code.version() {
            qrcode::Version::Normal(v) => v as u8,
            // `with_error_correction_level` only makes normal QR codes.
            qrcode::Version::Micro(_) => 0,
        };
        let size = code.width() as u32;
        let modules = code
            .to_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect();
        Ok(QrMatrix {
            size,
            version,
            error_correction,
            modules,
        })
    }

    pub fn is_dark(&self, x: u32, y: u32) -> bool {
        x < self.size && y < self.size && self.modules[(y * self.size + x) as usize]
    }

    /// The modules as rows, for apps that draw row by row.
    pub fn rows(&self) -> Vec<Vec<bool>> {
        self.modules
            .chunks(self.size as usize)
            .map(<[bool]>::to_vec)
            .collect()
    }

    fn check_module_px(module_px: u32) -> Result<()> {
        if module_px == 0 || module_px > Self::MAX_MODULE_PX {
            return Err(Error::QrEncode("the module size must be 1 to 32 pixels"));
        }
        Ok(())
    }

    /// Side of the rendered image in pixels, quiet zone included.
    pub fn image_side(&self, module_px: u32) -> u32 {
        (self.size + 2 * Self::QUIET_ZONE) * module_px
    }

    /// An 8-bit grey PNG, black on white, `module_px` pixels per module,
    /// with the quiet zone.
    pub fn to_png(&self, module_px: u32) -> Result<Vec<u8>> {
        Self::check_module_px(module_px)?;
        let side = self.image_side(module_px);
        let q = Self::QUIET_ZONE;
        let mut pixels = vec![255u8; (side * side) as usize];
        for (py, row) in pixels.chunks_exact_mut(side as usize).enumerate() {
            let my = (py as u32 / module_px).wrapping_sub(q);
            for (px, v) in row.iter_mut().enumerate() {
                let mx = (px as u32 / module_px).wrapping_sub(q);
                if self.is_dark(mx, my) {
                    *v = 0;
                }
            }
        }
        let img = image::GrayImage::from_raw(side, side, pixels)
            .ok_or(Error::QrEncode("the image buffer has the wrong size"))?;
        let mut png = Vec::new();
        img.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .map_err(|_| Error::QrEncode("the PNG encoder failed"))?;
        Ok(png)
    }

    /// An SVG document, black on white, `module_px` user units per module,
    /// with the quiet zone. Scales to any size without blurring.
    pub fn to_svg(&self, module_px: u32) -> Result<String> {
        Self::check_module_px(module_px)?;
        let colors: Vec<qrcode::Color> = self
            .modules
            .iter()
            .map(|&d| {
                if d {
                    qrcode::Color::Dark
                } else {
                    qrcode::Color::Light
                }
            })
            .collect();
        Ok(qrcode::render::Renderer::<qrcode::render::svg::Color>::new(
            &colors,
            self.size as usize,
            Self::QUIET_ZONE,
        )
        .quiet_zone(true)
        .module_dimensions(module_px, module_px)
        .build())
    }
}

/// The code a merchant scans from the phone: an EMV consumer-presented
/// payload (base64 of BER-TLV, as the payment-code builder makes it).
/// Shown on the phone's own screen, so low error correction keeps the
/// symbol small and its modules large.
pub fn consumer_presented_code(payload: &str) -> Result<QrMatrix> {
    if !payload
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    {
        return Err(Error::QrEncode(
            "a consumer-presented payload is base64 text",
        ));
    }
    QrMatrix::encode(payload, ErrorCorrection::Low)
}

/// A code for any payload text, with the error correction printed payment
/// codes use.
pub fn payload_code(payload: &str) -> Result<QrMatrix> {
    QrMatrix::encode(payload, ErrorCorrection::Medium)
}

/// A "receive money" request: a merchant-presented-style payload that any
/// EMV QR wallet can pay, naming this user as the payee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiveRequest {
    /// The name the payer sees (tag 59).
    pub name: String,
    /// Tag 60.
    pub city: String,
    /// ISO 3166-1 alpha-2 (tag 58).
    pub country: String,
    pub currency: Currency,
    /// `None`: the payer enters the amount (a static code).
    pub amount: Option<Money>,
    /// ISO 18245; person-to-person codes usually have none.
    pub mcc: Option<String>,
    /// The payee identifier at the scheme (account, phone or alias).
    pub account: Option<String>,
    /// The scheme's globally unique identifier (tag 26 sub-ID 00).
    pub scheme_guid: String,
    /// A reference the payer's app echoes back (tag 62 sub-ID 05).
    pub reference: Option<String>,
}

impl ReceiveRequest {
    /// Billfold's own scheme identifier, for requests between its users.
    pub const BILLFOLD_GUID: &'static str = "app.billfold";

    /// The payload text, built and validated by `emv`'s builder.
    pub fn payload(&self) -> Result<String> {
        if let Some(amount) = &self.amount {
            if amount.currency() != self.currency {
                return Err(Error::CurrencyMismatch);
            }
            if amount.amount() <= rust_decimal::Decimal::ZERO {
                return Err(Error::InvalidAmount("a requested amount must be positive"));
            }
        }
        let amount = self.amount.map(|a| a.amount_string());
        let payload = emv::qr::MerchantPayload {
            point_of_initiation: Some(if amount.is_some() {
                emv::qr::PointOfInitiation::Dynamic
            } else {
                emv::qr::PointOfInitiation::Static
            }),
            merchant_accounts: vec![emv::qr::MerchantAccount::template(
                26,
                self.scheme_guid.clone(),
                self.account.iter().map(|a| (1u8, a.clone())),
            )],
            mcc: self.mcc.clone(),
            currency: format!("{:03}", self.currency.numeric()),
            amount,
            country: self.country.clone(),
            merchant_name: Some(self.name.clone()),
            merchant_city: Some(self.city.clone()),
            additional_data: self.reference.as_ref().map(|r| emv::qr::AdditionalData {
                reference_label: Some(r.clone()),
                ..Default::default()
            }),
            ..Default::default()
        };
        payload.encode().map_err(|e| Error::InvalidQr {
            reason: e.code(),
            message: e.to_string(),
        })
    }

    /// The code to show or print.
    pub fn code(&self) -> Result<QrMatrix> {
        payload_code(&self.payload()?)
    }
}

//! QR codes in the wallet: scanning camera frames and images for codes,
//! generating codes to show, and turning a scanned EMV payload into a
//! payment request.

pub mod decoder;
pub mod generate;
pub mod request;
pub mod scan;

pub use decoder::{
    Binarizer, DecodeHints, DecodedSymbol, LumaView, Point, QrDecoder, ZxingDecoder,
};
pub use generate::{
    consumer_presented_code, payload_code, ErrorCorrection, QrMatrix, ReceiveRequest,
};
pub use request::{
    AlternateLanguage, ConsumerCode, EmvPayload, PaymentRequest, PaymentScheme, PointOfInitiation,
    QrWarning, TipRule,
};
pub use scan::{
    scan_frame, scan_image_file, Pass, Rotation, ScanStrategy, ScannedCode, Scanner, View,
};

use crate::error::Result;
use crate::Wallet;

impl Wallet {
    /// Scans a camera frame's luma plane for QR codes; see [`Scanner::scan_frame`].
    /// Needs no unlocked vault: a frame holds nothing secret.
    pub fn scan_frame(
        &self,
        luma: &[u8],
        width: u32,
        height: u32,
        row_stride: u32,
        rotation: u32,
    ) -> Result<Vec<ScannedCode>> {
        scan_frame(luma, width, height, row_stride, rotation)
    }
}

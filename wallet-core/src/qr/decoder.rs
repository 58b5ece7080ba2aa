//! The seam between the scanner and the QR decoding library.
//!
//! The scanner decides *what* to look at (which resolution, which region,
//! which contrast treatment); a [`QrDecoder`] finds and decodes the symbols
//! in one grey image. DESIGN picks zxing-cpp, wrapped here as
//! [`ZxingDecoder`]; another library only has to implement the trait.

use std::panic::{catch_unwind, AssertUnwindSafe};

use zxingcpp::{BarcodeFormat, BarcodeReader, ImageFormat, ImageView};

use crate::error::{Error, Result};

pub use frame::{LumaView, Point};

/// How a decoder should turn grey into black and white.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binarizer {
    /// A threshold per small block from its neighbourhood: robust to
    /// uneven light and glare. zxing-cpp's default.
    LocalAverage,
    /// One threshold for the image, from its histogram: keeps faint
    /// modules that the local threshold treats as flat.
    GlobalHistogram,
}

/// What one decode pass should try. Decoder-neutral: a decoder ignores
/// what it cannot do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeHints {
    /// Spend more time looking (every row, not every few).
    pub try_harder: bool,
    /// Also look for light-on-dark codes.
    pub try_invert: bool,
    /// Let the decoder also search its own downscaled copies.
    pub try_downscale: bool,
    pub binarizer: Binarizer,
}

impl Default for DecodeHints {
    fn default() -> Self {
        DecodeHints {
            try_harder: true,
            try_invert: true,
            try_downscale: true,
            binarizer: Binarizer::LocalAverage,
        }
    }
}

/// One symbol a decoder found.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedSymbol {
    /// The payload as text (QR byte segments read as UTF-8 or as the ECI says).
    pub text: String,
    /// Top-left, top-right, bottom-right, bottom-left of the symbol, as the
    /// symbol sees itself (finder patterns at the first three), in pixels
    /// of the image the decoder was given.
    pub corners: [Point; 4],
    /// Whether the symbol was light on dark.
    pub inverted: bool,
}

/// A QR decoding library behind the scanner.
pub trait QrDecoder: Send + Sync {
    /// A short name for logs and evaluation reports.
    fn name(&self) -> &'static str;

    /// Every QR code the library finds in `image`.
    fn decode(&self, image: LumaView<'_>, hints: &DecodeHints) -> Result<Vec<DecodedSymbol>>;
}

/// zxing-cpp, through its official Rust crate, restricted to QR codes of
/// model 2: EMV payment codes are never Micro QR, rMQR or the obsolete
/// model 1, and not looking for those saves time and false reads.
#[derive(Debug, Default, Clone, Copy)]
pub struct ZxingDecoder;

impl QrDecoder for ZxingDecoder {
    fn name(&self) -> &'static str {
        "zxing-cpp"
    }

    fn decode(&self, image: LumaView<'_>, hints: &DecodeHints) -> Result<Vec<DecodedSymbol>> {
        // The C++ side reports errors as values; the wrapper turns an
        // unexpected state into a Rust panic, which must not cross into the
        // app. LumaView's checks make both unreachable in practice.
        catch_unwind(AssertUnwindSafe(|| decode_zxing(image, hints)))
            .unwrap_or_else(|_| Err(Error::QrDecoder("the decoder stopped unexpectedly".into())))
    }
}

fn decode_zxing(image: LumaView<'_>, hints: &DecodeHints) -> Result<Vec<DecodedSymbol>> {
    // zxing-cpp's local-average binarizer is most of a pass's time, and
    // computing the same black and white in Rust is several times faster
    // (see frame::binarize). Its own downscaling must see grey, so a pass that
    // asks for it keeps zxing-cpp's binarizer.
    if hints.binarizer == Binarizer::LocalAverage && !hints.try_downscale {
        return BINARIZED.with(|cell| {
            // Taken out for the call, so that nothing is borrowed across it.
            let mut buf = cell.take();
            let found = if frame::binarize::local_average(image, &mut buf) {
                LumaView::new(&buf, image.width(), image.height(), image.width())
                    .map_err(Error::from)
                    .and_then(|bw| read_zxing(bw, hints, zxingcpp::Binarizer::FixedThreshold))
            } else {
                // Too small or without contrast: zxing-cpp's local-average
                // binarizer falls back to its global histogram here too.
                read_zxing(image, hints, zxingcpp::Binarizer::GlobalHistogram)
            };
            // A camera frame's buffer is kept; a big photo's is not.
            if buf.capacity() <= KEEP_BINARIZED_BYTES {
                cell.set(buf);
            }
            found
        });
    }
    let binarizer = match hints.binarizer {
        Binarizer::LocalAverage => zxingcpp::Binarizer::LocalAverage,
        Binarizer::GlobalHistogram => zxingcpp::Binarizer::GlobalHistogram,
    };
    read_zxing(image, hints, binarizer)
}

/// The largest binarized buffer kept between scans: a 4K camera frame.
const KEEP_BINARIZED_BYTES: usize = 3840 * 2160;

thread_local! {
    /// The last binarized frame's buffer, kept for the next frame on the
    /// same thread (a camera analyzer scans on one): allocating a fresh
    /// 2 MB buffer per frame costs as much in page faults as binarizing.
    static BINARIZED: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

fn read_zxing(
    image: LumaView<'_>,
    hints: &DecodeHints,
    binarizer: zxingcpp::Binarizer,
) -> Result<Vec<DecodedSymbol>> {
    let failed = |e: zxingcpp::Error| Error::QrDecoder(e.to_string());
    let (w, h, stride) = (image.width(), image.height(), image.stride());
    // The safe constructor wants tightly packed rows and a buffer of
    // exactly rows x stride: view the padded rows as a wider image and crop
    // the padding away (no copy), unless the last row is short, then copy.
    let padded;
    let view = if stride == w {
        ImageView::from_slice(image.data(), w as i32, h as i32, ImageFormat::Lum).map_err(failed)?
    } else if image.data().len() == stride * h && i32::try_from(stride * h).is_ok() {
        ImageView::from_slice(image.data(), stride as i32, h as i32, ImageFormat::Lum)
            .map_err(failed)?
            .cropped(0, 0, w as i32, h as i32)
    } else {
        padded = (0..h)
            .flat_map(|y| image.row(y))
            .copied()
            .collect::<Vec<u8>>();
        ImageView::from_slice(&padded, w as i32, h as i32, ImageFormat::Lum).map_err(failed)?
    };
    let reader = BarcodeReader::new()
        .formats(BarcodeFormat::QRCodeModel2)
        .try_harder(hints.try_harder)
        .try_invert(hints.try_invert)
        .try_downscale(hints.try_downscale)
        .try_rotate(true)
        .binarizer(binarizer)
        .return_errors(false);
    let found = reader.from(view).map_err(failed)?;
    Ok(found
        .iter()
        .filter(|b| b.is_valid())
        .map(|b| {
            let p = b.position();
            let pt = |q: zxingcpp::PointI| Point {
                x: q.x as f32,
                y: q.y as f32,
            };
            DecodedSymbol {
                text: b.text(),
                corners: [
                    pt(p.top_left),
                    pt(p.top_right),
                    pt(p.bottom_right),
                    pt(p.bottom_left),
                ],
                inverted: b.is_inverted(),
            }
        })
        .collect())
}

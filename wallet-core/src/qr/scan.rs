//! Scanning camera frames and image files for QR codes.
//!
//! A [`Scanner`] runs a short list of decode passes over a frame (the frame
//! as it is, then cheaper or more forgiving views of it) and merges what
//! they find. The passes were chosen by measurement on camera-like frames
//! (scripts/qr-eval/): each extra pass must read codes the earlier ones
//! miss, and the whole list must stay within DESIGN's 10 ms per 1920x1080
//! frame.

use std::path::Path;

use serde::Serialize;

use super::decoder::{
    Binarizer, DecodeHints, DecodedSymbol, LumaView, Point, QrDecoder, ZxingDecoder,
};
use crate::error::{Error, Result};
use frame::prepare::{self, Prepared, Rect};

/// How far the app must turn the frame clockwise to show it upright, as
/// Android's `ImageInfo.rotationDegrees` and iOS's orientation report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rotation {
    #[default]
    R0,
    R90,
    R180,
    R270,
}

impl Rotation {
    pub fn from_degrees(degrees: u32) -> Result<Self> {
        match degrees {
            0 => Ok(Rotation::R0),
            90 => Ok(Rotation::R90),
            180 => Ok(Rotation::R180),
            270 => Ok(Rotation::R270),
            _ => Err(Error::InvalidFrame(
                "the rotation must be 0, 90, 180 or 270",
            )),
        }
    }

    pub fn degrees(self) -> u32 {
        match self {
            Rotation::R0 => 0,
            Rotation::R90 => 90,
            Rotation::R180 => 180,
            Rotation::R270 => 270,
        }
    }

    /// Where point `p` of a `width` x `height` frame lands once the frame
    /// is turned upright.
    pub fn upright(self, p: Point, width: u32, height: u32) -> Point {
        let (w, h) = (width as f32, height as f32);
        match self {
            Rotation::R0 => p,
            Rotation::R90 => Point { x: h - p.y, y: p.x },
            Rotation::R180 => Point {
                x: w - p.x,
                y: h - p.y,
            },
            Rotation::R270 => Point { x: p.y, y: w - p.x },
        }
    }
}

/// One code found in a frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScannedCode {
    /// The payload.
    pub text: String,
    /// The symbol's top-left, top-right, bottom-right and bottom-left
    /// corners (as the symbol sees itself: its finder patterns sit at the
    /// first three), in pixels of the frame as given.
    pub corners: [Point; 4],
    /// The same corners in the upright frame (after the frame's rotation),
    /// ready for a box over the preview.
    pub upright_corners: [Point; 4],
    /// Light modules on a dark background.
    pub inverted: bool,
}

/// What a pass looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The frame as it is.
    Frame,
    /// The frame shrunk by averaging `n` x `n` blocks (2 to 4).
    Downscaled(u8),
    /// Shrunk by `n` (1 = not), then contrast stretched over `tile`-pixel tiles.
    Stretched { downscale: u8, tile: u8 },
    /// The central part of the frame (`percent` of each side), enlarged
    /// `factor` times: for codes too far away to have two pixels per module.
    CentreEnlarged { percent: u8, factor: u8 },
}

/// One decode pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub view: View,
    pub hints: DecodeHints,
    /// Run this pass only when the passes before it found nothing: a frame
    /// whose code was already read costs no more.
    pub only_if_nothing_found: bool,
}

/// The passes a scanner runs, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanStrategy {
    pub passes: Vec<Pass>,
}

impl ScanStrategy {
    /// The reference: one zxing-cpp pass with its defaults (which already
    /// include inverted codes and its own 1/3 and 1/9 downscales).
    pub fn single_pass() -> Self {
        ScanStrategy {
            passes: vec![Pass {
                view: View::Frame,
                hints: DecodeHints::default(),
                only_if_nothing_found: false,
            }],
        }
    }

    /// The strategy the wallet uses, chosen on generated camera frames
    /// (scripts/qr-eval/README.md has the figures):
    ///
    /// 1. the frame at full resolution, dark-on-light only, no pyramid:
    ///    most codes are read here;
    /// 2. the frame shrunk 2x (box filter), both polarities: blurred,
    ///    moire-ridden (screens) and light-on-dark codes, at a quarter of
    ///    the pixels;
    /// 3. only if nothing was found yet, the frame shrunk 4x, both
    ///    polarities: screens whose moire survives a 2x shrink, and big
    ///    low-contrast codes, for a sixteenth of the pixels;
    /// 4. only if nothing was found yet, the full frame with one global
    ///    threshold (and zxing's 1/3 and 1/9 pyramid): faded, low-contrast
    ///    codes that the local threshold flattens.
    ///
    /// Against zxing-cpp's single default pass (same build) this reads 405
    /// codes of 435 instead of 394, in about 60% of its median time per
    /// frame; a frame with no code, where every pass runs, costs 20 to 35%
    /// less than that single pass: about 4.5 ms of CPU for 1920x1080 in
    /// benches/scan.rs. Passes 1 to 3 binarize in Rust (see frame::binarize),
    /// which is what makes four passes cheaper than zxing-cpp's one.
    pub fn tuned() -> Self {
        let pass = |view, try_invert, try_downscale, binarizer, only_if_nothing_found| Pass {
            view,
            hints: DecodeHints {
                try_harder: true,
                try_invert,
                try_downscale,
                binarizer,
            },
            only_if_nothing_found,
        };
        use Binarizer::{GlobalHistogram, LocalAverage};
        ScanStrategy {
            passes: vec![
                pass(View::Frame, false, false, LocalAverage, false),
                pass(View::Downscaled(2), true, false, LocalAverage, false),
                pass(View::Downscaled(4), true, false, LocalAverage, true),
                pass(View::Frame, false, true, GlobalHistogram, true),
            ],
        }
    }
}

impl Default for ScanStrategy {
    fn default() -> Self {
        ScanStrategy::tuned()
    }
}

/// Finds QR codes in camera frames and images.
pub struct Scanner {
    decoder: Box<dyn QrDecoder>,
    strategy: ScanStrategy,
}

impl Default for Scanner {
    fn default() -> Self {
        Scanner::new()
    }
}

impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("decoder", &self.decoder.name())
            .field("strategy", &self.strategy)
            .finish()
    }
}

impl Scanner {
    /// zxing-cpp with the tuned strategy.
    pub fn new() -> Self {
        Scanner::with(Box::new(ZxingDecoder), ScanStrategy::default())
    }

    pub fn with(decoder: Box<dyn QrDecoder>, strategy: ScanStrategy) -> Self {
        Scanner { decoder, strategy }
    }

    pub fn strategy(&self) -> &ScanStrategy {
        &self.strategy
    }

    /// Every code in a camera frame's luma (Y) plane: `width` x `height`
    /// pixels, rows `row_stride` bytes apart, and the `rotation` (0, 90,
    /// 180 or 270) that turns it upright. A bad frame is a typed error,
    /// never a panic.
    pub fn scan_frame(
        &self,
        luma: &[u8],
        width: u32,
        height: u32,
        row_stride: u32,
        rotation: u32,
    ) -> Result<Vec<ScannedCode>> {
        let rotation = Rotation::from_degrees(rotation)?;
        let view = LumaView::new(luma, width as usize, height as usize, row_stride as usize)?;
        self.scan_view(view, rotation)
    }

    /// Every code in an image file (PNG or JPEG), read as grey and turned
    /// upright as its EXIF orientation says; corners are in pixels of the
    /// upright image.
    pub fn scan_image_file(&self, path: &Path) -> Result<Vec<ScannedCode>> {
        let grey = read_grey_image(path)?;
        let (w, h) = grey.dimensions();
        let view = LumaView::new(grey.as_raw(), w as usize, h as usize, w as usize)?;
        self.scan_view(view, Rotation::R0)
    }

    /// Every code in a checked view.
    pub fn scan_view(&self, frame: LumaView<'_>, rotation: Rotation) -> Result<Vec<ScannedCode>> {
        let mut found: Vec<(DecodedSymbol, [Point; 4])> = Vec::new();
        for pass in &self.strategy.passes {
            if pass.only_if_nothing_found && !found.is_empty() {
                continue;
            }
            let symbols = match prepared(frame, pass.view) {
                None => self.decoder.decode(frame, &pass.hints)?,
                Some(Some(img)) => {
                    let mut s = self.decoder.decode(img.view()?, &pass.hints)?;
                    for sym in &mut s {
                        sym.corners = sym.corners.map(|p| img.to_frame(p));
                    }
                    s
                }
                // Too small for this view: nothing to look at.
                Some(None) => continue,
            };
            for sym in symbols {
                if !found.iter().any(|(f, _)| same_code(f, &sym)) {
                    let corners = sym.corners.map(|p| clamp(p, frame));
                    found.push((sym, corners));
                }
            }
        }
        let (w, h) = (frame.width() as u32, frame.height() as u32);
        let mut codes: Vec<ScannedCode> = found
            .into_iter()
            .map(|(sym, corners)| ScannedCode {
                upright_corners: corners.map(|p| rotation.upright(p, w, h)),
                corners,
                text: sym.text,
                inverted: sym.inverted,
            })
            .collect();
        // Reading order on the upright screen: top to bottom, then left to right.
        codes.sort_by(|a, b| {
            let (ca, cb) = (centre(&a.upright_corners), centre(&b.upright_corners));
            (ca.y, ca.x)
                .partial_cmp(&(cb.y, cb.x))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        Ok(codes)
    }
}

/// `None`: decode the frame itself. `Some(None)`: the view is empty.
fn prepared(frame: LumaView<'_>, view: View) -> Option<Option<Prepared>> {
    match view {
        View::Frame => None,
        View::Downscaled(n) => Some(prepare::downscale(frame, n.clamp(1, 4) as usize)),
        View::Stretched { downscale, tile } => {
            let base = if downscale > 1 {
                prepare::downscale(frame, downscale.min(4) as usize)
            } else {
                Some(prepare::copy(frame))
            };
            Some(base.map(|b| prepare::stretch_contrast(&b, tile as usize, 12)))
        }
        View::CentreEnlarged { percent, factor } => {
            let p = percent.clamp(10, 100) as usize;
            let (cw, ch) = (frame.width() * p / 100, frame.height() * p / 100);
            let rect = Rect {
                x: (frame.width() - cw) / 2,
                y: (frame.height() - ch) / 2,
                width: cw,
                height: ch,
            };
            Some(prepare::crop_upscale(
                frame,
                rect,
                factor.clamp(1, 4) as usize,
            ))
        }
    }
}

fn centre(c: &[Point; 4]) -> Point {
    Point {
        x: c.iter().map(|p| p.x).sum::<f32>() / 4.0,
        y: c.iter().map(|p| p.y).sum::<f32>() / 4.0,
    }
}

fn clamp(p: Point, frame: LumaView<'_>) -> Point {
    Point {
        x: p.x.clamp(0.0, frame.width() as f32),
        y: p.y.clamp(0.0, frame.height() as f32),
    }
}

/// The same payload at the same place: one code seen by two passes. Two
/// stickers with the same payload side by side stay two codes.
fn same_code(a: &DecodedSymbol, b: &DecodedSymbol) -> bool {
    if a.text != b.text {
        return false;
    }
    let (ca, cb) = (centre(&a.corners), centre(&b.corners));
    let size = |c: &[Point; 4]| {
        let d = |p: Point, q: Point| ((p.x - q.x).powi(2) + (p.y - q.y).powi(2)).sqrt();
        d(c[0], c[2]).max(d(c[1], c[3]))
    };
    let dist = ((ca.x - cb.x).powi(2) + (ca.y - cb.y).powi(2)).sqrt();
    dist < size(&a.corners).max(size(&b.corners)) / 2.0
}

/// Decodes an image file (PNG or JPEG, whatever its name says) to 8-bit
/// grey, upright as its EXIF orientation says (a phone's photo is often
/// stored sideways), refusing sizes no photo has (a decompression bomb
/// must not exhaust the phone's memory). A file that is not a readable
/// image is [`Error::InvalidImage`], never a panic.
pub(crate) fn read_grey_image(path: &Path) -> Result<image::GrayImage> {
    use image::{DynamicImage, ImageDecoder, Limits};
    let bad = |e: image::ImageError| Error::InvalidImage(e.to_string());
    let mut reader = image::ImageReader::open(path)?
        .with_guessed_format()
        .map_err(Error::from)?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(LumaView::MAX_SIDE as u32);
    limits.max_image_height = Some(LumaView::MAX_SIDE as u32);
    limits.max_alloc = Some(512 << 20);
    reader.limits(limits.clone());
    // The codecs are fuzzed upstream, but a panic in one must still not
    // reach the app.
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut decoder = reader.into_decoder()?;
        let orientation = decoder
            .orientation()
            .unwrap_or(image::metadata::Orientation::NoTransforms);
        limits.reserve(decoder.total_bytes())?;
        let mut img = DynamicImage::ImageLuma8(DynamicImage::from_decoder(decoder)?.into_luma8());
        img.apply_orientation(orientation);
        Ok(img.into_luma8())
    }));
    match decoded {
        Ok(result) => result.map_err(bad),
        Err(_) => Err(Error::InvalidImage(
            "the image decoder stopped unexpectedly".into(),
        )),
    }
}

/// Scans a camera frame with the default [`Scanner`]; see [`Scanner::scan_frame`].
pub fn scan_frame(
    luma: &[u8],
    width: u32,
    height: u32,
    row_stride: u32,
    rotation: u32,
) -> Result<Vec<ScannedCode>> {
    Scanner::new().scan_frame(luma, width, height, row_stride, rotation)
}

/// Scans an image file with the default [`Scanner`]; see [`Scanner::scan_image_file`].
pub fn scan_image_file(path: impl AsRef<Path>) -> Result<Vec<ScannedCode>> {
    Scanner::new().scan_image_file(path.as_ref())
}

//! Camera frames for the QR scanner: a checked view of an 8-bit luma plane,
//! and the pixel work done on it before a decoder looks (binarization,
//! shrinking, cropping and enlarging, contrast stretching).
//!
//! A crate of its own so that the shipped mobile library, built for size,
//! can still build this part for speed (Cargo's per-package `opt-level`):
//! at `opt-level = "z"` the compiler stops vectorising these loops and a
//! 1080p frame took three times as long. The entry points are
//! `#[inline(never)]`: inlined into a size-built caller (each has one), a
//! function would take on the caller's size settings under LTO and lose
//! its vectorised loops.

pub mod binarize;
pub mod prepare;

/// Why a frame was refused: a fixed sentence, never the pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameError(pub &'static str);

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for FrameError {}

/// A point in pixels of some image: column `x`, row `y`, origin top left.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

/// A borrowed 8-bit grey image whose rows start `stride` bytes apart.
///
/// Construction checks that every pixel lies inside `data`, so a decoder
/// may index it freely.
#[derive(Debug, Clone, Copy)]
pub struct LumaView<'a> {
    data: &'a [u8],
    width: usize,
    height: usize,
    stride: usize,
}

impl<'a> LumaView<'a> {
    /// The largest side accepted: beyond this no phone camera or sensible
    /// photo goes, and zxing-cpp's pattern counters are 16-bit.
    pub const MAX_SIDE: usize = 16_384;
    /// The most pixels accepted (a 64-megapixel photo).
    pub const MAX_PIXELS: usize = 64 << 20;

    pub fn new(
        data: &'a [u8],
        width: usize,
        height: usize,
        stride: usize,
    ) -> Result<Self, FrameError> {
        if width == 0 || height == 0 {
            return Err(FrameError("the width and height must not be zero"));
        }
        if stride < width {
            return Err(FrameError("the row stride must be at least the width"));
        }
        if width > Self::MAX_SIDE || height > Self::MAX_SIDE {
            return Err(FrameError(
                "the frame is larger than 16384 pixels on a side",
            ));
        }
        let pixels = width
            .checked_mul(height)
            .ok_or(FrameError("the frame size overflows"))?;
        if pixels > Self::MAX_PIXELS {
            return Err(FrameError("the frame has more than 64 megapixels"));
        }
        // The last row need not be padded to the full stride (Android's
        // Y planes often are not), so `stride * (height - 1) + width`.
        let needed = stride
            .checked_mul(height - 1)
            .and_then(|n| n.checked_add(width))
            .filter(|&n| i32::try_from(n).is_ok())
            .ok_or(FrameError("the frame size overflows"))?;
        if data.len() < needed {
            return Err(FrameError(
                "the buffer is shorter than the width, height and stride say",
            ));
        }
        // Keep the last row's padding when the buffer has it: then a
        // decoder can view the rows without copying them.
        let end = stride
            .checked_mul(height)
            .map_or(needed, |full| full.min(data.len()));
        Ok(LumaView {
            data: &data[..end],
            width,
            height,
            stride,
        })
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn height(&self) -> usize {
        self.height
    }

    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Row `y`, exactly `width` pixels.
    pub fn row(&self, y: usize) -> &'a [u8] {
        let start = y * self.stride;
        &self.data[start..start + self.width]
    }

    /// All bytes from the first pixel to the last (rows and their padding).
    pub fn data(&self) -> &'a [u8] {
        self.data
    }
}

//! Grey-image preparation for extra scan passes: shrinking, cropping and
//! contrast stretching, each returning a tightly packed image and the
//! affine map back to the frame's coordinates.
//!
//! Everything here is plain integer arithmetic over rows, so it stays in
//! the low milliseconds for a 1920x1080 frame (see benches/scan.rs).

use crate::{FrameError, LumaView, Point};

/// An owned, tightly packed grey image and where it came from.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub pixels: Vec<u8>,
    pub width: usize,
    pub height: usize,
    /// Frame pixel = `origin + scale * prepared pixel`.
    pub scale: f32,
    pub origin: Point,
}

impl Prepared {
    /// Fails only if an enlargement went past the frame size limits.
    pub fn view(&self) -> Result<LumaView<'_>, FrameError> {
        LumaView::new(&self.pixels, self.width, self.height, self.width)
    }

    pub fn to_frame(&self, p: Point) -> Point {
        Point {
            x: self.origin.x + p.x * self.scale,
            y: self.origin.y + p.y * self.scale,
        }
    }
}

/// A rectangle of the frame, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: usize,
    pub y: usize,
    pub width: usize,
    pub height: usize,
}

/// Averages `factor` x `factor` blocks: a box filter that also suppresses
/// the sensor noise and screen moire that a plain subsample would alias.
/// Each output pixel is the rounded mean of its block, as zxing-cpp's own
/// downscaling computes it. `None` when the result would be empty.
#[inline(never)] // keeps this crate's opt-level under LTO (lib.rs)
pub fn downscale(src: LumaView<'_>, factor: usize) -> Option<Prepared> {
    let f = factor.clamp(1, 4);
    let (w, h) = (src.width() / f, src.height() / f);
    if w == 0 || h == 0 {
        return None;
    }
    let pixels = match f {
        1 => return Some(copy(src)),
        2 => box_mean::<2>(src, w, h),
        3 => box_mean::<3>(src, w, h),
        _ => box_mean::<4>(src, w, h),
    };
    Some(Prepared {
        pixels,
        width: w,
        height: h,
        scale: f as f32,
        origin: Point { x: 0.0, y: 0.0 },
    })
}

/// The `F` x `F` box mean behind [`downscale`], written so that the
/// compiler vectorises both steps: `F` rows summed column by column into
/// u16 (at most 16 x 255), then `F` neighbouring sums at a time, 16 output
/// pixels per fixed-size chunk.
fn box_mean<const F: usize>(src: LumaView<'_>, w: usize, h: usize) -> Vec<u8> {
    const LANES: usize = 16;
    let area = (F * F) as u16;
    let mut out = vec![0u8; w * h];
    let mut acc = vec![0u16; w * F];
    for (oy, out_row) in out.chunks_exact_mut(w).enumerate() {
        for (a, &v) in acc.iter_mut().zip(&src.row(oy * F)[..w * F]) {
            *a = v as u16;
        }
        for dy in 1..F {
            for (a, &v) in acc.iter_mut().zip(&src.row(oy * F + dy)[..w * F]) {
                *a += v as u16;
            }
        }
        let mut outs = out_row.chunks_exact_mut(LANES);
        let mut sums = acc.chunks_exact(LANES * F);
        for (o, a) in (&mut outs).zip(&mut sums) {
            let o: &mut [u8; LANES] = o.try_into().expect("a chunk of LANES");
            for (i, o) in o.iter_mut().enumerate() {
                let mut s = area / 2;
                for k in 0..F {
                    s += a[F * i + k];
                }
                *o = (s / area) as u8;
            }
        }
        for (o, a) in outs
            .into_remainder()
            .iter_mut()
            .zip(sums.remainder().chunks_exact(F))
        {
            *o = ((a.iter().sum::<u16>() + area / 2) / area) as u8;
        }
    }
    out
}

/// Copies `rect` (clipped to the frame) and enlarges it `factor` times with
/// bilinear interpolation, so that codes with barely two pixels per module
/// get a binarizer grid fine enough to separate them.
#[inline(never)] // keeps this crate's opt-level under LTO (lib.rs)
pub fn crop_upscale(src: LumaView<'_>, rect: Rect, factor: usize) -> Option<Prepared> {
    let x0 = rect.x.min(src.width());
    let y0 = rect.y.min(src.height());
    let cw = rect.width.min(src.width() - x0);
    let ch = rect.height.min(src.height() - y0);
    let f = factor.max(1);
    if cw < 2 || ch < 2 {
        return None;
    }
    let (w, h) = (cw * f, ch * f);
    let mut out = vec![0u8; w * h];
    // Sample at pixel centres: output pixel o maps to source (o + 0.5) / f - 0.5.
    // Fixed point with 8 fractional bits.
    let coord = |o: usize, n: usize| -> (usize, u32) {
        let s = ((2 * o + 1) * 256 / (2 * f)) as i64 - 128;
        let s = s.clamp(0, ((n - 1) * 256) as i64) as usize;
        (s >> 8, (s & 255) as u32)
    };
    let xs: Vec<(usize, u32)> = (0..w).map(|ox| coord(ox, cw)).collect();
    for (oy, out_row) in out.chunks_exact_mut(w).enumerate() {
        let (sy, fy) = coord(oy, ch);
        let r0 = &src.row(y0 + sy)[x0..x0 + cw];
        let r1 = &src.row(y0 + (sy + 1).min(ch - 1))[x0..x0 + cw];
        for (o, &(sx, fx)) in out_row.iter_mut().zip(&xs) {
            let sx1 = (sx + 1).min(cw - 1);
            let top = r0[sx] as u32 * (256 - fx) + r0[sx1] as u32 * fx;
            let bot = r1[sx] as u32 * (256 - fx) + r1[sx1] as u32 * fx;
            *o = ((top * (256 - fy) + bot * fy + (1 << 15)) >> 16) as u8;
        }
    }
    Some(Prepared {
        pixels: out,
        width: w,
        height: h,
        scale: 1.0 / f as f32,
        origin: Point {
            x: x0 as f32,
            y: y0 as f32,
        },
    })
}

/// Local contrast stretch: each pixel is mapped through the min..max of
/// its neighbourhood (its `tile`-pixel tile and the eight around it), so a
/// code printed in 20 grey levels comes out in 255.
/// Tiles flatter than `min_range` are left nearly as they are, so noise in
/// flat areas is not blown up into texture.
#[inline(never)] // keeps this crate's opt-level under LTO (lib.rs)
pub fn stretch_contrast(img: &Prepared, tile: usize, min_range: u8) -> Prepared {
    let (w, h) = (img.width, img.height);
    let t = tile.max(4);
    let (tw, th) = (w.div_ceil(t), h.div_ceil(t));
    let mut lo = vec![255u8; tw * th];
    let mut hi = vec![0u8; tw * th];
    for (y, row) in img.pixels.chunks_exact(w).enumerate() {
        let ty = y / t;
        for (tx, chunk) in row.chunks(t).enumerate() {
            let (mut a, mut b) = (255u8, 0u8);
            for &v in chunk {
                a = a.min(v);
                b = b.max(v);
            }
            let i = ty * tw + tx;
            lo[i] = lo[i].min(a);
            hi[i] = hi[i].max(b);
        }
    }
    // Widen each tile's range to its 3x3 neighbourhood: a module edge that
    // falls on a tile border then sees both its dark and its light side.
    let grow = |v: &[u8], pick: fn(u8, u8) -> u8| -> Vec<u8> {
        let mut out = v.to_vec();
        for ty in 0..th {
            for tx in 0..tw {
                let mut m = v[ty * tw + tx];
                for ny in ty.saturating_sub(1)..(ty + 2).min(th) {
                    for nx in tx.saturating_sub(1)..(tx + 2).min(tw) {
                        m = pick(m, v[ny * tw + nx]);
                    }
                }
                out[ty * tw + tx] = m;
            }
        }
        out
    };
    let lo = grow(&lo, u8::min);
    let hi = grow(&hi, u8::max);
    // Per-tile linear map v -> (v - lo) * gain, gain in 8.8 fixed point.
    let min_range = min_range.max(1) as u32;
    let maps: Vec<(i32, i32)> = lo
        .iter()
        .zip(&hi)
        .map(|(&a, &b)| {
            let range = (b.saturating_sub(a) as u32).max(min_range);
            (a as i32, (255 * 256 / range) as i32)
        })
        .collect();
    let mut out = vec![0u8; w * h];
    for (y, (src_row, out_row)) in img
        .pixels
        .chunks_exact(w)
        .zip(out.chunks_exact_mut(w))
        .enumerate()
    {
        let ty = (y / t).min(th - 1);
        for (tx, (s, o)) in src_row.chunks(t).zip(out_row.chunks_mut(t)).enumerate() {
            let (a, g) = maps[ty * tw + tx];
            for (sv, ov) in s.iter().zip(o.iter_mut()) {
                *ov = (((*sv as i32 - a) * g) >> 8).clamp(0, 255) as u8;
            }
        }
    }
    Prepared {
        pixels: out,
        width: w,
        height: h,
        scale: img.scale,
        origin: img.origin,
    }
}

/// Copies a view into a tightly packed image at scale 1.
#[inline(never)] // keeps this crate's opt-level under LTO (lib.rs)
pub fn copy(src: LumaView<'_>) -> Prepared {
    let mut pixels = Vec::with_capacity(src.width() * src.height());
    for y in 0..src.height() {
        pixels.extend_from_slice(src.row(y));
    }
    Prepared {
        pixels,
        width: src.width(),
        height: src.height(),
        scale: 1.0,
        origin: Point { x: 0.0, y: 0.0 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downscale_is_the_rounded_block_mean() {
        let (w, h, stride) = (203, 61, 211);
        let data: Vec<u8> = (0..stride * h).map(|i| ((i * 7919) % 251) as u8).collect();
        let src = LumaView::new(&data, w, h, stride).unwrap();
        for f in 1..=4 {
            let d = downscale(src, f).unwrap();
            assert_eq!((d.width, d.height), (w / f, h / f));
            for oy in 0..d.height {
                for ox in 0..d.width {
                    let mut sum = 0u32;
                    for y in oy * f..(oy + 1) * f {
                        for x in ox * f..(ox + 1) * f {
                            sum += src.row(y)[x] as u32;
                        }
                    }
                    let area = (f * f) as u32;
                    let want = ((sum + area / 2) / area) as u8;
                    assert_eq!(d.pixels[oy * d.width + ox], want, "f={f} at {ox},{oy}");
                }
            }
        }
        assert!(downscale(LumaView::new(&data, 3, 3, 3).unwrap(), 4).is_none());
    }
}

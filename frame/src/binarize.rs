//! zxing-cpp's local-average ("hybrid") binarizer, computed in Rust.
//!
//! zxing-cpp turns grey into black and white before it looks for finder
//! patterns. Its local-average binarizer walks the frame in 8x8 blocks
//! with loops the C++ compiler does not vectorise: on a 1920x1080 frame it
//! is about two thirds of a whole decode pass. This module computes the
//! very same black-and-white image (bit for bit: the tests check it against
//! a line-by-line port of the C++) a row at a time, which the compiler does
//! vectorise, and wallet-core's `ZxingDecoder` hands the result to
//! zxing-cpp with its plain fixed-threshold binarizer. What zxing-cpp then
//! detects and decodes is unchanged; only the time differs.
//!
//! The algorithm (zxing-cpp 2.x `HybridBinarizer`, "new algorithm"):
//!
//! 1. each 8x8 block gets a threshold: the mid-point of its darkest and
//!    lightest pixel, or 0 when they are no more than 24 levels apart (a
//!    flat block says nothing about where black ends);
//! 2. each threshold becomes the weighted mean of the non-zero thresholds
//!    in the 5x5 blocks around it (its own counting three times), and the
//!    blocks still without one take the next block's in reading order (the
//!    last ones the previous block's);
//! 3. a pixel is black when it is at most its block's threshold.
//!
//! Images smaller than 40 pixels on a side, or with no block of contrast
//! at all, are binarized with one global threshold instead; this module
//! says so with `None`, and the caller asks zxing-cpp for exactly that.

use crate::LumaView;

const BLOCK: usize = 8;
/// The smoothing window: 5 x 5 blocks.
const WINDOW: usize = BLOCK * 5;
const RADIUS: usize = 2;
const MIN_DYNAMIC_RANGE: u8 = 24;

/// What a binarized pixel holds: black is 0, white is 255, so that any
/// threshold from 0 to 254 reads the image back unchanged.
pub const BLACK: u8 = 0;
pub const WHITE: u8 = 255;

/// Writes the frame in black ([`BLACK`]) and white ([`WHITE`]) to `out`,
/// tightly packed, exactly as zxing-cpp's local-average binarizer would
/// see it; false (and `out` untouched) when that binarizer would fall
/// back to one global threshold. `out` is reused rather than allocated:
/// a fresh 2 MB buffer per frame costs as much in page faults as the
/// binarizing itself.
#[inline(never)] // keeps this crate's opt-level under LTO (lib.rs)
pub fn local_average(img: LumaView<'_>, out: &mut Vec<u8>) -> bool {
    let (w, h) = (img.width(), img.height());
    if w < WINDOW || h < WINDOW {
        return false;
    }
    let (bw, bh) = (w.div_ceil(BLOCK), h.div_ceil(BLOCK));
    let thresholds = smooth(&block_thresholds(img, bw, bh), bw, bh);
    if thresholds.iter().all(|&t| t == 0) {
        return false;
    }
    threshold_image(img, &thresholds, bw, bh, out);
    true
}

/// The first pixel of block `b` along a side of `n` pixels: the last block
/// of a side that is not a multiple of 8 overlaps the one before it.
fn block_start(b: usize, n: usize) -> usize {
    (b * BLOCK).min(n - BLOCK)
}

/// Step 1: one threshold per 8x8 block, `bw` x `bh` of them.
fn block_thresholds(img: LumaView<'_>, bw: usize, bh: usize) -> Vec<u8> {
    let (w, h) = (img.width(), img.height());
    let mut out = vec![0u8; bw * bh];
    // Per column, the min and max over the block's 8 rows (a vectorised
    // element-wise min and max), then per block over its 8 columns.
    let mut lo = vec![0u8; w];
    let mut hi = vec![0u8; w];
    for (by, out_row) in out.chunks_exact_mut(bw).enumerate() {
        let y0 = block_start(by, h);
        lo.copy_from_slice(img.row(y0));
        hi.copy_from_slice(img.row(y0));
        for y in y0 + 1..y0 + BLOCK {
            for ((l, u), &v) in lo.iter_mut().zip(hi.iter_mut()).zip(img.row(y)) {
                *l = (*l).min(v);
                *u = (*u).max(v);
            }
        }
        for (bx, t) in out_row.iter_mut().enumerate() {
            let x0 = block_start(bx, w);
            let min = lo[x0..x0 + BLOCK].iter().fold(255u8, |a, &v| a.min(v));
            let max = hi[x0..x0 + BLOCK].iter().fold(0u8, |a, &v| a.max(v));
            *t = if max - min > MIN_DYNAMIC_RANGE {
                ((max as u16 + min as u16) / 2) as u8
            } else {
                0
            };
        }
    }
    out
}

/// Step 2: smoothing over 5x5 blocks, then filling the blocks left at 0.
fn smooth(t: &[u8], bw: usize, bh: usize) -> Vec<u8> {
    // Window sums and counts of non-zero thresholds, separably: first
    // along rows for every window centre column, then along columns. The
    // window of block (x, y) is centred on (clamp(x, 2, bw - 3),
    // clamp(y, 2, bh - 3)), so it always lies inside the grid (which has
    // at least 5 blocks a side).
    let centre = |i: usize, n: usize| i.clamp(RADIUS, n - RADIUS - 1);
    let mut row_sum = vec![0u32; bw * bh];
    let mut row_cnt = vec![0u32; bw * bh];
    for y in 0..bh {
        let row = &t[y * bw..(y + 1) * bw];
        for cx in RADIUS..bw - RADIUS {
            let win = &row[cx - RADIUS..=cx + RADIUS];
            row_sum[y * bw + cx] = win.iter().map(|&v| v as u32).sum();
            row_cnt[y * bw + cx] = win.iter().filter(|&&v| v > 0).count() as u32;
        }
    }
    let mut out = vec![0u8; bw * bh];
    for y in 0..bh {
        let cy = centre(y, bh);
        for x in 0..bw {
            let cx = centre(x, bw);
            let own = t[y * bw + x] as u32;
            let mut sum = own * 2;
            let mut n = if own > 0 { 2 } else { 0 };
            for wy in cy - RADIUS..=cy + RADIUS {
                sum += row_sum[wy * bw + cx];
                n += row_cnt[wy * bw + cx];
            }
            out[y * bw + x] = sum.checked_div(n).unwrap_or(0) as u8;
        }
    }
    // Flat regions: a run of zeros takes the value after it, and a run at
    // the very end the value before it.
    let mut pending = 0; // start of the current run of zeros
    for i in 0..out.len() {
        if out[i] != 0 {
            let v = out[i];
            out[pending..i].fill(v);
            pending = i + 1;
        }
    }
    let last = if pending > 0 { out[pending - 1] } else { 0 };
    out[pending..].fill(last);
    out
}

/// Step 3: every pixel against its block's threshold. Where the last
/// block of a row or column overlaps the one before it, the last block's
/// threshold wins (zxing-cpp writes the blocks in reading order).
fn threshold_image(img: LumaView<'_>, t: &[u8], bw: usize, bh: usize, out: &mut Vec<u8>) {
    let (w, h) = (img.width(), img.height());
    let block_of = |p: usize, n: usize, blocks: usize| {
        if p >= n - BLOCK {
            blocks - 1
        } else {
            p / BLOCK
        }
    };
    // Every byte is written below; resizing only fills what the buffer
    // never had.
    out.resize(w * h, 0);
    out.truncate(w * h);
    // The thresholds of one block row, one per pixel, so the compare below
    // runs over whole rows.
    let mut per_pixel = vec![0u8; w];
    let mut current = usize::MAX;
    for (y, out_row) in out.chunks_exact_mut(w).enumerate() {
        let by = block_of(y, h, bh);
        if by != current {
            current = by;
            let tr = &t[by * bw..(by + 1) * bw];
            let split = w - BLOCK;
            for (chunk, &v) in per_pixel[..split].chunks_mut(BLOCK).zip(tr) {
                chunk.fill(v);
            }
            per_pixel[split..].fill(tr[bw - 1]);
        }
        for ((o, &v), &th) in out_row.iter_mut().zip(img.row(y)).zip(&per_pixel) {
            *o = if v <= th { BLACK } else { WHITE };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// zxing-cpp's HybridBinarizer (new algorithm), ported line by line
    /// from core/src/HybridBinarizer.cpp: the reference the fast version
    /// must match bit for bit.
    fn reference(img: LumaView<'_>) -> Option<Vec<u8>> {
        let (w, h) = (img.width() as i64, img.height() as i64);
        if w < 40 || h < 40 {
            return None;
        }
        let px = |x: i64, y: i64| img.row(y as usize)[x as usize];
        let (sw, sh) = ((w + 7) / 8, (h + 7) / 8);
        // BlockThresholds
        let mut thr = vec![0i64; (sw * sh) as usize];
        for y in 0..sh {
            let y0 = (y * 8).min(h - 8);
            for x in 0..sw {
                let x0 = (x * 8).min(w - 8);
                let (mut min, mut max) = (255i64, 0i64);
                for yy in 0..8 {
                    for xx in 0..8 {
                        let v = px(x0 + xx, y0 + yy) as i64;
                        min = min.min(v);
                        max = max.max(v);
                    }
                }
                thr[(y * sw + x) as usize] = if max - min > 24 { (max + min) / 2 } else { 0 };
            }
        }
        // SmoothThresholds
        let r = 2i64;
        let mut out = vec![0i64; thr.len()];
        for y in 0..sh {
            for x in 0..sw {
                let left = x.clamp(r, sw - r - 1);
                let top = y.clamp(r, sh - r - 1);
                let mut sum = thr[(y * sw + x) as usize] * 2;
                let mut n = if sum > 0 { 2 } else { 0 };
                for dy in -r..=r {
                    for dx in -r..=r {
                        let t = thr[((top + dy) * sw + left + dx) as usize];
                        sum += t;
                        n += (t > 0) as i64;
                    }
                }
                out[(y * sw + x) as usize] = if n > 0 { sum / n } else { 0 };
            }
        }
        let mut last: i64 = -1;
        for i in 0..out.len() as i64 {
            if out[i as usize] != 0 {
                if last != i - 1 {
                    let v = out[i as usize];
                    for j in (last + 1)..i {
                        out[j as usize] = v;
                    }
                }
                last = i;
            }
        }
        let fill = out[last.max(0) as usize];
        out[(last + 1) as usize..].fill(fill);
        if out.iter().all(|&t| t == 0) {
            return None;
        }
        // ThresholdImage
        let mut m = vec![0u8; (w * h) as usize];
        for y in 0..sh {
            let yo = (y * 8).min(h - 8);
            for x in 0..sw {
                let xo = (x * 8).min(w - 8);
                let t = out[(y * sw + x) as usize];
                for yy in yo..yo + 8 {
                    for xx in xo..xo + 8 {
                        m[(yy * w + xx) as usize] = if (px(xx, yy) as i64) <= t {
                            BLACK
                        } else {
                            WHITE
                        };
                    }
                }
            }
        }
        Some(m)
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// Blobs of different contrast on a gradient, with noise and flat
    /// areas, so that every branch (flat blocks, filled gaps, overlapping
    /// last blocks) is taken.
    fn image(w: usize, h: usize, seed: u64, contrast: u64) -> Vec<u8> {
        let mut rng = Rng(seed | 1);
        let mut img = vec![0u8; w * h];
        let flat = rng.next().is_multiple_of(3);
        for y in 0..h {
            for x in 0..w {
                let base = if flat { 128 } else { 40 + (x * 150 / w) as u64 };
                let blob = ((x / 13 + y / 7) % 5 == 0) as u64 * contrast;
                let noise = if flat { 0 } else { rng.next() % 9 };
                img[y * w + x] = (base + noise).saturating_sub(blob).min(255) as u8;
            }
        }
        img
    }

    #[test]
    fn matches_zxing_cpp_bit_for_bit() {
        let sizes = [
            (40, 40),
            (41, 47),
            (64, 40),
            (97, 203),
            (256, 130),
            (321, 77),
            (640, 360),
        ];
        for (i, &(w, h)) in sizes.iter().enumerate() {
            for contrast in [0, 10, 30, 120] {
                let data = image(w, h, 7 + i as u64 * 31 + contrast, contrast);
                let view = LumaView::new(&data, w, h, w).unwrap();
                // A used buffer, longer than the image: fully overwritten.
                let mut out = vec![1u8; w * h + 100];
                let done = local_average(view, &mut out);
                assert_eq!(
                    done.then_some(out),
                    reference(view),
                    "{w}x{h}, contrast {contrast}"
                );
            }
        }
    }

    #[test]
    fn padded_rows_are_read_as_their_pixels() {
        let (w, h, stride) = (100, 60, 128);
        let packed = image(w, h, 99, 80);
        let mut padded = vec![7u8; stride * h];
        for y in 0..h {
            padded[y * stride..y * stride + w].copy_from_slice(&packed[y * w..(y + 1) * w]);
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        assert!(local_average(
            LumaView::new(&packed, w, h, w).unwrap(),
            &mut a
        ));
        assert!(local_average(
            LumaView::new(&padded, w, h, stride).unwrap(),
            &mut b
        ));
        assert_eq!(a, b);
    }

    #[test]
    fn small_or_flat_images_fall_back_to_a_global_threshold() {
        let mut out = Vec::new();
        let small = vec![0u8; 39 * 100];
        assert!(!local_average(
            LumaView::new(&small, 39, 100, 39).unwrap(),
            &mut out
        ));
        let flat = vec![200u8; 100 * 100];
        assert!(!local_average(
            LumaView::new(&flat, 100, 100, 100).unwrap(),
            &mut out
        ));
        assert!(out.is_empty());
    }
}

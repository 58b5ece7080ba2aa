//! The spending chart: monthly bars stacked by top-level category, rendered
//! to SVG or PNG for the CLI and the demo (the apps draw natively from the
//! same `Insights`).
//!
//! The layout is computed in integer pixels from integer minor units: no
//! float touches an amount. SVG is written directly; PNG is drawn with the
//! `image` crate and labelled with an 8x8 bitmap font, so rendering needs no
//! system fonts.

use std::collections::HashMap;

use image::{ImageFormat, Rgb, RgbImage};

use crate::error::{Error, Result};
use crate::insights::Insights;
use crate::money::Money;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartFormat {
    Svg,
    Png,
}

impl ChartFormat {
    /// From a file name's extension.
    pub fn from_path(path: &str) -> Result<Self> {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".svg") {
            Ok(ChartFormat::Svg)
        } else if lower.ends_with(".png") {
            Ok(ChartFormat::Png)
        } else {
            Err(Error::InvalidText {
                field: "chart file",
                reason: "name it .png or .svg",
            })
        }
    }
}

const PALETTE: [[u8; 3]; 7] = [
    [0x4e, 0x79, 0xa7],
    [0xf2, 0x8e, 0x2b],
    [0xe1, 0x57, 0x59],
    [0x76, 0xb7, 0xb2],
    [0x59, 0xa1, 0x4f],
    [0xed, 0xc9, 0x48],
    [0xba, 0xb0, 0xac],
];
const MAX_SERIES: usize = 6;

const W: i64 = 880;
const H: i64 = 420;
const LEFT: i64 = 80;
const RIGHT: i64 = 20;
const TOP: i64 = 50;
const PLOT_H: i64 = 280;
const BASE: i64 = TOP + PLOT_H;

struct Rect {
    x: i64,
    y: i64,
    w: i64,
    h: i64,
    color: [u8; 3],
}

struct Label {
    x: i64,
    y: i64,
    text: String,
    /// Right-aligned at `x` instead of starting there.
    right: bool,
}

struct Layout {
    rects: Vec<Rect>,
    labels: Vec<Label>,
}

fn minor(m: &Money) -> i64 {
    m.to_minor().unwrap_or(0).max(0)
}

/// Whole currency units, for axis labels.
fn whole(minor_units: i64, exponent: u32) -> String {
    (minor_units / 10i64.pow(exponent)).to_string()
}

fn layout(ins: &Insights) -> Layout {
    let exp = ins.currency.exponent();
    // The series: the largest top-level categories, the rest as "Other".
    let series: Vec<(String, String)> = ins
        .by_top_category
        .iter()
        .take(MAX_SERIES)
        .map(|c| (c.category.clone(), c.name.clone()))
        .collect();
    let index: HashMap<&str, usize> = series
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (id.as_str(), i))
        .collect();
    let max = ins
        .months
        .iter()
        .map(|m| minor(&m.spent))
        .max()
        .unwrap_or(0)
        .max(1);
    let n = ins.months.len().max(1) as i64;
    let slot = (W - LEFT - RIGHT) / n;
    let bar = (slot * 3 / 4).max(2);
    let mut rects = Vec::new();
    let mut labels = vec![Label {
        x: LEFT,
        y: 20,
        text: format!(
            "Spending by month, {} ({} to {})",
            ins.currency, ins.from, ins.to
        ),
        right: false,
    }];
    // Axis and grid: quarters of the largest month.
    for q in 0..=4 {
        let y = BASE - PLOT_H * q / 4;
        rects.push(Rect {
            x: LEFT,
            y,
            w: W - LEFT - RIGHT,
            h: 1,
            color: [0xdd, 0xdd, 0xdd],
        });
        labels.push(Label {
            x: LEFT - 6,
            y: y - 4,
            text: whole(max * q / 4, exp),
            right: true,
        });
    }
    // Label every month when they fit (8 px per character), else fewer.
    let label_every = ((7 * 8 + 4) / slot.max(1) + 1).max(1) as usize;
    for (i, m) in ins.months.iter().enumerate() {
        let x = LEFT + slot * i as i64 + (slot - bar) / 2;
        let mut y = BASE;
        let mut drawn = 0i64;
        let total = minor(&m.spent);
        let mut other = total;
        let mut stack: Vec<(usize, i64)> = Vec::new();
        for c in &m.categories {
            if let Some(&s) = index.get(c.category.as_str()) {
                let v = minor(&c.spent);
                other -= v;
                stack.push((s, v));
            }
        }
        stack.sort_by_key(|(s, _)| *s);
        if other > 0 {
            stack.push((MAX_SERIES, other));
        }
        // Pixel heights by integer arithmetic (i128: no overflow).
        let mut cumulative = 0i64;
        for (s, v) in stack {
            cumulative += v;
            let top = (cumulative as i128 * PLOT_H as i128 / max as i128) as i64;
            let h = top - drawn;
            if h > 0 {
                rects.push(Rect {
                    x,
                    y: y - h,
                    w: bar,
                    h,
                    color: PALETTE[s.min(PALETTE.len() - 1)],
                });
                y -= h;
                drawn = top;
            }
        }
        if total > 0 && slot >= 48 {
            labels.push(Label {
                x: x + bar / 2 - (whole(total, exp).len() as i64 * 4),
                y: y - 12,
                text: whole(total, exp),
                right: false,
            });
        }
        if i % label_every == 0 {
            labels.push(Label {
                x: x + bar / 2 - 28,
                y: BASE + 8,
                text: m.month.clone(),
                right: false,
            });
        }
    }
    // Legend.
    let mut lx = LEFT;
    let mut ly = BASE + 36;
    let mut entries: Vec<(String, [u8; 3])> = series
        .iter()
        .enumerate()
        .map(|(i, (_, name))| (name.clone(), PALETTE[i]))
        .collect();
    if ins.by_top_category.len() > MAX_SERIES {
        entries.push(("Other".into(), PALETTE[MAX_SERIES]));
    }
    for (name, color) in entries {
        let width = 16 + 8 * name.chars().count() as i64 + 24;
        if lx + width > W - RIGHT {
            lx = LEFT;
            ly += 20;
        }
        rects.push(Rect {
            x: lx,
            y: ly,
            w: 10,
            h: 10,
            color,
        });
        labels.push(Label {
            x: lx + 16,
            y: ly + 1,
            text: name,
            right: false,
        });
        lx += width;
    }
    Layout { rects, labels }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn svg(l: &Layout) -> Vec<u8> {
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"{W}\" height=\"{H}\" fill=\"#ffffff\"/>\n"
    );
    for r in &l.rects {
        out.push_str(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#{:02x}{:02x}{:02x}\"/>\n",
            r.x, r.y, r.w, r.h, r.color[0], r.color[1], r.color[2]
        ));
    }
    for t in &l.labels {
        out.push_str(&format!(
            "<text x=\"{}\" y=\"{}\"{} fill=\"#333333\">{}</text>\n",
            t.x,
            t.y + 9,
            if t.right { " text-anchor=\"end\"" } else { "" },
            xml_escape(&t.text)
        ));
    }
    out.push_str("</svg>\n");
    out.into_bytes()
}

fn png(l: &Layout) -> Result<Vec<u8>> {
    let mut img = RgbImage::from_pixel(W as u32, H as u32, Rgb([255, 255, 255]));
    let put = |img: &mut RgbImage, x: i64, y: i64, c: [u8; 3]| {
        if (0..W).contains(&x) && (0..H).contains(&y) {
            img.put_pixel(x as u32, y as u32, Rgb(c));
        }
    };
    for r in &l.rects {
        for y in r.y..r.y + r.h {
            for x in r.x..r.x + r.w {
                put(&mut img, x, y, r.color);
            }
        }
    }
    for t in &l.labels {
        let len = t.text.chars().count() as i64;
        let x0 = if t.right { t.x - 8 * len } else { t.x };
        for (i, ch) in t.text.chars().enumerate() {
            // The bitmap font covers ASCII; anything else draws as '?'.
            let glyph = font8x8::legacy::BASIC_LEGACY
                .get(ch as usize)
                .copied()
                .unwrap_or(font8x8::legacy::BASIC_LEGACY[b'?' as usize]);
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..8 {
                    if bits & (1 << col) != 0 {
                        put(
                            &mut img,
                            x0 + 8 * i as i64 + col,
                            t.y + row as i64,
                            [0x33, 0x33, 0x33],
                        );
                    }
                }
            }
        }
    }
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png)
        .map_err(|_| Error::Io("the chart could not be encoded".into()))?;
    Ok(out.into_inner())
}

/// Renders the chart of `insights` as SVG or PNG bytes.
pub fn render_chart(insights: &Insights, format: ChartFormat) -> Result<Vec<u8>> {
    let l = layout(insights);
    match format {
        ChartFormat::Svg => Ok(svg(&l)),
        ChartFormat::Png => png(&l),
    }
}

//! Decode-rate evaluation of scan strategies on generated camera frames.
//!
//! Not part of the ordinary test run: scripts/qr-eval/run.sh generates the
//! frames and runs this in release mode, then compares with zxing-cpp's
//! own single pass. By hand:
//!
//!   QR_EVAL_DIR=/tmp/frames QR_EVAL_OUT=/tmp/rust.json \
//!   QR_EVAL_STRATEGIES='tuned,single' \
//!   cargo test --release -p wallet-core --test qr_eval -- --ignored --nocapture
//!
//! A strategy is `tuned`, `single`, or passes joined by `+`, each
//! `[?]VIEW[:FLAGS]`: `?` runs the pass only if nothing was found yet;
//! VIEW is `f` (frame), `dN` (shrunk N times), `sNtT` (shrunk N, contrast
//! stretched over T-pixel tiles) or `cPxF` (centre P%, enlarged F times);
//! FLAGS pick `h` try-harder, `i` invert, `z` the decoder's own
//! downscaling, `g` the global-histogram binarizer (default `hiz`).

use std::time::Instant;

use serde_json::{json, Value};
use wallet_core::qr::{
    Binarizer, DecodeHints, LumaView, Pass, Rotation, ScanStrategy, Scanner, View,
};

fn parse_strategy(s: &str) -> ScanStrategy {
    match s {
        "tuned" => return ScanStrategy::tuned(),
        "single" => return ScanStrategy::single_pass(),
        _ => {}
    }
    let passes = s
        .split('+')
        .map(|p| {
            let (only, p) = match p.strip_prefix('?') {
                Some(rest) => (true, rest),
                None => (false, p),
            };
            let (view, flags) = p.split_once(':').unwrap_or((p, "hiz"));
            let num = |t: &str| t.parse::<u8>().expect("a number");
            let view = match view.as_bytes()[0] {
                b'f' => View::Frame,
                b'd' => View::Downscaled(num(&view[1..])),
                b's' => {
                    let (n, t) = view[1..].split_once('t').expect("sNtT");
                    View::Stretched {
                        downscale: num(n),
                        tile: num(t),
                    }
                }
                b'c' => {
                    let (pc, f) = view[1..].split_once('x').expect("cPxF");
                    View::CentreEnlarged {
                        percent: num(pc),
                        factor: num(f),
                    }
                }
                other => panic!("unknown view {}", other as char),
            };
            Pass {
                view,
                hints: DecodeHints {
                    try_harder: flags.contains('h'),
                    try_invert: flags.contains('i'),
                    try_downscale: flags.contains('z'),
                    binarizer: if flags.contains('g') {
                        Binarizer::GlobalHistogram
                    } else {
                        Binarizer::LocalAverage
                    },
                },
                only_if_nothing_found: only,
            }
        })
        .collect();
    ScanStrategy { passes }
}

/// CPU time this thread has run, in ns: unlike wall time, not inflated
/// while other work on a shared machine holds the core.
fn thread_cpu_ns() -> Option<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

#[test]
#[ignore = "needs frames from scripts/qr-eval; run by scripts/qr-eval/run.sh"]
fn evaluate_strategies() {
    let dir = std::path::PathBuf::from(std::env::var("QR_EVAL_DIR").expect("QR_EVAL_DIR"));
    let out = std::env::var("QR_EVAL_OUT").expect("QR_EVAL_OUT");
    let names = std::env::var("QR_EVAL_STRATEGIES").unwrap_or_else(|_| "tuned,single".into());
    let repeat: usize = std::env::var("QR_EVAL_REPEAT")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let frames: Vec<(String, image::GrayImage)> = manifest["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let file = f["file"].as_str().unwrap().to_string();
            let img = image::open(dir.join(&file)).unwrap().into_luma8();
            (file, img)
        })
        .collect();
    // Strategies take turns on each frame, so that load from other work on
    // the machine falls on all of them alike; each time is the scanning
    // thread's CPU time, the best of `repeat` runs.
    let names: Vec<&str> = names.split(',').collect();
    let scanners: Vec<Scanner> = names
        .iter()
        .map(|n| Scanner::with(Box::new(wallet_core::qr::ZxingDecoder), parse_strategy(n)))
        .collect();
    let mut rows: Vec<Vec<Value>> = vec![Vec::new(); names.len()];
    for (file, img) in &frames {
        let (w, h) = img.dimensions();
        let view = LumaView::new(img.as_raw(), w as usize, h as usize, w as usize).unwrap();
        let mut best = vec![f64::MAX; names.len()];
        let mut found = vec![Vec::new(); names.len()];
        for _ in 0..repeat.max(1) {
            for (i, scanner) in scanners.iter().enumerate() {
                let (t, cpu) = (Instant::now(), thread_cpu_ns());
                found[i] = scanner.scan_view(view, Rotation::R0).unwrap();
                let ms = match (cpu, thread_cpu_ns()) {
                    (Some(a), Some(b)) => (b - a) as f64 / 1e6,
                    _ => t.elapsed().as_secs_f64() * 1000.0,
                };
                best[i] = best[i].min(ms);
            }
        }
        for i in 0..names.len() {
            rows[i].push(json!({
                "file": file,
                "found": found[i].iter().map(|c| c.text.clone()).collect::<Vec<_>>(),
                "corners": found[i].iter().map(|c| c.corners.iter().map(|p| [p.x, p.y]).collect::<Vec<_>>()).collect::<Vec<_>>(),
                "ms": best[i],
            }));
        }
    }
    let mut results = serde_json::Map::new();
    for (name, rows) in names.iter().zip(rows) {
        results.insert(
            name.to_string(),
            json!({ "decoder": format!("wallet-core {name}"), "frames": rows }),
        );
    }
    std::fs::write(&out, serde_json::to_vec(&Value::Object(results)).unwrap()).unwrap();
}

#!/usr/bin/env bash
# Decode-rate evaluation: generate camera-like frames from a seed, read them
# with zxing-cpp's own single default pass (its PyPI package) and with the
# wallet's scanner, and print rate and time per distortion class.
#
#   scripts/qr-eval/run.sh [PER_CLASS] [SEED]
#
# Environment: QR_EVAL_STRATEGIES (default "tuned,single"; see
# wallet-core/tests/qr_eval.rs), QR_EVAL_WORK (default target/qr-eval).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
per_class="${1:-40}"
seed="${2:-20240604}"
work="${QR_EVAL_WORK:-$root/target/qr-eval}"
frames="$work/frames-$seed-$per_class"
venv="$work/venv"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet -r "$here/requirements.txt"
fi
py="$venv/bin/python"

if [ ! -f "$frames/manifest.json" ]; then
    "$py" "$here/gen_frames.py" --out "$frames" --seed "$seed" --per-class "$per_class"
fi

# One core, as DESIGN's budget says: pin both decoders to the same CPU.
pin=""
command -v taskset >/dev/null && pin="taskset -c 0"

$pin "$py" "$here/baseline.py" --frames "$frames" --out "$work/zxing-python-default.json"
$pin "$py" "$here/baseline.py" --frames "$frames" --out "$work/zxing-python-qr-only.json" --variant qr-only

(cd "$root" && cargo test --release -p wallet-core --test qr_eval --no-run)
QR_EVAL_DIR="$frames" QR_EVAL_OUT="$work/rust.json" \
QR_EVAL_STRATEGIES="${QR_EVAL_STRATEGIES:-tuned,single}" \
    $pin cargo test --manifest-path "$root/Cargo.toml" --release -p wallet-core --test qr_eval -- --ignored --nocapture

"$py" "$here/report.py" --frames "$frames" \
    "$work/zxing-python-default.json" "$work/zxing-python-qr-only.json" "$work/rust.json"

"""The reference: one default pass of zxing-cpp (its PyPI package) per frame.

`zxingcpp.read_barcodes(frame)` with every option left at its default
(all formats, try_harder, try_rotate, try_invert, try_downscale, the
LocalAverage binarizer). Writes, per frame, the payloads found and the
CPU time of that one call (best of --repeat), as JSON lines the report reads.

  baseline.py --frames DIR --out results-zxing-python.json [--variant default|qr-only]
"""

import argparse
import json
import os
import time

import cv2
import zxingcpp
from importlib.metadata import version


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--variant", default="default", choices=["default", "qr-only"])
    ap.add_argument("--repeat", type=int, default=3, help="time each frame this many times, keep the fastest")
    args = ap.parse_args()
    manifest = json.load(open(os.path.join(args.frames, "manifest.json")))
    kwargs = {} if args.variant == "default" else {"formats": zxingcpp.BarcodeFormat.QRCode}
    rows = []
    for f in manifest["frames"]:
        frame = cv2.imread(os.path.join(args.frames, f["file"]), cv2.IMREAD_GRAYSCALE)
        times = []
        for _ in range(args.repeat):
            # CPU time of this thread: the decoder's own cost on one core,
            # not inflated by other work on a shared machine.
            t0 = time.thread_time()
            found = zxingcpp.read_barcodes(frame, **kwargs)
            times.append(time.thread_time() - t0)
        times.sort()
        rows.append({
            "file": f["file"],
            "found": [b.text for b in found if b.format == zxingcpp.BarcodeFormat.QRCode],
            "ms": times[0] * 1000,
        })
    with open(args.out, "w") as out:
        json.dump({"decoder": f"zxing-cpp {version('zxing-cpp')} (PyPI), {args.variant} single pass", "frames": rows}, out)


if __name__ == "__main__":
    main()

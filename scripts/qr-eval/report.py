"""Decode rate and time per distortion class, one column per decoder or strategy.

  report.py --frames DIR results-a.json [results-b.json ...] [--markdown]

A code counts as read when its exact payload was returned for its frame.
For results that carry corners (the Rust scanner), the report also checks
them against the generated ground truth: the median distance in pixels
between each returned corner and the nearest true corner.
"""

import argparse
import json
import math
import os
import statistics


def load(path):
    d = json.load(open(path))
    if "frames" in d:
        return {d.get("decoder", path): d}
    return {v.get("decoder", k): v for k, v in d.items()}


def corner_error(truth, got):
    errs = []
    for p in got:
        errs.append(min(math.dist(p, q) for q in truth))
    return errs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", required=True)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("results", nargs="+")
    args = ap.parse_args()
    manifest = json.load(open(os.path.join(args.frames, "manifest.json")))
    frames = {f["file"]: f for f in manifest["frames"]}
    classes = []
    for f in manifest["frames"]:
        if f["class"] not in classes:
            classes.append(f["class"])
    runs = {}
    for path in args.results:
        runs.update(load(path))

    table = {}
    for name, run in runs.items():
        per = {c: {"codes": 0, "read": 0, "ms": [], "false": 0, "cerr": []} for c in classes + ["all"]}
        for row in run["frames"]:
            f = frames[row["file"]]
            for bucket in (f["class"], "all"):
                b = per[bucket]
                expected = [c["text"] for c in f["codes"]]
                b["codes"] += len(expected)
                b["read"] += sum(1 for t in set(expected) if t in row["found"]) + \
                    sum(expected.count(t) - 1 for t in set(expected) if t in row["found"] and row["found"].count(t) >= expected.count(t))
                b["false"] += sum(1 for t in row["found"] if t not in expected)
                b["ms"].append(row["ms"])
                if bucket == "all" and "corners" in row:
                    for text, corners in zip(row["found"], row["corners"]):
                        truth = [c["corners"] for c in f["codes"] if c["text"] == text]
                        if truth:
                            b["cerr"].extend(corner_error(truth[0], corners))
        table[name] = per

    names = list(runs)
    if args.markdown:
        print("| class | " + " | ".join(names) + " |")
        print("|---|" + "---|" * len(names))
    for c in classes + ["all"]:
        cells = []
        for n in names:
            b = table[n][c]
            rate = 100.0 * b["read"] / max(b["codes"], 1)
            cells.append(f"{b['read']}/{b['codes']} {rate:5.1f}%  med {statistics.median(b['ms']):6.1f} ms  mean {statistics.mean(b['ms']):6.1f} ms"
                         + (f"  false {b['false']}" if b["false"] else ""))
        if args.markdown:
            print(f"| {c} | " + " | ".join(cells) + " |")
        else:
            print(f"{c:13s} " + " || ".join(cells))
    if not args.markdown:
        print("columns: " + " || ".join(names))
    for n in names:
        e = table[n]["all"]["cerr"]
        if e:
            print(f"corner error of {n}: median {statistics.median(e):.1f} px, 95th pct {sorted(e)[int(len(e) * 0.95)]:.1f} px")


if __name__ == "__main__":
    main()

"""Where a second set of weights for crushed JPEGs would beat the shipped one, per dataset, size and JPEG quality.

A photo sent through a messaging app arrives shrunk and saved at a low JPEG quality; a JPEG's quantization table
says how low, so a runtime could route such photos to weights trained for them (tried in round 10,
docs/ship_rules/jpeg-route-2026-12-07.md: no quality where such weights won everywhere). This benchmark renders every val photo of every dataset at
each scale x quality of a grid (resized with INTER_AREA, then JPEG-encoded, as `answer_eval.small_jpeg`), runs
both models on the same bytes, and prints raw top-1 per dataset and cell, the difference in photos, and the
route limit Q the ship rule asks for (docs/ship_rules/jpeg-route-2026-12-07.md): the largest quality q such that
at every grid quality <= q, on every dataset and scale, the low-quality weights are no more than `--slack`
photos below the shipped ones. Each photo is decoded once; ~12 min for the full grid on 2 cores.

    python benchmarks/jpeg_route.py model/leafscout.onnx runs/j1/leafscout.onnx
    python benchmarks/jpeg_route.py A.onnx B.onnx --datasets plantvillage --qualities 25 --scales 0.5 --limit 5
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.answer_eval import small_jpeg  # noqa: E402
from leafscout.model.labels import load_label_map  # noqa: E402
from leafscout.model.runtime import Predictor  # noqa: E402
from leafscout.training.data import discover, read_rgb  # noqa: E402


def route_limit(table: dict, qualities: list[int], slack: int) -> int | None:
    """`table[(q, s, ds)] = (n, right_a, right_b)` -> the largest q whose every cell at or below it holds
    right_b >= right_a - slack, or None when the lowest quality already fails."""
    best = None
    for q in sorted(qualities):
        cells = [v for (cq, _, _), v in table.items() if cq == q]
        if not cells or any(b < a - slack for _, a, b in cells):
            break
        best = q
    return best


def run(model_a: str, model_b: str, samples, labels: list[str], qualities, scales, threads: int, chunk: int = 32):
    a, b = (Predictor(m, threads=threads) for m in (model_a, model_b))
    if a.labels != b.labels or a.labels != labels:
        raise SystemExit("the two models and datasets/labels.yaml must share one label list")
    table: dict = {}
    grid = [(q, s) for q in qualities for s in scales]
    for i in range(0, len(samples), chunk):
        part = [(s, read_rgb(s.path)) for s in samples[i:i + chunk]]
        part = [(s, rgb) for s, rgb in part if rgb is not None]
        blobs, keys = [], []
        for s, rgb in part:
            for q, sc in grid:
                blobs.append(small_jpeg(rgb, quality=q, scale=sc))
                keys.append((q, sc, s.dataset, s.label))
        ra = a.predict_many(blobs, top_k=1)
        rb = b.predict_many(blobs, top_k=1)
        for (q, sc, ds, truth), x, y in zip(keys, ra, rb):
            n, ca, cb = table.get((q, sc, ds), (0, 0, 0))
            right = lambda r: r.status != "error" and int(np.argmax(r.logits)) == truth  # noqa: E731
            table[(q, sc, ds)] = (n + 1, ca + right(x), cb + right(y))
        print(f"  {min(i + chunk, len(samples))}/{len(samples)} photos", file=sys.stderr, flush=True)
    return table


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("shipped", help="the weights every other photo goes to (model/leafscout.onnx)")
    ap.add_argument("lowq", help="the candidate weights for low-quality JPEGs")
    ap.add_argument("--data-root", default=str(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--datasets", nargs="*", default=None)
    ap.add_argument("--split", default="val")
    ap.add_argument("--qualities", type=int, nargs="+", default=[25, 35, 50, 60, 75])
    ap.add_argument("--scales", type=float, nargs="+", default=[1.0, 0.5, 0.35])
    ap.add_argument("--slack", type=int, default=1, help="photos the candidate may lose in one cell (rule: 1)")
    ap.add_argument("--limit", type=int, default=None, help="at most N photos per class (a quick look)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    lm = load_label_map()
    samples = discover(args.data_root, args.datasets, args.split, lm, lm.labels, args.limit)
    print(f"{len(samples)} {args.split} photos, grid {args.qualities} x {args.scales}", flush=True)
    table = run(args.shipped, args.lowq, samples, lm.labels, args.qualities, args.scales, args.threads)
    print(f"\n{'quality':>7s} {'scale':>5s} {'dataset':20s} {'n':>5s} {'shipped':>8s} {'lowq':>8s} {'photos':>7s}")
    for (q, sc, ds), (n, ca, cb) in sorted(table.items()):
        print(f"{q:7d} {sc:5.2f} {ds:20s} {n:5d} {100 * ca / n:7.1f}% {100 * cb / n:7.1f}% {cb - ca:+7d}")
    tot = Counter()
    for (q, sc, _), (n, ca, cb) in table.items():
        tot[(q, sc, "n")] += n
        tot[(q, sc, "a")] += ca
        tot[(q, sc, "b")] += cb
    print(f"\n{'quality':>7s} {'scale':>5s} {'all datasets':>20s}")
    for q in args.qualities:
        for sc in args.scales:
            n = tot[(q, sc, "n")]
            if n:
                print(f"{q:7d} {sc:5.2f} {'':20s} {n:5d} {100 * tot[(q, sc, 'a')] / n:7.1f}% "
                      f"{100 * tot[(q, sc, 'b')] / n:7.1f}% {tot[(q, sc, 'b')] - tot[(q, sc, 'a')]:+7d}")
    q = route_limit(table, args.qualities, args.slack)
    print(f"\nroute limit Q = {q if q is not None else 'none'} (largest quality at and below which the low-quality "
          f"weights lose no more than {args.slack} photo(s) in any dataset x scale cell)")
    if args.json:
        Path(args.json).write_text(json.dumps({"route_limit": q, "cells": [
            {"quality": q_, "scale": s_, "dataset": d_, "n": n, "shipped_right": ca, "lowq_right": cb}
            for (q_, s_, d_), (n, ca, cb) in sorted(table.items())]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Does a candidate scene detector keep the shipped detector's insects exactly?

A leaf branch (`detect_train --leaf-branch-levels`) promises the insect scores and boxes of the file it started
from, bit for bit. This runs both files on real val photos, each preprocessed by the runtime (`Detector.prepare`),
and prints the largest difference at the insect locations, both insect thresholds and the leaf score there.

    python benchmarks/insects_unchanged.py runs/leafbranch2/pests.onnx [--shipped model/pests.onnx]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from leafscout.model.detect import Detector  # noqa: E402
from leafscout.model.imageio import IMAGE_SUFFIXES, read_image  # noqa: E402

SOURCES = (("rice_pest/val/images", 12), ("rice_leaf_ph/val", 6), ("chilli_leaf/val", 6))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("candidate")
    ap.add_argument("--shipped", default=str(REPO / "model" / "pests.onnx"))
    ap.add_argument("--data-root", default=str(REPO.parent / "shared" / "datasets"))
    args = ap.parse_args()
    photos = [p for sub, n in SOURCES
              for p in sorted(q for q in (Path(args.data_root) / sub).rglob("*") if q.suffix.lower() in IMAGE_SUFFIXES)[:n]]
    if not photos:
        raise SystemExit(f"no val photos under {args.data_root}: pass --data-root ../shared/datasets")
    shipped, cand = Detector(args.shipped, labeler=False), Detector(args.candidate, labeler=False)
    rgbs = [read_image(p) for p in photos]
    s0, b0 = shipped.infer(np.stack([shipped.prepare(rgb)[0] for rgb in rgbs]))
    s1, b1 = cand.infer(np.stack([cand.prepare(rgb)[0] for rgb in rgbs]))
    a, c = s0.shape[1:]
    print(f"{len(photos)} photos; max |score diff| {float(np.abs(s1[:, :a, :c] - s0).max())}, max |box diff| "
          f"{float(np.abs(b1[:, :a] - b0).max())} px; insect threshold {shipped.score_threshold} -> "
          f"{cand.score_threshold}; leaf score at insect locations max "
          f"{float(s1[:, :a, c:].max()) if s1.shape[2] > c else 'no leaf class'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

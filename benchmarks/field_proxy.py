"""Field-photo proxy: val leaves the model never trained on, photographed as a farmer would, scored through
the runtime exactly as `leafscout diagnose` does (no crop given).

For each lab dataset's val photos the leaf is cut out and laid on a new backdrop, turned upright in a
portrait frame like a phone photo: white paper, squared paper, soil, foliage (crops of the field sets'
val photos). Prints per dataset and backdrop: top-1, answered with a label of the right crop (ok or
uncertain), and called not_a_leaf. Also the field sets' own val photos as they are, and non-leaf photos
(tests/fixtures/ood, scikit-image samples never used in training) with white and noise frames.

Caveat: the backdrops come from the same generator that training uses for augmentation
(training/backgrounds.py), so this is optimistic for those backdrops; the held-out sets scored by the
project are the independent check.

    python benchmarks/field_proxy.py --model model/leafscout.onnx --limit 60
"""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from leafscout.model.imageio import read_image  # noqa: E402
from leafscout.model.labels import load_label_map  # noqa: E402
from leafscout.model.runtime import Predictor  # noqa: E402
from leafscout.training.backgrounds import FOLIAGE, PAPER, SOIL, SQUARED, leaf_alpha, replace_background  # noqa: E402
from leafscout.training.data import discover  # noqa: E402
from leafscout.training.presets import FIELD_DATASETS, LAB_DATASETS  # noqa: E402

BACKDROPS = (PAPER, SQUARED, SOIL, FOLIAGE)


def upright(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    return np.ascontiguousarray(np.rot90(rgb)) if w > h else rgb


def main(argv=None) -> int:
    first = " ".join(__doc__.split("\n\n")[0].split()).split(". ")[0].rstrip(".") + "."  # a whole sentence
    ap = argparse.ArgumentParser(description=first)
    ap.add_argument("--model", default=None)
    ap.add_argument("--data-root", default=str(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--limit", type=int, default=60, help="val photos per dataset")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    root = Path(args.data_root)
    if not root.is_dir():
        print(f"error: no datasets at {root} (see datasets/README.md)", file=sys.stderr)
        return 2
    pred = Predictor(args.model, threads=2)
    lm = load_label_map()
    labels = lm.labels
    rng = np.random.default_rng(args.seed)
    val = [s for s in discover(root, None, "val", lm, labels) if labels[s.label] != lm.background_label]
    by_ds = defaultdict(list)
    for s in val:
        by_ds[s.dataset].append(s)
    foliage = [read_image(s.path) for ds in FIELD_DATASETS for s in by_ds.get(ds, [])[:40]]
    print(f"model {pred.path.name} {pred.version}; {args.limit} val photos per dataset; no crop given")
    print(f"{'dataset':22} {'backdrop':9} {'n':>4} {'top-1':>7} {'right crop':>11} {'not_a_leaf':>11} {'cropped to leaf':>16}")
    totals = defaultdict(lambda: np.zeros(4))
    for ds in sorted(by_ds):
        items = [by_ds[ds][i] for i in rng.permutation(len(by_ds[ds]))[: args.limit]]
        kinds = BACKDROPS if ds in LAB_DATASETS else ("as taken",)
        for kind in kinds:
            n = top1 = crop_ok = nal = located = 0
            for s in items:
                rgb = read_image(s.path)
                truth = labels[s.label]
                if kind != "as taken":
                    alpha = leaf_alpha(rgb)
                    if alpha is None:
                        continue
                    rgb = upright(replace_background(rgb, alpha, rng, foliage, kind=kind))
                r = pred.predict(rgb)
                n += 1
                top1 += r.label == truth
                crop_ok += r.status in ("ok", "uncertain") and r.label.split(".")[0] == truth.split(".")[0]
                nal += r.status == "not_a_leaf"
                located += r.framing == "leaf"
            if n:
                print(f"{ds:22} {kind:9} {n:4d} {top1 / n:7.1%} {crop_ok / n:11.1%} {nal / n:11.1%} {located / n:16.1%}")
                totals[kind] += (n, top1, crop_ok, nal)
    for kind, (n, t, c, a) in totals.items():
        print(f"{'ALL':22} {kind:9} {int(n):4d} {t / n:7.1%} {c / n:11.1%} {a / n:11.1%}")
    ood = sorted((REPO / "tests" / "fixtures" / "ood").glob("*.jpg"))
    frames = [("white", np.full((480, 640, 3), 250, np.uint8)),
              ("noise", np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)),
              ("grey", np.full((480, 640, 3), 128, np.uint8))]
    flagged = []
    for p in ood:
        r = pred.predict(p)
        flagged.append(r.status == "not_a_leaf")
        if r.status != "not_a_leaf":
            print(f"  missed non-leaf: {p.name}: {r.status} {r.label}")
    for name, img in frames:
        r = pred.predict(img)
        flagged.append(r.status == "not_a_leaf")
        if r.status != "not_a_leaf":
            print(f"  missed non-leaf: {name}: {r.status} {r.label}")
    print(f"non-leaf photos flagged not_a_leaf: {sum(flagged)}/{len(flagged)} = {np.mean(flagged):.0%} "
          f"({len(ood)} scikit-image photos + white, noise, grey frames)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

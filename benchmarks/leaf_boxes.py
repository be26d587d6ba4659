"""Leaf boxes of a scene detector, measured on real photos: are leaves found, and does naming them help?

For each val photo of the given datasets (none of them used to train the detector's leaf class, which learned
from lab TRAIN leaves pasted on synthetic scenes), through the runtime (`Detector.scene`, `Predictor.predict`):
- found: share of photos with at least one leaf box (a field photo always shows leaves; a lab photo one);
- the classifier's answer (no crop given) four ways, top-1 against the photo's label:
  whole   the whole photo, as `leafscout diagnose` does today;
  mean    the mean of the logits of the whole photo and the up to `--max-leaves` best leaf crops
          (`Predictor.combine`, the rule for several photos of one plant);
  leaf    the best-scored leaf crop alone (the whole photo when no leaf is found);
  severe  the most severe confident leaf: of the leaf crops and the whole photo answered `ok`, the most
          confident one that names a problem (not `.healthy`); else the whole photo's answer;
  field   `mean` only where the leaf locator found no plain backdrop (framing `whole`: a field photo), else
          the whole photo's answer (a leaf on paper is already cropped by the locator).
Beside each table row, the field way against the whole photo, paired on the same photos: photos it fixes (+),
photos it breaks (-), and the exact sign test's p (how likely a split this uneven is when neither way is better);
`--changes` lists those photos.
And on photos with no plant (tests/fixtures/ood: scikit-image samples; white, grey and noise frames): share with
a leaf box (should be none).

With `--scenes N`: N cluttered scenes per lab dataset, each 1-5 VAL leaves of one label (several sick leaves
of one plant) cut out and laid, small and overlapping, on blurred foliage from the field sets' VAL photos,
scored the same four ways. The scenes come from the generator the detector's leaf class learned from
(training/scene_synth.py, there with TRAIN leaves and TRAIN foliage), so leaf finding is optimistic here; what
the scenes measure fairly is whether naming the leaves beats naming the whole scene.

    python benchmarks/leaf_boxes.py --pests runs/scene1/pests.onnx --datasets ibean_uganda chilli_leaf \
        apple_orchard_fgvc8 rice_leaf_ph plantvillage --limit 20
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from leafscout.model.detect import Detector  # noqa: E402
from leafscout.model.imageio import read_image  # noqa: E402
from leafscout.model.labels import load_label_map  # noqa: E402
from leafscout.model.runtime import Predictor  # noqa: E402
from leafscout.service import LEAF_MIN_SIDE  # noqa: E402
from leafscout.training.data import discover  # noqa: E402

sys.path.insert(0, str(REPO / "benchmarks"))
from compare_models import sign_test  # noqa: E402

WAYS = ("whole", "mean", "leaf", "severe", "field")


def answers(pred: Predictor, rgb: np.ndarray, scene, max_leaves: int) -> dict[str, str]:
    whole = pred.predict(rgb)
    leaves, crops = scene.leaves_with_crops(max_leaves, LEAF_MIN_SIDE)
    named = [pred.predict(c) for c in crops]
    both = pred.with_leaves(whole, leaves, crops)  # the service's answer, field photo
    out = {"whole": whole.label, "mean": both.label}
    out["leaf"] = named[0].label if named else whole.label
    sick = [r for r in [whole] + named if r.status == "ok" and r.label and not r.label.endswith(".healthy")]
    out["severe"] = max(sick, key=lambda r: r.confidence).label if sick else whole.label
    out["field"] = both.label if whole.framing == "whole" else whole.label
    return out


def timed_answers(det, pred, rgb, max_leaves: int, ms_det: list, ms_cls: list):
    """One photo through the scene pass and the ways of answering; the detector's and the classifier's
    milliseconds appended to `ms_det` and `ms_cls`. -> (answer per way, leaves found)."""
    t0 = time.perf_counter()
    scene = det.scene(rgb)
    t1 = time.perf_counter()
    a = answers(pred, rgb, scene, max_leaves)
    ms_det.append((t1 - t0) * 1e3)
    ms_cls.append((time.perf_counter() - t1) * 1e3)
    return a, len(scene.leaves)


def scene_rows(pred, det, lm, args, ms_det, ms_cls) -> None:
    from leafscout.training.presets import FIELD_DATASETS, LAB_DATASETS
    from leafscout.training.scene_synth import compose_scene, cut_leaf

    rng = np.random.default_rng(args.seed)
    field = discover(args.data_root, [d for d in FIELD_DATASETS if d != "rice_pest"], "val", lm, lm.labels, 20)
    foliage = [read_image(s.path) for s in field]
    print(f"  cluttered scenes: 1-5 val leaves of one label on blurred foliage of {len(foliage)} field val photos")
    for ds in LAB_DATASETS:
        by_label = defaultdict(list)
        for s in discover(args.data_root, [ds], "val", lm, lm.labels):
            if lm.labels[s.label] != lm.background_label:
                by_label[lm.labels[s.label]].append(s.path)
        names = sorted(by_label)
        right = dict.fromkeys(WAYS, 0)
        found = n_leaves = n = 0
        while n < args.scenes:
            label = names[int(rng.integers(len(names)))]
            paths = [by_label[label][int(i)] for i in rng.integers(0, len(by_label[label]), 5)]
            cuts = [c for c in (cut_leaf(read_image(p)) for p in paths) if c is not None]
            if not cuts:
                continue
            rgb, _ = compose_scene(cuts, rng, 448, foliage, max_leaves=5)
            a, k = timed_answers(det, pred, rgb, args.max_leaves, ms_det, ms_cls)
            found += bool(k)
            n_leaves += k
            n += 1
            for w in WAYS:
                right[w] += a[w] == label
        print(f"  {ds + ' scenes':20s} {n:5d} {100 * found / n:5.1f}% {n_leaves / n:6.2f} "
              + " ".join(f"{100 * right[w] / n:6.1f}%" for w in WAYS), flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(REPO / "model" / "leafscout.onnx"))
    ap.add_argument("--pests", required=True, help="a scene detector (trained with --leaves)")
    ap.add_argument("--data-root", default=str(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--datasets", nargs="*", default=["ibean_uganda", "chilli_leaf", "apple_orchard_fgvc8",
                                                      "rice_leaf_ph", "plantvillage", "coffee_bracol"])
    ap.add_argument("--limit", type=int, default=None, help="at most N photos per class")
    ap.add_argument("--max-leaves", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--scenes", type=int, default=0, help="cluttered scenes per lab dataset (see above)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--changes", action="store_true", help="list the photos the field way fixes or breaks")
    args = ap.parse_args(argv)
    pred = Predictor(args.model, threads=args.threads)
    det = Detector(args.pests, threads=args.threads)
    if det.leaf_class is None:
        print(f"{args.pests} finds no leaves (no {det.all_labels[-1]!r} leaf class): train it with --leaves")
        return 2
    lm = load_label_map()
    samples = discover(args.data_root, args.datasets, "val", lm, lm.labels, args.limit)
    by_ds = defaultdict(list)
    for s in samples:
        if lm.labels[s.label] != lm.background_label:
            by_ds[s.dataset].append(s)
    print(f"classifier {pred.version}, scene detector {det.version} (leaf threshold "
          f"{det.thresholds[det.leaf_class]:.2f}); val photos, no crop given")
    print(f"  {'dataset':20s} {'n':>5s} {'found':>6s} {'leaves':>6s} " + " ".join(f"{w:>7s}" for w in WAYS)
          + "   field vs whole: fixed broken p")
    ms_det, ms_cls = [], []
    for ds, ss in sorted(by_ds.items()):
        right = dict.fromkeys(WAYS, 0)
        found = n_leaves = 0
        fixed, broken = [], []
        for s in ss:
            rgb = read_image(s.path)
            a, k = timed_answers(det, pred, rgb, args.max_leaves, ms_det, ms_cls)
            found += bool(k)
            n_leaves += k
            truth = lm.labels[s.label]
            for w in WAYS:
                right[w] += a[w] == truth
            if (a["field"] == truth) != (a["whole"] == truth):
                (fixed if a["field"] == truth else broken).append(f"{Path(s.path).name}: {a['whole']} -> {a['field']}"
                                                                  f" (truth {truth}, {k} leaves)")
        n = len(ss)
        print(f"  {ds:20s} {n:5d} {100 * found / n:5.1f}% {n_leaves / n:6.2f} "
              + " ".join(f"{100 * right[w] / n:6.1f}%" for w in WAYS)
              + f"   +{len(fixed):<3d} -{len(broken):<3d} {sign_test(len(fixed), len(broken)):.2f}", flush=True)
        for sign, lines in (("+", fixed), ("-", broken)) if args.changes else ():
            for line in lines:
                print(f"      {sign} {line}")
    if args.scenes:
        scene_rows(pred, det, lm, args, ms_det, ms_cls)
    ood = sorted((REPO / "tests" / "fixtures" / "ood").glob("*.jpg"))
    frames = [np.full((480, 640, 3), 255, np.uint8), np.full((480, 640, 3), 128, np.uint8),
              np.random.default_rng(0).integers(0, 256, (480, 640, 3)).astype(np.uint8)]
    photos = [read_image(p) for p in ood] + frames
    with_leaf = [name for name, p in zip([p.stem for p in ood] + ["white", "grey", "noise"], photos)
                 if det.scene(p).leaves]
    print(f"  photos with no plant ({len(ood)} scikit-image photos in tests/fixtures/ood, white, grey and noise "
          f"frames): {len(with_leaf)} of {len(photos)} get a leaf box {with_leaf or ''}")
    print(f"  ms a photo: detector {np.mean(ms_det):.1f}, classifier on whole + leaves {np.mean(ms_cls):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

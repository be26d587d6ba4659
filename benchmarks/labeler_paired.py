"""Two pest labelers behind one detector, photo by photo and box by box: what a new labeler fixes and breaks.

The labeler names each box the detector keeps and drops the ones it calls `none.no_insect`. A new labeler can
silence false alarms (rice lesions boxed as planthoppers) and, by the same token, drop real insects. This prints,
on the same VAL photos for both (detector unchanged, each labeler put beside a copy of it):
- rice_pest val: per true insect box, whether a returned box covers it (IoU >= 0.5) with the right label;
  fixed / broken against the first labeler and the exact sign test; and per photo with an insect, whether any
  insect is reported at all (what a grower sees: a box in the wrong place still says "insects here");
- per classifier dataset (leaf photos with no insect): photos that report any insect, and which photos change.

    python benchmarks/labeler_paired.py --pests model/pests.onnx --labelers model/pests_labeler.onnx runs/lab3/pests_labeler.onnx
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from compare_models import sign_test  # noqa: E402
from leafscout.model.detect import Detector, box_iou  # noqa: E402


def detector_with(pests: Path, labeler: Path, into: Path, threads: int) -> Detector:
    """The detector `pests` with `labeler` beside it (copies in `into`: the runtime finds a labeler by its name)."""
    into.mkdir(parents=True, exist_ok=True)
    shutil.copy2(pests, into / "pests.onnx")
    shutil.copy2(labeler, into / "pests_labeler.onnx")
    det = Detector(into / "pests.onnx", threads=threads)
    if det.labeler is None:
        raise SystemExit(f"{labeler}: not loaded as a labeler")
    return det


def named_right(found: list, item, labels: list[str]) -> np.ndarray:
    """Per true box of `item`: one of the returned insects `found` with IoU >= 0.5 and the same label."""
    hit = np.zeros(len(item.boxes), bool)
    if not found or not len(item.boxes):
        return hit
    boxes = np.array([p.box for p in found], np.float64)
    iou = box_iou(np.asarray(item.boxes, np.float64), boxes)
    for g, lab in enumerate(item.labels):
        hit[g] = any(iou[g, j] >= 0.5 and found[j].label == labels[lab] for j in range(len(found)))
    return hit


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pests", default=str(REPO / "model" / "pests.onnx"), help="the detector (its labeler is ignored)")
    ap.add_argument("--labelers", nargs=2, required=True, metavar=("BEFORE", "AFTER"))
    ap.add_argument("--data-root", default=str(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--leaf-limit", type=int, default=0, help="leaf val photos per dataset (0: all)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--changes", action="store_true", help="list the leaf photos whose answer changes")
    args = ap.parse_args(argv)
    from leafscout.training.detect_data import detection_labels, leaf_negatives, rice_pest_items, sample_per_dataset

    missing = [f for f in [args.pests, *args.labelers] if not Path(f).is_file()]
    if missing:
        print(f"not a file: {', '.join(missing)} (the detector and two pest labeler ONNX files)", file=sys.stderr)
        return 2
    root = Path(args.data_root)
    if not (root / "rice_pest" / "val").is_dir():
        print(f"no rice_pest val photos under {root}: nothing to compare", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        dets = [detector_with(Path(args.pests), Path(lab), Path(tmp) / str(i), args.threads)
                for i, lab in enumerate(args.labelers)]
        labels, index = detection_labels()
        items = rice_pest_items(root / "rice_pest", "val", index)
        found = [[d.detect(it.path) for it in items] for d in dets]  # one pass per photo and labeler
        hits = [np.concatenate([named_right(f, it, labels) for f, it in zip(fs, items)]) for fs in found]
        shown = [[it for f, it in zip(fs, items) if len(it.boxes) and f] for fs in found]  # what a grower sees
        fixed, broken = int((~hits[0] & hits[1]).sum()), int((hits[0] & ~hits[1]).sum())
        print(f"rice_pest val, {len(items)} photos, {len(hits[0])} insect boxes found and named right: "
              f"{int(hits[0].sum())} -> {int(hits[1].sum())} (fixed {fixed}, broken {broken}, "
              f"p {sign_test(fixed, broken):.2f})")
        with_insect = sum(1 for it in items if len(it.boxes))
        lost = [it for it in shown[0] if it not in shown[1]]
        print(f"rice_pest val photos with an insect that report any insect: {len(shown[0])} -> {len(shown[1])} of "
              f"{with_insect} (lost {len(lost)}, gained {len([it for it in shown[1] if it not in shown[0]])})")
        if args.changes:
            for it in lost:
                print(f"    lost: {Path(it.path).name}")
        leaves = leaf_negatives(root, "val")
        if args.leaf_limit:
            leaves = sample_per_dataset(leaves, args.leaf_limit * len({i.source for i in leaves}), 0)
        by = defaultdict(lambda: [[], []])
        for it in leaves:
            for k, d in enumerate(dets):
                try:
                    by[it.source][k].append(len(d.detect(it.path)) > 0)
                except Exception:
                    by[it.source][k].append(False)
        print(f"{'dataset':22s} {'photos':>6s} {'with insects: before':>21s} {'after':>6s}  silenced  new")
        tot = np.zeros(4, int)
        for ds in sorted(by):
            a, b = np.array(by[ds][0]), np.array(by[ds][1])
            row = np.array([len(a), a.sum(), b.sum(), (a & ~b).sum()])
            tot += row
            print(f"{ds:22s} {row[0]:6d} {row[1]:21d} {row[2]:6d}  {row[3]:8d}  {(b & ~a).sum():3d}")
            if args.changes:
                paths = [it.path for it in leaves if it.source == ds]
                for p, x, y in zip(paths, a, b):
                    if x != y:
                        print(f"    {'silenced' if x else 'NEW'}: {Path(p).name}")
        print(f"{'all':22s} {tot[0]:6d} {tot[1]:21d} {tot[2]:6d}  {tot[3]:8d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

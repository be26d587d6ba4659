"""Choose the pest detector's score threshold for the whole runtime path (detector + labeler), and write it in.

    python -m leafscout.training.pests_threshold runs/pests/pests.onnx --data-root ../shared/datasets --out runs/pests/threshold.json

With a labeler beside the detector (`pests_labeler.onnx`) that can say "no insect", fewer boxes survive on leaf
photos than the detector alone gives, so the threshold that keeps leaf photos silent can be lower. For every leaf
photo of the classifier datasets' VAL splits the highest score of a box that survives the labeler is recorded: the
photo yields a detection at threshold t iff that score >= t. The threshold is the smallest (in steps of 0.01, never
below --min-threshold) at which at least --target of the leaf photos yield nothing. rice_pest val AP@0.5 and the
matched-label accuracy are reported at a grid of thresholds through the same path. `--write` stores the chosen
threshold in the detector's ONNX metadata.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

from leafscout.model.detect import Detector
from leafscout.model.detect_metrics import ImageDets, detection_report
from leafscout.training.detect_data import detection_labels, leaf_negatives, rice_pest_items


def surviving_max(det: Detector, path: str, floor: float) -> float:
    """The highest score >= floor of a box the labeler keeps (0 when none): boxes are named in score order, a
    few at a time, and the first one kept ends the search."""
    from leafscout.model.detect import boxes_to_original, postprocess
    rgb, _, _ = det.load(path)
    x, lb = det.prepare(rgb)
    scores, boxes = det.infer(x[None])
    insect_scores = scores[0] if det.leaf_class is None else scores[0][:, :det.leaf_class]  # a leaf is no insect
    b, s, _ = postprocess(insect_scores, boxes[0], floor, det.nms_iou, det.max_detections)
    if det.labeler is None or not len(s):
        return float(s.max()) if len(s) else 0.0
    b = boxes_to_original(b, lb)
    for i in range(0, len(s), 8):
        c = det.name_boxes(rgb, b[i:i + 8])
        kept = np.where(c < len(det.labels))[0]
        if len(kept):
            return float(s[i + kept[0]])
    return 0.0


def rice_dets(det: Detector, items, floor: float):
    """Per photo: (pests with score >= floor, gt boxes, gt label names)."""
    return [(det.detect(it.path, score_threshold=floor), it) for it in items]


def report_at(dets, labels, t: float) -> dict:
    idx = {lab: i for i, lab in enumerate(labels)}
    images = []
    for pests, it in dets:
        keep = [p for p in pests if p.score >= t]
        images.append(ImageDets(np.array([p.box for p in keep], np.float64).reshape(-1, 4),
                                np.array([p.score for p in keep]), np.array([idx[p.label] for p in keep], np.int64),
                                it.boxes, np.asarray(it.labels, np.int64)))
    return detection_report(images, labels)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("detector")
    ap.add_argument("--data-root", default="../shared/datasets")
    ap.add_argument("--target", type=float, default=0.97)
    ap.add_argument("--min-threshold", type=float, default=0.15)
    ap.add_argument("--floor", type=float, default=0.15, help="lowest score scored")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-labeler", action="store_true")
    ap.add_argument("--leaf-limit", type=int, default=0, help="at most N leaf val photos per dataset (0: all)")
    ap.add_argument("--set", type=float, default=None, help="ship this threshold instead of the smallest one that "
                    "meets --target (it must meet it too), e.g. for fewer false alarms in the counts")
    ap.add_argument("--write", action="store_true", help="store the chosen threshold in the detector's metadata")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)

    det = Detector(args.detector, threads=args.threads, labeler=not args.no_labeler)
    labels, index = detection_labels()
    if labels != det.labels:
        raise SystemExit(f"detector labels {det.labels} != labels.yaml {labels}")
    root = Path(args.data_root)
    leaves = leaf_negatives(root, "val")
    if args.leaf_limit:
        from leafscout.training.detect_data import sample_per_dataset
        leaves = sample_per_dataset(leaves, args.leaf_limit * len({i.source for i in leaves}), 0)
    maxes, by = [], {}
    for it in leaves:
        try:
            m = surviving_max(det, it.path, args.floor)
        except Exception:
            continue
        maxes.append(m)
        by.setdefault(it.source, []).append(m)
    m = np.sort(np.asarray(maxes))
    k = int(math.ceil(args.target * len(m))) - 1
    leaf_min = max(args.min_threshold, min(0.99, math.floor(m[min(k, len(m) - 1)] * 100 + 1) / 100.0))
    thr = leaf_min
    if args.set is not None:
        if args.set < leaf_min:
            raise SystemExit(f"--set {args.set} is below {leaf_min}, the smallest threshold that keeps "
                             f"{args.target:.0%} of leaf photos silent")
        thr = args.set
    val = rice_pest_items(root / "rice_pest", "val", index)
    dets = rice_dets(det, val, args.floor)
    grid = {}
    for t in sorted({round(x, 2) for x in np.arange(0.15, 0.8, 0.05)} | {round(thr, 2), round(leaf_min, 2)}):
        r = report_at(dets, labels, t)
        grid[f"{t:.2f}"] = {"ap_class_agnostic": r["ap_class_agnostic"], "map": r["map"],
                            "matched_label_accuracy": r["matched_label_accuracy"], "detections": r["detections"],
                            "matched": r["matched_boxes"],
                            "precision": round(r["matched_boxes"] / r["detections"], 4) if r["detections"] else None,
                            "leaf_clean_share": round(float(np.mean(np.asarray(maxes) < t)), 4)}
    out = {"detector": args.detector, "labeler": None if det.labeler is None else str(det.labeler_path),
           "target": args.target, "threshold": thr, "leaf_min_threshold": leaf_min, "set_by_hand": args.set is not None,
           "leaf_photos": len(maxes),
           "leaf_clean_share": round(float(np.mean(np.asarray(maxes) < thr)), 4),
           "leaf_clean_per_dataset": {k: round(float(np.mean(np.asarray(v) < thr)), 4) for k, v in sorted(by.items())},
           "rice_val_at_threshold": report_at(dets, labels, thr), "grid": grid}
    print(f"threshold {thr:.2f}: leaf val clean {out['leaf_clean_share']:.3f} of {len(maxes)}; rice val AP@0.5 "
          f"agnostic {out['rice_val_at_threshold']['ap_class_agnostic']}, mAP {out['rice_val_at_threshold']['map']}, "
          f"label right {out['rice_val_at_threshold']['matched_label_accuracy']}")
    for t, v in grid.items():
        print(f"  {t}: {v}")
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=2))
    if args.write:
        from leafscout.training.detect_train import set_metadata
        set_metadata(Path(args.detector), {"leafscout.score_threshold": repr(thr)})
        print(f"wrote score_threshold {thr} into {args.detector}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

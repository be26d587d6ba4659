"""The insect-pest detector, measured in one run: accuracy on rice_pest val, silence on leaf photos, and latency.

Prints, for the shipped ONNX detector through the product's runtime path (image gate, letterbox, ONNX, numpy NMS,
boxes in the original photo's pixels):
- AP@0.5 per class, mAP and class-agnostic AP on rice_pest val, at the shipped score threshold (what
  `leafscout diagnose --json` returns) and with every detection down to 0.05 (the usual AP);
- the share of matched boxes whose label is right;
- the share of leaf photos of the classifier datasets' val splits with no detection;
- per-photo latency on 1 thread of the classifier alone (baseline) and of classifier + detector, on rice field
  photos and on leaf photos, as a ratio against the baseline measured in the same run.

    .venv/bin/python benchmarks/bench_pests.py --pests model/pests.onnx --model model/leafscout.onnx
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from leafscout.model.detect import Detector  # noqa: E402
from leafscout.model.detect_metrics import ImageDets, detection_report  # noqa: E402


def timed(fn, items, warmup: int = 3) -> np.ndarray:
    for it in items[:warmup]:
        fn(it)
    out = []
    for it in items:
        t = time.perf_counter()
        fn(it)
        out.append((time.perf_counter() - t) * 1e3)
    return np.asarray(out)


def fmt(ms: np.ndarray) -> str:
    return f"p50 {np.percentile(ms, 50):6.1f} ms  p95 {np.percentile(ms, 95):6.1f} ms"


def rice_val_report(det: Detector, items, labels_index) -> tuple[dict, dict]:
    """(report at the shipped threshold, report with all detections >= 0.05), boxes in original pixels."""
    at, low = [], []
    for it in items:
        rgb, ow, oh = det.load(it.path)
        x, lb = det.prepare(rgb)
        s, b = det.infer(x[None])
        gt_labels = np.array([labels_index[det_label] for det_label in it.label_names], np.int64)
        for thr, sink in ((det.thresholds, at), (0.05, low)):
            pests = det._pests(s[0], b[0], lb, ow, oh, None if sink is at else thr, rgb)
            sink.append(ImageDets(np.array([p.box for p in pests], np.float64).reshape(-1, 4),
                                  np.array([p.score for p in pests]), np.array([labels_index[p.label] for p in pests]),
                                  it.boxes, gt_labels))
    return detection_report(at, det.labels), detection_report(low, det.labels)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pests", default=str(REPO / "model" / "pests.onnx"))
    ap.add_argument("--model", default=None, help="classifier (default: the shipped model)")
    ap.add_argument("--data-root", default=str(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--leaf-limit", type=int, default=0, help="leaf val photos per dataset (0: all)")
    ap.add_argument("--latency-photos", type=int, default=40, help="photos of each kind for the latency runs")
    ap.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    args = ap.parse_args()

    from leafscout.model.runtime import Predictor
    from leafscout.training.detect_data import detection_labels, leaf_negatives, rice_pest_items, sample_per_dataset

    root = Path(args.data_root)
    det = Detector(args.pests, threads=1)
    labels, index = detection_labels()
    if labels != det.labels:
        print(f"warning: detector labels {det.labels} differ from labels.yaml {labels}", file=sys.stderr)
    items = rice_pest_items(root / "rice_pest", "val", index)
    for it in items:  # ground truth labels by name, so a detector with another label order is still scored right
        it.label_names = [labels[c] for c in it.labels]
    lab_index = {lab: i for i, lab in enumerate(det.labels)}
    at, low = rice_val_report(det, items, lab_index)
    out = {"detector": {"path": args.pests, "version": det.version, "score_threshold": det.score_threshold,
                        "nms_iou": det.nms_iou, "input_size": det.input_size},
           "rice_val_at_threshold": at, "rice_val_all_scores": low}
    print(f"pest detector {det.version}: input {det.input_size} px, score threshold {det.score_threshold:.2f}, "
          f"NMS IoU {det.nms_iou}")
    print(f"rice_pest val: {at['images']} photos, {at['gt_boxes']} boxes")
    print(f"{'':28s} {'at threshold':>13s} {'all >= 0.05':>12s}")
    for lab in det.labels:
        a, b = at["per_class"][lab], low["per_class"][lab]
        fa = "-" if a["ap"] is None else f"{a['ap']:.3f}"
        fb = "-" if b["ap"] is None else f"{b['ap']:.3f}"
        print(f"  AP@0.5 {lab:24s} {fa:>9s}     {fb:>9s}   ({a['boxes']} boxes)")
    for key, name in (("map", "mAP@0.5 (classes with boxes)"), ("ap_class_agnostic", "AP@0.5 class-agnostic"),
                      ("matched_label_accuracy", "label right, matched boxes")):
        print(f"  {name:31s} {at[key] if at[key] is not None else float('nan'):.3f}     "
              f"{low[key] if low[key] is not None else float('nan'):.3f}")
    print(f"  detections {at['detections']} at threshold ({at['matched_boxes']} matched), {low['detections']} >= 0.05")

    leaves = leaf_negatives(root, "val")
    if args.leaf_limit:
        leaves = sample_per_dataset(leaves, args.leaf_limit * len({i.source for i in leaves}), 0)
    clean, by = [], {}
    for it in leaves:
        try:
            n = len(det.detect(it.path))
        except Exception:
            continue
        clean.append(n == 0)
        by.setdefault(it.source, []).append(n == 0)
    share = float(np.mean(clean)) if clean else float("nan")
    out["leaf_val"] = {"photos": len(clean), "no_detection_share": round(share, 4),
                       "per_dataset": {k: round(float(np.mean(v)), 4) for k, v in sorted(by.items())}}
    print(f"leaf val photos with no detection: {sum(clean)}/{len(clean)} = {100 * share:.1f}% "
          f"(" + ", ".join(f"{k} {100 * v:.0f}%" for k, v in out["leaf_val"]["per_dataset"].items()) + ")")

    # latency on 1 thread: classifier alone (baseline) vs classifier + detector, same photos, same run
    pred = Predictor(args.model, threads=1)
    rice_photos = [it.path for it in items[:args.latency_photos]]
    leaf_photos = [it.path for it in sample_per_dataset(leaves, args.latency_photos, 1)][:args.latency_photos]
    out["latency_ms"] = {}
    for kind, photos in (("rice field photo (416 px)", rice_photos), ("leaf photo (<= 256 px)", leaf_photos)):
        base = timed(lambda p: pred.predict(p), photos)
        both = timed(lambda p: (pred.predict(p), det.detect(p)), photos)
        alone = timed(lambda p: det.detect(p), photos)
        ratio = np.percentile(both, 50) / np.percentile(base, 50)
        out["latency_ms"][kind] = {"classifier_p50": round(float(np.percentile(base, 50)), 1),
                                   "classifier_p95": round(float(np.percentile(base, 95)), 1),
                                   "classifier_plus_detector_p50": round(float(np.percentile(both, 50)), 1),
                                   "classifier_plus_detector_p95": round(float(np.percentile(both, 95)), 1),
                                   "detector_alone_p50": round(float(np.percentile(alone, 50)), 1),
                                   "ratio_p50": round(float(ratio), 2), "photos": len(photos)}
        print(f"{kind}, 1 thread: classifier {fmt(base)} | classifier + detector {fmt(both)} "
              f"= {ratio:.2f}x the classifier alone | detector alone p50 {np.percentile(alone, 50):.1f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

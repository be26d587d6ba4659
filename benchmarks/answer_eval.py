"""What a grower is told, per dataset: the runtime's answer (status + label), not only the raw arg-max.

For each model and each val dataset it prints, on the same photos:
- raw top-1 (arg-max of the logits, what `leafscout evaluate` and the model card score);
- answer top-1: the label `leafscout diagnose` gives (crop first, then the label), with no crop named;
- answer top-1 with the crop named (`--crop`), when the model knows the photo's crop;
- "ok, wrong crop": photos answered with status ok and another crop's label (the harm issue 22 counts);
- flagged: uncertain or not_a_leaf;
- JPEG-25-small: the same photos shrunk to half their size and saved at JPEG quality 25, answer top-1 and its
  drop (a photo sent through a messaging app).
A model that does not know a dataset's crop (model 2.0.0 on rice) is scored on the first and fourth only:
every answer it gives there is another crop's label.

    python benchmarks/answer_eval.py model/leafscout.onnx runs/v3/leafscout.onnx --json runs/answer_eval.json
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from leafscout.model.labels import load_label_map  # noqa: E402
from leafscout.model.runtime import Predictor  # noqa: E402
from leafscout.training.data import discover, read_rgb  # noqa: E402


def small_jpeg(rgb: np.ndarray, quality: int = 25, scale: float = 0.5) -> bytes:
    h, w = rgb.shape[:2]
    small = cv2.resize(rgb, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return buf.tobytes()


def score(pred: Predictor, photos: list[str], truths: list[str], jpeg: bool) -> dict:
    crop_of = pred.crop_of
    knows = {lab for lab in pred.labels}
    rows = defaultdict(Counter)
    per_class = defaultdict(Counter)
    results = pred.predict_many(photos, top_k=3)
    small = pred.predict_many((small_jpeg(read_rgb(p)) for p in photos), top_k=3) if jpeg else iter(())
    for path, truth, r in zip(photos, truths, results):
        c = rows["all"]
        c["n"] += 1
        if r.status == "error":
            c["error"] += 1
            continue
        raw = pred.labels[int(np.argmax(r.logits))]
        c["raw_right"] += raw == truth
        c["answer_right"] += r.label == truth
        c["flagged"] += r.status != "ok"
        c["ok_wrong_crop"] += r.status == "ok" and crop_of(r.label) != crop_of(truth)
        c["answer_crop_right"] += crop_of(r.label or "") == crop_of(truth)
        per_class[truth]["n"] += 1
        per_class[truth]["answer_right"] += r.label == truth
        if truth in knows:
            d = pred.decide(r.logits, 3, r.plant_share, crop_of(truth))
            c["named_right"] += d["label"] == truth
            c["named_n"] += 1
            per_class[truth]["named_right"] += d["label"] == truth
    for truth, r in zip(truths, small):
        c = rows["all"]
        c["small_n"] += 1
        c["small_right"] += r.status != "error" and r.label == truth
    return {"overall": dict(rows["all"]), "per_class": {k: dict(v) for k, v in sorted(per_class.items())}}


def pct(a, b) -> str:
    return f"{100 * a / b:5.1f}%" if b else "   - "


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--data-root", default=str(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--datasets", nargs="*", default=None)
    ap.add_argument("--split", default="val")
    ap.add_argument("--limit", type=int, default=None, help="at most N photos per class")
    ap.add_argument("--no-jpeg", action="store_true", help="skip the JPEG-25-small pass")
    ap.add_argument("--per-class", action="store_true", help="print per-class answer and named-crop top-1")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    lm = load_label_map()
    samples = discover(args.data_root, args.datasets, args.split, lm, lm.labels, args.limit)
    by_ds = defaultdict(list)
    for s in samples:
        if lm.labels[s.label] != lm.background_label:
            by_ds[s.dataset].append(s)
    out = {}
    for m in args.models:
        pred = Predictor(m, threads=args.threads)
        print(f"\n{m} (model {pred.version}, {len(pred.labels)} labels)")
        print(f"  {'dataset':20s} {'n':>5s} {'raw top-1':>9s} {'answer':>7s} {'crop named':>10s} {'ok, wrong crop':>14s} "
              f"{'flagged':>7s} {'JPEG25 small':>12s} {'drop':>6s}")
        out[m] = {"version": pred.version}
        for ds, ss in sorted(by_ds.items()):
            rep = score(pred, [s.path for s in ss], [lm.labels[s.label] for s in ss], not args.no_jpeg)
            o = rep["overall"]
            n = o["n"] - o.get("error", 0)
            drop = (100 * (o.get("answer_right", 0) / n - o.get("small_right", 0) / o["small_n"])
                    if o.get("small_n") and n else None)
            print(f"  {ds:20s} {o['n']:5d} {pct(o.get('raw_right', 0), n):>9s} {pct(o.get('answer_right', 0), n):>7s} "
                  f"{pct(o.get('named_right', 0), o.get('named_n', 0)):>10s} "
                  f"{o.get('ok_wrong_crop', 0):6d} ({pct(o.get('ok_wrong_crop', 0), n).strip()}) "
                  f"{pct(o.get('flagged', 0), n):>7s} {pct(o.get('small_right', 0), o.get('small_n', 0)):>12s} "
                  f"{'' if drop is None else f'{drop:+.1f}':>6s}", flush=True)
            if args.per_class:
                for lab, c in rep["per_class"].items():
                    print(f"      {lab:34s} n={c['n']:4d} answer {pct(c.get('answer_right', 0), c['n'])} "
                          f"crop named {pct(c.get('named_right', 0), c['n'] if 'named_right' in c else 0)}")
            out[m][ds] = rep
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

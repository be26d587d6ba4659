"""Float16-stored weights for the phone download: size, and accuracy on val against the float32 model.

The phone build (webapp/phone.py `half_weights`) stores every float32 weight of a model as float16 with a Cast
back to float32 in the graph: the arithmetic stays float32 (onnxruntime and onnxruntime-web alike), only the
weights are rounded. This script makes that file from --model and prints, for the float32 and the fp16-weight
model, the file size (raw, gzip), top-1 on the val split of every dataset in --data (the project's evaluation,
`model.evaluate.evaluate_folder`, as `leafscout evaluate` and benchmarks/compare_models.py run it) and the
difference in points (ship only if no dataset loses more than 0.5 point), then how far the probabilities move and
how many answers change on the committed fixture photos.

With --pests it does the same for the insect detector and its labeler (`<stem>_labeler.onnx` beside it): AP@0.5
on rice_pest val through the product's path (benchmarks/bench_pests.py's scoring), and on the fixture photos
the largest box and score change and whether the labels and counts stay the same.

    .venv/bin/python benchmarks/phone_weights_fp16.py --model model/leafscout.onnx [--pests model/pests.onnx]
    .venv/bin/python benchmarks/phone_weights_fp16.py --model M --limit 20   # a quick look: 20 photos a class
"""
from __future__ import annotations

import argparse
import gzip
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

FIXTURE_ROOTS = ("tests/fixtures/images", "tests/fixtures/ood", "tests/fixtures/rice_pest")


def sizes(path) -> str:
    data = Path(path).read_bytes()
    return f"{len(data) / 1e6:.2f} MB, {len(gzip.compress(data, 6)) / 1e6:.2f} MB gzip"


def fixture_photos() -> list[Path]:
    return sorted(p for root in FIXTURE_ROOTS for p in (REPO / root).rglob("*")
                  if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


def classifier(args, out: Path) -> float:
    """Returns the worst per-dataset top-1 change in points."""
    from leafscout.model.evaluate import evaluate_folder
    from leafscout.model.labels import load_label_map
    from leafscout.model.runtime import Predictor
    from leafscout.webapp.phone import half_weights

    half = out / Path(args.model).name
    info = half_weights(args.model, half)
    print(f"classifier {args.model}: {sizes(args.model)}")
    print(f"  fp16 weights ({info['tensors']} tensors) {half}: {sizes(half)}")
    a, b = Predictor(args.model, threads=args.threads), Predictor(str(half), threads=args.threads)
    data = Path(args.data)
    datasets = [d for d in sorted(load_label_map().datasets) if (data / d / args.split).is_dir()]
    print(f"model {a.version}, {args.split} split of {data}" + (f", at most {args.limit} a class" if args.limit else ""))
    print(f"  {'dataset':22s} {'n':>5s} {'float32':>8s} {'fp16 w':>8s} {'change':>8s}  flagged (uncertain or no leaf)")
    worst, n_all, top_a, top_b = 0.0, 0, 0.0, 0.0
    for ds in datasets:
        t = time.perf_counter()
        ra = evaluate_folder(a, data / ds, split=args.split, dataset=ds, limit=args.limit)["overall"]
        rb = evaluate_folder(b, data / ds, split=args.split, dataset=ds, limit=args.limit)["overall"]
        d = 100 * (rb["top1"] - ra["top1"])
        worst = min(worst, d)
        n_all += ra["n"]
        top_a += ra["top1"] * ra["n"]
        top_b += rb["top1"] * rb["n"]
        print(f"  {ds:22s} {ra['n']:5d} {100 * ra['top1']:7.2f}% {100 * rb['top1']:7.2f}% {d:+7.2f}pt "
              f"  flagged {100 * ra['flagged_share']:.1f}% -> {100 * rb['flagged_share']:.1f}%"
              f"  ({time.perf_counter() - t:.0f} s)", flush=True)
    print(f"  {'all':22s} {n_all:5d} {100 * top_a / n_all:7.2f}% {100 * top_b / n_all:7.2f}% "
          f"{100 * (top_b - top_a) / n_all:+7.2f}pt")

    def probs(logits, t):
        z = np.asarray(logits, np.float64) / t
        e = np.exp(z - z.max())
        return e / e.sum()

    photos = fixture_photos()
    big, changed = 0.0, 0
    for p in photos:
        ra, rb = a.predict(str(p)), b.predict(str(p))
        big = max(big, float(np.abs(probs(ra.logits, a.temperature) - probs(rb.logits, b.temperature)).max()))
        changed += (ra.status, ra.label) != (rb.status, rb.label)
    print(f"  {len(photos)} fixture photos: largest probability change {big:.2e}, answers (status, label) changed "
          f"{changed}")
    print(f"  worst dataset {worst:+.2f} pt top-1: " + ("holds (>= -0.5)" if worst >= -0.5 else "FAILS (< -0.5)"))
    return worst


def detector(args, out: Path) -> None:
    """The detector and its labeler, each as float32 or with fp16 weights (4 combinations), scored alike."""
    from bench_pests import rice_val_report

    from leafscout.model.detect import Detector
    from leafscout.training.detect_data import detection_labels, rice_pest_items
    from leafscout.webapp.phone import half_weights

    src = Path(args.pests)
    lab_src = src.with_name(src.stem + "_labeler.onnx")
    combos = {"float32": (False, False), "fp16 detector": (True, False), "fp16 labeler": (False, True),
              "fp16 both": (True, True)}
    if not lab_src.is_file():
        combos = {k: v for k, v in combos.items() if not v[1]}
    (out / "half").mkdir(exist_ok=True)
    half_weights(src, out / "half" / src.name)
    print(f"\npest detector {src}: {sizes(src)}; fp16 weights: {sizes(out / 'half' / src.name)}")
    if lab_src.is_file():
        half_weights(lab_src, out / "half" / lab_src.name)
        print(f"pest labeler {lab_src}: {sizes(lab_src)}; fp16 weights: {sizes(out / 'half' / lab_src.name)}")
    dets = {}
    for name, (d16, l16) in combos.items():
        folder = out / name.replace(" ", "_")
        folder.mkdir(exist_ok=True)
        for f, half in ((src, d16), (lab_src, l16)):
            if f.is_file():
                (folder / f.name).unlink(missing_ok=True)
                (folder / f.name).symlink_to((out / "half" / f.name).resolve() if half else f.resolve())
        dets[name] = Detector(folder / src.name, threads=args.threads)
    labels, index = detection_labels()
    items = rice_pest_items(Path(args.data) / "rice_pest", args.split, index)
    for it in items:
        it.label_names = [labels[c] for c in it.labels]
    lab_index = {lab: i for i, lab in enumerate(dets["float32"].labels)}
    reps = {name: rice_val_report(d, items, lab_index) for name, d in dets.items()}
    ref = reps["float32"]
    print(f"rice_pest {args.split}: {ref[0]['images']} photos, {ref[0]['gt_boxes']} boxes; "
          f"change from float32 in brackets")
    print(f"  {'':42s}" + "".join(f"{n:>22s}" for n in reps))
    for key, name in (("map", "mAP@0.5"), ("ap_class_agnostic", "AP@0.5 class-agnostic"),
                      ("matched_label_accuracy", "label right, matched boxes"), ("detections", "detections")):
        for k, when in ((0, "at threshold"), (1, "all >= 0.05")):
            if key == "detections" and k == 1:
                continue
            cells = "".join(f"{r[k][key]:>12.4f} ({r[k][key] - ref[k][key]:+.4f})" if key != "detections"
                            else f"{r[k][key]:>12d} ({r[k][key] - ref[k][key]:+7d})" for r in reps.values())
            print(f"  {name:28s} {when:13s}{cells}")
    photos = [p for p in fixture_photos() if "rice_pest" in str(p)] + \
        [Path(it.path) for it in items[:args.detector_photos]]
    base = {p: dets["float32"].detect(str(p)) for p in photos}
    for name, d in dets.items():
        if name == "float32":
            continue
        box, score, same = 0.0, 0.0, 0
        for p in photos:
            pa, pb = base[p], d.detect(str(p))
            if [x.label for x in pa] == [x.label for x in pb]:
                same += 1
                if pa:
                    box = max(box, float(np.abs(np.array([x.box for x in pa]) - np.array([x.box for x in pb])).max()))
                    score = max(score, float(np.abs(np.array([x.score for x in pa])
                                                    - np.array([x.score for x in pb])).max()))
        print(f"  {name}: {len(photos)} photos (fixtures + first {args.detector_photos} val): same labels, order "
              f"and count as float32 on {same}; where they match, largest box change {box:.3f} px, "
              f"score change {score:.2e}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=str(REPO / "model" / "leafscout.onnx"), help="classifier ONNX ('' to skip)")
    ap.add_argument("--pests", default=None, help="also the pest detector (and its _labeler beside it)")
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--split", default="val")
    ap.add_argument("--limit", type=int, default=None, help="at most N photos per class")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--detector-photos", type=int, default=30, help="rice_pest val photos for the box comparison")
    ap.add_argument("--out", default=str(REPO / "runs" / "fp16w"), help="folder for the fp16-weight files")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    worst = classifier(args, out) if args.model else 0.0
    if args.pests:
        detector(args, out)
    return 0 if worst >= -0.5 else 1


if __name__ == "__main__":
    sys.exit(main())

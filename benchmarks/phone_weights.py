"""Float16- and int8-stored weights for the phone download: size, and accuracy on val against the float32 model.

The phone build (webapp/phone.py `ship_model`) can store a model's weights as float32 (the file as it is),
float16 (`half_weights`: a Cast back to float32 in the graph), int8 (`int8_weights`: Conv/Gemm/Einsum weights
as int8 with one symmetric scale per output channel and a DequantizeLinear(axis=0) back to float32, each weight
rounded to nearest; biases and every other initializer float32) or calibrated int8 ("int8c": the same storage,
the integers chosen by GPTQ from TRAIN photos so each layer's output stays close; webapp/calibrated_int8.py, the
committed file in phone/int8/ when it was made from this model, else made here). The arithmetic stays float32
in every case; only the stored weights are rounded. This script prints, per storage, the file size (raw, gzip),
top-1 on the val split of every dataset in --data (the project's evaluation, `model.evaluate.evaluate_folder`,
as `leafscout evaluate` and benchmarks/compare_models.py run it) and the change in points; then how far the
probabilities move and how many answers change on the committed fixture photos.

With --pests it does the same for the insect detector and its labeler (`<stem>_labeler.onnx` beside it; the
labeler is not calibrated), one model converted at a time and then the pair the rule picks: mAP@0.5,
class-agnostic AP@0.5 and label accuracy on matched boxes on rice_pest val through the product's path
(benchmarks/bench_pests.py's scoring), and on the fixture photos the largest box and score change and whether
the labels and counts stay the same. A scene detector (one with a leaf class) is also scored on its leaves: the
product's answer for the field sets' val photos (the whole photo and up to three leaf crops, named by the float32
classifier; benchmarks/leaf_boxes.py's "field" way) with each detector storage, and its weights hold only if
no field set loses more than 0.5 point or one photo against the float32 detector's leaves.

The rule (issue 19: int8 where it keeps accuracy, <= 0.5 point loss on val): the classifier's top-1 over all val
photos within 0.5 point of float32, and no dataset losing more than 0.5 point or one photo, whichever is more
(one photo of rice_leaf_ph's 40 is 2.5 points: any rounding moves a photo that sits on a decision boundary,
which is noise, not damage; two photos are not); the detector's mAP@0.5 and class-agnostic AP@0.5 within 0.005,
at the shipped threshold and with all detections >= 0.05; the labeler's same two plus its label accuracy. Each
model ships the smallest (gzip) storage that holds. The last lines print that choice and whether webapp.phone's
CLASSIFIER_WEIGHTS / DETECTOR_WEIGHTS / LABELER_WEIGHTS match it (exit 1 if not).

    .venv/bin/python benchmarks/phone_weights.py --model model/leafscout.onnx --pests model/pests.onnx
    .venv/bin/python benchmarks/phone_weights.py --model M --limit 20   # a quick look: 20 photos a class
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


TOL = 0.5  # points
FORMATS = ("float32", "fp16", "int8", "int8c")
# this script's names -> webapp.phone's; int8c: calibrated (GPTQ) int8, webapp/calibrated_int8.py
STORAGE = {"float32": "float32", "fp16": "float16", "int8": "int8", "int8c": "int8-calibrated"}


def gz(path) -> int:
    return len(gzip.compress(Path(path).read_bytes(), 6))


def sizes(path) -> str:
    return f"{Path(path).stat().st_size / 1e6:.2f} MB, {gz(path) / 1e6:.2f} MB gzip"


def fixture_photos() -> list[Path]:
    return sorted(p for root in FIXTURE_ROOTS for p in (REPO / root).rglob("*")
                  if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


def convert(src: Path, out: Path, hessians=None) -> dict[str, Path]:
    """{format: file}: float32 is `src` itself, fp16 and int8 are written under out/<format>/; int8c is the
    committed calibrated file when it was made from `src` (phone/int8/), else made here under out/int8c/ from
    `hessians()` (GPTQ's layer statistics from TRAIN photos), exactly as `python -m leafscout.webapp.phone quantize`."""
    from leafscout.webapp.calibrated_int8 import calibrated_file, calibrated_int8_weights
    from leafscout.webapp.phone import half_weights, int8_weights

    files = {"float32": src}
    for fmt, fn in (("fp16", half_weights), ("int8", int8_weights)):
        (out / fmt).mkdir(parents=True, exist_ok=True)
        files[fmt] = out / fmt / src.name
        info = fn(src, files[fmt])
        print(f"  {fmt + ' weights':13s} ({info['tensors']:3d} tensors) {sizes(files[fmt])}  {files[fmt]}")
    found = calibrated_file(src)
    if found is None and hessians is None:
        return files
    if found is None:
        (out / "int8c").mkdir(parents=True, exist_ok=True)
        found = out / "int8c" / src.name
        calibrated_int8_weights(src, found, hessians())
    files["int8c"] = found
    print(f"  {'int8c weights':13s} (GPTQ)        {sizes(found)}  {found}")
    return files

def beyond_rule(drop_pt: float, n: int) -> float:
    """Points a dataset of `n` photos lost beyond what the rule allows (max(TOL, one photo)); > 0 fails it."""
    return drop_pt - max(TOL, 100.0 / n) - 1e-6  # 1e-6: one photo is exactly allowed


def smallest(files: dict[str, Path], holds: dict[str, bool]) -> str:
    return min((f for f in files if holds.get(f)), key=lambda f: gz(files[f]))


def classifier(args, out: Path) -> str:
    """Returns the storage the rule picks for the classifier."""
    from leafscout.model.evaluate import evaluate_folder
    from leafscout.model.labels import load_label_map
    from leafscout.model.runtime import Predictor

    src = Path(args.model)
    print(f"classifier {src}: float32 {sizes(src)}")
    data = Path(args.data)

    def hessians():  # GPTQ statistics for int8c when no committed file fits: TRAIN photos, never val
        from leafscout.webapp.calibrated_int8 import classifier_batches, classifier_photos, layer_hessians
        return layer_hessians(src, classifier_batches(Predictor(str(src), threads=args.threads),
                                                      classifier_photos(data, 24)))

    files = convert(src, out, hessians)
    fmts = [f for f in FORMATS if f in files]
    preds = {f: Predictor(str(files[f]), threads=args.threads) for f in fmts}
    datasets = [d for d in sorted(load_label_map().datasets) if (data / d / args.split).is_dir()]
    print(f"model {preds['float32'].version}, {args.split} split of {data}"
          + (f", at most {args.limit} a class" if args.limit else ""))
    print(f"  {'dataset':22s} {'n':>5s} {'float32':>8s}" + "".join(f"{f + ' w':>17s}" for f in fmts[1:])
          + "   flagged (uncertain or no leaf) " + " / ".join(fmts))
    over = {f: 0.0 for f in fmts}  # worst loss beyond what the rule allows on one dataset (points)
    n_all, tops = 0, {f: 0.0 for f in fmts}
    for ds in datasets:
        t = time.perf_counter()
        r = {f: evaluate_folder(p, data / ds, split=args.split, dataset=ds, limit=args.limit)["overall"]
             for f, p in preds.items()}
        n = r["float32"]["n"]
        n_all += n
        cells = ""
        for f in fmts:
            tops[f] += r[f]["top1"] * n
            d = 100 * (r[f]["top1"] - r["float32"]["top1"])
            over[f] = max(over[f], beyond_rule(-d, n))
            cells += f" {100 * r[f]['top1']:7.2f}%" + (f" ({d:+6.2f}pt)" if f != "float32" else "")
        flagged = " / ".join(f"{100 * r[f]['flagged_share']:.1f}%" for f in fmts)
        print(f"  {ds:22s} {n:5d}{cells}   {flagged}  ({time.perf_counter() - t:.0f} s)", flush=True)
    overall = {f: 100 * (tops[f] - tops["float32"]) / n_all for f in fmts}
    cells = "".join(f" {100 * tops[f] / n_all:7.2f}%" + (f" ({overall[f]:+6.2f}pt)" if f != "float32" else "")
                    for f in fmts)
    print(f"  {'all':22s} {n_all:5d}{cells}")

    def probs(logits, t):
        z = np.asarray(logits, np.float64) / t
        e = np.exp(z - z.max())
        return e / e.sum()

    photos = fixture_photos()
    base = {p: preds["float32"].predict(str(p)) for p in photos}
    for f in fmts[1:]:
        big, changed = 0.0, 0
        for p in photos:
            ra, rb = base[p], preds[f].predict(str(p))
            big = max(big, float(np.abs(probs(ra.logits, preds["float32"].temperature)
                                        - probs(rb.logits, preds[f].temperature)).max()))
            changed += (ra.status, ra.label) != (rb.status, rb.label)
        print(f"  {f} weights, {len(photos)} fixture photos: largest probability change {big:.2e}, answers "
              f"(status, label) changed {changed}")
    holds = {f: overall[f] >= -TOL and over[f] <= 0 for f in fmts}
    for f in fmts[1:]:
        print(f"  {f} weights: all val {overall[f]:+.2f} pt top-1, worst dataset beyond max({TOL} pt, one photo) "
              f"{max(over[f], 0):.2f} pt: " + ("holds" if holds[f] else "FAILS"))
    return smallest(files, holds)


KEYS = (("map", "mAP@0.5"), ("ap_class_agnostic", "AP@0.5 class-agnostic"),
        ("matched_label_accuracy", "label right, matched boxes"), ("detections", "detections"))


def detector(args, out: Path) -> tuple[str, str | None]:
    """Each of the detector and its labeler as float32, fp16 or int8 weights (the other one float32), then the
    pair the rule picks, scored alike. Returns the storages picked (detector, labeler or None)."""
    from bench_pests import rice_val_report

    from leafscout.model.detect import Detector
    from leafscout.training.detect_data import detection_labels, rice_pest_items

    src = Path(args.pests)
    lab_src = src.with_name(src.stem + "_labeler.onnx")
    has_lab = lab_src.is_file()
    print(f"\npest detector {src}: float32 {sizes(src)}")

    plain = Detector(str(src), threads=args.threads, labeler=False)
    scene = plain.leaf_class is not None

    def hessians():  # GPTQ statistics for int8c when no committed file fits: TRAIN photos, as `phone quantize`
        from leafscout.webapp.calibrated_int8 import detector_hessians
        return detector_hessians(plain, args.data, 48, args.threads)[0]

    det_files = convert(src, out, hessians)
    lab_files = None
    if has_lab:  # the labeler is not calibrated (its inputs are box crops): float32, fp16, int8
        print(f"pest labeler {lab_src}: float32 {sizes(lab_src)}")
        lab_files = convert(lab_src, out, None)
    labels, index = detection_labels()
    items = rice_pest_items(Path(args.data) / "rice_pest", args.split, index)
    for it in items:
        it.label_names = [labels[c] for c in it.labels]

    def detector_of(d: str, lab: str):
        folder = out / f"pair_{d}_{lab}"
        folder.mkdir(exist_ok=True)
        for f, target in ((src, det_files[d]), (lab_src, lab_files[lab] if has_lab else None)):
            (folder / f.name).unlink(missing_ok=True)
            if target is not None:
                (folder / f.name).symlink_to(Path(target).resolve())
        return Detector(folder / src.name, threads=args.threads)

    combos = [("float32", "float32")] + [(f, "float32") for f in FORMATS[1:] if f in det_files]
    if has_lab:
        combos += [("float32", f) for f in FORMATS[1:] if f in lab_files]
    dets = {c: detector_of(*c) for c in combos}
    lab_index = {lab: i for i, lab in enumerate(dets[combos[0]].labels)}
    reps = {c: rice_val_report(d, items, lab_index) for c, d in dets.items()}
    ref = reps[combos[0]]

    def loss(rep, keys) -> float:  # worst drop against float32 over `keys`, at threshold and all >= 0.05
        return max(ref[k][key] - rep[k][key] for key in keys for k in (0, 1))

    det_keys, lab_keys = ("map", "ap_class_agnostic"), ("map", "ap_class_agnostic", "matched_label_accuracy")
    det_holds = {f: loss(reps[(f, "float32")], det_keys) <= TOL / 100 for f in det_files}
    if scene:
        for f, ok in leaf_holds(args, {f: dets[(f, "float32")] for f in det_files}).items():
            det_holds[f] = det_holds[f] and ok
    det_pick = smallest(det_files, det_holds)
    lab_pick = None
    if has_lab:
        lab_holds = {f: loss(reps[("float32", f)], lab_keys) <= TOL / 100 for f in lab_files}
        lab_pick = smallest(lab_files, lab_holds)
    pick = (det_pick, lab_pick or "float32")
    if pick not in reps:  # both converted: scored together too (errors could add up)
        dets[pick] = detector_of(*pick)
        reps[pick] = rice_val_report(dets[pick], items, lab_index)
    print(f"{args.split} rice_pest: {ref[0]['images']} photos, {ref[0]['gt_boxes']} boxes; change from float32 in "
          f"brackets; columns: detector / labeler weights")
    print(f"  {'':42s}" + "".join(f"{d + ' / ' + lab:>22s}" for d, lab in reps))
    for key, name in KEYS:
        for k, when in ((0, "at threshold"), (1, "all >= 0.05")):
            if key == "detections" and k == 1:
                continue
            cells = "".join(f"{r[k][key]:>12.4f} ({r[k][key] - ref[k][key]:+.4f})" if key != "detections"
                            else f"{r[k][key]:>12d} ({r[k][key] - ref[k][key]:+7d})" for r in reps.values())
            print(f"  {name:28s} {when:13s}{cells}")
    photos = [p for p in fixture_photos() if "rice_pest" in str(p)] + \
        [Path(it.path) for it in items[:args.detector_photos]]
    base = {p: dets[combos[0]].detect(str(p)) for p in photos}
    for c, d in dets.items():
        if c == combos[0]:
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
        print(f"  {c[0]} / {c[1]}: {len(photos)} photos (fixtures + first {args.detector_photos} val): same labels, "
              f"order and count as float32 on {same}; where they match, largest box change {box:.3f} px, "
              f"score change {score:.2e}")
    for f in FORMATS[1:]:
        if f in det_files:
            print(f"  detector {f} weights: worst drop {100 * loss(reps[(f, 'float32')], det_keys):+.2f} pt "
                  f"(mAP@0.5, class-agnostic AP@0.5): " + ("holds" if det_holds[f] else f"FAILS (> {TOL})"))
        if has_lab and f in lab_files:
            print(f"  labeler {f} weights: worst drop {100 * loss(reps[('float32', f)], lab_keys):+.2f} pt "
                  f"(mAP@0.5, class-agnostic AP@0.5, label accuracy): " + ("holds" if lab_holds[f] else f"FAILS (> {TOL})"))
    if pick != combos[0]:
        print(f"  together ({pick[0]} / {pick[1]}): worst drop {100 * loss(reps[pick], lab_keys):+.2f} pt" +
              ("" if loss(reps[pick], lab_keys) <= TOL / 100 else f"  FAILS (> {TOL}) together"))
    return det_pick, lab_pick


def leaf_holds(args, dets: dict) -> dict[str, bool]:
    """A scene detector's leaves, per weight storage (`dets`: storage -> Detector, float32 first): the field
    way's top-1 on the field sets' val photos (float32 classifier), and whether each storage stays within 0.5
    point or one photo of float32's leaves on every set."""
    from leaf_boxes import answers

    from leafscout.model.imageio import read_image
    from leafscout.model.labels import load_label_map
    from leafscout.model.runtime import Predictor
    from leafscout.training.data import discover
    from leafscout.webapp.calibrated_int8 import LEAF_CALIBRATION_SETS

    pred = Predictor(args.model or str(REPO / "model" / "leafscout.onnx"), threads=args.threads)
    lm = load_label_map()
    right = {f: {} for f in dets}  # storage -> dataset -> [photos right]
    for ds in LEAF_CALIBRATION_SETS:
        if not (Path(args.data) / ds / args.split).is_dir():
            continue
        for s in discover(args.data, [ds], args.split, lm, lm.labels, args.limit):
            truth = lm.labels[s.label]
            if truth == lm.background_label:
                continue
            rgb = read_image(s.path)
            for f, det in dets.items():
                right[f].setdefault(ds, []).append(answers(pred, rgb, det.scene(rgb), 3)["field"] == truth)
    ref = right["float32"]
    print(f"  leaves ({args.split} photos of {', '.join(ref)}; answer from the whole photo and up to 3 leaves, "
          "float32 classifier): top-1 per storage")
    holds = {}
    for f, per in right.items():
        holds[f] = all(beyond_rule(100 * (sum(ref[ds]) - sum(per[ds])) / len(per[ds]), len(per[ds])) <= 0
                       for ds in per)
        print(f"    {f:8s} " + "  ".join(f"{ds} {100 * np.mean(per[ds]):.1f}% ({sum(per[ds]) - sum(ref[ds]):+d})"
                                         for ds in per) + ("" if f == "float32" else
                                                           ("  holds" if holds[f] else "  FAILS (> 0.5 pt and > 1 photo)")))
    return holds


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=str(REPO / "model" / "leafscout.onnx"), help="classifier ONNX ('' to skip)")
    ap.add_argument("--pests", default=None, help="also the pest detector (and its _labeler beside it)")
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--split", default="val")
    ap.add_argument("--limit", type=int, default=None, help="at most N photos per class")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--detector-photos", type=int, default=30, help="rice_pest val photos for the box comparison")
    ap.add_argument("--out", default=str(REPO / "runs" / "phone_weights"), help="folder for the converted files")
    args = ap.parse_args(argv)
    from leafscout.webapp import phone

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    picks, shipped = {}, {}
    if args.model:
        picks["classifier"], shipped["classifier"] = classifier(args, out), phone.CLASSIFIER_WEIGHTS
    if args.pests:
        det, lab = detector(args, out)
        picks["detector"], shipped["detector"] = det, phone.DETECTOR_WEIGHTS
        if lab:
            picks["labeler"], shipped["labeler"] = lab, phone.LABELER_WEIGHTS
    print(f"\nsmallest storage within {TOL} point: " + ", ".join(f"{m} {STORAGE[f]}" for m, f in picks.items()))
    print("webapp.phone ships: " + ", ".join(f"{m} {f}" for m, f in shipped.items()))
    bad = [m for m in picks if STORAGE[picks[m]] != shipped[m]]
    if args.limit is None and args.split == "val" and bad:
        print(f"MISMATCH: webapp.phone's choice differs from the measurement for {', '.join(bad)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

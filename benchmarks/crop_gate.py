"""Would a crop-confidence gate help? What it would catch and what it would cost, before anyone builds it.

With no crop given, the runtime answers the most probable crop's best label (`Predictor.decide`). A gate would
turn an `ok` answer into `uncertain` ("which crop is this?") when that crop holds less than T of the
probability. This prints, for several T, on two photo sets:
1. the val LEAF photos of every dataset, as they are (the real runtime, `Predictor.predict_many`);
2. field-like photos, the ones `training/finalize.py` chooses the other thresholds on: the field sets' val photos
   as they are and the lab val leaves pasted on field backgrounds (`FieldLikeDataset`, fixed seeds; needs the
   train extra), decided by the same `Predictor.decide` on the ONNX model's logits;
how many `ok` answers would become `uncertain`, how many of those were right, and how many were `ok` with
another crop's label (the answers that give a grower the wrong crop's spray advice).

`--guard rice` measures a narrower rule instead: an `ok` answer of ANOTHER crop becomes `uncertain` when rice
(the guarded crop) still holds at least R of the probability, i.e. "is this rice?" for the one crop whose photos
must never get another crop's spray advice (issues 17 and 22). Rice plants photographed for their insects
(`rice.other`) count here: they are the rice field photos.

    python benchmarks/crop_gate.py --model model/leafscout.onnx
    python benchmarks/crop_gate.py --model model/leafscout.onnx --guard rice
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from leafscout.model.labels import load_label_map  # noqa: E402
from leafscout.model.runtime import Predictor  # noqa: E402

GATES = (0.5, 0.55, 0.6, 0.65, 0.7)
GUARDS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3)


class Row(NamedTuple):
    """One leaf photo's answer against its truth (the first five fields are what every report reads)."""
    ok: bool              # answered "ok"
    right: bool           # ok with the true label
    wrong_crop: bool      # ok with another crop's label
    top_mass: float       # probability of the answer's crop
    confidence: float     # calibrated confidence of the answer
    truth_crop: str
    answer_crop: str
    masses: dict          # crop -> probability (crops at 1% or more)


def top_crop(d: dict) -> tuple[str | None, float]:
    scores = d.get("crop_scores") or []
    return (scores[0][0], float(scores[0][1])) if scores else (None, 0.0)


def rows_from(pred: Predictor, decisions, truths, keep_unnamed: bool = False) -> list[Row]:
    """A `Row` per leaf photo; photos labelled `<crop>.other` (rice plants with insects) are left out, as in
    ood_eval.py ("uncertain" is their right answer), unless `keep_unnamed` (the guard counts them as rice)."""
    out = []
    for d, truth in zip(decisions, truths):
        if d is None or (pred.unnamed_problem(truth) and not keep_unnamed):
            continue
        ok = d["status"] == "ok"
        answer_crop = pred.crop_of(d["label"] or "")
        out.append(Row(ok, ok and d["label"] == truth, ok and answer_crop != pred.crop_of(truth), top_crop(d)[1],
                       float(d.get("confidence") or 0.0), pred.crop_of(truth), answer_crop,
                       dict(d.get("crop_scores") or [])))
    return out


def report(name: str, rows) -> None:
    n = len(rows)
    ok = sum(r[0] for r in rows)
    wrong = sum(r[2] for r in rows)
    print(f"\n{name}: {n} leaf photos, {ok} answered ok, {wrong} of them with another crop's label")
    print(f"  {'gate T':>6s} {'ok -> uncertain':>16s} {'share of photos':>16s} {'of them right':>14s} "
          f"{'wrong crop caught':>18s} {'wrong crop left':>16s}")
    for t in GATES:
        g = [r for r in rows if r[0] and r[3] < t]
        caught = sum(r[2] for r in g)
        print(f"  {t:6.2f} {len(g):16d} {100 * len(g) / max(n, 1):15.2f}% {sum(r[1] for r in g):14d} "
              f"{caught:18d} {wrong - caught:16d}")


def report_guard(name: str, rows: list[Row], crop: str) -> None:
    """What "an ok answer of another crop becomes uncertain while `crop` holds >= R" catches and costs."""
    n = len(rows)
    missed = sorted(r.masses.get(crop, 0.0) for r in rows if r.ok and r.truth_crop == crop and r.answer_crop != crop)
    print(f"\n{name}: {n} leaf photos, {sum(r.truth_crop == crop for r in rows)} of them {crop}; "
          f"{len(missed)} {crop} photo(s) answered ok with another crop's label, holding {crop} at "
          f"{', '.join(f'{100 * m:.1f}%' for m in missed) or '-'}")
    print(f"  {'guard R':>7s} {'ok -> uncertain':>16s} {'share of photos':>16s} {'of them right':>14s} "
          f"{crop + ' caught':>14s} {crop + ' left':>12s}")
    for g in GUARDS:
        hit = [r for r in rows if r.ok and r.answer_crop != crop and r.masses.get(crop, 0.0) >= g]
        caught = sum(r.truth_crop == crop for r in hit)
        print(f"  {g:7.2f} {len(hit):16d} {100 * len(hit) / max(n, 1):15.2f}% {sum(r.right for r in hit):14d} "
              f"{caught:14d} {len(missed) - caught:12d}")


def val_rows(pred: Predictor, data: Path, labels_yaml: Path, limit: int | None, keep_unnamed: bool = False):
    from leafscout.training.data import discover
    samples = [s for s in discover(str(data), None, "val", load_label_map(labels_yaml), pred.labels, limit, 0)
               if pred.labels[s.label] != pred.background_label]
    decisions = [None if r.status == "error" else
                 {"status": r.status, "label": r.label, "crop_scores": r.crop_scores, "confidence": r.confidence}
                 for r in pred.predict_many([s.path for s in samples], top_k=3)]
    return rows_from(pred, decisions, [pred.labels[s.label] for s in samples], keep_unnamed)


def field_like_rows(pred: Predictor, data: Path, labels_yaml: Path, limit: int | None, keep_unnamed: bool = False):
    from leafscout.training.data import discover
    from leafscout.training.finalize import FieldLikeDataset
    from leafscout.training.loop import load_foliage
    label_map = load_label_map(labels_yaml)
    val = discover(str(data), None, "val", label_map, pred.labels, limit, 0)
    background = pred.labels.index(pred.background_label)
    field = FieldLikeDataset(val, pred.cfg, pred.locator, load_foliage(val, 100, 1), background, n_negatives=0)
    decisions, truths, batch = [], [], []

    def flush():
        logits, _ = pred.infer(np.stack([b[0] for b in batch]))
        decisions.extend(pred.decide(lg, 3, b[1]) for lg, b in zip(logits, batch))
        batch.clear()

    for i in range(len(field)):
        x, target, _, plant = field[i]
        if target == background:
            continue
        batch.append((x.numpy(), plant))
        truths.append(pred.labels[target])
        if len(batch) == 32:
            flush()
    if batch:
        flush()
    return rows_from(pred, decisions, truths, keep_unnamed)


def val_args(description: str, argv=None, guard: bool = False):
    """The options of a benchmark over the val photos (this one and confidence_bands.py), parsed."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--model", default=str(REPO / "model" / "leafscout.onnx"))
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--labels", default=str(REPO / "datasets" / "labels.yaml"))
    ap.add_argument("--limit", type=int, default=None, help="at most N photos per class")
    ap.add_argument("--threads", type=int, default=2)
    if guard:
        ap.add_argument("--guard", metavar="CROP", default=None,
                        help="measure the narrower rule: another crop's ok answer is uncertain while CROP holds >= R")
    return ap.parse_args(argv)


def open_val(description: str, argv=None, guard: bool = False) -> tuple[argparse.Namespace, Predictor, Path] | None:
    """(the options, the model, the datasets folder), or None after saying why there is nothing to measure."""
    args = val_args(description, argv, guard)
    data = Path(args.data)
    if not data.is_dir():
        print(f"no {data}: nothing to measure (the val photos are needed)", file=sys.stderr)
        return None
    return args, Predictor(args.model, threads=args.threads), data


def main(argv=None) -> int:
    if (opened := open_val(__doc__.splitlines()[0], argv, guard=True)) is None:
        return 0
    args, pred, data = opened
    guard = args.guard
    crops = sorted({pred.crop_of(lab) for lab in pred.labels if lab != pred.background_label})
    if guard is not None and guard not in crops:
        print(f"--guard {guard!r}: the model has no such crop; its crops: {', '.join(crops)}", file=sys.stderr)
        return 2
    if guard is None:
        print(f"{args.model} (model {pred.version}); gate: an ok answer with no crop given becomes uncertain when its "
              f"crop holds less than T")
    else:
        print(f"{args.model} (model {pred.version}); guard: an ok answer of another crop becomes uncertain while "
              f"{guard} holds at least R")
    show = report if guard is None else (lambda name, rows: report_guard(name, rows, guard))
    keep = guard is not None
    show("val photos as they are", val_rows(pred, data, Path(args.labels), args.limit, keep))
    import importlib.util
    if importlib.util.find_spec("torch") is None:  # FieldLikeDataset is the training code's
        print("\nfield-like photos: skipped (pip install -e '.[train]')")
        return 0
    show("field-like photos (finalize's threshold set: field val photos, lab leaves on field backgrounds)",
         field_like_rows(pred, data, Path(args.labels), args.limit, keep))
    return 0


if __name__ == "__main__":
    sys.exit(main())

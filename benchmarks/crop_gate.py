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

    python benchmarks/crop_gate.py --model model/leafscout.onnx
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from leafscout.model.labels import load_label_map  # noqa: E402
from leafscout.model.runtime import Predictor  # noqa: E402

GATES = (0.5, 0.55, 0.6, 0.65, 0.7)


def top_crop(d: dict) -> tuple[str | None, float]:
    scores = d.get("crop_scores") or []
    return (scores[0][0], float(scores[0][1])) if scores else (None, 0.0)


def rows_from(pred: Predictor, decisions, truths) -> list[tuple[bool, bool, bool, float, float]]:
    """(answered ok, right label, ok with another crop's label, top crop mass, calibrated confidence) per leaf
    photo; photos labelled `<crop>.other` (rice plants with insects) are left out, as in ood_eval.py."""
    out = []
    for d, truth in zip(decisions, truths):
        if d is None or pred.unnamed_problem(truth):  # `<crop>.other`: "uncertain" is its right answer
            continue
        ok = d["status"] == "ok"
        out.append((ok, ok and d["label"] == truth,
                    ok and pred.crop_of(d["label"]) != pred.crop_of(truth), top_crop(d)[1],
                    float(d.get("confidence") or 0.0)))
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


def val_rows(pred: Predictor, data: Path, labels_yaml: Path, limit: int | None):
    from leafscout.training.data import discover
    samples = [s for s in discover(str(data), None, "val", load_label_map(labels_yaml), pred.labels, limit, 0)
               if pred.labels[s.label] != pred.background_label]
    decisions = [None if r.status == "error" else
                 {"status": r.status, "label": r.label, "crop_scores": r.crop_scores, "confidence": r.confidence}
                 for r in pred.predict_many([s.path for s in samples], top_k=3)]
    return rows_from(pred, decisions, [pred.labels[s.label] for s in samples])


def field_like_rows(pred: Predictor, data: Path, labels_yaml: Path, limit: int | None):
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
    return rows_from(pred, decisions, truths)


def val_args(description: str, argv=None):
    """The options of a benchmark over the val photos (this one and confidence_bands.py), parsed."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--model", default=str(REPO / "model" / "leafscout.onnx"))
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--labels", default=str(REPO / "datasets" / "labels.yaml"))
    ap.add_argument("--limit", type=int, default=None, help="at most N photos per class")
    ap.add_argument("--threads", type=int, default=2)
    return ap.parse_args(argv)


def open_val(description: str, argv=None) -> tuple[argparse.Namespace, Predictor, Path] | None:
    """(the options, the model, the datasets folder), or None after saying why there is nothing to measure."""
    args = val_args(description, argv)
    data = Path(args.data)
    if not data.is_dir():
        print(f"no {data}: nothing to measure (the val photos are needed)", file=sys.stderr)
        return None
    return args, Predictor(args.model, threads=args.threads), data


def main(argv=None) -> int:
    if (opened := open_val(__doc__.splitlines()[0], argv)) is None:
        return 0
    args, pred, data = opened
    print(f"{args.model} (model {pred.version}); gate: an ok answer with no crop given becomes uncertain when its "
          f"crop holds less than T")
    report("val photos as they are", val_rows(pred, data, Path(args.labels), args.limit))
    import importlib.util
    if importlib.util.find_spec("torch") is None:  # FieldLikeDataset is the training code's
        print("\nfield-like photos: skipped (pip install -e '.[train]')")
        return 0
    report("field-like photos (finalize's threshold set: field val photos, lab leaves on field backgrounds)",
           field_like_rows(pred, data, Path(args.labels), args.limit))
    return 0


if __name__ == "__main__":
    sys.exit(main())

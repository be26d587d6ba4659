"""`leafscout evaluate`: the foundation metrics (top-1, macro-F1, per-class P/R) of the shipped runtime on
any labelled folder, plus how often it says "uncertain" or "not a leaf" on real leaves (target <= 2%).

It measures the deployed path (image gate + ONNX runtime), not the training code, and uses the numpy-only
`model.metrics` so it needs no torch.
"""
from __future__ import annotations

import difflib
import random
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from leafscout.model.imageio import IMAGE_SUFFIXES
from leafscout.model.labels import LabelMapError, load_label_map

SPLITS = ("train", "val", "valid", "validation", "test")


class EvaluationError(ValueError):
    """The folder cannot be evaluated as laid out; the message says how to fix it."""


def _subdirs(p: Path) -> list[Path]:
    return sorted(d for d in p.iterdir() if d.is_dir() and not d.name.startswith("."))


def discover(root: str | Path, labels: list[str], split: str = "val", dataset: str | None = None,
             limit: int | None = None, seed: int = 0, skipped: list | None = None) -> list[tuple[str, str, Path]]:
    """-> [(dataset, canonical label, photo path)] for <dataset>/<split>/<class>/, <dataset>/<class>/,
    <split>/<class>/ inside a dataset folder, or a folder holding several datasets. In a folder of datasets, a
    sub-folder that is no dataset of labels.yaml is not evaluated: it is added to `skipped` with the reason."""
    root = Path(root)
    if not root.is_dir():
        raise EvaluationError(f"{root} is not a folder; expected <dataset>/<split>/<class>/photos")
    label_map = load_label_map()
    children = _subdirs(root)
    known = [c for c in children if c.name in label_map.datasets]
    if dataset is None and known and not (root / split).is_dir():
        # a folder of datasets (e.g. ../shared/datasets); a folder not in labels.yaml is named in the report
        if skipped is not None:
            for c in children:
                if c.name not in label_map.datasets:
                    near = difflib.get_close_matches(c.name, label_map.datasets, n=1)
                    skipped.append({"folder": str(c), "reason": "not a dataset in labels.yaml"
                                    + (f" (did you mean '{near[0]}'?)" if near else "")
                                    + "; add it to datasets/labels.yaml (datasets/README.md), or evaluate it alone "
                                      f"with class folders named by label (crop.condition)"})
        return [s for c in known for s in discover(c, labels, split, c.name, limit, seed)]
    splits_here = [c.name for c in children if c.name in SPLITS]
    if splits_here and not (root / split).is_dir() and root.name not in SPLITS:
        near = difflib.get_close_matches(split, splits_here, n=1)
        raise EvaluationError(f"{root} has no '{split}' split folder (it has {', '.join(splits_here)}); pass "
                              + (f"--split {near[0]}" if near else "--split with one of them"))
    if (root / split).is_dir():
        name, class_root = dataset or root.name, root / split
    elif root.name in SPLITS:
        name, class_root = dataset or root.parent.name, root
    else:
        name, class_root = dataset or root.name, root
    rng = random.Random(seed)
    samples = []
    for class_dir in _subdirs(class_root):
        if label_map.skips(name, class_dir.name):
            continue
        if class_dir.name in labels:
            label = class_dir.name
        else:
            try:
                label = label_map.canonical(name, class_dir.name)
            except LabelMapError as exc:
                raise EvaluationError(f"{exc} (or pass --dataset NAME, or name the folder by its label)") from None
        if label not in labels:
            raise EvaluationError(f"{class_dir}: label '{label}' is not one the model knows; "
                                  f"see `leafscout info` for its labels")
        files = sorted(f for f in class_dir.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
        if limit:
            files = sorted(rng.sample(files, min(limit, len(files))))
        samples.extend((name, label, f) for f in files)
    if not samples:
        raise EvaluationError(f"no labelled photos under {class_root}; expected {class_root}/<class>/*.jpg"
                              + (f" (no '{split}' split folder; use --split)" if class_root == root else ""))
    return samples


def _summary(y_true, y_pred, statuses, labels) -> dict:
    from leafscout.model.metrics import classification_report
    rep = classification_report(np.asarray(y_true), np.asarray(y_pred), labels)
    counts = Counter(statuses)
    n = max(1, len(statuses))
    ok = [t == p for t, p, s in zip(y_true, y_pred, statuses) if s == "ok"]
    rep.update({
        "uncertain_share": counts["uncertain"] / n,
        "not_a_leaf_share": counts["not_a_leaf"] / n,
        "flagged_share": (counts["uncertain"] + counts["not_a_leaf"]) / n,
        "top1_when_ok": float(np.mean(ok)) if ok else 0.0,
    })
    return rep


def evaluate_folder(predictor, root, split: str = "val", dataset: str | None = None, limit: int | None = None,
                    tta: bool = False, progress: bool = False, per_photo: bool = False) -> dict:
    """Top-1, macro-F1, per-class figures and flagged shares per dataset and overall. With `per_photo`, also
    `per_photo`: {photo path: arg-max right} (to compare two models photo by photo)."""
    skipped: list[dict] = []
    samples = discover(root, predictor.labels, split, dataset, limit, skipped=skipped)
    index = {lab: i for i, lab in enumerate(predictor.labels)}
    rows, unreadable = [], []
    from tqdm import tqdm
    results = predictor.predict_many([s[2] for s in samples], top_k=1, tta=tta)
    for (ds, label, path), r in tqdm(zip(samples, results), total=len(samples), file=sys.stderr,
                                     disable=not progress or None, unit="photo"):
        if r.status == "error":
            unreadable.append({"path": str(path), "error": r.error})
            continue
        rows.append((ds, index[label], int(np.argmax(r.logits)), r.status, str(path)))
    report = {"model": predictor.version, "root": str(root), "split": split, "tta": tta,
              "unreadable": unreadable, "not_evaluated": skipped, "datasets": {}}
    for ds in sorted({r[0] for r in rows}):
        sub = [r for r in rows if r[0] == ds]
        report["datasets"][ds] = _summary([r[1] for r in sub], [r[2] for r in sub], [r[3] for r in sub],
                                          predictor.labels)
    report["overall"] = _summary([r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows], predictor.labels)
    if per_photo:
        report["per_photo"] = {r[4]: r[1] == r[2] for r in rows}
    return report


def format_report(report: dict) -> str:
    lines = [f"model {report['model']} on {report['root']} (split {report['split']}{', TTA' if report['tta'] else ''})"]
    for name, rep in [*report["datasets"].items(), ("OVERALL", report["overall"])]:
        lines.append("")
        lines.append(f"{name}: n={rep['n']}  top-1 {rep['top1']:.2%}  macro-F1 {rep['macro_f1']:.4f}  "
                     f"flagged {rep['flagged_share']:.1%} (uncertain {rep['uncertain_share']:.1%}, "
                     f"not a leaf {rep['not_a_leaf_share']:.1%})  top-1 when ok {rep['top1_when_ok']:.2%}")
        if name == "OVERALL" and len(report["datasets"]) > 1:
            continue
        lines.append(f"  {'class':38s} {'precision':>9s} {'recall':>7s} {'F1':>6s} {'n':>5s}")
        for lab, m in rep["per_class"].items():
            lines.append(f"  {lab:38s} {m['precision']:9.3f} {m['recall']:7.3f} {m['f1']:6.3f} {m['support']:5d}")
    if report.get("not_evaluated"):
        lines.append(f"\n{len(report['not_evaluated'])} folder(s) not evaluated:")
        lines.extend(f"  {s['folder']}: {s['reason']}" for s in report["not_evaluated"])
    if report["unreadable"]:
        lines.append(f"\n{len(report['unreadable'])} unreadable photo(s), not counted:")
        lines.extend(f"  {u['path']}: {u['error']}" for u in report["unreadable"][:20])
    return "\n".join(lines)

"""Per-dataset evaluation reports: metrics dict and a confusion-matrix PNG drawn with OpenCV alone."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from leafscout.model.metrics import classification_report, confusion


def per_dataset_report(logits: np.ndarray, targets: np.ndarray, datasets: list[str], labels: list[str],
                       dataset_labels: dict[str, list[str]]) -> dict:
    """Metrics for each dataset over its own classes; predictions are over the full label space."""
    preds = logits.argmax(1)
    ds_arr = np.asarray(datasets)
    index = {lab: i for i, lab in enumerate(labels)}
    report = {}
    for ds in sorted(set(datasets)):
        m = ds_arr == ds
        subset = [index[lab] for lab in dataset_labels[ds]]
        report[ds] = classification_report(targets[m], preds[m], labels, subset)
    return report


def confusion_png(y_true: np.ndarray, y_pred: np.ndarray, class_ids: list[int], labels: list[str],
                  path: str | Path, title: str) -> None:
    """Row-normalised confusion matrix over `class_ids` (+ one 'other' column for predictions outside)."""
    n = len(class_ids)
    pos = {c: i for i, c in enumerate(class_ids)}
    cm = np.zeros((n, n + 1), np.int64)
    for t, p in zip(y_true, y_pred):
        if t in pos:
            cm[pos[t], pos.get(p, n)] += 1
    rows = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    cell, left, top = 34, 260, 60
    h, w = top + cell * n + 20, left + cell * (n + 1) + 20
    img = np.full((h, w, 3), 255, np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(img, title, (10, 25), font, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    for i in range(n):
        name = labels[class_ids[i]][-34:]
        cv2.putText(img, name, (5, top + cell * i + 22), font, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
        for j in range(n + 1):
            v = rows[i, j]
            shade = int(255 * (1 - v))
            color = (255, shade, shade) if i != j else (shade, 255, shade)
            x0, y0 = left + cell * j, top + cell * i
            cv2.rectangle(img, (x0, y0), (x0 + cell - 1, y0 + cell - 1), color, -1)
            if cm[i, j]:
                cv2.putText(img, str(cm[i, j]), (x0 + 3, y0 + 22), font, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
    for j in range(n + 1):
        cv2.putText(img, str(j) if j < n else "oth", (left + cell * j + 8, top - 8), font, 0.38, (0, 0, 0), 1)
    cv2.imwrite(str(path), img)


def write_confusions(logits, targets, datasets, labels, dataset_labels, out_dir: Path) -> list[str]:
    out_dir.mkdir(parents=True, exist_ok=True)
    preds, ds_arr = logits.argmax(1), np.asarray(datasets)
    index = {lab: i for i, lab in enumerate(labels)}
    written = []
    for ds in sorted(set(datasets)):
        m = ds_arr == ds
        path = out_dir / f"confusion_{ds}.png"
        confusion_png(targets[m], preds[m], [index[x] for x in dataset_labels[ds]], labels, path,
                      f"{ds} val: rows = truth (row-normalised), cols = prediction")
        written.append(str(path))
    return written


__all__ = ["per_dataset_report", "confusion_png", "write_confusions", "confusion", "classification_report"]

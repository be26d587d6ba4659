"""Detection metrics (numpy, no torch): AP@IoU per class and class-agnostic, and the label accuracy of matched boxes.

AP is the area under the all-point interpolated precision-recall curve (PASCAL VOC 2010+ / COCO style, one IoU
threshold). Detections are matched greedily, highest score first, to the unmatched ground-truth box of highest
IoU >= `iou`; a second detection of the same insect is a false positive. Images with no ground truth count
(their detections are false positives).

"Label right for matched boxes": among detections matched class-agnostically (any label) to a ground-truth
box, the share whose label is the ground truth's: how often the detector names an insect it found correctly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leafscout.model.detect import box_iou


@dataclass
class ImageDets:
    boxes: np.ndarray   # [K,4]
    scores: np.ndarray  # [K]
    labels: np.ndarray  # [K] int
    gt_boxes: np.ndarray  # [M,4]
    gt_labels: np.ndarray  # [M] int


def average_precision(recall: np.ndarray, precision: np.ndarray) -> float:
    if recall.size == 0:
        return 0.0
    r = np.concatenate([[0.0], recall, [1.0]])
    p = np.concatenate([[0.0], precision, [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]
    i = np.where(r[1:] != r[:-1])[0]
    return float(np.sum((r[i + 1] - r[i]) * p[i + 1]))


def _match(images: list[ImageDets], cls: int | None, iou: float):
    """(scores, is_tp, n_gt) over all images for one class (None: class-agnostic)."""
    scores, tps, n_gt = [], [], 0
    for im in images:
        dm = np.ones(len(im.scores), bool) if cls is None else (im.labels == cls)
        gm = np.ones(len(im.gt_labels), bool) if cls is None else (im.gt_labels == cls)
        d_boxes, d_scores = im.boxes[dm], im.scores[dm]
        g_boxes = im.gt_boxes[gm]
        n_gt += len(g_boxes)
        order = np.argsort(-d_scores, kind="stable")
        taken = np.zeros(len(g_boxes), bool)
        ious = box_iou(d_boxes, g_boxes) if len(g_boxes) and len(d_boxes) else np.zeros((len(d_boxes), 0))
        for j in order:
            tp = False
            if ious.shape[1]:
                cand = np.where(~taken, ious[j], -1.0)
                k = int(cand.argmax())
                if cand[k] >= iou:
                    taken[k], tp = True, True
            scores.append(d_scores[j])
            tps.append(tp)
    return np.asarray(scores, np.float64), np.asarray(tps, bool), n_gt


def ap_for(images: list[ImageDets], cls: int | None, iou: float = 0.5) -> tuple[float, int]:
    scores, tps, n_gt = _match(images, cls, iou)
    if n_gt == 0:
        return float("nan"), 0
    order = np.argsort(-scores, kind="stable")
    tp = np.cumsum(tps[order])
    fp = np.cumsum(~tps[order])
    recall = tp / n_gt
    precision = tp / np.maximum(tp + fp, 1e-9)
    return average_precision(recall, precision), n_gt


def matched_label_accuracy(images: list[ImageDets], iou: float = 0.5) -> tuple[float, int]:
    """(share of class-agnostically matched detections whose label is right, number matched)."""
    right = n = 0
    for im in images:
        if not len(im.scores) or not len(im.gt_labels):
            continue
        ious = box_iou(im.boxes, im.gt_boxes)
        taken = np.zeros(len(im.gt_labels), bool)
        for j in np.argsort(-im.scores, kind="stable"):
            cand = np.where(~taken, ious[j], -1.0)
            k = int(cand.argmax())
            if cand[k] >= iou:
                taken[k] = True
                n += 1
                right += int(im.labels[j] == im.gt_labels[k])
    return (right / n if n else float("nan")), n


def detection_report(images: list[ImageDets], labels: list[str], iou: float = 0.5) -> dict:
    per_class = {}
    for c, lab in enumerate(labels):
        ap, n = ap_for(images, c, iou)
        per_class[lab] = {"ap": None if n == 0 else round(ap, 4), "boxes": n}
    present = [v["ap"] for v in per_class.values() if v["ap"] is not None]
    agnostic, n_gt = ap_for(images, None, iou)
    acc, n_matched = matched_label_accuracy(images, iou)
    n_det = int(sum(len(im.scores) for im in images))
    return {"iou": iou, "images": len(images), "gt_boxes": n_gt, "detections": n_det,
            "map": round(float(np.mean(present)), 4) if present else None,
            "ap_class_agnostic": round(agnostic, 4) if n_gt else None,
            "matched_label_accuracy": None if n_matched == 0 else round(acc, 4),
            "matched_boxes": n_matched, "per_class": per_class}

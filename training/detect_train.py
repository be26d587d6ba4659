"""Train the insect-pest detector (FCOS on EfficientNet-Lite0, model/detector_arch.py) on CPU.

    python -m leafscout.training.detect_train --data-root ../shared/datasets --output-dir runs/pests
    python -m leafscout.training.detect_train ... --resume runs/pests/checkpoint.pt      # continue from the exact step
    python -m leafscout.training.detect_train ... --resume runs/pests/checkpoint.pt --finalize-only

torchvision-reference layout: `get_args_parser`, `main`, `train_one_epoch`, `evaluate`; a checkpoint dict
(model, optimiser, epoch, step, elapsed seconds, args) after every epoch. The learning rate follows a cosine
over training progress, where progress is the larger of steps done / planned steps and elapsed time / the
time limit: a run stopped by `--time-limit-min` has finished its schedule, not been cut in the middle of it.

Data: rice_pest train photos (YOLO boxes, classes mapped by `detection.rice_pest` of datasets/labels.yaml) with
LVIS-style repeat factors for rare insects, plus leaf photos without insects from the classifier datasets'
TRAIN splits as empty images (`--negatives` per epoch, spread over the datasets). Never a val photo.

After training (`finalize`): AP@0.5 per class and class-agnostic and the matched-label accuracy on rice_pest val;
the score threshold chosen so that at least `--leaf-clean-target` of the leaf photos of the classifier datasets'
VAL splits yield no detection; export to ONNX (labels, input size, mean/std, thresholds, NMS IoU in the metadata)
verified against PyTorch on real photos; `report.json` with all of it. Copy `pests.onnx` to model/ to ship it.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

from leafscout.model.detect import LEAF_LABEL, PAD_VALUE, Detector, normalize, postprocess
from leafscout.model.detect_metrics import ImageDets, detection_report
from leafscout.model.preprocess import LITE_MEAN, LITE_STD
from leafscout.training.detect_data import (DetectionSet, Item, Scenes, detection_labels, leaf_negatives, load_rgb,
                                  repeat_factors, rice_pest_items, sample_per_dataset)

log = logging.getLogger("leafscout.detect_train")
EVAL_SCORE_FLOOR = 0.05  # detections below this are dropped before AP (as torchvision's FCOS does)


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Train the rice insect-pest detector (FCOS on EfficientNet-Lite0)")
    p.add_argument("--data-root", default="../shared/datasets", help="folder holding rice_pest/ and the leaf datasets")
    p.add_argument("--dataset", default="rice_pest", help="the detection dataset (YOLO layout) under --data-root")
    p.add_argument("--output-dir", default="runs/pests")
    p.add_argument("--input-size", type=int, default=320, help="square letterboxed input side (px)")
    p.add_argument("--fpn-channels", type=int, default=64)
    p.add_argument("--head-convs", type=int, default=2, help="convolutions per FCOS head branch")
    p.add_argument("--freeze-blocks", type=int, default=3, help="freeze the stem and this many early Lite0 blocks")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--warmup-steps", type=int, default=60)
    p.add_argument("--negatives", type=int, default=160, help="leaf photos without insects per epoch (train split)")
    p.add_argument("--hard-negatives", nargs="*", default=[], metavar="DATASET",
                   help="datasets whose TRAIN photos (no insects) are drawn again each epoch, on top of --negatives: "
                        "the scenes a detector mistakes for insects, e.g. rice_leaf_ph (rice plants with no insect)")
    p.add_argument("--hard-negatives-per-epoch", type=int, default=40, help="with --hard-negatives: photos per epoch")
    p.add_argument("--repeat-threshold", type=float, default=0.2, help="LVIS repeat-factor threshold (0: off)")
    p.add_argument("--time-limit-min", type=float, default=0.0, help="stop training after this many minutes "
                   "(the LR schedule ends with it); 0: no limit")
    p.add_argument("--eval-every", type=int, default=5, help="evaluate on val every N epochs (0: only at the end)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: leave the default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-steps", type=int, default=None, help="stop after N optimiser steps (smoke tests)")
    p.add_argument("--limit-images", type=int, default=None, help="use at most N train and N val photos (smoke tests)")
    p.add_argument("--no-pretrained", action="store_true", help="random backbone weights (tests)")
    p.add_argument("--leaves", action="store_true",
                   help="a scene detector: also find leaves (class plant.leaf), learned from synthetic scenes of lab "
                        "leaves (training/scene_synth.py) and lab photos boxed by the locator")
    p.add_argument("--scenes-per-epoch", type=int, default=240, help="with --leaves: synthetic scenes per epoch")
    p.add_argument("--lab-leaves-per-epoch", type=int, default=120,
                   help="with --leaves: lab photos per epoch, their leaf boxed from the locator's mask")
    p.add_argument("--nothing-per-epoch", type=int, default=40,
                   help="with --leaves: synthetic photos of no plant per epoch (no leaf, no insect)")
    p.add_argument("--cutouts", type=int, default=1500, help="with --leaves: leaf cut-outs from lab TRAIN photos")
    p.add_argument("--val-scenes", type=int, default=150,
                   help="with --leaves: synthetic scenes from lab VAL leaves to score leaf boxes")
    p.add_argument("--init-from", default="", help="start from a shipped detector's weights (an .onnx such as "
                   "model/pests.onnx; new optimiser and schedule): the classes both label lists share keep their "
                   "rows, a new class (plant.leaf with --leaves) starts fresh")
    p.add_argument("--leaf-branch-levels", type=int, default=0, metavar="K",
                   help="with --leaves and --init-from: learn the leaf in a branch of its own on the K coarsest pyramid "
                        "levels (4: P4-P7) while the shipped backbone, pyramid and insect head stay frozen, so the "
                        "insects are found exactly as before; only leaf-teaching photos are drawn")
    p.add_argument("--leaf-branch-own-blocks", type=int, default=None, metavar="N",
                   help="with --leaf-branch-levels: the branch also gets a pyramid of its own and its own copy of the "
                        "last N backbone blocks (0: the pyramid only), both starting from the shipped detector's and "
                        "trained, on the shared frozen backbone")
    p.add_argument("--resume", default="", help="checkpoint.pt to continue from")
    p.add_argument("--finalize-only", action="store_true", help="with --resume: skip training, only finalize")
    p.add_argument("--no-finalize", action="store_true", help="train only")
    # finalize
    p.add_argument("--nms-iou", type=float, default=0.5)
    p.add_argument("--leaf-clean-target", type=float, default=0.97,
                   help="share of leaf val photos that must yield no detection (the product promise is 0.95)")
    p.add_argument("--leaf-val-limit", type=int, default=0, help="at most N leaf val photos per dataset (0: all)")
    p.add_argument("--min-threshold", type=float, default=0.2, help="never ship a score threshold below this")
    p.add_argument("--model-version", default="0.1.0")
    return p


# ---------------------------------------------------------------------------------------------- data

def collate(batch, num_classes: int = 0, leaf_class: int | None = None):
    """Normalised NCHW batch and torchvision targets; a photo whose leaves are not boxed gets
    `ignore_classes` marking the leaf class (model.detector_arch.MaskedFCOSHead)."""
    imgs = np.stack([b[0] for b in batch])
    x = (imgs.astype(np.float32) / 255.0 - np.asarray(LITE_MEAN, np.float32)) / np.asarray(LITE_STD, np.float32)
    x = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
    targets = []
    for b in batch:
        t = {"boxes": torch.from_numpy(np.asarray(b[1], np.float32).reshape(-1, 4)),
             "labels": torch.from_numpy(np.asarray(b[2], np.int64).reshape(-1))}
        if leaf_class is not None and len(b) > 3 and b[3]:
            ignore = torch.zeros(num_classes, dtype=torch.bool)
            ignore[leaf_class] = True
            t["ignore_classes"] = ignore
        targets.append(t)
    return x, targets


def epoch_items(positives, factors, negatives, n_neg: int, seed: int, epoch: int, lab_leaves=(), n_lab: int = 0,
                n_scenes: int = 0, n_nothing: int = 0, hard=(), n_hard: int = 0):
    """This epoch's list: each positive photo floor(r) or ceil(r) times (stochastic rounding of its repeat
    factor), plus `n_neg` leaf photos drawn without replacement, `n_hard` more from the hard negatives `hard`
    (a photo may then come twice in one epoch), `n_lab` lab photos whose leaf is boxed and `n_scenes`
    synthetic scenes (a fresh seed each), shuffled; deterministic per (seed, epoch)."""
    rng = random.Random(seed * 1000 + epoch)
    items = []
    for it, r in zip(positives, factors):
        items.extend([it] * (int(r) + (rng.random() < r - int(r))))
    if negatives and n_neg:
        items.extend(rng.sample(negatives, min(n_neg, len(negatives))))
    if hard and n_hard:
        items.extend(rng.sample(list(hard), min(n_hard, len(hard))))
    if lab_leaves and n_lab:
        items.extend(rng.sample(lab_leaves, min(n_lab, len(lab_leaves))))
    items.extend(Item("", source="scene", scene=(seed * 1000 + epoch) * 100_000 + k) for k in range(n_scenes))
    items.extend(Item("", source="nothing", nothing=(seed * 1000 + epoch) * 100_000 + k) for k in range(n_nothing))
    rng.shuffle(items)
    return items


def lr_at(progress: float, step: int, args) -> float:
    warm = min(1.0, (step + 1) / max(1, args.warmup_steps))
    return args.lr * warm * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


# ---------------------------------------------------------------------------------------------- train / eval

def train_one_epoch(model, optimizer, items, args, state, planned_steps: int, start_time: float, scenes=None):
    """One pass over `items`; updates `state` (step, elapsed). Returns mean losses, or None when stopped."""
    model.train()
    ds = DetectionSet(items, args.input_size, train=True, scenes=scenes)
    leaf_class = scenes.leaf_class if scenes is not None else None
    loader = torch.utils.data.DataLoader(ds, batch_size=args.batch_size, shuffle=False, num_workers=0,
                                         collate_fn=lambda b: collate(b, model.num_classes, leaf_class),
                                         drop_last=True)
    sums, n, t0 = {}, 0, time.time()
    for x, targets in loader:
        elapsed = state["elapsed"] + (time.time() - start_time)
        progress = state["step"] / max(1, planned_steps)
        if args.time_limit_min:
            progress = max(progress, elapsed / (args.time_limit_min * 60))
        if progress >= 1.0 or (args.max_steps and state["step"] >= args.max_steps):
            state["stopped"] = True
            break
        lr = lr_at(progress, state["step"], args)
        for g in optimizer.param_groups:
            g["lr"] = lr
        x = x.contiguous(memory_format=torch.channels_last)
        losses = model(x, targets)
        loss = sum(losses.values())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 10.0)
        optimizer.step()
        state["step"] += 1
        for k, v in losses.items():
            sums[k] = sums.get(k, 0.0) + float(v.detach())
        n += 1
        if state["step"] % 10 == 0:
            log.info("step %d lr %.2e loss %.3f (%s) %.2f s/step", state["step"], lr, float(loss.detach()),
                     " ".join(f"{k} {float(v.detach()):.3f}" for k, v in losses.items()),
                     (time.time() - t0) / n)
    return {k: v / max(1, n) for k, v in sums.items()}, n


@torch.no_grad()
def predict_raw(model, items, size: int, batch_size: int = 16, scenes=None):
    """Letterboxed eval pass: per item (scores [A,C], boxes [A,4], gt boxes, gt labels) in input pixels."""
    model.eval()
    ds = DetectionSet(items, size, train=False, scenes=scenes)
    out = []
    for i in range(0, len(ds), batch_size):
        batch = [ds[j] for j in range(i, min(len(ds), i + batch_size))]
        x, _ = collate(batch)
        s, b = model.raw(x.contiguous(memory_format=torch.channels_last))
        for k, (img, gb, gl, _) in enumerate(batch):
            out.append((s[k].numpy(), b[k].numpy(), gb, gl))
    return out


def dets_at(raw, threshold, nms_iou: float, classes: list[int] | None = None) -> list[ImageDets]:
    """Detections per image at `threshold` (a float or one per class). With `classes`, only those classes'
    scores are looked at (as the runtime's insect path does) and the rest never become boxes."""
    res = []
    for s, b, gb, gl in raw:
        if classes is not None:
            masked = np.zeros_like(s)
            masked[:, classes] = s[:, classes]
            s = masked
        bb, ss, cc = postprocess(s, b, threshold, nms_iou)
        res.append(ImageDets(bb, ss, cc, np.asarray(gb, np.float32).reshape(-1, 4), np.asarray(gl, np.int64)))
    return res


def evaluate(model, items, labels, args, threshold: float = EVAL_SCORE_FLOOR) -> dict:
    """Insect metrics on the rice_pest val photos: leaf boxes, if the detector finds leaves, are not insects."""
    raw = predict_raw(model, items, args.input_size)
    insects = [i for i, lab in enumerate(labels) if lab != LEAF_LABEL]
    return detection_report(dets_at(raw, threshold, args.nms_iou, insects), [labels[i] for i in insects])


def evaluate_leaves(model, items, labels, args, scenes, threshold: float = EVAL_SCORE_FLOOR) -> dict:
    """Leaf-box AP@0.5 on synthetic scenes of VAL leaves and lab VAL photos boxed by the locator."""
    raw = predict_raw(model, items, args.input_size, scenes=scenes.val or scenes)
    leaf = labels.index(LEAF_LABEL)
    raw = [(s, b, gb, np.zeros(len(gl), np.int64)) for s, b, gb, gl in raw]  # one class: the leaf
    rep = detection_report(dets_at(raw, threshold, args.nms_iou, [leaf]), [LEAF_LABEL])
    return {"ap": rep["ap_class_agnostic"], "gt_boxes": rep["gt_boxes"], "images": rep["images"]}


# ---------------------------------------------------------------------------------------------- finalize

def leaf_max_scores(det: Detector, items, classes: list[int] | None = None) -> list[tuple[str, float]]:
    """For each leaf val photo, through the shipped runtime path (gate, letterbox, ONNX): the highest score any
    location gives a box (of at least 1 px) of `classes` (all when None): the photo yields such a detection at
    threshold t iff this is >= t."""
    out = []
    for it in items:
        try:
            rgb, _, _ = det.load(it.path)
        except Exception:
            continue
        x, _ = det.prepare(rgb)
        s, b = det.infer(x[None])
        s = s[0] if classes is None else s[0][:, classes]
        wh = b[0][:, 2:] - b[0][:, :2]
        ok = wh.min(1) >= 1.0
        out.append((it.source, float(s[ok].max()) if ok.any() else 0.0))
    return out


def choose_threshold(max_scores: list[float], target: float, floor: float) -> float:
    """Smallest threshold (rounded up to 0.01) at which at least `target` of the leaf photos yield nothing."""
    m = np.sort(np.asarray(max_scores, np.float64))
    if not len(m):
        return floor
    k = int(math.ceil(target * len(m))) - 1  # photos 0..k must be below the threshold
    t = math.floor(m[min(k, len(m) - 1)] * 100 + 1) / 100.0
    return float(max(floor, min(t, 0.99)))


def set_metadata(path: Path, updates: dict[str, str]) -> None:
    import onnx
    proto = onnx.load(str(path))
    existing = {p.key: p for p in proto.metadata_props}
    for k, v in updates.items():
        if k in existing:
            existing[k].value = v
        else:
            e = proto.metadata_props.add()
            e.key, e.value = k, v
    onnx.save(proto, str(path))


def leaf_threshold(model, leaf_val, labels, args, scenes) -> tuple[float, dict]:
    """The leaf class's score threshold: the one with the best F1 of leaf boxes (IoU 0.5) on the leaf val
    items, never below --min-threshold; and precision / recall at a few thresholds for the report."""
    from leafscout.model.detect_metrics import _match
    raw = predict_raw(model, leaf_val, args.input_size, scenes=scenes.val or scenes)
    leaf = labels.index(LEAF_LABEL)
    raw = [(s, b, gb, np.zeros(len(gl), np.int64)) for s, b, gb, gl in raw]
    table, best = {}, (-1.0, args.min_threshold)
    for t in np.arange(max(0.1, args.min_threshold), 0.91, 0.05):
        sc, tp, n_gt = _match(dets_at(raw, float(t), args.nms_iou, [leaf]), None, 0.5)
        prec = float(tp.mean()) if len(tp) else 0.0
        rec = float(tp.sum() / n_gt) if n_gt else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        table[f"{t:.2f}"] = {"precision": round(prec, 4), "recall": round(rec, 4), "f1": round(f1, 4)}
        if f1 > best[0]:
            best = (f1, round(float(t), 2))
    return best[1], table


def finalize(model, labels, val_items, args, out_dir: Path, train_info: dict, scenes=None, leaf_val=(),
             insect_threshold: float | None = None) -> dict:
    """Metrics, export and thresholds (module docstring). `insect_threshold`: keep this insect score threshold
    (a leaf branch next to a shipped detector's frozen insects) instead of choosing one on the leaf photos."""
    from leafscout.model.detector_arch import detector_metadata, export_detector

    t0 = time.time()
    report = {"labels": labels, "input_size": args.input_size, "train": train_info}
    raw = predict_raw(model, val_items, args.input_size)
    insects = [i for i, lab in enumerate(labels) if lab != LEAF_LABEL]
    report["val_all_scores"] = detection_report(dets_at(raw, EVAL_SCORE_FLOOR, args.nms_iou, insects),
                                                [labels[i] for i in insects])
    # export (threshold set below once chosen), verified against torch on real val photos
    check = np.stack([normalize(DetectionSet(val_items[:12], args.input_size, False)[i][0], LITE_MEAN, LITE_STD)
                      for i in range(min(12, len(val_items)))])
    meta = detector_metadata(labels, args.input_size, LITE_MEAN, LITE_STD, args.min_threshold, {}, args.nms_iou,
                             args.model_version, PAD_VALUE,
                             extra={"dataset": args.dataset, "trained_on": "rice_pest train + leaf photos (train splits)"
                                    + (" + synthetic scenes of lab train leaves" if LEAF_LABEL in labels else "")})
    onnx_path = out_dir / "pests.onnx"
    report["export"] = export_detector(model, onnx_path, meta, check)
    det = Detector(onnx_path, threads=args.threads or None)
    # the leaf photos of the classifier datasets' VAL splits: how many yield a detection at each threshold
    leaves = leaf_negatives(args.data_root, "val")
    if args.leaf_val_limit:
        leaves = sample_per_dataset(leaves, args.leaf_val_limit * len({i.source for i in leaves}), args.seed)
    scored = leaf_max_scores(det, leaves, insects)
    maxes = [s for _, s in scored]
    thr = (insect_threshold if insect_threshold is not None
           else choose_threshold(maxes, args.leaf_clean_target, args.min_threshold))
    updates = {"leafscout.score_threshold": repr(thr)}
    if LEAF_LABEL in labels:
        leaf_thr, leaf_table = leaf_threshold(model, list(leaf_val), labels, args, scenes)
        updates["leafscout.class_score_thresholds"] = json.dumps({LEAF_LABEL: leaf_thr})
        report["leaves"] = {"score_threshold": leaf_thr, "val_items": len(leaf_val),
                            "ap_all_scores": evaluate_leaves(model, list(leaf_val), labels, args, scenes),
                            "by_threshold": leaf_table}
    set_metadata(onnx_path, updates)
    det = Detector(onnx_path, threads=args.threads or None)
    by_ds = {}
    for src, s in scored:
        by_ds.setdefault(src, []).append(s)
    report["score_threshold"] = thr
    report["leaf_val"] = {
        "photos": len(maxes), "target_clean_share": args.leaf_clean_target,
        "clean_share": round(float(np.mean(np.asarray(maxes) < thr)), 4) if maxes else None,
        "per_dataset": {k: {"photos": len(v), "clean_share": round(float(np.mean(np.asarray(v) < thr)), 4)}
                        for k, v in sorted(by_ds.items())},
        "clean_share_by_threshold": {f"{t:.2f}": round(float(np.mean(np.asarray(maxes) < t)), 4)
                                     for t in np.arange(0.1, 0.95, 0.05)} if maxes else {}}
    # rice_pest val through the ONNX runtime at the shipped threshold (what `diagnose --json` gives), and the
    # trade-off at other thresholds
    onnx_raw = []
    for it in val_items:
        rgb, _, _ = det.load(it.path)
        x, lb = det.prepare(rgb)
        s, b = det.infer(x[None])
        gb = it.boxes.astype(np.float64).copy()
        gb[:, [0, 2]] = gb[:, [0, 2]] * lb.scale + lb.pad_x
        gb[:, [1, 3]] = gb[:, [1, 3]] * lb.scale + lb.pad_y
        onnx_raw.append((s[0], b[0], gb, it.labels))
    ilabels = [labels[i] for i in insects]
    report["val_onnx_all_scores"] = detection_report(dets_at(onnx_raw, EVAL_SCORE_FLOOR, args.nms_iou, insects),
                                                     ilabels)
    report["val_at_threshold"] = detection_report(dets_at(onnx_raw, thr, args.nms_iou, insects), ilabels)
    report["val_by_threshold"] = {
        f"{t:.2f}": {k: v for k, v in detection_report(dets_at(onnx_raw, float(t), args.nms_iou, insects),
                                                       ilabels).items()
                     if k in ("ap_class_agnostic", "map", "matched_label_accuracy", "detections")}
        for t in np.arange(0.1, 0.95, 0.05)}
    report["finalize_seconds"] = round(time.time() - t0, 1)
    report["model_version"] = args.model_version
    (out_dir / "report.json").write_text(json.dumps(report, indent=2))
    log.info("threshold %.2f: leaf val clean %.3f; val AP@0.5 agnostic %.3f (all scores %.3f), mAP %.3f, label right %.3f",
             thr, report["leaf_val"]["clean_share"] or 0, report["val_at_threshold"]["ap_class_agnostic"] or 0,
             report["val_onnx_all_scores"]["ap_class_agnostic"] or 0, report["val_at_threshold"]["map"] or 0,
             report["val_at_threshold"]["matched_label_accuracy"] or 0)
    return report


# ---------------------------------------------------------------------------------------------- main

def scene_data(args, leaf_class: int, negatives):
    """What --leaves adds: (Scenes, insect negatives: the field photos, leaf class ignored, lab TRAIN photos to
    box by the locator (insect negatives too), leaf val items). A lab photo is never an empty image here: its
    leaf would be taught as background. Cut-outs come from lab TRAIN photos only, val scenes from lab VAL photos only;
    the backdrops' foliage from the field sets' TRAIN photos for both (a backdrop, not a thing to find)."""
    from leafscout.training.presets import LAB_DATASETS
    from leafscout.training.scene_synth import cut_leaf

    from leafscout.model.labels import load_label_map
    lm = load_label_map()

    def no_leaf(it):  # PlantVillage's photos of backgrounds without leaves
        return lm.datasets.get(it.source, {}).get(Path(it.path).parent.name) == lm.background_label

    lab = [it for it in negatives if it.source in LAB_DATASETS and not no_leaf(it)]
    field = [it for it in negatives if it.source not in LAB_DATASETS]
    for it in field:
        it.ignore_leaf = True
    field += [it for it in negatives if no_leaf(it)]  # nothing to find there, leaf or insect
    lab_leaves = [Item(it.path, source=it.source, leaf_box=True) for it in lab]

    def cutouts_of(items, n, seed):
        out = []
        for it in sample_per_dataset(items, n, seed):
            rgb = load_rgb(it.path)
            c = cut_leaf(rgb, it.source) if rgb is not None else None
            if c is not None:
                out.append(c)
        return out

    t0 = time.time()
    cutouts = cutouts_of(lab, args.cutouts, args.seed)
    foliage = [load_rgb(it.path) for it in sample_per_dataset(field, 300, args.seed)]
    foliage = [f for f in foliage if f is not None]
    scenes = Scenes(cutouts, foliage, leaf_class)
    val_lab = [it for it in leaf_negatives(args.data_root, "val") if it.source in LAB_DATASETS and not no_leaf(it)]
    val_scenes = Scenes(cutouts_of(val_lab, max(200, args.val_scenes * 2), args.seed + 1), foliage, leaf_class)
    leaf_val = [Item("", source="scene", scene=10 ** 9 + k) for k in range(args.val_scenes)]
    leaf_val += [Item(it.path, source=it.source, leaf_box=True)
                 for it in sample_per_dataset(val_lab, args.val_scenes, args.seed)]
    scenes.val = val_scenes
    log.info("scene data: %d leaf cut-outs (lab train), %d foliage backdrops, %d field photos (leaf loss off) and "
             "photos of no leaf, %d lab photos to box, %d leaf val items; %.0f s", len(cutouts), len(foliage), len(field),
             len(lab_leaves), len(leaf_val), time.time() - t0)
    return scenes, field, lab_leaves, leaf_val


def save_checkpoint(path: Path, model, optimizer, epoch: int, state: dict, args, labels, history) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch,
                "step": state["step"], "elapsed": state["elapsed"], "args": vars(args), "labels": labels,
                "model_config": model.config, "history": history}, tmp)
    os.replace(tmp, path)


def main(args) -> dict | None:
    from leafscout.model.detector_arch import build

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    out_dir = Path(args.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    root = Path(args.data_root) / args.dataset
    labels, index = detection_labels(args.dataset)
    if args.leaves:
        labels = labels + [LEAF_LABEL]  # insect classes keep their indices; the leaf is the last class
    train_items = rice_pest_items(root, "train", index)
    val_items = rice_pest_items(root, "val", index)
    if args.limit_images:
        train_items, val_items = train_items[:args.limit_images], val_items[:args.limit_images]
    if args.leaf_branch_levels and not (args.leaves and args.init_from):
        raise SystemExit("--leaf-branch-levels needs --leaves and --init-from model/pests.onnx: the branch learns "
                         "leaves next to a shipped detector's frozen insects")
    if args.leaf_branch_own_blocks is not None and not args.leaf_branch_levels:
        raise SystemExit("--leaf-branch-own-blocks needs --leaf-branch-levels K (the levels the branch's head uses)")
    negatives = leaf_negatives(args.data_root, "train")
    scenes, lab_leaves, leaf_val = None, [], []
    if args.leaves:
        scenes, negatives, lab_leaves, leaf_val = scene_data(args, labels.index(LEAF_LABEL), negatives)
        for it in train_items:  # rice plants around the insects: leaves nobody boxed, not background
            it.ignore_leaf = True
    if args.leaf_branch_levels:
        # the insect path is frozen: only photos that teach the leaf something are worth a pass
        train_items = [it for it in train_items if not it.ignore_leaf]
        negatives = [it for it in negatives if not it.ignore_leaf]
    log.info("%d train photos (%d boxes), %d val photos (%d boxes), %d leaf photos without insects (train splits)",
             len(train_items), sum(len(i.labels) for i in train_items), len(val_items),
             sum(len(i.labels) for i in val_items), len(negatives))
    hard = [it for it in negatives if it.source in set(args.hard_negatives)]
    missing = sorted(set(args.hard_negatives) - {it.source for it in hard})
    if missing:
        raise SystemExit(f"--hard-negatives {' '.join(missing)}: no TRAIN photos of that dataset among the insect-free "
                         f"photos; pick from {', '.join(sorted({it.source for it in negatives}))}")
    n_hard = args.hard_negatives_per_epoch if hard else 0
    factors = (repeat_factors(train_items, len(labels), args.repeat_threshold) if args.repeat_threshold
               else np.ones(len(train_items)))

    model = build(len(labels), args.input_size, args.fpn_channels, args.head_convs, pretrained=not args.no_pretrained,
                  leaf_levels=args.leaf_branch_levels, leaf_own_blocks=args.leaf_branch_own_blocks)
    insect_threshold = None
    if args.leaf_branch_levels:  # the insects stay the shipped ones, and so does their threshold
        from leafscout.model.export import read_metadata
        insect_threshold = float(read_metadata(args.init_from)["score_threshold"])
    if args.init_from and not args.resume:
        from leafscout.model.onnx_weights import load_detector_onnx_weights
        if not Path(args.init_from).is_file():
            raise SystemExit(f"--init-from {args.init_from}: no such file; pass a LeafScout detector .onnx "
                             f"(e.g. model/pests.onnx)")
        head_labels = labels[:-1] if args.leaf_branch_levels else labels
        try:
            rows = load_detector_onnx_weights(model, args.init_from, head_labels)
        except ValueError as exc:
            raise SystemExit(f"--init-from {exc}") from None
        if args.leaf_branch_levels:
            rows["new"].append(LEAF_LABEL + f" (own branch on the {args.leaf_branch_levels} coarsest levels)")
        if args.leaf_branch_own_blocks is not None:
            model.copy_leaf_branch()  # the branch's pyramid and blocks start as the loaded insect path's
            rows["new"].append(f"the branch's own pyramid and last {args.leaf_branch_own_blocks} block(s), "
                               f"copied from {args.init_from}")
        log.info("--init-from %s: kept the backbone, pyramid, heads and %d class row(s); new: %s; dropped: %s",
                 args.init_from, len(rows["kept"]), ", ".join(rows["new"]) or "none", ", ".join(rows["dropped"]) or "none")
    model.backbone.freeze(args.freeze_blocks)
    model = model.to(memory_format=torch.channels_last)
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    state = {"step": 0, "elapsed": 0.0, "stopped": False}
    start_epoch, history = 0, []
    if args.resume:
        from leafscout.training.loop import read_checkpoint
        ckpt = read_checkpoint(args.resume, "--resume")
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        start_epoch, history = ckpt["epoch"] + 1, ckpt.get("history", [])
        state.update(step=ckpt["step"], elapsed=ckpt["elapsed"])
        log.info("resumed from %s: epoch %d, step %d, %.1f min trained", args.resume, start_epoch, state["step"],
                 state["elapsed"] / 60)
    extra = (min(args.lab_leaves_per_epoch, len(lab_leaves)) + args.scenes_per_epoch + args.nothing_per_epoch
             if args.leaves else 0)
    steps_per_epoch = max(1, int((factors.sum() + min(args.negatives, len(negatives)) + min(n_hard, len(hard)) + extra)
                                 // args.batch_size))
    planned = steps_per_epoch * args.epochs
    if not args.finalize_only:
        for epoch in range(start_epoch, args.epochs):
            items = epoch_items(train_items, factors, negatives, args.negatives, args.seed, epoch, lab_leaves,
                                args.lab_leaves_per_epoch if args.leaves else 0,
                                args.scenes_per_epoch if args.leaves else 0,
                                args.nothing_per_epoch if args.leaves else 0, hard, n_hard)
            t0 = time.time()
            losses, n = train_one_epoch(model, optimizer, items, args, state, planned, t0, scenes)
            if args.max_steps and state["step"] >= args.max_steps:
                state["stopped"] = True
            if n == 0 and state["stopped"]:
                break
            rec = {"epoch": epoch, "step": state["step"], "steps": n, **{k: round(v, 4) for k, v in losses.items()}}
            last = state["stopped"] or epoch == args.epochs - 1
            if args.eval_every and ((epoch + 1) % args.eval_every == 0 or last):
                ev = evaluate(model, val_items, labels, args)
                rec.update(val_ap_agnostic=ev["ap_class_agnostic"], val_map=ev["map"],
                           val_label_right=ev["matched_label_accuracy"])
                if args.leaves:
                    rec["val_leaf_ap"] = evaluate_leaves(model, leaf_val, labels, args, scenes)["ap"]
            state["elapsed"] += time.time() - t0  # evaluation counts against the time limit too
            rec["minutes"] = round(state["elapsed"] / 60, 2)
            history.append(rec)
            with open(out_dir / "history.jsonl", "a") as f:
                f.write(json.dumps(rec) + "\n")
            log.info("epoch %d: %s", epoch, rec)
            save_checkpoint(out_dir / "checkpoint.pt", model, optimizer, epoch, state, args, labels, history)
            if state["stopped"]:
                break
    if args.no_finalize:
        return None
    train_info = {"epochs_done": len(history), "steps": state["step"], "minutes": round(state["elapsed"] / 60, 1),
                  "threads": torch.get_num_threads(), "train_photos": len(train_items),
                  "train_boxes": int(sum(len(i.labels) for i in train_items)),
                  "leaf_negatives_pool": len(negatives), "negatives_per_epoch": args.negatives,
                  "hard_negatives": {"datasets": list(args.hard_negatives), "photos": len(hard),
                                     "per_epoch": min(n_hard, len(hard))},
                  "repeat_factors": {"max": round(float(factors.max()), 2) if len(factors) else None,
                                     "mean": round(float(factors.mean()), 2) if len(factors) else None},
                  "args": {k: v for k, v in vars(args).items()}, "history": history}
    return finalize(model, labels, val_items, args, out_dir, train_info, scenes, leaf_val, insect_threshold)


if __name__ == "__main__":
    from leafscout.model.labels import LabelMapError
    from leafscout.training.data import DataError
    from leafscout.training.detect_data import DetectDataError
    try:
        main(get_args_parser().parse_args())
    except (DetectDataError, DataError, LabelMapError) as exc:  # each says what to change: one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)

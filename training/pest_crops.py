"""The pest labeler: names each insect the detector boxed, from a crop of the photo at full resolution.

The detector's own class head sees a 384-px photo through 64-channel pyramid features, and mostly learned where
insects are, not which: on rice_pest val it found boxes well and named them poorly (big boxes went to the leaf
folder, whose training set has whole-photo boxes). This second stage is the classifier the project already has,
EfficientNet-Lite0 with its ImageNet weights, trained on crops of the ground-truth boxes (with the box jittered
the way a detector's boxes are off, and some context around it) and run on each detected box at run time.

    python -m leafscout.training.pest_crops --data-root ../shared/datasets --output-dir runs/pests_labeler

Writes `checkpoint.pt`, `report.json` (val crop accuracy per class) and `pests_labeler.onnx` (verified against
PyTorch on real crops). model/detect.py uses it when it lies next to the detector as `pests_labeler.onnx`.

With `--hard-negatives-from runs/pests/pests.onnx` the labeler also learns a class `none.no_insect` from the
trained detector's false alarms on TRAIN photos (rice_pest train boxes that miss every insect, and anything it
boxes on leaf photos of the classifier datasets' train splits), so at run time it can also drop a box that holds
no insect (a second look, as two-stage detectors take).
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from torch import nn

from leafscout.model.detect import NO_INSECT, Detector, box_iou, crop_box, normalize
from leafscout.model.preprocess import LITE_MEAN, LITE_STD, PreprocessConfig
from leafscout.training.detect_data import detection_labels, load_rgb, rice_pest_items

log = logging.getLogger("leafscout.pest_crops")


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Train the pest labeler (Lite0 on box crops)")
    p.add_argument("--data-root", default="../shared/datasets")
    p.add_argument("--dataset", default="rice_pest")
    p.add_argument("--output-dir", default="runs/pests_labeler")
    p.add_argument("--size", type=int, default=128, help="crop side fed to the network")
    p.add_argument("--context", type=float, default=0.15, help="context around the box, share of its size per side")
    p.add_argument("--epochs", type=int, default=14)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.02)
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--balance-power", type=float, default=0.5, help="sample weight = class count ** -power")
    p.add_argument("--freeze-blocks", type=int, default=3)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--no-pretrained", action="store_true")
    p.add_argument("--limit-images", type=int, default=None)
    p.add_argument("--model-version", default="1.0.0")
    p.add_argument("--hard-negatives-from", default="", help="trained detector ONNX: its false alarms on train "
                   "photos become the `none.no_insect` class")
    p.add_argument("--negative-threshold", type=float, default=0.15, help="detector score for mining false alarms")
    p.add_argument("--leaf-photos", type=int, default=800, help="leaf train photos (spread over datasets) to mine")
    p.add_argument("--max-negatives", type=int, default=600)
    p.add_argument("--mine-datasets", nargs="*", default=[], metavar="DATASET",
                   help="classifier datasets whose every TRAIN photo is mined, beyond --leaf-photos and the "
                        "--max-negatives cap (rice_leaf_ph: rice lesions the detector boxes as insects)")
    p.add_argument("--large-box-repeat", type=int, default=1, help="draw insect boxes covering >= "
                   "--large-box-share of their photo this many times (1: as often as the others)")
    p.add_argument("--large-box-share", type=float, default=0.25)
    return p


def mine_negatives(det_path: str, train, data_root: Path, n_leaf: int, threshold: float, limit: int, seed: int,
                   per_image: int = 4, every: list[str] | tuple = ()):
    """Items whose boxes are the detector's false alarms (all labelled `no insect`) on TRAIN photos only.

    `every`: classifier datasets mined photo by photo and kept whole, outside `limit`. A sample spread over
    ten datasets gives a small one a few dozen photos; rice_leaf_ph's lesions are the false alarms that cost
    most (the labeler 1.0.0 never saw one: it was trained before the set existed, and 22 of its 40 val photos
    reported insects)."""
    from leafscout.training.detect_data import Item, leaf_negatives, sample_per_dataset

    det = Detector(det_path, labeler=False)
    every = set(every)
    leaves = leaf_negatives(data_root, "train")
    unknown = every - {it.source for it in leaves}
    if unknown:
        raise SystemExit(f"--mine-datasets: no TRAIN photos for {sorted(unknown)} under {data_root}; "
                         f"datasets with photos: {sorted({it.source for it in leaves})}")

    def false_alarms(items):
        found = []
        for it in items:
            try:
                pests = det.detect(it.path, score_threshold=threshold)[:per_image]
            except Exception:
                continue
            if pests:
                found.append(Item(it.path, np.array([p.box for p in pests], np.float32),
                                  np.full(len(pests), -1, np.int64), it.source))
        return found

    out = []
    for it in train:
        pests = det.detect(it.path, score_threshold=threshold)
        boxes = np.array([p.box for p in pests], np.float64).reshape(-1, 4)
        if len(boxes) and len(it.boxes):
            boxes = boxes[box_iou(boxes, it.boxes).max(1) < 0.3]
        boxes = boxes[:per_image]  # the highest-scoring false alarms, a few per photo for variety
        if len(boxes):
            out.append(Item(it.path, boxes.astype(np.float32), np.full(len(boxes), -1, np.int64), "rice_pest"))
    out += false_alarms(sample_per_dataset([it for it in leaves if it.source not in every], n_leaf, seed))
    rng = np.random.default_rng(seed)
    rng.shuffle(out)
    kept, n = [], 0
    for it in out:
        if n >= limit:
            break
        kept.append(it)
        n += len(it.boxes)
    return kept + false_alarms(sorted((it for it in leaves if it.source in every), key=lambda it: str(it.path)))


def large_insects(items, share: float, repeat: int) -> list:
    """Extra copies (repeat - 1 each) of the insect boxes that cover >= `share` of their photo (items with `rgb`).

    The false alarms the labeler learns to drop include whole-blade boxes on rice close-ups; without as many
    frame-filling insects beside them it learns "a box the size of the photo is no insect" and drops a leafhopper
    photographed close up (labeler 1.1.0: 4 of 79 rice_pest val photos lost their only insect that way)."""
    from leafscout.training.detect_data import Item

    if repeat <= 1:
        return []
    out = []
    for it in items:
        h, w = it.rgb.shape[:2]
        b = np.asarray(it.boxes, np.float64).reshape(-1, 4)
        big = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) >= share * w * h
        if big.any():
            copy = Item(it.path, it.boxes[big], it.labels[big], it.source)
            copy.rgb = it.rgb
            out += [copy] * (repeat - 1)
    return out


def crops_of(items, size: int, context: float, rng: np.random.Generator | None = None, aug=None):
    """(uint8 crops [M,S,S,3], labels [M]) of every box of `items`; with `rng`, boxes are jittered."""
    xs, ys = [], []
    for it in items:
        rgb = it.rgb if getattr(it, "rgb", None) is not None else load_rgb(it.path)
        for box, lab in zip(it.boxes, it.labels):
            b = np.asarray(box, np.float64)
            ctx = context
            if rng is not None:  # a detector's box: shifted and resized by up to ~15%, more or less context
                w, h = b[2] - b[0], b[3] - b[1]
                b = b + rng.uniform(-0.15, 0.15, 4) * np.array([w, h, w, h])
                ctx = context * rng.uniform(0.3, 2.0)
            c = crop_box(rgb, b, size, ctx)
            if aug is not None:
                c = aug(image=c)["image"]
            xs.append(c)
            ys.append(int(lab))
    return np.stack(xs) if xs else np.zeros((0, size, size, 3), np.uint8), np.asarray(ys, np.int64)


def crop_aug():
    import albumentations as A
    return A.Compose([A.HorizontalFlip(p=0.5), A.VerticalFlip(p=0.3), A.RandomRotate90(p=0.3),
                      A.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3, hue=0.03, p=0.7),
                      A.OneOf([A.GaussianBlur(blur_limit=(3, 5)), A.MotionBlur(blur_limit=(3, 5))], p=0.2),
                      A.ImageCompression(quality_range=(40, 95), p=0.4)])


def to_batch(crops: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.stack([normalize(c, LITE_MEAN, LITE_STD) for c in crops]))


@torch.no_grad()
def evaluate(model, crops, labels, names) -> dict:
    model.eval()
    logits = torch.cat([model(to_batch(crops[i:i + 64]).contiguous(memory_format=torch.channels_last))
                        for i in range(0, len(crops), 64)]).numpy()
    pred = logits.argmax(1)
    per = {n: {"crops": int((labels == c).sum()),
               "accuracy": None if not (labels == c).any() else round(float((pred[labels == c] == c).mean()), 4)}
           for c, n in enumerate(names)}
    conf = {f"{names[a]}->{names[b]}": int(((labels == a) & (pred == b)).sum())
            for a in range(len(names)) for b in range(len(names)) if a != b and ((labels == a) & (pred == b)).any()}
    return {"accuracy": round(float((pred == labels).mean()), 4) if len(labels) else None, "per_class": per,
            "confusions": conf, "crops": int(len(labels))}


def main(args) -> dict:
    from leafscout.model.arch import EfficientNetLite0, load_pretrained
    from leafscout.model.export import export_onnx

    if args.mine_datasets and not args.hard_negatives_from:
        raise SystemExit("--mine-datasets needs --hard-negatives-from DETECTOR.onnx: the false alarms are that "
                         "detector's boxes")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    names, index = detection_labels(args.dataset)
    root = Path(args.data_root) / args.dataset
    train, val = rice_pest_items(root, "train", index), rice_pest_items(root, "val", index)
    if args.limit_images:
        train, val = train[:args.limit_images], val[:args.limit_images]
    negatives = []
    if args.hard_negatives_from:
        negatives = mine_negatives(args.hard_negatives_from, train, Path(args.data_root), args.leaf_photos,
                                   args.negative_threshold, args.max_negatives, args.seed,
                                   every=args.mine_datasets)
        names = names + [NO_INSECT]
        for it in negatives:
            it.labels = np.full(len(it.boxes), len(names) - 1, np.int64)
        log.info("%d false alarms of the detector on train photos become `%s` (%s)", sum(len(i.boxes) for i in negatives),
                 NO_INSECT, dict(Counter(i.source for i in negatives for _ in i.boxes)))
    for it in train:
        it.rgb = load_rgb(it.path)
    for it in negatives:
        it.rgb = load_rgb(it.path)
    large = large_insects(train, args.large_box_share, args.large_box_repeat)
    if large:
        log.info("%d insect boxes covering >= %.0f%% of their photo drawn %d times as often",
                 sum(len(i.boxes) for i in large) // max(1, args.large_box_repeat - 1), 100 * args.large_box_share,
                 args.large_box_repeat)
    train = train + large + negatives
    val_x, val_y = crops_of(val, args.size, args.context)
    box_labels = np.concatenate([it.labels for it in train])
    counts = np.bincount(box_labels, minlength=len(names)).astype(np.float64)
    log.info("%d train boxes %s, %d val boxes", len(box_labels), dict(zip(names, counts.astype(int).tolist())),
             len(val_y))

    model = EfficientNetLite0(num_classes=len(names))
    if not args.no_pretrained:
        load_pretrained(model)
    model.freeze_early(args.freeze_blocks)
    model = model.to(memory_format=torch.channels_last)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    aug = crop_aug()
    steps_per_epoch = max(1, math.ceil(len(box_labels) / args.batch_size))
    total = steps_per_epoch * args.epochs
    step, t0, history = 0, time.time(), []
    for epoch in range(args.epochs):
        x_all, y_all = crops_of(train, args.size, args.context, rng, aug)
        # class-balanced order: draw with probability count ** -power
        p = (counts[y_all] ** -args.balance_power)
        order = rng.choice(len(y_all), size=len(y_all), replace=True, p=p / p.sum())
        model.train()
        losses = []
        for i in range(0, len(order), args.batch_size):
            idx = order[i:i + args.batch_size]
            if len(idx) < 2:
                continue
            lr = args.lr * min(1.0, (step + 1) / 20) * 0.5 * (1 + math.cos(math.pi * step / total))
            for g in opt.param_groups:
                g["lr"] = lr
            xb = to_batch(x_all[idx]).contiguous(memory_format=torch.channels_last)
            loss = loss_fn(model(xb), torch.from_numpy(y_all[idx]))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            step += 1
            if args.max_steps and step >= args.max_steps:
                break
        ev = evaluate(model, val_x, val_y, names)
        rec = {"epoch": epoch, "step": step, "loss": round(float(np.mean(losses)) if losses else 0.0, 4),
               "val_accuracy": ev["accuracy"], "minutes": round((time.time() - t0) / 60, 2)}
        history.append(rec)
        log.info("epoch %d: %s", epoch, rec)
        if args.max_steps and step >= args.max_steps:
            break
    torch.save({"model": model.state_dict(), "labels": names, "args": vars(args), "history": history},
               out / "checkpoint.pt")
    ev = evaluate(model, val_x, val_y, names)
    cfg = PreprocessConfig(input_size=args.size, resize_size=args.size)
    check = to_batch(val_x[:16]).numpy() if len(val_x) else to_batch(crops_of(train[:4], args.size, args.context)[0]).numpy()
    exp = export_onnx(model, out / "pests_labeler.onnx", names, cfg, 1.0, {}, args.model_version, check,
                      extra={"kind": "pest_labeler", "context": repr(float(args.context))})
    report = {"labels": names, "val": ev, "history": history, "export": exp, "minutes": round((time.time() - t0) / 60, 2),
              "args": vars(args)}
    (out / "report.json").write_text(json.dumps(report, indent=2))
    log.info("val crop accuracy %s %s", ev["accuracy"], ev["per_class"])
    return report


if __name__ == "__main__":
    from leafscout.model.labels import LabelMapError
    from leafscout.training.data import DataError
    from leafscout.training.detect_data import DetectDataError
    try:
        main(get_args_parser().parse_args())
    except (DetectDataError, DataError, LabelMapError) as exc:  # each says what to change: one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)

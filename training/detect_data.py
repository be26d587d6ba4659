"""Data for the insect-pest detector: YOLO-box photos of rice pests, leaf photos without insects, box augmentation.

- `detection_labels()` reads `detection.<dataset>` of datasets/labels.yaml (YOLO class index -> canonical label);
  the classifier's `datasets:` section is not touched and rice_pest is never a classification dataset.
- `read_yolo()` reads a label file: `class cx cy w h` lines, and polygon lines (`class x1 y1 x2 y2 ...`, a few
  in rice_pest) turned into their enclosing box.
- `leaf_negatives()` lists TRAIN-split photos of the classifier datasets: leaves without insects, used as
  empty images so the detector learns that a leaf, a lesion or a spot is not an insect. Val photos never.
- `train_transform()` / `eval_transform()`: the presets. Evaluation is the runtime's letterbox exactly
  (`model.detect.letterbox`); training adds scale/shift/rotate, flips, colour, blur, noise and JPEG with
  albumentations' box support (a box less than 30% visible after a crop is dropped).
"""
from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import yaml

from leafscout.model.detect import PAD_VALUE, letterbox
from leafscout.model.imageio import ImageError, read_image
from leafscout.model.labels import LABELS_FILE

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


class DetectDataError(ValueError):
    """The detection data or its label map is not usable as given; the message says what to change."""


def detection_labels(dataset: str = "rice_pest", path: str | Path = LABELS_FILE) -> tuple[list[str], dict[int, int]]:
    """(sorted canonical labels, {YOLO class index: position in that list}) from `detection.<dataset>`."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    mapping = (data.get("detection") or {}).get(dataset)
    if not isinstance(mapping, dict) or not mapping:
        raise DetectDataError(f"{path}: no `detection: {{{dataset}: {{index: crop.label}}}}` section")
    labels = sorted({str(v) for v in mapping.values()})
    for v in labels:
        parts = v.split(".")
        if len(parts) != 2 or not all(parts) or v != v.lower():
            raise DetectDataError(f"{path}: detection label '{v}' is not `crop.condition`")
    return labels, {int(k): labels.index(str(v)) for k, v in mapping.items()}


@dataclass
class Item:
    path: str
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))  # x0y0x1y1, image pixels
    labels: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int64))
    source: str = "rice_pest"
    ignore_leaf: bool = False  # leaves in the photo are not boxed: the leaf class learns nothing from it
    leaf_box: bool = False  # a lab photo: its one leaf is boxed from the locator's mask when it is read
    scene: int = -1  # >= 0: a synthetic scene (training/scene_synth.py) drawn with this seed; `path` unused
    nothing: int = -1  # >= 0: a synthetic photo of no plant (backgrounds.synthetic_negative) with this seed


def read_yolo(label_file: str | Path, width: int, height: int, index: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
    boxes, labels = [], []
    for n, line in enumerate(Path(label_file).read_text().splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 5 or len(parts) % 2 == 0:
            raise DetectDataError(f"{label_file}:{n}: expected `class cx cy w h` or `class x1 y1 x2 y2 ...`, got {line!r}")
        cls = int(parts[0])
        if cls not in index:
            raise DetectDataError(f"{label_file}:{n}: class {cls} is not mapped under `detection:` in labels.yaml")
        v = np.array([float(p) for p in parts[1:]], np.float64)
        if len(v) == 4:
            cx, cy, w, h = v
            box = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]
        else:  # a polygon: its enclosing box
            box = [v[0::2].min(), v[1::2].min(), v[0::2].max(), v[1::2].max()]
        box = np.clip(np.array(box), 0.0, 1.0) * [width, height, width, height]
        if box[2] - box[0] < 1 or box[3] - box[1] < 1:
            continue
        boxes.append(box)
        labels.append(index[cls])
    return (np.array(boxes, np.float32).reshape(-1, 4), np.array(labels, np.int64))


def rice_pest_items(root: str | Path, split: str, index: dict[int, int]) -> list[Item]:
    base = Path(root) / split
    if not (base / "images").is_dir():
        raise DetectDataError(f"'{base}/images' is missing: expected rice_pest/<split>/images and labels (YOLO)")
    items = []
    for img in sorted(p for p in (base / "images").iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        lab = base / "labels" / (img.stem + ".txt")
        from PIL import Image
        with Image.open(img) as im:
            w, h = im.size
        boxes, labels = read_yolo(lab, w, h, index) if lab.is_file() else (np.zeros((0, 4), np.float32),
                                                                             np.zeros((0,), np.int64))
        items.append(Item(str(img), boxes, labels))
    return items


def leaf_negatives(data_root: str | Path, split: str = "train", datasets: list[str] | None = None) -> list[Item]:
    """Photos of the classifier datasets (label map `datasets:`) in `split`: no insect boxes. A dataset that
    also has boxes under `detection:` (rice_pest, whose photos teach the classifier the rice crop) has insects
    in its photos, so it is never a negative."""
    from leafscout.model.labels import load_label_map
    root = Path(data_root)
    data = yaml.safe_load(Path(LABELS_FILE).read_text(encoding="utf-8")) or {}
    boxed = set(data.get("detection") or {})
    names = datasets or [d for d in load_label_map().datasets if (root / d / split).is_dir() and d not in boxed]
    out = []
    for ds in names:
        files = sorted(p for p in (root / ds / split).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        out.extend(Item(str(p), source=ds) for p in files)
    return out


def sample_per_dataset(items: list[Item], n: int, seed: int = 0) -> list[Item]:
    """`n` items spread evenly over their source datasets (all of a small dataset when it has fewer)."""
    rng = random.Random(seed)
    by = {}
    for it in items:
        by.setdefault(it.source, []).append(it)
    out, quota = [], max(1, n // max(1, len(by)))
    for src in sorted(by):
        pool = by[src]
        out.extend(rng.sample(pool, min(quota, len(pool))))
    return out


def repeat_factors(items: list[Item], num_classes: int, threshold: float = 0.2) -> np.ndarray:
    """LVIS-style repeat factor per image: max over its classes of max(1, sqrt(threshold / share of images
    with that class)), so photos of rare insects are seen more often without flooding the epoch."""
    n = max(1, len(items))
    share = Counter(c for it in items for c in set(it.labels.tolist()))
    rc = {c: max(1.0, math.sqrt(threshold / (share[c] / n))) for c in share}
    return np.array([max([rc[c] for c in set(it.labels.tolist())] or [1.0]) for it in items])


# ---------------------------------------------------------------------------------------------- presets

def train_transform(size: int):
    import albumentations as A

    return A.Compose([
        A.Affine(scale=(0.6, 1.6), translate_percent=(-0.15, 0.15), rotate=(-20, 20), border_mode=cv2.BORDER_CONSTANT,
                 fill=PAD_VALUE, p=0.7),
        A.HorizontalFlip(p=0.5),
        A.VerticalFlip(p=0.2),
        A.LongestMaxSize(max_size=size, interpolation=cv2.INTER_AREA),
        A.PadIfNeeded(size, size, border_mode=cv2.BORDER_CONSTANT, fill=PAD_VALUE, position="center"),
        A.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3, hue=0.03, p=0.7),
        A.OneOf([A.GaussianBlur(blur_limit=(3, 5)), A.MotionBlur(blur_limit=(3, 7))], p=0.2),
        A.GaussNoise(std_range=(0.01, 0.04), p=0.1),
        A.ImageCompression(quality_range=(40, 95), p=0.4),
    ], bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"], min_visibility=0.3, min_area=9))


def eval_transform(size: int):
    """The runtime's geometry: `model.detect.letterbox` (returns image, boxes in input pixels)."""
    def apply(rgb: np.ndarray, boxes: np.ndarray):
        out, lb = letterbox(rgb, size)
        b = boxes.astype(np.float64).copy()
        b[:, [0, 2]] = b[:, [0, 2]] * lb.scale + lb.pad_x
        b[:, [1, 3]] = b[:, [1, 3]] * lb.scale + lb.pad_y
        return out, b.astype(np.float32), lb
    return apply


def load_rgb(path: str) -> np.ndarray | None:
    try:
        return read_image(path)
    except ImageError:
        return None


@dataclass
class Scenes:
    """What synthetic scenes and lab-photo leaf boxes need: the leaf cut-outs, foliage photos for backdrops,
    and the detector's class index for a leaf."""
    cutouts: list
    foliage: list
    leaf_class: int
    size: int = 448
    val: "Scenes | None" = None  # the same from VAL leaves, to score leaf boxes
    distractor_p: float = 0.5  # share of scenes with non-leaf things in them


class DetectionSet:
    """(uint8 SxSx3 image, boxes [M,4] float32 in input pixels, labels [M] int64, ignore_leaf bool) per item,
    augmented or not."""

    def __init__(self, items: list[Item], size: int, train: bool, scenes: Scenes | None = None):
        self.items, self.size, self.train, self.scenes = items, size, train, scenes
        self.tf = train_transform(size) if train else eval_transform(size)

    def __len__(self) -> int:
        return len(self.items)

    def _read(self, it: Item):
        """(RGB, boxes, labels, ignore_leaf) of an item before augmentation."""
        if it.scene >= 0:
            from leafscout.training.scene_synth import compose_scene
            sc = self.scenes
            rgb, boxes = compose_scene(sc.cutouts, np.random.default_rng(it.scene), sc.size, sc.foliage,
                                       distractor_p=sc.distractor_p)
            return rgb, boxes, np.full(len(boxes), sc.leaf_class, np.int64), False
        if it.nothing >= 0:
            from leafscout.training.backgrounds import synthetic_negative
            rng = np.random.default_rng(it.nothing)
            rgb = synthetic_negative(rng, 256)
            return rgb, np.zeros((0, 4), np.float32), np.zeros((0,), np.int64), False
        rgb = load_rgb(it.path)
        if rgb is None:  # reported by the trainer's data check; an unreadable photo is never silently used
            raise DetectDataError(f"{it.path} cannot be read")
        if it.leaf_box and self.scenes is not None:
            from leafscout.training.scene_synth import leaf_box
            box = leaf_box(rgb)
            if box is None:  # the locator found no clean leaf: say nothing about leaves in this photo
                return rgb, it.boxes.copy(), it.labels, True
            return rgb, np.concatenate([it.boxes, box[None]]), np.append(it.labels, self.scenes.leaf_class), False
        return rgb, it.boxes.copy(), it.labels, it.ignore_leaf

    def __getitem__(self, i: int):
        it = self.items[i]
        rgb, boxes, labels, ignore = self._read(it)
        h, w = rgb.shape[:2]
        if len(boxes):
            boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, w)
            boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, h)
        if self.train:
            out = self.tf(image=rgb, bboxes=boxes, labels=labels)
            img = out["image"]
            b = np.asarray(out["bboxes"], np.float32).reshape(-1, 4)
            lab = np.asarray(out["labels"], np.int64).reshape(-1)
        else:
            img, b, _ = self.tf(rgb, boxes)
            lab = labels
        keep = (b[:, 2] - b[:, 0] >= 2) & (b[:, 3] - b[:, 1] >= 2)
        return img, b[keep], lab[keep], ignore

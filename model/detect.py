"""Torch-free insect-pest detection: ONNX detector -> [Pest(label, score, box)] in the original photo's pixels.

    det = Detector()                        # model/pests.onnx, or $LEAFSCOUT_PESTS_MODEL
    pests = det.detect("rice.jpg")          # [Pest(label='rice.brown_planthopper', score=0.71, box=(x0, y0, x1, y1))]
    det.counts(pests)                       # {'rice.brown_planthopper': 3}

A photo passes the same gate as the classifier's (`model.imageio.read_image`), so a corrupt or hostile file gets
the same one clear `ImageError`. It is letterboxed to the model's square input (longer side to S, grey padding),
the network gives a score per class and a box for every location, and here, in numpy: the best class per
location, the score threshold (per class where the metadata has one), class-agnostic non-maximum suppression
(one insect is counted once even when two classes fire on it), then the boxes are mapped back through the
letterbox and the decoder's size reduction to the pixels of the photo as it was given (after EXIF rotation).

Naming: when a pest labeler lies next to the detector (`pests_labeler.onnx` beside `pests.onnx`; in general
`<detector stem>_labeler.onnx`), each box is cropped from the decoded photo (with some context) and the labeler,
an EfficientNet-Lite0 trained on insect crops (training/pest_crops.py), names it; the detector's score stays the
box's score. Without one, the detector's own class head names the boxes.

Leaves: a scene detector (trained with `--leaves`) has one more class, `plant.leaf` (LEAF_LABEL), and finds the
leaves of the photo in the same pass: `det.scene(photo)` gives both, leaves and insects, from one network run.
Leaf boxes never reach the labeler and are never counted as insects; for a detector without the class,
`scene(...).leaves` is empty.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from leafscout.model.imageio import ImageError, check_image, read_image
from leafscout.model.preprocess import normalize_rgb as normalize
from leafscout.model.sessions import session_options

PESTS_ENV = "LEAFSCOUT_PESTS_MODEL"
NO_INSECT = "none.no_insect"  # the labeler's extra class: the detector boxed something that is not an insect
META_PREFIX = "leafscout."
LEAF_LABEL = "plant.leaf"  # a scene detector's leaf class (training/detect_train.py --leaves): not an insect
PAD_VALUE = 127
MAX_LEAVES = 20  # leaf boxes a scene pass keeps (highest score first): more than a vote ever looks at
LEAF_CONTEXT = 0.08  # the margin a leaf crop keeps around its box, x its size on each side


class DetectorError(RuntimeError):
    """The detector model file is missing or not a LeafScout pest detector."""


def default_pests_path() -> Path:
    env = os.environ.get(PESTS_ENV)
    return Path(env) if env else Path(__file__).resolve().parent / "pests.onnx"


@dataclass(frozen=True)
class Pest:
    label: str
    score: float
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the original photo's pixels

    def to_dict(self) -> dict:
        return {"label": self.label, "score": round(float(self.score), 4),
                "box": [round(float(v), 1) for v in self.box]}


@dataclass(frozen=True)
class Leaf:
    """A leaf found by a scene detector: its box in the original photo's pixels and the detector's score."""
    score: float
    box: tuple[float, float, float, float]

    def to_dict(self) -> dict:
        return {"score": round(float(self.score), 4), "box": [round(float(v), 1) for v in self.box]}


@dataclass(frozen=True)
class Scene:
    """What one detector pass found: insects (named) and leaves, each highest score first (boxes in the
    original photo's pixels), and the photo as the detector decoded it, to cut the leaves from."""
    pests: list
    leaves: list
    photo: np.ndarray | None = None
    scale: float = 1.0  # decoded pixels per original pixel (a big JPEG is decoded reduced)

    def leaf_crop(self, i: int, context: float = LEAF_CONTEXT) -> np.ndarray:
        """Leaf `i` cut from the decoded photo with a margin of `context` x its size on each side."""
        if self.photo is None:
            raise ValueError("no photo kept with this scene")
        h, w = self.photo.shape[:2]
        x0, y0, x1, y1 = (v * self.scale for v in self.leaves[i].box)
        mx, my = (x1 - x0) * context, (y1 - y0) * context
        x0, y0 = int(max(0, x0 - mx)), int(max(0, y0 - my))
        x1, y1 = int(min(w, x1 + mx + 1)), int(min(h, y1 + my + 1))
        return np.ascontiguousarray(self.photo[y0:y1, x0:x1])

    def leaves_with_crops(self, most: int, min_side: int) -> tuple[list, list[np.ndarray]]:
        """Up to `most` leaves, highest score first, whose crop is at least `min_side` px a side, and those crops
        (each cut once): the leaves that may vote on a field photo's answer."""
        leaves, crops = [], []
        for i, leaf in enumerate(self.leaves):
            if len(leaves) == most:
                break
            crop = self.leaf_crop(i)
            if min(crop.shape[:2]) >= min_side:
                leaves.append(leaf)
                crops.append(crop)
        return leaves, crops


@dataclass(frozen=True)
class Letterbox:
    """How a photo of `width` x `height` was placed in the SxS input: scaled by `scale`, offset by (pad_x, pad_y)."""
    width: int
    height: int
    size: int
    scale: float
    pad_x: int
    pad_y: int


def letterbox_params(width: int, height: int, size: int) -> Letterbox:
    scale = size / max(width, height)
    nw, nh = max(1, round(width * scale)), max(1, round(height * scale))
    return Letterbox(width, height, size, scale, (size - nw) // 2, (size - nh) // 2)


def letterbox(rgb: np.ndarray, size: int, pad_value: int = PAD_VALUE) -> tuple[np.ndarray, Letterbox]:
    """uint8 HxWx3 -> uint8 SxSx3: the whole photo, aspect kept, centred on grey. INTER_AREA when shrinking."""
    h, w = rgb.shape[:2]
    lb = letterbox_params(w, h, size)
    nw, nh = max(1, round(w * lb.scale)), max(1, round(h * lb.scale))
    if (nw, nh) != (w, h):
        rgb = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA if lb.scale < 1 else cv2.INTER_LINEAR)
    out = np.full((size, size, 3), pad_value, np.uint8)
    out[lb.pad_y:lb.pad_y + nh, lb.pad_x:lb.pad_x + nw] = rgb
    return out, lb


def boxes_to_original(boxes: np.ndarray, lb: Letterbox, orig_width: int | None = None,
                      orig_height: int | None = None) -> np.ndarray:
    """Boxes [K,4] in SxS input pixels -> pixels of the image that was letterboxed (lb.width x lb.height), then,
    when the photo was decoded smaller than it is (a big JPEG read at 1/2..1/8), scaled to orig_width x
    orig_height. Clipped to the photo."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4).copy()
    b[:, [0, 2]] = (b[:, [0, 2]] - lb.pad_x) / lb.scale
    b[:, [1, 3]] = (b[:, [1, 3]] - lb.pad_y) / lb.scale
    b[:, [0, 2]] = b[:, [0, 2]].clip(0, lb.width)
    b[:, [1, 3]] = b[:, [1, 3]].clip(0, lb.height)
    if orig_width and orig_height:
        b[:, [0, 2]] *= orig_width / lb.width
        b[:, [1, 3]] *= orig_height / lb.height
    return b


def crop_box(rgb: np.ndarray, box, size: int, context: float = 0.15) -> np.ndarray:
    """The box (x0, y0, x1, y1 in `rgb`'s pixels) with `context` x its width/height added on each side, clipped to
    the photo, resized to size x size (uint8): what the pest labeler sees of one insect."""
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = (float(v) for v in box)
    bw, bh = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    x0, x1 = max(0, int(np.floor(x0 - context * bw))), min(w, int(np.ceil(x1 + context * bw)))
    y0, y1 = max(0, int(np.floor(y0 - context * bh))), min(h, int(np.ceil(y1 + context * bh)))
    if x1 - x0 < 2:
        x0, x1 = max(0, min(x0, w - 2)), max(0, min(x0, w - 2)) + 2
    if y1 - y0 < 2:
        y0, y1 = max(0, min(y0, h - 2)), max(0, min(y0, h - 2)) + 2
    c = rgb[y0:y1, x0:x1]
    interp = cv2.INTER_AREA if min(c.shape[:2]) > size else cv2.INTER_LINEAR
    return cv2.resize(np.ascontiguousarray(c), (size, size), interpolation=interp)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in a [K,4] with every box in b [M,4] (x0y0x1y1)."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, highest score first."""
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        if order.size == 1:
            break
        rest = order[1:]
        order = rest[box_iou(boxes[i:i + 1], boxes[rest])[0] <= iou]
    return np.asarray(keep, np.int64)


def postprocess(scores: np.ndarray, boxes: np.ndarray, score_threshold: float | np.ndarray, nms_iou: float,
                max_detections: int = 100, min_side: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One image's network output (scores [A,C], boxes [A,4]) -> (boxes [K,4], scores [K], classes [K]).

    Best class per location; kept when its score reaches the threshold (a float, or one per class);
    class-agnostic NMS; at most `max_detections`, highest score first."""
    cls = scores.argmax(1)
    best = scores[np.arange(len(cls)), cls]
    thr = np.asarray(score_threshold, np.float64)
    thr = thr[cls] if thr.ndim else thr
    wh = boxes[:, 2:] - boxes[:, :2]
    ok = (best >= thr) & (wh.min(1) >= min_side)
    b, s, c = boxes[ok], best[ok], cls[ok]
    if len(s) > 1000:  # plenty for NMS; keeps a degenerate model from making NMS quadratic in time
        top = np.argsort(-s, kind="stable")[:1000]
        b, s, c = b[top], s[top], c[top]
    keep = nms(b, s, nms_iou)[:max_detections]
    return b[keep], s[keep], c[keep]


class Detector:
    """An ONNX pest detector with its labels, input size, thresholds and NMS IoU from the model metadata."""

    def __init__(self, path: str | os.PathLike | None = None, threads: int | None = None, labeler: bool = True):
        import onnxruntime as ort

        self.path = Path(path) if path else default_pests_path()
        if not self.path.is_file():
            raise DetectorError(f"pest detector not found at {self.path}; set ${PESTS_ENV} or ship model/pests.onnx")
        opts = session_options(threads)
        try:
            self.session = ort.InferenceSession(str(self.path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise DetectorError(f"{self.path} is not a readable ONNX model: {exc}") from None
        raw = self.session.get_modelmeta().custom_metadata_map
        meta = {k[len(META_PREFIX):]: v for k, v in raw.items() if k.startswith(META_PREFIX)}
        if meta.get("kind") != "pest_detector":
            raise DetectorError(f"{self.path} is not a LeafScout pest detector (no leafscout.kind=pest_detector)")
        self.meta = meta
        self.all_labels: list[str] = json.loads(meta["labels"])
        # insect classes first; a scene detector's leaf class is the last one (training/detect_train.py)
        self.labels: list[str] = [lab for lab in self.all_labels if lab != LEAF_LABEL]
        if self.all_labels[:len(self.labels)] != self.labels:
            raise DetectorError(f"{self.path}: the leaf class must be the detector's last class")
        self.leaf_class = len(self.labels) if LEAF_LABEL in self.all_labels else None
        self.input_size = int(meta["input_size"])
        self.pad_value = int(meta.get("pad_value", PAD_VALUE))
        self.mean = json.loads(meta["mean"])
        self.std = json.loads(meta["std"])
        self.score_threshold = float(meta["score_threshold"])
        per_class = json.loads(meta.get("class_score_thresholds") or "{}")
        self.thresholds = np.array([float(per_class.get(lab, self.score_threshold)) for lab in self.all_labels])
        self.nms_iou = float(meta["nms_iou"])
        self.max_detections = int(meta.get("max_detections", 100))
        self.version = meta.get("version", "unknown")
        self.input_name = self.session.get_inputs()[0].name
        self.labeler = None
        self.labeler_path = self.path.with_name(self.path.stem + "_labeler.onnx")
        if labeler and self.labeler_path.is_file():
            try:
                self.labeler = ort.InferenceSession(str(self.labeler_path), opts, providers=["CPUExecutionProvider"])
            except Exception as exc:
                raise DetectorError(f"{self.labeler_path} is not a readable ONNX model: {exc}") from None
            lraw = self.labeler.get_modelmeta().custom_metadata_map
            lmeta = {k[len(META_PREFIX):]: v for k, v in lraw.items() if k.startswith(META_PREFIX)}
            llabels = json.loads(lmeta.get("labels", "[]"))
            if lmeta.get("kind") != "pest_labeler" or llabels not in (self.labels, self.labels + [NO_INSECT]):
                raise DetectorError(f"{self.labeler_path} is not a pest labeler for this detector's labels {self.labels}")
            cfg = json.loads(lmeta["preprocess"])
            self.labeler_size, self.labeler_context = int(cfg["input_size"]), float(lmeta.get("context", "0.15"))
            self.labeler_mean, self.labeler_std = cfg["mean"], cfg["std"]
            self.labeler_version = lmeta.get("version", "unknown")

    def load(self, image) -> tuple[np.ndarray, int | None, int | None]:
        """The gate: (decoded RGB, original width, original height). A big JPEG is decoded at 1/2..1/8 size as
        long as its shorter side stays >= the input size; the original size (after EXIF rotation) is kept so the
        boxes can be given in its pixels."""
        if isinstance(image, (str, os.PathLike, bytes, bytearray, memoryview)):
            src = bytes(image) if isinstance(image, (bytearray, memoryview)) else image
            info = check_image(src)
            rgb = read_image(src, min_short_side=self.input_size)
            w, h = (info.height, info.width) if info.orientation in (5, 6, 7, 8) else (info.width, info.height)
            if (rgb.shape[1], rgb.shape[0]) != (w, h):
                # a reduced decode keeps the aspect; if the decoder applied a rotation the header did not
                # announce, trust the pixels' orientation
                if (rgb.shape[1] > rgb.shape[0]) != (w > h) and w != h:
                    w, h = h, w
                return rgb, w, h
            return rgb, None, None
        return read_image(image), None, None

    def prepare(self, rgb: np.ndarray) -> tuple[np.ndarray, Letterbox]:
        boxed, lb = letterbox(rgb, self.input_size, self.pad_value)
        return normalize(boxed, self.mean, self.std), lb

    def infer(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scores, boxes = self.session.run(None, {self.input_name: np.ascontiguousarray(batch, np.float32)})
        return scores, boxes

    def detect(self, image, score_threshold: float | None = None) -> list[Pest]:
        """Path, bytes, PIL image or RGB array -> pests found, highest score first. Raises ImageError for an
        unusable photo (the gate's one clear message)."""
        return self.scene(image, score_threshold).pests

    def scene(self, image, score_threshold: float | None = None) -> Scene:
        """One network pass -> the insects (named, as `detect`) and the leaves (a scene detector only)."""
        rgb, ow, oh = self.load(image)
        x, lb = self.prepare(rgb)
        scores, boxes = self.infer(x[None])
        return Scene(self._pests(scores[0], boxes[0], lb, ow, oh, score_threshold, rgb),
                     self._leaves(scores[0], boxes[0], lb, ow, oh), rgb, rgb.shape[1] / ow if ow else 1.0)

    def _leaves(self, scores, boxes, lb, ow, oh) -> list[Leaf]:
        if self.leaf_class is None:
            return []
        s = scores[:, self.leaf_class:self.leaf_class + 1]
        b, sc, _ = postprocess(s, boxes, self.thresholds[self.leaf_class], self.nms_iou, MAX_LEAVES)
        b = boxes_to_original(b, lb, ow, oh)
        return [Leaf(float(si), tuple(float(v) for v in bi)) for bi, si in zip(b, sc)]

    def name_boxes(self, rgb: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """Class index per box (boxes in `rgb`'s pixels) from the labeler's crops; len(labels) means no insect."""
        crops = np.stack([normalize(crop_box(rgb, b, self.labeler_size, self.labeler_context), self.labeler_mean,
                                    self.labeler_std) for b in boxes])
        logits = np.concatenate([self.labeler.run(["logits"], {"image": crops[i:i + 16]})[0]
                                 for i in range(0, len(crops), 16)])
        return logits.argmax(1)

    def _pests(self, scores, boxes, lb, ow, oh, score_threshold=None, rgb=None) -> list[Pest]:
        thr = self.thresholds if score_threshold is None else float(score_threshold)
        if self.leaf_class is not None:  # leaves are not insects: only the insect classes make pest boxes
            scores = scores[:, :self.leaf_class]
            thr = thr[:self.leaf_class] if np.ndim(thr) else thr
        b, s, c = postprocess(scores, boxes, thr, self.nms_iou, self.max_detections)
        b = boxes_to_original(b, lb)  # in the decoded photo's pixels
        if self.labeler is not None and rgb is not None and len(b):
            c = self.name_boxes(rgb, b)
            insect = c < len(self.labels)  # the labeler's `no insect` class drops the box
            b, s, c = b[insect], s[insect], c[insect]
        b = boxes_to_original(b, Letterbox(lb.width, lb.height, lb.size, 1.0, 0, 0), ow, oh)
        return [Pest(self.labels[int(ci)], float(si), tuple(float(v) for v in bi)) for bi, si, ci in zip(b, s, c)]

    @staticmethod
    def counts(pests: list[Pest]) -> dict[str, int]:
        return dict(sorted(Counter(p.label for p in pests).items()))

    def info(self) -> dict:
        return {"path": str(self.path), "version": self.version, "labels": self.labels,
                "labeler": None if self.labeler is None else {"path": str(self.labeler_path),
                                                              "version": self.labeler_version,
                                                              "input_size": self.labeler_size},
                "input_size": self.input_size, "score_threshold": self.score_threshold,
                "class_score_thresholds": dict(zip(self.all_labels, self.thresholds.tolist())),
                "nms_iou": self.nms_iou}


__all__ = ["Detector", "DetectorError", "ImageError", "Pest", "Leaf", "Scene", "LEAF_LABEL", "MAX_LEAVES", "LEAF_CONTEXT", "Letterbox", "letterbox", "letterbox_params", "crop_box",
           "boxes_to_original", "postprocess", "nms", "box_iou", "default_pests_path", "PESTS_ENV"]

"""Field-like scenes with exact leaf boxes, for teaching the scene detector where leaves are (issue 17).

No dataset here has leaf boxes in field photos. The lab sets have something as good: one leaf on a plain
backdrop, which the runtime's locator cuts out (`backgrounds.leaf_alpha`). `compose_scene` pastes one to
seven such cut-outs, turned, scaled and lit differently, overlapping one another (a later leaf hides an
earlier one, as in a canopy), some cut by the frame, on soil, paper, a hand, a table or out-of-focus foliage
from the field sets; each leaf's box is the box of its *visible* pixels (copy-paste augmentation, Ghiasi et al.
2021, CVPR, "Simple Copy-Paste is a Strong Data Augmentation Method for Instance Segmentation").

Foliage backgrounds are blurred hard: a field photo is full of leaves nobody boxed, and a sharp unboxed leaf
would teach the detector that leaves are background. Real field photos are used elsewhere only as insect
negatives with the leaf class's loss switched off (`detect_data.Item.ignore_leaf`).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from leafscout.training.backgrounds import (DARK, FOLIAGE, HAND, PAPER, SOIL, SQUARED, TABLE, leaf_alpha, make_background,
                                            synthetic_negative)

SCENE_KINDS = (FOLIAGE, SOIL, PAPER, SQUARED, HAND, TABLE, DARK)
SCENE_KIND_P = (0.45, 0.16, 0.1, 0.05, 0.08, 0.1, 0.06)
MIN_VISIBLE = 0.3  # a leaf hidden or cut by more than this share of its pixels gets no box


@dataclass
class Cutout:
    """One leaf cut from a lab photo: RGB and a soft alpha of the same tight box (float32 0..1)."""
    rgb: np.ndarray
    alpha: np.ndarray
    source: str = ""


def _leaf_pixels(rgb: np.ndarray):
    """(the locator's leaf mask, (x0, y0, x1, y1) of its pixels), or None when it finds no leaf of 64 pixels or more."""
    alpha = leaf_alpha(rgb)
    if alpha is None:
        return None
    ys, xs = np.nonzero(alpha > 0.5)
    if len(ys) < 64:
        return None
    return alpha, (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def cut_leaf(rgb: np.ndarray, source: str = "", max_side: int = 256) -> Cutout | None:
    """The leaf of a lab photo as a cut-out, or None when the locator finds no clean leaf on a backdrop."""
    found = _leaf_pixels(rgb)
    if found is None:
        return None
    alpha, (x0, y0, x1, y1) = found
    leaf, a = rgb[y0:y1, x0:x1], alpha[y0:y1, x0:x1]
    s = min(1.0, max_side / max(leaf.shape[:2]))
    if s < 1:
        size = (max(1, int(leaf.shape[1] * s)), max(1, int(leaf.shape[0] * s)))
        leaf = cv2.resize(leaf, size, interpolation=cv2.INTER_AREA)
        a = cv2.resize(a, size, interpolation=cv2.INTER_AREA)
    return Cutout(np.ascontiguousarray(leaf), np.ascontiguousarray(a, np.float32), source)


def leaf_box(rgb: np.ndarray) -> np.ndarray | None:
    """[x0, y0, x1, y1] of the leaf in a lab photo (the locator's mask), or None when it finds none."""
    found = _leaf_pixels(rgb)
    return None if found is None else np.array(found[1], np.float32)


def _turned(c: Cutout, angle: float, scale: float) -> tuple[np.ndarray, np.ndarray]:
    h, w = c.alpha.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos) + 2, int(h * cos + w * sin) + 2
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    leaf = cv2.warpAffine(c.rgb.astype(np.float32), m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    a = cv2.warpAffine(c.alpha, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=0)
    return leaf, a


def paste_distractors(img: np.ndarray, rng: np.random.Generator, n: int) -> None:
    """Paste `n` things that are not leaves (blobs and boards cut from `synthetic_negative`: text, shapes,
    noise, sky, paper) into `img` in place, unboxed: not every object in a photo is a leaf."""
    h, w = img.shape[:2]
    for _ in range(n):
        ph, pw = int(rng.uniform(0.1, 0.5) * h), int(rng.uniform(0.1, 0.5) * w)
        if ph < 8 or pw < 8:
            continue
        patch = cv2.resize(synthetic_negative(rng, 128), (pw, ph)).astype(np.float32)
        mask = np.zeros((ph, pw), np.float32)
        if rng.random() < 0.5:
            cv2.ellipse(mask, (pw // 2, ph // 2), (pw // 2 - 1, ph // 2 - 1), 0, 0, 360, 1.0, -1)
        else:
            mask[:] = 1.0
        y, x = int(rng.integers(0, h - ph + 1)), int(rng.integers(0, w - pw + 1))
        region = img[y:y + ph, x:x + pw]
        region[:] = region * (1 - mask[..., None]) + patch * mask[..., None]


def compose_scene(cutouts: list[Cutout], rng: np.random.Generator, size: int = 448,
                  foliage: list | None = None, max_leaves: int = 7,
                  distractor_p: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(RGB uint8 scene whose longer side is `size`, leaf boxes [M,4] x0y0x1y1 float32 of the visible parts).
    With probability `distractor_p` one to three non-leaf things lie under the leaves."""
    aspect = float(rng.choice([1.0, 4 / 3, 3 / 4, 16 / 9, 9 / 16]))
    w, h = (size, int(size / aspect)) if aspect >= 1 else (int(size * aspect), size)
    kind = str(rng.choice(SCENE_KINDS, p=SCENE_KIND_P))
    bg = make_background(kind, h, w, rng, foliage)
    if kind == FOLIAGE:  # out of focus: no sharp leaf may stand there unboxed
        k = int(rng.choice([15, 21, 27, 35]))
        bg = cv2.GaussianBlur(bg, (k, k), 0)
    img = bg.astype(np.float32)
    if distractor_p and rng.random() < distractor_p:
        paste_distractors(img, rng, int(rng.integers(1, 4)))
    owner = np.full((h, w), -1, np.int32)
    n = int(rng.integers(1, max_leaves + 1))
    full_area = []
    for k in range(n):
        c = cutouts[int(rng.integers(len(cutouts)))]
        # one big leaf in front when alone; smaller ones when many share the frame
        frac = rng.uniform(0.35, 0.95) if n == 1 else rng.uniform(0.15, 0.7)
        scale = frac * max(w, h) / max(c.alpha.shape)
        leaf, a = _turned(c, rng.uniform(0, 360), scale)
        leaf *= rng.uniform(0.75, 1.15)  # each leaf in its own light
        lh, lw = a.shape
        # the centre anywhere in the frame: leaves at the edge are cut, as in a photo
        cx, cy = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h
        x0, y0 = int(cx - lw / 2), int(cy - lh / 2)
        sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(w, x0 + lw), min(h, y0 + lh)
        if sx1 - sx0 < 4 or sy1 - sy0 < 4:
            full_area.append(1)
            continue
        la = a[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0]
        lr = leaf[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0]
        if kind != FOLIAGE and rng.random() < 0.5:  # a soft shadow on a flat backdrop
            sh = cv2.GaussianBlur(la, (0, 0), max(1.0, min(lw, lh) / 25)) * rng.uniform(0.15, 0.4)
            ox, oy = int(rng.integers(-3, 8)), int(rng.integers(-3, 8))
            ty0, tx0 = min(h, max(0, sy0 + oy)), min(w, max(0, sx0 + ox))
            ty1, tx1 = min(h, ty0 + sh.shape[0]), min(w, tx0 + sh.shape[1])
            img[ty0:ty1, tx0:tx1] *= (1 - sh[:ty1 - ty0, :tx1 - tx0])[..., None]
        region = img[sy0:sy1, sx0:sx1]
        region[:] = region * (1 - la[..., None]) + lr * la[..., None]
        owner[sy0:sy1, sx0:sx1][la > 0.5] = k
        full_area.append(max(1, int((a > 0.5).sum())))
    boxes = []
    for k in range(n):
        ys, xs = np.nonzero(owner == k)
        if len(ys) < 48 or len(ys) < MIN_VISIBLE * full_area[k]:
            continue
        boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
    return img.clip(0, 255).astype(np.uint8), np.array(boxes, np.float32).reshape(-1, 4)


__all__ = ["Cutout", "cut_leaf", "leaf_box", "compose_scene", "paste_distractors", "MIN_VISIBLE"]

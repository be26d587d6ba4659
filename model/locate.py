"""Leaf locator: find the main leaf on a plain background, crop to it and turn it to landscape.

Why: every training dataset has its own framing (BRACOL leaves fill a landscape frame, tea leaves sit small
on paper, PlantVillage on a grey table), and a model learns that framing instead of the lesions. Cropping
every photo to its leaf, in training and at run time alike, takes the framing away. On a photo with no plain
background (a leaf among others on the plant) the locator cannot tell which leaf is meant, so it says so and
the whole photo is used.

OpenCV and numpy only; it works on a small copy of the photo (about 1 ms). Its settings travel in the ONNX
metadata (`leafscout.locator`) so training, evaluation and the runtime crop the same way.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import cv2
import numpy as np

LEAF, WHOLE = "leaf", "whole"


@dataclass(frozen=True)
class LocatorConfig:
    enabled: bool = True
    work_size: int = 128          # long side of the analysis copy (px)
    border: int = 4               # width of the frame whose colour defines "background" (analysis px)
    plain_border_share: float = 0.55  # share of frame pixels near the frame's median colour for a plain background
    color_tolerance: float = 22.0     # Lab distance counted as "near" the background colour
    max_texture: float = 30.0     # median gradient of the background pixels in the frame: paper and tables are
                                  # smooth, grass and foliage are not (a leaf among leaves is not located)
    min_area: float = 0.015       # leaf share of the photo below which the locator gives up
    max_area: float = 0.92        # above this the leaf already fills the photo: crop nothing
    margin: float = 0.06          # margin added around the leaf box, as a share of the box side
    landscape: bool = True        # turn a portrait leaf crop by 90 degrees

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str | None) -> "LocatorConfig":
        if not text:
            return cls(enabled=False)
        return cls(**json.loads(text))


@dataclass(frozen=True)
class Located:
    """Where the leaf is: `box` (x0, y0, x1, y1) in the photo's pixels, and whether the crop was turned."""
    image: np.ndarray             # the crop (RGB uint8), turned to landscape when `rotated`
    framing: str                  # "leaf": cropped to the leaf; "whole": the whole photo
    box: tuple[int, int, int, int]
    rotated: bool = False
    reason: str = ""

    def to_photo(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map points given as shares (0..1) of the crop's width/height back to the photo's pixels."""
        x0, y0, x1, y1 = self.box
        if self.rotated:  # crop was turned clockwise: crop (u, v) <- photo (v, 1 - u)
            x, y = y, 1.0 - x
        return x0 + x * (x1 - x0), y0 + y * (y1 - y0)


def _small(rgb: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    h, w = rgb.shape[:2]
    scale = size / max(h, w)
    if scale >= 1:
        return rgb, 1.0
    return cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA), scale


def foreground_mask(rgb: np.ndarray, cfg: LocatorConfig = LocatorConfig()) -> tuple[np.ndarray | None, str]:
    """uint8 0/255 mask of the object(s) standing out from a plain background, at the analysis size,
    or (None, why) when the background is not plain. Used by the locator and, in training, to cut lab
    leaves out and paste them on new backgrounds."""
    small, _ = _small(rgb, cfg.work_size)
    lab = cv2.cvtColor(cv2.GaussianBlur(small, (3, 3), 0), cv2.COLOR_RGB2LAB).astype(np.float32)
    b = cfg.border
    h, w = lab.shape[:2]
    if h <= 4 * b or w <= 4 * b:
        return None, "photo too small to locate a leaf"
    frame = np.concatenate([lab[:b].reshape(-1, 3), lab[-b:].reshape(-1, 3),
                            lab[b:-b, :b].reshape(-1, 3), lab[b:-b, -b:].reshape(-1, 3)])
    ref = np.median(frame, axis=0)
    near = np.linalg.norm(frame - ref, axis=1) < cfg.color_tolerance
    if near.mean() < cfg.plain_border_share:
        return None, "no plain background around the leaf"
    dist = np.linalg.norm(lab - ref, axis=2)
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    grad = np.hypot(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))
    ring = np.zeros(gray.shape, bool)
    ring[1:b + 1, 1:-1] = ring[-b - 1:-1, 1:-1] = ring[1:-1, 1:b + 1] = ring[1:-1, -b - 1:-1] = True
    background = ring & (dist < cfg.color_tolerance)
    if not background.any() or float(np.median(grad[background])) > cfg.max_texture:
        return None, "no plain background around the leaf"
    d8 = np.clip(dist * 2, 0, 255).astype(np.uint8)
    otsu, _ = cv2.threshold(d8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    thr = max(otsu, 2 * cfg.color_tolerance)
    mask = (d8 > thr).astype(np.uint8) * 255
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel, iterations=2)
    return mask, ""


def main_component(mask: np.ndarray) -> np.ndarray | None:
    """The largest connected component, with its holes filled (lesions inside a leaf are leaf)."""
    n, lab, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return None
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    comp = (lab == best).astype(np.uint8) * 255
    contours, _ = cv2.findContours(comp, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros_like(comp)
    cv2.drawContours(filled, contours, -1, 255, thickness=cv2.FILLED)
    return filled


def locate(rgb: np.ndarray, cfg: LocatorConfig = LocatorConfig()) -> Located:
    """Crop `rgb` to its main leaf when the background is plain; otherwise return the whole photo."""
    h, w = rgb.shape[:2]
    whole = (0, 0, w, h)
    if not cfg.enabled:
        return Located(rgb, WHOLE, whole, reason="locator off")
    mask, why = foreground_mask(rgb, cfg)
    if mask is None:
        return Located(rgb, WHOLE, whole, reason=why)
    comp = main_component(mask)
    if comp is None:
        return Located(rgb, WHOLE, whole, reason="nothing stands out from the background")
    area = float(comp.mean() / 255)
    if area < cfg.min_area:
        return Located(rgb, WHOLE, whole, reason=f"the largest object covers only {area:.0%} of the photo")
    sh, sw = comp.shape
    ys, xs = np.nonzero(comp)
    bx0, bx1, by0, by1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    box_share = (bx1 - bx0) * (by1 - by0) / (sw * sh)
    if area > cfg.max_area or box_share > 0.9:
        return Located(rgb, WHOLE, whole, reason="the leaf fills the photo")
    mx, my = cfg.margin * (bx1 - bx0), cfg.margin * (by1 - by0)
    fx, fy = w / sw, h / sh
    x0, x1 = int(max(0, (bx0 - mx) * fx)), int(min(w, np.ceil((bx1 + mx) * fx)))
    y0, y1 = int(max(0, (by0 - my) * fy)), int(min(h, np.ceil((by1 + my) * fy)))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return Located(rgb, WHOLE, whole, reason="the leaf is too small to crop")
    crop = rgb[y0:y1, x0:x1]
    rotated = cfg.landscape and (y1 - y0) > 1.15 * (x1 - x0)
    if rotated:
        crop = cv2.rotate(crop, cv2.ROTATE_90_CLOCKWISE)
    return Located(np.ascontiguousarray(crop), LEAF, (x0, y0, x1, y1), rotated)


def plant_share(rgb: np.ndarray, size: int = 32) -> float:
    """Share of a smoothed, small copy that has a living-leaf colour (yellow-green to green, saturated,
    not dark). Smoothing first matters: per-pixel noise averages to grey and does not count. The runtime
    uses it so that a photo showing plant tissue is never answered "not a leaf"."""
    small, _ = _small(rgb, size)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    green = (h >= 22) & (h <= 90) & (s >= 60) & (v >= 40)
    return float(green.mean())

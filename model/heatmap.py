"""Class-activation heatmaps: where in the photo the model found its evidence.

The ONNX model's second output is the classifier applied at every cell of the last feature map (6x6 for a
192-px input); its spatial mean is the logit, so this map costs nothing extra and explains exactly the
score that was reported. We upsample it over the crop the network saw.
"""
from __future__ import annotations

import cv2
import numpy as np


def normalize_cam(cam: np.ndarray) -> np.ndarray:
    """h x w class map -> [0, 1], 1 where the evidence for the class is strongest (min-max; flat -> 0)."""
    cam = np.asarray(cam, dtype=np.float32)
    lo, hi = float(cam.min()), float(cam.max())
    if not np.isfinite([lo, hi]).all() or hi - lo < 1e-6:
        return np.zeros_like(cam)
    return (cam - lo) / (hi - lo)


def overlay(rgb: np.ndarray, cam: np.ndarray, alpha: float = 0.45, colormap: int = cv2.COLORMAP_JET) -> np.ndarray:
    """Blend a colour-mapped class map over `rgb` (uint8 HxWx3, the crop the model saw) -> uint8 HxWx3 RGB."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    h, w = rgb.shape[:2]
    heat = cv2.resize(normalize_cam(cam), (w, h), interpolation=cv2.INTER_CUBIC)
    heat = np.clip(heat * 255.0, 0, 255).astype(np.uint8)
    coloured = cv2.cvtColor(cv2.applyColorMap(heat, colormap), cv2.COLOR_BGR2RGB)
    return cv2.addWeighted(rgb, 1.0 - alpha, coloured, alpha, 0.0)


def overlay_on_photo(photo: np.ndarray, cam: np.ndarray, box: tuple[int, int, int, int], rotated: bool,
                     alpha: float = 0.45, colormap: int = cv2.COLORMAP_JET) -> np.ndarray:
    """Blend the class map over the original photo: the map covers `box` (where the leaf locator cropped;
    the whole photo when it did not), turned back when the locator turned the crop to landscape."""
    x0, y0, x1, y1 = box
    heat = normalize_cam(cam)
    if rotated:  # the crop was turned clockwise for the network: turn its map back
        heat = np.ascontiguousarray(np.rot90(heat, 1))
    region = np.ascontiguousarray(photo[y0:y1, x0:x1])
    out = photo.copy()
    out[y0:y1, x0:x1] = overlay(region, heat, alpha=alpha, colormap=colormap)
    return out

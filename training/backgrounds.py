"""Backgrounds and synthetic non-leaf photos, so the model cannot recognise a dataset by its backdrop.

Every lab dataset has its own look (PlantVillage: a grey table; BRACOL: a bright scanner; tea: paper),
and a model trained on them learns the look. `replace_background` cuts the leaf out with the runtime's own
locator mask and pastes it, turned and scaled at random and with a soft shadow, on paper of several
whites and greys, squared paper, soil, a hand's skin tone, a wooden or dark table, or foliage cut from
the field datasets' training photos. `synthetic_negative` draws what a phone may photograph that is not a
plant (blank frames, gradients, sensor noise, printed text, shapes, bare paper and soil); they train the
no-leaf class, so "not a leaf" is learned from things that are not leaves, not from unfamiliar leaves.
"""
from __future__ import annotations

import string

import cv2
import numpy as np

from leafscout.model.locate import LocatorConfig, foreground_mask, main_component

PAPER, SQUARED, SOIL, HAND, TABLE, DARK, FOLIAGE = "paper", "squared", "soil", "hand", "table", "dark", "foliage"
KINDS = (PAPER, SQUARED, SOIL, HAND, TABLE, DARK, FOLIAGE)
KIND_P = (0.24, 0.16, 0.12, 0.08, 0.1, 0.06, 0.24)


def _smooth_noise(h: int, w: int, rng: np.random.Generator, scale: int, amp: float) -> np.ndarray:
    """Low-frequency noise: random values on a coarse grid, upsampled smoothly (float32, zero mean)."""
    gh, gw = max(2, h // scale), max(2, w // scale)
    coarse = rng.normal(0, amp, (gh, gw)).astype(np.float32)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)


def _lit(base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Uneven light across a sheet: a linear gradient plus soft blotches."""
    h, w = base.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ang = rng.uniform(0, 2 * np.pi)
    grad = (np.cos(ang) * xx / w + np.sin(ang) * yy / h) * rng.uniform(-40, 40)
    light = grad + _smooth_noise(h, w, rng, max(8, h // 3), rng.uniform(2, 10))
    return np.clip(base + light[..., None], 0, 255)


def _solid(h, w, rgb, rng, grain=3.0):
    base = np.empty((h, w, 3), np.float32)
    base[:] = rgb
    return base + rng.normal(0, grain, (h, w, 1)).astype(np.float32)


def make_background(kind: str, h: int, w: int, rng: np.random.Generator, foliage: list | None = None) -> np.ndarray:
    """RGB uint8 HxW background of the given kind. `foliage` is a list of field photos (RGB arrays) to crop."""
    if kind == FOLIAGE and foliage:
        src = foliage[rng.integers(len(foliage))]
        sh, sw = src.shape[:2]
        s = rng.uniform(0.35, 0.9)
        ch, cw = max(8, int(sh * s)), max(8, int(sw * s))
        y, x = rng.integers(0, sh - ch + 1), rng.integers(0, sw - cw + 1)
        patch = cv2.resize(src[y:y + ch, x:x + cw], (w, h), interpolation=cv2.INTER_LINEAR)
        k = int(rng.choice([1, 3, 5, 7, 9]))  # depth of field: the leaf is in focus, what is behind less so
        return cv2.GaussianBlur(patch, (k, k), 0) if k > 1 else patch
    if kind in (PAPER, SQUARED):
        white = rng.uniform(175, 252)
        tint = rng.normal(0, 5, 3)
        img = _lit(_solid(h, w, white + tint, rng, 2.0), rng)
        if kind == SQUARED:
            step = int(rng.integers(max(6, min(h, w) // 28), max(8, min(h, w) // 7)))
            colour = np.array([rng.uniform(90, 180), rng.uniform(120, 200), rng.uniform(170, 235)])
            if rng.random() < 0.4:
                colour = np.full(3, rng.uniform(100, 190))
            off_x, off_y = rng.integers(step), rng.integers(step)
            for x in range(int(off_x), w, step):
                cv2.line(img, (x, 0), (x, h - 1), colour.tolist(), 1)
            if rng.random() < 0.8:  # squared; otherwise ruled lines only
                for y in range(int(off_y), h, step):
                    cv2.line(img, (0, y), (w - 1, y), colour.tolist(), 1)
        return img.clip(0, 255).astype(np.uint8)
    if kind == SOIL:
        base = np.array([rng.uniform(70, 150), rng.uniform(45, 100), rng.uniform(25, 70)])
        img = _solid(h, w, base, rng, 10.0) + _smooth_noise(h, w, rng, 6, 18)[..., None]
        return cv2.GaussianBlur(img.clip(0, 255).astype(np.uint8), (3, 3), 0)
    if kind == HAND:
        base = np.array([rng.uniform(150, 230), rng.uniform(100, 170), rng.uniform(80, 140)])
        return _lit(_solid(h, w, base, rng, 3.0), rng).clip(0, 255).astype(np.uint8)
    if kind == TABLE:
        base = np.array([rng.uniform(90, 200), rng.uniform(60, 150), rng.uniform(30, 110)])
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        freq = rng.uniform(0.05, 0.3)
        grain = np.sin(xx * freq + _smooth_noise(h, w, rng, 10, 3.0)) * rng.uniform(5, 20)
        if rng.random() < 0.5:
            grain = grain.T if h == w else np.sin(yy * freq) * rng.uniform(5, 20)
        return _lit(_solid(h, w, base, rng, 3.0) + grain[..., None], rng).clip(0, 255).astype(np.uint8)
    # DARK cloth or a shaded table
    base = np.full(3, rng.uniform(10, 70)) + rng.normal(0, 6, 3)
    return _lit(_solid(h, w, base, rng, 4.0), rng).clip(0, 255).astype(np.uint8)


def saturation_mask(rgb: np.ndarray, size: int = 128) -> np.ndarray | None:
    """Leaf mask for a coloured leaf on a grey backdrop (PlantVillage's textured table, which the locator
    rightly does not call plain): Otsu on saturation, accepted only when the rest is nearly grey."""
    small = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)
    sat = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_RGB2HSV)[..., 1], (5, 5), 0)
    thr, mask = cv2.threshold(sat, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if thr < 40 or np.median(sat[mask == 0]) > 45:
        return None
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    mask = cv2.morphologyEx(cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel), cv2.MORPH_CLOSE, kernel)
    return mask


def leaf_alpha(rgb: np.ndarray, cfg: LocatorConfig = LocatorConfig()) -> np.ndarray | None:
    """Soft float32 HxW alpha (1 = leaf) of the main object on a plain or grey backdrop, or None."""
    mask, _ = foreground_mask(rgb, cfg)
    if mask is None:
        mask = saturation_mask(rgb)
    if mask is None:
        return None
    comp = main_component(mask)
    if comp is None:
        return None
    share = comp.mean() / 255
    if not 0.04 < share < 0.85:
        return None
    h, w = rgb.shape[:2]
    comp = cv2.erode(comp, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))  # drop the halo of old background
    alpha = cv2.resize(comp.astype(np.float32) / 255, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.GaussianBlur(alpha, (5, 5), 0)


def replace_background(rgb: np.ndarray, alpha: np.ndarray, rng: np.random.Generator,
                       foliage: list | None = None, kind: str | None = None) -> np.ndarray:
    """Paste the leaf (`alpha` > 0) on a new background: any rotation, 25-85% of the frame, a new aspect
    and a soft shadow. Returns RGB uint8 of a random photo-like size."""
    ys, xs = np.nonzero(alpha > 0.5)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    leaf = rgb[y0:y1, x0:x1].astype(np.float32)
    a = alpha[y0:y1, x0:x1]
    # rotate the cut-out by any angle on an expanded canvas
    angle = rng.uniform(0, 360)
    lh, lw = a.shape
    m = cv2.getRotationMatrix2D((lw / 2, lh / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(lh * sin + lw * cos) + 2, int(lh * cos + lw * sin) + 2
    m[0, 2] += nw / 2 - lw / 2
    m[1, 2] += nh / 2 - lh / 2
    leaf = cv2.warpAffine(leaf, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    a = cv2.warpAffine(a, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=0)
    # canvas: the leaf covers 25-85% of the longer side, aspect of a phone photo either way up
    side = rng.uniform(1.15, 2.6) * max(nw, nh)
    aspect = rng.choice([1.0, 4 / 3, 3 / 4, 16 / 9, 9 / 16])
    cw, ch = int(side * np.sqrt(aspect)), int(side / np.sqrt(aspect))
    cw, ch = max(cw, nw + 2), max(ch, nh + 2)
    scale = min(1.0, 384 / max(cw, ch))  # keep the work small: the network sees 160-192 px
    if scale < 1:
        leaf = cv2.resize(leaf, (max(1, int(nw * scale)), max(1, int(nh * scale))), interpolation=cv2.INTER_AREA)
        a = cv2.resize(a, (leaf.shape[1], leaf.shape[0]), interpolation=cv2.INTER_AREA)
        cw, ch = max(int(cw * scale), leaf.shape[1] + 2), max(int(ch * scale), leaf.shape[0] + 2)
    nh, nw = a.shape
    kind = kind or str(rng.choice(KINDS, p=KIND_P))
    bg = make_background(kind, ch, cw, rng, foliage).astype(np.float32)
    px, py = int(rng.integers(0, cw - nw + 1)), int(rng.integers(0, ch - nh + 1))
    if kind != FOLIAGE and rng.random() < 0.6:  # a soft shadow offset from the leaf
        sx, sy = int(rng.integers(-nw // 12 - 1, nw // 12 + 2)), int(rng.integers(-nh // 12 - 1, nh // 12 + 2))
        shadow = np.zeros((ch, cw), np.float32)
        ox, oy = np.clip(px + sx, 0, cw - nw), np.clip(py + sy, 0, ch - nh)
        shadow[oy:oy + nh, ox:ox + nw] = a
        k = int(max(3, (min(nw, nh) // 8) | 1))
        shadow = cv2.GaussianBlur(shadow, (k, k), 0) * rng.uniform(0.2, 0.5)
        bg *= (1 - shadow)[..., None]
    region = bg[py:py + nh, px:px + nw]
    region[:] = region * (1 - a[..., None]) + leaf * a[..., None]
    return bg.clip(0, 255).astype(np.uint8)


def _text_image(h, w, rng):
    img = make_background(PAPER, h, w, rng) if rng.random() < 0.7 else \
        np.full((h, w, 3), rng.integers(0, 256, 3), np.uint8)
    colour = tuple(int(c) for c in rng.integers(0, 120, 3))
    for _ in range(int(rng.integers(2, 9))):
        n = int(rng.integers(3, 18))
        text = "".join(rng.choice(list(string.ascii_letters + string.digits + " .,:-"), n))
        org = (int(rng.integers(0, w // 2)), int(rng.integers(12, h)))
        cv2.putText(img, text, org, int(rng.integers(0, 8)), rng.uniform(0.3, 1.4), colour,
                    int(rng.integers(1, 3)), cv2.LINE_AA)
    return img


def _shapes_image(h, w, rng):
    img = np.full((h, w, 3), rng.integers(0, 256, 3), np.uint8)
    for _ in range(int(rng.integers(1, 8))):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            p2 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            cv2.rectangle(img, p1, p2, colour, -1 if rng.random() < 0.6 else 2)
        else:
            c = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            cv2.circle(img, c, int(rng.integers(4, max(5, min(h, w) // 2))), colour, -1 if rng.random() < 0.6 else 2)
    return img


def synthetic_negative(rng: np.random.Generator, size: int = 256) -> np.ndarray:
    """One non-plant photo (RGB uint8): blank, gradient, noise, text, shapes, bare paper, soil, sky-like."""
    h = w = size
    kind = rng.integers(9)
    if kind == 0:  # a blank frame of any colour, white included
        c = rng.integers(0, 256, 3) if rng.random() < 0.5 else np.full(3, rng.integers(200, 256))
        return np.clip(_solid(h, w, c, rng, rng.uniform(0, 4)), 0, 255).astype(np.uint8)
    if kind == 1:  # a gradient between two colours
        c0, c1 = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        t = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
        img = c0 * (1 - t) + c1 * t
        img = np.broadcast_to(img, (h, w, 3))
        return (np.rot90(img, int(rng.integers(4))).clip(0, 255)).astype(np.uint8).copy()
    if kind == 2:  # sensor or random noise, grey or colour, fine or coarse
        cells = int(rng.choice([1, 2, 4, 8]))
        n = rng.integers(0, 256, (h // cells, w // cells, 1 if rng.random() < 0.3 else 3)).astype(np.uint8)
        n = cv2.resize(n, (w, h), interpolation=cv2.INTER_NEAREST)
        return np.repeat(n[..., None], 3, 2) if n.ndim == 2 else n
    if kind == 3:
        return _text_image(h, w, rng)
    if kind == 4:
        return _shapes_image(h, w, rng)
    if kind == 5:
        return make_background(str(rng.choice([PAPER, SQUARED])), h, w, rng)
    if kind == 6:
        return make_background(str(rng.choice([SOIL, TABLE, DARK, HAND])), h, w, rng)
    if kind == 7:  # sky: blue gradient with soft clouds
        top, bottom = np.array([rng.uniform(40, 120), rng.uniform(100, 170), rng.uniform(180, 255)]), \
            np.array([rng.uniform(150, 220), rng.uniform(180, 230), rng.uniform(220, 255)])
        t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
        img = top * (1 - t) + bottom * t + np.zeros((h, w, 3), np.float32)
        img += np.clip(_smooth_noise(h, w, rng, 16, 60), 0, None)[..., None]
        return img.clip(0, 255).astype(np.uint8)
    # gaussian noise over a mid grey (a dark, high-ISO frame)
    img = rng.normal(rng.uniform(20, 200), rng.uniform(10, 60), (h, w, 3))
    return img.clip(0, 255).astype(np.uint8)

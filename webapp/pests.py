"""Insects found in a photo, for the app: boxes drawn on the photo, counts and act-or-not in Vietnamese or English.

Pure functions over the language-free diagnosis state (`Diagnosis.to_dict()`: `pests`, `pest_counts`,
`pest_actions`), so the page can re-render in another language without running the detector again.
Box numbers are drawn on the photo (OpenCV cannot draw Vietnamese letters); the list under the card names them.
"""
from __future__ import annotations

import html

import cv2
import numpy as np

# one colour per label, in order of first appearance (RGB), readable on green leaves and brown mud
COLOURS = ((255, 64, 64), (255, 200, 0), (0, 170, 255), (255, 0, 200), (255, 128, 0), (140, 90, 255))

TEXTS = {
    "found": {"en": "Insects in the photo", "vi": "Côn trùng trong ảnh"},
    "none": {"en": "No insect found in the photo.", "vi": "Không thấy côn trùng trong ảnh."},
    "act": {"en": "Act", "vi": "Cần xử lý"},
    "watch": {"en": "Below the threshold in this photo", "vi": "Chưa tới ngưỡng trong ảnh này"},
    "no_threshold": {"en": "Not compared", "vi": "Không so sánh"},
    "boxes": {"en": "boxes", "vi": "khung"},
}


def _lang(lang: str) -> str:
    return "en" if str(lang).lower().startswith("en") else "vi"


def _name(action: dict | None, label: str, lang: str) -> str:
    if action and action.get("name"):
        return action["name"].get(lang) or label
    return label


def colour_map(pests: list[dict]) -> dict[str, tuple[int, int, int]]:
    out: dict[str, tuple[int, int, int]] = {}
    for p in pests:
        if p["label"] not in out:
            out[p["label"]] = COLOURS[len(out) % len(COLOURS)]
    return out


def box_canvas(rgb: np.ndarray, orig_size: tuple[int, int] | None = None):
    """What every box drawer needs: a copy of `rgb` to draw on, a function mapping a box in the original photo's
    pixels (`orig_size` = its width, height, when `rgb` is a smaller decode) to two corner points on the copy,
    and a line thickness and font scale that read at the photo's size."""
    out = np.ascontiguousarray(rgb.copy())
    h, w = out.shape[:2]
    sx = sy = 1.0
    if orig_size:
        sx, sy = w / float(orig_size[0]), h / float(orig_size[1])

    def to_pixels(box):
        x0, y0, x1, y1 = box
        return (int(round(x0 * sx)), int(round(y0 * sy))), (int(round(x1 * sx)), int(round(y1 * sy)))

    return out, to_pixels, max(2, round(max(h, w) / 300)), max(0.5, max(h, w) / 900)


def draw_pests(rgb: np.ndarray, pests: list[dict], orig_size: tuple[int, int] | None = None) -> np.ndarray:
    """A copy of `rgb` (uint8 HxWx3) with each pest's box and number (1, 2, ... in list order) drawn on it.

    Boxes are in the original photo's pixels; `orig_size` (width, height) is that photo's size when `rgb` is a
    smaller decode of it (the boxes are scaled to `rgb`)."""
    out, to_pixels, thick, scale = box_canvas(rgb, orig_size)
    h = out.shape[0]
    colours = colour_map(pests)
    for i, p in enumerate(pests, 1):
        a, b = to_pixels(p["box"])
        c = colours[p["label"]]
        cv2.rectangle(out, a, b, c, thick)
        text = str(i)
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        ty = a[1] - 2 if a[1] - th - base - 2 >= 0 else min(h - 1, b[1] + th + 2)
        cv2.rectangle(out, (a[0], ty - th - base), (a[0] + tw + 4, ty + base // 2), c, -1)
        cv2.putText(out, text, (a[0] + 2, ty - base // 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick,
                    cv2.LINE_AA)
    return out


def photo_with_boxes(path: str, pests: list[dict], max_side: int = 1024, leaves: list[dict] | None = None
                     ) -> np.ndarray | None:
    """The photo at `path` (through the image gate, decoded at reduced size when big) with the boxes drawn:
    the leaves looked at (webapp/leaves.py, under) and the insects (over)."""
    from leafscout.model.imageio import check_image, read_image
    try:
        info = check_image(path)
        rgb = read_image(path, min_short_side=min(max_side, min(info.width, info.height)))
    except Exception:
        return None
    w, h = (info.height, info.width) if info.orientation in (5, 6, 7, 8) else (info.width, info.height)
    if (rgb.shape[1] > rgb.shape[0]) != (w > h) and w != h:
        w, h = h, w
    if max(rgb.shape[:2]) > max_side:
        f = max_side / max(rgb.shape[:2])
        rgb = cv2.resize(rgb, (round(rgb.shape[1] * f), round(rgb.shape[0] * f)), interpolation=cv2.INTER_AREA)
    if leaves:
        from leafscout.webapp.leaves import draw_leaves
        rgb = draw_leaves(rgb, leaves, (w, h))
    return draw_pests(rgb, pests, (w, h))


def counts_line(counts: dict[str, int], actions: list[dict] | None, lang: str) -> str:
    """'Found 3 × Brown planthopper, 1 × Rice bug' / 'Tìm thấy 3 × Rầy nâu, 1 × Bọ xít dài' (plain text)."""
    lang = _lang(lang)
    if not counts:
        return TEXTS["none"][lang]
    by = {a["label"]: a for a in actions or []}
    parts = [f"{n} × {_name(by.get(lab), lab, lang)}" for lab, n in counts.items()]
    return ("Found " if lang == "en" else "Tìm thấy ") + ", ".join(parts)


def pests_html(state: dict | None, lang: str) -> str:
    """The insects section under the answer card (empty string when no detector ran). Every text escaped."""
    if not state or state.get("pests") is None:
        return ""
    lang = _lang(lang)
    h = html.escape
    pests = state.get("pests") or []
    counts = state.get("pest_counts") or {}
    actions = state.get("pest_actions") or []
    if not pests:
        return f'<div class="card card-pests" data-pests="0"><p>{h(TEXTS["none"][lang])}</p></div>'
    colours = colour_map(pests)
    numbers: dict[str, list[int]] = {}
    for i, p in enumerate(pests, 1):
        numbers.setdefault(p["label"], []).append(i)
    rows = []
    for a in actions:
        verdict = (TEXTS["act"] if a.get("act") is True else TEXTS["watch"] if a.get("act") is False
                   else TEXTS["no_threshold"])[lang]
        r, g, b = colours.get(a["label"], (0, 0, 0))
        nums = ", ".join(str(n) for n in numbers.get(a["label"], []))
        text = (a.get("text") or {}).get(lang, "")
        rows.append(f'<li data-label="{h(a["label"])}" data-act="{h(str(a.get("act")).lower())}">'
                    f'<span style="color:rgb({r},{g},{b})">&#9632;</span> <b>{h(str(a["count"]))} × '
                    f'{h(_name(a, a["label"], lang))}</b> ({h(TEXTS["boxes"][lang])} {h(nums)}): '
                    f'<b>{h(verdict)}</b>. {h(text)}</li>')
    return (f'<div class="card card-pests" data-pests="{len(pests)}"><div class="card-title">'
            f'{h(TEXTS["found"][lang])}</div><p>{h(counts_line(counts, actions, lang))}</p>'
            f'<ul>{"".join(rows)}</ul></div>')


def counts_cell(counts: dict[str, int] | None) -> str:
    """Machine-readable counts for the batch CSV: 'rice.brown_planthopper=3; rice.rice_bug=1' ('' when none)."""
    return "; ".join(f"{lab}={n}" for lab, n in sorted((counts or {}).items()))

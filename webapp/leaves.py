"""Leaves found in a field photo, for the app: numbered boxes on the photo and one line per leaf under the card.

A scene detector finds the leaves of a field photo and the classifier names each (`Result.leaves`); the answer
weighs them with the whole photo. The grower sees which leaves were looked at and what each showed, so a
wrong answer can be traced to a leaf (and a better photo of that leaf taken). Pure functions over the
language-free state (`Diagnosis.to_dict()["leaves"]`), like webapp/pests.py.
Leaves are drawn in white with "L1", "L2" ... (insects keep their coloured boxes and plain numbers).
"""
from __future__ import annotations

import html

import cv2
import numpy as np

LEAF_COLOUR = (255, 255, 255)
TEXTS = {
    "title": {"en": "Leaves looked at", "vi": "Các lá đã xem"},
    "lead": {"en": "The answer weighs the whole photo and these leaves, each named on its own:",
             "vi": "Kết quả cân nhắc cả ảnh và từng lá dưới đây:"},
}


def _lang(lang: str) -> str:
    return "en" if str(lang).lower().startswith("en") else "vi"


def draw_leaves(rgb: np.ndarray, leaves: list[dict], orig_size: tuple[int, int] | None = None) -> np.ndarray:
    """A copy of `rgb` with each leaf's box and tag (L1, L2, ... in list order). Boxes are in the original
    photo's pixels; `orig_size` (width, height) when `rgb` is a smaller decode of it."""
    from .pests import box_canvas
    out, to_pixels, thick, scale = box_canvas(rgb, orig_size)
    for i, lf in enumerate(leaves, 1):
        a, b = to_pixels(lf["box"])
        cv2.rectangle(out, a, b, (0, 0, 0), thick + 2)  # a dark rim: white alone vanishes on a pale sky
        cv2.rectangle(out, a, b, LEAF_COLOUR, thick)
        text = f"L{i}"
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        tx, ty = a[0] + thick + 1, a[1] + th + thick + 2
        cv2.rectangle(out, (tx - 2, ty - th - 2), (tx + tw + 2, ty + base), LEAF_COLOUR, -1)
        cv2.putText(out, text, (tx, ty), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick, cv2.LINE_AA)
    return out


def leaves_html(state: dict | None, name_of, lang: str) -> str:
    """The leaves section under the answer card ('' when no leaves were looked at). `name_of(label, lang)` gives
    a label's plain words. Every text escaped."""
    leaves = (state or {}).get("leaves")
    if not leaves:
        return ""
    lang = _lang(lang)
    h = html.escape
    rows = []
    for i, lf in enumerate(leaves, 1):
        conf = lf.get("confidence")
        pct = f" · {round(100 * conf)}%" if isinstance(conf, (int, float)) else ""
        name = name_of(lf.get("label"), lang) if lf.get("label") else "-"
        rows.append(f'<li data-leaf="{i}" data-label="{h(str(lf.get("label") or ""))}"><b>L{i}</b> '
                    f'{h(name)}{h(pct)}</li>')
    return (f'<div class="card card-leaves" data-leaves="{len(leaves)}"><div class="card-title">'
            f'{h(TEXTS["title"][lang])}</div><p>{h(TEXTS["lead"][lang])}</p><ul>{"".join(rows)}</ul></div>')

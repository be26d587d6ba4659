"""Which crop a plot grows, from the free text the officer typed when the plot was made ("Cà phê chè", "arabica
coffee", "Mận Hậu", "ngo lai").

Why: a grower who records a photo against a plot has already said what grows there. The model's answer keeps to
that crop's labels, as with `--crop` (on the val photos naming the crop lifts PlantVillage tomato late blight from
75% to 92.5%, `benchmarks/answer_eval.py --per-class`), and a plot of a crop the model has no labels for (longan,
plum, custard apple) is never answered "ok" with another crop's disease.

Matching is by whole words against each crop's id, its English and Vietnamese names in the knowledge base (each
part of a name split at parentheses, commas and "and"/"và") and the runtime's aliases ("maize", "pomelo"). The
longest phrase found wins where phrases overlap ("cà phê chè", Arabica coffee, names coffee, not tea's "chè", as an alias of its own);
a text that names two crops apart ("coffee and tea", an intercropped plot) gives no answer rather than a guess. Accents count ("nhỏ", small, is not "nho", grape) unless the
text has none at all, as typed on a keyboard without Vietnamese input ("ca phe", "lua").
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Everyday Vietnamese words for crops whose knowledge-base name is a group ("Cây có múi") or a longer phrase
VI_ALIASES = {"cà phê chè": "coffee", "cà phê vối": "coffee", "cà phê mít": "coffee",  # arabica, robusta, excelsa
              "cam": "citrus", "quýt": "citrus", "bưởi": "citrus", "chanh": "citrus", "ớt": "chilli",
              "đậu": "bean", "bắp": "corn", "nhãn": "longan"}
_WORD = re.compile(r"\w+", re.UNICODE)
_SPLIT = re.compile(r"[(),;/]|\band\b|\bvà\b", re.IGNORECASE)


def _fold(text: str) -> str:
    """Case-folded, without diacritics (đ -> d)."""
    text = unicodedata.normalize("NFKD", text.casefold().replace("đ", "d"))
    return "".join(c for c in text if not unicodedata.combining(c))


@lru_cache(maxsize=4096)  # the same crop names are matched for every photo of a plot
def _words(text: str, fold: bool) -> tuple[str, ...]:
    # "_" is a word character to the regex, but people write it for a space in ids ("--crop cà_chua", "pepper_bell")
    text = unicodedata.normalize("NFC", text.casefold()).replace("_", " ")
    return tuple(_WORD.findall(_fold(text) if fold else text))


def _has_accents(text: str) -> bool:
    return _fold(text) != unicodedata.normalize("NFC", text.casefold())


def crop_phrases(crop_names: dict[str, dict[str, str]], aliases: dict[str, str] | None = None) -> dict[str, set[str]]:
    """{crop id: the phrases that name it}: the id, each part of its English and Vietnamese names, its aliases."""
    out: dict[str, set[str]] = {}
    for cid, names in crop_names.items():
        phrases = {cid.replace("_", " ")}
        for name in names.values():
            phrases.add(name)
            phrases.update(p for p in _SPLIT.split(name) if p and p.strip())
        out[cid] = {p.strip() for p in phrases if p.strip()}
    for alias, cid in {**VI_ALIASES, **(aliases or {})}.items():
        if cid in out:
            out[cid].add(alias.replace("_", " "))
    return out


def _spans(needle: tuple[str, ...], hay: tuple[str, ...]) -> list[tuple[int, int]]:
    n = len(needle)
    return [(i, i + n) for i in range(len(hay) - n + 1) if n and hay[i:i + n] == needle]


def resolve_crop(text: str | None, phrases: dict[str, set[str]]) -> str | None:
    """The crop id the text names, or None (no crop named, or two crops named)."""
    if not text or not str(text).strip():
        return None
    fold = not _has_accents(str(text))
    hay = _words(str(text), fold)
    found = [(a, b, cid) for cid, names in phrases.items() for phrase in names
             for a, b in _spans(_words(phrase, fold), hay)]
    # a match inside a longer overlapping one is part of that name ("chè" in "cà phê chè", "bắp" in "bắp cải")
    kept = [(a, b, cid) for a, b, cid in found
            if not any(a2 < b and a < b2 and (b2 - a2) > (b - a) for a2, b2, _ in found)]
    crops = {cid for _, _, cid in kept}
    return crops.pop() if len(crops) == 1 else None

"""Name matching for the substance audit: aliases, Vietnamese names with or without accents, mixtures, formulation codes.

`fold` makes "Lưu huỳnh", "luu huynh" and "LƯU HUỲNH" the same key (Unicode NFD, combining marks
dropped, đ -> d). A query that names a prohibited substance anywhere (a mixture such as
"methyl eugenol + naled", or "abamectin 3.6EC") is not allowed, whatever else it names.
"""
from __future__ import annotations

import re
import unicodedata

_SEP = re.compile(r"[\s_\-/+,;()]+")


def fold(text: str) -> str:
    """Lower case, accents removed (NFD + strip combining marks, đ -> d), separators to single spaces."""
    s = unicodedata.normalize("NFD", str(text))
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Mn")
    s = s.replace("đ", "d").replace("Đ", "D").lower()
    return _SEP.sub(" ", s).strip()


def _contains(haystack: str, needle: str) -> bool:
    """`needle` as whole words of `haystack`; a name that ends in a letter may have a formulation code glued on
    ("abamectin3.6ec", "mancozeb80wp"), a name that ends in a digit may not run into more digits."""
    return bool(needle) and re.search(rf"(?<![a-z0-9]){re.escape(needle)}(?![a-z]|(?<=[0-9])[0-9])",
                                      haystack) is not None


def mixture_parts(query: str) -> list[str]:
    """The parts of a mixture named with "+" or "&" ("Bt + Karate 2.5EC"), outside parentheses, so a recipe such as
    "Bordeaux mixture (copper sulphate + lime)" stays one name; [query] when it names one thing."""
    parts, depth, cur = [], 0, ""
    for ch in str(query):
        depth += (ch == "(") - (ch == ")")
        if ch in "+&" and depth <= 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts = [x.strip() for x in parts + [cur] if fold(x)]
    return parts if len(parts) > 1 else [str(query).strip()]


_CODE_AFTER_NUMBER = re.compile(r"\d+(?:[.,]\d+)?\s*([A-Za-z]{2,3})(?![A-Za-z])")
_CODE_ALONE = re.compile(r"(?<![A-Za-z0-9])([A-Z]{2,3})(?![A-Za-z])")


def formulation(query: str, codes: dict) -> tuple[str, str] | None:
    """(application, CODE) of the first formulation code in `query` that `codes` (rules.formulation_codes:
    application -> {codes: [...]}) knows, else None. A code counts after a figure ("25SC", "0.5 WG", "80wp") or
    alone in capitals ("Spinosad SC"); a lower-case word with no figure before it is a word, not a code."""
    by_code = {str(c).upper(): app for app, spec in (codes or {}).items() for c in (spec or {}).get("codes") or []}
    text = unicodedata.normalize("NFC", str(query))
    hits = sorted([(m.start(1), m.group(1).upper()) for m in _CODE_AFTER_NUMBER.finditer(text)]
                  + [(m.start(1), m.group(1)) for m in _CODE_ALONE.finditer(text)])
    for _, code in hits:
        if code in by_code:
            return by_code[code], code
    return None


class SubstanceIndex:
    """Folded names -> ('prohibited' | 'treatment', id); built once per knowledge base."""

    def __init__(self, prohibited: dict, treatments: dict):
        self.names: dict[str, tuple[str, str]] = {}
        self.written: dict[str, str] = {}  # folded key -> the name as the knowledge base writes it
        self.ingredient_of = {sid: list((s or {}).get("ingredient_of") or []) for sid, s in prohibited.items()}
        for sid, s in prohibited.items():
            for n in [sid] + list((s or {}).get("aliases") or []):
                self.names.setdefault(fold(n), ("prohibited", sid))
        for tid, t in treatments.items():
            if t.get("category") not in ("biological", "botanical", "mineral", "trap"):
                continue  # cultural and mechanical measures are not substances
            pool = [tid, t["names"]["en"], t["names"]["vi"], t.get("active") or ""] + list(t.get("aliases") or [])
            for n in pool:
                key = fold(n)
                if key and key not in self.names:
                    self.names[key] = ("treatment", tid)
                    self.written[key] = str(n)

    def lookup(self, query: str) -> tuple[str, str] | None:
        """Exact folded match first; then the longest prohibited name inside the query; then the longest
        treatment name inside it. None when nothing matches."""
        q = fold(query)
        if not q:
            return None
        if q in self.names:
            return self.names[q]
        found = [(len(k), kind, ident) for k, (kind, ident) in self.names.items() if _contains(q, k)]
        prohibited = sorted((f for f in found if f[1] == "prohibited"), reverse=True)
        treatments = sorted((f for f in found if f[1] == "treatment"), reverse=True)
        # "Bordeaux mixture (copper sulphate + lime)": an ingredient named with the product it makes
        prohibited = [f for f in prohibited
                      if not any(t[2] in self.ingredient_of.get(f[2], []) for t in treatments)]
        if prohibited:
            return "prohibited", prohibited[0][2]
        if treatments:
            return "treatment", treatments[0][2]
        return None

    def treatments_in(self, query: str) -> list[tuple[str, str]]:
        """Every (treatment id, folded name) whose name is in the query, longest name first."""
        q = fold(query)
        found = sorted(((len(k), k, ident) for k, (kind, ident) in self.names.items()
                        if kind == "treatment" and (k == q or _contains(q, k))), reverse=True)
        return [(ident, k) for _, k, ident in found]

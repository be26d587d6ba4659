"""Is a problem's `organism` text a Latin scientific name (the same in every language), or words to translate?

The rule, also in docs/knowledge-base.md: the text is one scientific name, or several separated by commas or
semicolons, each optionally followed by synonyms in one pair of parentheses. A name is a capitalised genus
(or its abbreviation, "P."), optionally "Candidatus " before it, then optionally either "sp."/"spp." or one
lowercase species epithet (hyphens allowed) with infraspecific ranks (subsp., pv., f. sp., var., f., bv.) and
their epithets. Anything else ("and other thrips", "not verified: ...", "(broad mite)", an English virus name)
is plain words: the entry then gives `organism_vi`, its Vietnamese.
"""
from __future__ import annotations

import re

_GENUS = r"(?:[A-Z][a-z]+|[A-Z]\.)"
_EPITHET = r"[a-z]{2,}(?:-[a-z]+)*"
_RANK = r"(?:subsp\.|ssp\.|pv\.|f\.\s?sp\.|var\.|bv\.|f\.)"
_NAME = rf"(?:Candidatus\s+)?{_GENUS}(?:\s+(?:spp?\.|{_EPITHET}(?:\s+{_RANK}\s*{_EPITHET})*))?"
_NAMES = rf"{_NAME}(?:\s*[,;]\s*{_NAME})*"
_WITH_SYNONYMS = rf"{_NAME}(?:\s*\(\s*{_NAMES}\s*\))?"
_SCIENTIFIC = re.compile(rf"\s*{_WITH_SYNONYMS}(?:\s*[,;]\s*{_WITH_SYNONYMS})*\s*")


def is_scientific_name(text: str | None) -> bool:
    """True when `text` is only Latin scientific names (needs no translation); False for plain words."""
    return isinstance(text, str) and bool(_SCIENTIFIC.fullmatch(text))


def organism_for(problem: dict, lang: str) -> str | None:
    """The organism line for `lang`: on vi pages `organism_vi`, else `organism` only when it is a Latin name
    (a plain-words note without its Vietnamese is left out rather than shown in English)."""
    org = problem.get("organism")
    if lang == "vi":
        return problem.get("organism_vi") or (org if is_scientific_name(org) else None)
    return org or None

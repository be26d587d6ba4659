"""Per-treatment rules: each looks at one treatment in one context and may block it or add a caution.

Every limit (copper cap, heat, PHI, severity, allowed statuses) comes from the data; the rules only
compare numbers and flags, so they work for any crop the YAML adds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .context import Context


@dataclass
class Finding:
    block: bool
    code: str
    text: dict  # {en, vi}


def _fmt(template: dict, **kw) -> dict:
    return {lang: s.format(**kw) for lang, s in template.items()}


def _num(x: float) -> str:
    return f"{x:g}"


def organic_status(t: dict, ctx: Context, rules: dict) -> list[Finding]:
    """On organic farms, a treatment not allowed under an applicable standard is blocked (unverified shows in its status)."""
    out = []
    for sid in ctx.standards or rules["standards"]:
        s = t["status"].get(sid)
        if s is None:
            continue
        meaning = rules["statuses"][s["status"]]
        std_name = rules["standards"][sid]["name"]
        if not meaning["usable"] and ctx.organic:
            out.append(Finding(True, "status", {l: rules["blocked_reasons"]["status"][l].format(standard=std_name[l])
                                                for l in ("en", "vi")}))
    return out


def severity_cap(t: dict, ctx: Context, rules: dict) -> list[Finding]:
    """Low severity stops before the later (stronger) IPM categories: hold them back."""
    if ctx.severity is None:
        return []
    order = rules["ipm_order"]
    cap = rules["severity"][ctx.severity]["max_category"]
    if order.index(t["category"]) > order.index(cap):
        return [Finding(True, "severity", rules["blocked_reasons"]["severity"])]
    return []


def pre_harvest(t: dict, ctx: Context, rules: dict) -> list[Finding]:
    """Block when the pre-harvest interval is longer than the days left to harvest."""
    if t["category"] not in ("biological", "botanical", "mineral") or ctx.days_to_harvest is None:
        return []
    phi = t.get("phi_days")
    if phi is None:
        return [Finding(False, "phi_unknown", rules["messages"]["phi_unknown"])]
    if phi > ctx.days_to_harvest:
        return [Finding(True, "phi", _fmt(rules["blocked_reasons"]["phi"], phi=_num(phi), days=ctx.days_to_harvest))]
    return []


def copper_cap(t: dict, ctx: Context, rules: dict) -> list[Finding]:
    """Block copper when one more application would pass the 7-year cap; warn past the yearly average."""
    dose = t.get("copper_kg_ha")
    if not dose:
        return []
    lim = rules["limits"]["copper"]
    if ctx.copper_7y + dose > lim["cap_kg_ha_7y"]:
        return [Finding(True, "copper_cap", _fmt(rules["blocked_reasons"]["copper_cap"], used=_num(ctx.copper_7y),
                                                 dose=_num(dose), cap=_num(lim["cap_kg_ha_7y"])))]
    if ctx.copper_used_year_kg_ha + dose > lim.get("average_kg_ha_year", float("inf")):
        return [Finding(False, "copper_average", rules["messages"]["copper_average"])]
    return []


def heat(t: dict, ctx: Context, rules: dict) -> list[Finding]:
    """Products that burn leaves in heat: blocked in hot weather, a caution when the weather is unknown."""
    limit = t.get("phytotoxic_above_c")
    if limit is None or ctx.hot_weather is False:
        return []
    if ctx.hot_weather:
        return [Finding(True, "heat", _fmt(rules["blocked_reasons"]["heat"], heat=_num(limit)))]
    return [Finding(False, "heat", _fmt(rules["messages"]["heat_unknown"], heat=_num(limit)))]


RULES: tuple[Callable[[dict, Context, dict], list[Finding]], ...] = (
    organic_status, severity_cap, pre_harvest, copper_cap, heat)


def evaluate(t: dict, ctx: Context, rules: dict) -> list[Finding]:
    return [f for rule in RULES for f in rule(t, ctx, rules)]

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
    """Fill a {en, vi} template; numbers are written in each language's way (vi: decimal comma, "27,5")."""
    return {lang: s.format(**{k: _num(v, lang) if isinstance(v, (int, float)) else v for k, v in kw.items()})
            for lang, s in template.items()}


def _num(x: float, lang: str = "en") -> str:
    text = f"{x:g}"
    return text.replace(".", ",") if lang == "vi" else text


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


def favoured_by_wet(problem: dict | None, rules: dict) -> bool:
    """Does wet weather drive this problem? Its own `weather:` when given, else its type's default.
    `dew` (leaf wetness from rain, dew or fog) counts as wet."""
    if not problem:
        return False
    weather = problem.get("weather")
    if weather is None:
        return bool(rules["problem_types"].get(problem.get("type"), {}).get("weather_sensitive"))
    return weather in ("wet", "dew")


def weather_risk(problem: dict | None, ctx: Context, rules: dict) -> str:
    """'favourable' when today's weather drives this problem, 'unfavourable' when it does not, else 'unknown'.
    A `dew` problem is driven by dew and fog as much as by rain: a rain-free day does not rule it out."""
    weather = (problem or {}).get("weather") or ("wet" if favoured_by_wet(problem, rules) else "none")
    if weather == "none":
        return "unfavourable"
    if ctx.rainy_season is None:
        return "unknown"
    wet_now = ctx.rainy_season
    if weather == "dew":
        return "favourable" if wet_now else "unknown"
    return "favourable" if (weather == "wet") == wet_now else "unfavourable"


def severity_cap(t: dict, ctx: Context, rules: dict, problem: dict | None = None) -> list[Finding]:
    """Low severity stops before the later (stronger) IPM categories, unless the problem says it is fast and
    the weather drives it: then waiting a week can lose the field (rules.severity.*.by_speed)."""
    if ctx.severity is None:
        return []
    order = rules["ipm_order"]
    sev = rules["severity"][ctx.severity]
    cap = sev["max_category"]
    speed = (problem or {}).get("speed", "moderate")
    by_weather = (sev.get("by_speed") or {}).get(speed)
    if by_weather:
        cap = by_weather.get(weather_risk(problem, ctx, rules), cap)
    if order.index(t["category"]) > order.index(cap):
        key = "severity_fast" if speed == "fast" and "severity_fast" in rules["blocked_reasons"] else "severity"
        return [Finding(True, "severity", rules["blocked_reasons"][key])]
    return []


def pre_harvest(t: dict, ctx: Context, rules: dict) -> list[Finding]:
    """Block when the pre-harvest interval is longer than the days left to harvest."""
    if t["category"] not in ("biological", "botanical", "mineral") or ctx.days_to_harvest is None:
        return []
    phi = t.get("phi_days")
    if phi is None:
        return [Finding(False, "phi_unknown", rules["messages"]["phi_unknown"])]
    if phi > ctx.days_to_harvest:
        return [Finding(True, "phi", _fmt(rules["blocked_reasons"]["phi"], phi=phi, days=ctx.days_to_harvest))]
    return []


def copper_cap(t: dict, ctx: Context, rules: dict) -> list[Finding]:
    """Block copper when one more application would pass the 7-year cap; warn past the yearly average."""
    dose = t.get("copper_kg_ha")
    lim = rules["limits"]["copper"]
    if not dose:
        # a copper product with no per-hectare figure (a paste for wounds): it adds copper all the same, so none
        # once the 7 years already hold the cap
        copper = "copper" in f"{t.get('active') or ''} {' '.join(t.get('aliases') or [])}".lower()
        if copper and ctx.copper_7y >= lim["cap_kg_ha_7y"]:
            return [Finding(True, "copper_cap", _fmt(rules["blocked_reasons"]["copper_cap_reached"],
                                                     used=ctx.copper_7y, cap=lim["cap_kg_ha_7y"]))]
        return []
    if ctx.copper_7y >= lim["cap_kg_ha_7y"]:  # no room left at all: say so, not "another spray would pass it"
        return [Finding(True, "copper_cap", _fmt(rules["blocked_reasons"]["copper_cap_reached"],
                                                 used=ctx.copper_7y, cap=lim["cap_kg_ha_7y"]))]
    if ctx.copper_7y + dose > lim["cap_kg_ha_7y"]:
        return [Finding(True, "copper_cap", _fmt(rules["blocked_reasons"]["copper_cap"], used=ctx.copper_7y,
                                                 dose=dose, cap=lim["cap_kg_ha_7y"]))]
    if ctx.copper_used_year_kg_ha + dose > lim.get("average_kg_ha_year", float("inf")):
        return [Finding(False, "copper_average", rules["messages"]["copper_average"])]
    return []


def heat(t: dict, ctx: Context, rules: dict) -> list[Finding]:
    """Products that burn leaves in heat: blocked in hot weather, a caution when the weather is unknown."""
    limit = t.get("phytotoxic_above_c")
    if limit is None or ctx.hot_weather is False:
        return []
    if ctx.hot_weather:
        return [Finding(True, "heat", _fmt(rules["blocked_reasons"]["heat"], heat=limit))]
    return [Finding(False, "heat", _fmt(rules["messages"]["heat_unknown"], heat=limit))]


RULES: tuple[Callable[[dict, Context, dict], list[Finding]], ...] = (
    organic_status, pre_harvest, copper_cap, heat)


def evaluate(t: dict, ctx: Context, rules: dict, problem: dict | None = None) -> list[Finding]:
    """Every finding for one treatment; `problem` (its YAML entry) sets the severity rule's speed and weather."""
    return (organic_status(t, ctx, rules) + severity_cap(t, ctx, rules, problem)
            + [f for rule in RULES[1:] for f in rule(t, ctx, rules)])

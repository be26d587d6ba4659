"""Render advice as plain text (for SMS-like screens) or Markdown, in Vietnamese or English.

All headings come from rules.ui in the knowledge base, so no English leaks into the vi rendering.
"""
from __future__ import annotations

from .advice import Advice
from .errors import AdvisorError, did_you_mean
from .names import is_scientific_name, organism_for

FORMATS = ("text", "markdown")
LANGS = ("vi", "en")


def _num(x) -> str:
    return f"{x:g}"


def render(advice: Advice, lang: str = "vi", fmt: str = "text", rules: dict | None = None) -> str:
    """`rules` is the knowledge base's rules section (default: the shipped knowledge base)."""
    if lang not in LANGS:
        raise AdvisorError(f"lang must be one of {', '.join(LANGS)}, got '{lang}'{did_you_mean(lang, LANGS)}")
    if fmt not in FORMATS:
        raise AdvisorError(f"fmt must be one of {', '.join(FORMATS)}, got '{fmt}'{did_you_mean(fmt, FORMATS)}")
    if rules is None:
        from .loading import default_rules
        rules = default_rules()
    ui = rules["ui"]
    md = fmt == "markdown"
    u = {k: (v[lang] if isinstance(v, dict) and lang in v else v) for k, v in ui.items()}
    out: list[str] = []

    def head(text: str, level: int = 2) -> None:
        out.append("")
        out.append(f"{'#' * level} {text}" if md else text.upper() if level <= 2 else text)

    def item(text: str, indent: int = 0) -> None:
        out.append(("  " * indent) + ("- " if md else "* ") + text)

    def b(text: str) -> str:
        return f"**{text}**" if md else text

    p, c = advice.problem, advice.crop
    out.append(f"# {u['title']}" if md else u["title"].upper())
    item(f"{b(u['crop'])}: {c['names'][lang]}")
    item(f"{b(u['problem'])}: {p['names'][lang]}")
    org = organism_for(p, lang)  # vi: organism_vi, or the Latin name; never an English note
    if org:
        item(f"{b(u['cause'])}: {'*' + org + '*' if md and is_scientific_name(org) else org}")
    item(f"{b(u['type'])}: {p['type_names'][lang]}")
    if advice.status == "ok" and advice.steps:
        item(f"{b(u['risk'])}: {u['risk_levels'][advice.risk['level']][lang]}")
    for m in advice.risk.get("reasons", []) + advice.messages:
        out.append("")
        out.append(m[lang])
    if advice.checks:
        head(u["check"])
        names = {"symptoms": u["symptoms"], "favoured_by": u["favoured"], "spread": u["spread"], "vector": u["vector_name"]}
        for chk in advice.checks:
            item(f"{b(names.get(chk['field'], chk['field']))}: {chk['text'][lang]}")
    if advice.steps:
        head(u["steps"])
        for i, s in enumerate(advice.steps, 1):
            cat = rules["categories"][s.category][lang]
            title = s.title[lang] + (f" ({u['vector']})" if s.target == "vector" else "")
            out.append(f"{i}. {b(title)} [{cat}]")
            item(s.how[lang], 1)
            if s.threshold:
                item(f"{u['threshold']}: {s.threshold[lang]}", 1)
            if s.dose:
                item(f"{u['dose']}: {u['per_16l']}: {s.dose['per_16l'][lang]}; {u['per_1000m2']}: "
                     f"{s.dose['per_1000m2'][lang]}; {u['per_sao']}: {s.dose['per_sao'][lang]}; "
                     f"{u['interval']}: {s.dose['interval'][lang]}", 1)
            if s.ppe:
                item(f"{u['ppe']}: {s.ppe[lang]}", 1)
            if s.copper_kg_ha:
                item(u["copper_ledger"].format(kg=_num(s.copper_kg_ha))
                     + (f" {s.copper_note[lang]}" if s.copper_note else ""), 1)
            if s.kind == "treatment" and s.category in ("biological", "botanical", "mineral"):
                item(f"{u['phi']}: " + (f"{_num(s.phi_days)} {u['days']}" if s.phi_days is not None else u["unknown"])
                     + f"; {u['rei']}: " + (f"{_num(s.rei_hours)} {u['hours']}" if s.rei_hours is not None
                                          else u["unknown"]), 1)
            if s.sold_in_vietnam is not None:
                v = {True: u["answer_yes"], False: u["answer_no"]}.get(s.sold_in_vietnam, u["unverified"])
                item(f"{u['sold_vn']}: {v}", 1)
            if s.organic_status:
                item(f"{u['status']}: " + "; ".join(
                    f"{rules['standards'][sid]['short']}: {rules['statuses'][st['status']][lang]}"
                    for sid, st in s.organic_status.items()), 1)
                if lang == "en":  # citations are English legal references: kept out of the vi text (they stay in JSON)
                    item(f"{u['citations']}: " + "; ".join(s.citations), 1)
            for caution in s.cautions:
                item(f"{u['caution']}: {caution[lang]}", 1)
    if advice.blocked:
        head(u["blocked"])
        for bl in advice.blocked:
            item(f"{b(bl.title[lang])}: {bl.reason[lang]}")
    if advice.not_allowed:
        head(u["not_allowed"])
        for n in advice.not_allowed:
            item(f"{b(n.substance)}: {n.reason[lang]}" + (f" ({'; '.join(n.citations)})" if lang == "en" else ""))
    head(u["remember"])
    for r in advice.reminders:
        item(r[lang])
    return "\n".join(out).strip() + "\n"

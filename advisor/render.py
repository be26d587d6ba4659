"""Render advice as plain text (for SMS-like screens) or Markdown, in Vietnamese or English.

All headings come from rules.ui in the knowledge base, so no English leaks into the vi rendering.
"""
from __future__ import annotations

from .advice import Advice
from .errors import AdvisorError, did_you_mean
from .names import is_scientific_name, organism_for

FORMATS = ("text", "markdown")
LANGS = ("vi", "en")


def _num(x, lang: str = "en") -> str:
    """vi: decimal comma ("0,5"), as the knowledge base's Vietnamese texts write numbers."""
    text = f"{x:g}"
    return text.replace(".", ",") if lang == "vi" else text


def _dose_short(st, lang: str, u: dict, rules: dict) -> str | None:
    """A spray's dose in a few words for the today-part: the amount per 16-litre tank, per sào, and how often;
    "see the product label" (later a footnote marker) when the knowledge base has no sourced figure."""
    d = st.dose
    if not d:
        return None
    label = rules["messages"]["see_label"][lang]
    tank = (d.get("per_16l_amount") or d["per_16l"])[lang]
    sao = (d.get("per_sao_amount") or d["per_sao"])[lang]
    if tank == label and sao == label:
        return f"{u['dose']}: {label}" + (f", {d['interval'][lang]}" if d["interval"][lang] != label else "")
    parts = [f"{tank} {u['per_16l']}"]
    if sao != label:
        parts.append(f"{sao} {u['per_sao']}")
    if d["interval"][lang] != label:
        parts.append(d["interval"][lang])
    return ", ".join(parts)


def _no_figure(text: str, lang: str, rules: dict) -> tuple[str, bool]:
    """Every "see the product label" (a figure the knowledge base has no source for) becomes a short marker; the
    page then says once, at the end, what the marker means (issue 18: the label phrase at most once a page)."""
    msgs, ui = rules["messages"], rules["ui"]
    if "no_figure" not in msgs:
        return text, False
    mark = msgs["no_figure"][lang]
    new = text.replace(ui["unknown"][lang], mark).replace(msgs["see_label"][lang], mark)
    return new, mark in new


def _nothing_today(advice: Advice, lang: str, u: dict, plan: dict) -> str:
    """The today-part with no step: "nothing to spray" only when no spray is held back for a reason other than low
    severity; a spray blocked by its pre-harvest interval, the copper cap, heat or its status is pointed to instead."""
    held = [b for b in advice.blocked if b.reason_code != "severity"]
    if held and "nothing_today_blocked" in plan:
        return plan["nothing_today_blocked"][lang].format(blocked=u["blocked"])
    return plan["nothing_today"][lang]


def today_lines(advice: Advice, lang: str = "vi", rules: dict | None = None) -> list[str]:
    """The today-part of the page: each of today's steps in one line (what to do, and for a spray its dose per
    16-litre tank and per sào), protectant first; the rest of the page can fold out. Kept to
    rules.plan.today_max_words words (tests/test_advisor_plan.py checks every problem)."""
    if rules is None:
        from .loading import default_rules
        rules = default_rules()
    u = {k: (v[lang] if isinstance(v, dict) and lang in v else v) for k, v in rules["ui"].items()}
    plan = rules["plan"]
    if advice.check_first and "check_first" in plan:
        # more likely wrong than right: look first; today's steps by name only, so no dose is acted on from the card
        names = [st.title[lang] for st in advice.steps if st.phase == "today"]
        then = plan["check_first_then"][lang].format(names=", ".join(names)) if names else _nothing_today(advice, lang, u, plan)
        return [plan["check_first" if advice.checks else "check_first_look"][lang], then]
    lines = []
    for st in advice.steps:
        if st.phase != "today":
            continue
        title = st.title[lang] + (f" ({u['vector']})" if st.target == "vector" else "")
        line = f"{title}: {st.short[lang]}" if st.short else title
        dose = _dose_short(st, lang, u, rules)
        lines.append(line + (f" {dose}." if dose else ""))
    if not lines:
        lines.append(_nothing_today(advice, lang, u, plan))
    return [_no_figure(ln, lang, rules)[0] for ln in lines]


def sections(advice: Advice, lang: str = "vi", fmt: str = "text", rules: dict | None = None) -> dict:
    """The page cut into parts an app can show or fold: {"today": the today-part (always shown),
    "rest": everything else}. Both are rendered from the same advice as `render`."""
    if rules is None:
        from .loading import default_rules
        rules = default_rules()
    bullet = "- " if fmt == "markdown" else "* "
    show = advice.status == "ok" and bool(advice.steps)
    today = "\n".join(bullet + ln for ln in today_lines(advice, lang, rules)) if show else ""
    return {"today": today, "rest": render(advice, lang, fmt, rules, include_today=False)}


def _step_lines(out, i, s, lang, u, rules, md, item, b) -> None:
    cat = rules["categories"][s.category][lang]
    title = s.title[lang] + (f" ({u['vector']})" if s.target == "vector" else "")
    out.append(f"{i}. {b(title)} [{cat}]")
    item(s.how[lang], 1)
    if s.threshold:
        item(f"{u['threshold']}: {s.threshold[lang]}", 1)
    if s.kind == "monitoring" and s.short:
        item(s.short[lang], 1)
    if s.dose:
        label = rules["messages"]["see_label"][lang]
        vals = [s.dose["per_16l"][lang], s.dose["per_1000m2"][lang], s.dose["per_sao"][lang], s.dose["interval"][lang]]
        if all(v == label for v in vals[:3]):
            item(f"{u['dose']}: {label}" + (f"; {u['interval']}: {vals[3]}" if vals[3] != label else ""), 1)
        else:
            item(f"{u['dose']}: {u['per_16l']}: {vals[0]}; {u['per_1000m2']}: {vals[1]}; {u['per_sao']}: {vals[2]}; "
                 f"{u['interval']}: {vals[3]}", 1)
    if s.ppe:
        item(f"{u['ppe']}: {s.ppe[lang]}", 1)
    if s.copper_kg_ha:
        item(u["copper_ledger"].format(kg=_num(s.copper_kg_ha, lang)) + (f" {s.copper_note[lang]}" if s.copper_note else ""), 1)
    if s.kind == "treatment" and s.category in ("biological", "botanical", "mineral"):
        item(f"{u['phi']}: " + (f"{_num(s.phi_days, lang)} {u['days']}" if s.phi_days is not None else u["unknown"])
             + f"; {u['rei']}: " + (f"{_num(s.rei_hours, lang)} {u['hours']}" if s.rei_hours is not None else u["unknown"]), 1)
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


def render(advice: Advice, lang: str = "vi", fmt: str = "text", rules: dict | None = None,
           include_today: bool = True) -> str:
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
    if include_today and advice.status == "ok" and advice.steps and (rules.get("plan") or {}).get("names"):
        head(rules["plan"]["names"]["today"][lang])
        for line in today_lines(advice, lang, rules):
            item(line)
    for m in advice.risk.get("reasons", []) + advice.messages:
        out.append("")
        out.append(m[lang])
    if advice.checks:
        head(u["check"])
        names = {"symptoms": u["symptoms"], "favoured_by": u["favoured"], "spread": u["spread"], "vector": u["vector_name"]}
        for chk in advice.checks:
            item(f"{b(names.get(chk['field'], chk['field']))}: {chk['text'][lang]}")
    names = (rules.get("plan") or {}).get("names") or {}
    if advice.steps:
        head(u["steps"])
        for phase in ("today", "week", "season"):
            steps = [(i, st) for i, st in enumerate(advice.steps, 1) if st.phase == phase]
            if steps:
                head(names[phase][lang] if phase in names else phase, 3)
                for i, st in steps:
                    _step_lines(out, i, st, lang, u, rules, md, item, b)
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
    text, marked = _no_figure("\n".join(out).strip(), lang, rules)
    if marked:
        text += "\n" + ("- " if md else "* ") + rules["messages"]["no_figure_note"][lang]
    return text + "\n"

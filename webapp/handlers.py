"""Pure handler functions: what each button does, testable without a server.

They take the shared `Services` (the application's DiagnosisService) and plain values, and return plain
values (HTML/Markdown strings, JSON-ready dicts). All diagnosis goes through the service; this module only
checks that a path is an upload, keeps a language-free state, and renders it in the page's language.
Error kinds arrive as codes (leafscout.errors) and are translated here; user text is always escaped.
"""
from __future__ import annotations

import os
from pathlib import Path

from leafscout.errors import ServiceError
from leafscout.service import CROP_MISMATCH, CROP_NOT_LEARNED, NO_LEAF_SEEN
from leafscout.safety import html_text

from .i18n import norm_lang, t

ORGANIC_CHOICES = ("certified", "in_conversion", "conventional")
LOOK_AGAIN_DAYS = 7


# ---------------------------------------------------------------------------------------------- paths

def upload_roots() -> list[Path]:
    """Folders an uploaded file may live in: Gradio's temporary upload folder (and ours under it)."""
    roots = [os.environ.get("GRADIO_TEMP_DIR") or ""]
    try:
        from gradio.utils import get_upload_folder

        roots.append(get_upload_folder())
    except Exception:  # pragma: no cover - gradio always has it
        pass
    return [Path(r).resolve() for r in roots if r]


def safe_upload_path(path, roots: list[Path] | None = None) -> Path:
    """The resolved path when it lies inside an upload folder; ServiceError('refused_path') otherwise."""
    if path is None:
        raise ServiceError("no_photo", "no file")
    if not isinstance(path, (str, os.PathLike)):  # gradio FileData / tempfile wrappers
        path = getattr(path, "path", None) or getattr(path, "name", None) or str(path)
    p = Path(path).resolve()
    for root in roots if roots is not None else upload_roots():
        root = Path(root).resolve()
        if p == root or root in p.parents:
            return p
    raise ServiceError("refused_path", "refusing to read a file outside the temporary upload folder")


def error_text(code: str | None, lang: str) -> str:
    """The translated message for an error code (never English on the vi page, never a path)."""
    key = f"err_{code}"
    from .i18n import STRINGS
    return t(key if key in STRINGS else "err_other", lang)


# -------------------------------------------------------------------------------------------- context

def organic_choices(lang: str) -> list[tuple[str, str]]:
    return [(t(f"org_{k}", lang), k) for k in ORGANIC_CHOICES]


def crop_choices(advisor, lang: str, only=None) -> list[tuple[str, str]]:
    return [(c["names"][lang], c["id"]) for c in advisor.crops()
            if c["id"] != "background" and (only is None or c["id"] in only)]


def model_crop_choices(services, lang: str) -> list[tuple[str, str]]:
    """The crop picker: the crops the loaded model knows, plus 'not sure'."""
    return [(t("crop_any", lang), "")] + crop_choices(services.advisor, lang, only=set(services.crops))


def context_for(services, plot=None, organic=None, days=None, copper_7y=None):
    """(Context, ContextInfo) through the service: a plot brings its organic status and 7-year copper ledger. An
    organic status the service does not know is refused there (ServiceError), never read as certified."""
    return services.context(plot=plot or None, organic_status=organic or None, days_to_harvest=days,
                            copper_7y=None if copper_7y in (None, "") else copper_7y)


def clean_form(services, days=None, copper_7y=None, lang: str = "vi") -> tuple:
    """(days, copper_7y, warning) for the field form: a value the service refuses ("3 ngày", -5) is left out, and
    the warning (Markdown, escaped; "" when both are fine) says which box to type again. Passed on, a refused
    value made the photo an error card ("photo could not be read: take it again") or kept a stale answer."""
    bad = []
    for key, kw in (("form_bad_days", {"days": days}), ("form_bad_copper", {"copper_7y": copper_7y})):
        try:
            context_for(services, **kw)
        except ServiceError:
            bad.append(key)
    warning = " ".join(t(k, lang) for k in bad)
    return (None if "form_bad_days" in bad else days, None if "form_bad_copper" in bad else copper_7y,
            f"**{md_text_soft(warning)}**" if warning else "")


def context_line(services, info, lang: str) -> str:
    """What the chosen plot brought (Markdown): its name shown as typed, never as a link or bold text (anyone can
    name a plot from Save), its copper in the page's way of writing numbers (vi: 27,5, as the advice below)."""
    if not info or not info.plot:
        return ""
    from leafscout.i18n import number
    hole = "\x00"
    line = md_text_soft(t("ctx_from_plot", lang, plot=hole, org=t(f"org_{info.organic_status}", lang),
                          seven=number(info.copper_7y, lang), year=number(info.copper_year, lang),
                          cap=number(info.copper_cap, lang)))
    return line.replace(hole, md_name(info.plot))


def md_name(text) -> str:
    """A name typed by someone (a plot, a file) for a Markdown component: HTML and Markdown escaped, and no URL
    left for the Markdown's autolinker ('http://', 'www.' are not links once their ':' or '.' is an entity)."""
    from leafscout.safety import md_text
    return md_text(text).replace(":", "&#58;")


def md_msg(key: str, lang: str, typed: dict | None = None, **fmt) -> str:
    """A message for a Markdown component: the table's words HTML-escaped, each `typed` value (a plot name,
    a person's name: anyone can type them) shown as plain text, never as a link or bold."""
    typed = typed or {}
    holes = {k: f"\x00{i}\x00" for i, k in enumerate(typed)}
    text = html_text(t(key, lang, **fmt, **holes))
    for k, hole in holes.items():
        text = text.replace(hole, md_name(typed[k]))
    return text


def md_text_soft(text: str) -> str:
    """Escape HTML in text that goes into a Markdown component (keeps ordinary punctuation readable)."""
    return html_text(text)


# ------------------------------------------------------------------------------------------ diagnosis

def problem_name(advisor, label: str | None, lang: str) -> str:
    """Plain words for a model label in `lang`, with the crop: 'Bệnh mốc sương (Cà chua)'."""
    if not label:
        return "-"
    try:
        p = advisor.problem(label)
    except Exception:
        return str(label)
    crop = advisor.kb.crops.get(p["crop"], {})
    name = p["names"][lang]
    if p.get("type") in ("no_leaf",) or not crop or name.casefold().startswith(crop[lang].casefold() + ":"):
        return name  # "Lúa: không phải bệnh nào LeafScout biết" names its crop already
    return f"{name} ({crop[lang]})"


def diagnose_upload(services, image_path, crop=None, plot=None, organic=None, days=None, copper_7y=None,
                    check_path: bool = True, heatmap: bool = True):
    """One uploaded photo through the service -> (language-free state dict, heatmap overlay or None).

    The state holds the Advice as a dict, so the page re-renders it in another language without running
    the model again; the server path stays in the state (server side) and is never shown."""
    if image_path is None or image_path == "":
        return None, None
    name = None
    try:
        path = safe_upload_path(image_path) if check_path else Path(image_path)
        name = path.name
        d = services.diagnose(str(path), crop=crop or None, plot=plot or None,
                              organic_status=organic if organic in ORGANIC_CHOICES else None,
                              days_to_harvest=days, copper_7y=None if copper_7y in (None, "") else copper_7y,
                              display_name=name)
    except ServiceError as exc:
        return {"status": "error", "error_code": exc.code, "label": None, "confidence": None, "top_k": [],
                "file": name}, None
    state = d.to_dict()
    state.update(photo=d.photo, uncertain_below=services.predictor.uncertain_below,
                 advice=d.advice.to_dict() if d.advice is not None else None,
                 problem_type=(d.advice.problem.get("type") if d.advice is not None else None))
    overlay = None
    if heatmap and d.status in ("ok", "uncertain"):
        try:
            overlay = d.result.heatmap_overlay()
        except ValueError:
            overlay = None
    if (state.get("pests") or state.get("leaves")) and d.photo:
        # insects or leaves found: show them boxed and numbered instead of the heatmap
        from leafscout.webapp.pests import photo_with_boxes
        overlay = photo_with_boxes(d.photo, state.get("pests") or [], leaves=state.get("leaves")) if heatmap else overlay
    return state, overlay


def readvise(services, state, plot=None, organic=None, days=None, copper_7y=None):
    """The state with its advice worked out again for a changed context form (the model does not run)."""
    if not state or state.get("status") == "error" or not state.get("label"):
        return state
    if state.get("reason_code") in (CROP_NOT_LEARNED, CROP_MISMATCH):  # another crop's nearest label: no advice
        return state
    try:
        ctx, info = context_for(services, plot, organic, days, copper_7y)
        label = state["label"] if state["status"] != "not_a_leaf" else (state["label"] or "background.no_leaf")
        adv = services.advise(label, status=state["status"], ctx=ctx)
    except ServiceError:
        return state
    new = dict(state)
    new["advice"], new["context"] = adv.to_dict(), info.to_dict()
    return new


def _advice(state):
    """The state's Advice. A saved (language-free) state holds it as a dict; the API's one-off state holds the
    Advice itself (`api_diagnose`: no to_dict/from_dict round trip a request, same rendering)."""
    from leafscout.advisor import Advice
    a = (state or {}).get("advice")
    if isinstance(a, Advice):
        return a
    return Advice.from_dict(a) if a else None


def _pct(x) -> str:
    return "-" if x is None else f"{100 * float(x):.0f}%"


def _txt(value, lang):
    if isinstance(value, dict):
        return value.get(lang) or value.get("en") or ""
    return "" if value is None else str(value)


def sprayer_dose(step, lang: str) -> str | None:
    """The amount per 16-litre sprayer and per sào the knowledge base gives for a step, with its interval
    (`Step.dose`: {per_16l, per_sao, interval, ...}), or None when it gives none."""
    dose = getattr(step, "dose", None)
    if not dose:
        return None
    if not isinstance(dose, dict):
        return _txt(dose, lang) if not isinstance(dose, (int, float)) else f"{dose:g}"
    parts = [_txt(dose.get("per_16l"), lang)]
    if dose.get("per_sao"):
        parts.append(t("card_per_sao", lang, amount=_txt(dose["per_sao"], lang)))
    if dose.get("interval"):
        parts.append(_txt(dose["interval"], lang))
    return "; ".join(p for p in parts if p) or None


def _is_spray(step, advisor=None) -> bool:
    """A step sprayed from a tank: the knowledge base's treatment says `application: spray` (a Bordeaux paste is
    painted on trunks, a trap hung, a bait laid: none has a dose per 16-litre sprayer)."""
    if step.kind != "treatment" or step.category in ("cultural", "mechanical", "trap"):
        return False
    try:
        entry = advisor.kb.treatments.get(step.treatment_id) if advisor is not None else None
    except Exception:
        entry = None
    if isinstance(entry, dict):
        return entry.get("application") == "spray"
    return bool(getattr(step, "dose", None))  # no knowledge base entry: only a step with a tank dose


def _plot_crop_note(state: dict, adv, lang: str) -> str:
    """Why the answer keeps to one crop when the plot, not the grower, named it (HTML, escaped), or ""."""
    if state.get("crop_from") != "plot":
        return ""
    plot = (state.get("context") or {}).get("plot") or "?"
    crop = _crop_name(adv, state.get("crop"), lang)
    return f'<p class="card-note">{html_text(t("crop_from_plot", lang, plot=plot, crop=crop))}</p>'


def render_card(services, state: dict | None, lang: str) -> str:
    """The farmer-first answer: problem in plain words, what to do today, amount per 16-litre sprayer,
    protective gear, when to look again. HTML, every text escaped."""
    lang = norm_lang(lang)
    if not state:
        return f'<div class="card card-empty">{html_text(t("empty_result", lang))}</div>'
    status = state["status"]
    adv = services.advisor
    h = html_text
    if status == "error":
        return (f'<div class="card card-error" role="alert"><div class="card-title">{h(t("status_error", lang))}</div>'
                f'<p>{h(error_text(state.get("error_code"), lang).capitalize())}.</p>'
                f'<p><b>{h(t("retake_title", lang))}:</b> {h(t("retake_tips", lang))}</p></div>')
    if status in ("not_a_leaf", "uncertain"):
        no_leaf_seen = state.get("reason_code") == NO_LEAF_SEEN  # no guess: its label holds almost nothing
        why = (t("not_a_leaf_why", lang) if status == "not_a_leaf" else t("no_leaf_seen_why", lang) if no_leaf_seen
               else _uncertain_why(adv, state, lang))
        guess = ""
        if status == "uncertain" and state.get("label") and not no_leaf_seen:
            guess = f'<p>{h(problem_name(adv, state["label"], lang))}?</p>'
        code = state.get("reason_code")
        if code in (CROP_NOT_LEARNED, CROP_MISMATCH):  # the photo is fine: the crop is the doubt, not a retake
            crop_why = (t("crop_not_learned_why", lang, crop=(state.get("context") or {}).get("plot_crop") or "?")
                        if code == CROP_NOT_LEARNED else
                        t("crop_mismatch_why", lang, crop=_mid_sentence(_crop_name(adv, state.get("crop"), lang))))
            return (f'<div class="card card-retake" data-reason="{code}"><div class="card-title">'
                    f'{h(t("status_" + status, lang))}</div>{guess}<p>{h(crop_why)}</p>'
                    f'{_plot_crop_note(state, adv, lang)}</div>')
        return (f'<div class="card card-retake"><div class="card-title">{h(t("status_" + status, lang))}</div>'
                f'{guess}<p>{h(why)}</p><p><b>{h(t("retake_title", lang))}:</b> {h(t("retake_tips", lang))}</p></div>')
    advice = _advice(state)
    ptype = state.get("problem_type") or (advice.problem.get("type") if advice else None)
    note = ""
    if state.get("crop_note"):
        note = f'<p class="card-note">{h(crop_note_text(services, state, lang))}</p>'
    note += _plot_crop_note(state, adv, lang)
    sure = h(t("card_sure", lang, p=_pct(state.get("confidence"))))
    if ptype == "healthy":
        if advice is not None and advice.check_first:  # more likely wrong than right: look for spots first
            from leafscout.advisor.render import today_lines
            note += f'<p class="card-warn" data-check="first"><b>{h(today_lines(advice, lang, adv.rules)[0])}</b></p>'
        return (f'<div class="card card-healthy"><div class="card-title">{h(t("card_healthy", lang))}</div>'
                f'<p class="card-sub">{h(problem_name(adv, state["label"], lang))} · {sure}</p>{note}'
                f'<p><b>{h(t("card_look_again", lang))}:</b> {h(t("card_look_week", lang))}</p></div>')
    if advice is not None and advice.check_first:
        # more likely wrong than right (service.CHECK_FIRST_BELOW): look first; today's steps by name, no dose to act on
        from leafscout.advisor.render import today_lines
        look, then = today_lines(advice, lang, adv.rules)
        return (f'<div class="card card-ok card-check" data-check="first"><div class="card-title">'
                f'{h(problem_name(adv, state["label"], lang))}?</div><p class="card-sub">{sure}</p>{note}'
                f'<p class="card-warn"><b>{h(look)}</b></p><p>{h(then)}</p>'
                f'<div class="card-row"><span class="card-k">{h(t("card_look_again", lang))}</span> <span class="card-v">'
                f'{h(t("card_look_days", lang, d=LOOK_AGAIN_DAYS))}</span></div></div>')
    rows = []
    steps = advice.steps if advice else []
    # the advisor's today-part, as `diagnose --advise` prints it: today's steps, and only a spray of today's has its
    # dose here (the first step of the list was "today" even when it was this week's, and a this-week copper spray
    # read as today's dose)
    todays = [s for s in steps if getattr(s, "phase", "today") == "today"]
    spray = next((s for s in todays if _is_spray(s, adv)), None)
    if todays:
        rows.append((t("card_today", lang), "; ".join(_txt(s.title, lang) for s in todays)))
    elif advice is not None:
        from leafscout.advisor.render import today_lines
        rows.append((t("card_today", lang), today_lines(advice, lang, adv.rules)[0]))
    if spray is not None:
        dose = sprayer_dose(spray, lang) or t("card_dose_label", lang)
        rows.append((t("card_dose", lang), f"{_txt(spray.title, lang)}: {dose}"))
        gear = t("card_gear_spray", lang)
        if spray.rei_hours:
            gear += "; " + t("card_reentry", lang, h=f"{spray.rei_hours:g}")
        rows.append((t("card_gear", lang), gear))
    else:
        rows.append((t("card_dose", lang), t("card_no_spray", lang)))
        # a step done by hand today (a paste painted on a trunk) names its own gear when the knowledge base has it
        ppe = next((_txt(s.ppe, lang) for s in todays if s.kind == "treatment" and getattr(s, "ppe", None)), "")
        rows.append((t("card_gear", lang), ppe or t("card_gear_none", lang)))
    rows.append((t("card_look_again", lang), t("card_look_days", lang, d=LOOK_AGAIN_DAYS)))
    blocked = ""
    if advice and any(b.reason_code == "copper_cap" for b in advice.blocked):
        blocked = f'<p class="card-warn" data-copper="blocked">{h(t("card_copper_blocked", lang))}</p>'
    body = "".join(f'<div class="card-row"><span class="card-k">{h(k)}</span> <span class="card-v">{h(v)}</span></div>'
                   for k, v in rows)
    return (f'<div class="card card-ok"><div class="card-title">{h(problem_name(adv, state["label"], lang))}</div>'
            f'<p class="card-sub">{sure}</p>{note}{body}{blocked}</div>')


def _uncertain_why(adv, state: dict, lang: str) -> str:
    """Why an answer with a guess is uncertain, from its reason code: "confidence below the threshold" is said
    only when that is the reason (a `<crop>.other` or unfamiliar answer can be 99% sure of its label)."""
    code = state.get("reason_code")
    if code == "unnamed_problem":
        crop = _crop_name(adv, (state.get("label") or "").split(".")[0], lang)
        return t("unnamed_problem_why", lang, crop=crop[:1].lower() + crop[1:])  # mid-sentence: "cây lúa"
    if code == "unfamiliar":
        return t("unfamiliar_why", lang)
    return t("uncertain_why", lang, p=_pct(state.get("confidence")), th=_pct(state.get("uncertain_below")))


def _mid_sentence(name: str) -> str:
    """A crop's name inside a sentence: 'Cà phê' -> 'cà phê', 'Coffee' -> 'coffee'."""
    return name[:1].lower() + name[1:]


def _crop_name(advisor, crop, lang):
    c = advisor.kb.crops.get(crop or "", {})
    return c.get(lang, crop or "")


def render_details(services, state: dict | None, lang: str) -> str:
    """The accordion below the card: every step of the advice (Markdown from the advisor), top 3, version."""
    lang = norm_lang(lang)
    if not state or state["status"] in ("error",):
        return ""
    out = []
    advice = _advice(state)
    if advice is not None and state["status"] != "not_a_leaf":
        out.append(_render_advice(services, advice, lang))
    if state.get("top_k") and state.get("reason_code") != NO_LEAF_SEEN:  # ~0% each: no possibilities at all
        out.append(f"**{t('top3', lang)}:**")
        out += [f"{i}. {problem_name(services.advisor, k['label'], lang)}: {_pct(k['probability'])}"
                for i, k in enumerate(state["top_k"][:3], 1)]
    if state.get("framing") == "whole":
        out.append(t("framing_whole", lang))
    out.append(f"<small>{t('model_version', lang)}: {html_text(state.get('model_version') or '')}</small>")
    return "\n\n".join(out)


def _render_advice(services, advice, lang: str) -> str:
    """The advisor's Markdown for the page. The knowledge base writes `organism` once (a Latin name reads the
    same in both languages); where it is a plain-words note it also gives `organism_vi`, shown on vi pages."""
    pid = (advice.problem or {}).get("id")
    org_vi = (services.advisor.kb.problems.get(pid) or {}).get("organism_vi") if pid else None
    if lang == "vi" and org_vi:
        import dataclasses
        advice = dataclasses.replace(advice, problem=dict(advice.problem, organism=org_vi))
    return _strip_title(advice.render(lang=lang, fmt="markdown", rules=services.advisor.rules))


def _strip_title(md: str) -> str:
    """Drop the advisor's top title (the card has its own) and nest step details under their number."""
    lines = md.splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    lines = ["   - " + ln[4:] if ln.startswith("  - ") else ln for ln in lines]
    return "\n".join(lines).strip()


def render_citations(services, state, lang: str) -> str:
    """Per step: each organic standard's status (and, in English, the clause it rests on)."""
    lang = norm_lang(lang)
    advice = _advice(state)
    if advice is None or (state or {}).get("status") == "not_a_leaf":
        return ""
    rules = services.advisor.rules
    out, n = [], 0
    for i, s in enumerate(advice.steps, 1):
        if not s.organic_status:
            continue
        n += 1
        out.append(f"**{i}. {s.title[lang]}**")
        for sid, st in s.organic_status.items():
            std = rules["standards"][sid]
            line = f"- {std['name'][lang]}: {rules['statuses'][st['status']][lang]}"
            if lang == "en":
                line += f" ({st['citation']})"
            out.append(line)
        out.append("")
    if not n:
        return ""
    if lang == "vi":
        out.append(f"*{t('citations_vi_note', lang)}*")
    return "\n".join(out).strip()


def render_card_details(services, state, lang) -> tuple[str, str]:
    """(card HTML, details Markdown): `render_all` without the citations (the API does not return them)."""
    from leafscout.webapp.pests import pests_html  # insects found, counts, act or not (empty without a pest detector)
    from leafscout.webapp.leaves import leaves_html  # a field photo's leaves, each named (scene detector only)
    card = with_group(services, render_card(services, state, lang), state, lang)  # several photos: their lines
    leaves = leaves_html(state, lambda label, lg: problem_name(services.advisor, label, lg), lang)
    return card + leaves + pests_html(state, lang), render_details(services, state, lang)


def render_all(services, state, lang) -> tuple[str, str, str]:
    """(card HTML, details Markdown, citations Markdown) for the current state and language."""
    return render_card_details(services, state, lang) + (render_citations(services, state, lang),)


# ------------------------------------------------------------------------------------------------ API

def api_diagnose(services, image_path, lang="vi", organic_status=None, days_to_harvest=None, plot=None,
                 crop=None, copper_used_7y=None) -> dict:
    """The JSON the API returns: the answer, plain-words name, the context used (with the plot's 7-year
    copper total), the copper decision, and the rendered card and advice."""
    lang = norm_lang(lang)
    if not image_path:
        raise ServiceError("no_photo", "no photo was given")
    path = safe_upload_path(image_path)
    d = services.diagnose(str(path), crop=crop or None, plot=plot or None,
                          organic_status=organic_status or None, days_to_harvest=days_to_harvest,
                          copper_7y=copper_used_7y, display_name=path.name)
    out = d.to_dict()
    # the Advice object itself: this state is rendered once here and never stored (Advice.to_dict, a deep
    # dataclasses.asdict, was a third of the handler's own Python time)
    state = dict(out, advice=d.advice,
                 problem_type=d.advice.problem.get("type") if d.advice else None,
                 uncertain_below=services.predictor.uncertain_below)
    card, details = render_card_details(services, state, lang)
    out.update(name=problem_name(services.advisor, d.label, lang) if d.label else None,
               error_message=error_text(d.error_code, lang) if d.error_code else None,
               crop_note_message=crop_note_text(services, d, lang),
               card_html=card, advice_markdown=details)
    return out


def crop_note_text(services, d, lang: str) -> str | None:
    """The runtime's `crop_note` (English, for logs) as the card says it, in the page language; None without one.
    `d`: a Diagnosis or the card's state dict. The crop name is mid-sentence: lower case ("than coffee")."""
    note, crop = (d.get("crop_note"), d.get("crop")) if isinstance(d, dict) else (d.crop_note, d.crop)
    if not note:
        return None
    return t("crop_note_other", lang, crop=_crop_name(services.advisor, crop, lang).lower())


def api_advise(services, label, lang="vi", organic_status=None, days_to_harvest=None, plot=None,
               copper_used_7y=None) -> str:
    """Advice Markdown for any knowledge-base problem id (also ones the model cannot detect)."""
    lang = norm_lang(lang)
    if not label:
        return t("kb_pick", lang)
    ctx, _ = context_for(services, plot, organic_status, days_to_harvest, copper_used_7y)
    advice = services.advise(str(label), ctx=ctx)
    return _render_advice(services, advice, lang)


# -------------------------------------------------------------------------------------------- knowledge

def problem_choices(advisor, crop: str | None, lang: str) -> list[tuple[str, str]]:
    if not crop:
        return []
    out = []
    for p in advisor.problems(crop):
        name = p["names"][lang] + ("" if p["detectable_by_model"] else f" ({t('kb_not_detectable', lang)})")
        out.append((name, p["id"]))
    return out


# ------------------------------------------------------------------------------------ substance check

# A product's name, with its formulation code, is tens of characters; 500 or more is a pasted page, not a question,
# and is refused before the advisor's fuzzy "did you mean" looks at it.
SUBSTANCE_MAX_CHARS = 500
SUBSTANCE_VERDICTS = ("not_allowed", "conditions", "allowed", "unknown")


def substance_query(name) -> dict:
    """What the grower asked, as the page keeps it (language-free, so the language switch can say it again):
    {"q": the name, stripped}, or {"refused": "empty" | "too_long", "chars": its length} for a question the
    advisor is not asked."""
    if isinstance(name, (bool, list, tuple, dict, set)):
        # a script's bug ("['Karate', 'Bt']" is no product): one name per call, said as a refusal, never answered
        return {"refused": "not_text", "chars": 0}
    q = "" if name is None else str(name).strip()
    if not any(c.isalnum() for c in q):  # "", "+", ",", control characters: no product was named
        return {"refused": "empty", "chars": 0}
    if len(q) >= SUBSTANCE_MAX_CHARS:
        return {"refused": "too_long", "chars": len(q)}
    return {"q": q}


def substance_refusal(asked: dict, lang: str, api: bool = False) -> str:
    """Why a question was not asked, in `lang`: a sentence for the page, a few words for the API's refusal."""
    if asked.get("refused") == "empty":
        return t("sub_api_empty" if api else "sub_empty", lang)
    if asked.get("refused") == "not_text":
        return t("sub_api_not_text" if api else "sub_empty", lang)
    return t("sub_api_too_long" if api else "sub_too_long", lang, n=asked.get("chars", 0), max=SUBSTANCE_MAX_CHARS)


def substance_verdict(res) -> str:
    """The mark the page shows for an Advisor.check_substance answer. `allowed` is True for everything usable, but a
    grower needs to know when "allowed" comes with strings: a standard that restricts it (copper's 28 kg/ha in 7
    years), one not verified yet (TCVN 11041-2: "ask your certifier first"), or a product LeafScout advises only in
    another form (no treatment entry). Those are "conditions"; "allowed" is allowed by every standard."""
    if res.allowed is None:
        return "unknown"
    if res.allowed is False:
        return "not_allowed"
    statuses = [s.get("status") for s in (res.standards or {}).values()]
    if res.treatment_id and statuses and all(s == "allowed" for s in statuses):
        return "allowed"
    return "conditions"


def check_substance(services, name, lang="vi") -> dict:
    """/check_substance: whether a product or substance may be used in organic farming, as `leafscout advise
    --check-substance` says it (the service's advisor: trade names such as "Karate 2.5EC" resolve through the
    knowledge base's products). JSON-ready: {query, allowed (True/False/None = not known), verdict
    (SUBSTANCE_VERDICTS), reason and conditions in `lang`, treatment_id}. An empty or 500+ character name:
    ServiceError("bad_input")."""
    lang = norm_lang(lang)
    asked = substance_query(name)
    if "refused" in asked:
        raise ServiceError("bad_input", f"name: {substance_refusal(asked, 'en', api=True)}")
    adv = services.advisor
    res = adv.check_substance(asked["q"])
    reason = res.reason.get(lang) or res.reason.get("en", "") if isinstance(res.reason, dict) else str(res.reason)
    return {"query": res.query, "allowed": res.allowed, "verdict": substance_verdict(res), "reason": reason,
            "conditions": list(adv.substance_conditions(res, lang)), "treatment_id": res.treatment_id}


def render_substance(services, asked: dict | None, lang: str) -> str:
    """The Knowledge tab's answer panel (Markdown): the verdict with its mark, the name asked, the advisor's reason,
    then the conditions. The typed name and every text that may hold it (an unknown name is quoted in the reason)
    are escaped and kept on one line: `<img src=x onerror=...>` is shown as text. Nothing asked yet: the hint."""
    from leafscout.safety import one_line

    lang = norm_lang(lang)
    if not asked:
        return t("sub_hint", lang)
    if "refused" in asked:
        return f"**{md_text_soft(substance_refusal(asked, lang))}**"
    ans = check_substance(services, asked["q"], lang)
    said = md_msg("sub_asked", lang, {"name": one_line(ans["query"])})
    out = [f"### {md_text_soft(t('sub_verdict_' + ans['verdict'], lang))}", "", said, "",
           md_name(one_line(ans["reason"]))]
    if ans["conditions"]:
        out += ["", f"**{md_text_soft(t('sub_conditions', lang))}:**", ""]
        out += [f"- {md_name(one_line(line))}" for line in ans["conditions"]]
    return "\n".join(out)


# ------------------------------------------------------------------------------------------- groups

GROUP_MAX = 6  # photos of one plant the Diagnose tab combines (2-6 is what a farmer takes)


def _photo_entry(x, agree_label) -> dict:
    """One photo of a group as a small language-free dict (the server path stays server side)."""
    votes = x.saw_a_leaf and not x.duplicate_of
    e = {"file": x.display_name, "status": x.status, "label": x.label, "reason_code": x.reason_code,
         "confidence": None if x.confidence is None else round(float(x.confidence), 4),
         "error_code": x.error_code, "voted": votes, "agrees": bool(votes and x.label == agree_label),
         "duplicate_of": x.duplicate_of}
    if x.pests is not None:
        e["insects"] = len(x.pests)
    return e


def diagnose_group_upload(services, paths, crop=None, plot=None, organic=None, days=None, copper_7y=None,
                          check_path: bool = True, heatmap: bool = True):
    """Several uploaded photos of one plant through the service -> (language-free state, overlay or None).

    One photo is exactly `diagnose_upload`. For two or more the state is the combined answer (advised like one
    photo) plus `group` ({"photos", "voted", "agree"}) and `group_photos` (each photo's own answer, in order).
    A photo the image gate refuses, or that shows no leaf, is one line of its own and does not vote; the others
    still count. `photo` is the group's first readable photo: saving to the field log goes through the same
    path as one photo. The overlay is the first photo with insects boxed, else none (no heatmap of a mean)."""
    paths = [p for p in (paths or []) if p not in (None, "")]
    if len(paths) <= 1:
        return diagnose_upload(services, paths[0] if paths else None, crop, plot, organic, days, copper_7y,
                               check_path=check_path, heatmap=heatmap)
    try:
        files = [safe_upload_path(p) if check_path else Path(p) for p in paths[:GROUP_MAX]]
        d, each = services.diagnose_group([str(f) for f in files], crop=crop or None, plot=plot or None,
                                          organic_status=organic if organic in ORGANIC_CHOICES else None,
                                          days_to_harvest=days,
                                          copper_7y=None if copper_7y in (None, "") else copper_7y,
                                          names=[f.name for f in files])
    except ServiceError as exc:
        return {"status": "error", "error_code": exc.code, "label": None, "confidence": None, "top_k": [],
                "file": None}, None
    group = dict(d.result.group or {"photos": len(each), "voted": 0, "agree": 0})
    state = d.to_dict()
    first = next((x.photo for x in each if x.status != "error" and x.photo), None)
    state.update(file=None, photo=first, uncertain_below=services.predictor.uncertain_below,
                 advice=d.advice.to_dict() if d.advice is not None else None,
                 problem_type=(d.advice.problem.get("type") if d.advice is not None else None),
                 group=group, group_photos=[_photo_entry(x, d.label) for x in each])
    overlay = None
    if heatmap:
        with_pests = next((x for x in each if x.pests and x.photo), None)
        if with_pests is not None:
            from leafscout.webapp.pests import photo_with_boxes
            overlay = photo_with_boxes(with_pests.photo, [p.to_dict() for p in with_pests.pests])
    return state, overlay


def is_group(state) -> bool:
    return bool(state) and bool(state.get("group")) and bool(state.get("group_photos"))


def _photo_line(services, e: dict, lang: str) -> str:
    """'Bệnh mốc sương (Cà chua) · chắc 93%' / 'Không thấy lá · không tính' for one photo of a group."""
    if e.get("duplicate_of"):  # its answer is the earlier photo's, shown there
        return t("group_same_as", lang, i=e["duplicate_of"])
    s, pct = e.get("status"), _pct(e.get("confidence"))
    name = problem_name(services.advisor, e.get("label"), lang) if e.get("label") else ""
    if s == "error":
        what = f'{t("status_error", lang)}: {error_text(e.get("error_code"), lang)}'
    elif s == "not_a_leaf":
        what = t("status_not_a_leaf", lang)
    elif s == "uncertain" and e.get("reason_code") == NO_LEAF_SEEN:
        what = f'{t("status_uncertain", lang)}: {t("no_leaf_seen_short", lang)}'
    elif s == "uncertain":
        what = f'{t("status_uncertain", lang)}: {name}? ({pct})'
    else:
        what = f'{name} · {t("card_sure", lang, p=pct)}'
    if not e.get("voted"):
        what += f' · {t("group_not_counted", lang)}'
    if e.get("insects"):
        what += f' · {t("group_insects", lang, n=e["insects"])}'
    return what


def group_html(services, state, lang: str) -> str:
    """The group's lines inside the answer card: what it is, 'k of n photos agree', each photo's own line.
    Empty for a single photo. Every text escaped (file names are the grower's)."""
    if not is_group(state):
        return ""
    lang = norm_lang(lang)
    h = html_text
    g = state["group"]
    n, voted, agree = int(g.get("photos", 0)), int(g.get("voted", 0)), int(g.get("agree", 0))
    dup = int(g.get("duplicates", 0) or 0)
    skipped = f' ({h(t("group_skipped", lang, m=n - voted - dup))})' if voted + dup < n else ""
    if dup:  # the same photo added twice counts once (service.same_photos)
        skipped += f' ({h(t("group_duplicates", lang, n=dup))})'
    lines = [f'<p class="group-title">{h(t("group_title", lang, n=n))}</p>',
             f'<p class="group-agree" data-agree="{agree}" data-photos="{n}">'
             f'<b>{h(t("group_agree", lang, k=agree, n=n - dup))}</b>{skipped}</p>']
    # photos that each look like another crop are rarely one plant: say so (the answer itself is unchanged)
    crops = g.get("crops") or []  # DiagnosisService.diagnose_group (service.mixed_crops)
    if g.get("mixed"):
        names = ", ".join(_crop_name(services.advisor, c, lang) for c in crops)
        lines.append(f'<p class="card-note group-mixed" data-crops="{h(",".join(crops))}">'
                     f'{h(t("group_mixed_crops", lang, crops=names))}</p>')
    items = []
    for i, e in enumerate(state["group_photos"], 1):
        mark = "✓ " if e.get("agrees") else ""
        name = f' <span class="group-file">{h(e.get("file") or "")}</span>' if e.get("file") else ""
        items.append(f'<li class="group-photo" data-status="{h(e.get("status") or "")}">'
                     f'<b>{h(t("group_photo", lang, i=i))}</b>{name}: {mark}{h(_photo_line(services, e, lang))}</li>')
    return f'<div class="group-box" id="group-box">{"".join(lines)}<ol class="group-photos">{"".join(items)}</ol></div>'


def with_group(services, card_html: str, state, lang: str) -> str:
    """The answer card with the group's lines inside it, before its closing tag (a single photo: unchanged)."""
    block = group_html(services, state, lang)
    if not block or not card_html.endswith("</div>"):
        return card_html + block
    return card_html[: -len("</div>")] + block + "</div>"


def group_save_note(state, msg: str, lang: str) -> str:
    """The save message, saying that the combined answer of the group was saved (unchanged for one photo or
    when nothing was saved)."""
    if not is_group(state):
        return msg
    lang = norm_lang(lang)
    saved = html_text(t("saved", lang, plot="\x00").split("\x00")[0])
    if not msg.startswith(saved):
        return msg
    return msg + " " + html_text(t("group_saved", lang, n=int(state["group"].get("photos", 0))))


def api_diagnose_group(services, image_paths, lang="vi", organic_status=None, days_to_harvest=None, plot=None,
                       crop=None, copper_used_7y=None) -> dict:
    """/diagnose_group: several photos of one plant -> the /diagnose answer for the combined photos, plus
    `group` ({photos, voted, agree}) and `photos` (each photo's file, status, label, confidence, error)."""
    lang = norm_lang(lang)
    paths = [p for p in (image_paths or []) if p]
    if not paths:
        raise ServiceError("no_photo", "no photo was given")
    if len(paths) > GROUP_MAX:
        raise ServiceError("batch_too_big", f"at most {GROUP_MAX} photos of one plant")
    files = [safe_upload_path(p) for p in paths]
    d, each = services.diagnose_group([str(f) for f in files], crop=crop or None, plot=plot or None,
                                      organic_status=organic_status or None, days_to_harvest=days_to_harvest,
                                      copper_7y=copper_used_7y, names=[f.name for f in files])
    out = d.to_dict()
    out["file"] = None
    state = dict(out, advice=d.advice,  # rendered once here, never stored: no dict round trip (api_diagnose)
                 problem_type=d.advice.problem.get("type") if d.advice else None,
                 uncertain_below=services.predictor.uncertain_below,
                 group=dict(d.result.group or {}), group_photos=[_photo_entry(x, d.label) for x in each])
    card, details = render_card_details(services, state, lang)
    photos = []
    for x, e in zip(each, state["group_photos"]):
        photos.append(dict(e, name=problem_name(services.advisor, x.label, lang) if x.label else None,
                           error_message=error_text(x.error_code, lang) if x.error_code else None,
                           **x.pests_dict()))
    out.update(group=state["group"], photos=photos,
               name=problem_name(services.advisor, d.label, lang) if d.label else None,
               error_message=error_text(d.error_code, lang) if d.error_code else None,
               crop_note_message=crop_note_text(services, d, lang),
               card_html=card, advice_markdown=details)
    return out

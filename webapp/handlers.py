"""Pure handler functions: what each button does, testable without a server.

They take the shared `Services` (model, advisor, field log) and plain values, and return plain values
(Markdown strings, numpy images, JSON-ready dicts). The Gradio wiring in app.py only passes them through.
"""
from __future__ import annotations

import os
from pathlib import Path

from .i18n import norm_lang, t

ORGANIC_CHOICES = ("certified", "in_conversion", "conventional")


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
    """The resolved path when it lies inside an upload folder; ValueError otherwise (never read elsewhere)."""
    if path is None:
        raise ValueError("no file")
    if not isinstance(path, (str, os.PathLike)):  # gradio FileData / tempfile wrappers
        path = getattr(path, "path", None) or getattr(path, "name", None) or str(path)
    p = Path(path).resolve()
    for root in roots if roots is not None else upload_roots():
        root = Path(root).resolve()
        if p == root or root in p.parents:
            return p
    raise ValueError(f"refusing to read {p}: not inside the temporary upload folder")


# -------------------------------------------------------------------------------------------- context

def parse_context(organic=None, days=None, copper=None):
    """Form values -> advisor Context. Empty fields mean 'unknown'; bad numbers raise ContextError."""
    from advisor import Context

    organic = organic if organic in ORGANIC_CHOICES else "certified"
    d = None
    if days not in (None, ""):
        d = int(round(float(days)))
        d = max(d, 0)
    c = 0.0 if copper in (None, "") else max(float(copper), 0.0)
    return Context(organic_status=organic, days_to_harvest=d, copper_used_year_kg_ha=c, copper_used_7y_kg_ha=c)


def organic_choices(lang: str) -> list[tuple[str, str]]:
    return [(t(f"org_{k}", lang), k) for k in ORGANIC_CHOICES]


# ------------------------------------------------------------------------------------------ diagnosis

def problem_name(advisor, label: str | None, lang: str) -> str:
    """Plain words for a model label in `lang`, with the crop: 'Bệnh mốc sương (Cà chua)'."""
    if not label:
        return "-"
    try:
        p = advisor.problem(label)
    except Exception:
        return label
    crop = advisor.kb.crops.get(p["crop"], {})
    name = p["names"][lang]
    if p.get("type") in ("no_leaf",) or not crop:
        return name
    return f"{name} ({crop[lang]})"


def classify_error(message: str | None) -> str:
    """An English ImageError message -> an i18n key, so the vi page never shows English detail."""
    m = (message or "").lower()
    if "empty" in m or "0 bytes" in m:
        return "err_empty"
    if "zip" in m:
        return "err_zip"
    if "not a photo" in m or "not an image" in m or "expected jpeg" in m:
        return "err_not_image"
    if "pixels" in m and ("below" in m or "minimum" in m or "small" in m):
        return "err_small"
    if "mb" in m and ("phone photo" in m or "too large" in m or "bomb" in m):
        return "err_large"
    if "corrupt" in m or "damaged" in m or "truncated" in m:
        return "err_corrupt"
    return "err_other"


def diagnose_image(services, image_path, top_k: int = 3, check_path: bool = True, heatmap: bool = True):
    """Run the model on one uploaded photo -> (state dict, heatmap overlay or None).

    The state is JSON-ready and language-free: the page re-renders it when the language or the context
    form changes, without running the model again."""
    from model.imageio import ImageError

    if image_path is None or image_path == "":
        return None, None
    path = safe_upload_path(image_path) if check_path else Path(image_path)
    pred = services.predictor
    try:
        r = pred.predict(str(path), top_k=top_k)
    except ImageError as exc:
        return {"status": "error", "label": None, "confidence": None, "top_k": [], "error": str(exc),
                "photo": str(path), "model_version": pred.version, "uncertain_below": pred.uncertain_below}, None
    overlay = None
    if heatmap and r.status in ("ok", "uncertain"):
        try:
            overlay = r.heatmap_overlay()
        except ValueError:
            overlay = None
    state = r.to_dict()
    state.update(photo=str(path), model_version=r.model_version, uncertain_below=pred.uncertain_below,
                 timing=r.timing)
    return state, overlay


def _pct(x) -> str:
    return "-" if x is None else f"{100 * float(x):.0f}%"


def render_result(advisor, state: dict | None, lang: str) -> str:
    """The result panel in plain words: problem, honest confidence, top 3; or the retake guidance."""
    lang = norm_lang(lang)
    if not state:
        return t("empty_result", lang)
    status = state["status"]
    out = [f"## {t('status_' + status, lang)}"]
    if status == "ok":
        out.append(f"# {problem_name(advisor, state['label'], lang)}")
        out.append(f"**{t('confidence', lang)}: {_pct(state['confidence'])}**. {t('confidence_note', lang)}")
        out.append(f"**{t('top3', lang)}:**")
        out += [f"{i}. {problem_name(advisor, k['label'], lang)}: {_pct(k['probability'])}"
                for i, k in enumerate(state.get("top_k", [])[:3], 1)]
    else:
        if status == "uncertain":
            out.append(t("uncertain_why", lang, p=_pct(state["confidence"]), th=_pct(state.get("uncertain_below"))))
        elif status == "not_a_leaf":
            out.append(t("not_a_leaf_why", lang))
            try:  # the advisor's own retake message for a photo without a leaf
                out += [m[lang] for m in advisor.advise("background.no_leaf", status="not_a_leaf").messages]
            except Exception:
                pass
        else:
            out.append(t(classify_error(state.get("error")), lang).capitalize() + "."
                       + (f" ({state['error']})" if lang == "en" and state.get("error") else ""))
        out.append(f"### {t('retake_title', lang)}")
        out.append(t("retake_tips", lang))
    if state.get("model_version"):
        out.append(f"<small>{t('model_version', lang)}: {state['model_version']}</small>")
    return "\n\n".join(out)


def advice_for(advisor, state: dict | None, ctx):
    """The advisor's Advice for a diagnosis state (None for an unreadable photo)."""
    if not state or state["status"] == "error":
        return None
    status = state["status"]
    label = state["label"] if status != "not_a_leaf" else (state.get("label") or "background.no_leaf")
    return advisor.advise(label, ctx, status=status)


def _strip_title(md: str) -> str:
    """Drop the advisor's top title (the panel has its own) and nest step details under their number."""
    lines = md.splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    lines = ["   - " + ln[4:] if ln.startswith("  - ") else ln for ln in lines]
    return "\n".join(lines).strip()


def render_advice(advisor, state: dict | None, ctx, lang: str) -> str:
    lang = norm_lang(lang)
    if not state or state["status"] in ("error", "not_a_leaf"):
        return ""  # the result panel already shows the retake guidance
    adv = advice_for(advisor, state, ctx)
    if adv is None:
        return ""
    return _strip_title(adv.render(lang=lang, fmt="markdown"))


def render_citations(advisor, advice, lang: str) -> str:
    """Per step: each organic standard's status (and, in English, the clause it rests on)."""
    lang = norm_lang(lang)
    if advice is None:
        return ""
    rules = advisor.rules
    out = []
    n = 0
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


def render_all(services, state, lang, organic, days, copper) -> tuple[str, str, str]:
    """(result, advice, citations) Markdown for the current state, language and context form."""
    adv = services.advisor
    ctx = parse_context(organic, days, copper)
    advice = advice_for(adv, state, ctx)
    return (render_result(adv, state, lang), render_advice(adv, state, ctx, lang),
            render_citations(adv, advice, lang))


def api_diagnose(services, image_path, lang="vi", organic="certified", days=None, copper=0.0) -> dict:
    """The JSON the API returns: the model's answer, plain-words name, and rendered advice."""
    lang = norm_lang(lang)
    state, _ = diagnose_image(services, image_path, heatmap=False)
    if state is None:
        raise ValueError(t("no_photo", lang))
    result_md, advice_md, _ = render_all(services, state, lang, organic, days, copper)
    return {"status": state["status"], "label": state["label"], "confidence": state["confidence"],
            "name": problem_name(services.advisor, state["label"], lang) if state["label"] else None,
            "top_k": state["top_k"], "error": state.get("error"), "model_version": state.get("model_version"),
            "result_markdown": result_md, "advice_markdown": advice_md}


def api_advise(services, label, lang="vi", organic="certified", days=None, copper=0.0) -> str:
    """Advice Markdown for any knowledge-base problem id (also ones the model cannot detect)."""
    lang = norm_lang(lang)
    if not label:
        return t("kb_pick", lang)
    adv = services.advisor
    advice = adv.advise(str(label), parse_context(organic, days, copper), status="ok")
    return _strip_title(advice.render(lang=lang, fmt="markdown"))


# -------------------------------------------------------------------------------------------- knowledge

def crop_choices(advisor, lang: str) -> list[tuple[str, str]]:
    return [(c["names"][lang], c["id"]) for c in advisor.crops() if c["id"] != "background"]


def problem_choices(advisor, crop: str | None, lang: str) -> list[tuple[str, str]]:
    if not crop:
        return []
    out = []
    for p in advisor.problems(crop):
        name = p["names"][lang] + ("" if p["detectable_by_model"] else f" ({t('kb_not_detectable', lang)})")
        out.append((name, p["id"]))
    return out

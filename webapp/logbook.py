"""Field-log handlers: save a diagnosis to a plot, show a plot's history, record an action."""
from __future__ import annotations

import unicodedata
from pathlib import Path

from leafscout.fieldlog.timeutil import fmt_local, fmt_zoned
from leafscout.safety import html_text

from .handlers import ORGANIC_CHOICES, error_text, md_msg, md_name, problem_name
from .i18n import STRINGS, norm_lang, num, t

md_text = md_name  # every typed value in a Markdown component: no link, no bold, no autolinked URL


class Refused(ValueError):
    """An entry the Log tab refuses before the field log sees it; `key` is its i18n message."""

    def __init__(self, key: str, **fmt):
        super().__init__(key)
        self.key, self.fmt = key, fmt


def plot_names(services) -> list[str]:
    try:
        return [p.name for p in services.log.plots()]
    except Exception:
        return []


def ensure_plot(services, plot: str | None, new_plot: str | None, crop: str | None = None,
                area_ha=None, organic: str | None = None, lang: str = "vi"):
    """The chosen plot's name; a typed new name is created first (crop from the diagnosis if known) with its
    area in ha, which a new plot must have (Refused `new_plot_need_area`): the copper per hectare of every spray
    logged there is worked out from it, so no area is ever made up."""
    from leafscout.fieldlog.errors import UnknownPlotError

    log = services.log
    new_plot = (new_plot or "").strip()
    if new_plot:
        try:  # an existing plot typed again (in another case, NFD, with a zero-width space) is that plot
            return log.get_plot(new_plot).name
        except UnknownPlotError:
            pass
        if area_ha in (None, "") or (isinstance(area_ha, str) and not area_ha.strip()):
            raise Refused("new_plot_need_area", plot=new_plot)
        return log.add_plot(new_plot, crop or "unknown", plot_area(area_ha, lang),
                            organic_status=organic if organic in ORGANIC_CHOICES else "in_conversion").name
    if plot:
        return log.get_plot(plot).name
    return None


def save_observation(services, state: dict | None, plot, new_plot, lang: str, organic=None, crop=None,
                     confirmed_by: str | None = None, new_area=None) -> str:
    """A person pressed Save: write the diagnosis to the plot (a typed new plot takes the picker's crop).

    `confirmed_by` names the person who looked at the photo and agrees with the result: the record is then a
    confirmed diagnosis. Without it an ok/uncertain result is saved unconfirmed (the message says so) and a
    not-a-leaf result is refused with the translated `needs_confirmation` message. A refused record leaves
    no new plot behind (one transaction). A typed new plot needs `new_area` (ha; the vi page's "0,5" too)."""
    return save_for_review(services, state, plot, new_plot, lang, organic, crop, confirmed_by, new_area)[0]


def save_for_review(services, state: dict | None, plot, new_plot, lang: str, organic=None, crop=None,
                    confirmed_by: str | None = None, new_area=None) -> tuple[str, int | None]:
    """`save_observation` -> (message, the new observation's id or None when nothing was saved): the Diagnose
    tab keeps the id so an officer can confirm or correct the record right there."""
    lang = norm_lang(lang)
    by = (confirmed_by or "").strip() or None
    if not state or state.get("status") == "error" or not state.get("photo"):
        return t("nothing_to_save", lang), None
    if not crop and state.get("label"):
        try:
            crop = services.advisor.problem(state["label"])["crop"]
        except Exception:
            crop = None
    if not plot and not (new_plot or "").strip():
        return t("choose_plot", lang), None
    saved = state.setdefault("saved", {})  # plot -> observation id: Save pressed twice records the photo once
    try:
        with services.log.batch():
            name = ensure_plot(services, plot, new_plot, crop=crop, area_ha=new_area, organic=organic,
                               lang=lang)
            if name in saved:
                return md_msg("already_saved", lang, {"plot": name}, id=saved[name]), saved[name]
            obs = services.record_result(name, state["photo"], state.get("label"), state["status"],
                                         state.get("confidence"), state.get("model_version"), confirmed_by=by)
    except Refused as exc:
        if exc.key == "new_plot_need_area":  # not a failure: one more box to fill
            return md_msg(exc.key, lang, {"plot": exc.fmt["plot"]}), None
        return t("log_error", lang, msg=_msg(exc, lang, services, new_plot)), None
    except Exception as exc:
        return t("log_error", lang, msg=_msg(exc, lang, services, new_plot)), None
    saved[name] = getattr(obs, "id", None)
    done = md_msg("saved", lang, {"plot": name}) + " " + (md_msg("saved_by", lang, {"by": by}) if by
                                                          else md_msg("saved_unconfirmed", lang))
    return done, getattr(obs, "id", None)


def refusal_text(exc: Exception, lang: str, services=None, name: str | None = None) -> str | None:
    """The translated reason for a refusal with a code (a field-log code, ours, or a service code); None when
    the exception carries none. Never the field log's English, which names command-line flags."""
    if isinstance(exc, Refused):
        return t(exc.key, lang, **exc.fmt)
    code = getattr(exc, "log_code", None) or getattr(exc, "code", None)
    if not isinstance(code, str):
        return None
    if code == "similar_name":
        other = _similar_plot(services, name)
        if other:
            return t("fl_similar_name", lang, other=other)
        return t("fl_duplicate", lang)
    if f"fl_{code}" in STRINGS:
        return t(f"fl_{code}", lang)
    if f"err_{code}" in STRINGS:
        return error_text(code, lang)
    return None


def _similar_plot(services, name) -> str | None:
    """The existing plot a new name was refused for (same letters, other accents, spaces or punctuation)."""
    from leafscout.fieldlog.text import skeleton

    shape = skeleton((name or "").strip()) if name else ""
    if not shape or services is None:
        return None
    return next((p for p in plot_names(services) if skeleton(p) == shape), None)


def _msg(exc: Exception, lang: str, services=None, name: str | None = None) -> str:
    """Why a log write failed, in the page's language: the code's translation; without a code the English
    detail on the en page (paths removed) and a generic reason on the vi page."""
    from leafscout.errors import strip_paths
    if getattr(exc, "log_code", None) == "similar_name" or getattr(exc, "code", None) == "similar_name":
        other = _similar_plot(services, name)
        if other:  # the existing plot's name, which anyone typed: as text
            return md_msg("fl_similar_name", lang, {"other": other})
    text = refusal_text(exc, lang, services, name)
    if text is not None:
        return html_text(text)
    return html_text(strip_paths(str(exc))) if lang == "en" else t("err_other", lang)


def add_plot(services, name, crop, area, organic, lang) -> str:
    lang = norm_lang(lang)
    if not (name or "").strip():
        return t("plot_name_needed", lang)
    if area is None or not str(area).strip():  # an emptied area box: asked for, never made 0.1 ha
        return t("log_need_area", lang)
    try:
        ha = plot_area(area, lang)  # 0 is refused, not made 0.1 ha
        services.log.add_plot((name or "").strip(), crop or "unknown", ha,
                              organic_status=organic if organic in ORGANIC_CHOICES else "in_conversion")
    except Exception as exc:
        return t("log_error", lang, msg=_msg(exc, lang, services, name))
    return md_msg("log_added", lang, {"plot": name.strip()}) + " " + _crop_hint(services, crop or "", lang)


def _number(value) -> float:
    """A typed number (the vi page's decimal comma too: "1,5"); Refused when it is not one, or not finite
    ("inf", "nan", "1e999": never 'inf kg' in a message)."""
    import math

    if isinstance(value, str):
        text = value.strip()
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
    else:
        text = value
    try:
        x = float(text)
    except (TypeError, ValueError, OverflowError):
        raise Refused("fl_bad_value") from None
    if not math.isfinite(x):
        raise Refused("fl_not_finite", value=str(value).strip()[:40])
    return x


def plot_area(area, lang: str) -> float:
    """A plot's typed area in ha, Refused (translated range, numbers as people write them) outside the log's range."""
    from leafscout.fieldlog.api import PLOT_AREA_HA
    ha = _number(area)
    if not PLOT_AREA_HA[0] <= ha <= PLOT_AREA_HA[1]:
        raise Refused("fl_plot_area", lo=num(PLOT_AREA_HA[0], lang), hi=num(PLOT_AREA_HA[1], lang))
    return ha


def _crop_hint(services, text: str, lang: str) -> str:
    """What LeafScout will do with photos logged to a plot of this crop (`DiagnosisService.crop_support`)."""
    try:
        crop, kind = services.crop_support(text)
        names = services.advisor.kb.crops
        name = (names.get(crop) or {}).get(lang, crop) if crop else ""
        name = name[:1].lower() + name[1:]  # mid-sentence: "cây cà phê", "for coffee"
        crops = ", ".join((names.get(c) or {}).get(lang, c) for c in services.crops)
    except Exception:  # the plot is added; the hint is a courtesy
        return ""
    if kind == "unknown":  # the typed crop as text (Markdown component)
        return md_msg("plot_crop_unknown", lang, {"text": text}, crops=crops)
    return html_text(t("plot_crop_" + kind, lang, crop=name))


def record_action(services, plot, what, substance, copper, lang) -> str:
    """Record a field operation. `copper` (kg Cu/ha, optional) feeds the copper ledger: a treatment that names
    a copper product without it is refused by the log (translated `copper_required`: use the spray-by-the-tank
    entry), and a dose above the per-application limit gets the translated range message."""
    lang = norm_lang(lang)
    if not plot:
        return t("choose_plot", lang)
    if not (what or "").strip():
        return t("log_need_what", lang)
    try:
        cu = _copper_number(copper, lang)
        action = services.log.record_action(plot, what.strip(), active_substance=(substance or "").strip() or None,
                                            copper_kg_ha=cu)
    except Exception as exc:
        return t("log_error", lang, msg=_msg(exc, lang))
    return t("log_recorded", lang) + _copper_warning(services, action, lang, plot) + _substance_warning(services,
                                                                                                   action, lang)


def _substance_warning(services, action, lang) -> str:
    """' CẢNH BÁO: ...' when the recorded substance is not allowed in organic farming (said now, not first in the
    season audit), else ''. The typed name in it is shown as text."""
    from leafscout.service import substance_warning
    try:
        warning = substance_warning(action, services.advisor, lang)
    except Exception:
        return ""
    return f" {md_text(warning)}" if warning else ""


def _copper_warning(services, action, lang, plot=None) -> str:
    """' CẢNH BÁO: ...' when this copper action takes the plot over the advisor's 7-year cap, else ''."""
    from leafscout.service import copper_warning
    try:
        warning = copper_warning(services.log, action, services.advisor, lang)
    except Exception:
        return ""
    if not warning:
        return ""
    text = html_text(warning)
    try:  # the plot's name in it as text (anyone can type one: no link, no bold)
        name = services.log.get_plot(plot).name if plot else None
    except Exception:
        name = None
    return f" {text.replace(html_text(name), md_name(name))}" if name else f" {text}"


def _copper_number(copper, lang: str = "vi") -> float | None:
    """A typed kg Cu/ha: None when empty or 0 (not given), Refused when not a number or implausible."""
    from leafscout.fieldlog.copper import MAX_KG_HA_PER_APPLICATION
    if copper in (None, "") or (isinstance(copper, str) and not copper.strip()):
        return None
    kg = _number(copper)
    if kg < 0:
        raise Refused("fl_bad_value")
    if kg > MAX_KG_HA_PER_APPLICATION:
        raise Refused("fl_copper_range", kg=num(kg, lang), max=num(MAX_KG_HA_PER_APPLICATION, lang))
    return kg or None


def history_md(services, plot, lang) -> str:
    lang = norm_lang(lang)
    if not plot:
        return t("log_no_plots", lang) if not plot_names(services) else t("choose_plot", lang)
    try:
        h = services.log.history(plot)
        year, seven = services.log.copper_used(plot)
    except Exception as exc:
        return t("log_read_error", lang, msg=_msg(exc, lang))
    adv = services.advisor
    # Markdown: every value a person typed is escaped for it (a plot named [x](http://…) is text, not a link)
    out = [f"### {t('log_history', lang, plot=md_text(h.plot.name))}",
           html_text(t("log_copper_total", lang, year=num(year, lang), seven=num(seven, lang),
                       cap=num(adv.copper_cap_kg_ha_7y, lang)))]
    rows = h.timeline()
    if not rows:
        out.append(t("log_empty", lang))
        return "\n\n".join(out)
    out.append(f"| {t('log_when', lang)} | {t('log_kind', lang)} | {t('log_detail', lang)} |\n|---|---|---|")
    lines = []
    for when, kind, item in rows:
        if kind == "observation":
            name = problem_name(adv, item.label, lang) if item.label != "unknown" else "-"
            detail = f"#{item.id} {name} ({_status(item.status, lang)})"
            by = getattr(item, "confirmed_by", None)
            detail += "; " + (t("log_confirmed_by", lang, by=md_text(by)) + f" ({_when(item.confirmed_at)})" if by
                              else t("log_unconfirmed", lang))
            for c in h.corrections.get(item.id, []):
                detail += "; " + t("log_corrected", lang, name=_md_label(adv, c.label, lang),
                                   by=md_text(c.by), when=_when(c.at))
            detail += "; " + t("log_model", lang, v=md_text(item.model_version)) + "; " + \
                t("log_photo", lang, sha=(item.photo_sha256 or "")[:12])
        else:
            detail = md_text(item.what) + (f"; {md_text(item.active_substance)}" if item.active_substance else "") + \
                (f"; Cu {num(item.copper_kg_ha, lang)} kg/ha" if item.copper_kg_ha else "")
        detail = detail.replace("|", "/").replace("\n", " ")  # md_text escaped the typed ones already
        lines.append(f"| {fmt_local(when, '%Y-%m-%d')} | {t('log_' + kind, lang)} | {detail} |")
    out[-1] += "\n" + "\n".join(lines)
    return "\n\n".join(out)


def plot_context(services, plot):
    """(organic status, 7-year copper kg/ha, crop) of a plot, to pre-fill the Diagnose form; None if unknown."""
    if not plot:
        return None
    try:
        p = services.log.get_plot(plot)
        return p.organic_status, services.log.copper_used(p)[1], p.crop
    except Exception:
        return None


# ------------------------------------------------------------------- officers: confirm and correct a record

STATUSES = ("ok", "uncertain", "not_a_leaf", "error")
RECENT = 30  # observations of a plot offered for review, newest first


def _status(status, lang) -> str:
    return t("st_" + status, lang) if status in STATUSES else str(status)


def _when(at) -> str:
    """A stored (UTC) time on the recorder's clock with its zone named, as the CLI and exports show it."""
    return fmt_zoned(at) if at is not None else "-"


def _label_name(adv, label, lang) -> str:
    return problem_name(adv, label, lang) if label and label != "unknown" else "-"


def _md_label(adv, label, lang) -> str:
    """A label's name for Markdown: the knowledge base's words as they are; a label someone typed (a new
    problem, `log correct --new-label`) escaped like any other typed text."""
    return _label_name(adv, label, lang) if label in adv.kb.problems else md_text(_label_name(adv, label, lang))


def model_labels(services) -> list[str]:
    try:
        return list(services.predictor.labels)
    except Exception:
        return []


def label_choices(services, lang) -> list[tuple[str, str]]:
    """The loaded model's labels for the "right answer" picker: (plain name in the page's language · label)."""
    lang = norm_lang(lang)
    adv = services.advisor
    out = [(f"{_label_name(adv, lab, lang)} · {lab}", lab) for lab in model_labels(services)]
    return sorted(out, key=lambda c: c[0].casefold())


def reviewer(username=None, typed=None, officers=None, shared_user=None) -> str:
    """Who confirms or corrects: the logged-in officer (`gr.Request.username`). Logged in with the one shared
    `--auth` account, the name typed in the "confirmed by" box (else the account's name). With no login at all,
    the typed name. Refused (translated) when there is nobody to name, or when the logged-in account is no
    longer in the officers file (removed while their page was open)."""
    user = unicodedata.normalize("NFC", str(username or "")).strip()
    typed = unicodedata.normalize("NFC", str(typed or "")).strip()
    if user:
        if officers is not None and officers.known(user):
            return user
        if shared_user is not None and user == shared_user:
            return typed or user
        if officers is not None:
            raise Refused("review_not_officer", by=user)
        return user
    if typed:
        return typed
    raise Refused("review_need_by")


def _obs_id(value) -> int:
    if isinstance(value, float) and value.is_integer():  # gr.Number
        value = int(value)
    if value is None or not str(value).strip():
        raise Refused("review_pick")
    try:
        n = int(str(value).lstrip("#").strip())
    except (TypeError, ValueError):
        raise Refused("review_no_such", id=str(value).strip().lstrip("#")[:40]) from None
    if n < 1 or n > 2**63 - 1:  # past SQLite's integers: no such record (not "the file could not be read")
        raise Refused("review_no_such", id=str(value).strip().lstrip("#")[:40])
    return n


def _observation(services, obs_id: int):
    """(observation, its plot's name, its corrections oldest first), or Refused when there is no such record."""
    found = services.log.observation_review(obs_id)
    if found is None:
        raise Refused("review_no_such", id=obs_id)
    return found


def confirm_record(services, obs_id, by: str):
    """Confirm observation `obs_id` as `by` (already resolved by `reviewer`); raises Refused / FieldLogError."""
    n = _obs_id(obs_id)
    obs, _, cs = _observation(services, n)
    if cs:  # the log's confirmation vouches for the model's answer, which a person already said was wrong
        raise Refused("review_was_corrected", id=n)
    if obs.confirmed_by:
        raise Refused("review_already", id=n, by=obs.confirmed_by, when=_when(obs.confirmed_at))
    return services.log.confirm_observation(n, by)


def correct_record(services, obs_id, label, by: str, note=None):
    """Correct observation `obs_id` to `label` (one of the loaded model's labels) as `by`; raises Refused /
    FieldLogError; returns the Correction."""
    n = _obs_id(obs_id)
    labels = model_labels(services)
    if not label or label not in labels:
        raise Refused("review_pick_label")
    obs, _, cs = _observation(services, n)
    if label == (cs[-1].label if cs else obs.label):
        raise Refused("review_same", id=n)
    return services.log.correct_observation(n, label, by, note=(note or "").strip() or None, known_labels=labels)


def confirm(services, obs_id, lang, *, username=None, typed=None, officers=None, shared_user=None) -> str:
    """An officer says the logged result is right: the record is confirmed by them, now (UTC)."""
    lang = norm_lang(lang)
    try:
        obs = confirm_record(services, obs_id, reviewer(username, typed, officers, shared_user))
    except Exception as exc:
        return review_error(exc, lang)
    return md_msg("review_confirmed", lang, {"by": obs.confirmed_by}, id=obs.id,
                  name=_label_name(services.advisor, obs.label, lang), when=_when(obs.confirmed_at))


def correct(services, obs_id, label, lang, *, username=None, typed=None, officers=None, shared_user=None,
            note=None) -> str:
    """An officer says what the photo really shows: a correction with who, when, the photo's hash and the model
    version (the record keeps the model's answer; `leafscout corrections export` turns it into training data)."""
    lang = norm_lang(lang)
    adv = services.advisor
    try:
        c = correct_record(services, obs_id, label, reviewer(username, typed, officers, shared_user), note)
    except Exception as exc:
        return review_error(exc, lang)
    return md_msg("review_corrected", lang, {"by": c.by, "old": _label_name(adv, c.previous_label, lang),
                                             "new": _label_name(adv, c.label, lang)},
                  id=c.observation_id, when=_when(c.at))


def review_record(services, obs_id) -> dict:
    """One observation as plain values (the /confirm and /correct API's answer): the model's answer, the label
    now (the latest correction's), who confirmed, every correction, the photo's hash and the model version."""
    obs, plot, cs = _observation(services, _obs_id(obs_id))
    iso = lambda at: at.replace(microsecond=0).isoformat() + "Z" if at is not None else None  # noqa: E731
    return {"id": obs.id, "uid": obs.uid, "plot": plot, "label": cs[-1].label if cs else obs.label,
            "model_label": obs.label, "model_status": obs.status, "model_confidence": round(obs.confidence, 4),
            "model_version": obs.model_version, "photo_sha256": obs.photo_sha256,
            "observed_at": iso(obs.observed_at), "confirmed_by": obs.confirmed_by, "confirmed_at": iso(obs.confirmed_at),
            "corrections": [{"label": c.label, "previous_label": c.previous_label, "by": c.by, "at": iso(c.at),
                             "photo_sha256": c.photo_sha256, "model_version": c.model_version} for c in cs]}


def review_error(exc, lang, markdown: bool = True) -> str:
    """Why a review was refused, in the page's language: for a Markdown component (typed names as plain text),
    or with `markdown=False` HTML-escaped only (the API's error, unescaped by the caller)."""
    if isinstance(exc, Refused) and exc.key.startswith("review_") and not markdown:
        return html_text(t(exc.key, lang, **exc.fmt))
    if isinstance(exc, Refused) and exc.key.startswith("review_"):
        typed = {k: v for k, v in exc.fmt.items() if k in ("by", "id")}
        return md_msg(exc.key, lang, typed, **{k: v for k, v in exc.fmt.items() if k not in typed})
    return t("log_error", lang, msg=_msg(exc, lang))


def review_choices(services, plot, lang, limit: int = RECENT) -> list[tuple[str, int]]:
    """A plot's recent observations, newest first, for the Log tab's picker: (#id · date · answer now ·
    confirmed/corrected/unconfirmed · model version, id)."""
    lang = norm_lang(lang)
    if not plot:
        return []
    try:
        h = services.log.history(plot)
    except Exception:
        return []
    adv = services.advisor
    out = []
    for o in sorted(h.observations, key=lambda o: (o.observed_at, o.id), reverse=True)[:limit]:
        cs = h.corrections.get(o.id, [])
        label = cs[-1].label if cs else o.label
        if cs:
            state = t("log_corrected_short", lang, by=cs[-1].by)
        elif o.confirmed_by:
            state = t("log_confirmed_by", lang, by=o.confirmed_by)
        else:
            state = t("log_unconfirmed", lang)
        out.append((f"#{o.id} · {fmt_local(o.observed_at, '%Y-%m-%d')} · {_label_name(adv, label, lang)} · {state} · "
                    f"{t('log_model', lang, v=o.model_version)}", o.id))
    return out


def review_md(services, obs_id, lang) -> str:
    """One observation as the record keeps it: the model's answer and version, the photo's hash, who confirmed
    it and when, and every correction (who, when, from what to what)."""
    lang = norm_lang(lang)
    if obs_id in (None, ""):
        return ""
    try:
        obs, plot, cs = _observation(services, _obs_id(obs_id))
    except Refused as exc:
        return review_error(exc, lang)
    except Exception as exc:  # only reading: not "could not save"
        return t("log_read_error", lang, msg=_msg(exc, lang))
    adv = services.advisor
    rows = [f"**#{obs.id}** · {md_text(plot)} · {_when(obs.observed_at)}",
            f"- {t('review_model_said', lang)}: {html_text(_label_name(adv, obs.label, lang))} "
            f"({_status(obs.status, lang)}, {obs.confidence:.0%})",
            f"- {t('model_version', lang)}: `{html_text(obs.model_version)}`",
            f"- {t('review_sha', lang)}: `{html_text(obs.photo_sha256)}`",
            "- " + (t("log_confirmed_by", lang, by=md_text(obs.confirmed_by)) + f" ({_when(obs.confirmed_at)})"
                    if obs.confirmed_by else t("log_unconfirmed", lang))]
    for c in cs:
        rows.append("- " + t("log_corrected", lang, name=_md_label(adv, c.label, lang), by=md_text(c.by),
                             when=_when(c.at)))
    return "\n".join(rows)


# ---------------------------------------------------------------------------------- copper by the tank

# Copper content (metallic Cu, by weight) of the products farmers in Son La buy; "other" takes a typed %.
COPPER_PRODUCTS = {"copper_hydroxide": 0.50, "copper_oxychloride": 0.50, "copper_sulfate": 0.25, "other": None}
# the active substance each product records, as the advisor's substance list names it (the season audit checks
# it): copper sulfate is bought to make Bordeaux mixture, which is allowed (copper sulfate as such is not); an
# "other" product is plain "copper", which the audit flags until the certifier has seen what it is
COPPER_SUBSTANCES = {"copper_hydroxide": "copper hydroxide", "copper_oxychloride": "copper oxychloride",
                     "copper_sulfate": "Bordeaux mixture", "other": "copper"}


def copper_product_choices(lang: str) -> list[tuple[str, str]]:
    return [(t(f"prod_{k}", lang), k) for k in COPPER_PRODUCTS]


def copper_kg_ha(product: str, grams_per_tank, tanks, area_ha, cu_percent=None) -> tuple[float, float]:
    """(kg Cu/ha, grams of copper) for `tanks` sprayer tanks each holding `grams_per_tank` of product on a
    plot of `area_ha` hectares: grams of product x copper fraction / 1000 / area."""
    frac = COPPER_PRODUCTS.get(product)
    if frac is None:
        frac = _number(cu_percent or 0) / 100.0
    g, n, area = _number(grams_per_tank or 0), _number(tanks or 0), _number(area_ha or 0)
    if not (0 < frac <= 1):  # "other" product without its copper %: the copper cannot be worked out
        raise Refused("fl_copper_pct")
    if not (g > 0 and n > 0 and area > 0) or not all(x < float("inf") for x in (g, n, area)):
        raise Refused("fl_spray_amounts")
    cu_g = g * n * frac
    return round(cu_g / 1000.0 / area, 4), round(cu_g, 1)


def _fraction(product, cu_percent) -> float:
    frac = COPPER_PRODUCTS.get(product)
    return frac if frac is not None else _number(cu_percent or 0) / 100.0


def record_copper_spray(services, plot, product, grams_per_tank, tanks, cu_percent, lang) -> str:
    lang = norm_lang(lang)
    if not plot:
        return t("choose_plot", lang)
    if not grams_per_tank or not tanks:
        return t("log_spray_need", lang)
    from leafscout.fieldlog.copper import MAX_KG_HA_PER_APPLICATION
    try:
        p = services.log.get_plot(plot)
        kg, cu_g = copper_kg_ha(product, grams_per_tank, tanks, p.area_ha, cu_percent)
        exact = _number(grams_per_tank) * _number(tanks) * _fraction(product, cu_percent) / 1000.0 / p.area_ha
        if exact > MAX_KG_HA_PER_APPLICATION:
            raise Refused("fl_copper_range", kg=num(kg, lang), max=num(MAX_KG_HA_PER_APPLICATION, lang))
        pname = t(f"prod_{product}", lang) if product in COPPER_PRODUCTS else str(product)
        # the derived copper goes to the ledger as worked out here (not rounded to 0 for a tiny dose), with
        # the product's copper content, so the log never has to guess it from the product's name
        action = services.log.record_action(p.name, t("log_spray_what", lang, product=pname), product=pname,
                                            active_substance=COPPER_SUBSTANCES.get(product, "copper"),
                                            amount=_number(grams_per_tank) * _number(tanks),
                                            unit="g", copper_kg_ha=exact,
                                            copper_content_pct=_fraction(product, cu_percent) * 100.0)
    except Exception as exc:
        return t("log_error", lang, msg=_msg(exc, lang))
    return md_msg("log_spray_done", lang, {"plot": p.name}, kg=num(kg, lang), g=num(cu_g, lang),
                  ha=num(p.area_ha, lang)) \
        + _copper_warning(services, action, lang, p.name)


# ------------------------------------------------------------------------------- lots, QR, exports, audit

def lot_codes(services) -> list[str]:
    try:
        return [lot.code for lot in services.log.lots()]
    except Exception:
        return []


def add_lot(services, code, plots, lang):
    """-> (message, QR PNG path or None)."""
    lang = norm_lang(lang)
    code = (code or "").strip()
    plots = [p for p in (plots or []) if p]
    if not code or not plots:
        return t("log_lot_need", lang), None
    try:
        lot = services.log.add_lot(code, plots)
        png = qr_png(services, lot)
    except Exception as exc:
        return t("log_error", lang, msg=_msg(exc, lang)), None
    return md_msg("log_lot_done", lang, {"lot": lot.code}), png


def qr_png(services, item) -> str:
    """The item's traceability QR code as a PNG file (in a private temp folder) for gr.Image."""
    import tempfile

    from leafscout.fieldlog import qr

    d = Path(tempfile.mkdtemp(prefix="leafscout-qr-"))
    out = d / "qr.png"
    out.write_bytes(qr.png_bytes(item, services.log.trace_base_url))
    return str(out)


def export_files(services, target, lang) -> tuple[str, list[str]]:
    """PDF, CSV and HTML trace reports for a lot or plot -> (message, file paths)."""
    import tempfile

    from leafscout.fieldlog import export

    lang = norm_lang(lang)
    target = (target or "").strip()
    if not target:
        return t("choose_plot", lang), []
    try:
        page = export.build(services.log, target)
        d = Path(tempfile.mkdtemp(prefix="leafscout-export-"))
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in target)[:60] or "report"
        names, cap = _pdf_names(services, lang)
        files = [str(export.write(page, fmt, d / f"{safe}.{fmt}", services.log, lang=lang, names=names,
                                  copper_cap=cap)) for fmt in ("pdf", "csv", "html")]
    except Exception as exc:
        return t("log_export_error", lang, msg=_msg(exc, lang)), []
    return "", files


def _pdf_names(services, lang) -> tuple[dict, float | None]:
    """The knowledge base's names in the page's language and the copper cap, for the PDF and the HTML (the field
    log imports nothing of the advisor); without them both show the stored ids."""
    from leafscout.i18n import kb_names
    try:
        adv = services.advisor
        return kb_names(adv, lang), float(adv.copper_cap_kg_ha_7y)
    except Exception:
        return {}, None


def audit_md(services, year, lang) -> str:
    from leafscout.service import audit_season

    lang = norm_lang(lang)
    typed = str(year if year is not None else "").strip()
    if not typed:
        return t("log_audit_need_year", lang, hi=9998)
    try:  # the year box: empty, text, 0 or 1e30 is "enter a year from 1970 to ...", never "could not save"
        yf = _number(typed)
        if not yf.is_integer() or not 1970 <= yf <= 9998:
            raise Refused("fl_bad_time")
        y = int(yf)
    except Refused:
        return md_msg("log_audit_bad_year", lang, {"y": typed[:40]}, hi=9998)
    try:
        rep = audit_season(services.log, f"{y}-01-01", f"{y + 1}-01-01", services.advisor, lang=lang)
    except Exception as exc:
        return t("log_audit_error", lang, msg=_msg(exc, lang))
    out = []
    if not rep.rows:
        out.append(t("log_audit_none", lang, y=y))
    flagged = rep.flagged
    over = [c for c in rep.copper if c.over_cap]
    if not flagged and not over:
        out.append(f"**{t('log_audit_ok', lang)}**")
    else:
        out.append(f"**{t('log_audit_flag', lang)}:**")
        for r in flagged:
            sub = f" ({md_text(r.action.active_substance)})" if r.action.active_substance else ""  # never "()"
            out.append(f"- {fmt_local(r.action.at, '%Y-%m-%d')} {md_text(r.plot)}: {md_text(r.action.what)}"
                       f"{sub}: {md_text(r.reason)}")
    for c in rep.copper:
        out.append("- " + html_text(t("log_copper_total", lang, year=num(c.year_kg_ha, lang),
                                      seven=num(c.seven_years_kg_ha, lang), cap=num(c.cap_kg_ha_7y, lang)))
                   + f" ({md_text(c.plot)})"
                   + (" ⚠" if c.over_cap else ""))
    return "\n".join(out)

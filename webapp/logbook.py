"""Field-log handlers: save a diagnosis to a plot, show a plot's history, record an action."""
from __future__ import annotations

from .handlers import ORGANIC_CHOICES, problem_name
from .i18n import norm_lang, t


def plot_names(services) -> list[str]:
    try:
        return [p.name for p in services.log.plots()]
    except Exception:
        return []


def ensure_plot(services, plot: str | None, new_plot: str | None, crop: str | None = None,
                area_ha=None, organic: str | None = None):
    """The chosen plot's name; a typed new name is created first (crop from the diagnosis if known)."""
    log = services.log
    new_plot = (new_plot or "").strip()
    if new_plot:
        if new_plot not in plot_names(services):
            log.add_plot(new_plot, crop or "unknown", float(area_ha) if area_ha else 0.1,
                         organic_status=organic if organic in ORGANIC_CHOICES else "in_conversion")
        return new_plot
    if plot:
        return log.get_plot(plot).name
    return None


def save_observation(services, state: dict | None, plot, new_plot, lang: str, organic=None) -> str:
    lang = norm_lang(lang)
    if not state or state.get("status") == "error" or not state.get("photo"):
        return t("nothing_to_save", lang)
    crop = None
    if state.get("label"):
        try:
            crop = services.advisor.problem(state["label"])["crop"]
        except Exception:
            crop = None
    try:
        name = ensure_plot(services, plot, new_plot, crop=crop, organic=organic)
        if not name:
            return t("choose_plot", lang)
        services.log.record_observation(name, state["photo"], state.get("label") or "unknown", state["status"],
                                        float(state.get("confidence") or 0.0),
                                        state.get("model_version") or "unknown")
    except Exception as exc:
        return t("log_error", lang, msg=_msg(exc, lang))
    return t("saved", lang, plot=name)


def _msg(exc: Exception, lang: str) -> str:
    # field-log messages are English; on the vi page show only a generic Vietnamese reason
    return str(exc) if lang == "en" else t("err_other", lang)


def add_plot(services, name, crop, area, organic, lang) -> str:
    lang = norm_lang(lang)
    try:
        services.log.add_plot((name or "").strip(), crop or "unknown", float(area or 0.1),
                              organic_status=organic if organic in ORGANIC_CHOICES else "in_conversion")
    except Exception as exc:
        return t("log_error", lang, msg=_msg(exc, lang))
    return t("log_added", lang, plot=name.strip())


def record_action(services, plot, what, substance, copper, lang) -> str:
    lang = norm_lang(lang)
    if not plot:
        return t("choose_plot", lang)
    if not (what or "").strip():
        return t("log_need_what", lang)
    try:
        services.log.record_action(plot, what.strip(), active_substance=(substance or "").strip() or None,
                                   copper_kg_ha=float(copper or 0.0))
    except Exception as exc:
        return t("log_error", lang, msg=_msg(exc, lang))
    return t("log_recorded", lang)


def history_md(services, plot, lang) -> str:
    lang = norm_lang(lang)
    if not plot:
        return t("log_no_plots", lang) if not plot_names(services) else t("choose_plot", lang)
    try:
        h = services.log.history(plot)
        year, seven = services.log.copper_used(plot)
    except Exception as exc:
        return t("log_error", lang, msg=_msg(exc, lang))
    adv = services.advisor
    out = [f"### {t('log_history', lang, plot=h.plot.name)}",
           t("log_copper_total", lang, year=f"{year:g}", seven=f"{seven:g}", cap=f"{adv.copper_cap_kg_ha_7y:g}")]
    rows = h.timeline()
    if not rows:
        out.append(t("log_empty", lang))
        return "\n\n".join(out)
    out.append(f"| {t('log_when', lang)} | {t('log_kind', lang)} | {t('log_detail', lang)} |\n|---|---|---|")
    lines = []
    for when, kind, item in rows:
        if kind == "observation":
            name = problem_name(adv, item.label, lang) if item.label != "unknown" else "-"
            detail = f"{name} ({t('st_' + item.status, lang) if item.status in ('ok', 'uncertain', 'not_a_leaf', 'error') else item.status})"
        else:
            detail = item.what + (f"; {item.active_substance}" if item.active_substance else "") + \
                (f"; Cu {item.copper_kg_ha:g} kg/ha" if item.copper_kg_ha else "")
        detail = detail.replace("|", "/").replace("\n", " ")
        lines.append(f"| {when:%Y-%m-%d} | {t('log_' + kind, lang)} | {detail} |")
    out[-1] += "\n" + "\n".join(lines)
    return "\n\n".join(out)


def copper_for_plot(services, plot) -> float | None:
    """This year's copper (kg/ha) on a plot, to pre-fill the advice context."""
    if not plot:
        return None
    try:
        return services.log.copper_used(plot)[0]
    except Exception:
        return None

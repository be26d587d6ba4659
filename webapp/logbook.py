"""Field-log handlers: save a diagnosis to a plot, show a plot's history, record an action."""
from __future__ import annotations

from pathlib import Path

from leafscout.safety import html_text

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


def save_observation(services, state: dict | None, plot, new_plot, lang: str, organic=None, crop=None) -> str:
    """A person pressed Save: write the diagnosis to the plot (a typed new plot takes the picker's crop)."""
    lang = norm_lang(lang)
    if not state or state.get("status") == "error" or not state.get("photo"):
        return t("nothing_to_save", lang)
    if not crop and state.get("label"):
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
                                        state.get("model_version") or "unknown")  # a person pressed Save
    except Exception as exc:
        return t("log_error", lang, msg=_msg(exc, lang))
    return html_text(t("saved", lang, plot=name))


def _msg(exc: Exception, lang: str) -> str:
    # field-log messages are English; on the vi page show only a generic Vietnamese reason
    from leafscout.errors import strip_paths
    return html_text(strip_paths(str(exc))) if lang == "en" else t("err_other", lang)


def add_plot(services, name, crop, area, organic, lang) -> str:
    lang = norm_lang(lang)
    try:
        services.log.add_plot((name or "").strip(), crop or "unknown", float(area or 0.1),
                              organic_status=organic if organic in ORGANIC_CHOICES else "in_conversion")
    except Exception as exc:
        return t("log_error", lang, msg=_msg(exc, lang))
    return html_text(t("log_added", lang, plot=name.strip()))


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
    out = [f"### {html_text(t('log_history', lang, plot=h.plot.name))}",
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
        detail = html_text(detail).replace("|", "/").replace("\n", " ")
        lines.append(f"| {when:%Y-%m-%d} | {t('log_' + kind, lang)} | {detail} |")
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


# ---------------------------------------------------------------------------------- copper by the tank

# Copper content (metallic Cu, by weight) of the products farmers in Son La buy; "other" takes a typed %.
COPPER_PRODUCTS = {"copper_hydroxide": 0.50, "copper_oxychloride": 0.50, "copper_sulfate": 0.25, "other": None}


def copper_product_choices(lang: str) -> list[tuple[str, str]]:
    return [(t(f"prod_{k}", lang), k) for k in COPPER_PRODUCTS]


def copper_kg_ha(product: str, grams_per_tank, tanks, area_ha, cu_percent=None) -> tuple[float, float]:
    """(kg Cu/ha, grams of copper) for `tanks` sprayer tanks each holding `grams_per_tank` of product on a
    plot of `area_ha` hectares: grams of product x copper fraction / 1000 / area."""
    frac = COPPER_PRODUCTS.get(product)
    if frac is None:
        frac = float(cu_percent or 0) / 100.0
    if not (0 < frac <= 1):
        raise ValueError("copper content must be between 0 and 100%")
    g, n, area = float(grams_per_tank or 0), float(tanks or 0), float(area_ha or 0)
    if g <= 0 or n <= 0 or area <= 0:
        raise ValueError("amount per tank, tanks and plot area must be above 0")
    cu_g = g * n * frac
    return round(cu_g / 1000.0 / area, 4), round(cu_g, 1)


def record_copper_spray(services, plot, product, grams_per_tank, tanks, cu_percent, lang) -> str:
    lang = norm_lang(lang)
    if not plot:
        return t("choose_plot", lang)
    if not grams_per_tank or not tanks:
        return t("log_spray_need", lang)
    try:
        p = services.log.get_plot(plot)
        kg, cu_g = copper_kg_ha(product, grams_per_tank, tanks, p.area_ha, cu_percent)
        pname = t(f"prod_{product}", lang) if product in COPPER_PRODUCTS else str(product)
        services.log.record_action(p.name, t("log_spray_what", lang, product=pname), product=pname,
                                   active_substance="copper", amount=float(grams_per_tank) * float(tanks),
                                   unit="g", copper_kg_ha=kg)
    except Exception as exc:
        return t("log_error", lang, msg=_msg(exc, lang))
    return html_text(t("log_spray_done", lang, kg=f"{kg:g}", plot=p.name, g=f"{cu_g:g}", ha=f"{p.area_ha:g}"))


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
    return html_text(t("log_lot_done", lang, lot=lot.code)), png


def qr_png(services, item) -> str:
    """The item's traceability QR code as a PNG file (in a private temp folder) for gr.Image."""
    import tempfile

    from fieldlog import qr

    d = Path(tempfile.mkdtemp(prefix="leafscout-qr-"))
    out = d / "qr.png"
    out.write_bytes(qr.png_bytes(item, services.log.trace_base_url))
    return str(out)


def export_files(services, target, lang) -> tuple[str, list[str]]:
    """PDF, CSV and HTML trace reports for a lot or plot -> (message, file paths)."""
    import tempfile

    from fieldlog import export

    lang = norm_lang(lang)
    target = (target or "").strip()
    if not target:
        return t("choose_plot", lang), []
    try:
        page = export.build(services.log, target)
        d = Path(tempfile.mkdtemp(prefix="leafscout-export-"))
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in target)[:60] or "report"
        files = [str(export.write(page, fmt, d / f"{safe}.{fmt}", services.log)) for fmt in ("pdf", "csv", "html")]
    except Exception as exc:
        return t("log_error", lang, msg=_msg(exc, lang)), []
    return "", files


def audit_md(services, year, lang) -> str:
    from fieldlog.audit import season_audit

    lang = norm_lang(lang)
    try:
        y = int(year)
        rep = season_audit(services.log, f"{y}-01-01", f"{y + 1}-01-01", services.advisor.check_substance,
                           services.advisor.copper_cap_kg_ha_7y, lang=lang)
    except Exception as exc:
        return t("log_error", lang, msg=_msg(exc, lang))
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
            out.append(f"- {r.action.at:%Y-%m-%d} {html_text(r.plot)}: {html_text(r.action.what)} "
                       f"({html_text(r.action.active_substance or '')}): {html_text(r.reason)}")
    for c in rep.copper:
        out.append("- " + html_text(t("log_copper_total", lang, year=f"{c.year_kg_ha:g}", seven=f"{c.seven_years_kg_ha:g}",
                                      cap=f"{c.cap_kg_ha_7y:g}")) + f" ({html_text(c.plot)})"
                   + (" ⚠" if c.over_cap else ""))
    return "\n".join(out)

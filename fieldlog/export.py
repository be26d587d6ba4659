"""Traceability pages for a plot or a harvest lot, as self-contained HTML, PDF or CSV.

The HTML embeds its styles, QR code and photo thumbnails, so it can be emailed or put on a
USB stick and still show everything: plots, observations, actions and copper totals.
"""
from __future__ import annotations

import base64
import csv
import datetime as dt
import html
import io
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .errors import FieldLogError, UnknownLotError, UnknownPlotError
from .timeutil import fmt_local, fmt_zoned, iso_local, local_time, local_year, zone_name


@dataclass
class TracePage:
    title: str
    kind: str  # "plot" or "lot"
    item: object  # Plot or Lot
    qr_payload: str
    qr_svg: str  # data URI
    qr_png: bytes
    histories: list = field(default_factory=list)  # PlotHistory per plot
    copper: dict = field(default_factory=dict)  # plot name -> (this year, 7 years)
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    lot_trace: dict = field(default_factory=dict)  # a plot page's harvest lots: lot id -> its QR payload
    farms: dict = field(default_factory=dict)  # plot name -> its Farm (farm or cooperative, certifier) or None


def _plot_lots(page: TracePage, hist) -> list:
    """The harvest lots a plot's page lists (a lot's page is that lot; its plots' other lots are not its own)."""
    return list(hist.lots) if page.kind == "plot" else []


def _after_harvest(page: TracePage, at) -> bool:
    """On a lot's page, a record of its plots dated after that harvest: listed (a certifier sees everything), but
    marked, so a buyer does not read next season's sprays as this lot's. By the recorder's calendar day: a harvest
    typed as a date is that whole day, so a spray on the harvest day stays the lot's (its pre-harvest interval)."""
    return page.kind == "lot" and at is not None and page.item.harvested_at is not None \
        and local_time(at).date() > local_time(page.item.harvested_at).date()


def build(log, target: str) -> TracePage:
    """Resolve target as a lot code (or uid) first, then as a plot."""
    from . import qr

    try:
        item, kind = log.get_lot(target), "lot"
        plots = log.lot_plots(item)
        title = f"Harvest lot {item.code}"
    except UnknownLotError:
        try:
            item, kind = log.get_plot(target), "plot"
        except UnknownPlotError as exc:
            raise UnknownPlotError(target, [p.name for p in log.plots()] + [l.code for l in log.lots()]) from exc
        plots = [item]
        title = f"Plot {item.name}"
    page = TracePage(title, kind, item, qr.payload(item, log.trace_base_url),
                     qr.svg_data_uri(item, log.trace_base_url), qr.png_bytes(item, log.trace_base_url))
    year = local_year(item.harvested_at if kind == "lot" else None)  # the recorder's calendar, as the ledger
    farms = {f.id: f for f in log.farms()} if any(p.farm_id for p in plots) else {}
    for plot in plots:
        page.farms[plot.name] = farms.get(plot.farm_id)
        page.histories.append(log.history(plot))
        page.copper[plot.name] = log.copper_used(plot, year)
    page.copper_year = year
    if kind == "plot":
        page.lot_trace = {lot.id: qr.payload(lot, log.trace_base_url) for h in page.histories for lot in h.lots}
    return page


def _fmt(value) -> str:
    """A value as a person reads it; a stored (naive UTC) time on the recorder's clock with the zone named
    (`2026-06-01 00:00 UTC+07:00`), as the CLI and the Log tab show it."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return fmt_zoned(value)
    if isinstance(value, float):
        return _plain(value)
    return str(value)


def _plain(value: float) -> str:
    """A stored number with every digit it was recorded with (a GPS fix to the metre, 1.2345678 kg Cu/ha) and
    never an exponent (1234567.5 kg, not 1.23457e+06); 15 significant digits drop float noise (0.1 + 0.2)."""
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    text = f"{value:.15g}"
    if "e" in text:  # beyond 1e15 or below 1e-4: written out in full
        text = f"{value:.15f}".rstrip("0").rstrip(".") if abs(value) < 1 else f"{value:.0f}"
    return "0" if text == "-0" else text


def _naive_utc(at: dt.datetime) -> dt.datetime:
    """An aware time (the page's generated_at) as the log stores times: naive UTC."""
    return at.astimezone(dt.timezone.utc).replace(tzinfo=None) if at.tzinfo else at


def _thumbnail(path: Path, size: int = 160) -> str | None:
    try:
        import cv2
        import numpy as np

        buf = np.frombuffer(path.read_bytes(), np.uint8)
        # a 12-megapixel phone photo decoded whole took ~45 ms a thumbnail (a season of 2,000: a minute and a
        # half): JPEG decodes at 1/8, 1/4 or 1/2 scale for far less, so take the smallest that still gives `size`
        img = None
        for flag in (cv2.IMREAD_REDUCED_COLOR_8, cv2.IMREAD_REDUCED_COLOR_4, cv2.IMREAD_REDUCED_COLOR_2,
                     cv2.IMREAD_COLOR):
            img = cv2.imdecode(buf, flag)
            if img is None or max(img.shape[:2]) >= size:
                break
        if img is None:
            return None
        scale = size / max(img.shape[:2])
        if scale < 1:
            img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])
        return f"data:image/jpeg;base64,{base64.b64encode(buf.tobytes()).decode()}" if ok else None
    except OSError:
        return None


OBS_COLS = ("observed_at", "label", "status", "confidence", "model_version", "observer", "confirmed_by", "gps_lat",
            "gps_lon", "photo_sha256")
ACT_COLS = ("at", "what", "product", "active_substance", "amount", "unit", "copper_kg_ha", "by", "observation_id")


def over_cap(seven: float, cap: float | None, lang: str = "en") -> str:
    """The rest of the 7-year copper cell: the figure, and past the cap a mark a certifier cannot miss."""
    h, num = _html_text(lang), _html_num(lang)
    if cap is not None and seven > cap + 1e-9:
        return " class='over'>" + h("html_over_cap", seven=num(seven), cap=num(cap))
    return ">" + h("html_kg_ha", kg=num(seven)) + (h("html_cap", cap=num(cap)) if cap is not None else "")


def _html_text(lang: str):
    """The HTML page's words in `lang` from the exports' one table (PDF_TEXT): h(key, **values), the table's
    text HTML-escaped and each value put in as given: the caller escapes what a person typed (e(...))."""
    tr = _pdf_text(lang)

    def h(key: str, **fmt) -> str:
        text = html.escape(tr(key), quote=False)
        return text.format(**fmt) if fmt else text
    return h


def _html_num(lang: str):
    """A stored number for the HTML page: every digit it was recorded with (`_plain`), with the language's decimal
    mark (vi: 0,25 ha), as the PDF and the CLI write Vietnamese numbers."""
    if lang == "vi":
        return lambda x: _plain(x).replace(".", ",")
    return _plain


def _html_word(kind: str, value, lang: str) -> str:
    """A stored word (a status, an organic status, a farm's kind) for the page: the table's word in Vietnamese;
    in English the stored value as the page always showed it (an organic status with spaces for underscores)."""
    text = "" if value is None else str(value)
    if lang != "en" and f"{kind}_{text}" in PDF_TEXT:
        return _pdf_text(lang)(f"{kind}_{text}")
    return text.replace("_", " ") if kind == "org" else text


def _html_name(value, names: dict) -> str:
    """A crop or problem id for the page: the knowledge base's name in the page's language (`names`, passed by the
    caller as for the PDF), then the stored id in a small `<code class='id'>`; an id the knowledge base does not
    know (a researcher's new crop, a corrected label) is shown as it is. The id is printed, not hidden in a
    `title`: the page is printed and read on phones, where a title never shows, and the certifier matches
    records, corrections and the CSV by the id, which stays the same when the knowledge base renames a problem.
    Name and id are both HTML-escaped."""
    raw = "" if value is None else str(value)
    shown = names.get(raw) if raw else None
    if not shown or str(shown) == raw:
        return html.escape(raw)
    return f"{html.escape(str(shown))} <code class='id'>{html.escape(raw)}</code>"


def _html_confidence(value) -> str:
    """A stored confidence as the PDF writes it (`_percent`: '51%', in either language; below 1 never '100%'),
    with the stored figure kept for programs in `<data value>`; a value that is not a number is shown as stored."""
    pct = _percent(value)
    if not pct:
        return html.escape(_fmt(value))
    return f"<data value='{html.escape(_plain(float(value)))}'>{pct}</data>"


def _html_time(at) -> str:
    """A time for the page: local with its zone for the reader, ISO 8601 with the offset for programs."""
    if at is None:
        return ""
    return f"<time datetime='{iso_local(at)}'>{html.escape(fmt_zoned(at))}</time>"


def _tr_class(page: TracePage, at) -> str:
    return " class='after'" if _after_harvest(page, at) else ""


def to_html(page: TracePage, log=None, copper_cap: float | None = None, lang: str = "en",
            names: dict | None = None) -> str:
    """The self-contained page in `lang` (vi or en): headings, column names, marks (over the copper cap, after
    this harvest, corrections, confirmations, UNCONFIRMED), statuses, numbers with the language's decimal mark and
    `<html lang>`; times on the recorder's clock with the zone named in both. Everything a person typed (names,
    notes, what was done) is HTML-escaped in either language.

    `names`: crop or problem id -> its name in `lang`, as for the PDF (the knowledge base's, passed by the caller:
    this layer imports nothing of the advisor); crops, labels and corrections show the name with the stored id
    after it (`_html_name`), an id without a name as it is. Confidences are whole percentages, as in the PDF."""
    lang = lang if lang in PDF_LANGS else "en"
    h, num = _html_text(lang), _html_num(lang)
    names = dict(names or {})

    def e(v) -> str:
        if isinstance(v, dt.datetime):
            return _html_time(v)
        return html.escape(num(v) if isinstance(v, float) else _fmt(v))

    item = page.item
    title = e(_pdf_text(lang)("lot", code=item.code) if page.kind == "lot" else _pdf_text(lang)("plot", name=item.name))
    parts = [
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{title}</title><style>",
        "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1d2a1d;max-width:60rem}",
        "table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}",
        "th,td{border:1px solid #c8d5c8;padding:.3rem .5rem;text-align:left;font-size:.9rem}",
        "th{background:#e8f1e8}.over{color:#a40000;font-weight:bold}img.qr{float:right;width:9rem}",
        # line breaks as typed; a long word wraps; a lot's records after its harvest in grey
        "td,.notes{white-space:pre-line;overflow-wrap:anywhere}tr.after td{color:#666}",
        "code.id{font-size:.75rem;color:#555}",  # a name's stored id, after it (_html_name)
        "</style></head><body>",
        f"<img class='qr' alt='{h('html_qr_alt', payload=e(page.qr_payload))}' src='{page.qr_svg}'>",
        f"<h1>{title}</h1>",
        f"<p>{h('trace_id', id=f'<code>{e(page.qr_payload)}</code>')}<br>"
        f"{h('generated', when=e(_naive_utc(page.generated_at)))}</p>",
    ]
    if page.kind == "lot":
        kg = f", {num(item.quantity_kg)} kg" if item.quantity_kg else ""
        parts.append(f"<p>{h('harvested', when=e(item.harvested_at), kg=kg)}</p>"
                     + (f"<p class='notes'>{e(item.notes)}</p>" if item.notes else ""))
    for hist in page.histories:
        p = hist.plot
        this_year, seven = page.copper[p.name]
        parts += [
            f"<h2>{h('plot', name=e(p.name))}</h2><table>",
            f"<tr><th>{h('html_crop')}</th><td>{_html_name(p.crop, names)}</td>"
            f"<th>{h('html_area')}</th><td>{e(p.area_ha)} ha</td></tr>",
            f"<tr><th>{h('html_organic')}</th><td>{e(_html_word('org', p.organic_status, lang))}</td>"
            f"<th>{h('html_location')}</th><td>{e(p.location)}</td></tr>",
            f"<tr><th>{h('html_buffer')}</th><td colspan='3'>{e(p.buffer_notes)}</td></tr>",
            *([f"<tr><th>{h('html_farm')}</th><td colspan='3'>{e(farm.name)} ({e(_html_word('kind', farm.kind, lang))})"
               f"{f', {e(farm.location)}' if farm.location else ''}"
               f"{h('html_certifier', certifier=e(farm.certifier)) if farm.certifier else ''}</td></tr>"]
              if (farm := page.farms.get(p.name)) else []),
            f"<tr><th>{h('html_copper_year', year=page.copper_year)}</th><td>{h('html_kg_ha', kg=num(this_year))}</td>"
            f"<th>{h('html_copper_7y')}</th><td{over_cap(seven, copper_cap, lang)}</td></tr></table>",
            f"<h3>{h('observations', n=len(hist.observations))}</h3><table><tr><th>{h('html_photo')}</th>",
            *[f"<th>{h(f'html_col_{c}')}</th>" for c in OBS_COLS[:-1]], "</tr>",
        ]
        for o in hist.observations:
            thumb = _thumbnail(log.photo_path(o)) if log is not None else None
            img = (f"<img alt='{h('html_photo_alt', sha=e(o.photo_sha256[:12]))}' src='{thumb}'>" if thumb
                   else e(o.photo_sha256[:12]))
            cells = {c: e(getattr(o, c)) for c in OBS_COLS[:-1]}
            cells["status"] = e(_html_word("st", o.status, lang))
            cells["label"] = _html_name(o.label, names)
            cells["confidence"] = _html_confidence(o.confidence)
            fixes = (getattr(hist, "corrections", None) or {}).get(o.id, [])
            if o.confirmed_by and o.confirmed_at:  # when a person vouched for the label
                cells["confirmed_by"] += h("html_confirmed_on", when=e(o.confirmed_at))
            elif not o.confirmed_by:  # a person's correction, or a model result nobody has looked at
                cells["confirmed_by"] = h("by_correction", by=e(fixes[-1].by)) if fixes else h("unconfirmed")
            for c in fixes:  # the model's label stays first
                cells["label"] += ("<br>" + h("html_corrected", label=_html_name(c.label, names), by=e(c.by),
                                              when=e(c.at))
                                   + (f": {e(c.note)}" if c.note else ""))  # why: what the certifier checks
            if _after_harvest(page, o.observed_at):
                cells["observed_at"] += "<br>" + h("html_after_harvest")
            parts.append(f"<tr{_tr_class(page, o.observed_at)}><td>#{o.id}<br>{img}</td>"
                         + "".join(f"<td>{cells[c]}</td>" for c in OBS_COLS[:-1]) + "</tr>")
        parts.append(f"</table><h3>{h('actions', n=len(hist.actions))}</h3><table><tr>"
                     + "".join(f"<th>{h(f'html_col_{c}')}</th>" for c in ACT_COLS) + "</tr>")
        for a in hist.actions:
            cells = {c: e(getattr(a, c)) for c in ACT_COLS}
            if _after_harvest(page, a.at):
                cells["at"] += "<br>" + h("html_after_harvest")
            parts.append(f"<tr{_tr_class(page, a.at)}>" + "".join(f"<td>{cells[c]}</td>" for c in ACT_COLS) + "</tr>")
        parts.append("</table>")
        lots = _plot_lots(page, hist)
        if lots:
            parts.append(f"<h3>{h('lots', n=len(lots))}</h3><table><tr>"
                         + "".join(f"<th>{h(f'html_col_{c}')}</th>"
                                   for c in ("lot", "harvested_at", "quantity_kg", "notes", "trace_id")) + "</tr>"
                         + "".join(f"<tr><td>{e(lot.code)}</td><td>{e(lot.harvested_at)}</td>"
                                   f"<td>{e(lot.quantity_kg)}</td><td>{e(lot.notes)}</td>"
                                   f"<td><code>{e(page.lot_trace.get(lot.id))}</code></td></tr>" for lot in lots)
                         + "</table>")
        if hist.copper_by_year:
            parts.append(f"<h3>{h('html_ledger')}</h3><table>"
                         f"<tr><th>{h('col_year')}</th><th>{h('html_col_kg_ha')}</th></tr>"
                         + "".join(f"<tr><td>{y}</td><td>{num(kg)}</td></tr>" for y, kg in hist.copper_by_year.items())
                         + "</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


# as leafscout.safety (this layer imports nothing of the app): also after leading whitespace, which Google Sheets,
# LibreOffice and CSV-to-XLSX converters strip before they evaluate (" =HYPERLINK(...)")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_cell(value, *, short_numbers: bool = True):
    """A cell a spreadsheet shows as text, never runs (OWASP CSV injection): text that starts with
    = + - @ TAB or CR gets a leading apostrophe. Numbers stay numbers (a GPS latitude of -33.9 is not text)."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _fmt(value) if short_numbers else value
    text = _fmt(value)
    return "'" + text if text.startswith(_FORMULA_START) or text.lstrip().startswith(_FORMULA_START) else text


def to_csv(page: TracePage) -> str:
    """One row per record (kind = lot, plot, observation, correction, action) so a spreadsheet can filter: a lot's page starts
    with the lot (code, harvest time, kg, notes), each plot row carries its copper totals (kg/ha this year and over
    7 years). Every text cell goes through `csv_cell`, so a plot or lot named '=HYPERLINK(...)' stays text. `time` is
    ISO 8601 on the recorder's clock with its offset (`2026-06-01T00:00+07:00`), `time_utc` the same moment in UTC."""
    cols = ["kind", "plot", "time", *OBS_COLS[1:], *ACT_COLS[1:], "crop", "area_ha", "organic_status",
            "copper_year_kg_ha", "copper_7y_kg_ha", "trace_id",
            "lot", "quantity_kg", "lot_notes",
            "previous_label", "note", "location", "buffer_notes",
            # appended: the older columns keep their place
            "time_utc", "confirmed_at", "recorded_at", "copper_year", "farm", "certifier", "after_harvest"]
    cols = list(dict.fromkeys(cols))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore")
    w.writeheader()

    def row(values: dict, short_numbers: bool = True) -> None:
        at = values.pop("time", None)
        if at is not None:  # ISO 8601 on the recorder's clock with its offset, and UTC for a spreadsheet's sums
            values["time"], values["time_utc"] = iso_local(at), at.strftime("%Y-%m-%d %H:%M")
        values = {k: iso_local(v) if isinstance(v, dt.datetime) else v for k, v in values.items()}
        w.writerow({k: csv_cell(v, short_numbers=short_numbers) for k, v in values.items()})

    if page.kind == "lot":
        lot = page.item
        row({"kind": "lot", "time": lot.harvested_at, "lot": lot.code, "quantity_kg": lot.quantity_kg,
             "lot_notes": lot.notes, "trace_id": page.qr_payload}, short_numbers=False)
    for hist in page.histories:
        p = hist.plot
        this_year, seven = page.copper[p.name]
        row({"kind": "plot", "plot": p.name, "crop": p.crop, "area_ha": p.area_ha,
             "organic_status": p.organic_status, "copper_year_kg_ha": this_year, "copper_7y_kg_ha": seven,
             "copper_year": page.copper_year,  # which year copper_year_kg_ha is (the 7 years end with it)
             "farm": getattr(page.farms.get(p.name), "name", None),
             "certifier": getattr(page.farms.get(p.name), "certifier", None),
             "trace_id": page.qr_payload, "location": p.location, "buffer_notes": p.buffer_notes},
            short_numbers=False)
        for o in hist.observations:
            row({"kind": "observation", "plot": p.name, "time": o.observed_at, "observation_id": o.id,
                 "after_harvest": "yes" if _after_harvest(page, o.observed_at) else None,
                 "confirmed_at": o.confirmed_at, "recorded_at": o.recorded_at,
                 **{c: getattr(o, c) for c in OBS_COLS[1:]}})  # its own id: what corrections and actions name
            for c in (getattr(hist, "corrections", None) or {}).get(o.id, []):  # a person's label, oldest first
                row({"kind": "correction", "plot": p.name, "time": c.at, "label": c.label,
                     "previous_label": c.previous_label, "by": c.by, "observation_id": o.id, "note": c.note,
                     "model_version": c.model_version, "photo_sha256": c.photo_sha256})
        for a in hist.actions:
            row({"kind": "action", "plot": p.name, "time": a.at, "recorded_at": a.recorded_at,
                 "after_harvest": "yes" if _after_harvest(page, a.at) else None,
                 **{c: getattr(a, c) for c in ACT_COLS[1:]}})
        for lot in _plot_lots(page, hist):  # a plot's page: what was harvested from it
            row({"kind": "lot", "plot": p.name, "time": lot.harvested_at, "lot": lot.code,
                 "quantity_kg": lot.quantity_kg, "lot_notes": lot.notes, "trace_id": page.lot_trace.get(lot.id)},
                short_numbers=False)
    return buf.getvalue()


FONT_CANDIDATES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans.ttf")


def _ascii(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


# The exports' own words (the PDF and HTML lot report a buyer or certifier reads), in Vietnamese and English: one
# table for both pages (the HTML's own keys start html_). Crop and problem names are not here: the caller passes
# the knowledge base's (`names`), since the field log knows no advisor.
PDF_LANGS = ("vi", "en")
PDF_TEXT: dict[str, dict[str, str]] = {
    "lot": {"vi": "Lô thu hoạch {code}", "en": "Harvest lot {code}"},
    "plot": {"vi": "Lô ruộng {name}", "en": "Plot {name}"},
    "trace_id": {"vi": "Mã truy xuất: {id}", "en": "Trace ID: {id}"},
    "generated": {"vi": "Lập lúc {when}", "en": "Generated {when}"},
    "harvested": {"vi": "Thu hoạch lúc {when}{kg}.", "en": "Harvested {when}{kg}."},
    "plot_line": {"vi": "Cây trồng: {crop}, {ha} ha, {status}. Địa điểm: {location}. Vùng đệm: {buffer}.",
                  "en": "Crop: {crop}, {ha} ha, {status}. Location: {location}. Buffer zone: {buffer}."},
    "farm_line": {"vi": "{kind}: {name}{location}. Tổ chức chứng nhận: {certifier}.",
                  "en": "{kind}: {name}{location}. Certifier: {certifier}."},
    "kind_farm": {"vi": "Trang trại", "en": "Farm"},
    "kind_cooperative": {"vi": "Hợp tác xã", "en": "Cooperative"},
    "copper_line": {"vi": "Đồng năm {year}: {this_year} kg Cu/ha; trong 7 năm: {seven} kg Cu/ha{cap}.",
                    "en": "Copper {year}: {this_year} kg Cu/ha; over 7 years: {seven} kg Cu/ha{cap}."},
    "cap": {"vi": " (giới hạn {cap} kg Cu/ha trong 7 năm)", "en": " (cap {cap} kg Cu/ha in 7 years)"},
    "over_cap": {"vi": ": VƯỢT GIỚI HẠN", "en": ": OVER THE CAP"},
    "observations": {"vi": "Quan sát ({n})", "en": "Observations ({n})"},
    "actions": {"vi": "Việc đã làm ({n})", "en": "Actions ({n})"},
    "lots": {"vi": "Lô thu hoạch ({n})", "en": "Harvest lots ({n})"},
    "col_lot": {"vi": "Mã lô", "en": "Lot code"},
    "col_harvested": {"vi": "Thu hoạch lúc", "en": "Harvested"},
    "col_kg": {"vi": "Khối lượng (kg)", "en": "Quantity (kg)"},
    "col_notes": {"vi": "Ghi chú", "en": "Notes"},
    "ledger": {"vi": "Sổ theo dõi đồng (kg Cu/ha mỗi năm)", "en": "Copper ledger (kg Cu/ha a year)"},
    "col_when": {"vi": "Thời gian ({zone})", "en": "Time ({zone})"},  # every time in the table in one zone
    "col_when_zoned": {"vi": "Thời gian", "en": "Time"},  # times in several offsets (summer time): each cell names it
    "col_problem": {"vi": "Vấn đề", "en": "Problem"},
    "col_status": {"vi": "Trạng thái", "en": "Status"},
    "col_confidence": {"vi": "Độ tin cậy", "en": "Confidence"},
    "col_model": {"vi": "Mô hình", "en": "Model"},
    "col_observer": {"vi": "Người chụp", "en": "Observer"},
    "col_confirmed_by": {"vi": "Người xác nhận", "en": "Confirmed by"},
    "col_what": {"vi": "Việc đã làm", "en": "What was done"},
    "col_product": {"vi": "Sản phẩm", "en": "Product"},
    "col_substance": {"vi": "Hoạt chất", "en": "Active substance"},
    "col_amount": {"vi": "Lượng", "en": "Amount"},
    "col_copper": {"vi": "Đồng (kg Cu/ha)", "en": "Copper (kg Cu/ha)"},
    "col_by": {"vi": "Người làm", "en": "Done by"},
    "col_year": {"vi": "Năm", "en": "Year"},
    "unconfirmed": {"vi": "CHƯA XÁC NHẬN", "en": "UNCONFIRMED"},
    "after_harvest": {"vi": "(sau đợt thu hoạch này)", "en": "(after this harvest)"},
    "by_correction": {"vi": "{by} (đã sửa)", "en": "{by} (corrected)"},  # a correction is a person's call too
    "corrected": {"vi": "sửa thành: {name} ({by}, {when})", "en": "corrected to {name} ({by}, {when})"},
    "st_ok": {"vi": "có kết quả", "en": "ok"},
    "st_uncertain": {"vi": "chưa chắc chắn", "en": "uncertain"},
    "st_not_a_leaf": {"vi": "không thấy lá", "en": "not a leaf"},
    "st_error": {"vi": "lỗi", "en": "error"},
    "org_certified": {"vi": "đã chứng nhận hữu cơ", "en": "certified organic"},
    "org_in_conversion": {"vi": "đang chuyển đổi sang hữu cơ", "en": "in conversion"},
    "org_conventional": {"vi": "chưa theo hữu cơ", "en": "conventional"},
    # the HTML page's own words (to_html); their English is the page's as it always read, word for word
    "html_qr_alt": {"vi": "Mã QR {payload}", "en": "QR code {payload}"},
    "html_crop": {"vi": "Cây trồng", "en": "Crop"},
    "html_area": {"vi": "Diện tích", "en": "Area"},
    "html_organic": {"vi": "Tình trạng hữu cơ", "en": "Organic status"},
    "html_location": {"vi": "Địa điểm", "en": "Location"},
    "html_buffer": {"vi": "Vùng đệm", "en": "Buffer zone"},
    "html_farm": {"vi": "Trang trại / hợp tác xã", "en": "Farm"},
    "html_certifier": {"vi": "; tổ chức chứng nhận: {certifier}", "en": "; certifier: {certifier}"},
    "html_copper_year": {"vi": "Đồng năm {year}", "en": "Copper {year}"},
    "html_copper_7y": {"vi": "Đồng trong 7 năm", "en": "Copper, 7 years"},
    "html_kg_ha": {"vi": "{kg} kg/ha", "en": "{kg} kg/ha"},
    "html_cap": {"vi": " (giới hạn {cap})", "en": " (cap {cap})"},
    "html_over_cap": {"vi": "{seven} kg/ha: VƯỢT giới hạn {cap} kg/ha",
                      "en": "{seven} kg/ha: over the {cap} kg/ha cap"},
    "html_photo": {"vi": "Ảnh", "en": "Photo"},
    "html_photo_alt": {"vi": "ảnh lá {sha}", "en": "leaf photo {sha}"},
    "html_confirmed_on": {"vi": " lúc {when}", "en": " on {when}"},
    "html_corrected": {"vi": "sửa thành {label}, người sửa: {by}, lúc {when}",
                       "en": "corrected to {label} by {by} on {when}"},
    "html_after_harvest": {"vi": "sau đợt thu hoạch này", "en": "after this harvest"},
    "html_ledger": {"vi": "Sổ theo dõi đồng", "en": "Copper ledger"},
    "html_col_kg_ha": {"vi": "kg Cu/ha", "en": "kg/ha"},
    # column headings: the stored field's name in English (observed_at -> "observed at"), as the CSV's columns
    "html_col_observed_at": {"vi": "Thời gian", "en": "observed at"},
    "html_col_label": {"vi": "Vấn đề (nhãn)", "en": "label"},
    "html_col_status": {"vi": "Trạng thái", "en": "status"},
    "html_col_confidence": {"vi": "Độ tin cậy", "en": "confidence"},
    "html_col_model_version": {"vi": "Phiên bản mô hình", "en": "model version"},
    "html_col_observer": {"vi": "Người chụp", "en": "observer"},
    "html_col_confirmed_by": {"vi": "Người xác nhận", "en": "confirmed by"},
    "html_col_gps_lat": {"vi": "Vĩ độ GPS", "en": "gps lat"},
    "html_col_gps_lon": {"vi": "Kinh độ GPS", "en": "gps lon"},
    "html_col_at": {"vi": "Thời gian", "en": "at"},
    "html_col_what": {"vi": "Việc đã làm", "en": "what"},
    "html_col_product": {"vi": "Sản phẩm", "en": "product"},
    "html_col_active_substance": {"vi": "Hoạt chất", "en": "active substance"},
    "html_col_amount": {"vi": "Lượng", "en": "amount"},
    "html_col_unit": {"vi": "Đơn vị", "en": "unit"},
    "html_col_copper_kg_ha": {"vi": "Đồng (kg Cu/ha)", "en": "copper kg ha"},
    "html_col_by": {"vi": "Người làm", "en": "by"},
    "html_col_observation_id": {"vi": "Mã quan sát", "en": "observation id"},
    "html_col_lot": {"vi": "Mã lô", "en": "lot"},
    "html_col_harvested_at": {"vi": "Thu hoạch lúc", "en": "harvested at"},
    "html_col_quantity_kg": {"vi": "Khối lượng (kg)", "en": "quantity kg"},
    "html_col_notes": {"vi": "Ghi chú", "en": "notes"},
    "html_col_trace_id": {"vi": "Mã truy xuất", "en": "trace ID"},
}


def _pdf_text(lang: str):
    """The exports' words in `lang` (PDF and HTML share the table): tr(key, **values)."""
    from .text import translator
    return translator(PDF_TEXT, PDF_LANGS, lang)


def _percent(p) -> str:
    """A stored confidence (0..1) as a whole percentage, never the raw float: 0.928934 -> '93%'."""
    if p is None:
        return ""
    try:
        v = float(p)
    except (TypeError, ValueError):
        return ""
    if v != v:
        return ""
    return f"{min(v, 0.99) if v < 1 else v:.0%}"  # 0.997 is not '100%': below 1, at most 99%


def _num(x, lang: str) -> str:
    """kg figures rounded for reading (the ledger keeps the exact value); vi uses a decimal comma."""
    if x is None:
        return ""
    v = float(x)
    # 3 decimals, but a recorded amount is never rounded to 0 (a 0.0004 ha nursery bed, 0.0004 kg Cu/ha): two
    # significant digits then; never an exponent (1234567.5 kg, not 1.23457e+06)
    text = _plain(round(v, 3) if round(v, 3) or not v else float(f"{v:.2g}"))
    return text.replace(".", ",") if lang == "vi" else text


PDF_CELL_MAX = 240  # characters in one table cell: a row must fit on one page (fpdf2 cannot split a row)


def _pdf_cell(text: str, notes: list[str], clean=lambda s: s) -> str:
    """A table cell's text; a longer one (a 2,000-character 'what was done') is cut with a [n] mark and its
    full text added to `notes`, printed under the table, so the PDF stays complete and the row fits a page.
    `clean`: the font's (ASCII without DejaVu, where the mark is '...')."""
    if len(text) <= PDF_CELL_MAX:
        return text
    notes.append(text)
    return f"{text[:PDF_CELL_MAX - 20].rstrip()}{clean('…')} [{len(notes)}]"


def to_pdf(page: TracePage, lang: str = "en", names: dict | None = None, copper_cap: float | None = None) -> bytes:
    """A4 PDF in `lang` (vi or en). Vietnamese diacritics need a Unicode font (DejaVu); without one, text is
    folded to ASCII.

    `names`: label or crop id -> the name to show (the knowledge base's, passed by the caller: `leafscout
    export` gives them); an id without a name is shown as it is. Confidences are whole percentages; each
    observation names who confirmed it (or says it is unconfirmed), and a correction shows the corrected name.
    User text is written as plain text (fpdf2 interprets no markup in it)."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    tr = _pdf_text(lang)
    names = dict(names or {})
    name = lambda label: names.get(label, label or "")  # noqa: E731
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    font = next((f for f in FONT_CANDIDATES if Path(f).exists()), None)
    if font:
        pdf.add_font("body", "", font)
        family, fold = "body", (lambda s: s)
    else:
        family, fold = "helvetica", _ascii
    # composed letters (Vietnamese typed decomposed drew its marks as separate, stacked glyphs); no font has a TAB
    # glyph (fpdf2 dropped it, running two words together)
    clean = lambda s: fold(unicodedata.normalize("NFC", s)).replace("\t", " ")  # noqa: E731
    t = lambda v: clean(_fmt(v))  # noqa: E731
    item = page.item
    title = tr("lot", code=item.code) if page.kind == "lot" else tr("plot", name=item.name)
    pdf.set_title(clean(title))
    pdf.set_font(family, size=16)
    pdf.multi_cell(150, 8, t(title), new_x="LMARGIN", new_y="NEXT")
    pdf.image(io.BytesIO(page.qr_png), x=165, y=10, w=35)
    pdf.set_font(family, size=8)
    pdf.multi_cell(150, 5, t(tr("trace_id", id=page.qr_payload)), new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(150, 5, t(tr("generated", when=_fmt(_naive_utc(page.generated_at)))),
                   new_x="LMARGIN", new_y="NEXT")
    if page.kind == "lot":
        kg = f", {_num(item.quantity_kg, lang)} kg" if item.quantity_kg else ""
        pdf.multi_cell(150, 5, t(tr("harvested", when=_fmt(item.harvested_at), kg=kg)), new_x="LMARGIN",
                       new_y="NEXT")
        if item.notes:
            pdf.multi_cell(150, 5, t(item.notes), new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(pdf.get_y(), 50))
    heading = FontFace(emphasis="", fill_color=(232, 241, 232))
    for hist in page.histories:
        p = hist.plot
        this_year, seven = page.copper[p.name]
        status = tr(f"org_{p.organic_status}") if f"org_{p.organic_status}" in PDF_TEXT else p.organic_status
        cap = tr("cap", cap=_num(copper_cap, lang)) if copper_cap is not None else ""
        pdf.set_font(family, size=13)
        pdf.multi_cell(0, 8, t(tr("plot", name=p.name)), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, size=9)
        pdf.multi_cell(0, 5, t(tr("plot_line", crop=name(p.crop), ha=_num(p.area_ha, lang), status=status,
                                  location=p.location or "-", buffer=p.buffer_notes or "-")),
                       new_x="LMARGIN", new_y="NEXT")
        farm = page.farms.get(p.name)
        if farm is not None:
            kind = tr(f"kind_{farm.kind}") if f"kind_{farm.kind}" in PDF_TEXT else farm.kind
            pdf.multi_cell(0, 5, t(tr("farm_line", kind=kind, name=farm.name, certifier=farm.certifier or "-",
                                      location=f", {farm.location}" if farm.location else "")),
                           new_x="LMARGIN", new_y="NEXT")
        over = copper_cap is not None and seven > copper_cap + 1e-9  # as the HTML's mark (over_cap)
        if over:
            cap += tr("over_cap")
            pdf.set_text_color(164, 0, 0)
        pdf.multi_cell(0, 5, t(tr("copper_line", year=page.copper_year, this_year=_num(this_year, lang),
                                  seven=_num(seven, lang), cap=cap)), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        corrections = getattr(hist, "corrections", None) or {}
        # times on the recorder's clock; the zone in the column heading when the table has one, else in each cell
        zones = {zone_name(x) for x in [o.observed_at for o in hist.observations] + [a.at for a in hist.actions]}
        if len(zones) <= 1:
            when, when_col = fmt_local, tr("col_when", zone=zones.pop() if zones else zone_name())
        else:
            when, when_col = _fmt, tr("col_when_zoned")

        def stamp(at) -> str:  # a lot's page: a record after that harvest is marked
            return f"{when(at)}\n{tr('after_harvest')}" if _after_harvest(page, at) else when(at)

        def obs_row(o) -> list[str]:
            label = name(o.label)
            for c in corrections.get(o.id, []):
                label += "; " + tr("corrected", name=name(c.label), by=c.by, when=fmt_local(c.at, "%Y-%m-%d")) \
                    + (f": {c.note}" if c.note else "")
            st = tr(f"st_{o.status}") if f"st_{o.status}" in PDF_TEXT else o.status
            return [stamp(o.observed_at), label, st, _percent(o.confidence), o.model_version or "",
                    o.observer or "", (f"{o.confirmed_by} ({fmt_local(o.confirmed_at, '%Y-%m-%d')})"
                                       if o.confirmed_by and o.confirmed_at else o.confirmed_by)
                    or (tr("by_correction", by=corrections[o.id][-1].by) if corrections.get(o.id)
                        else tr("unconfirmed"))]

        def act_row(a) -> list[str]:
            amount = f"{_num(a.amount, lang)} {a.unit or ''}".strip() if a.amount is not None else ""
            return [stamp(a.at), a.what or "", a.product or "", a.active_substance or "", amount,
                    _num(a.copper_kg_ha, lang) if a.copper_kg_ha else "", a.by or ""]

        def lot_row(lot) -> list[str]:
            return [lot.code, _fmt(lot.harvested_at), _num(lot.quantity_kg, lang), lot.notes or ""]

        tables = (
            (tr("observations", n=len(hist.observations)), hist.observations, obs_row,
             ("col_when", "col_problem", "col_status", "col_confidence", "col_model", "col_observer",
              "col_confirmed_by"), (21, 44, 19, 18, 24, 28, 36)),
            (tr("actions", n=len(hist.actions)), hist.actions, act_row,
             ("col_when", "col_what", "col_product", "col_substance", "col_amount", "col_copper", "col_by"),
             (20, 44, 26, 28, 18, 18, 36)),
        )
        lots = _plot_lots(page, hist)
        if lots:
            tables += ((tr("lots", n=len(lots)), lots, lot_row, ("col_lot", "col_harvested", "col_kg", "col_notes"),
                        (36, 36, 24, 94)),)
        for title_, rows, make, cols, widths in tables:
            pdf.set_font(family, size=11)
            pdf.cell(0, 7, t(title_), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font(family, size=7)
            notes: list[str] = []  # a cell too long for one page's row: its full text, below the table
            with pdf.table(first_row_as_headings=True, headings_style=heading, col_widths=widths) as table:
                table.row([t(when_col if c == "col_when" else tr(c)) for c in cols])
                for r in rows:
                    table.row([_pdf_cell(t(v), notes, clean) for v in make(r)])
            for n, full in enumerate(notes, 1):
                pdf.multi_cell(0, 4, f"[{n}] {full}", new_x="LMARGIN", new_y="NEXT")
        if hist.copper_by_year:
            pdf.set_font(family, size=11)
            pdf.cell(0, 7, t(tr("ledger")), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font(family, size=7)
            with pdf.table(first_row_as_headings=True, headings_style=heading, col_widths=(20, 30),
                           width=50, align="LEFT") as table:
                table.row([t(tr("col_year")), t(tr("col_copper"))])
                for y, kg in hist.copper_by_year.items():
                    table.row([str(y), _num(kg, lang)])
    return bytes(pdf.output())


def write(page: TracePage, fmt: str, dest: Path, log=None, lang: str = "en", names: dict | None = None,
          copper_cap: float | None = None) -> Path:
    """Render, then write beside dest and rename into place: an unwritable folder or a full disk is one
    FieldLogError (code "export_failed"), and never leaves a half-written file. `lang`, `names` (the knowledge
    base's crop and problem names) and `copper_cap` are the PDF's and the HTML's (see `to_pdf`, `to_html`). The CSV
    is for machines: no language, no names, the stored values."""
    if fmt == "html":
        data = to_html(page, log, copper_cap, lang=lang, names=names).encode("utf-8")
    elif fmt == "csv":
        data = to_csv(page).encode("utf-8-sig")  # with a BOM: Excel on Windows reads Vietnamese right
    elif fmt == "pdf":
        try:
            data = to_pdf(page, lang=lang, names=names, copper_cap=copper_cap)
        except (ValueError, RuntimeError) as exc:  # fpdf2's own limits: one line, not a traceback
            raise FieldLogError(f"cannot lay out the PDF of {page.title!r} ({exc}); export --html or --csv "
                                "instead, and report this", "export_failed") from None
    else:
        raise FieldLogError(f"unknown export format {fmt!r}; expected html, pdf or csv", "bad_value")
    dest = Path(dest)
    tmp = dest.with_name(f".{dest.name}.partial")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.is_dir():
            raise IsADirectoryError(21, "it is a folder")
        tmp.write_bytes(data)
        os.replace(tmp, dest)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise FieldLogError(f"cannot write {str(dest)!r} ({exc.strerror or exc}); choose a writable folder, "
                            f"e.g. --{fmt} ~/{dest.name}", "export_failed") from None
    return dest

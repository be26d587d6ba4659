"""`leafscout log ...` and `leafscout export ...`. Imports nothing heavy until a command runs."""
from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

LOG_ACTIONS = ("plots|add-plot|farms|add-farm|observe|confirm|correct|act|history|backup|restore|add-lot|audit|qr|"
               "import")
OBSERVATION_STATUSES = ("ok", "uncertain", "not_a_leaf", "error")  # as fieldlog.schema (kept import-light)

EXIT_CODES = """exit codes:
  0  done (the record was written, the file exported, the audit found nothing)
  1  `log audit` found actions not allowed or a plot over the copper cap
  2  refused: a usage mistake or an input the log will not store (unknown plot, bad date,
     implausible dose, unconfirmed non-ok result, unreachable database ...); nothing was written
  130 interrupted (Ctrl-C)"""


def _db_option(parser: argparse.ArgumentParser, default=None) -> None:
    parser.add_argument("--db", default=default, metavar="PATH_OR_URL",
                        help="field log file or database URL (default: $LEAFSCOUT_DB, "
                             "else ~/.local/share/leafscout/fieldlog.sqlite)")


STARTS_A_LOG = ("cmd_add_plot", "cmd_add_farm", "cmd_restore")  # the only commands that make a new log file; the others need one
LISTS = ("cmd_plots", "cmd_farms")  # on no log yet: say how to start one (exit 0), as for an empty log
# commands that only read the log: on a read-only place (a USB stick, a read-only share) they open it read-only
# (a command defined elsewhere says so with `fn.reads_log_only = True` before wrapping it in _with_log)
READS = ("cmd_plots", "cmd_farms", "cmd_history", "cmd_backup", "cmd_qr", "cmd_audit", "cmd_export")


def _missing_log(db_arg) -> str | None:
    """The SQLite file --db / $LEAFSCOUT_DB / the default names when it does not exist (a typo in --db, the
    other cooperative's folder); None when it exists or is a server URL (the open explains anything else)."""
    import os

    from leafscout.fieldlog.db import DEFAULT_DB
    raw = str(db_arg if db_arg not in (None, "") else os.environ.get("LEAFSCOUT_DB") or DEFAULT_DB)
    if "://" in raw:
        return None
    try:
        return None if Path(raw).expanduser().exists() else raw
    except (OSError, ValueError):  # a NUL byte, a name too long: FieldLog.open gives the one-line reason
        return None


def _with_log(fn):
    """Open the log for the command; turn field-log input errors into clean usage errors. Only add-plot and
    add-farm start a new log: any other command on a log file that is not there (a typo in --db) is refused,
    creating nothing, instead of answering from a new empty log."""
    @functools.wraps(fn)
    def run(args) -> int:
        from leafscout.errors import UsageError

        from leafscout.fieldlog.api import FieldLog
        from leafscout.fieldlog.errors import FieldLogError

        missing = None if fn.__name__ in STARTS_A_LOG else _missing_log(getattr(args, "db", None))
        if missing is not None and fn.__name__ in LISTS:
            print(f"No field log at {missing} yet. Start one: leafscout log add-plot NAME --crop coffee --area 0.5"
                  + ("" if getattr(args, "db", None) in (None, "") else f" --db {missing}"))
            return 0
        if missing is not None:
            raise UsageError(f"no field log at {missing}: check --db (or $LEAFSCOUT_DB); nothing was created. A new "
                             "log starts with `leafscout log add-plot NAME --crop C --area HA` (or add-farm).")
        try:
            reads = fn.__name__ in READS or getattr(fn, "reads_log_only", False)  # other modules' reading commands
            log = FieldLog.open(getattr(args, "db", None), read_only=None if reads else False)
        except ValueError as exc:  # FieldLogError (db_unavailable, bad_text) is a ValueError
            raise UsageError(str(exc)) from None
        try:
            return fn(log, args) or 0
        except FieldLogError as exc:
            raise UsageError(str(exc)) from None
        except BrokenPipeError:
            raise  # the reader left (`log history X | head -1`): main() stops quietly, as cat does
        except OSError as exc:  # a file the command writes (qr --out): one line, no traceback
            raise UsageError(f"{getattr(exc, 'filename', None) or ''}: {exc.strerror or exc}".lstrip(": ")) from None
        finally:
            log.close()
    return run


def _fmt_time(t) -> str:
    """A stored (UTC) time on the recorder's clock, as dates are typed (`--at 2026-01-01` is local midnight)."""
    from leafscout.fieldlog.timeutil import fmt_local
    return fmt_local(t)


def _fmt_when(t) -> str:
    """A time with its zone: `2026-01-01 07:30 (UTC+07:00; 2026-01-01 00:30 UTC)`, or `... 00:30 UTC` on a UTC clock."""
    from leafscout.fieldlog.timeutil import zone_name
    zone = zone_name(t)
    return f"{_fmt_time(t)} UTC" if zone == "UTC" else f"{_fmt_time(t)} ({zone}; {t:%Y-%m-%d %H:%M} UTC)"


@_with_log
def cmd_plots(log, args) -> int:
    plots = log.plots()
    if not plots:
        print("No plots yet. Add one: leafscout log add-plot NAME --crop coffee --area 0.5")
        return 0
    print(f"{'id':>4}  {'plot':24} {'crop':12} {'ha':>7}  {'status':14} copper kg/ha (year / 7y)")
    from leafscout.fieldlog.text import shown
    for p in plots:
        year, seven = log.copper_used(p)
        print(f"{p.id:>4}  {shown(p.name):24} {shown(p.crop):12} {p.area_ha:>7g}  {p.organic_status:14} {year:g} / "
              f"{seven:g}")
    return 0


@_with_log
def cmd_farms(log, args) -> int:
    farms = log.farms()
    if not farms:
        print("No farms or cooperatives yet. Add one: leafscout log add-farm NAME [--kind cooperative]")
        return 0
    print(f"{'id':>4}  {'name':32} {'kind':12} {'certifier':24} location")
    from leafscout.fieldlog.text import shown
    for f in farms:
        print(f"{f.id:>4}  {shown(f.name):32} {f.kind:12} {shown(f.certifier):24} {shown(f.location)}")
    return 0


@_with_log
def cmd_add_farm(log, args) -> int:
    f = log.add_farm(args.name, kind=args.kind, location=args.location, certifier=args.certifier,
                     allow_similar=args.allow_similar)
    print(f"Added {f.kind} {f.name!r} (id {f.id}); give its plots --farm {f.name!r}.")
    return 0


@_with_log
def cmd_add_plot(log, args) -> int:
    p = log.add_plot(args.name, args.crop, args.area, organic_status=args.status, farm=args.farm,
                     location=args.location, buffer_notes=args.buffer_notes, allow_similar=args.allow_similar)
    print(f"Added plot {p.name!r} (id {p.id}, {p.crop}, {p.area_ha:g} ha, {p.organic_status}).")
    hint = crop_hint(p.crop)
    if hint:
        print(hint)
    return 0


def crop_hint(text: str) -> str | None:
    """What LeafScout will do with photos logged to a plot of this crop (`DiagnosisService.crop_support`), in one
    line; None when no model can be loaded (the plot is added all the same)."""
    try:
        from leafscout.service import DiagnosisService
        svc = DiagnosisService()
        crop, kind = svc.crop_support(text)
        name = (svc.advisor.kb.crops.get(crop) or {}).get("en", crop).lower() if crop else None
        crops = ", ".join(svc.crops)
    except Exception:  # no model here, a broken install: the hint is a courtesy, never a failure
        return None
    if kind == "photo":
        return f"LeafScout names {name} problems from a photo: photos logged to this plot are read as {name}."
    if kind == "advice":
        return (f"LeafScout has advice for {name} but cannot name its problems from a photo yet: a photo logged to "
                f"this plot that looks like another crop's problem is answered 'uncertain'.")
    return (f"Note: LeafScout finds no crop it knows in {text!r}; photos logged to this plot are read among all "
            f"crops. Crops it names from a photo: {crops} (English or Vietnamese names).")


@_with_log
def cmd_observe(log, args) -> int:
    from leafscout.officers import reviewer
    by = None if args.confirmed_by is None else reviewer(args.confirmed_by, args.db, "--confirmed-by")
    o = log.record_observation(args.plot, args.photo, args.label, args.status, args.confidence,
                               args.model_version, observer=args.observer, observed_at=args.at,
                               confirmed_by=by)
    gps = f", GPS {o.gps_lat:.5f},{o.gps_lon:.5f}" if o.gps_lat is not None else ""
    review = (f"confirmed by {o.confirmed_by}" if o.confirmed_by else
              f"UNCONFIRMED: not counted until a person confirms it (leafscout log confirm {o.id} --by NAME)")
    print(f"Logged observation {o.id}: {o.label} ({o.status}, {o.confidence:.0%}){gps}; {review}.")
    return 0


@_with_log
def cmd_confirm(log, args) -> int:
    from leafscout.officers import reviewer
    o = log.confirm_observation(args.observation, reviewer(args.by, args.db))
    print(f"Observation {o.id} ({o.label}) confirmed by {o.confirmed_by}.")
    return 0


@_with_log
def cmd_act(log, args) -> int:
    from leafscout.fieldlog.timeutil import local_year
    a = log.record_action(args.plot, args.what, product=args.product, active_substance=args.substance,
                          amount=args.amount, unit=args.unit, copper_kg_ha=args.copper, by=args.by, at=args.at,
                          observation_id=args.observation, copper_content_pct=args.copper_content)
    year, seven = log.copper_used(args.plot, local_year(a.at))
    this = f" ({a.copper_kg_ha:g} kg Cu/ha)" if a.copper_kg_ha else ""
    print(f"Logged action {a.id}{this} on {_fmt_when(a.at)}. Copper on this plot: {year:g} kg/ha in "
          f"{local_year(a.at)}, {seven:g} kg/ha over 7 years.")
    if a.copper_kg_ha:  # over the advisor's 7-year cap: one warning line (the action is kept, exit 0)
        from leafscout.service import copper_warning
        try:
            warning = copper_warning(log, a, lang="en")
        except Exception as exc:  # noqa: BLE001 - the action is logged; say the cap could not be checked
            warning = f"warning: the 7-year copper cap could not be checked ({exc})"
        if warning:
            print(f"leafscout log act: {warning}", file=sys.stderr)
    return 0


@_with_log
def cmd_history(log, args) -> int:
    h = log.history(args.plot)
    p = h.plot
    from leafscout.fieldlog.text import shown as sh
    from leafscout.fieldlog.timeutil import zone_name
    print(f"Plot {sh(p.name)} — {sh(p.crop)}, {p.area_ha:g} ha, {p.organic_status}"
          f"{f', {sh(p.location)}' if p.location else ''}")
    print(f"  (times on this computer's clock, {zone_name()})")
    if not h.observations and not h.actions:
        print("  nothing recorded yet")
    for when, kind, rec in h.timeline():
        if kind == "observation":
            review = f"confirmed by {rec.confirmed_by}" if rec.confirmed_by else "UNCONFIRMED"
            print(f"  {_fmt_time(when)}  seen   #{rec.id} {rec.label} ({rec.status}, {rec.confidence:.0%}, "
                  f"model {sh(rec.model_version)}{f', by {sh(rec.observer)}' if rec.observer else ''}; {sh(review)})")
            for c in h.corrections.get(rec.id, []):
                print(f"                     corrected to {c.label} by {sh(c.by)} on {_fmt_time(c.at)} "
                      f"(was {c.previous_label})")
        else:
            detail = ", ".join(x for x in (rec.product, rec.active_substance,
                                           f"{rec.amount:g} {rec.unit or ''}".strip() if rec.amount is not None
                                           else None,
                                           f"Cu {rec.copper_kg_ha:g} kg/ha" if rec.copper_kg_ha else None) if x)
            answer = f" (answers #{rec.observation_id})" if rec.observation_id else ""
            print(f"  {_fmt_time(when)}  done   {sh(rec.what)}{f' [{sh(detail)}]' if detail else ''}"
                  f"{f', by {sh(rec.by)}' if rec.by else ''}{answer}")
    for year, kg in h.copper_by_year.items():
        print(f"  copper {year}: {kg:g} kg/ha")
    for lot in h.lots:
        print(f"  harvest lot {sh(lot.code)} on {_fmt_time(lot.harvested_at)}")
    return 0


@_with_log
def cmd_backup(log, args) -> int:
    dest = log.backup(args.file)
    print(f"Backed up {log.where} to {dest} (integrity check ok).")
    return 0


@_with_log
def cmd_restore(log, args) -> int:
    src, kept = log.restore(args.file)
    plots = len(log.plots())
    print(f"Restored {log.where} from {src}: {plots} plot{'s' if plots != 1 else ''}, as the backup holds them."
          + (f" The log as it was before is kept in {kept}." if kept else ""))
    return 0


@_with_log
def cmd_add_lot(log, args) -> int:
    lot = log.add_lot(args.code, args.plots, harvested_at=args.harvested, quantity_kg=args.kg, notes=args.notes)
    plots = ", ".join(p.name for p in log.lot_plots(lot))  # as stored: one name each, in its own spelling
    print(f"Added harvest lot {lot.code} from {plots}; trace ID {log.qr_payload(lot)}")
    return 0


QR_KINDS = ("png", "svg")
QR_MAX_SCALE = 100  # a 100-pixel module is a poster; more only fills memory


@_with_log
def cmd_qr(log, args) -> int:
    from leafscout.errors import UsageError
    from leafscout.fieldlog import qr
    from leafscout.fieldlog.errors import UnknownLotError

    try:
        item = log.get_lot(args.target)
    except UnknownLotError:
        item = log.get_plot(args.target)
    out = Path(args.out)
    kind = out.suffix.lower().lstrip(".")
    if kind not in QR_KINDS:
        raise UsageError(f"--out {args.out}: expected a .png or .svg file name (a printed label needs one of those)")
    if not 1 <= args.scale <= QR_MAX_SCALE:
        raise UsageError(f"--scale must be 1 to {QR_MAX_SCALE} pixels a module, got {args.scale}")
    code = qr.make(item, log.trace_base_url)
    code.save(str(out), kind=kind, scale=args.scale, border=4)
    print(f"Wrote {out} encoding {qr.payload(item, log.trace_base_url)}")
    return 0


@_with_log
def cmd_audit(log, args) -> int:
    from leafscout.service import audit_season

    from leafscout.errors import UsageError

    if args.season is not None and not 1970 <= args.season <= 9998:
        raise UsageError(f"--season: expected a year from 1970 to 9998, got {args.season}")
    start, end = ((f"{args.season}-01-01", f"{args.season + 1}-01-01") if args.season is not None
                  else (args.start, args.end))
    if not start or not end:
        raise UsageError("give --season YEAR, or both --from DATE and --to DATE")
    if args.season is None:
        end = _through(end)
    report = audit_season(log, start, end)
    print(report.to_text())
    return 0 if report.ok else 1


def _through(end: str) -> str:
    """`--to 2026-06-30` means through 30 June: the day after, as the audit's end is exclusive. A time given
    (`2026-06-30T15:00`) is taken as it is; anything else is left for the audit to refuse in its own words."""
    import datetime as dt
    text = end.strip()
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return end
    try:
        return (day + dt.timedelta(days=1)).isoformat()
    except OverflowError:  # 9999-12-31: the audit says the date is out of range
        return end


def _file_stem(name: str, max_bytes: int = 120) -> str:
    """A file name from a plot or lot name: letters, digits, '-', '_' and '.'; a name longer than `max_bytes` in
    UTF-8 (file systems take 255; a Vietnamese letter is up to 3) is cut and given 8 hex digits of its hash, so
    two long names that start alike still get two files."""
    import hashlib
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).lstrip(".") or "export"
    if len(stem.encode("utf-8")) <= max_bytes:
        return stem
    cut = stem.encode("utf-8")[:max_bytes - 9].decode("utf-8", "ignore")
    return f"{cut}-{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


@_with_log
def cmd_export(log, args) -> int:
    from leafscout.fieldlog import export

    wanted = {f: getattr(args, f) for f in ("html", "pdf", "csv") if getattr(args, f) is not None}
    if not wanted:
        wanted = {"html": ""}
    page = export.build(log, args.target)
    stem = _file_stem(args.target)
    names, cap = _pdf_names(args.lang) if "pdf" in wanted else ({}, None)
    for fmt, dest in wanted.items():
        path = export.write(page, fmt, Path(dest or f"{stem}.{fmt}"), log, lang=args.lang, names=names,
                            copper_cap=cap)
        print(f"Wrote {path}")
    return 0


def _pdf_names(lang: str) -> tuple[dict, float | None]:
    """The knowledge base's crop and problem names in `lang` and the 7-year copper cap, for the lot PDF (the
    service joins advisor and field log). Without a readable knowledge base the PDF shows the stored ids."""
    try:
        from leafscout.i18n import kb_names
        from leafscout.service import default_advisor
        adv = default_advisor()
        return kb_names(adv, lang), float(adv.copper_cap_kg_ha_7y)
    except Exception as exc:  # noqa: BLE001 - the export itself must not fail on it
        print(f"leafscout export: warning: names left as stored ids ({exc})", file=sys.stderr)
        return {}, None


def register(subparsers) -> None:
    log = subparsers.add_parser("log", help="electronic field log: plots, observations, actions, backups",
                                description="Electronic field log for organic certification records.",
                                epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    acts = log.add_subparsers(dest="log_action", metavar=LOG_ACTIONS.replace("|", ","), required=True,
                              parser_class=type(log))

    def leaf(name, func, help_):
        p = acts.add_parser(name, help=help_, description=help_, epilog=EXIT_CODES,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
        _db_option(p)
        p.set_defaults(func=func)
        return p

    leaf("plots", cmd_plots, "list plots with their copper totals")
    from leafscout.cli_import import register as register_import  # `log import`: the phone app's export file
    register_import(acts, _db_option, EXIT_CODES)
    p = leaf("add-plot", cmd_add_plot, "add a plot")
    p.add_argument("name")
    p.add_argument("--crop", required=True)
    p.add_argument("--area", required=True, type=float, metavar="HA", help="area in hectares (0.0001 to 1000)")
    p.add_argument("--allow-similar", action="store_true",
                   help="keep a name that differs from an existing plot only in accents, spaces or punctuation")
    p.add_argument("--status", default="in_conversion", choices=("conventional", "in_conversion", "certified"))
    p.add_argument("--farm", help="the farm or cooperative it belongs to (leafscout log add-farm first)")
    p.add_argument("--location")
    p.add_argument("--buffer-notes")

    leaf("farms", cmd_farms, "list farms and cooperatives")
    p = leaf("add-farm", cmd_add_farm, "add a farm or cooperative that plots belong to")
    p.add_argument("name")
    p.add_argument("--kind", default="farm", choices=("farm", "cooperative"))
    p.add_argument("--location")
    p.add_argument("--certifier", help="the organic certification body, e.g. for the audit report")
    p.add_argument("--allow-similar", action="store_true",
                   help="keep a name that differs from an existing farm only in accents, spaces or punctuation")

    p = leaf("observe", cmd_observe, "log a diagnosis with its photo")
    p.add_argument("plot")
    p.add_argument("photo")
    p.add_argument("--label", required=True, help="diagnosis label crop.problem, e.g. coffee.leaf_rust")
    p.add_argument("--status", required=True, choices=OBSERVATION_STATUSES,
                   help="the model's status; not_a_leaf and error need --confirmed-by")
    p.add_argument("--confidence", required=True, type=float, help="0..1")
    p.add_argument("--model-version", required=True)
    p.add_argument("--observer")
    p.add_argument("--at", help="when it was seen (ISO date/time; default now)")
    p.add_argument("--confirmed-by", metavar="NAME",
                   help="the person who looked at the photo and confirms the label; without it the record is "
                        "kept as UNCONFIRMED and the audit does not count it")

    p = leaf("confirm", cmd_confirm, "confirm an unconfirmed observation (a person checked the photo and label)")
    p.add_argument("observation", type=int, metavar="ID")
    p.add_argument("--by", required=True, metavar="NAME")
    from leafscout.cli_corrections import register_log_correct
    register_log_correct(leaf)  # `log correct ID --label L --by NAME`

    p = leaf("act", cmd_act, "log a treatment or field operation")
    p.add_argument("plot")
    p.add_argument("--what", required=True, help="what was done, e.g. 'sprayed Bordeaux mixture'")
    p.add_argument("--product")
    p.add_argument("--substance", help="active substance, e.g. copper hydroxide")
    p.add_argument("--amount", type=float)
    p.add_argument("--unit")
    p.add_argument("--copper", type=float, default=None, metavar="KG_HA",
                   help="copper applied, kg Cu/ha (0 to 6 in one application). For a copper product without it, "
                        "it is worked out from --amount/--unit and the substance or --copper-content")
    p.add_argument("--copper-content", type=float, metavar="PCT", help="copper content of the product, %% Cu (label)")
    p.add_argument("--by")
    p.add_argument("--at", help="when it was done (ISO date/time; default now)")
    p.add_argument("--observation", type=int, metavar="ID", help="the observation this action answered")

    p = leaf("history", cmd_history, "show everything recorded on a plot")
    p.add_argument("plot")
    p = leaf("backup", cmd_backup, "consistent online copy of the SQLite log (and its photos)")
    p.add_argument("file")

    p = leaf("restore", cmd_restore, "make the log hold exactly what a backup holds (the log as it was is kept "
                                     "beside it); never copy a backup over the log file by hand")
    p.add_argument("file", help="the .sqlite file `leafscout log backup` wrote")

    p = leaf("add-lot", cmd_add_lot, "record a harvest lot and the plots it came from")
    p.add_argument("code")
    p.add_argument("--plots", nargs="+", required=True)
    p.add_argument("--harvested", help="harvest date (default now)")
    p.add_argument("--kg", type=float)
    p.add_argument("--notes")

    p = leaf("qr", cmd_qr, "write the QR code of a plot or harvest lot (PNG or SVG)")
    p.add_argument("target", metavar="PLOT|LOT")
    p.add_argument("--out", required=True, help="file.png or file.svg")
    p.add_argument("--scale", type=int, default=8)

    p = leaf("audit", cmd_audit, "season audit: actions flagged against the organic standard, copper vs cap")
    p.add_argument("--season", type=int, metavar="YEAR")
    p.add_argument("--from", dest="start", metavar="DATE")
    p.add_argument("--to", dest="end", metavar="DATE", help="last day of the audit, included (a time: up to it)")

    ex = subparsers.add_parser("export", help="traceability page for a plot or harvest lot (HTML/PDF/CSV)",
                               description="Write a self-contained page for a plot or lot: plots, "
                                           "observations, actions, copper totals and its QR code.",
                               epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    ex.add_argument("target", metavar="PLOT|LOT")
    ex.add_argument("--lang", choices=("vi", "en"), default="vi",
                    help="language of the PDF, with the knowledge base's crop and problem names (default vi; "
                         "HTML and CSV keep the stored values)")
    for fmt in ("html", "pdf", "csv"):
        ex.add_argument(f"--{fmt}", nargs="?", const="", metavar="FILE",
                        help=f"write {fmt.upper()} (default file: TARGET.{fmt})")
    _db_option(ex)
    ex.set_defaults(func=cmd_export)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: leafscout log ... / leafscout export ...")

"""`leafscout log ...` and `leafscout export ...`. Imports nothing heavy until a command runs."""
from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

from leafscout.fieldlog.text import decimal_g as _g  # kg figures as the season audit writes them (fieldlog is lazy)

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


def _dashed_value(parser: argparse.ArgumentParser, message: str, argv: list[str]) -> tuple[str, str] | None:
    """(option, value) when argparse refused "argument --by: expected one argument" because the value typed after
    the option starts with '-' (`--by -2+3`, `--by -Hoa`): argparse reads such a word as an option; ("--", value)
    when a required NAME is missing and such a word was typed (`officers add -Hoa`). None otherwise (a value that
    is really missing, another option following; a file named '-x' is the CLI's own hint)."""
    import os
    import re
    words = argv[:argv.index("--")] if "--" in argv else argv
    if message.startswith("the following arguments are required: "):  # `officers add -Hoa`: the NAME itself
        unknown = [w for w in words if w.startswith("-") and w != "-" and not os.path.isfile(w)
                   and w.split("=", 1)[0] not in parser._option_string_actions]
        return ("--", unknown[0]) if unknown else None
    m = re.fullmatch(r"argument (?P<opts>.+?): expected one argument", message)
    if not m:
        return None
    opts = set(m.group("opts").split("/"))
    for i, w in enumerate(words[:-1]):
        nxt = words[i + 1]
        if w in opts and nxt.startswith("-") and nxt != "-" and nxt.split("=", 1)[0] not in parser._option_string_actions:
            return w, nxt
    return None


_DASH_PARSERS: dict[type, type] = {}


def dash_value_parser(base: type) -> type:
    """`base` (the CLI's parser class), whose refusal of `--by -2+3` adds how to give a value that starts with '-':
    `--by=-2+3`. Reading such a word as the value instead would make a mistyped option (`--by --bd x`) a name."""
    if base in _DASH_PARSERS:
        return _DASH_PARSERS[base]

    class DashValueParser(base):
        def error(self, message: str):
            from leafscout import cli
            found = _dashed_value(self, message, list(cli._ARGV))
            if found is None:
                return super().error(message)
            import shlex

            from leafscout.i18n import t
            lang = cli._LANG
            option, value = found
            usage = self.format_usage()
            if lang != "en" and usage.startswith("usage: "):
                usage = t("usage_prefix", lang) + usage[len("usage: "):]
            self._print_message(usage, sys.stderr)
            if option == "--":
                line = [w for w in cli._ARGV if w != value] + ["--", value]
                hint = t("dashed_positional", lang, value=repr(value),
                         example="leafscout " + " ".join(shlex.quote(w) for w in line))
            else:
                hint = t("dashed_value", lang, value=repr(value), joined=shlex.quote(f"{option}={value}"))
            self.exit(2, f"{self.prog}: {t('error_word', lang)}: {cli.argparse_message(message, lang)}.{hint}\n")

    _DASH_PARSERS[base] = DashValueParser
    return DashValueParser


def lang_option(parser: argparse.ArgumentParser, default: str = "en") -> None:
    """--lang vi|en: the language of what a command says (what it did, listings' headers, refusals, warnings);
    its records, stored values and machine output stay as they are."""
    from leafscout.i18n import t
    parser.add_argument("--lang", choices=("vi", "en"), default=default,
                        help=t("lc_lang", "en", default=default))


def _command(args) -> str:
    """'log add-plot', 'export', 'corrections export': how the command is named in a hint."""
    sub = getattr(args, "log_action", None) or getattr(args, "corrections_action", None)
    return f"{args.command} {sub}" if sub else str(args.command)


def _action(args) -> str:
    return getattr(args, "log_action", None) or str(getattr(args, "command", ""))


def _missing_plot(args, log):
    """The plot name the command typed that the log does not have (the log's own lookup decides)."""
    typed = [getattr(args, "plot", None), getattr(args, "target", None), *(getattr(args, "plots", None) or [])]
    for name in (n for n in typed if n not in (None, "")):
        try:
            log.get_plot(name)
        except Exception:  # noqa: BLE001 - not there (or not readable): this is the one
            return name
    return next((n for n in typed if n not in (None, "")), "")


def log_text(exc, args, log, lang: str) -> str:
    """A field-log refusal (FieldLogError) in `lang`, from its code and the command's own values (never from its
    English words): which plot is not there with the names to choose from, which option is wrong, what to do."""
    from leafscout.fieldlog.errors import ReadOnlyLogError, nearest_name
    from leafscout.i18n import has, number, t
    code = getattr(exc, "code", None) or "bad_value"
    action = _action(args)
    if action == "restore" and code == "backup_failed" and not Path(str(args.file)).expanduser().exists():
        return t("lc_restore_no_file", lang, file=args.file)
    from leafscout.safety import shown_db
    db = shown_db(getattr(args, "db", None) or "$LEAFSCOUT_DB")  # a database URL's password never shown
    if isinstance(exc, ReadOnlyLogError):
        return t("lc_read_only_new" if _missing_log(getattr(args, "db", None)) else "lc_read_only", lang, db=db)
    if code in ("unknown_plot", "unknown_lot") and log is not None:
        try:
            plots = [p.name for p in log.plots()]
            lots = [lot.code for lot in log.lots()]
        except Exception:  # noqa: BLE001 - the log cannot list them: the plain sentence
            plots = lots = None
        if plots is not None:
            if action in ("qr", "export") or code == "unknown_lot":  # PLOT|LOT
                target = str(getattr(args, "target", ""))
                near = nearest_name(target, plots + lots) if plots + lots else None
                return t("refuse_target", lang, target=target, known=", ".join(plots + lots) or t("none_yet", lang),
                         hint=t("did_you_mean", lang, name=near) if near else "")
            plot = str(_missing_plot(args, log))
            near = nearest_name(plot, plots) if plots else None
            flag = f"--plot {plot}: " if action == "import" else ""
            return flag + t("refuse_plot", lang, plot=plot, known=", ".join(plots) or t("none_yet", lang),
                            hint=t("did_you_mean", lang, name=near) if near else "")
    if code == "bad_value" and action in ("add-plot", "add-farm"):  # which value, from the values themselves
        if not str(args.name or "").strip():
            return t("lc_name_empty", lang)
        from leafscout.fieldlog.api import PLOT_AREA_HA
        if action == "add-plot" and args.farm and PLOT_AREA_HA[0] <= args.area <= PLOT_AREA_HA[1] and log is not None:
            try:
                farms = ", ".join(f.name for f in log.farms()) or t("none_yet", lang)
            except Exception:  # noqa: BLE001
                farms = "?"
            return t("lc_add-farm_not_found", lang, farm=args.farm, known=farms)
    fields = dict(db=db, help=f"leafscout {_command(args)} --help", detail=str(exc),
                  name=getattr(args, "name", None), lot=getattr(args, "code", None),
                  id=getattr(args, "observation", None), label=getattr(args, "label", None),
                  status=getattr(args, "status", None),
                  area=None if getattr(args, "area", None) is None else number(args.area, lang, 4),
                  confidence=getattr(args, "confidence", None), kg=getattr(args, "kg", None),
                  file=getattr(args, "file", None), target=getattr(args, "target", None),
                  photo=getattr(args, "photo", None), hint="")
    if code == "export_failed":  # which file: the one format asked for, else the first (the PDF first of all)
        fmt = next((f for f in ("pdf", "csv", "html") if getattr(args, f, None) is not None), "html")
        dest = Path(getattr(args, fmt, None) or f"{_file_stem(str(args.target))}.{fmt}")
        fields.update(fmt=fmt, name=dest.name, path=dest)
        if fmt == "pdf":
            return t("lc_export_failed_pdf", lang, **fields)
    for key in (f"lc_{action}_{code}", f"lc_{code}", f"log_{code}"):
        if has(key):
            return t(key, lang, **fields)
    return t("log_other", lang)


def log_refusal(exc, args, log=None):
    """A field-log refusal as the UsageError `leafscout.cli.main` prints: the field log's English for an English
    run (word for word as before), log_text in each other language, and the field log's code beside it."""
    from leafscout.errors import UsageError
    from leafscout.i18n import LANGS
    texts = {lang: log_text(exc, args, log, lang) for lang in LANGS if lang != "en"}
    return UsageError(str(exc), code=getattr(exc, "code", None) or "bad_value", texts=texts)


def _with_log(fn):
    """Open the log for the command; turn field-log input errors into clean usage errors. Only add-plot and
    add-farm start a new log: any other command on a log file that is not there (a typo in --db) is refused,
    creating nothing, instead of answering from a new empty log."""
    @functools.wraps(fn)
    def run(args) -> int:
        from leafscout.fieldlog.api import FieldLog
        from leafscout.fieldlog.errors import FieldLogError
        from leafscout.i18n import os_reason, refusal

        missing = None if fn.__name__ in STARTS_A_LOG else _missing_log(getattr(args, "db", None))
        if missing is not None and fn.__name__ in LISTS:
            from leafscout.i18n import t
            print(t("lo_no_log", _lang(args), path=missing,
                    db="" if getattr(args, "db", None) in (None, "") else f" --db {missing}"))
            return 0
        if missing is not None:
            raise refusal("lc_no_log", code="db_unavailable", path=missing)
        try:
            reads = fn.__name__ in READS or getattr(fn, "reads_log_only", False)  # other modules' reading commands
            log = FieldLog.open(getattr(args, "db", None), read_only=None if reads else False)
        except FieldLogError as exc:  # db_unavailable, bad_text ...
            raise log_refusal(exc, args) from None
        except ValueError as exc:
            raise log_refusal(FieldLogError(str(exc)), args) from None
        try:
            return fn(log, args) or 0
        except FieldLogError as exc:
            raise log_refusal(exc, args, log) from None
        except BrokenPipeError:
            raise  # the reader left (`log history X | head -1`): main() stops quietly, as cat does
        except OSError as exc:  # a file the command writes (qr --out): one line, no traceback
            name = getattr(exc, "filename", None) or ""
            reason = os_reason(exc)
            english = f"{name}: {exc.strerror or exc}".lstrip(": ")
            raise refusal("lc_cannot_write", file=name, detail=english,
                          why=reason) from None
        finally:
            log.close()
    return run


def _lang(args) -> str:
    """The run's --lang for what a command says when it has done its work (English when the command has none)."""
    return getattr(args, "lang", None) or "en"



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
    from leafscout.i18n import t
    lang = _lang(args)
    plots = log.plots()
    if not plots:
        print(t("lo_no_plots", lang))
        return 0
    c_id, c_plot, c_crop, c_ha, c_status, c_copper = t("lo_plots_cols", lang).split("|")
    print(f"{c_id:>4}  {c_plot:24} {c_crop:12} {c_ha:>7}  {c_status:14} {c_copper}")
    from leafscout.fieldlog.text import shown
    for p in plots:
        year, seven = log.copper_used(p)
        print(f"{p.id:>4}  {shown(p.name):24} {shown(p.crop):12} {_g(p.area_ha, lang):>7}  {p.organic_status:14} "
              f"{_g(year, lang)} / {_g(seven, lang)}")
    return 0


@_with_log
def cmd_farms(log, args) -> int:
    from leafscout.i18n import t
    lang = _lang(args)
    farms = log.farms()
    if not farms:
        print(t("lo_no_farms", lang))
        return 0
    c_id, c_name, c_kind, c_certifier, c_location = t("lo_farms_cols", lang).split("|")
    print(f"{c_id:>4}  {c_name:32} {c_kind:12} {c_certifier:24} {c_location}")
    from leafscout.fieldlog.text import shown
    for f in farms:
        print(f"{f.id:>4}  {shown(f.name):32} {f.kind:12} {shown(f.certifier):24} {shown(f.location)}")
    return 0


@_with_log
def cmd_add_farm(log, args) -> int:
    f = log.add_farm(args.name, kind=args.kind, location=args.location, certifier=args.certifier,
                     allow_similar=args.allow_similar)
    from leafscout.i18n import has, t
    lang = _lang(args)
    kind = t(f"lo_kind_{f.kind}", lang) if has(f"lo_kind_{f.kind}") else f.kind
    print(t("lo_added_farm", lang, kind=kind, name=repr(f.name), id=f.id))
    return 0


@_with_log
def cmd_add_plot(log, args) -> int:
    p = log.add_plot(args.name, args.crop, args.area, organic_status=args.status, farm=args.farm,
                     location=args.location, buffer_notes=args.buffer_notes, allow_similar=args.allow_similar)
    from leafscout.i18n import t
    lang = _lang(args)
    print(t("lo_added_plot", lang, name=repr(p.name), id=p.id, crop=p.crop, area=_g(p.area_ha, lang),
            status=p.organic_status))
    hint = crop_hint(p.crop, lang)
    if hint:
        print(hint)
    return 0


def crop_hint(text: str, lang: str = "en") -> str | None:
    """What LeafScout will do with photos logged to a plot of this crop (`DiagnosisService.crop_support`), in one
    line; None when no model can be loaded (the plot is added all the same)."""
    try:
        from leafscout.i18n import t
        from leafscout.service import DiagnosisService
        svc = DiagnosisService()
        crop, kind = svc.crop_support(text)
        entry = svc.advisor.kb.crops.get(crop) or {} if crop else {}
        name = (entry.get(lang) or entry.get("en") or crop).lower() if crop else None
        crops = ", ".join(svc.crops)
    except Exception:  # no model here, a broken install: the hint is a courtesy, never a failure
        return None
    if kind == "photo":
        return t("lo_crop_photo", lang, name=name)
    if kind == "advice":
        return t("lo_crop_advice", lang, name=name)
    return t("lo_crop_unknown", lang, text=repr(text), crops=crops)


@_with_log
def cmd_observe(log, args) -> int:
    from leafscout.cli_officers import checked_reviewer
    by = None if args.confirmed_by is None else checked_reviewer(args.confirmed_by, args.db, "--confirmed-by")
    o = log.record_observation(args.plot, args.photo, args.label, args.status, args.confidence,
                               args.model_version, observer=args.observer, observed_at=args.at,
                               confirmed_by=by)
    from leafscout.i18n import t
    lang = _lang(args)
    gps = f", GPS {o.gps_lat:.5f},{o.gps_lon:.5f}" if o.gps_lat is not None else ""
    review = (t("lo_review_by", lang, by=o.confirmed_by) if o.confirmed_by else t("lo_review_none", lang, id=o.id))
    print(t("lo_observed", lang, id=o.id, label=o.label, status=o.status, conf=f"{o.confidence:.0%}", gps=gps,
            review=review))
    return 0


@_with_log
def cmd_confirm(log, args) -> int:
    from leafscout.cli_officers import checked_reviewer
    o = log.confirm_observation(args.observation, checked_reviewer(args.by, args.db))
    from leafscout.i18n import t
    print(t("lo_confirmed", _lang(args), id=o.id, label=o.label, by=o.confirmed_by))
    return 0


@_with_log
def cmd_act(log, args) -> int:
    from leafscout.fieldlog.timeutil import local_year
    a = log.record_action(args.plot, args.what, product=args.product, active_substance=args.substance,
                          amount=args.amount, unit=args.unit, copper_kg_ha=args.copper, by=args.by, at=args.at,
                          observation_id=args.observation, copper_content_pct=args.copper_content)
    year, seven = log.copper_used(args.plot, local_year(a.at))
    from leafscout.i18n import t
    lang = _lang(args)
    this = f" ({_g(a.copper_kg_ha, lang)} kg Cu/ha)" if a.copper_kg_ha else ""
    print(t("lo_acted", lang, id=a.id, this=this, when=_fmt_when(a.at), year=_g(year, lang), y=local_year(a.at),
            seven=_g(seven, lang)))
    if a.copper_kg_ha:  # over the advisor's 7-year cap: one warning line (the action is kept, exit 0)
        from leafscout.service import copper_warning
        try:
            warning = copper_warning(log, a, lang=args.lang)
        except Exception as exc:  # noqa: BLE001 - the action is logged; say the cap could not be checked
            from leafscout.i18n import t
            warning = t("copper_unchecked", args.lang, detail=exc)
        if warning:
            print(f"leafscout log act: {warning}", file=sys.stderr)
    if a.active_substance or a.product:  # a banned substance or product: said now, not first in the season audit
        from leafscout.service import substance_warning
        try:
            warning = substance_warning(a, lang=args.lang)
        except Exception:  # noqa: BLE001 - the action is logged; the season audit checks it again
            warning = None
        if warning:
            print(f"leafscout log act: {warning}", file=sys.stderr)
    return 0


@_with_log
def cmd_history(log, args) -> int:
    from leafscout.i18n import t
    lang = _lang(args)
    h = log.history(args.plot)
    p = h.plot
    from leafscout.fieldlog.text import shown as sh
    from leafscout.fieldlog.timeutil import zone_name
    print(t("lo_history_plot", lang, name=sh(p.name), crop=sh(p.crop), area=_g(p.area_ha, lang),
            status=p.organic_status, location=f", {sh(p.location)}" if p.location else ""))
    print(t("lo_history_zone", lang, zone=zone_name()))
    if not h.observations and not h.actions:
        print(t("lo_history_empty", lang))
    seen, done = (f"{t(k, lang):6}" for k in ("lo_history_seen", "lo_history_done"))
    for when, kind, rec in h.timeline():
        if kind == "observation":
            review = (t("lo_review_by", lang, by=rec.confirmed_by) if rec.confirmed_by
                      else t("lo_history_unconfirmed", lang))
            by = t("lo_history_by", lang, by=sh(rec.observer)) if rec.observer else ""
            print(f"  {_fmt_time(when)}  {seen} #{rec.id} {rec.label} ({rec.status}, {rec.confidence:.0%}, "
                  f"{t('lo_history_model', lang, model=sh(rec.model_version))}{by}; {sh(review)})")
            for c in h.corrections.get(rec.id, []):
                print("                     " + t("lo_history_corrected", lang, label=c.label, by=sh(c.by),
                                                  at=_fmt_time(c.at), old=c.previous_label))
        else:
            detail = ", ".join(x for x in (rec.product, rec.active_substance,
                                           f"{_g(rec.amount, lang)} {rec.unit or ''}".strip() if rec.amount is not None
                                           else None,
                                           f"Cu {_g(rec.copper_kg_ha, lang)} kg/ha" if rec.copper_kg_ha else None) if x)
            answer = t("lo_history_answers", lang, id=rec.observation_id) if rec.observation_id else ""
            by = t("lo_history_by", lang, by=sh(rec.by)) if rec.by else ""
            print(f"  {_fmt_time(when)}  {done} {sh(rec.what)}{f' [{sh(detail)}]' if detail else ''}{by}{answer}")
    for year, kg in h.copper_by_year.items():
        print(t("lo_history_copper", lang, year=year, kg=_g(kg, lang)))
    for lot in h.lots:
        print(t("lo_history_lot", lang, code=sh(lot.code), at=_fmt_time(lot.harvested_at)))
    return 0


@_with_log
def cmd_backup(log, args) -> int:
    from leafscout.i18n import t
    dest = log.backup(args.file)
    print(t("lo_backed_up", _lang(args), where=log.where, dest=dest))
    return 0


@_with_log
def cmd_restore(log, args) -> int:
    src, kept = log.restore(args.file)
    from leafscout.i18n import t
    lang = _lang(args)
    plots = len(log.plots())
    print(t("lo_restored", lang, where=log.where, src=src, n=plots, s="s" if plots != 1 else "")
          + (t("lo_restored_kept", lang, kept=kept) if kept else ""))
    return 0


@_with_log
def cmd_add_lot(log, args) -> int:
    lot = log.add_lot(args.code, args.plots, harvested_at=args.harvested, quantity_kg=args.kg, notes=args.notes)
    plots = ", ".join(p.name for p in log.lot_plots(lot))  # as stored: one name each, in its own spelling
    from leafscout.i18n import t
    print(t("lo_added_lot", _lang(args), code=lot.code, plots=plots, trace=log.qr_payload(lot)))
    return 0


QR_KINDS = ("png", "svg")
QR_MAX_SCALE = 100  # a 100-pixel module is a poster; more only fills memory


@_with_log
def cmd_qr(log, args) -> int:
    from leafscout.fieldlog import qr
    from leafscout.i18n import refusal
    from leafscout.fieldlog.errors import UnknownLotError

    try:
        item = log.get_lot(args.target)
    except UnknownLotError:
        item = log.get_plot(args.target)
    out = Path(args.out)
    kind = out.suffix.lower().lstrip(".")
    if kind not in QR_KINDS:
        raise refusal("qr_kind", "bad_value", out=args.out)
    if not 1 <= args.scale <= QR_MAX_SCALE:
        raise refusal("qr_scale", "bad_value", max=QR_MAX_SCALE, value=args.scale)
    code = qr.make(item, log.trace_base_url)
    code.save(str(out), kind=kind, scale=args.scale, border=4)
    from leafscout.i18n import t
    print(t("lo_wrote_qr", _lang(args), out=out, payload=qr.payload(item, log.trace_base_url)))
    return 0


@_with_log
def cmd_audit(log, args) -> int:
    from leafscout.service import audit_season

    from leafscout.i18n import refusal

    if args.season is not None and not 1970 <= args.season <= 9998:
        raise refusal("audit_season", "bad_value", value=args.season)
    start, end = ((f"{args.season}-01-01", f"{args.season + 1}-01-01") if args.season is not None
                  else (args.start, args.end))
    if not start or not end:
        raise refusal("audit_range", "bad_value")
    if args.season is None:
        end = _through(end)
    report = audit_season(log, start, end, lang=_lang(args))  # the substance check's reasons in --lang too
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
    """The PDF and HTML in --lang (default vi: what a cooperative reads), the CSV language-free; the closing
    "Wrote FILE" line in --lang too."""
    from leafscout.fieldlog import export
    from leafscout.i18n import t

    wanted = {f: getattr(args, f) for f in ("html", "pdf", "csv") if getattr(args, f) is not None}
    if not wanted:
        wanted = {"html": ""}
    page = export.build(log, args.target)
    stem = _file_stem(args.target)
    # the PDF and the HTML both name crops and problems and mark a plot over the 7-year copper cap; the CSV neither
    names, cap = _pdf_names(args.lang) if {"pdf", "html"} & wanted.keys() else ({}, None)
    for fmt, dest in wanted.items():
        path = export.write(page, fmt, Path(dest or f"{stem}.{fmt}"), log, lang=args.lang, names=names,
                            copper_cap=cap)
        print(t("lo_wrote_export", args.lang, path=path))
    return 0


def _pdf_names(lang: str) -> tuple[dict, float | None]:
    """The knowledge base's crop and problem names in `lang` and the 7-year copper cap, for the PDF and the HTML
    (the field log imports nothing of the advisor: the CLI joins them). Without a readable knowledge base both
    show the stored ids, with a warning."""
    try:
        from leafscout.i18n import kb_names
        from leafscout.service import default_advisor
        adv = default_advisor()
        return kb_names(adv, lang), float(adv.copper_cap_kg_ha_7y)
    except Exception as exc:  # noqa: BLE001 - the export itself must not fail on it
        from leafscout.i18n import t
        print(f"leafscout export: {t('warning', lang)}: {t('names_as_ids', lang, detail=exc)}", file=sys.stderr)
        return {}, None


def register(subparsers) -> None:
    log = subparsers.add_parser("log", help="electronic field log: plots, observations, actions, backups",
                                description="Electronic field log for organic certification records.",
                                epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    acts = log.add_subparsers(dest="log_action", metavar=LOG_ACTIONS.replace("|", ","), required=True,
                              parser_class=dash_value_parser(type(log)))  # `--by -2+3`: how to give it

    def leaf(name, func, help_):
        p = acts.add_parser(name, help=help_, description=help_, epilog=EXIT_CODES,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
        _db_option(p)
        lang_option(p)
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
                    help="language of the PDF and HTML pages (headings, columns, marks, decimal comma in vi) and "
                         "of what the command says; the PDF also names crops and problems from the knowledge "
                         "base (default vi; the CSV stays language-free, with the stored values)")
    for fmt in ("html", "pdf", "csv"):
        ex.add_argument(f"--{fmt}", nargs="?", const="", metavar="FILE",
                        help=f"write {fmt.upper()} (default file: TARGET.{fmt})")
    _db_option(ex)
    ex.__class__ = dash_value_parser(type(ex))  # `--csv -x.csv`: says to write --csv=-x.csv
    ex.set_defaults(func=cmd_export)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: leafscout log ... / leafscout export ...")

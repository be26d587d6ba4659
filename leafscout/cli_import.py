"""`leafscout log import FILE`: observations saved on a phone (the offline phone app, issue 19) into the field log.

The phone app exports one JSON file: {"format": "leafscout-phone-log", "version": 1, "records": [...]}, each
record with its phone-side id, plot name, time, label, status, confidence, model version, observer and the
photo (base64). Every record is stored as an UNCONFIRMED observation, exactly as `diagnose --log` stores a
model's answer, photo and GPS included. A record already in the log (same plot, same photo, same label,
same time to the second) is skipped, so importing the same file twice, or two overlapping exports, never
doubles a record; a record the log refuses (an unknown plot, say) is named on stderr and the others are
still imported: add the plot and import the same file again, nothing is lost.

Exit codes: 0 every record is in the log now (imported or already there); 2 the file is unusable, or some
records were refused (each named on stderr).
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path

FORMAT = "leafscout-phone-log"
MAX_FILE_BYTES = 2 * 2**30
SUFFIX = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
ALLOWED_STATUS = ("ok", "uncertain")  # the phone does not save not_a_leaf/error results
EXIT_CODES = """exit codes:
  0  every record is in the log now (imported, or there already)
  2  the file is unusable, or --plot names no plot of the log (nothing imported); or some records were
     refused (each named on stderr; the others are imported: fix the cause, import the same file again)
  130 interrupted (Ctrl-C): the records imported so far stay; import the same file again for the rest"""


def register(acts, db_option, epilog: str) -> None:
    """Add `import` to `leafscout log`'s sub-commands (called from leafscout/cli_log.py)."""
    import argparse

    import textwrap

    help_ = "import the field log file exported by the phone app (no record doubled on re-import)"
    about = textwrap.fill(help_ + ". " + " ".join(__doc__.split("\n\n")[1].split()), width=100)
    # its own exit codes (`epilog`, the log's, says "nothing was written": not so when some records were refused)
    p = acts.add_parser("import", help=help_, description=about, epilog=EXIT_CODES,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    db_option(p)
    from leafscout.cli_log import lang_option
    lang_option(p)
    p.add_argument("file", metavar="FILE", help="the file the phone app exported (.json; .json.txt when shared from an Android phone)")
    p.add_argument("--plot", help="put every record in this plot instead of the plot typed on the phone")
    p.set_defaults(func=run)


def _records(path: str) -> list[dict]:
    from leafscout.errors import UsageError
    from leafscout.i18n import os_reason, refusal

    p = Path(path)
    try:
        if not p.is_file():
            raise refusal("imp_not_file" if p.exists() else "imp_no_file", "bad_input", path=path)
        if p.stat().st_size > MAX_FILE_BYTES:
            raise refusal("imp_too_big", "bad_input", path=path, gb=MAX_FILE_BYTES // 2**30)
        data = json.loads(p.read_bytes().decode("utf-8"))
    except UsageError:
        raise
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):  # RecursionError: [[[[... nested too deep
        raise refusal("imp_not_json", "bad_input", path=path) from None
    except OSError as exc:
        reason = os_reason(exc)
        raise refusal("imp_cannot_read", "bad_input", path=path,
                      why=reason) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("records"), list):
        raise refusal("imp_not_export", "bad_input", path=path, format=FORMAT)
    if data.get("version") != 1:
        raise refusal("imp_version", "bad_input", path=path, version=repr(data.get("version")))
    return data["records"]


class _Bad(ValueError):
    """A record the phone could not have written: `key` and `fmt` say why in each language (leafscout.i18n)."""

    def __init__(self, what: str, **fmt):
        from leafscout.i18n import t
        super().__init__(t(what, "en", **fmt))
        self.what, self.fmt = what, fmt


def _field(rec: dict, key: str, kind, required=True):
    v = rec.get(key)
    if v is None and not required:
        return None
    if not isinstance(v, kind) or isinstance(v, bool):
        raise _Bad("imp_field", field=key)
    return v


def _existing(log, plot, when: dt.datetime, sha: str, label: str) -> bool:
    """Is this observation already in the log? Same plot, photo, label and time (to the second)."""
    window = dt.timedelta(seconds=1)
    for p, obs in log.observations_between(when - window, when + window):
        if p.id == plot.id and obs.photo_sha256 == sha and obs.label == label:
            return True
    return False


def run(args) -> int:
    from leafscout.cli_log import _with_log

    records = _records(args.file)
    return _with_log(lambda log, a: _import(log, a, records))(args)


def _import(log, args, records: list) -> int:
    import hashlib

    from leafscout.fieldlog.errors import FieldLogError
    from leafscout.fieldlog.timeutil import to_utc

    from leafscout.safety import one_line

    if args.plot:  # one plot for every record: a name the log does not have is one refusal, before any record
        try:
            log.get_plot(args.plot)
        except FieldLogError as exc:
            from leafscout.cli_log import log_refusal
            from leafscout.errors import UsageError
            said = log_refusal(exc, args, log)  # "--plot " + the plots to choose from, in each language
            raise UsageError(f"--plot {args.plot}: {exc}", code=exc.code, texts=said.texts) from None
    imported = skipped = 0
    refused: list[str] = []
    with tempfile.TemporaryDirectory(prefix="leafscout-import-") as tmp:
        for n, rec in enumerate(records, 1):
            rid = one_line(rec["id"]) if isinstance(rec, dict) and isinstance(rec.get("id"), str) else f"#{n}"
            try:
                if not isinstance(rec, dict):
                    raise _Bad("imp_not_a_record")
                plot_name = args.plot or _field(rec, "plot", str)
                label = _field(rec, "label", str)
                status = _field(rec, "status", str)
                if status not in ALLOWED_STATUS:
                    raise _Bad("imp_status", status=repr(status))
                conf = _field(rec, "confidence", (int, float))
                version = _field(rec, "model_version", str)
                observer = _field(rec, "observer", str, required=False)
                try:
                    photo = base64.b64decode(_field(rec, "photo_base64", str), validate=True)
                except (binascii.Error, ValueError):
                    raise _Bad("imp_base64") from None
                when = to_utc(_field(rec, "observed_at", str), "observation time")
                plot = log.get_plot(plot_name)
                sha = hashlib.sha256(photo).hexdigest()
                if _existing(log, plot, when, sha, label):
                    skipped += 1
                    continue
                kind = rec.get("photo_type")
                path = Path(tmp) / f"{n}{SUFFIX.get(kind, '.jpg') if isinstance(kind, str) else '.jpg'}"
                path.write_bytes(photo)
                log.record_observation(plot.name, path, label, status, float(conf), version, observer=observer,
                                       observed_at=when.replace(tzinfo=dt.timezone.utc))
                imported += 1
            except (FieldLogError, ValueError) as exc:
                english = str(exc).replace(f"'{tmp}/", "'").replace(tmp, "")
                refused.append((rid, english if args.lang == "en" else _why(exc, rec, log, args.lang, english)))
    from leafscout.i18n import t
    print(t("imp_summary", args.lang, imported=imported, skipped=skipped, refused=len(refused)))
    for rid, why in refused:
        print(f"leafscout log import: {t('imp_refused', args.lang, rid=rid, why=why)}", file=sys.stderr)
    return 2 if refused else 0


def _why(exc, rec, log, lang: str, english: str) -> str:
    """Why a record was refused, in `lang`: from the record check's key or the field log's code, with the record's
    own values (never from the English); the field log's code in brackets, as a refusal shows it."""
    from leafscout.fieldlog.errors import FieldLogError, nearest_name
    from leafscout.i18n import has, t
    if isinstance(exc, _Bad):
        return t(exc.what, lang, **exc.fmt)
    if not isinstance(exc, FieldLogError):
        return t("imp_field", lang, field="?")
    rec = rec if isinstance(rec, dict) else {}
    fields = dict(detail=english, plot=rec.get("plot"), at=rec.get("observed_at"), label=rec.get("label"),
                  confidence=rec.get("confidence"), hint="")
    if exc.code == "unknown_plot":
        try:
            names = [p.name for p in log.plots()]
        except Exception:  # noqa: BLE001
            names = []
        near = nearest_name(str(rec.get("plot")), names) if names else None
        fields["hint"] = t("near_name", lang, name=near) if near else ""
    key = f"imp_log_{exc.code}"
    return f"{t(key if has(key) else 'log_other', lang, **fields)} [{exc.code}]"

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
    p.add_argument("file", metavar="FILE", help="the .json file the phone app exported")
    p.add_argument("--plot", help="put every record in this plot instead of the plot typed on the phone")
    p.set_defaults(func=run)


def _records(path: str) -> list[dict]:
    from leafscout.errors import UsageError

    p = Path(path)
    try:
        if not p.is_file():
            what = "not a file (a folder, pipe or device)" if p.exists() else "no such file"
            raise UsageError(f"{path}: {what}; give the .json file the phone app exported (Xuất sổ / Export the log)")
        if p.stat().st_size > MAX_FILE_BYTES:
            raise UsageError(f"{path} is over {MAX_FILE_BYTES // 2**30} GB; export fewer records at a time")
        data = json.loads(p.read_bytes().decode("utf-8"))
    except UsageError:
        raise
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):  # RecursionError: [[[[... nested too deep
        raise UsageError(f"{path} is not a phone field-log export (expected the JSON file the phone app writes)") from None
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("records"), list):
        raise UsageError(f"{path} is not a phone field-log export (no \"format\": \"{FORMAT}\" with a records list)")
    if data.get("version") != 1:
        raise UsageError(f"{path}: export version {data.get('version')!r} is not known to this LeafScout; update it")
    return data["records"]


def _field(rec: dict, key: str, kind, required=True):
    v = rec.get(key)
    if v is None and not required:
        return None
    if not isinstance(v, kind) or isinstance(v, bool):
        raise ValueError(f"{key} is missing or not valid")
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
            raise FieldLogError(f"--plot {args.plot}: {exc}", exc.code) from None
    imported = skipped = 0
    refused: list[str] = []
    with tempfile.TemporaryDirectory(prefix="leafscout-import-") as tmp:
        for n, rec in enumerate(records, 1):
            rid = one_line(rec["id"]) if isinstance(rec, dict) and isinstance(rec.get("id"), str) else f"#{n}"
            try:
                if not isinstance(rec, dict):
                    raise ValueError("not a record")
                plot_name = args.plot or _field(rec, "plot", str)
                label = _field(rec, "label", str)
                status = _field(rec, "status", str)
                if status not in ALLOWED_STATUS:
                    raise ValueError(f"status {status!r} is not a diagnosis the phone saves")
                conf = _field(rec, "confidence", (int, float))
                version = _field(rec, "model_version", str)
                observer = _field(rec, "observer", str, required=False)
                try:
                    photo = base64.b64decode(_field(rec, "photo_base64", str), validate=True)
                except (binascii.Error, ValueError):
                    raise ValueError("the photo is not valid base64") from None
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
                refused.append(f"record {rid}: " + str(exc).replace(f"'{tmp}/", "'").replace(tmp, ""))
    print(f"imported {imported} record(s), {skipped} already in the log, {len(refused)} refused "
          f"(all stored UNCONFIRMED: `leafscout log confirm ID --by NAME` once a person has checked each photo)")
    for line in refused:
        print(f"leafscout log import: refused {line}", file=sys.stderr)
    return 2 if refused else 0

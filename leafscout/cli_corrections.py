"""`leafscout log correct ID --label L --by NAME` and `leafscout corrections export DIR`.

A person's label for a logged photo goes into the field log (who, when, the photo's hash, the model version);
the labelled photos leave it as a dataset for retraining (leafscout/corrections.py). Imports nothing heavy
until a command runs."""
from __future__ import annotations

import argparse
import sys


def register_log_correct(leaf) -> None:
    """Add `correct` to `leafscout log` (called by leafscout.cli_log.register with its `leaf` helper)."""
    p = leaf("correct", cmd_correct, "say what a logged photo really shows (the model was wrong); kept with who, "
             "when, the photo's hash and the model version")
    p.add_argument("observation", type=int, metavar="ID", help="the observation (ids: `leafscout log history PLOT`)")
    p.add_argument("--label", required=True, help="the right label crop.problem, e.g. coffee.rust")
    p.add_argument("--by", required=True, metavar="NAME", help="the person who looked at the photo")
    p.add_argument("--note", help="why, in a few words (optional)")
    p.add_argument("--new-label", action="store_true", help="the label is one neither the model nor the "
                   "knowledge base knows yet (a new problem to train on)")


def cmd_correct(args) -> int:
    from leafscout.cli_log import _with_log

    @_with_log
    def run(log, args):
        from leafscout.corrections import known_labels
        from leafscout.i18n import PerLang, refusal, t
        args.label = args.label.strip().lower()  # ids are lower case: " Coffee.Rust" is coffee.rust, as in advise
        known = None
        if not args.new_label:
            known = known_labels() or None
            if known is not None and args.label not in known:
                import difflib
                close = difflib.get_close_matches(args.label, sorted(known), n=1, cutoff=0.6)
                hint = PerLang({lang: t("did_you_mean", lang, name=close[0]) if close else "" for lang in ("vi", "en")})
                raise refusal("correct_label", "bad_label", label=repr(args.label), hint=hint)
        from leafscout.cli_officers import checked_reviewer
        c = log.correct_observation(args.observation, args.label, checked_reviewer(args.by, args.db), note=args.note)
        print(t("lo_corrected", getattr(args, "lang", None) or "en", id=c.observation_id, old=c.previous_label,
                new=c.label, by=c.by, at=f"{c.at:%Y-%m-%d %H:%M}", photo=c.photo_sha256[:12], model=c.model_version))
        return 0

    return run(args)


def register(sub) -> None:
    from leafscout.cli_log import EXIT_CODES, _db_option, dash_value_parser, lang_option

    c = sub.add_parser("corrections", help="photos people labelled in the field log, as training data",
                       description="Photos whose label a person corrected (or, with --confirmed, confirmed) in "
                       "the field log, exported for retraining.", epilog=EXIT_CODES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    acts = c.add_subparsers(dest="corrections_action", metavar="export", required=True,
                            parser_class=dash_value_parser(type(c)))
    e = acts.add_parser("export", help="write photos + labels + manifest (provenance, licence) into DIR",
                        description="Write DIR/<crop.problem>/<sha256>.jpg, manifest.csv, manifest.json and "
                        "README.md. Exporting again into the same DIR replaces that export.")
    e.add_argument("dir", metavar="DIR", help="the folder to write into: new, empty, or an earlier export (replaced)")
    e.add_argument("--confirmed", action="store_true", help="also confirmed observations (the model's label, "
                   "vouched for by a person), not only corrected ones")
    e.add_argument("--licence", help="the licence written into the manifest (default: not for redistribution, "
                   "retraining only)")
    e.add_argument("--aside", type=float, default=0.0, metavar="SHARE",
                   help="keep this share of the plots (0-0.9, e.g. 0.2) in DIR/aside/, never trained on, to compare "
                   "the retrained model with the old one (benchmarks/compare_models.py --corrections DIR)")
    _db_option(e)
    lang_option(e)
    e.set_defaults(func=cmd_export)


def _check_dir(path: str) -> None:
    """DIR as leafscout.corrections takes it (new, empty, or an earlier export), refused in the run's language
    before anything is read: a file, or a folder that holds something else."""
    import json
    from pathlib import Path

    from leafscout.corrections import FORMAT
    from leafscout.i18n import os_reason, refusal
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise refusal("export_dir_is_file", "bad_input", out=out)
    try:
        full = out.is_dir() and any(out.iterdir())
    except OSError as exc:
        raise refusal("export_dir_cannot_create", "bad_input", out=out, why=os_reason(exc)) from None
    if full:
        try:
            previous = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            previous = None
        if not isinstance(previous, dict) or previous.get("format") != FORMAT:
            raise refusal("export_dir_not_ours", "bad_input", out=out)
    if not out.exists():
        try:
            out.mkdir(parents=True)
        except OSError as exc:
            raise refusal("export_dir_cannot_create", "bad_input", out=out, why=os_reason(exc)) from None


def cmd_export(args) -> int:
    from leafscout.cli_log import _with_log

    def run(log, args):
        from leafscout.corrections import DEFAULT_LICENCE, export
        from leafscout.i18n import has, refusal, t
        licence = args.licence if args.licence is not None else DEFAULT_LICENCE
        if not licence.strip():
            raise refusal("licence_empty", "bad_input")
        if not 0.0 <= args.aside <= 0.9:
            raise refusal("aside_range", "bad_input", value=f"{args.aside:g}")
        _check_dir(args.dir)
        word = t("warning", args.lang)

        def warn(line):  # an ExportWarning in the run's language from its code, as a refusal: 'cảnh báo [code]: '
            code = getattr(line, "code", None)
            if args.lang == "en" or not code:  # English: its own line, word for word as before
                print(f"leafscout corrections: {word}: {line}", file=sys.stderr)
                return
            text = t(f"cw_{code}", args.lang, **line.fields) if has(f"cw_{code}") else str(line)
            print(f"leafscout corrections: {word} [{code}]: {text}", file=sys.stderr)
        meta = export(log, args.dir, confirmed=args.confirmed, licence=licence.strip(), warn=warn, aside=args.aside)
        labels = ", ".join(f"{k} {v}" for k, v in meta["labels"].items()) or t("cw_none", args.lang)
        kept = sum(meta["aside_labels"].values())
        print(t("cw_wrote", args.lang, n=meta["photos"], dir=args.dir, labels=labels)
              + (t("cw_aside", args.lang, kept=kept, dir=args.dir) if args.aside else ""))
        return 0

    run.reads_log_only = True  # it only reads the log: a log on a USB stick or a read-only share is read there
    return _with_log(run)(args)

"""`leafscout diagnose | info | evaluate`.

Registering imports only argparse; onnxruntime, OpenCV and the model load when a command runs, so
`leafscout --help` stays instant on a cheap phone.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
from collections import Counter
from pathlib import Path

# a result line stays one line: a control character or text-direction mark in a file name is shown escaped
# (the batch list's function), never breaking the line or faking another photo's line
from leafscout.safety import one_line, shown_db  # noqa: F401  (cli_group imports one_line from here)
from leafscout.i18n import os_reason, refusal  # the refusals in every language (leafscout.i18n imports nothing heavy)

RETAKE = "retake a closer, sharp photo of one leaf in daylight"
# what --heatmaps writes (`_unique`): a folder search leaves them out, so --heatmaps photos/heat and a rerun on
# photos/ does not diagnose the overlays as leaves (a file named on the command line is still read)
HEATMAP_NAME = re.compile(r"\.heatmap(-\d+)?\.png$", re.IGNORECASE)


ADVICE_DEFAULT_LANG = "default"  # `--advise` given without a language: --lang's, else Vietnamese


def resolve_languages(args) -> None:
    """One reading language for the run: sets `args.lang` (result lines) and `args.advise` (the advice's
    language, or None without --advise). `--lang vi` alone gives Vietnamese lines without advice, as
    `leafscout advise --lang vi` does for one label; `--advise` alone keeps its old meaning (Vietnamese)."""
    if args.advise not in (None, ADVICE_DEFAULT_LANG, "en", "vi"):
        raise refusal("bad_advise_lang", value=args.advise)
    if args.advise == ADVICE_DEFAULT_LANG:
        args.advise = args.lang or "vi"
    if args.lang and args.advise and args.lang != args.advise:
        raise refusal("two_langs", given=args.lang, advise=args.advise)
    args.lang = args.lang or args.advise or "en"


def register(sub) -> None:
    d = sub.add_parser("diagnose", help="name the disease or pest on leaf photos",
                       description="Diagnose crop-leaf photos (files or folders, searched recursively).")
    d.add_argument("paths", nargs="+", metavar="PATH", help="photo files or folders")
    d.add_argument("--json", action="store_true", help="one JSON object per photo per line on stdout")
    d.add_argument("--csv", metavar="FILE", help="also write a CSV report to FILE")
    d.add_argument("--group", action="store_true", help="several photos of one plant, one answer: each folder "
                   "is one plant (loose files together are one more); says how many photos agree")
    d.add_argument("--top-k", type=int, default=3, metavar="K", help="how many candidate labels to show (default 3)")
    d.add_argument("--tta", action="store_true", help="average a few crops and a mirror: steadier on field photos, ~4x slower")
    d.add_argument("--heatmaps", metavar="DIR", help="save a heatmap overlay PNG per photo into DIR")
    _model_args(d)
    d.add_argument("--lang", choices=("vi", "en"), default=None,
                   help="language of what a person reads: the result lines and, with --advise, the advice "
                        "(default en; vi with --advise); --json and --csv stay language-free")
    d.add_argument("--advise", nargs="?", const=ADVICE_DEFAULT_LANG, metavar="LANG",
                   help="print organic treatment advice (language en|vi; default --lang, else vi)")
    d.add_argument("--log", metavar="PLOT", help="record each diagnosis in the field log for plot PLOT (without "
                   "--confirmed-by they are kept UNCONFIRMED: the season audit counts them once confirmed with "
                   "`leafscout log confirm ID --by NAME`)")
    d.add_argument("--confirmed-by", metavar="NAME", help="with --log: the person who looked at the photos and "
                   "confirms the diagnoses (recorded as confirmed by NAME)")
    d.add_argument("--db", metavar="PATH_OR_URL", help="field log database (default $LEAFSCOUT_DB or the user's log)")
    d.add_argument("--organic-status", choices=("certified", "in_conversion", "conventional"),
                   help="with --advise: the farm's organic status (default: the plot's, else certified)")
    d.add_argument("--days-to-harvest", type=int, metavar="N", help="with --advise: drop treatments whose "
                   "pre-harvest interval is longer")
    d.add_argument("--copper-used", type=float, metavar="KG", help="with --advise: kg Cu/ha applied this year "
                   "(default: from the field log with --log)")
    d.add_argument("--copper-used-7y", type=float, metavar="KG", help="with --advise: kg Cu/ha applied over the "
                   "last 7 years (default: from the field log with --log; never lower than the ledger's total)")
    d.add_argument("--crop", metavar="CROP", help="the crop in the photos (e.g. coffee): the model then only "
                   "names that crop's problems and says when a photo looks like another crop")
    d.set_defaults(func=cmd_diagnose)

    i = sub.add_parser("info", help="show the model, its version, labels and thresholds")
    _model_args(i)
    i.add_argument("--json", action="store_true", help="print as JSON")
    i.set_defaults(func=cmd_info)

    e = sub.add_parser("evaluate", help="accuracy, macro-F1 and per-class precision/recall on a labelled folder",
                       description="Evaluate on DATASET_DIR laid out as <dataset>/<split>/<class>/, "
                                   "<dataset>/<class>/, or a folder of such datasets; class folders are "
                                   "mapped through datasets/labels.yaml (or already named crop.condition).")
    e.add_argument("dataset_dir", metavar="DATASET_DIR")
    e.add_argument("--split", default="val", help="split folder to use when present (default val)")
    e.add_argument("--dataset", help="dataset name in labels.yaml when the folder name is not it")
    e.add_argument("--limit", type=int, metavar="N", help="at most N photos per class (quick check)")
    e.add_argument("--tta", action="store_true", help="evaluate with test-time augmentation")
    e.add_argument("--json", action="store_true", help="print the report as JSON")
    _model_args(e)
    e.set_defaults(func=cmd_evaluate)


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", metavar="PATH", help="ONNX model (default: the shipped model/leafscout.onnx or $LEAFSCOUT_MODEL)")
    p.add_argument("--threads", type=int, metavar="N", help="CPU threads for inference (default: all cores)")


def refusal_text(exc, svc, args, lang: str) -> str:
    """A ServiceError the person reads in the run's language, from its code (never from its English words):
    the crop or plot named, with the names to choose from; which value of the command is out of range; why the
    field log refused a record. English: the service's own message."""
    from leafscout.i18n import crop_name, has, t
    if lang == "en":
        return str(exc)
    if exc.code == "unknown_crop":
        known = ", ".join(f"{crop_name(svc.advisor, c, lang)} ({c})" for c in svc.crops)
        return t("refuse_crop", lang, crop=getattr(args, "crop", None), known=known)
    if exc.code == "unknown_plot":
        plot = getattr(args, "log", None) or getattr(args, "plot", None)
        try:
            names = [p.name for p in svc.log.plots()]
        except Exception:
            names = None
        if names is None:
            return t("err_unknown_plot", lang)
        from leafscout.fieldlog.errors import nearest_name
        near = nearest_name(str(plot), names) if names else None
        return t("refuse_plot", lang, plot=plot, known=", ".join(names) or t("none_yet", lang),
                 hint=t("did_you_mean", lang, name=near) if near else "")
    if exc.code == "bad_input":
        return _bad_input_text(exc, svc, args, lang)
    if exc.code == "log_error":
        key = f"log_{exc.log_code}" if exc.log_code and has(f"log_{exc.log_code}") else "log_other"
        return t(key, lang, db=shown_db(getattr(args, "db", None) or "$LEAFSCOUT_DB"))
    return t(f"err_{exc.code}" if has(f"err_{exc.code}") else "err_other", lang)




# the service's name for a value it refused (ServiceError.field) -> the option that gave it
_OPTION_OF_FIELD = {"days_to_harvest": ("--days-to-harvest", "days_to_harvest"),
                    "copper_year": ("--copper-used", "copper_used"),
                    "copper_7y": ("--copper-used-7y", "copper_used_7y")}


def _bad_input_text(exc, svc, args, lang: str) -> str:
    """Which value of the command the service refused as bad_input (`exc.field`, the service's own name for it),
    said in `lang` with the option that gave it; never read from the English."""
    from leafscout.i18n import number, t
    crop = getattr(args, "crop", None)
    if exc.field == "crop" and crop:
        from leafscout.i18n import crop_name
        known = ", ".join(f"{crop_name(svc.advisor, c, lang)} ({c})" for c in svc.crops)
        return t("refuse_crop" if exc.code == "unknown_crop" else "bad_crop_input", lang, crop=crop, known=known)
    flag, dest = _OPTION_OF_FIELD.get(exc.field, (None, None))
    value = getattr(args, dest, None) if dest else None
    if value is None:
        return t("err_bad_input", lang)
    if exc.field == "days_to_harvest":
        return t("bad_days", lang, value=value)
    return t("bad_copper", lang, flag=flag, value=number(value, lang))


def service_refusal(exc, svc, args, flag: str = ""):
    """A ServiceError as the UsageError `leafscout.cli.main` prints: the service's English for an English run, the
    refusal in each other language (refusal_text), and the error code (the field log's own, for log_error) that a
    translated refusal shows. `flag`: what the refusal is about ('--log Đồi A: '), in every language."""
    from leafscout.errors import UsageError
    from leafscout.i18n import LANGS
    texts = {lang: flag + refusal_text(exc, svc, args, lang) for lang in LANGS}
    return UsageError(texts["en"], code=exc.log_code or exc.code, texts=texts)


def check_log_exists(db) -> None:
    """A field log file that --db / $LEAFSCOUT_DB names but that is not there (a typo, another cooperative's
    folder) is refused before the service opens it: opening would create a new, empty log there and answer 'no
    plot named ...' from it. The same rule as `leafscout log` (cli_log._missing_log); a server URL is not checked."""
    from leafscout.cli_log import _missing_log
    missing = _missing_log(db)
    if missing is not None:
        raise refusal("no_log", code="log_error", path=missing)


def _usage_error(msg: str):
    from leafscout.errors import UsageError
    return UsageError(msg)


def _model_refusal(exc, path):
    """A model file that cannot be used (--model, $LEAFSCOUT_MODEL): the runtime's English, or in each language
    'no model file there' / 'not a LeafScout model it can use' with the runtime's reason."""
    from leafscout.model.runtime import default_model_path
    target = Path(path or default_model_path())
    return refusal("bad_model" if target.is_file() else "no_model", path=target, detail=str(exc))


def load_predictor(args):
    from leafscout.model.runtime import ModelError, Predictor
    if args.threads is not None and args.threads < 1:
        raise refusal("at_least_one", flag="--threads", value=args.threads)
    try:
        return Predictor(args.model, threads=args.threads)
    except ModelError as exc:
        raise _model_refusal(exc, args.model) from None


def collect_photos(paths: list[str], lang: str = "en", prog: str = "leafscout diagnose",
                   quiet: bool = False) -> list[Path]:
    """Files as given (the image gate judges them), folders searched recursively for image files;
    hidden files (e.g. macOS `._IMG.jpg`) are skipped. Missing paths stay in so they are reported, and so do
    photo-named entries of a folder that are no regular file (a FIFO, a broken link): listed as unreadable, never
    silently left out of the count. A file reached twice (named twice, or a folder and its sub-folder given) is
    one photo: counted, and logged with --log, once. `quiet`: no warning for an empty folder (said already)."""
    from leafscout.i18n import t
    from leafscout.model.imageio import IMAGE_SUFFIXES
    out: list[Path] = []
    seen: set[str] = set()

    def add(f: Path) -> None:
        key = os.path.abspath(f)
        if key not in seen:
            seen.add(key)
            out.append(f)

    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if not f.is_dir() and f.suffix.lower() in IMAGE_SUFFIXES
                           and not any(part.startswith(".") for part in f.relative_to(p).parts)
                           and not HEATMAP_NAME.search(f.name))
            if not found and not quiet:
                print(f"{prog}: {t('warning', lang)}: "
                      f"{t('no_photos_in', lang, folder=p, suffixes=', '.join(IMAGE_SUFFIXES))}", file=sys.stderr)
            for f in found:
                add(f)
        else:
            add(p)
    return out


# ---------------------------------------------------------------------- diagnose

def _readable(r, lang: str = "en", advisor=None, threshold=None, error_code=None) -> str:
    """The result line a person reads. English: the model's own summary. Another language: the same facts
    in that language, with the knowledge base's names instead of raw labels (`leafscout.i18n`)."""
    if lang == "en" or advisor is None:
        if r.status == "uncertain" and not _crop_doubt(r):
            return f"{r.path}: {r.summary()}; {RETAKE}"
        return f"{r.path}: {plain_summary(r)}"
    return f"{r.path}: {result_text(r, lang, advisor, threshold, error_code)}"


def check_first(r) -> bool:
    """An `ok` answer below service.CHECK_FIRST_BELOW: more likely wrong than right, so its line (and its advice)
    says to check the signs before spraying."""
    from leafscout.service import CHECK_FIRST_BELOW
    return r.status == "ok" and r.confidence is not None and r.confidence < CHECK_FIRST_BELOW


def plain_summary(r) -> str:
    """`Result.summary()` (English, raw labels), with the check-first note on a doubtful `ok` answer."""
    from leafscout.i18n import t
    return f"{r.summary()}; {t('check_first', 'en')}" if check_first(r) else r.summary()


def leaves_line(leaves: list[dict], lang: str, advisor) -> str:
    """'leaves looked at (...): L1 Late blight (Tomato) 91%, L2 ...': what each leaf found in a field photo
    showed on its own (numbered as the app draws them)."""
    from leafscout.i18n import pct, problem_name, t
    parts = [f"L{i} {problem_name(advisor, lf['label'], lang) if advisor is not None else lf['label']}"
             + (f" {pct(lf['confidence'], lang)}" if lf.get("confidence") is not None else "")
             for i, lf in enumerate(leaves, 1)]
    return f"{t('leaves_seen', lang)}: " + ", ".join(parts)


def result_text(r, lang: str, advisor, threshold=None, error_code=None) -> str:
    """`Result.summary()` in `lang`: status, named problem with a whole percentage, the runners-up, and why a
    result is uncertain (from the result's own numbers, never by translating its English reason)."""
    from leafscout.i18n import has, pct, problem_name, t
    from leafscout.model.results import NO_LEAF_SEEN
    if r.status == "error":
        key = f"err_{error_code}" if error_code and has(f"err_{error_code}") else "err_other"
        return f"{t('error', lang)}: {t(key, lang)}"
    if r.status == "not_a_leaf":
        return f"{t('not_a_leaf', lang)}: {t('why_no_leaf', lang)}"
    if getattr(r, "reason_code", "") == NO_LEAF_SEEN:  # no guess: the nearest label holds almost nothing
        return f"{t('uncertain', lang)}: {t('why_no_leaf_seen', lang)}; {t('retake', lang)}"
    others = ", ".join(f"{problem_name(advisor, lab, lang)} {pct(p, lang)}" for lab, p in r.top_k[1:])
    unnamed = getattr(r, "reason_code", "") == "unnamed_problem"  # "rice, not a disease it knows": no 100% to trust
    text = problem_name(advisor, r.label, lang) + ("" if unnamed else f" {pct(r.confidence, lang)}")
    if others:
        text += f" ({t('then', lang, others=others)})"
    if r.status == "ok":
        return f"{text}; {t('check_first', lang)}" if check_first(r) else text  # more likely wrong than right
    # the crop is the doubt, or the leaf is known and its problem is not: a new photo would change nothing
    retake = "" if _crop_doubt(r) or unnamed else f"; {t('retake', lang)}"
    return f"{t('uncertain', lang)}: {text}; {_why_uncertain(r, lang, advisor, threshold)}{retake}"


def _crop_doubt(r) -> bool:
    """Uncertain because of the crop, not the photo (named crop not shown, plot crop not learned): a retake
    would change nothing."""
    from leafscout.model.results import CROP_MISMATCH, CROP_NOT_LEARNED
    return getattr(r, "reason_code", "") in (CROP_MISMATCH, CROP_NOT_LEARNED)


def _why_uncertain(r, lang: str, advisor, threshold) -> str:
    from leafscout.i18n import crop_name, pct, t
    from leafscout.model.results import CROP_MISMATCH
    code = getattr(r, "reason_code", "") or ""
    crop, _, problem = (r.label or "").partition(".")
    if code == "unfamiliar":  # the runtime's "plant it does not know" case
        return t("why_unfamiliar", lang)
    if code == CROP_MISMATCH:  # the crop named does not fit the photo: no retake, check the crop
        return t("why_crop_mismatch", lang)
    if problem == "other":
        return t("why_unnamed", lang, crop=crop_name(advisor, crop, lang))
    if threshold is not None and r.confidence is not None and r.confidence < threshold:
        return t("why_low", lang, p=pct(r.confidence, lang), th=pct(threshold, lang))
    return t("why_unsure", lang)


def _crop_note(d, lang: str, advisor) -> str | None:
    """The runtime's "this photo looks like another crop" note in `lang` (English: as the runtime wrote it), or the
    service's "the plot grows a crop the model cannot name" note, with the plot's own crop text."""
    if not d.crop_note:
        return None
    from leafscout.i18n import crop_name, pct, problem_name, t
    from leafscout.model.results import CROP_NOT_LEARNED
    if d.reason_code == CROP_NOT_LEARNED:
        label = problem_name(advisor, d.label, lang) if advisor is not None else d.label
        return t("crop_not_learned", lang, crop=d.info.plot_crop, label=label)
    if lang == "en" or advisor is None:
        return d.crop_note

    def crop(c):  # mid-sentence: "giống cà phê hơn là cà chua"
        name = crop_name(advisor, c, lang)
        return name[:1].lower() + name[1:]
    scores = list(getattr(d.result, "crop_scores", None) or [])
    other, p = next(((c, s) for c, s in scores if c != d.crop), (None, None))
    if other is None:
        return t("crop_note", lang, other="?", p="?", crop=crop(d.crop))
    return t("crop_note", lang, other=crop(other), p=pct(p, lang), crop=crop(d.crop))


def pest_line(act: dict, lang: str, advisor) -> str:
    """One insect label's count and what to do, in `lang` (the knowledge base's name, not the label)."""
    from leafscout.i18n import crop_name, t
    text = (act.get("text") or {}).get(lang) or (act.get("text") or {}).get("en") or ""
    if lang == "en" or advisor is None:
        return t("insects", "en", n=act["count"], label=act["label"], text=text)
    if act.get("in_knowledge_base"):
        name = (act.get("name") or {}).get(lang) or act["label"]
        name = name[:1].lower() + name[1:]  # "Rầy nâu" -> "15 con rầy nâu"
    else:
        name = t("unknown_insect", lang, crop=crop_name(advisor, act["label"].split(".", 1)[0], lang))
    return t("insects", lang, n=act["count"], name=name, text=text)


class _CsvReport:
    """The --csv report. `check` runs before any work; the file is opened (and an older report replaced) only once
    the plot and the crop have been accepted, so a refused command leaves an existing file as it was."""

    @staticmethod
    def check(path: str) -> None:
        target = Path(path)
        if target.is_dir():
            raise refusal("csv_is_folder", path=path, example=target / "report.csv")
        if not target.parent.is_dir():
            raise refusal("csv_no_folder", path=path, folder=target.parent)

    def __init__(self, path: str, top_k: int):
        self.check(path)
        try:
            self.file = open(Path(path), "w", newline="", encoding="utf-8")
        except OSError as exc:
            raise refusal("csv_cannot_open", path=path, why=os_reason(exc)) from None
        self.path, self.k, self.rows = path, top_k, 0
        self.writer = csv.writer(self.file)
        self._write(["path", "status", "label", "confidence"]
                    + [c for i in range(1, top_k + 1) for c in (f"label_{i}", f"probability_{i}")]
                    + ["reason", "error", "model_version", "reason_code"])  # appended: old columns keep place

    def _write(self, row: list) -> None:
        try:
            self.writer.writerow(row)
            self.file.flush()  # a report interrupted at photo 900 still holds 899 rows
        except OSError as exc:  # the disk filled up, the USB stick was pulled: one line, not a traceback
            raise refusal("csv_cannot_write", path=self.path, why=os_reason(exc), rows=self.rows) from None

    def add(self, r) -> None:
        tops = [v for lab, p in r.top_k for v in (lab, f"{p:.4f}")] + [""] * 2 * (self.k - len(r.top_k))
        conf = "" if r.confidence is None else f"{r.confidence:.4f}"
        from leafscout.safety import csv_row
        self._write(csv_row([r.path, r.status, r.label or "", conf, *tops, r.reason, r.error or "",
                             r.model_version or "", getattr(r, "reason_code", "") or ""]))
        self.rows += 1

    def close(self) -> None:
        try:
            self.file.close()
        except OSError:  # what could not be written was reported when it was written
            pass


def _service(args):
    """The diagnosis service (model, advisor, field log) for this command; the model loads here."""
    from leafscout.service import DiagnosisService
    from leafscout.model.runtime import ModelError
    if args.threads is not None and args.threads < 1:
        raise refusal("at_least_one", flag="--threads", value=args.threads)
    if getattr(args, "log", None):  # a --db typo must not start an empty log and answer "no plot named ..."
        check_log_exists(args.db)
    svc = DiagnosisService(model_path=args.model, db=args.db, threads=args.threads)
    try:
        svc.predictor
    except ModelError as exc:
        raise _model_refusal(exc, args.model) from None
    try:
        unadvised = svc.advisor.unadvised
    except Exception as exc:  # a knowledge base that does not load: one line, not a traceback
        raise refusal("kb_mismatch", detail=exc) from None
    if unadvised:  # a crop just trained in, before its knowledge-base entries: answers without advice
        from leafscout.i18n import t
        lang = getattr(args, "lang", None) or "en"  # as resolve_languages: English lines unless --lang vi
        print(f"{t('warning', lang)}: {t('unadvised', lang, n=len(unadvised), labels=', '.join(unadvised))}",
              file=sys.stderr)
    return svc


def _confirmed_by(args) -> str | None:
    """--confirmed-by, checked before any photo is read: text the field log can store, and only with --log."""
    name = getattr(args, "confirmed_by", None)
    if name is None:
        return None
    if not args.log:
        raise refusal("confirmed_needs_log")
    from leafscout.fieldlog.errors import FieldLogError
    from leafscout.fieldlog.text import check_text
    try:
        name = check_text(str(name), "--confirmed-by").strip()
    except FieldLogError as exc:
        raise refusal("bad_text", exc.code, flag="--confirmed-by", detail=str(exc).removeprefix("--confirmed-by: ")) from None
    if not name or len(name) > 200:
        raise refusal("confirmed_length", n=len(name))
    from leafscout.cli_officers import checked_reviewer
    # one of the officers, where there is a file; its refusal from the OfficersError's code (the name typed, the
    # officers file, or a name that is not an officer with the nearest one), as `log confirm --by` says it
    return checked_reviewer(name, getattr(args, "db", None), "--confirmed-by")


def _heatmap_dir(path: str) -> Path:
    """--heatmaps DIR, made if missing; a file or an unwritable place is one line before any photo is read."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise refusal("heat_is_file", path=path)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise refusal("heat_cannot_create", path=path, why=os_reason(exc)) from None
    if not os.access(target, os.W_OK):
        raise refusal("heat_not_writable", path=path)
    return target


def _unique(stem: str, ext: str, used: set[str]) -> str:
    """stem + ext, or stem-2 + ext, stem-3 ... when photos from two folders share a name (a/leaf.jpg, b/leaf.png):
    one heatmap never overwrites another."""
    name, i = stem + ext, 1
    while name in used:
        i += 1
        name = f"{stem}-{i}{ext}"
    used.add(name)
    return name


def cmd_diagnose(args) -> int:
    from leafscout.errors import ServiceError
    if args.top_k < 1:
        raise refusal("at_least_one", flag="--top-k", value=args.top_k)
    resolve_languages(args)
    from leafscout.i18n import t
    lang = args.lang  # what a person reads; --json/--csv stay language-free
    confirmed_by = _confirmed_by(args)
    if args.group and (args.log or args.csv or args.heatmaps or args.tta):
        raise refusal("group_alone")
    photos = collect_photos(args.paths, lang)
    if not photos:
        print(f"leafscout diagnose: {t('error_word', lang)}: {t('no_photos', lang)}", file=sys.stderr)
        return 1
    svc = _service(args)
    # the runners-up are the model's labels: --top-k 1000 gives them all, not 2,000 CSV columns mostly empty
    args.top_k = min(args.top_k, len(svc.predictor.labels))
    if args.group:
        from leafscout.cli_group import groups_of, run_groups
        return run_groups(args, svc, groups_of(args.paths, lambda p: collect_photos(p, lang, quiet=True), lang))
    if args.csv:
        _CsvReport.check(args.csv)
    heat_dir = _heatmap_dir(args.heatmaps) if args.heatmaps else None
    report = None
    try:  # the plot (organic status, 7-year copper ledger) is checked before the first photo
        results = svc.diagnose_many(photos, crop=args.crop, plot=args.log, organic_status=args.organic_status,
                                    days_to_harvest=args.days_to_harvest, copper_year=args.copper_used,
                                    copper_7y=args.copper_used_7y, top_k=args.top_k, tta=args.tta,
                                    heatmap=heat_dir is not None)
        first = next(results, None)
        if first is not None and args.log and not args.crop:  # say once that the plot's crop steers every answer
            planted, source, _ = svc.crop_for(None, first.info)
            if source == "plot":
                from leafscout.i18n import crop_name
                print(f"leafscout diagnose: {t('crop_from_plot', lang, plot=repr(args.log), crop=crop_name(svc.advisor, planted, lang))}",
                      file=sys.stderr)
    except ServiceError as exc:
        flag = f"--log {args.log}: " if exc.code == "unknown_plot" else ""
        raise service_refusal(exc, svc, args, flag) from None
    report = _CsvReport(args.csv, args.top_k) if args.csv else None
    heat_names: set[str] = set()

    def all_results():
        if first is not None:
            yield first
            yield from results

    from tqdm import tqdm
    bar = tqdm(total=len(photos), file=sys.stderr, unit=t("progress_unit", lang),
               disable=True if len(photos) < 10 else None, dynamic_ncols=True)
    advisor = svc.advisor if lang != "en" else None
    threshold = getattr(svc.predictor, "uncertain_below", None)
    out = (lambda line: tqdm.write(line, file=sys.stdout)) if not bar.disable else print
    counts: Counter = Counter()
    logged: list = []
    linked: list = []
    # a photo the plot's log already holds (a rerun on the same folder) is linked to its record, not logged
    # again: the same rule as `batch --log`, so the season's counts never double
    known = ({o.photo_sha256: o.id for o in svc.log.history(args.log).observations if o.photo_sha256}
             if args.log else {})
    from leafscout.batch import sha256_of
    interrupted = False
    try:
        for d in all_results():
            r = d.result
            counts[r.status] += 1
            text = None
            if args.advise and d.advice is not None:
                text = d.advice.render(args.advise, "text", rules=svc.advisor.rules)
            if args.log and r.status in ("ok", "uncertain") and r.path:
                sha = sha256_of(r.path)
                if sha and sha in known:
                    d.observation_id = known[sha]
                    linked.append(known[sha])
                    sha = None  # nothing to record
            if args.log and r.status in ("ok", "uncertain") and r.path and d.observation_id is None:
                try:
                    svc.record(d, args.log, confirmed_by=confirmed_by)
                    logged.append(d.observation_id)
                    if sha:
                        known[sha] = d.observation_id
                except ServiceError as exc:
                    why = f" ({exc.log_code})" if exc.log_code else ""
                    msg = refusal_text(exc, svc, args, lang)  # the field log's reason in the run's language
                    print(f"leafscout diagnose: {t('warning', lang)}: "
                          f"{t('not_logged', lang, path=one_line(r.path), why=why, msg=msg)}", file=sys.stderr)
            if heat_dir and r.status != "error":
                import cv2
                name = heat_dir / _unique(Path(r.path).stem + ".heatmap", ".png", heat_names)
                try:
                    written = cv2.imwrite(str(name), cv2.cvtColor(r.heatmap_overlay(), cv2.COLOR_RGB2BGR))
                except cv2.error:
                    written = False
                if not written:  # OpenCV says only False: a full disk, or a folder of that name in the way
                    raise refusal("heat_cannot_write", path=args.heatmaps, name=one_line(name.name))
            if args.json:
                js = r.to_dict()
                js.update({k: v for k, v in (("error_code", d.error_code), ("crop", d.crop), ("crop_from", d.crop_from),
                                             ("crop_note", d.crop_note)) if v is not None})
                if args.log:
                    js["context"] = d.info.to_dict()
                    js["observation_id"] = d.observation_id
                    fresh = d.observation_id is not None and d.observation_id not in linked
                    js["confirmed_by"] = confirmed_by if fresh else None
                    js["already_logged"] = d.observation_id is not None and not fresh
                if text is not None:
                    js["advice"] = text
                    js["copper"] = d.copper_decision()
                js.update(d.pests_dict())  # insects found, counts and act-or-not (when a pest detector is installed)
                if args.advise and d.pest_advice:
                    js["pest_advice"] = {lab: a.render(args.advise, "text", rules=svc.advisor.rules)
                                         for lab, a in d.pest_advice.items()}
                out(json.dumps(js, ensure_ascii=False))
            else:
                note = _crop_note(d, lang, advisor)
                line = _readable(r, lang, advisor, threshold, d.error_code)
                out(one_line(line + (f" [{note}]" if note and not line.endswith(note) else "")))
                if getattr(r, "leaves", None):
                    out("    " + leaves_line(r.leaves, lang, advisor))
                if text:
                    out("    " + text.replace("\n", "\n    "))
                for act in d.pest_actions or []:
                    out("    " + pest_line(act, lang, advisor))
                    if args.advise and act["label"] in d.pest_advice:
                        adv = d.pest_advice[act["label"]].render(args.advise, "text", rules=svc.advisor.rules)
                        out("        " + adv.replace("\n", "\n        "))
            if report:
                report.add(r)
            bar.update(1)
    except KeyboardInterrupt:  # Ctrl-C: still say what was logged (the ids to confirm) and what was done
        interrupted = True
    finally:
        bar.close()
        if report:
            report.close()
    n_read = len(photos) - counts["error"]
    if linked:
        ids = ", ".join(str(i) for i in linked[:20]) + (", ..." if len(linked) > 20 else "")
        print(f"leafscout diagnose: {t('already_logged', lang, n=len(linked), plot=repr(args.log), ids=ids)}",
              file=sys.stderr)
    if logged and not confirmed_by:
        ids = ", ".join(str(i) for i in logged[:20]) + (", ..." if len(logged) > 20 else "")
        print(f"leafscout diagnose: {t('unconfirmed', lang, n=len(logged), plot=repr(args.log), ids=ids)}",
              file=sys.stderr)
    done = sum(counts.values())
    print(t("summary", lang, n=done if interrupted else len(photos), ok=counts["ok"], uncertain=counts["uncertain"],
            not_a_leaf=counts["not_a_leaf"], error=counts["error"], version=svc.predictor.version), file=sys.stderr)
    if interrupted:
        line = t("interrupted", lang, done=done, n=len(photos))
        if args.csv:
            line += t("interrupted_csv", lang, csv=args.csv)
        if args.log:
            line += t("interrupted_log", lang)
        print(f"leafscout diagnose: {line}", file=sys.stderr)
        return 130
    return 0 if n_read else 1


# ---------------------------------------------------------------------- info

def _pests_info() -> dict | None:
    """The insect-pest detector's metadata ($LEAFSCOUT_PESTS_MODEL or model/pests.onnx), None when absent."""
    from leafscout.model.detect import Detector, DetectorError, default_pests_path
    if not default_pests_path().is_file():
        return None
    try:
        return Detector(default_pests_path(), threads=1).info()
    except DetectorError as exc:
        return {"error": str(exc)}


def cmd_info(args) -> int:
    info = load_predictor(args).info()
    pests = _pests_info()
    if args.json:
        print(json.dumps(dict(info, pests=pests), indent=2))
        return 0
    th = info["thresholds"]
    print(f"model      {info['model_name']} {info['version']}  ({info['path']})")
    if info.get("note"):
        print(f"note       {info['note']}")
    print(f"input      {info['input_size']}x{info['input_size']} RGB, {info['preprocess']['policy']} "
          f"(resize {info['preprocess']['resize_size']})")
    print(f"calibrated temperature {info['temperature']:.3f}")
    print(f"thresholds uncertain below confidence {th['uncertain_below']:.3f}; "
          f"not a leaf above energy {th['ood_energy_above']:.3f} or when {info['background_label']} wins")
    print(f"labels     {info['num_classes']}:")
    for lab in info["labels"]:
        print(f"  {lab}")
    if pests and "error" not in pests:
        print(f"pests      detector {pests['version']} ({pests['path']}): input {pests['input_size']} px, score "
              f"threshold {pests['score_threshold']:.2f}, NMS IoU {pests['nms_iou']:.2f}; labels "
              f"{', '.join(pests['labels'])}")
    elif pests:
        print(f"pests      not loaded: {pests['error']}")
    return 0


# ---------------------------------------------------------------------- evaluate

def cmd_evaluate(args) -> int:
    from leafscout.model.evaluate import EvaluationError, evaluate_folder, format_report
    predictor = load_predictor(args)
    try:
        report = evaluate_folder(predictor, args.dataset_dir, split=args.split, dataset=args.dataset,
                                 limit=args.limit, tta=args.tta, progress=True)
    except EvaluationError as exc:
        raise _usage_error(str(exc)) from None
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0 if report["overall"]["n"] else 1

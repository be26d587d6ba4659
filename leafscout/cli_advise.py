"""`leafscout advise`: print organic advice for a label. Imports the advisor only when run."""
from __future__ import annotations

import argparse
import json


def register(subparsers) -> None:
    p = subparsers.add_parser("advise", help="organic treatment advice for a label (e.g. tomato.late_blight)",
                              description="Print cited organic advice for a canonical label, in Vietnamese or English.")
    p.add_argument("label", nargs="?", help="canonical label crop.condition, e.g. tomato.late_blight")
    p.add_argument("--lang", choices=("vi", "en"), default="vi",
                   help="language of the advice and of every refusal (default vi)")
    p.add_argument("--format", dest="fmt", choices=("text", "markdown", "json"), default="text",
                   help="text (default), markdown, or json (language-free, for programs)")
    p.add_argument("--status", choices=("ok", "uncertain", "not_a_leaf"), default="ok",
                   help="what the diagnosis said about the photo")
    p.add_argument("--organic-status", choices=("certified", "in_conversion", "conventional"),
                   help="default: the plot's with --plot, else certified")
    p.add_argument("--days-to-harvest", type=int, metavar="N", help="days until harvest (0 to 10000): treatments "
                   "whose pre-harvest interval is longer are not recommended now")
    p.add_argument("--copper-used", type=float, metavar="KG", help="kg Cu/ha applied this year")
    p.add_argument("--copper-used-7y", type=float, metavar="KG",
                   help="kg Cu/ha applied over the last 7 years (default: this year's figure)")
    p.add_argument("--rainy", dest="rainy_season", action="store_const", const=True, help="rainy season / wet weather")
    p.add_argument("--dry", dest="rainy_season", action="store_const", const=False, help="dry weather")
    p.add_argument("--hot", dest="hot_weather", action="store_const", const=True, help="hot weather (above ~32°C)")
    p.add_argument("--cool", dest="hot_weather", action="store_const", const=False, help="cool weather")
    p.add_argument("--severity", choices=("low", "medium", "high"))
    p.add_argument("--list", action="store_true", help="list problems (optionally --crop) instead of advising")
    p.add_argument("--crop", help="with --list: only this crop; with a LABEL: the label must be this crop's")
    p.add_argument("--check-substance", metavar="NAME", help="say whether a substance is allowed in organic farming")
    p.add_argument("--kb", metavar="DIR", help="knowledge base folder (default: the shipped advisor/kb)")
    p.add_argument("--plot", metavar="PLOT", help="take the organic status and the 7-year copper ledger from this "
                   "plot in the field log (flags given explicitly still win)")
    p.add_argument("--db", metavar="PATH_OR_URL", help="with --plot: field log database (default $LEAFSCOUT_DB)")
    p.set_defaults(func=run)


def _crop_id(text: str | None, adv) -> str | None:
    """--crop as typed ("lúa", "Cà phê", "maize") -> the knowledge base's crop id; unchanged when it names none,
    so the advisor's own error (with its nearest name) answers a typo."""
    if not text or text in adv.kb.crops:
        return text
    from leafscout.plot_crop import crop_phrases, resolve_crop
    return resolve_crop(text, crop_phrases(dict(adv.kb.crops), {})) or text


def run(args: argparse.Namespace) -> int:
    from leafscout.errors import ServiceError
    from leafscout.i18n import refusal
    from leafscout.service import default_advisor

    from leafscout.advisor import AdvisorError, KnowledgeBaseError

    try:
        adv = default_advisor(kb_dir=args.kb)
    except KnowledgeBaseError as exc:  # an agronomist's own --kb folder: the header translated, the list as found
        raise refusal("bad_kb", path=args.kb or "advisor/kb", detail=str(exc),
                      problems="\n  - " + "\n  - ".join(exc.problems)) from None
    if args.check_substance is not None:
        if not any(c.isalnum() for c in args.check_substance):
            # "'': '' is not in the knowledge base", "'+' is not ...": nothing was asked (only marks or spaces)
            raise refusal("empty_substance")
        from leafscout.safety import one_line
        res = adv.check_substance(args.check_substance)
        # the typed name (in the query and quoted in an unknown's reason) on its one line: a pasted line break or a
        # right-to-left override cannot print a second line that reads as another verdict
        print(json.dumps(res.to_dict(), ensure_ascii=False, indent=2) if args.fmt == "json"
              else one_line(f"{res.query}: {res.reason[args.lang]}")
              + "".join(f"\n  - {one_line(x)}" for x in adv.substance_conditions(res, args.lang)))
        return 0 if res.allowed else 1
    if args.list and args.label:  # "advise --list coffee": the label would be silently left out
        raise refusal("list_takes_no_label", label=repr(args.label))
    if args.list:
        crop = _crop_id(args.crop, adv)
        try:
            rows = adv.problems(crop=crop)
        except AdvisorError as exc:
            raise _kb_crop_refusal(exc, crop, adv) from None
        if args.fmt == "json":
            print(json.dumps(rows, ensure_ascii=False, indent=2))
        else:
            for r in rows:
                mark = "" if r["detectable_by_model"] else " *"
                print(f"{r['id']:40} {r['names'][args.lang]}{mark}")
            print("* = " + ("chưa nhận diện được qua ảnh; chọn từ danh sách" if args.lang == "vi"
                            else "not detected from photos yet; pick it from this list"))
        return 0
    if not args.label:
        raise refusal("give_label")
    label = args.label.strip().lower()  # ids are lower case
    crop = _crop_id(args.crop, adv)
    if crop and crop not in adv.kb.crops:
        try:
            adv.problems(crop=crop)
        except AdvisorError as exc:
            raise _kb_crop_refusal(exc, crop, adv) from None
    if crop and crop != label.split(".", 1)[0]:  # advice for another crop than the one the officer stands in
        raise refusal("two_crops", crop=args.crop, label=label, quoted=repr(args.crop))
    svc = _service(args, adv)
    try:
        ctx, _ = svc.context(plot=args.plot, organic_status=args.organic_status,
                             days_to_harvest=args.days_to_harvest, copper_year=args.copper_used,
                             copper_7y=args.copper_used_7y, rainy_season=args.rainy_season,
                             hot_weather=args.hot_weather, severity=args.severity)
    except ServiceError as exc:
        from leafscout.cli_diagnose import service_refusal
        raise service_refusal(exc, svc, args) from None
    try:
        advice = adv.advise(label, ctx, status=args.status)
    except AdvisorError as exc:
        raise _label_refusal(exc, label, adv) from None
    if args.fmt == "json":
        print(json.dumps(advice.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(advice.render(lang=args.lang, fmt=args.fmt, rules=adv.rules), end="")
    return 0


def _near(word: str, choices) -> str | None:
    """The nearest choice, as the advisor's own 'did you mean' finds it (advisor/errors.did_you_mean)."""
    import difflib
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.5)
    return close[0] if close else None


def _kb_crop_refusal(exc, crop: str, adv):
    """A --crop the knowledge base has no entry for: the advisor's English, or the crops it has in each language."""
    from leafscout.i18n import LANGS, crop_name, t
    from leafscout.errors import UsageError
    from leafscout.advisor import UnknownLabelError
    if not isinstance(exc, UnknownLabelError):
        return UsageError(str(exc), code="bad_input",
                          texts={lang: t("err_bad_input", lang) for lang in LANGS if lang != "en"})
    crops = [c for c in adv.kb.crops if c != "background"]
    near = _near(crop, adv.kb.crops)
    texts = {lang: t("refuse_kb_crop", lang, crop=crop, known=", ".join(f"{crop_name(adv, c, lang)} ({c})"
                                                                         for c in crops),
                     hint=t("near_name", lang, name=near) if near else "")
             for lang in LANGS if lang != "en"}
    return UsageError(str(exc), code="unknown_crop", texts=texts)


def _label_refusal(exc, label: str, adv):
    """A LABEL the knowledge base does not hold: the advisor's English, or in each language with the nearest
    label and its name in that language ('tomato.late_blight': Bệnh mốc sương (Cà chua))."""
    from leafscout.i18n import LANGS, problem_name, t
    from leafscout.errors import UsageError
    from leafscout.advisor import UnknownLabelError
    if not isinstance(exc, UnknownLabelError):
        return UsageError(str(exc), code="bad_input",
                          texts={lang: t("err_bad_input", lang) for lang in LANGS if lang != "en"})
    near = _near(label, adv.kb.problems)
    texts = {lang: t("refuse_label", lang, label=label,
                     hint=t("near_label", lang, label=near, name=problem_name(adv, near, lang)) if near else "")
             for lang in LANGS if lang != "en"}
    return UsageError(str(exc), code="unknown_label", texts=texts)


def _service(args, adv):
    """The diagnosis service that works out the advisor Context (the same rules the app and `diagnose` use),
    with the advisor already loaded for this command (maybe a custom --kb). With --plot, a field log that is not
    there is refused, creating nothing (a typo in --db must not start an empty log)."""
    from leafscout.service import DiagnosisService

    if args.plot not in (None, ""):
        from leafscout.cli_diagnose import check_log_exists
        check_log_exists(args.db)
    svc = DiagnosisService(db=args.db)
    svc._advisor = adv
    return svc


"""`leafscout diagnose --group`: several photos of one plant or plot, one answer.

Each folder given is one group (one plant: its sub-folders included); the photo files given on their own
form one more group together. The answer per group is `DiagnosisService.diagnose_group`'s: every leaf
photo's evidence counts, and the line says how many photos agree."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def groups_of(paths: list[str], collect, lang: str = "en") -> list[tuple[str, list[Path]]]:
    """[(group name, photos)] in the order given: a folder per group, loose files together. A folder given twice
    is one group (the same plant is not two plants); a file given twice stays, and is answered as a repeat."""
    import os
    groups, loose, seen = [], [], set()
    for raw in paths:
        p = Path(raw)
        if p.is_dir() and os.path.abspath(p) in seen:
            continue
        seen.add(os.path.abspath(p))
        if p.is_dir():
            photos = collect([raw])
            if photos:
                groups.append((p.name or str(p), photos))
        else:
            loose.append(p)
    if loose:
        from leafscout.i18n import t
        groups.append((t("group_loose", lang), loose))
    return groups


def run_groups(args, svc, groups: list[tuple[str, list[Path]]]) -> int:
    """Print one answer per group (text, or one JSON object per group with `--json`); exit 0 if any photo was read."""
    from leafscout.cli_diagnose import one_line, plain_summary, result_text, service_refusal
    from leafscout.errors import ServiceError
    from leafscout.i18n import t
    lang = args.lang  # set by cli_diagnose.resolve_languages
    advisor = svc.advisor if lang != "en" else None
    threshold = getattr(svc.predictor, "uncertain_below", None)

    def line(x, code=None) -> str:
        if advisor is None:
            return plain_summary(x) if x.status != "error" else f"error: {x.error}"
        if x.status == "not_a_leaf" and x.group is not None:  # the group's own "no leaf" reason
            return f"{t('not_a_leaf', lang)}: {t('group_none', lang)}"
        if x.status == "error" and x.group is not None:
            return f"{t('error', lang)}: {t('group_unread', lang)}"
        return result_text(x, lang, advisor, threshold, code)

    read_any = False
    for name, photos in groups:
        try:
            d, each = svc.diagnose_group(photos, crop=args.crop, organic_status=args.organic_status,
                                         days_to_harvest=args.days_to_harvest, copper_year=args.copper_used,
                                         copper_7y=args.copper_used_7y, top_k=args.top_k)
        except ServiceError as exc:
            raise service_refusal(exc, svc, args) from None  # in the run's language, with its code
        r, g = d.result, d.result.group
        read_any = read_any or any(x.status != "error" for x in each)
        text = d.advice.render(args.advise, "text", rules=svc.advisor.rules) if args.advise and d.advice else None
        if args.json:
            js = r.to_dict()
            js.update(group_name=name, error_code=d.error_code,
                      photos=[{"file": str(x.photo or x.display_name), "status": x.status, "label": x.label,
                               "confidence": None if x.confidence is None else round(float(x.confidence), 4),
                               "error_code": x.error_code, "reason_code": x.reason_code,
                               "duplicate_of": x.duplicate_of, **x.pests_dict()}
                              for x in each])
            if text is not None:
                js["advice"] = text
            print(json.dumps(js, ensure_ascii=False))
            continue
        head = line(r, d.error_code)
        tally = (t("group_agree", lang, agree=g["agree"], voted=g["voted"], photos=g["photos"]) if g["voted"]
                 else t("group_no_voter", lang, photos=g["photos"]))  # not "0 of 0 agree"
        if g.get("duplicates"):  # the same photo given twice votes once (service.same_photos)
            tally += "; " + t("group_duplicates", lang, n=g["duplicates"])
        mixed = g.get("crops") or []
        if g.get("mixed"):  # photos that each look like another crop are rarely one plant (service.mixed_crops)
            from leafscout.i18n import crop_name
            names = ", ".join(crop_name(svc.advisor, c, lang) if advisor else c for c in mixed)
            tally += "; " + t("group_mixed", lang, crops=names)
        print(one_line(f"{name}: {head} [{tally}]"))
        for x in each:
            own = line(x.result, x.error_code) if advisor else plain_summary(x.result)
            if x.duplicate_of:
                own = t("group_same_as", lang, i=x.duplicate_of)
            print(one_line(f"    {x.display_name}: {own}"))
        if text:
            print("    " + text.replace("\n", "\n    "))
    print(t("group_summary", lang, groups=len(groups), n=sum(len(p) for _, p in groups),
            version=svc.predictor.version), file=sys.stderr)
    return 0 if read_any else 1

"""`leafscout diagnose --group`: several photos of one plant or plot, one answer.

Each folder given is one group (one plant: its sub-folders included); the photo files given on their own
form one more group together. The answer per group is `DiagnosisService.diagnose_group`'s: every leaf
photo's evidence counts, and the line says how many photos agree."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def groups_of(paths: list[str], collect) -> list[tuple[str, list[Path]]]:
    """[(group name, photos)] in the order given: a folder per group, loose files together."""
    groups, loose = [], []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            photos = collect([raw])
            if photos:
                groups.append((p.name or str(p), photos))
        else:
            loose.append(p)
    if loose:
        groups.append(("photos given", loose))
    return groups


def run_groups(args, svc, groups: list[tuple[str, list[Path]]], usage_error) -> int:
    """Print one answer per group (text, or one JSON object per group with `--json`); exit 0 if any photo was read."""
    from leafscout.errors import ServiceError
    read_any = False
    for name, photos in groups:
        try:
            d, each = svc.diagnose_group(photos, crop=args.crop, organic_status=args.organic_status,
                                         days_to_harvest=args.days_to_harvest, copper_year=args.copper_used,
                                         copper_7y=args.copper_used_7y, top_k=args.top_k)
        except ServiceError as exc:
            raise usage_error(str(exc)) from None
        r, g = d.result, d.result.group
        read_any = read_any or any(x.status != "error" for x in each)
        text = d.advice.render(args.advise, "text", rules=svc.advisor.rules) if args.advise and d.advice else None
        if args.json:
            js = r.to_dict()
            js.update(group_name=name, error_code=d.error_code,
                      photos=[{"file": str(x.photo or x.display_name), "status": x.status, "label": x.label,
                               "confidence": None if x.confidence is None else round(float(x.confidence), 4),
                               "error_code": x.error_code, **x.pests_dict()} for x in each])
            if text is not None:
                js["advice"] = text
            print(json.dumps(js, ensure_ascii=False))
            continue
        head = r.summary() if r.status != "error" else f"error: {r.error}"
        print(f"{name}: {head} [{g['agree']} of {g['voted']} leaf photo(s) agree; {g['photos']} photo(s) in the group]")
        for x in each:
            print(f"    {x.display_name}: {x.result.summary()}")
        if text:
            print("    " + text.replace("\n", "\n    "))
    print(f"{len(groups)} group(s), {sum(len(p) for _, p in groups)} photo(s) (model {svc.predictor.version})",
          file=sys.stderr)
    return 0 if read_any else 1

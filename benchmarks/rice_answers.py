"""Score the product's answers (`leafscout diagnose --json` lines) on photos whose class folder names the truth.

Why: the ship rules judge rice by what the farmer reads, not by the network's top-1: right answers, answers "rice,
not one of the known diseases" (the `<crop>.other` label), abstentions, and the one mistake that must never happen,
an answer "ok" with ANOTHER crop's label (rice photo told to spray against apple rust). Truth comes from
datasets/labels.yaml: the photo's dataset folder and class folder.

    leafscout diagnose --json --crop rice ../shared/datasets/rice_leaf_ph/val > rice.jsonl
    python benchmarks/rice_answers.py rice.jsonl [--label "model X, --crop rice"] [--wrong]
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from leafscout.model.labels import load_label_map  # noqa: E402


def truth_of(path: str, datasets: dict[str, dict[str, str]]) -> str | None:
    """The canonical label of <dataset>/<split>/<class>/photo (or <dataset>/<class>/photo), None if not mapped."""
    parts = Path(path).parts
    for i in range(len(parts) - 2, 0, -1):
        folder = parts[i]
        for j in (i - 1, i - 2):
            if j >= 0 and parts[j] in datasets and folder in datasets[parts[j]]:
                return datasets[parts[j]][folder]
    return None


def score(lines: list[dict], datasets: dict[str, dict[str, str]]) -> dict:
    tally, wrong = Counter(), []
    for row in lines:
        truth = truth_of(row.get("path", ""), datasets)
        if truth is None:
            tally["unmapped"] += 1
            continue
        tally["photos"] += 1
        label, status = row.get("label") or "", row.get("status")
        crop = truth.split(".")[0]
        if row.get("error"):
            tally["error"] += 1
        if label == truth:
            tally["right"] += 1
            if status == "ok":
                tally["right_ok"] += 1
            continue
        wrong.append((row.get("path"), truth, label, status, row.get("confidence")))
        if label.split(".")[0] != crop and status == "ok":
            tally["foreign_ok"] += 1
        elif label == f"{crop}.other":
            tally["crop_other"] += 1
        elif status != "ok":
            tally["abstained"] += 1
        else:
            tally["wrong_same_crop_ok"] += 1
    return {"tally": tally, "wrong": wrong}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("jsonl", type=Path, help="output of `leafscout diagnose --json ...`")
    ap.add_argument("--label", default="", help="what to call this run in the printed line")
    ap.add_argument("--wrong", action="store_true", help="also list every photo not answered right")
    args = ap.parse_args(argv)
    try:
        lines = [json.loads(s) for s in args.jsonl.read_text(encoding="utf-8").splitlines() if s.strip()]
    except (OSError, json.JSONDecodeError) as exc:
        print(f"rice_answers: cannot read {args.jsonl}: {exc} (expected `leafscout diagnose --json` output)",
              file=sys.stderr)
        return 2
    res = score(lines, load_label_map().datasets)
    t = res["tally"]
    n = t["photos"]
    if not n:
        print(f"rice_answers: no photo in {args.jsonl} sits in a dataset/class folder of datasets/labels.yaml",
              file=sys.stderr)
        return 2
    print(f"{args.label or args.jsonl.name}: right {t['right']}/{n} ({100 * t['right'] / n:.1f}%), "
          f"crop.other {t['crop_other']}, abstained {t['abstained']}, wrong same crop ok "
          f"{t['wrong_same_crop_ok']}, ANOTHER CROP ok {t['foreign_ok']}, errors {t['error']}")
    if args.wrong:
        for path, truth, label, status, conf in res["wrong"]:
            print(f"  {Path(path).name}: truth {truth} -> {label} {status} {conf}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

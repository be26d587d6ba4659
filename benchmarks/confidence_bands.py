"""How often is an `ok` answer right, by its calibrated confidence? The figure behind "check first" advice.

An answer at or above the runtime's `uncertain_below` is `ok` and gets a treatment plan. Just above that line an
answer is right less than half the time (calibration is fitted on lab photos; field photos are right less often), and a spray chosen for the wrong problem costs the grower
money, copper on the 7-year ledger and a week. This prints, for bands of calibrated confidence, how many `ok`
answers fall there and how many of them name the right problem, on the two photo sets `crop_gate.py` uses:
the val leaf photos as they are, and the field-like photos `training/finalize.py` chooses thresholds on (field
sets' val photos, lab val leaves pasted on field backgrounds). The advice marks answers below
`leafscout.service.CHECK_FIRST_BELOW` "check the signs first".

    python benchmarks/confidence_bands.py --model model/leafscout.onnx
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from crop_gate import field_like_rows, open_val, val_rows  # noqa: E402
from leafscout.service import CHECK_FIRST_BELOW  # noqa: E402

EDGES = (0.5, 0.6, 0.7, 0.8, 0.9, 1.01)


def report(name: str, rows, floor: float) -> None:
    ok = [r for r in rows if r[0]]
    mean_conf = sum(r[4] for r in ok) / max(len(ok), 1)
    right_share = sum(r[1] for r in ok) / max(len(ok), 1)
    print(f"\n{name}: {len(rows)} leaf photos, {len(ok)} answered ok; their mean confidence {100 * mean_conf:.1f}%, "
          f"right {100 * right_share:.1f}% (gap {100 * (mean_conf - right_share):+.1f} points: the calibration is "
          "fitted on the lab val split)")
    print(f"  {'confidence':>12s} {'ok answers':>11s} {'share of ok':>12s} {'right':>7s} {'right %':>8s}")
    lo = floor
    for hi in EDGES:
        band = [r for r in ok if lo <= r[4] < hi]
        right = sum(r[1] for r in band)
        mark = "  <- check first" if hi <= CHECK_FIRST_BELOW + 1e-9 else ""
        print(f"  {lo:5.2f}-{min(hi, 1.0):4.2f}  {len(band):11d} {100 * len(band) / max(len(ok), 1):11.1f}% "
              f"{right:7d} {100 * right / max(len(band), 1):7.1f}%{mark}")
        lo = hi


def main(argv=None) -> int:
    if (opened := open_val(__doc__.splitlines()[0], argv)) is None:
        return 0
    args, pred, data = opened
    floor = float(pred.uncertain_below)
    print(f"{args.model} (model {pred.version}); ok from a calibrated confidence of {floor:.4f}; "
          f"'check the signs first' below {CHECK_FIRST_BELOW}")
    report("val photos as they are", val_rows(pred, data, Path(args.labels), args.limit), floor)
    if importlib.util.find_spec("torch") is None:
        print("\nfield-like photos: skipped (pip install -e '.[train]')")
        return 0
    report("field-like photos (finalize's threshold set)", field_like_rows(pred, data, Path(args.labels), args.limit),
           floor)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Field-log write cost: SQLite synchronous=FULL (the default) against NORMAL, in the same run.

Each row is one `record_action` in its own transaction, as the CLI and the app write them (a few a minute in
the field). Both settings write to fresh files in the same folder, interleaved in rounds so disk-cache
state and background load hit both alike; the figure to quote is the ratio.

    python benchmarks/bench_fieldlog_write.py                # 300 rows per setting
    python benchmarks/bench_fieldlog_write.py --rows 1000 --dir /var/tmp
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from leafscout.fieldlog import FieldLog  # noqa: E402


def rows_per_second(path: Path, sync: str, rows: int) -> float:
    with FieldLog.open(str(path), synchronous=sync) as log:
        log.add_plot("Bench plot", "coffee", 1.0)
        start = time.perf_counter()
        for i in range(rows):
            log.record_action("Bench plot", f"row {i}", copper_kg_ha=0.001)
        return rows / (time.perf_counter() - start)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=300, help="rows per setting per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dir", default=None, help="folder for the test databases (default: a temp folder)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="leafscout-bench-") as tmp:
        speeds = {"FULL": [], "NORMAL": []}
        for r in range(args.rounds):
            for sync in (("FULL", "NORMAL") if r % 2 == 0 else ("NORMAL", "FULL")):
                speeds[sync].append(rows_per_second(Path(tmp) / f"{sync}-{r}.sqlite", sync, args.rows))
    full, normal = statistics.median(speeds["FULL"]), statistics.median(speeds["NORMAL"])
    print(f"SQLite WAL, one transaction per row, {args.rows} rows x {args.rounds} rounds, in {args.dir or 'tmp'}")
    print(f"  synchronous=FULL   (default): {full:8.0f} rows/s")
    print(f"  synchronous=NORMAL (opt-in) : {normal:8.0f} rows/s")
    print(f"  ratio NORMAL/FULL: {normal / full:.2f}x  (FULL costs {1000 / full - 1000 / normal:.2f} ms more per row)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

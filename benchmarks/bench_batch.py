"""Batch throughput: the plain local loop vs Ray Data with 1 and 2 actors, on the same photos, in one run.

    python benchmarks/bench_batch.py [--n 200] [--model PATH] [--no-pests]

Makes N photos from the committed fixtures (copies, then JPEG re-encodes so each file has its own hash), scores
them with `leafscout.batch.run` into a fresh output folder per engine, and prints photos/s for each and the
ratios. Ray is started once (embedded `ray.init()`, as `leafscout batch` does) before the timed runs; its start
is printed apart. The Ray figures include creating the actor pool (each actor loads the model once), hashing,
scoring, and writing Parquet + CSV in this process; so do the local ones (one service, default threads).
Needs the `scale` extra.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def make_photos(root: Path, n: int) -> list[Path]:
    import cv2
    src = sorted(p for p in (REPO / "tests/fixtures/images").rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    out = []
    for i, p in enumerate(src[:n]):
        out.append(Path(shutil.copyfile(p, root / f"{i:04d}-{p.name}")))
    i = 0
    while len(out) < n:
        dst = root / f"re{len(out):04d}.jpg"
        cv2.imwrite(str(dst), cv2.imread(str(src[i % len(src)])), [cv2.IMWRITE_JPEG_QUALITY, 80 + i % 15])
        out.append(dst)
        i += 1
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="photos (default 200)")
    ap.add_argument("--model", default=None)
    ap.add_argument("--no-pests", action="store_true", help="without the insect detector (leaf classifier only)")
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args(argv)
    from leafscout import batch as B

    pests = str(Path(tempfile.gettempdir()) / "no-such-pests.onnx") if args.no_pests else None
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    try:
        (work / "photos").mkdir()
        photos = make_photos(work / "photos", args.n)
        print(f"{len(photos)} photos; cpus {os.cpu_count()}; load average {os.getloadavg()[0]:.1f} "
              f"(other jobs make this noisy); pest detector {'off' if args.no_pests else 'on'}")
        t0 = time.perf_counter()
        ray = B.ray_init()
        print(f"ray.init() (embedded, once): {time.perf_counter() - t0:.1f} s; cluster CPUs "
              f"{ray.cluster_resources().get('CPU', 0):g}")
        rates = {}
        for name, kw in (("local loop", dict(engine="local")),
                         ("ray, 1 worker", dict(engine="ray", workers=1)),
                         ("ray, 2 workers", dict(engine="ray", workers=2))):
            out = work / name.replace(" ", "").replace(",", "")
            s = B.run(photos, out, model_path=args.model, batch_size=args.batch_size, pests_model_path=pests, **kw)
            assert s.scored == len(photos), (name, s)
            rates[name] = s.scored / s.seconds
            print(f"{name:16s} {s.seconds:6.1f} s  {rates[name]:6.1f} photos/s")
        base = rates["local loop"]
        one = rates["ray, 1 worker"]
        print(f"ratios: ray 1 worker / local {one / base:.2f}x; ray 2 workers / local "
              f"{rates['ray, 2 workers'] / base:.2f}x; ray 2 workers / ray 1 worker {rates['ray, 2 workers'] / one:.2f}x")
        ray.shutdown()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

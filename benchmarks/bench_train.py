"""Training throughput (images/s) of one Lite0 training step on this machine, for the shipped recipe
and for a plain baseline measured in the same run, so the figure is a ratio and not a wall-clock promise.

    python benchmarks/bench_train.py               # 2 threads, batch 32, 12 timed steps per setting
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from leafscout.model.arch import EfficientNetLite0, load_pretrained  # noqa: E402

SETTINGS = [  # (name, size, channels_last, frozen blocks)
    ("baseline 224px, NCHW, nothing frozen", 224, False, 0),
    ("224px, channels_last", 224, True, 0),
    ("recipe: 160px, channels_last, stem+3 blocks frozen", 160, True, 3),
]


def step_seconds(size: int, channels_last: bool, frozen: int, batch: int, steps: int, classes: int = 67) -> list[float]:
    model = load_pretrained(EfficientNetLite0(classes))
    model.freeze_early(frozen)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt).train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randn(batch, 3, size, size).contiguous(memory_format=fmt)
    y = torch.randint(0, classes, (batch,))
    times = []
    for i in range(steps + 2):  # two warm-up steps
        t0 = time.perf_counter()
        loss = loss_fn(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if i >= 2:
            times.append(time.perf_counter() - t0)
    return times


def main(argv=None) -> int:
    first = " ".join(__doc__.split("\n\n")[0].split()).split(". ")[0].rstrip(".") + "."  # a whole sentence
    p = argparse.ArgumentParser(description=first)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=12)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, {a.threads} threads, batch {a.batch}, {a.steps} timed steps "
          "(model compute only; data loading runs in worker processes)")
    base = None
    for name, size, cl, frozen in SETTINGS:
        t = statistics.median(step_seconds(size, cl, frozen, a.batch, a.steps))
        ips = a.batch / t
        base = base or ips
        print(f"{name:55s} {1000 * t / a.batch:7.1f} ms/image  {ips:6.1f} images/s  x{ips / base:.2f} vs baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())

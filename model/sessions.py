"""onnxruntime session options shared by every model LeafScout runs (classifier, insect detector, its labeler).

Spinning off: onnxruntime's intra-op threads busy-wait for the next piece of work after each run. One session
alone gains a little from that, but a rice photo goes through three sessions in a row, each with its own thread
pool, and on a 2-core phone or laptop the pools that just finished spin on the cores the next session needs.
Measured 2026-12-06 (`python benchmarks/bench_pipeline.py --per-dataset 12 --threads 2`, 2 cores): the whole
pipeline on a rice field photo 88 ms with spinning, about 40 ms without; a leaf photo (classifier alone) the
same either way.
"""
from __future__ import annotations


def session_options(threads: int | None = None):
    """SessionOptions: all graph optimisations, `threads` intra-op threads (onnxruntime's default when None),
    one inter-op thread, and idle threads that sleep instead of spinning."""
    import onnxruntime as ort  # here, not at import: `leafscout --help` must stay instant

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.inter_op_num_threads = 1
    if threads:
        opts.intra_op_num_threads = int(threads)
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return opts

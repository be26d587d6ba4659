"""A tiny ONNX model with the exact LeafScout format (inputs, outputs, metadata), for fast tests.

Tests of the runtime, the CLI and the app must not wait for (or depend on) the trained model. This
3-class model answers from the mean colour: green -> bean.healthy, red -> bean.rust, blue -> no leaf,
grey -> unlike anything (high energy), yellow -> a green/red tie (uncertain). Needs the `onnx` package.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from leafscout.model.preprocess import PreprocessConfig

TOY_LABELS = ["background.no_leaf", "bean.healthy", "bean.rust"]
TOY_CONFIG = PreprocessConfig(input_size=64, resize_size=73)
TOY_THRESHOLDS = {"uncertain_below": 0.6, "ood_energy_above": -2.0}
# colours (RGB) and what the toy model says about a flat photo of that colour
TOY_COLOURS = {"ok": (20, 200, 20), "uncertain": (200, 200, 0), "background": (0, 0, 220), "ood": (128, 128, 128)}


def toy_model(path: str | Path, temperature: float = 1.0, thresholds: dict | None = None,
              labels: list[str] | None = None, meta_override: dict | None = None) -> Path:
    """Write the toy model to `path` and return it. cam = 1x1 conv of the 8x8-pooled image; logits = mean(cam)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    labels = labels or TOY_LABELS
    s = TOY_CONFIG.input_size
    w = np.zeros((len(labels), 3, 1, 1), np.float32)
    for i, lab in enumerate(labels):  # channel order R, G, B
        w[i, {"background.no_leaf": 2, "bean.healthy": 1, "bean.rust": 0}.get(lab, i % 3), 0, 0] = 8.0
    nodes = [
        helper.make_node("AveragePool", ["image"], ["pooled"], kernel_shape=[s // 8, s // 8], strides=[s // 8, s // 8]),
        helper.make_node("Conv", ["pooled", "W", "B"], ["cam"]),
        helper.make_node("ReduceMean", ["cam"], ["logits"], axes=[2, 3], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes, "leafscout_toy",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, s, s])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", len(labels)]),
         helper.make_tensor_value_info("cam", TensorProto.FLOAT, ["batch", len(labels), 8, 8])],
        initializer=[numpy_helper.from_array(w, "W"), numpy_helper.from_array(np.zeros(len(labels), np.float32), "B")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    meta = {"labels": json.dumps(labels), "preprocess": TOY_CONFIG.to_json(), "temperature": repr(float(temperature)),
            "thresholds": json.dumps(thresholds or TOY_THRESHOLDS), "background_label": "background.no_leaf",
            "version": "0.0.0-toy", "model_name": "toy_colour_model"}
    meta.update(meta_override or {})
    for k, v in meta.items():
        if v is not None:
            entry = model.metadata_props.add()
            entry.key, entry.value = "leafscout." + k, v
    onnx.checker.check_model(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def flat_photo(colour: tuple[int, int, int], size: tuple[int, int] = (96, 128)) -> np.ndarray:
    """An RGB uint8 photo of one colour (with a little texture so encoders behave like on photos)."""
    rng = np.random.default_rng(0)
    img = np.asarray(colour, np.int16)[None, None, :] + rng.integers(-3, 4, (*size, 3))
    return np.clip(img, 0, 255).astype(np.uint8)

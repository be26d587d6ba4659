"""A tiny ONNX pest detector with the exact LeafScout detector format (input, outputs, metadata), for fast tests.

Like model/testing.py's toy classifier, it needs the `onnx` package, not torch. It has two fixed box locations
in the SxS input (upper-left and lower-right quarter-ish squares) and scores every label on both from the
photo's mean colour: label i answers to colour channel i % 3 (R, G, B). A red photo gives two boxes of label 0,
a green photo two of label 1, a grey photo nothing.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from leafscout.model.preprocess import LITE_MEAN, LITE_STD

TOY_PEST_LABELS = ["rice.rice_bug", "rice.brown_planthopper", "rice.grasshopper"]
TOY_PEST_SIZE = 64
TOY_PEST_BOXES = np.array([[6, 6, 26, 26], [38, 38, 58, 58]], np.float32)  # input pixels


def toy_detector(path: str | Path, labels: list[str] | None = None, score_threshold: float = 0.5,
                 nms_iou: float = 0.5, size: int = TOY_PEST_SIZE) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    labels = labels or TOY_PEST_LABELS
    c = len(labels)
    w = np.zeros((3, c), np.float32)
    for i in range(c):
        w[i % 3, i] = 8.0
    b = np.full((c,), -2.0, np.float32)
    boxes = (TOY_PEST_BOXES * (size / TOY_PEST_SIZE))[None]  # [1, 2, 4]
    nodes = [
        helper.make_node("GlobalAveragePool", ["image"], ["pooled"]),           # [N,3,1,1]
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),             # [N,3]
        helper.make_node("Gemm", ["flat", "W", "B"], ["logit"]),               # [N,C]
        helper.make_node("Sigmoid", ["logit"], ["prob"]),
        helper.make_node("Unsqueeze", ["prob", "axis1"], ["prob1"]),           # [N,1,C]
        helper.make_node("Concat", ["prob1", "prob1"], ["scores"], axis=1),    # [N,2,C]
        helper.make_node("ReduceSum", ["scores", "axis12"], ["zero_src"], keepdims=1),  # [N,1,1]
        helper.make_node("Mul", ["zero_src", "zero"], ["zeros"]),
        helper.make_node("Add", ["zeros", "BOXES"], ["boxes"]),                # [N,2,4]
    ]
    graph = helper.make_graph(
        nodes, "leafscout_toy_pests",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, size, size])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", 2, c]),
         helper.make_tensor_value_info("boxes", TensorProto.FLOAT, ["batch", 2, 4])],
        initializer=[numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B"),
                     numpy_helper.from_array(np.array([1], np.int64), "axis1"),
                     numpy_helper.from_array(np.array([1, 2], np.int64), "axis12"),
                     numpy_helper.from_array(np.zeros((1,), np.float32), "zero"),
                     numpy_helper.from_array(boxes.astype(np.float32), "BOXES")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    meta = {"kind": "pest_detector", "labels": json.dumps(labels), "input_size": str(size), "resize": "letterbox",
            "pad_value": "127", "mean": json.dumps(list(LITE_MEAN)), "std": json.dumps(list(LITE_STD)),
            "score_threshold": repr(float(score_threshold)), "class_score_thresholds": "{}",
            "nms_iou": repr(float(nms_iou)), "max_detections": "100", "version": "0.0.0-toy",
            "model_name": "toy_pest_detector"}
    for k, v in meta.items():
        e = model.metadata_props.add()
        e.key, e.value = "leafscout." + k, v
    onnx.checker.check_model(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def toy_labeler(path: str | Path, labels: list[str] | None = None, winner: int = 2, size: int = 32) -> Path:
    """A toy pest labeler in the exact format (input `image`, outputs `logits` and `cam`, kind=pest_labeler) that
    names every crop `labels[winner]`."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from leafscout.model.preprocess import PreprocessConfig

    labels = labels or TOY_PEST_LABELS
    c = len(labels)
    bias = np.zeros((c,), np.float32)
    bias[winner] = 5.0
    nodes = [
        helper.make_node("GlobalAveragePool", ["image"], ["pooled"]),
        helper.make_node("Conv", ["pooled", "W", "B"], ["cam"]),                # [N,C,1,1]
        helper.make_node("Flatten", ["cam"], ["logits"], axis=1),               # [N,C]
    ]
    graph = helper.make_graph(
        nodes, "leafscout_toy_labeler",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, size, size])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", c]),
         helper.make_tensor_value_info("cam", TensorProto.FLOAT, ["batch", c, 1, 1])],
        initializer=[numpy_helper.from_array(np.zeros((c, 3, 1, 1), np.float32), "W"),
                     numpy_helper.from_array(bias, "B")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    meta = {"kind": "pest_labeler", "labels": json.dumps(labels), "context": "0.15", "version": "0.0.0-toy",
            "preprocess": PreprocessConfig(input_size=size, resize_size=size).to_json()}
    for k, v in meta.items():
        e = model.metadata_props.add()
        e.key, e.value = "leafscout." + k, v
    onnx.checker.check_model(model)
    path = Path(path)
    onnx.save(model, str(path))
    return path


def tiny_scene_model(labels: list[str], size: int, boxes: list[list[float]], steps: int = 15):
    """A tiny FCOS detector in torch (model/detector_arch.py, 1 head conv, random weights, seed 0) after `steps`
    SGD steps on one random batch whose first image holds `boxes` (of classes 1 and 2): at initialisation every
    box has zero size, which tests of decoding would not test. Needs torch (tests only)."""
    import torch

    from leafscout.model.detector_arch import build

    torch.manual_seed(0)
    model = build(len(labels), size, 64, 1, pretrained=False)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)
    x = torch.randn(2, 3, size, size)
    tg = [{"boxes": torch.tensor(boxes, dtype=torch.float32), "labels": torch.tensor([1, 2])},
          {"boxes": torch.zeros((0, 4)), "labels": torch.zeros((0,), dtype=torch.int64)}]
    for _ in range(steps):
        loss = sum(model.train()(x, tg).values())
        opt.zero_grad(), loss.backward(), opt.step()
    return model

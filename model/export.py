"""Export a trained Lite0 to ONNX with everything needed to run it in the file itself.

Like timm's PretrainedCfg, the labels, input size, mean/std, resize policy, temperature and decision
thresholds travel in the ONNX metadata. Like timm's exporter, the export is refused (and the file
removed) when onnxruntime's logits disagree with PyTorch's on real photos.
"""
from __future__ import annotations

import copy
import json
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
from torch import nn

from leafscout.model.preprocess import PreprocessConfig

OPSET = 17
META_PREFIX = "leafscout."


class ExportError(RuntimeError):
    """The exported graph does not reproduce PyTorch: nothing was written."""


class _WithCam(nn.Module):
    """Two outputs: logits [N,C] and class-activation maps [N,C,h,w] (spatial mean == logits)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor):
        return self.model.forward_cam(image)


def metadata(labels: list[str], cfg: PreprocessConfig, temperature: float, thresholds: dict,
             version: str, background_label: str = "background.no_leaf", extra: dict | None = None) -> dict[str, str]:
    meta = {
        "labels": json.dumps(labels),
        "preprocess": cfg.to_json(),
        "temperature": repr(float(temperature)),
        "thresholds": json.dumps(thresholds),
        "background_label": background_label,
        "version": version,
        "model_name": "efficientnet_lite0",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    meta.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in (extra or {}).items()})
    return {META_PREFIX + k: v for k, v in meta.items()}


def torch_logits(model: nn.Module, batch: np.ndarray) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return model(torch.from_numpy(batch)).numpy()


def export_onnx(model: nn.Module, path: str | Path, labels: list[str], cfg: PreprocessConfig,
                temperature: float, thresholds: dict, version: str, check_inputs: np.ndarray,
                atol: float = 1e-4, extra: dict | None = None) -> dict:
    """Write `path` and return {'max_abs_diff': ...}; raise ExportError if ONNX != torch within atol.
    `check_inputs` is a float32 [N,3,S,S] batch of real, preprocessed photos."""
    import onnxruntime as ort

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = copy.deepcopy(model).eval().to(memory_format=torch.contiguous_format)
    if hasattr(model, "fix_padding"):
        model.fix_padding(cfg.input_size)  # constant pads: no shape arithmetic in the graph
    dummy = torch.zeros(1, 3, cfg.input_size, cfg.input_size)
    tmp = path.with_suffix(".tmp.onnx")
    with warnings.catch_warnings():  # the legacy exporter is deliberate: a plain, fixed-size graph
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(_WithCam(model), (dummy,), str(tmp), input_names=["image"],
                          output_names=["logits", "cam"],
                          dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}, "cam": {0: "batch"}},
                          opset_version=OPSET, dynamo=False, do_constant_folding=True)
    finish(tmp, metadata(labels, cfg, temperature, thresholds, version, extra=extra))

    session = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
    onnx_logits, cam = session.run(None, {"image": check_inputs.astype(np.float32)})
    ref = torch_logits(model, check_inputs.astype(np.float32))
    diff = float(np.abs(onnx_logits - ref).max())
    cam_diff = float(np.abs(cam.mean((2, 3)) - onnx_logits).max())
    if diff > atol or cam_diff > atol:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"ONNX logits differ from PyTorch by {diff:.2e} (cam mean vs logits {cam_diff:.2e}), "
                          f"more than the allowed {atol:.0e}; the model was not exported")
    tmp.replace(path)
    return {"max_abs_diff": diff, "cam_max_abs_diff": cam_diff, "path": str(path)}


def finish(path: Path, meta: dict[str, str]) -> None:
    """Simplify the freshly exported graph at `path`, write `meta` into it, check it and save it in place.
    Shared by every LeafScout export (classifier and pest detector)."""
    import onnx

    proto = simplify(path)
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))


def simplify(path: Path):
    """Constant-fold with onnxruntime's portable (basic) optimiser, then fold each zero Pad into the
    convolution it feeds: TF 'SAME' stride-2 padding is asymmetric, which ONNX Conv supports but PyTorch
    cannot express. Without this the Pads force layout reorders around them at run time."""
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    opts.optimized_model_filepath = str(path)
    ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    proto = onnx.load(str(path))
    graph = proto.graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    for pad in [n for n in graph.node if n.op_type == "Pad"]:
        mode = next((a.s for a in pad.attribute if a.name == "mode"), b"constant")
        pads = inits.get(pad.input[1])
        users = consumers.get(pad.output[0], [])
        value_is_zero = len(pad.input) < 3 or not pad.input[2] or not inits.get(pad.input[2], 0).any()
        if (mode != b"constant" or pads is None or len(users) != 1 or users[0].op_type != "Conv"
                or not value_is_zero or pads[:2].any() or pads[4:6].any()):
            continue
        conv = users[0]
        old = next((list(a.ints) for a in conv.attribute if a.name == "pads"), [0, 0, 0, 0])
        new = [int(old[0] + pads[2]), int(old[1] + pads[3]), int(old[2] + pads[6]), int(old[3] + pads[7])]
        for a in list(conv.attribute):
            if a.name in ("pads", "auto_pad"):
                conv.attribute.remove(a)
        conv.attribute.append(onnx.helper.make_attribute("pads", new))
        conv.input[0] = pad.input[0]
        graph.node.remove(pad)
    used = {name for node in graph.node for name in node.input}
    for init in [i for i in graph.initializer if i.name not in used]:
        graph.initializer.remove(init)
    return proto


def read_metadata(path: str | Path) -> dict[str, str]:
    """The `leafscout.*` metadata of an ONNX file, without the prefix (onnx package, no runtime)."""
    import onnx
    proto = onnx.load(str(path), load_external_data=False)
    return {p.key[len(META_PREFIX):]: p.value for p in proto.metadata_props if p.key.startswith(META_PREFIX)}

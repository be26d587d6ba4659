"""Export a trained Lite0 to ONNX with everything needed to run it in the file itself.

Like timm's PretrainedCfg, the labels, input size, mean/std, resize policy, temperature and decision
thresholds travel in the ONNX metadata. Like timm's exporter, the export is refused (and the file
removed) when onnxruntime's logits disagree with PyTorch's on real photos.
"""
from __future__ import annotations

import json
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
from torch import nn

from model.preprocess import PreprocessConfig

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
    import onnx
    import onnxruntime as ort

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval().to(memory_format=torch.contiguous_format)
    dummy = torch.zeros(1, 3, cfg.input_size, cfg.input_size)
    tmp = path.with_suffix(".tmp.onnx")
    with warnings.catch_warnings():  # SAME padding is computed from the fixed input size: constant by design
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(_WithCam(model), (dummy,), str(tmp), input_names=["image"],
                          output_names=["logits", "cam"],
                          dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}, "cam": {0: "batch"}},
                          opset_version=OPSET, dynamo=False, do_constant_folding=True)
    proto = onnx.load(str(tmp))
    for key, value in metadata(labels, cfg, temperature, thresholds, version, extra=extra).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(proto)
    onnx.save(proto, str(tmp))

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


def read_metadata(path: str | Path) -> dict[str, str]:
    """The `leafscout.*` metadata of an ONNX file, without the prefix (onnx package, no runtime)."""
    import onnx
    proto = onnx.load(str(path), load_external_data=False)
    return {p.key[len(META_PREFIX):]: p.value for p in proto.metadata_props if p.key.startswith(META_PREFIX)}

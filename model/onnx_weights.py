"""Rebuild PyTorch weights from a shipped LeafScout ONNX file, so a researcher can start from the shipped
model (`python -m leafscout.training.train --init-from model/leafscout.onnx ...`) with nothing but the .onnx file.

The export folds every BatchNorm into the convolution before it (w' = w * g/s, b' = b - g*m/s), which
cannot be undone exactly; the rebuild puts the folded weights in the convolutions and turns each BatchNorm
into the identity plus the folded bias (weight 1, running mean 0, running variance 1 - eps). In inference
mode the rebuilt network computes the ONNX graph exactly; fine-tune it with BatchNorms kept in inference
mode (`--freeze-bn`, implied), since batch statistics would no longer match the folded weights.
Needs torch and onnx (the `train` extra); the runtime never imports this module.
"""
from __future__ import annotations

import json

import numpy as np
import torch
from torch import nn

from leafscout.model.export import read_metadata


def _onnx_tensors(path: str):
    import onnx
    from onnx import numpy_helper

    proto = onnx.load(str(path))
    inits = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
    convs = []
    fc_w = fc_b = None
    for node in proto.graph.node:  # nodes are in topological order, as torch's modules are
        if node.op_type == "Conv":
            w = inits[node.input[1]]
            b = inits[node.input[2]] if len(node.input) > 2 and node.input[2] else np.zeros(w.shape[0], np.float32)
            convs.append((w, b))
        elif node.op_type == "Einsum":
            fc_w = inits[node.input[1]]
        elif node.op_type == "Add" and node.output[0] == "cam":
            fc_b = next(inits[x] for x in node.input if x in inits).reshape(-1)
    if fc_w is None or fc_b is None:
        raise ValueError(f"{path}: no class-activation head (Einsum + Add -> 'cam'); not a LeafScout export")
    return convs, fc_w, fc_b


def conv_bn_pairs(model: nn.Module) -> list[tuple[nn.Conv2d, nn.BatchNorm2d]]:
    """Every convolution with the BatchNorm that follows it, in forward order (stem, blocks, head)."""
    pairs = [(model._conv_stem, model._bn0)]
    for block in model._blocks:
        if block.has_expand:
            pairs.append((block._expand_conv, block._bn0))
        pairs += [(block._depthwise_conv, block._bn1), (block._project_conv, block._bn2)]
    pairs.append((model._conv_head, model._bn1))
    return pairs


@torch.no_grad()
def copy_classifier_rows(fc: nn.Linear, weight, bias, old_labels: list[str], new_labels: list[str]) -> dict:
    """Fill `fc` (one row per label of `new_labels`) from a classifier trained on `old_labels`: the rows of
    the labels both lists share are copied by name, new labels keep `fc`'s fresh rows, dropped labels are
    left out. -> {"kept": [...], "new": [...], "dropped": [...]} so the caller can say what happened."""
    weight, bias = torch.as_tensor(np.array(weight)), torch.as_tensor(np.array(bias))
    if weight.shape[0] != len(old_labels) or weight.shape[1] != fc.weight.shape[1]:
        raise ValueError(f"classifier {tuple(weight.shape)} does not fit {len(old_labels)} labels of "
                         f"{fc.weight.shape[1]} features")
    old = {lab: i for i, lab in enumerate(old_labels)}
    kept = [lab for lab in new_labels if lab in old]
    for j, lab in enumerate(new_labels):
        if lab in old:
            fc.weight[j].copy_(weight[old[lab]])
            fc.bias[j].copy_(bias[old[lab]])
    return {"kept": kept, "new": [lab for lab in new_labels if lab not in old],
            "dropped": [lab for lab in old_labels if lab not in set(new_labels)]}


@torch.no_grad()
def load_onnx_weights(model: nn.Module, path: str, labels: list[str] | None = None) -> tuple[list[str], dict]:
    """Copy the ONNX file's weights into `model` (an EfficientNetLite0); return the file's label list and
    what happened to the classifier rows (see `copy_classifier_rows`). With `labels` (the model's own
    label list, which may have grown) the classifier rows are matched by label name; without it the model
    must have exactly the file's labels. Raise ValueError on any backbone shape mismatch."""
    file_labels = json.loads(read_metadata(path)["labels"])
    convs, fc_w, fc_b = _onnx_tensors(path)
    pairs = conv_bn_pairs(model)
    if len(convs) != len(pairs):
        raise ValueError(f"{path} has {len(convs)} convolutions, the model {len(pairs)}: not the same architecture")
    for (w, b), (conv, bn) in zip(convs, pairs):
        if tuple(conv.weight.shape) != w.shape:
            raise ValueError(f"{path}: convolution weight {w.shape} does not fit {tuple(conv.weight.shape)}")
        conv.weight.copy_(torch.from_numpy(np.array(w)))
        bn.weight.fill_(1.0)
        bn.bias.copy_(torch.from_numpy(np.array(b)))
        bn.running_mean.zero_()
        bn.running_var.fill_(1.0 - bn.eps)
    if labels is None and tuple(model._fc.weight.shape) != fc_w.shape:
        raise ValueError(f"{path}: classifier {fc_w.shape} does not fit {tuple(model._fc.weight.shape)}")
    if len(file_labels) != fc_w.shape[0]:
        raise ValueError(f"{path}: {len(file_labels)} labels in its metadata but {fc_w.shape[0]} classifier rows")
    rows = copy_classifier_rows(model._fc, fc_w, fc_b, file_labels, labels if labels is not None else file_labels)
    return file_labels, rows


@torch.no_grad()
def load_detector_onnx_weights(model: nn.Module, path: str, labels: list[str]) -> dict:
    """Copy a shipped pest detector's ONNX weights (`model/pests.onnx`) into a `PestDetector` whose label list
    `labels` may have grown (an insect detector becoming a scene detector: `plant.leaf` added last), so that
    training starts from what the shipped insects learned instead of from ImageNet.

    The backbone's BatchNorms were folded at export: they are rebuilt as in `load_onnx_weights` and must stay in
    inference mode (`LiteFPN.freeze` keeps them so). The feature pyramid and the FCOS heads keep their names in the
    export; the heads' GroupNorm scales and shifts are found by their node names. Rows of the class logits are
    matched by label; a new label keeps its fresh row. -> {"kept": [...], "new": [...], "dropped": [...]}.
    Raises ValueError when the file is not a detector of the same architecture."""
    import re

    import onnx
    from onnx import numpy_helper

    meta = read_metadata(path)
    if meta.get("kind") != "pest_detector":
        raise ValueError(f"{path}: not a LeafScout pest detector (metadata kind {meta.get('kind')!r})")
    file_labels = json.loads(meta["labels"])
    proto = onnx.load(str(path))
    inits = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
    state = model.state_dict()
    updates: dict[str, torch.Tensor] = {}

    def put(key: str, value) -> None:
        if key not in state:
            raise ValueError(f"{path}: {key} has no place in this detector: not the same architecture")
        value = torch.from_numpy(np.array(value, np.float32)).reshape(state[key].shape) \
            if np.size(value) == state[key].numel() else None
        if value is None:
            raise ValueError(f"{path}: {key} does not fit {tuple(state[key].shape)}: not the same architecture")
        updates[key] = value

    for name, value in inits.items():  # the pyramid and the heads, by name ("model." is the export wrapper)
        if not name.startswith("model.fcos."):
            continue
        key = name[len("model."):]
        if key.endswith("cls_logits.weight") or key.endswith("cls_logits.bias"):
            continue
        put(key, value)
    gn = re.compile(r"^/head/(classification_head|regression_head)/conv/conv\.(\d+)(?:_\d+)?/(Mul|Add)$")
    for node in proto.graph.node:  # GroupNorm: InstanceNormalization, then x gamma (Mul) + beta (Add)
        m = gn.match(node.name)
        if m:
            init = next(x for x in node.input if x in inits)
            put(f"fcos.head.{m.group(1)}.conv.{m.group(2)}.{'weight' if m.group(3) == 'Mul' else 'bias'}", inits[init])
    convs = [(inits[n.input[1]], inits[n.input[2]] if len(n.input) > 2 and n.input[2] else None)
             for n in proto.graph.node
             if n.op_type == "Conv" and n.input[1] in inits and not n.input[1].startswith("model.")]
    body = model.fcos.backbone.body
    pairs = [p for p in conv_bn_pairs(body) if isinstance(p[0], nn.Conv2d)]  # the detector has no head conv
    if len(convs) != len(pairs):
        raise ValueError(f"{path} has {len(convs)} backbone convolutions, the model {len(pairs)}: not the same "
                         f"architecture")
    for (w, b), (conv, bn) in zip(convs, pairs):
        if tuple(conv.weight.shape) != w.shape:
            raise ValueError(f"{path}: convolution weight {w.shape} does not fit {tuple(conv.weight.shape)}")
        conv.weight.copy_(torch.from_numpy(np.array(w)))
        bn.weight.fill_(1.0)
        bn.bias.copy_(torch.from_numpy(np.array(b if b is not None else np.zeros(w.shape[0], np.float32))))
        bn.running_mean.zero_()
        bn.running_var.fill_(1.0 - bn.eps)
    state = model.state_dict()
    state.update(updates)
    model.load_state_dict(state)
    cls = model.fcos.head.classification_head.cls_logits
    w, b = inits["model.fcos.head.classification_head.cls_logits.weight"], \
        inits["model.fcos.head.classification_head.cls_logits.bias"]
    if w.shape[0] != len(file_labels):
        raise ValueError(f"{path}: {len(file_labels)} labels in its metadata but {w.shape[0]} class rows")
    old = {lab: i for i, lab in enumerate(file_labels)}
    for j, lab in enumerate(labels):
        if lab in old:
            cls.weight[j].copy_(torch.from_numpy(np.array(w[old[lab]])))
            cls.bias[j].copy_(torch.from_numpy(np.array(b[old[lab]])))
    rows = {"kept": [lab for lab in labels if lab in old], "new": [lab for lab in labels if lab not in old],
            "dropped": [lab for lab in file_labels if lab not in set(labels)]}
    return rows

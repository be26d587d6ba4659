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

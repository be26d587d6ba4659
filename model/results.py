"""The answer for one photo: a small object, not a loose dict, so the app, the CLI and the field log all
read the same fields (like Ultralytics' Results)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the service and the app import this module for its codes, without numpy
    import numpy as np

# `Result.reason_code` when the model's own answer is "no leaf" but the photo has plant colour (grass, a field
# from afar, a blur): the status is "uncertain" (a plant photo is never "not a leaf"), `label` the background
# label and `top_k` the nearest leaf labels, which hold almost nothing: no front end offers them as a guess.
NO_LEAF_SEEN = "no_leaf_seen"
# Set by the diagnosis service, not the model: the photo was recorded against a plot whose crop the model has no
# labels for (longan, plum), so its "ok" answer with another crop's label is only the nearest match: uncertain.
CROP_NOT_LEARNED = "crop_not_learned"
# The grower named a crop (`--crop`, the app's crop field, the plot's crop) but the photo clearly shows another
# (another crop holds at least half the probability and twice the named one's, `Result.crop_note`): the label is
# the named crop's nearest, and "uncertain" until somebody checks the crop.
CROP_MISMATCH = "crop_mismatch"
# Every `Result.reason_code` (see its docstring); "" for ok.
REASON_CODES = frozenset({"", NO_LEAF_SEEN, "unfamiliar", "unnamed_problem", "low_confidence", "no_leaf_class",
                          "no_plant_colour", "no_leaf_in_group", "unreadable", CROP_NOT_LEARNED,
                          CROP_MISMATCH})

@dataclass
class Result:
    """One photo's diagnosis.

    status: "ok" | "uncertain" | "not_a_leaf" | "error".
    label: the answer LeafScout stands behind: the top class for ok/uncertain, the background label for
        not_a_leaf (and for uncertain `NO_LEAF_SEEN`), None for error. `top_k` always holds the raw ranking
        with calibrated probabilities.
    confidence: calibrated probability of `label`: the top class for ok/uncertain, the no-leaf class when
        it won; None when the photo is out of distribution (no class probability means anything then) or
        unreadable.
    reason: one sentence saying why the status is what it is (thresholds from the model metadata).
    reason_code: the same as a stable code for programs and translations: "" (ok); uncertain: "no_leaf_seen"
        (`NO_LEAF_SEEN`), "unfamiliar", "crop_mismatch" (`CROP_MISMATCH`), "unnamed_problem" (`<crop>.other`),
        "low_confidence", and from the service "crop_not_learned"; not_a_leaf:
        "no_leaf_class", "unfamiliar", "no_plant_colour", "no_leaf_in_group"; error: "unreadable".
    crop: the crop the grower named (the answer keeps to its labels), or None; crop_note: set when the photo
        looks like another crop than the one named. crop_scores: the model's probability per crop (its
        labels summed), each of 1% or more: the answer's crop is the first unless the grower named one.
    framing: "leaf" when the leaf locator cropped the photo to its leaf (`leaf_box`, photo pixels),
        "whole" when the whole photo was used (no plain background, or the leaf fills the photo).
    plant_share: share of the photo with living-leaf colour (a photo with plant in it is never not_a_leaf).
    leaves: the leaves a scene detector found and the classifier named one by one (`Predictor.with_leaves`):
        [{"box", "score", "label", "confidence", "status"}], numbered in this order in the app; None when no
        leaves were looked for. The answer (label, status, top_k) then weighs the whole photo and these leaves.
    """
    path: str | None
    status: str
    label: str | None = None
    confidence: float | None = None
    top_k: list[tuple[str, float]] = field(default_factory=list)
    error: str | None = None
    reason: str = ""
    reason_code: str = ""
    energy: float | None = None
    model_version: str | None = None
    timing: dict[str, float] = field(default_factory=dict)  # ms: decode, preprocess, infer, total
    crop: str | None = None
    crop_note: str | None = None
    framing: str = "whole"
    leaf_box: tuple[int, int, int, int] | None = None
    plant_share: float | None = None
    group: dict | None = None  # Predictor.combine: {"photos", "voted", "agree"} (+ "crops", "mixed": the service)
    crop_scores: list[tuple[str, float]] = field(default_factory=list)  # [(crop, probability)] >= 1%
    leaves: list[dict] | None = None  # Predictor.with_leaves: each leaf found and its own answer
    logits: np.ndarray | None = field(default=None, repr=False)  # raw [C], before temperature (TTA: view mean)
    _crop: np.ndarray | None = field(default=None, repr=False)   # uint8 SxSx3 the network saw
    _cam: np.ndarray | None = field(default=None, repr=False)    # float32 C x h x w class maps
    _labels: list[str] | None = field(default=None, repr=False)
    _located: object | None = field(default=None, repr=False)    # model.locate.Located, with heatmaps only
    _photo: np.ndarray | None = field(default=None, repr=False)  # the decoded photo, with heatmaps only
    _policy: str | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def saw_a_leaf(self) -> bool:
        """False for a photo with no leaf to name (unreadable, not_a_leaf, or `NO_LEAF_SEEN`): such a photo
        does not vote when several photos of one plant are combined."""
        return self.status not in ("error", "not_a_leaf") and self.reason_code != NO_LEAF_SEEN

    @classmethod
    def failed(cls, path, error: str, model_version: str | None = None) -> "Result":
        return cls(path=None if path is None else str(path), status="error", error=error,
                   reason="the photo could not be read", reason_code="unreadable", model_version=model_version)

    def to_dict(self) -> dict:
        """JSON-ready: path, status, label, confidence, top_k [{label, probability}], error, reason_code, crop,
        crop_note, framing and leaf_box."""
        return {
            "path": self.path,
            "status": self.status,
            "label": self.label,
            "confidence": None if self.confidence is None else round(float(self.confidence), 4),
            "top_k": [{"label": lab, "probability": round(float(p), 4)} for lab, p in self.top_k],
            "error": self.error,
            "reason_code": self.reason_code,
            "crop": self.crop,
            "crop_note": self.crop_note,
            "crop_scores": [{"crop": c, "probability": round(float(p), 4)} for c, p in self.crop_scores],
            **({"group": dict(self.group)} if self.group is not None else {}),
            **({"leaves": [dict(lf) for lf in self.leaves]} if self.leaves is not None else {}),
            "framing": self.framing,
            "leaf_box": list(self.leaf_box) if self.leaf_box else None,
        }

    def heatmap_overlay(self, label: str | None = None, alpha: float = 0.45, on: str = "photo") -> np.ndarray:
        """RGB uint8: the class-activation map of `label` (default: the top class) blended over the
        original photo (`on="photo"`: the map is turned back and placed where the leaf locator found the
        leaf) or over the square view the model saw (`on="view"`)."""
        from leafscout.model.heatmap import overlay, overlay_on_photo

        if self.status == "error":
            raise ValueError(f"no heatmap: {self.path or 'the photo'} could not be read ({self.error})")
        if self._cam is None or self._crop is None:
            raise ValueError("no heatmap kept for this result; call Predictor.predict (or predict_many with heatmap=True)")
        name = label or self.top_k[0][0]
        if name not in self._labels:
            raise ValueError(f"unknown label '{name}'; expected one of the model's labels, e.g. {self.top_k[0][0]}")
        cam = self._cam[self._labels.index(name)]
        if on == "photo" and self._photo is not None and self._located is not None and self._policy == "squash":
            return overlay_on_photo(self._photo, cam, self._located.box, self._located.rotated, alpha=alpha)
        return overlay(self._crop, cam, alpha=alpha)

    def summary(self) -> str:
        """One readable line, e.g. for the CLI."""
        if self.status == "error":
            return f"error: {self.error}"
        if self.status == "not_a_leaf":
            return f"not a leaf: {self.reason}"
        if self.reason_code == NO_LEAF_SEEN:
            return f"uncertain: {self.reason}"
        others = ", ".join(f"{lab} {p:.0%}" for lab, p in self.top_k[1:])
        text = f"{self.label} {self.confidence:.0%}" + (f" (then {others})" if others else "")
        return text if self.status == "ok" else f"uncertain: {text}; {self.reason}"

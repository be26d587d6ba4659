"""Edge inference: onnxruntime + OpenCV + numpy, never torch.

Everything the runtime needs travels in the ONNX file's metadata (labels, preprocessing, temperature,
decision thresholds), so a phone build and a laptop give the same answer as training evaluation, and a
new model file is a drop-in upgrade. Preprocessing is `model.preprocess`, the same code training uses.
"""
from __future__ import annotations

import json
import os
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from leafscout.model.imageio import ImageError, read_image
from leafscout.model.locate import Located, LocatorConfig, locate, plant_share
from leafscout.model.preprocess import PreprocessConfig, geometry, normalize, tta_geometries
from leafscout.model.results import CROP_MISMATCH, NO_LEAF_SEEN, Result
from leafscout.model.sessions import session_options

MODEL_ENV = "LEAFSCOUT_MODEL"
REQUIRED_META = ("labels", "preprocess", "temperature", "thresholds", "background_label")
META_PREFIX = "leafscout."


class ModelError(RuntimeError):
    """The model file is missing or is not a LeafScout model; the message says how to fix it."""


class UnknownCropError(ValueError):
    """`crop=` names a crop the model has no labels for; the message lists the known crops."""
    code = "unknown_crop"


CROP_ALIASES = {"maize": "corn", "pepper": "pepper_bell", "bell_pepper": "pepper_bell", "chili": "chilli",
                "orange": "citrus", "lemon": "citrus", "lime": "citrus", "pomelo": "citrus", "bean": "bean"}


def default_model_path() -> Path:
    """$LEAFSCOUT_MODEL if set, else the model shipped inside the package (model/leafscout.onnx)."""
    env = os.environ.get(MODEL_ENV)
    return Path(env) if env else Path(__file__).resolve().parent / "leafscout.onnx"


def _softmax_energy(logits: np.ndarray, t: float) -> tuple[np.ndarray, float]:
    z = logits.astype(np.float64) / t
    m = z.max()
    e = np.exp(z - m)
    s = e.sum()
    return (e / s).astype(np.float32), float(-t * (m + np.log(s)))


class Predictor:
    """Loads the model once; `predict` for one photo, `predict_many` for a folder's worth."""

    def __init__(self, path: str | os.PathLike | None = None, threads: int | None = None):
        import onnxruntime as ort  # here, not at import: `leafscout --help` must stay instant

        self.path = Path(path) if path is not None else default_model_path()
        if not self.path.is_file():
            raise ModelError(f"no model file at {self.path}. The base install ships model/leafscout.onnx; "
                             f"pass --model PATH (Python: Predictor(path=...)) or set ${MODEL_ENV}")
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        try:
            self.session = ort.InferenceSession(str(self.path), session_options(threads),
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ModelError(f"{self.path} is not a loadable ONNX model ({type(exc).__name__}: {exc}); "
                             f"re-download or re-export it") from None
        self.threads = threads
        self._read_metadata()

    def _read_metadata(self) -> None:
        raw = self.session.get_modelmeta().custom_metadata_map
        meta = {k[len(META_PREFIX):]: v for k, v in raw.items() if k.startswith(META_PREFIX)}
        missing = [k for k in REQUIRED_META if k not in meta]
        if missing:
            raise ModelError(f"{self.path} lacks LeafScout metadata {', '.join(META_PREFIX + k for k in missing)}; "
                             f"export it with model.export.export_onnx")
        try:
            self.labels: list[str] = list(json.loads(meta["labels"]))
            self.cfg = PreprocessConfig.from_json(meta["preprocess"])
            self.temperature = float(meta["temperature"])
            th = json.loads(meta["thresholds"])
            self.uncertain_below = float(th["uncertain_below"])
            self.ood_energy_above = float(th["ood_energy_above"])
            # models before 2.0 have no plant-colour guard: None keeps their decisions unchanged
            self.plant_share_min = float(th["plant_share_min"]) if "plant_share_min" in th else None
            self.locator = LocatorConfig.from_json(meta.get("locator"))
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{self.path}: malformed LeafScout metadata ({type(exc).__name__}: {exc})") from None
        self.background_label = meta["background_label"]
        self.version = meta.get("version", "unknown")
        self.model_name = meta.get("model_name", "unknown")
        self.meta = meta
        names_in = [i.name for i in self.session.get_inputs()]
        names_out = [o.name for o in self.session.get_outputs()]
        if names_in != ["image"] or names_out[:2] != ["logits", "cam"]:
            raise ModelError(f"{self.path}: expected input 'image' and outputs 'logits', 'cam'; "
                             f"got {names_in} -> {names_out}")
        n_out = self.session.get_outputs()[0].shape[1]
        if len(set(self.labels)) != len(self.labels) or (isinstance(n_out, int) and n_out != len(self.labels)):
            raise ModelError(f"{self.path}: {len(self.labels)} labels in metadata but {n_out} outputs")
        if self.temperature <= 0:
            raise ModelError(f"{self.path}: temperature must be > 0, got {self.temperature}")

    # ------------------------------------------------------------------ steps

    def load(self, image) -> np.ndarray:
        """Decode through the image gate; big JPEGs come back reduced but never below the resize size."""
        return read_image(image, min_short_side=self.cfg.resize_size)

    @property
    def crops(self) -> list[str]:
        """The crops this model has labels for (the part of each label before the dot)."""
        return sorted({lab.split(".", 1)[0] for lab in self.labels if lab != self.background_label})

    def check_crop(self, crop: str | None) -> str | None:
        """Normalise a crop name ("Maize" -> "corn"); None/"" means no crop given. Unknown -> UnknownCropError."""
        if crop is None or not str(crop).strip():
            return None
        name = str(crop).strip().lower().replace(" ", "_").replace("-", "_")
        name = CROP_ALIASES.get(name, name)
        if name not in self.crops:
            import difflib
            near = difflib.get_close_matches(name, self.crops, n=1)
            hint = f" Did you mean '{near[0]}'?" if near else ""
            raise UnknownCropError(f"the model has no labels for crop '{crop}' yet; it knows "
                                   f"{', '.join(self.crops)}.{hint} Leave the crop empty to let the model decide.")
        return name

    def locate(self, rgb: np.ndarray) -> Located:
        """The leaf locator of this model's metadata (models before 2.0 use the whole photo)."""
        return locate(rgb, self.locator)

    def views(self, rgb: np.ndarray, tta: bool = False, located: Located | None = None) -> tuple[np.ndarray, np.ndarray]:
        """-> (float32 [V,3,S,S] network inputs, uint8 SxSx3 image of view 0). View 0 is exactly
        `model.preprocess.preprocess` (leaf locator, then resize); with `tta` the views of
        `model.preprocess.tta_geometries` (mirror, a closer view and its mirror) are added."""
        leaf = (located or self.locate(rgb)).image
        if not tta:
            crop = geometry(leaf, self.cfg)
            return normalize(crop, self.cfg)[None], crop  # == preprocess(rgb, cfg, locator), without resizing twice
        views = tta_geometries(leaf, self.cfg)
        return np.stack([normalize(v, self.cfg) for v in views]), views[0]

    def infer(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """float32 [N,3,S,S] -> raw logits [N,C] (before temperature) and cam [N,C,h,w]."""
        logits, cam = self.session.run(["logits", "cam"], {"image": np.ascontiguousarray(batch, np.float32)})
        return logits, cam

    def crop_of(self, label: str) -> str:
        """`tomato.late_blight` -> `tomato`."""
        return label.split(".", 1)[0]

    def crop_mass(self, probs: np.ndarray) -> list[tuple[str, float]]:
        """Probability of each crop (the sum over its labels), highest first, without the no-leaf class."""
        mass: dict[str, float] = {}
        for lab, p in zip(self.labels, probs):
            if lab != self.background_label:
                c = self.crop_of(lab)
                mass[c] = mass.get(c, 0.0) + float(p)
        return sorted(mass.items(), key=lambda kv: -kv[1])

    @staticmethod
    def unnamed_problem(label: str) -> bool:
        """A `<crop>.other` label names a crop, not a problem: the crop was recognised but its problem is
        none of those the model can name (datasets/labels.yaml)."""
        return label.split(".", 1)[-1] == "other"

    def decide(self, logits: np.ndarray, top_k: int = 3, plant: float | None = None, crop: str | None = None) -> dict:
        """Raw logits [C] -> status, label, confidence, top-k and reason, using the metadata thresholds.

        The crop comes first: the crop with the most probability (summed over its labels) is the answer's
        crop, and the label is the most likely one of that crop, so a photo the model takes for rice is never
        answered with another crop's disease because rice's probability is spread over several rice labels.
        `confidence` stays the label's own calibrated probability. A `<crop>.other` answer is "uncertain":
        the crop is known, the problem is not one the model can name.
        "not_a_leaf" needs both: the model finds no leaf (its no-leaf class wins, or the photo is unlike
        anything it learned) AND the photo shows almost no living-leaf colour (`plant` < plant_share_min).
        A plant the model does not know is "uncertain" with its nearest leaf labels, never "not a leaf"; when
        its own answer is "no leaf" on a photo with plant colour, that stays the label (uncertain, reason code
        `NO_LEAF_SEEN`; top_k still ranks the leaf labels): a label holding ~0% is no guess to show a farmer.
        `crop` (named by the grower) limits the answer to that crop's labels (calibrated over them alone)."""
        probs, energy = _softmax_energy(logits, self.temperature)
        n = max(1, min(top_k, len(self.labels)))
        order = np.argsort(-probs, kind="stable")
        best, conf = self.labels[order[0]], float(probs[order[0]])
        bg_wins = best == self.background_label
        p_bg = conf if bg_wins else None  # before the grower's crop narrows the labels
        unfamiliar = energy > self.ood_energy_above
        plant_seen = self.plant_share_min is not None and plant is not None and plant >= self.plant_share_min
        crops = self.crop_mass(probs)
        crop_note = None
        if crop is not None:
            keep = np.array([self.crop_of(lab) == crop for lab in self.labels])
            cp, _ = _softmax_energy(np.where(keep, logits, -np.inf), self.temperature)
            other, other_p = next(((c, p) for c, p in crops if c != crop), (None, 0.0))
            named_p = dict(crops).get(crop, 0.0)
            if other is not None and other_p >= 0.5 and other_p >= 2 * named_p:  # clearly, not a near tie
                crop_note = (f"the photo looks more like {other} ({other_p:.0%}) than {crop}; "
                             f"check the crop you chose")
            probs = np.nan_to_num(cp)
            order = np.array([i for i in np.argsort(-probs, kind="stable") if keep[i]])
            answer_crop = crop
        else:
            answer_crop = crops[0][0] if crops else None
        crop_info = [(c, round(p, 4)) for c, p in crops if p >= 0.01]
        leaf = [int(i) for i in order if self.labels[i] != self.background_label]
        first = next((i for i in leaf if self.crop_of(self.labels[i]) == answer_crop), leaf[0])
        # `<crop>.other` carries no evidence of a problem, only of the crop: without living-leaf colour in the
        # photo it is no plant at all (a cup, the sky), so it counts as finding no leaf
        crop_only = self.unnamed_problem(self.labels[first]) and self.plant_share_min is not None and plant is not None
        if (bg_wins or unfamiliar or crop_only) and not plant_seen:
            why = ("the no-leaf class scored highest" if bg_wins else
                   f"the photo is unlike the crop leaves the model learned (energy {energy:.2f} above "
                   f"{self.ood_energy_above:.2f})" if unfamiliar else
                   "the photo has almost no living-leaf colour and shows no problem the model can name")
            code = "no_leaf_class" if bg_wins else "unfamiliar" if unfamiliar else "no_plant_colour"
            top = [(self.labels[i], float(probs[i])) for i in order[:n]]
            return {"status": "not_a_leaf", "label": self.background_label,
                    "confidence": conf if bg_wins else None, "top_k": top, "reason": why, "reason_code": code,
                    "energy": energy, "crop_note": crop_note, "crop_scores": crop_info}
        # a leaf: the answer crop's best label first, then the rest of the leaf ranking
        ranked = [first] + [i for i in leaf if i != first]
        top = [(self.labels[i], float(probs[i])) for i in ranked[:n]]
        label, conf = top[0]
        if bg_wins:
            # the model's own answer is "no leaf", yet the photo has plant colour (grass, plants far away, a blur):
            # the leaf labels hold almost nothing, so the answer stays its own (`NO_LEAF_SEEN`), with the
            # nearest leaf labels in top_k for whoever checks; uncertain, as a plant photo is never "not a leaf"
            label, conf = self.background_label, p_bg
            status, code = "uncertain", NO_LEAF_SEEN
            reason = ("the photo has plant colour but the model sees no single leaf in it (grass, plants far away or "
                      "a blurred photo?)")
        elif unfamiliar:
            status, code = "uncertain", "unfamiliar"
            reason = ("a plant is in the photo but the model does not recognise this crop or problem yet; "
                      "the nearest labels are shown")
        elif crop_note is not None:
            # the grower named a crop the photo clearly does not show: the answer is only that crop's nearest
            # label (val: the note fires on 0.8% of photos named with their own crop, on 99.6% named with another;
            # benchmarks/crop_mismatch.py), so nobody should act on it before checking the crop
            status, code, reason = "uncertain", CROP_MISMATCH, crop_note
        elif self.unnamed_problem(label):
            status, code = "uncertain", "unnamed_problem"
            reason = (f"{self.crop_of(label)}: not one of the diseases LeafScout knows; "
                      f"choose the problem from the {self.crop_of(label)} entries of the advice")
        elif conf < self.uncertain_below:
            status, code = "uncertain", "low_confidence"
            reason = f"confidence {conf:.0%} is under the {self.uncertain_below:.0%} needed to be sure"
        else:
            status, reason, code = "ok", "", ""
        return {"status": status, "label": label, "confidence": conf, "top_k": top, "reason": reason,
                "reason_code": code, "energy": energy, "crop_note": crop_note, "crop_scores": crop_info}

    def combine(self, results: list[Result], top_k: int = 3, crop: str | None = None) -> Result:
        """Several photos of one plant or plot -> one answer: the mean of their logits (the evidence of every
        photo counts, as with test-time augmentation), decided by the same rules as one photo. Photos that
        could not be read, or that show no leaf (`Result.saw_a_leaf`), do not vote; `group` says how many photos
        there were, how many voted and how many of those gave the combined label on their own."""
        voters = [r for r in results if r.saw_a_leaf and r.logits is not None]
        group = {"photos": len(results), "voted": len(voters), "agree": 0}
        if not voters:
            readable = [r for r in results if r.status != "error"]
            if any(r.reason_code == NO_LEAF_SEEN for r in readable):
                # plant colour in at least one photo, no single leaf in any: uncertain, as for one such photo
                # (a plant photo is never "not a leaf"), with no disease guess
                return Result(path=None, status="uncertain", model_version=self.version, crop=crop,
                              label=self.background_label, reason_code=NO_LEAF_SEEN, group=group,
                              reason="the photos have plant colour but the model sees no single leaf in any of them")
            reason = "no photo of the group shows a leaf" if readable else "no photo of the group could be read"
            return Result(path=None, status="not_a_leaf" if readable else "error", model_version=self.version,
                          label=self.background_label if readable else None, reason=reason, crop=crop,
                          reason_code="no_leaf_in_group" if readable else "unreadable",
                          error=None if readable else reason, group=group)
        plant = max((r.plant_share for r in voters if r.plant_share is not None), default=None)
        mean = np.mean([r.logits for r in voters], axis=0)
        d = self.decide(mean, top_k, plant, crop)
        group["agree"] = sum(r.label == d["label"] for r in voters)
        return Result(path=None, model_version=self.version, logits=mean, crop=crop, plant_share=plant,
                      timing={"total": round(sum(r.timing.get("total", 0.0) for r in voters), 3)}, group=group, **d)

    def with_leaves(self, whole: Result, leaves: list, crops: list[np.ndarray], top_k: int = 3) -> Result:
        """The answer of a field photo from its leaves: each leaf crop (`leaves[i]` is the scene detector's
        `Leaf`, `crops[i]` its pixels) is named on its own, and the answer is the mean of the logits of the
        whole photo and of the leaves, decided by the same rules as one photo (as `combine` does for several
        photos of one plant). The whole photo keeps its vote: a leaf box cut too tight loses the lesion.
        Returns `whole` with its decision replaced and `leaves` filled; its heatmap stays the whole photo's."""
        import dataclasses
        if whole.status == "error" or whole.logits is None or not leaves:
            return whole
        # the leaves in one batch: each through the same locator and geometry as a photo of its own
        batch = np.concatenate([self.views(c, False)[0] for c in crops])
        logits, _ = self.infer(batch)
        named = [self.decide(lg, top_k, plant_share(c), whole.crop) for lg, c in zip(logits, crops)]
        mean = np.mean(np.concatenate([whole.logits[None], logits]), axis=0)
        d = self.decide(mean, top_k, whole.plant_share, whole.crop)
        each = [{"box": [round(float(v), 1) for v in lf.box], "score": round(float(lf.score), 4), "label": r["label"],
                 "confidence": None if r["confidence"] is None else round(float(r["confidence"]), 4),
                 "status": r["status"]} for lf, r in zip(leaves, named)]
        return dataclasses.replace(whole, logits=mean, leaves=each, **d)

    # ------------------------------------------------------------------ API

    def predict(self, image, top_k: int = 3, tta: bool = False, path: str | None = None,
                crop: str | None = None) -> Result:
        """One photo (path, bytes, PIL image or RGB uint8 array) -> Result. A bad photo raises ImageError.
        `crop` ("coffee"): the grower says which plant this is; the answer keeps to its labels."""
        crop = self.check_crop(crop)
        t0 = time.perf_counter()
        rgb = self.load(image)
        t1 = time.perf_counter()
        located = self.locate(rgb)
        x, view = self.views(rgb, tta, located)
        plant = plant_share(rgb)
        t2 = time.perf_counter()
        logits, cam = self.infer(x)
        t3 = time.perf_counter()
        if path is None and isinstance(image, (str, os.PathLike)):
            path = str(image)
        return self._result(path, logits, cam[0], view, top_k,
                            {"decode": (t1 - t0) * 1e3, "preprocess": (t2 - t1) * 1e3, "infer": (t3 - t2) * 1e3},
                            located, plant, crop, rgb)

    def _result(self, path, logits: np.ndarray, cam: np.ndarray | None, view: np.ndarray | None, top_k: int,
                timing: dict, located: Located | None = None, plant: float | None = None,
                crop: str | None = None, photo: np.ndarray | None = None) -> Result:
        mean = logits.mean(0)  # TTA: mean of the views' logits
        d = self.decide(mean, top_k, plant, crop)
        timing["total"] = sum(timing.values())
        framing = located.framing if located is not None else "whole"
        box = tuple(int(v) for v in located.box) if located is not None else None
        return Result(path=path, model_version=self.version, timing={k: round(v, 3) for k, v in timing.items()},
                      logits=mean, crop=crop, framing=framing, leaf_box=box, plant_share=plant,
                      _crop=view, _cam=cam, _labels=self.labels, _located=located if photo is not None else None,
                      _photo=photo, _policy=self.cfg.policy, **d)

    def predict_many(self, images: Iterable, top_k: int = 3, tta: bool = False, batch_size: int = 8,
                     workers: int = 2, heatmap: bool = False, crop: str | None = None) -> Iterator[Result]:
        """Results in input order. Decoding runs in `workers` threads (OpenCV releases the GIL) while the
        model runs batches; a bad photo yields a Result with status "error" and never stops the batch.
        `heatmap=False` drops the crop and maps so a long run does not hold them all in memory."""
        crop = self.check_crop(crop)
        pool = ThreadPoolExecutor(max(1, workers))

        def prepare(item):
            t0 = time.perf_counter()
            try:
                rgb = self.load(item)
                t1 = time.perf_counter()
                located = self.locate(rgb)
                x, view = self.views(rgb, tta, located)
                extra = (located, plant_share(rgb), rgb if heatmap else None)
            except ImageError as exc:
                return item, None, None, str(exc), {}, None
            except Exception as exc:  # never let one photo end a thousand-photo run
                return item, None, None, f"unexpected {type(exc).__name__} while reading: {exc}", {}, None
            t2 = time.perf_counter()
            return item, x, view, None, {"decode": (t1 - t0) * 1e3, "preprocess": (t2 - t1) * 1e3}, extra

        def name(item):
            return str(item) if isinstance(item, (str, os.PathLike)) else None

        try:
            pending: deque = deque()
            it = iter(images)
            ahead = max(2 * batch_size, 2 * workers)
            exhausted = False
            while True:
                while not exhausted and len(pending) < ahead:
                    try:
                        pending.append(pool.submit(prepare, next(it)))
                    except StopIteration:
                        exhausted = True
                if not pending:
                    return
                ready = []
                views = 0
                while pending and len(ready) < batch_size:
                    ready.append(pending.popleft().result())
                good = [r for r in ready if r[3] is None]
                outputs = {}
                if good:
                    batch = np.concatenate([r[1] for r in good])
                    t0 = time.perf_counter()
                    try:
                        logits, cam = self.infer(batch)
                        error = None
                    except Exception as exc:
                        error = f"inference failed ({type(exc).__name__}: {exc})"
                    per = (time.perf_counter() - t0) * 1e3 / len(good)
                    for r in good:
                        v = r[1].shape[0]
                        outputs[id(r)] = (None, None, error) if error else (logits[views:views + v], cam[views], None)
                        views += v
                    for r in good:
                        r[4]["infer"] = per
                for r in ready:
                    item, _, view, err, timing, extra = r
                    if err is None:
                        lg, cm, err = outputs[id(r)]
                    if err is not None:
                        yield Result.failed(name(item), err, self.version)
                        continue
                    located, plant, photo = extra
                    yield self._result(name(item), lg, cm if heatmap else None, view if heatmap else None,
                                       top_k, timing, located, plant, crop, photo)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def info(self) -> dict:
        """What a person checking a deployment needs: which model, which labels, which thresholds."""
        return {
            "model_name": self.model_name,
            "version": self.version,
            "path": str(self.path),
            "labels": list(self.labels),
            "num_classes": len(self.labels),
            "background_label": self.background_label,
            "temperature": self.temperature,
            "thresholds": {"uncertain_below": self.uncertain_below, "ood_energy_above": self.ood_energy_above,
                           "plant_share_min": self.plant_share_min},
            "locator": asdict(self.locator),
            "crops": self.crops,
            "input_size": self.cfg.input_size,
            "preprocess": asdict(self.cfg),
            "created": self.meta.get("created"),
            "note": self.meta.get("note"),
            "threads": self.threads,
        }

"""The one diagnosis service: photo (+ crop, + plot) -> Result -> field-log context -> Advice -> log record.

The app, its API and the CLI all call `DiagnosisService`; nothing else wires the runtime, the advisor and the
field log together, so they cannot disagree (for example about which copper total the copper cap is checked
against: always the plot's 7-year ledger, exactly as the certification rules count it).

Nothing heavy loads at import. The model loads once (`warm_up` or first use), under a lock; the advisor's list
of detectable problems comes from the loaded model's own metadata, not from the training label map, so an
installed wheel needs no source tree.

    svc = DiagnosisService()                                   # shipped model, $LEAFSCOUT_DB field log
    d = svc.diagnose("leaf.jpg", crop="tomato", plot="Doi A")  # context from the log: organic status, copper
    d.status, d.label, d.advice.recommended_ids, d.context.copper_7y
    svc.record(d, plot="Doi A", confirmed_by="Lò Thị Hoa")     # a person confirmed: write it to the log
    svc.record(d, plot="Doi A")                                # kept, but unconfirmed (the audit skips it)
"""
from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator

from .errors import ServiceError, image_error_code, strip_paths
from .model import results as _results  # light: no numpy, no model

NO_LEAF_SEEN = _results.NO_LEAF_SEEN  # the front ends (app, batch) read reason codes through the service
CROP_NOT_LEARNED = _results.CROP_NOT_LEARNED  # set here: a plot crop the model has no labels for
CROP_MISMATCH = _results.CROP_MISMATCH  # set by the runtime: the photo clearly shows another crop than the one named

DB_ENV = "LEAFSCOUT_DB"
PESTS_ENV = "LEAFSCOUT_PESTS_MODEL"  # the insect-pest detector (default: model/pests.onnx when it is there)
ORGANIC_STATUSES = ("certified", "in_conversion", "conventional")
# The insect detector is trained on one crop's pests (rice): it runs on a photo only when the classifier gives
# that crop at least this probability, the grower named that crop, or the classifier does not know the plant
# ("uncertain"). On a tomato leaf on paper it would cost ~60 ms to find nothing (benchmarks/bench_pests.py).
PEST_CROP_MIN = 0.05
# A photo with no leaf colour (not_a_leaf) is looked at only when the classifier is this sure it shows that crop:
# an insect close-up on a dry stem. On the project's non-plant photos (a person, a cat, a cup) the detector
# then stays off or finds nothing (benchmarks/ood_eval.py fixtures; the note of issue 17 gives the figures).
PEST_NO_LEAF_CROP_MIN = 0.9
# A scene detector (one with a leaf class) runs on every photo. Where the leaf locator found no plain backdrop
# (a field photo), the answer weighs the whole photo and up to this many of the leaves it found, each named on
# its own (Predictor.with_leaves); figures: benchmarks/leaf_boxes.py, in the note of issue 17.
LEAF_VOTES = 3
# An `ok` answer more likely wrong than right: its advice says "check the signs first" and its today card names
# the steps without doses (benchmarks/confidence_bands.py prints how often ok answers are right by confidence).
# 0.5 (even odds) was the first choice; on the field-like photos the thresholds are chosen on, ok answers at
# 0.50-0.60 are right 48% of the time and at 0.60-0.70 51% (3.1.0; 39% at 0.39-0.50), so the line is 0.6.
CHECK_FIRST_BELOW = 0.6
LEAF_MIN_SIDE = 32  # a leaf crop smaller than the image gate's 32 px a side shows no lesion worth a vote


# ---------------------------------------------------------------------------------------------- advisor

def model_labels(model_path: str | os.PathLike | None = None) -> tuple[str, ...]:
    """The labels stored in an ONNX model's metadata, without building a Predictor (no inference session
    options, no warm-up): what `leafscout advise` needs to know which problems the model can see."""
    import onnxruntime as ort

    from leafscout.model.runtime import default_model_path

    path = Path(model_path) if model_path else default_model_path()
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    raw = sess.get_modelmeta().custom_metadata_map
    return tuple(_labels_from_metadata(raw, path))


def _labels_from_metadata(raw: dict, path) -> list[str]:
    import json

    for key in ("leafscout.labels", "labels"):
        if key in raw:
            labels = json.loads(raw[key])
            if isinstance(labels, list) and all(isinstance(x, str) for x in labels):
                return labels
    raise ServiceError("other", f"{path}: no LeafScout labels in the model metadata")


@lru_cache(maxsize=8)
def load_advisor(labels: tuple[str, ...] | None = None, kb_dir: str | None = None):
    """The advisor over the shipped (or `kb_dir`) knowledge base, told which labels the model detects.

    With `labels` the knowledge base is checked against the model that is actually loaded: every model label
    needs a problem entry. Without it (no model at hand) the training label map is used when present."""
    from leafscout.advisor import Advisor
    from leafscout.advisor.kb import read_kb
    from leafscout.advisor.schema import validate

    if labels is None:
        return Advisor.load(kb_dir=kb_dir)
    kb = read_kb(kb_dir or None)
    # Checked against the loaded model: each of its labels needs a problem entry. Problems the knowledge base
    # declares detectable but this model lacks (a smaller or older model) are fine; they are shown as not
    # detectable, because for this model they are not.
    declared = {pid for pid, p in kb.problems.items() if isinstance(p, dict) and p.get("detectable_by_model", True)}
    # a label with no entry yet (a crop a researcher just trained in): its answers come without advice, and the
    # front ends say so (`Advisor.unadvised`), rather than the whole model being refused
    unadvised = tuple(lab for lab in labels if lab not in kb.problems)
    kb.model_labels = (frozenset(labels) - frozenset(unadvised)) | frozenset(declared)
    validate(kb, require_all_labels=True)
    kb.model_labels = frozenset(labels) - frozenset(unadvised)
    adv = Advisor(kb)
    adv.unadvised = unadvised
    return adv


def default_advisor(model_path=None, kb_dir: str | None = None):
    """For commands without a loaded model (`leafscout advise`): labels from the model file's metadata;
    if no model can be read, the training label map (source checkout)."""
    try:
        labels = model_labels(model_path)
    except Exception:
        labels = None
    return load_advisor(labels, kb_dir)


def audit_season(log, start, end, advisor=None, lang: str = "en"):
    """The season audit with the advisor's substance list and copper cap: the service joins the two
    layers, so neither the field log nor the advisor imports the other."""
    from leafscout.fieldlog.audit import season_audit

    advisor = advisor or default_advisor()
    return season_audit(log, start, end, advisor.check_substance, float(advisor.copper_cap_kg_ha_7y), lang=lang)


def copper_check(log, action, cap_kg_ha_7y: float) -> dict | None:
    """After a copper action is logged: the plot's 7-year copper with it, against the cap (kg Cu/ha).

    Every 7-year window that holds the action and ends by this year is checked (a back-dated spray also
    raises the later windows); the fullest one is returned: {"plot", "total", "first", "last", "cap", "over"}.
    None for an action without copper."""
    kg = float(getattr(action, "copper_kg_ha", 0) or 0)
    if kg <= 0:
        return None
    from leafscout.fieldlog.api import COPPER_WINDOW_YEARS as W
    from leafscout.fieldlog.timeutil import local_year

    year = local_year(action.at)
    ledger = log.copper_ledger(action.plot_id)
    ends = range(year, max(year, min(year + W - 1, local_year())) + 1)
    last, total = max(((y, sum(v for k, v in ledger.items() if y - W < k <= y)) for y in ends), key=lambda x: x[1])
    plot = log.get_plot(action.plot_id).name
    return {"plot": plot, "total": round(total, 6), "first": last - W + 1, "last": last, "cap": float(cap_kg_ha_7y),
            "over": total > float(cap_kg_ha_7y) + 1e-9}


def copper_warning(log, action, advisor=None, lang: str = "en") -> str | None:
    """One line when a logged copper action takes its plot over the advisor's 7-year copper cap (28 kg Cu/ha),
    in `lang`; None otherwise. The cap comes from the advisor here, so the field log needs no advisor."""
    if not float(getattr(action, "copper_kg_ha", 0) or 0) > 0:
        return None
    from .i18n import number, t

    advisor = advisor or default_advisor()
    c = copper_check(log, action, float(advisor.copper_cap_kg_ha_7y))
    if not c or not c["over"]:
        return None
    return t("copper_over_cap", lang, plot=repr(c["plot"]) if lang == "en" else f"\u201c{c['plot']}\u201d",
             total=number(c["total"], lang), cap=number(c["cap"], lang), first=c["first"], last=c["last"])


def substance_warning(action, advisor=None, lang: str = "en") -> str | None:
    """One line when a logged action names a substance or product the advisor says is not allowed (a banned
    pesticide, "Karate 2.5EC", also beside an allowed substance): the record is kept as it happened, and the grower
    or officer is told at once, before the season audit flags it. Judged as the audit judges its row
    (`fieldlog.audit.judge_action`); None when allowed, unknown or nothing was named."""
    from leafscout.fieldlog.audit import judge_action
    from .i18n import t

    advisor = advisor or default_advisor()
    v = judge_action(action, advisor.check_substance, lang)
    if v.allowed is not False or not v.known:
        return None
    return t("substance_not_allowed", lang, name=v.name, reason=v.reason)


# ---------------------------------------------------------------------------------------------- context

@dataclass
class ContextInfo:
    """Where each context value came from, for display: the plot, its ledger, the form."""
    plot: str | None = None
    plot_crop: str | None = None
    area_ha: float | None = None
    organic_status: str = "certified"
    organic_from: str = "default"      # plot | given | default
    copper_year: float = 0.0
    copper_7y: float = 0.0
    copper_from: str = "none"          # ledger | given | ledger+given | none
    copper_cap: float | None = None
    days_to_harvest: int | None = None

    def to_dict(self) -> dict:
        from dataclasses import asdict
        return asdict(self)


@dataclass
class Diagnosis:
    """One photo's answer with everything around it. `result` is the runtime's Result (None when no photo)."""
    result: Any
    context: Any = None                # advisor Context
    info: ContextInfo = field(default_factory=ContextInfo)
    advice: Any = None                 # advisor Advice, None for an unreadable photo
    error_code: str | None = None      # one of leafscout.errors.ERROR_CODES when status == "error"
    error_detail: str | None = None    # English, no server paths
    crop: str | None = None
    crop_note: str | None = None
    crop_from: str | None = None       # "given" (crop named with the photo), "plot" (the plot's crop), None
    framing: str | None = None
    photo: str | None = None           # the path it was read from (server side; never shown)
    display_name: str | None = None
    observation_id: int | None = None
    pests: list | None = None          # model.detect.Pest list; None when no pest detector is installed
    pest_actions: list | None = None   # leafscout.pests.pest_action per insect label: count vs KB threshold
    pest_advice: dict = field(default_factory=dict)  # insect label -> advisor Advice (KB entries only)
    duplicate_of: int | None = None    # in a group: the 1-based number of an earlier photo with the same bytes

    @property
    def pest_counts(self) -> dict | None:
        if self.pests is None:
            return None
        from .pests import pest_counts
        return pest_counts(self.pests)

    def pests_dict(self) -> dict:
        """{"pests": [{label, score, box}], "pest_counts": {label: n}, "pest_actions": [...]} when a pest
        detector ran on the photo; {} when none is installed (or the photo was unreadable)."""
        if self.pests is None:
            return {}
        return {"pests": [p.to_dict() for p in self.pests], "pest_counts": self.pest_counts,
                "pest_actions": list(self.pest_actions or [])}

    @property
    def status(self) -> str:
        return self.result.status if self.result is not None else "error"

    @property
    def label(self) -> str | None:
        return None if self.result is None else self.result.label

    @property
    def confidence(self) -> float | None:
        return None if self.result is None else self.result.confidence

    @property
    def saw_a_leaf(self) -> bool:
        return self.result is not None and self.result.saw_a_leaf

    @property
    def reason_code(self) -> str:
        """Why the status is what it is, as the runtime's code (model/results.py); "unreadable" without a result."""
        return "unreadable" if self.result is None else (getattr(self.result, "reason_code", "") or "")

    def copper_decision(self) -> dict:
        """What the advice decided about copper: recommended copper treatments, and those blocked by the cap."""
        adv = self.advice
        if adv is None:
            return {"recommended": [], "blocked_by_cap": []}
        copper = [s.treatment_id for s in adv.steps if s.treatment_id and _is_copper(s)]
        blocked = [b.treatment_id for b in adv.blocked if b.reason_code == "copper_cap"]
        return {"recommended": copper, "blocked_by_cap": blocked}

    def to_dict(self) -> dict:
        """JSON-ready and language-free (names and advice texts carry both languages)."""
        r = self.result
        d = {"status": self.status, "label": self.label,
             "confidence": None if r is None or r.confidence is None else round(float(r.confidence), 4),
             "top_k": [] if r is None else [{"label": a, "probability": round(float(p), 4)} for a, p in r.top_k],
             "error_code": self.error_code, "error": self.error_detail, "reason_code": self.reason_code,
             "model_version": None if r is None else r.model_version,
             "crop": self.crop, "crop_note": self.crop_note, "crop_from": self.crop_from, "framing": self.framing,
             "file": self.display_name,
             "context": self.info.to_dict(), "copper": self.copper_decision(),
             "observation_id": self.observation_id}
        if r is not None and getattr(r, "group", None) is not None:
            d["group"] = dict(r.group)  # a group of photos: how many, how many voted, how many agree
        if r is not None and getattr(r, "leaves", None) is not None:
            d["leaves"] = [dict(lf) for lf in r.leaves]  # each leaf found, numbered as in the app, its own answer
        d.update(self.pests_dict())
        return d


def _is_copper(step) -> bool:
    text = f"{step.treatment_id or ''} {step.active or ''}".lower()
    return "copper" in text or "bordeaux" in text


# ---------------------------------------------------------------------------------------------- service

class DiagnosisService:
    """Model, advisor and field log, created once and shared by every request (thread-safe)."""

    def __init__(self, model_path: str | os.PathLike | None = None, db: str | None = None,
                 threads: int | None = None, kb_dir: str | None = None, predictor=None, log=None,
                 pests_model_path: str | os.PathLike | None = None, detector=None):
        self._model_path = Path(model_path) if model_path else None
        self.db = db if db is not None else os.environ.get(DB_ENV)
        self.threads = threads
        self.kb_dir = kb_dir
        self.loads = 0
        self._lock = threading.Lock()
        self._predictor = predictor
        self._log = log
        self._advisor = None
        self._crop_phrases = None  # plot crop text -> crop id (built once from the knowledge base's crop names)
        self._pests_model_path = pests_model_path
        self._detector = detector
        self._detector_checked = detector is not None
        self.detector_error: str | None = None

    # ---- the three layers --------------------------------------------------------------------------
    @property
    def model_path(self) -> Path:
        if self._model_path is None:
            from leafscout.model.runtime import default_model_path
            self._model_path = default_model_path()
        return self._model_path

    @property
    def predictor(self):
        if self._predictor is None:
            with self._lock:
                if self._predictor is None:
                    from leafscout.model.runtime import ModelError, Predictor
                    try:
                        self._predictor = Predictor(self.model_path, threads=self.threads)
                    except ModelError:
                        raise
                    self.loads += 1
        return self._predictor

    @property
    def advisor(self):
        if self._advisor is None:
            labels = tuple(self.predictor.labels)
            self._advisor = load_advisor(labels, self.kb_dir)
        return self._advisor

    @property
    def pests_model_path(self) -> Path:
        from leafscout.model.detect import default_pests_path
        p = self._pests_model_path or os.environ.get(PESTS_ENV)
        return Path(p) if p else default_pests_path()

    @property
    def detector(self):
        """The insect-pest detector, or None when no detector file is installed (or it cannot be loaded: the
        reason is in `detector_error`). Never raises: the leaf diagnosis works without it."""
        if not self._detector_checked:
            with self._lock:
                if not self._detector_checked:
                    path = self.pests_model_path
                    if path.is_file():
                        from leafscout.model.detect import Detector
                        try:
                            self._detector = Detector(path, threads=self.threads)
                        except Exception as exc:
                            self.detector_error = strip_paths(str(exc), str(path))
                    self._detector_checked = True
        return self._detector

    @property
    def log(self):
        """The field log, opened with the loaded model's labels as `known_labels`: a model result it records
        must carry a label this model can give (fieldlog checks only the `crop.problem` shape otherwise)."""
        if self._log is None:
            labels = self.log_labels()
            with self._lock:
                if self._log is None:
                    from leafscout.fieldlog import FieldLog
                    self._log = FieldLog.open(self.db or None, known_labels=labels)
        return self._log

    def check_log(self) -> None:
        """Refuse now, with one line and an error code, a field-log URL whose driver is not installed (psycopg
        for PostgreSQL): ServiceError("log_error", log_code="db_driver_missing"). Connects to nothing."""
        from leafscout.fieldlog import db
        from leafscout.fieldlog.errors import FieldLogError
        try:
            db.check_driver(db.resolve_url(self.db or None))
        except FieldLogError as exc:
            raise ServiceError("log_error", str(exc), log_code=exc.code) from None

    def log_labels(self) -> tuple[str, ...] | None:
        """The labels a recorded model result may carry: the loaded model's (None when it has none to give)."""
        labels = getattr(self.predictor, "labels", None)
        return tuple(labels) if labels else None

    @property
    def crops(self) -> list[str]:
        """Crop names the loaded model knows (label prefix), without the no-leaf class."""
        pred = self.predictor
        crops = getattr(pred, "crops", None)
        if crops is None:
            crops = sorted({lab.split(".", 1)[0] for lab in pred.labels})
        bg = getattr(pred, "background_label", "background.no_leaf").split(".", 1)[0]
        return [c for c in crops if c != bg]

    def plot_crop(self, info) -> str | None:
        """The crop id the plot's own crop text names (leafscout/plot_crop.py): one of the knowledge base's crops,
        known to the model or not; None without a plot or when the text names no single crop."""
        return self.crop_of_text(getattr(info, "plot_crop", None))

    def crop_support(self, text) -> tuple[str | None, str]:
        """What LeafScout can do for a plot whose crop is `text`, said when the plot is made: (crop id, "photo")
        when the model names that crop's problems, (crop id, "advice") when only the knowledge base has it,
        (None, "unknown") when the text names no single crop LeafScout has."""
        crop = self.crop_of_text(text)
        if crop is None:
            return None, "unknown"
        return crop, ("photo" if crop in self.crops else "advice")

    def crop_of_text(self, text) -> str | None:
        """The knowledge-base crop id a free crop text names ("Cà phê chè" -> coffee), or None."""
        if not text:
            return None
        if self._crop_phrases is None:
            from leafscout.model.runtime import CROP_ALIASES
            from .plot_crop import crop_phrases
            bg = getattr(self.predictor, "background_label", "background.no_leaf").split(".", 1)[0]
            self._crop_phrases = crop_phrases({c: n for c, n in self.advisor.kb.crops.items() if c != bg},
                                              CROP_ALIASES)
        from .plot_crop import resolve_crop
        return resolve_crop(text, self._crop_phrases)

    def crop_for(self, crop, info) -> tuple[str | None, str | None, str | None]:
        """(crop for the model, where it came from, a plot crop the model has no labels for). A crop named with the
        photo wins; else the plot's crop keeps the answer to its labels, as if named, when the model knows it."""
        if crop:
            return crop, "given", None
        planted = self.plot_crop(info)
        if planted is None:
            return None, None, None
        if planted in self.crops:
            return planted, "plot", None
        return None, None, planted

    def _steered(self, d: Diagnosis, crop_from: str | None, planted: str | None) -> Diagnosis:
        """A wrapped answer with where its crop came from (`crop_for`) and the not-learned plot crop applied."""
        d.crop_from = crop_from if d.crop else None
        return self._not_learned(d, planted)

    def _not_learned(self, d: Diagnosis, planted: str | None) -> Diagnosis:
        """The plot grows a crop the model has no labels for (longan, plum, custard apple): an "ok" answer with
        another crop's label is that crop's nearest match, not a diagnosis, so it becomes uncertain
        (`crop_not_learned`) with no advice to act on; the grower picks the plot crop's entry by eye."""
        import dataclasses
        r = d.result
        if planted is None or r is None or r.status != "ok" or not r.label or r.label.split(".", 1)[0] == planted:
            return d
        reason = (f"the plot grows {planted}, whose problems LeafScout cannot name from a photo yet; "
                  f"{r.label} is the nearest match among the crops it knows")
        d.result = dataclasses.replace(r, status="uncertain", reason=reason, reason_code=CROP_NOT_LEARNED)
        d.crop_note = reason
        d.advice = None
        return d

    def warm_up(self) -> None:
        """Load model and knowledge base now, so the first request does not wait."""
        self.predictor
        self.advisor
        self.detector

    # ---- context -----------------------------------------------------------------------------------
    def context(self, plot=None, organic_status=None, days_to_harvest=None, copper_year=None,
                copper_7y=None, **extra):
        """(advisor Context, ContextInfo). A plot brings its organic status and its copper ledger (this year
        and the 7 years ending this year); given values win for organic status and days; given copper adds
        to nothing, it replaces the unknown: the 7-year total is never taken lower than the ledger's."""
        from leafscout.advisor import Context, ContextError

        info = ContextInfo()
        info.copper_cap = self.advisor.copper_cap_kg_ha_7y
        ledger_year = ledger_7y = None
        if plot not in (None, ""):
            try:
                p = self.log.get_plot(plot)
                ledger_year, ledger_7y = self.log.copper_used(p)
            except ServiceError:
                raise
            except Exception as exc:
                code = getattr(exc, "code", None)
                if code in ("db_unavailable", "db_driver_missing"):  # the log itself cannot be used: say so
                    raise ServiceError("log_error", str(exc), log_code=code) from None
                raise ServiceError("unknown_plot", str(exc)) from None
            info.plot, info.plot_crop, info.area_ha = p.name, p.crop, float(p.area_ha)
            info.organic_status, info.organic_from = p.organic_status, "plot"
            info.copper_year, info.copper_7y, info.copper_from = ledger_year, ledger_7y, "ledger"
        if organic_status not in (None, ""):
            if organic_status not in ORGANIC_STATUSES:
                raise ServiceError("bad_input", f"organic_status must be one of {', '.join(ORGANIC_STATUSES)}",
                                   field="organic_status")
            info.organic_status, info.organic_from = organic_status, "given"
        year = _number(copper_year, "copper used this year", "copper_year")
        seven = _number(copper_7y, "copper used over the last 7 years", "copper_7y")
        if year is not None or seven is not None:
            y = year if year is not None else (ledger_year or 0.0)
            s = max(v for v in (seven, y, ledger_7y or 0.0) if v is not None)
            info.copper_year, info.copper_7y = y, s
            info.copper_from = "ledger+given" if ledger_7y is not None else "given"
        if days_to_harvest not in (None, ""):
            try:
                d = float(days_to_harvest)
            except (TypeError, ValueError):
                raise ServiceError("bad_input", f"days to harvest must be a whole number of days, got {days_to_harvest!r}",
                                   field="days_to_harvest") from None
            if d != d or d < 0 or d > 10_000:
                raise ServiceError("bad_input", f"days to harvest must be between 0 and 10000, got {days_to_harvest!r}",
                                   field="days_to_harvest")
            info.days_to_harvest = int(round(d))
        try:
            ctx = Context(organic_status=info.organic_status, days_to_harvest=info.days_to_harvest,
                          copper_used_year_kg_ha=float(info.copper_year), copper_used_7y_kg_ha=float(info.copper_7y),
                          **extra)
        except ContextError as exc:
            raise ServiceError("bad_input", str(exc)) from None
        return ctx, info

    # ---- advice ------------------------------------------------------------------------------------
    def advise(self, label: str, status: str = "ok", ctx=None, **context):
        """Advice for a knowledge-base problem id (also problems the model cannot see)."""
        from leafscout.advisor import AdvisorError

        if ctx is None:
            ctx, _ = self.context(**context)
        label = str(label).strip().lower()  # "Tomato.Late_Blight " as typed: ids are lower case
        try:
            return self.advisor.advise(label, ctx, status=status)
        except AdvisorError as exc:
            raise ServiceError("unknown_label", str(exc)) from None

    def _advice_for(self, result, ctx):
        # crop_mismatch: the label is the named crop's nearest on a photo of another crop; nothing to act on
        # until the grower checks the crop (the CLI and the app say so instead)
        if result is None or result.status == "error" or result.reason_code == CROP_MISMATCH:
            return None
        label = result.label if result.status != "not_a_leaf" else (result.label or "background.no_leaf")
        conf = result.confidence
        # more likely wrong than right: the advice asks to check the signs first (its plan is unchanged)
        doubt = float(conf) if result.status == "ok" and conf is not None and conf < CHECK_FIRST_BELOW else None
        try:
            return self.advisor.advise(label, ctx, status=result.status, check_first=doubt)
        except Exception:
            return None  # a label without a KB entry never sinks the diagnosis

    # ---- diagnosis ---------------------------------------------------------------------------------
    def _predict_kwargs(self, crop):
        import inspect
        if crop and "crop" in inspect.signature(self.predictor.predict).parameters:
            return {"crop": crop}
        return {}

    def check_crop(self, crop):
        """The predictor's own check (aliases such as maize -> corn, nearest-name hint), as a ServiceError."""
        if crop in (None, ""):
            return None
        checker = getattr(self.predictor, "check_crop", None)
        if checker is not None:
            try:
                return checker(crop)
            except ValueError as exc:
                named = self.crop_of_text(crop)  # a Vietnamese or local name: "lúa", "cà phê", "ngô"
                if named is not None and named != str(crop).strip().lower():
                    try:
                        return checker(named)
                    except ValueError:
                        pass
                raise ServiceError(getattr(exc, "code", "bad_input"), str(exc), field="crop") from None
        crop = str(crop).strip().lower()
        if crop not in self.crops:
            raise ServiceError("bad_input", f"unknown crop {crop!r}; the model knows: {', '.join(self.crops)}",
                               field="crop")
        return crop

    def diagnose(self, photo, *, crop=None, plot=None, organic_status=None, days_to_harvest=None,
                 copper_year=None, copper_7y=None, record: bool = False, top_k: int = 3, tta: bool = False,
                 display_name: str | None = None, ctx=None, info=None, confirmed_by: str | None = None) -> Diagnosis:
        """One photo (path or bytes) -> Diagnosis. An unreadable photo is a Diagnosis with an error code,
        never an exception; a bad context value or an unknown plot raises ServiceError."""
        from leafscout.model.imageio import ImageError
        from leafscout.model.results import Result

        if photo is None or (isinstance(photo, (str, bytes)) and not photo):
            raise ServiceError("no_photo", "no photo was given")
        crop = self.check_crop(crop)
        if ctx is None:
            ctx, info = self.context(plot, organic_status, days_to_harvest, copper_year, copper_7y)
        crop, crop_from, planted = self.crop_for(crop, info)
        path = os.fspath(photo) if isinstance(photo, (str, os.PathLike)) else None
        name = display_name or (os.path.basename(path) if path else None)
        try:
            result = self.predictor.predict(photo, top_k=top_k, tta=tta, path=path, **self._predict_kwargs(crop))
        except ImageError as exc:
            result = Result.failed(path, str(exc), self.predictor.version)
            code = image_error_code(exc, path)
        else:
            code = None
        d = self._steered(self._wrap(result, ctx, info, crop, path, name, code, photo=photo), crop_from, planted)
        if record and plot:
            self.record(d, plot, confirmed_by=confirmed_by)
        return d

    def diagnose_many(self, photos: Iterable, *, crop=None, plot=None, organic_status=None, days_to_harvest=None,
                      copper_year=None, copper_7y=None, top_k: int = 3, tta: bool = False, heatmap: bool = False,
                      names: list | None = None, ctx_info: tuple | None = None, steer: tuple | None = None
                      ) -> Iterator[Diagnosis]:
        """Many photos in order (batched inference); the context is worked out once (or given as ctx_info)."""
        crop = self.check_crop(crop)
        ctx, info = ctx_info or self.context(plot, organic_status, days_to_harvest, copper_year, copper_7y)
        crop, crop_from, planted = steer or self.crop_for(crop, info)
        photos = list(photos)
        kw = {}
        import inspect
        if crop and "crop" in inspect.signature(self.predictor.predict_many).parameters:
            kw["crop"] = crop
        for i, r in enumerate(self.predictor.predict_many(photos, top_k=top_k, tta=tta, heatmap=heatmap, **kw)):
            path = os.fspath(photos[i]) if isinstance(photos[i], (str, os.PathLike)) else None
            name = names[i] if names else (os.path.basename(path) if path else None)
            code = image_error_code(r.error, path) if r.status == "error" else None
            yield self._steered(self._wrap(r, ctx, info, crop, path, name, code, photo=photos[i]), crop_from, planted)

    def diagnose_group(self, photos: Iterable, *, crop=None, plot=None, organic_status=None, days_to_harvest=None,
                       copper_year=None, copper_7y=None, top_k: int = 3, names: list | None = None
                       ) -> tuple[Diagnosis, list[Diagnosis]]:
        """Several photos of one plant or plot -> (one combined Diagnosis, each photo's own Diagnosis).

        The combined answer weighs the evidence of every photo that shows a leaf (`Predictor.combine`), is
        advised like a single photo, and says in `result.group` how many photos voted and how many agree.
        A photo whose bytes repeat an earlier one's is read once and does not vote (`Diagnosis.duplicate_of`,
        `group["duplicates"]`): the same leaf sent three times is not three leaves that agree.
        Insects stay with the photo they were seen on (action thresholds are per hill, not per group)."""
        photos = list(photos)
        if not photos:
            raise ServiceError("no_photo", "no photo was given")
        crop = self.check_crop(crop)
        ctx, info = self.context(plot, organic_status, days_to_harvest, copper_year, copper_7y)
        steer = self.crop_for(crop, info)
        crop, crop_from, planted = steer
        # the same photo sent twice is one leaf's evidence, not two: it is read once, shown, and does not vote
        first_of = same_photos(photos)
        unique = [i for i, j in enumerate(first_of) if j is None]
        names = list(names) if names else None
        seen = list(self.diagnose_many([photos[i] for i in unique], crop=crop, top_k=top_k,
                                       names=[names[i] for i in unique] if names else None,
                                       ctx_info=(ctx, info), steer=steer))
        by_index = dict(zip(unique, seen))
        each = [by_index[i] if j is None else _repeat(by_index[j], j, photos[i], names[i] if names else None)
                for i, j in enumerate(first_of)]
        combined = self.predictor.combine([d.result for d in seen], top_k=top_k, crop=crop)
        if combined.group is not None:
            combined.group.update(mixed_crops([x.label for x in seen if x.status == "ok" and x.label and x.saw_a_leaf]))
            combined.group.update(photos=len(photos), duplicates=len(photos) - len(unique))
        code = next((x.error_code for x in each if x.error_code), "other") if combined.status == "error" else None
        d = Diagnosis(result=combined, context=ctx, info=info, advice=self._advice_for(combined, ctx), error_code=code,
                      error_detail=combined.error, crop=crop, crop_note=combined.crop_note)
        return self._steered(d, crop_from, planted), each

    def _wrap(self, result, ctx, info, crop, path, name, code, photo=None) -> Diagnosis:
        scene = None
        source = photo if photo is not None else path
        if result is not None and result.status != "error" and (getattr(result, "framing", "whole") == "whole"
                                                                 or self._pests_may_be_there(result, crop)):
            # a leaf on a plain backdrop with no insect to look for costs no detector pass (nor a header read)
            if self.detector is not None:
                source = self._decoded_once(result, source)
            scene = self._scene(source)
            # a photo the classifier sees no plant in stays so: a cat's ear boxed as a leaf must not vote
            if scene is not None and scene.leaves and result.framing == "whole" and result.status != "not_a_leaf":
                leaves, crops = scene.leaves_with_crops(LEAF_VOTES, LEAF_MIN_SIDE)
                try:
                    if leaves:
                        # as many runners-up as were asked for (the CSV's columns are sized by --top-k)
                        result = self.predictor.with_leaves(result, leaves, crops, top_k=max(1, len(result.top_k)))
                except Exception:  # the whole photo's answer stands
                    pass
        detail = strip_paths(result.error, path) if result.error else None
        d = Diagnosis(result=result, context=ctx, info=info or ContextInfo(), advice=self._advice_for(result, ctx),
                      error_code=code, error_detail=detail, crop=getattr(result, "crop", crop),
                      crop_note=getattr(result, "crop_note", None), framing=getattr(result, "framing", None),
                      photo=path, display_name=name)
        if result is not None and result.status != "error":
            if self._pests_may_be_there(result, crop):
                self._find_pests(d, source, ctx, scene)
            elif self.detector is not None:
                d.pests, d.pest_actions = [], []  # the detector had nothing to look for in this photo
        return d

    @staticmethod
    def _decoded_once(result, source):
        """What the detector reads: the classifier's decoded photo when it is the whole photo, pixel for pixel
        (a PNG, a JPEG too small for a reduced decode: the detector would decode the very same array again),
        else the file. One decode instead of two: a 100-megapixel PNG held ~1 GB twice over."""
        rgb = getattr(result, "_photo", None)
        if rgb is None or not isinstance(source, (str, os.PathLike, bytes)):
            return source
        from leafscout.model.imageio import check_image
        try:
            info = check_image(source)  # the header only
        except Exception:
            return source
        w, h = (info.height, info.width) if info.orientation in (5, 6, 7, 8) else (info.width, info.height)
        return rgb if (rgb.shape[1], rgb.shape[0]) == (w, h) else source

    def _scene(self, photo):
        """One pass of a scene detector (leaves and insects) over the photo; None when the installed detector
        finds no leaves (an insect-only detector runs later, and only where insects may be) or cannot read it."""
        det = self.detector
        if det is None or photo is None or getattr(det, "leaf_class", None) is None:
            return None
        try:
            return det.scene(photo)
        except Exception:  # the classifier read this photo; the detector's read of it must not sink the answer
            return None

    def _pests_may_be_there(self, result, crop) -> bool:
        """Whether the insect detector should look at this photo. Not on a photo with no plant in it (status
        not_a_leaf: a person or a wall reports no rice bug) unless the classifier is sure it shows the
        detector's crop (PEST_NO_LEAF_CROP_MIN: a moth on a dry rice stem). Otherwise only where its crops can be:
        the grower named one of them, the classifier gives one of them PEST_CROP_MIN or more, or the
        classifier does not know the plant. A classifier that knows none of the detector's crops (models
        before 3.0) cannot tell, so the detector always runs."""
        det = self.detector
        if det is None:
            return False
        pest_crops = {lab.split(".", 1)[0] for lab in getattr(det, "labels", [])}
        known = set(getattr(self.predictor, "crops", None) or [])
        mass = dict(getattr(result, "crop_scores", None) or [])
        if result.status == "not_a_leaf":
            return any(mass.get(c, 0.0) >= PEST_NO_LEAF_CROP_MIN for c in pest_crops & known)
        if not pest_crops or not (pest_crops & known):
            return True
        if crop:
            return crop in pest_crops
        if result.status == "uncertain":
            return True
        return any(mass.get(c, 0.0) >= PEST_CROP_MIN for c in pest_crops)

    def _find_pests(self, d: Diagnosis, photo, ctx, scene=None) -> None:
        """Insects in the photo (when a detector is installed; a scene detector's pass already found them),
        their counts against the KB's action thresholds, and the advisor's advice per insect. A failure here
        leaves the leaf diagnosis as it is."""
        det = self.detector
        if det is None or photo is None:
            return
        from .pests import pest_actions, pest_counts
        try:
            d.pests = scene.pests if scene is not None else det.detect(photo)
        except Exception:  # the classifier read this photo; the detector's read of it must not sink the answer
            d.pests = None
            return
        counts = pest_counts(d.pests)
        kb = self.advisor.kb
        d.pest_actions = pest_actions(counts, kb.problems, kb.rules)
        for label in counts:
            if label in kb.problems:
                try:
                    d.pest_advice[label] = self.advisor.advise(label, ctx, status="ok")
                except Exception:
                    pass

    # ---- field log ---------------------------------------------------------------------------------
    def record(self, diagnosis: Diagnosis, plot, observer: str | None = None, confirmed_by: str | None = None):
        """Write a diagnosis to the plot's log (a person chose to save it). Unreadable photos are refused.

        `confirmed_by`: the person who looked at the photo and vouches for the label. Without it an `ok` or
        `uncertain` result is stored unconfirmed (listed, not counted by the audit until `leafscout log confirm`),
        and a `not_a_leaf` result is refused (ServiceError "log_error", log_code "needs_confirmation")."""
        if diagnosis is None or diagnosis.status == "error" or not diagnosis.photo:
            raise ServiceError("log_error", "nothing to save: no readable photo")
        r = diagnosis.result
        obs = self.record_result(plot, diagnosis.photo, r.label, r.status, r.confidence, r.model_version,
                                 observer=observer, confirmed_by=confirmed_by)
        diagnosis.observation_id = getattr(obs, "id", None)
        return obs

    def record_result(self, plot, photo, label, status, confidence, model_version, *, observer=None,
                      confirmed_by=None):
        """`record` for a result kept as plain values (the app's saved state). A field-log refusal becomes
        ServiceError("log_error") with the field log's code in `log_code`; nothing is written then.
        An uncertain "no leaf" (plant colour, no leaf seen: `NO_LEAF_SEEN`) is logged as what it is, a photo with
        no leaf to diagnose: like any not_a_leaf photo it needs a person's confirmation."""
        from leafscout.fieldlog import FieldLogError

        if status == "error" or not photo:
            raise ServiceError("log_error", "nothing to save: no readable photo")
        if status == "uncertain" and label == getattr(self.predictor, "background_label", "background.no_leaf"):
            status = "not_a_leaf"
        if not label and status == "not_a_leaf":
            label = getattr(self.predictor, "background_label", None) or "background.no_leaf"
        confirmed_by = confirmed_by.strip() if isinstance(confirmed_by, str) else confirmed_by
        try:
            return self.log.record_observation(plot, photo, label or "unknown", status, float(confidence or 0.0),
                                               model_version or "unknown", observer=observer,
                                               confirmed_by=confirmed_by or None)
        except FieldLogError as exc:
            raise ServiceError("log_error", strip_paths(str(exc), os.fspath(photo)),
                               log_code=getattr(exc, "code", None)) from None
        except Exception as exc:
            raise ServiceError("log_error", strip_paths(str(exc), os.fspath(photo))) from None


def same_photos(photos: list) -> list[int | None]:
    """For each photo of a group, the index of an earlier photo with the same bytes, or None: a farmer who taps
    the same picture three times has one leaf's evidence, not three. A photo that cannot be read as a regular
    file is never anyone's copy (its own error is reported where it is read)."""
    from .batch import sha256_of
    first: dict[str, int] = {}
    out: list[int | None] = []
    for i, p in enumerate(photos):
        if isinstance(p, (bytes, bytearray)):
            key = hashlib.sha256(p).hexdigest()
        elif isinstance(p, (str, os.PathLike)):
            key = sha256_of(os.fspath(p))
        else:
            key = ""
        out.append(first.get(key) if key else None)
        if key and key not in first:
            first[key] = i
    return out


def _repeat(d: "Diagnosis", index: int, photo, name) -> "Diagnosis":
    """A photo that repeats photo `index` (0-based): its answer, shown under its own name, never voting."""
    import dataclasses
    path = os.fspath(photo) if isinstance(photo, (str, os.PathLike)) else None
    return dataclasses.replace(d, photo=path or d.photo, display_name=name or (os.path.basename(path) if path else None),
                               duplicate_of=index + 1, observation_id=None)


def mixed_crops(ok_labels: list[str]) -> dict:
    """{"crops": the crops a group's photos were answered ok with, "mixed": no crop holds two thirds of them}.
    "mixed" says the photos are probably not one plant. Why two thirds: on val groups of one label (model 3.1.0) a
    single stray photo made 20% of chilli and 10% of PlantVillage 6-photo groups show two crops, yet their combined
    answer was right in 180 of 182 (ad-hoc count); with the two-thirds rule `python benchmarks/grouped_photos.py
    --datasets chilli_leaf plantvillage --sizes 2 3 6` calls 0.0-1.5% of 3- and 6-photo groups mixed, and 5.5% /
    3.4% of pairs (one photo against one cannot be told apart). The answer is never changed, only noted."""
    from collections import Counter
    counts = Counter(lab.split(".", 1)[0] for lab in ok_labels)
    top = max(counts.values(), default=0)
    return {"crops": sorted(counts), "mixed": len(counts) > 1 and top < 2 / 3 * sum(counts.values())}


def _number(value, what: str, field: str):
    if value in (None, ""):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ServiceError("bad_input", f"{what} must be a number (kg Cu/ha), got {value!r}", field=field) from None
    if v != v or v < 0 or v >= 1000:
        raise ServiceError("bad_input", f"{what} must be kg Cu/ha between 0 and 1000, got {value!r}", field=field)
    return v

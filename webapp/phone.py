"""The phone app (issue 19): an offline progressive web app that runs the classifier in the phone's browser.

`build(out_dir)` assembles a static folder that any web server (or `python app.py`, at /phone/) can serve:

    index.html, app.js, pipeline.js, ...   the front end (phone/src/, plain ES modules, no bundler)
    ort/                                   onnxruntime-web's WASM build (from phone/node_modules, npm ci)
    model/leafscout.onnx                   the ONNX file the Python runtime loads, its weights stored as int8
                                           (one scale per output channel, a DequantizeLinear back to float32
                                           in the graph: the arithmetic stays float32), the integers chosen by
                                           GPTQ on TRAIN photos (webapp/calibrated_int8.py; the file in
                                           phone/int8/ made for exactly this model, else float16 weights);
                                           accuracy on val: benchmarks/phone_weights.py
    model/leafscout.json                   its LeafScout metadata (labels, preprocess, thresholds, temperature,
                                           locator), extracted here because onnxruntime-web does not expose
                                           custom metadata; the browser reads nothing hard-coded
    model/pests.onnx, pests_labeler.onnx   the insect detector and its labeler (rice), when the model folder has
                                           them: NOT cached at install, fetched and kept the first time a
                                           photo needs them (a rice photo; the same gate as the Python
                                           service), so a farmer who never photographs rice never downloads
                                           them. The labeler ships float16 weights (`half_weights`; its
                                           int8 weights lost 1.1 AP points with labeler 1.2.0), the detector
                                           calibrated int8 like the classifier (float32 without one: its
                                           float16 and nearest-rounded int8 weights lost 1.3 and 1.1 AP
                                           points). Each model's storage: CLASSIFIER/DETECTOR/LABELER_WEIGHTS
    model/pests.json                       their metadata, the service's gate constants and every insect
                                           count's action text (leafscout.pests.pest_action, as templates
                                           checked against it for every count)
    advice.json                            every answer `leafscout advise --format markdown` gives for the model's
                                           labels x status x organic status x days to harvest, vi and en,
                                           generated from the Python advisor (lines de-duplicated)
    strings.json                           error messages and label names (webapp.i18n, the knowledge base)
    substances.json                        the "Hỏi thuốc" box: `leafscout advise --check-substance NAME` for every
                                           name the knowledge base knows (substance_bundle; ~25 KB gzipped)
    sw.js, manifest.webmanifest, icons     offline install: the service worker caches every file of this build

    python -m leafscout.webapp.phone build [--out phone/dist] [--model model/leafscout.onnx]
    python -m leafscout.webapp.phone serve [--out DIR] [--port 8765]    # a static server with the right headers
    python -m leafscout.webapp.phone quantize --data-root ../shared/datasets   # after retraining: phone/int8/
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PHONE = REPO / "phone"
SRC = PHONE / "src"
ORT_DIST = PHONE / "node_modules" / "onnxruntime-web" / "dist"
DEFAULT_OUT = PHONE / "dist"
# onnxruntime-web's plain WASM build (SIMD + threads). The WebGPU ("jsep") build is 29 MB more: not shipped.
ORT_FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
ORGANIC = ("certified", "in_conversion", "conventional")
STATUSES = ("ok", "uncertain", "not_a_leaf")
LANGS = ("vi", "en")
# Headers that give the page cross-origin isolation (SharedArrayBuffer: WASM threads) and keep it offline-safe.
HEADERS = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp",
           "Cross-Origin-Resource-Policy": "same-origin", "X-Content-Type-Options": "nosniff"}


class PhoneBuildError(RuntimeError):
    """The phone app cannot be built; the message says what is missing and how to get it."""


def ort_ready() -> bool:
    return all((ORT_DIST / f).is_file() for f in ORT_FILES)


# ------------------------------------------------------------------------------------------- model metadata

def model_metadata(model_path: str | Path) -> dict:
    """The LeafScout metadata of an ONNX file, parsed exactly as `model.runtime.Predictor` reads it."""
    from leafscout.model.runtime import Predictor

    pred = Predictor(model_path, threads=1)
    meta = {"format": 1, "file": Path(model_path).name, "labels": pred.labels,
            "background_label": pred.background_label, "temperature": pred.temperature,
            "thresholds": json.loads(pred.meta["thresholds"]), "preprocess": json.loads(pred.meta["preprocess"]),
            "locator": json.loads(pred.meta["locator"]) if pred.meta.get("locator") else None,
            "version": pred.version, "model_name": pred.model_name, "created": pred.meta.get("created"),
            "crops": pred.crops}
    data = Path(model_path).read_bytes()
    meta["bytes"] = len(data)
    meta["sha256"] = hashlib.sha256(data).hexdigest()
    return meta


# ------------------------------------------------------------------------------------------- float16 weights

def _store_weights(src: str | Path, dst: str | Path, suffix: str, convert,
                   min_opset: tuple[int, str] | None = None) -> tuple[int, int]:
    """Rewrite `src` into `dst` with some float32 initializers stored another way: `convert(name, base, array,
    uses, n)` returns None (keep it) or (new initializers named from `base`, the node that rebuilds the float32
    tensor `name`; `uses` are the (node, input index) pairs that read it, `n` the count so far). Those nodes go
    in front of the graph; metadata, opsets and node order carry over, and the same input gives the same bytes.
    Returns (tensors converted, bytes written)."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    m = onnx.load(str(src))
    if min_opset:
        opset = next((o.version for o in m.opset_import if o.domain in ("", "ai.onnx")), 0)
        if opset < min_opset[0]:
            raise PhoneBuildError(f"{Path(src).name}: opset {opset}; {min_opset[1]} needs opset {min_opset[0]}")
    g = m.graph
    taken = {i.name for i in g.initializer} | {n for node in g.node for n in (*node.input, *node.output)}
    users: dict[str, list] = {}
    for node in g.node:
        for k, x in enumerate(node.input):
            users.setdefault(x, []).append((node, k))
    front, extra = [], []
    for init in list(g.initializer):
        arr = numpy_helper.to_array(init)
        if arr.dtype != np.float32:
            continue
        base = init.name + suffix
        while any(n in taken for n in (base, base + "_scale", base + "_zero")):
            base += "_"
        got = convert(init.name, base, arr, users.get(init.name, []), len(front))
        if got is None:
            continue
        inits, node = got
        taken.update(i.name for i in inits)
        extra += inits
        front.append(node)
        g.initializer.remove(init)
    g.initializer.extend(extra)
    nodes = front + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    onnx.checker.check_model(m)
    data = m.SerializeToString(deterministic=True)
    Path(dst).write_bytes(data)
    return len(front), len(data)


def half_weights(src: str | Path, dst: str | Path, min_size: int = 256) -> dict:
    """Write `src` to `dst` with every float32 initializer of `min_size` or more values stored as float16 and a
    Cast back to float32 in front of the graph: the arithmetic stays float32 (onnxruntime and onnxruntime-web
    fold the Cast at load), only the stored weights are rounded. Metadata, opsets and node order carry over;
    the same input gives the same bytes. Returns {tensors, bytes_before, bytes_after}. Needs the `onnx` package."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    def convert(name, base, arr, uses, n):
        if arr.size < min_size:
            return None
        return ([numpy_helper.from_array(arr.astype(np.float16), base)],
                helper.make_node("Cast", [base], [name], to=TensorProto.FLOAT, name=f"leafscout_fp16_cast_{n}"))

    n, size = _store_weights(src, dst, "_fp16", convert)
    return {"tensors": n, "bytes_before": Path(src).stat().st_size, "bytes_after": size}


# ------------------------------------------------------------------------------------------- int8 weights

INT8_OPS = {"Conv": 1, "Gemm": 1, "Einsum": 1}  # op -> the input that holds the weight


def int8_weight_of(node, k: int) -> bool:
    """Whether input `k` of `node` is a weight int8 storage handles: its axis 0 is the output channel (Conv, Gemm
    with transB=1, Einsum "...,kc->..." with k kept and c summed)."""
    import onnx

    if INT8_OPS.get(node.op_type) != k:
        return False
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    if node.op_type == "Gemm":
        return attrs.get("transB", 0) == 1  # (N, K): axis 0 is the output
    if node.op_type == "Einsum":
        spec = attrs["equation"].decode().replace(" ", "")
        ins, out = spec.split("->")
        w = ins.split(",")[1]
        return len(w) == 2 and w[0] in out and w[1] not in out  # "kc": k kept (output), c summed
    return True


def dequantized(name: str, base: str, q, scale, n: int) -> tuple[list, object]:
    """The int8 initializers (`base`, its scale, a zero point of 0) and the DequantizeLinear(axis=0) node that
    rebuilds the float32 weight `name` from int8 `q` (shaped as the weight) and one scale per output channel."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    return ([numpy_helper.from_array(np.asarray(q, np.int8), base),
             numpy_helper.from_array(np.asarray(scale, np.float32), base + "_scale"),
             numpy_helper.from_array(np.zeros(len(scale), np.int8), base + "_zero")],
            onnx.helper.make_node("DequantizeLinear", [base, base + "_scale", base + "_zero"], [name],
                                  axis=0, name=f"leafscout_int8_dq_{n}"))


def int8_weights(src: str | Path, dst: str | Path, min_size: int = 256) -> dict:
    """Write `src` to `dst` with the weight of every Conv, Gemm (transB=1) and Einsum ("...,kc->...") of
    `min_size` or more values stored as int8, one symmetric scale per output channel (axis 0: scale = max|w| /
    127, zero point 0), and a DequantizeLinear(axis=0) back to float32 in front of the graph: weight-only
    storage, the arithmetic and the activations stay float32, biases and every other initializer (the detector's
    anchors and strides, for one) stay float32. Metadata, opsets and node order carry over; the same input gives
    the same bytes. Returns {tensors, bytes_before, bytes_after, max_error (largest |w - dequantized w|)}.
    Needs the `onnx` package."""
    import numpy as np

    err = 0.0

    def convert(name, base, arr, uses, n):
        nonlocal err
        if arr.size < min_size or arr.ndim < 2 or not uses or not all(int8_weight_of(*u) for u in uses):
            return None
        flat = arr.reshape(arr.shape[0], -1).astype(np.float64)
        scale = np.abs(flat).max(axis=1) / 127.0
        scale[scale == 0] = 1.0
        scale = scale.astype(np.float32)
        q = np.clip(np.rint(flat / scale[:, None].astype(np.float64)), -127, 127).astype(np.int8)
        err = max(err, float(np.abs(q * scale[:, None].astype(np.float64) - flat).max()))
        return dequantized(name, base, q.reshape(arr.shape), scale, n)

    n, size = _store_weights(src, dst, "_int8", convert, min_opset=(13, "per-axis DequantizeLinear"))
    return {"tensors": n, "bytes_before": Path(src).stat().st_size, "bytes_after": size, "max_error": err}


WEIGHTS = ("float32", "float16", "int8", "int8-calibrated")  # how the build can store a model's weights


def ship_model(src: str | Path, dst: str | Path, weights: str = "float16", fallback: str = "float32") -> str:
    """Copy a model into the build with its weights stored as `weights` ("float16": `half_weights`, "int8":
    `int8_weights`, "int8-calibrated": the GPTQ file made for exactly this model by `python -m
    leafscout.webapp.phone quantize` (webapp/calibrated_int8.py, committed in phone/int8/), "float32": the
    file as it is). Where that cannot be done (no `onnx` package; no calibrated file for this model, e.g. after
    retraining) it stores `fallback` instead and says why. Returns what the build stores."""
    for w in (weights, fallback):
        if w not in WEIGHTS:
            raise PhoneBuildError(f"unknown weight storage {w!r}; one of {', '.join(WEIGHTS)}")
    if weights == "int8-calibrated":
        from leafscout.webapp.calibrated_int8 import CALIBRATED_DIR, calibrated_file

        found = calibrated_file(src)
        if found is not None:
            shutil.copy2(found, dst)
            return weights
        print(f"webapp.phone: note: no calibrated int8 file for {Path(src).name} (sha256 "
              f"{hashlib.sha256(Path(src).read_bytes()).hexdigest()[:12]}) in {CALIBRATED_DIR}: it ships as "
              f"{fallback}; `python -m leafscout.webapp.phone quantize --data-root DATA` makes one (needs the "
              f"training photos)", file=sys.stderr)
        weights = fallback
    if weights == "float32":
        shutil.copy2(src, dst)
        return "float32"
    try:
        import onnx  # noqa: F401
    except ImportError:
        print(f"webapp.phone: note: the `onnx` package is not installed (`pip install -e .[dev]`): "
              f"{Path(src).name} ships with float32 weights ({Path(src).stat().st_size / 1e6:.1f} MB)",
              file=sys.stderr)
        shutil.copy2(src, dst)
        return "float32"
    (half_weights if weights == "float16" else int8_weights)(src, dst)
    return weights


# ------------------------------------------------------------------------------------------- insects

LAZY_FILES = ("model/pests.onnx", "model/pests_labeler.onnx")
# What each model ships as: the smallest storage that keeps val accuracy (classifier: top-1 over all val photos
# within 0.5 point of float32 and no dataset losing more than 0.5 point or one photo, whichever is more;
# detector: mAP@0.5 and class-agnostic AP@0.5 on rice_pest val within 0.5 point; labeler: the same and its label
# accuracy), measured by benchmarks/phone_weights.py --model model/leafscout.onnx --pests model/pests.onnx.
# The FALLBACK is stored when the calibrated file does not match the model (the next smallest that held).
# Labeler 1.2.0 (2026-12-06): int8 lost 1.09 points of class-agnostic AP at the threshold (one box), float16 nothing.
CLASSIFIER_WEIGHTS, DETECTOR_WEIGHTS, LABELER_WEIGHTS = "int8-calibrated", "int8-calibrated", "float16"
CLASSIFIER_FALLBACK, DETECTOR_FALLBACK = "float16", "float32"


class _Count(int):
    """A count that prints as `{count}`: renders leafscout.pests.pest_action as a template."""

    def __format__(self, spec):
        return "{count}"

    __str__ = __repr__ = lambda self: "{count}"


def pest_bundle(det, adv) -> dict:
    """What the phone needs to run the insect detector like model.detect.Detector and the service's gate, and
    to say what leafscout.pests.pest_action says for every count the detector can give.

    A scene detector's leaf class (model.detect.LEAF_LABEL, always the last one) is not an insect: `labels` and
    `thresholds` hold the insect classes only (Detector.labels), and the phone's decodeDetections looks at those
    first `len(labels)` score columns of each location while striding over the network's real class count, as
    Detector._pests slices them off before postprocess.

    A scene detector's leaves travel apart: `leaf_threshold` (its own score threshold; None for an insect-only
    detector, which finds no leaves) and `leaves`, the numbers of Detector._leaves, Scene.leaf_crop and the
    service's vote (DiagnosisService._wrap), so the phone answers a field photo from its leaves as Python does."""
    from leafscout import service
    from leafscout.model.detect import LEAF_CONTEXT, MAX_LEAVES
    from leafscout.pests import pest_action

    kb = adv.kb
    actions, templates, seen = {}, [], {}
    for label in det.labels:
        by_count = []
        for count in range(1, det.max_detections + 1):
            real = pest_action(label, count, kb.problems, kb.rules)
            tmpl = pest_action(label, _Count(count), kb.problems, kb.rules)
            tmpl["count"] = None
            for lang in LANGS:
                if tmpl["text"][lang].replace("{count}", str(count)) != real["text"][lang]:
                    raise PhoneBuildError(f"the insect action text for {label} x{count} is not a template")
            key = json.dumps(tmpl, sort_keys=True, ensure_ascii=False)
            if key not in seen:
                seen[key] = len(templates)
                templates.append(tmpl)
            by_count.append(seen[key])
        actions[label] = by_count
    leaf = getattr(det, "leaf_class", None)  # the leaf class's column: the last one, after the insects
    return {"format": 1, "labels": det.labels, "input_size": det.input_size, "pad_value": det.pad_value,
            "mean": det.mean, "std": det.std, "thresholds": [float(t) for t in det.thresholds[:len(det.labels)]],
            "nms_iou": det.nms_iou, "max_detections": det.max_detections, "min_side": 1.0, "max_candidates": 1000,
            "version": det.version, "file": "pests.onnx",
            "labeler": None if det.labeler is None else {
                "file": "pests_labeler.onnx", "input_size": det.labeler_size, "context": det.labeler_context,
                "mean": det.labeler_mean, "std": det.labeler_std, "version": det.labeler_version, "batch": 16},
            "gate": {"crop_min": service.PEST_CROP_MIN, "no_leaf_crop_min": service.PEST_NO_LEAF_CROP_MIN},
            "leaf_threshold": None if leaf is None else float(det.thresholds[leaf]),
            "leaves": {"max_boxes": MAX_LEAVES, "context": LEAF_CONTEXT, "votes": service.LEAF_VOTES,
                       "min_crop_side": service.LEAF_MIN_SIDE},
            "actions": {"templates": templates, "by_count": actions}}


# ------------------------------------------------------------------------------------------- advice bundle

def _days_horizon(adv) -> int:
    """The largest pre-harvest interval in the knowledge base: from there on the days no longer change advice."""
    phis = [t.get("phi_days") for t in adv.kb.treatments.values()]
    return int(max([p for p in phis if isinstance(p, (int, float))] or [0]))


def advice_text(adv, label: str, status: str, organic: str, days: int | None, lang: str,
                confidence: float | None = None) -> str:
    """Exactly what `leafscout advise LABEL --status S --organic-status O [--days-to-harvest D] --lang L
    --format markdown` prints (no plot, no copper used, weather unknown); with the `confidence` of an `ok`
    answer below the service's CHECK_FIRST_BELOW, the "check the signs first" advice a diagnosis gets."""
    from leafscout.service import CHECK_FIRST_BELOW
    ctx, _ = _service().context(plot=None, organic_status=organic, days_to_harvest=days)
    check = confidence if status == "ok" and confidence is not None and confidence < CHECK_FIRST_BELOW else None
    return adv.advise(label, ctx, status=status, check_first=check).render(lang=lang, fmt="markdown", rules=adv.rules)


# the confidence the bundle's "check first" texts are written with; the phone puts the answer's own in its place
CHECK_PCT_AT = 0.5


_SERVICE = None


def _service():
    """One DiagnosisService (no field log) for the contexts: `leafscout advise` works its context out there."""
    global _SERVICE
    if _SERVICE is None:
        from leafscout.service import DiagnosisService

        _SERVICE = DiagnosisService(db=None)
    return _SERVICE


def advice_bundle(adv, labels: list[str]) -> dict:
    """Every answer for `labels`: each text a list of indices into one table of unique lines (`lines`), and each
    such list stored once (`docs`: a text that does not change with the days to harvest is one list, not nine).

    `texts[lang][label][status]`: a doc id, except "ok": a dict organic status -> list of doc ids over days
    (index 0: days unknown, index 1 + d: d days to harvest, the last one standing for every later day too).
    `texts[lang][label]["check"]`: the same for an `ok` answer below `check_first_below` (the service's
    CHECK_FIRST_BELOW): written at `check_pct`, which the phone replaces by the answer's own percentage in the
    `check_lines` (the message that says it). The build checks that the last entry is indeed the answer for any
    later day (the horizon is the knowledge base's longest pre-harvest interval), so the phone never
    extrapolates on its own."""
    from leafscout.service import CHECK_FIRST_BELOW
    svc = _service()
    horizon = _days_horizon(adv)
    lines: list[str] = []
    index: dict[str, int] = {}
    docs: list[list[int]] = []
    doc_ids: dict[tuple, int] = {}

    def enc(text: str) -> int:
        out = []
        for ln in text.split("\n"):
            if ln not in index:
                index[ln] = len(lines)
                lines.append(ln)
            out.append(index[ln])
        key = tuple(out)
        if key not in doc_ids:
            doc_ids[key] = len(docs)
            docs.append(out)
        return doc_ids[key]

    contexts = {}
    for organic in ORGANIC:
        for d in [None, *range(horizon + 1), horizon + 1, 365]:
            contexts[(organic, d)] = svc.context(plot=None, organic_status=organic, days_to_harvest=d)[0]
    texts: dict = {lang: {} for lang in LANGS}
    for label in labels:
        if label not in adv.kb.problems:
            continue
        for status in STATUSES:
            if status != "ok":
                a = adv.advise(label, contexts[("certified", None)], status=status)
                for lang in LANGS:
                    texts[lang].setdefault(label, {})[status] = enc(a.render(lang=lang, fmt="markdown",
                                                                             rules=adv.rules))
                continue
            for variant, check in (("ok", None), ("check", CHECK_PCT_AT)):
                for lang in LANGS:
                    texts[lang].setdefault(label, {})[variant] = {}
                for organic in ORGANIC:
                    rendered = {lang: [] for lang in LANGS}
                    for d in [None, *range(horizon + 1)]:
                        a = adv.advise(label, contexts[(organic, d)], status="ok", check_first=check)
                        for lang in LANGS:
                            rendered[lang].append(a.render(lang=lang, fmt="markdown", rules=adv.rules))
                    for d in (horizon + 1, 365):  # the horizon holds: later days give the horizon's answer
                        a = adv.advise(label, contexts[(organic, d)], status="ok", check_first=check)
                        for lang in LANGS:
                            if a.render(lang=lang, fmt="markdown", rules=adv.rules) != rendered[lang][-1]:
                                raise PhoneBuildError(f"advice for {label} ({organic}) still changes after "
                                                      f"{horizon} days to harvest; the bundle's horizon is wrong")
                    for lang in LANGS:
                        texts[lang][label][variant][organic] = [enc(t) for t in rendered[lang]]
    from leafscout.advisor.engine import percent  # as the advisor writes it (and the phone's Math.round)
    msgs = adv.rules["messages"]
    pct = percent(CHECK_PCT_AT)
    return {"format": 2, "horizon_days": horizon, "organic_statuses": list(ORGANIC), "lines": lines, "docs": docs,
            "texts": texts, "check_first_below": CHECK_FIRST_BELOW, "check_pct": pct,
            "check_lines": {lang: [msgs[k][lang].format(pct=pct) for k in ("check_first", "check_first_look")]
                            for lang in LANGS}}


# ------------------------------------------------------------------------------------------- substance check

SUBSTANCE_SAMPLE_UNKNOWN = "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"  # a name no knowledge base knows or comes near


def _form_key(form) -> str:
    """advisor.substances.formulation's answer as the phone's map key: "" (no code) or "spray:EC"."""
    return "" if not form else f"{form[0]}:{form[1]}"


def _case_variants(name: str) -> list[str]:
    """`name` in every case that can change the advisor's answer: a formulation code written alone counts only in
    capitals ("Spinosad SC" is a spray product, "spinosad sc" is the spinosad entry), so: as written, lower case,
    capitals, and lower case with one 2-3 letter word in capitals (any mix of cases gives one of these codes)."""
    from leafscout.advisor.substances import _CODE_ALONE

    low, up = name.lower(), name.upper()
    out = [name, low, up]
    if len(low) == len(up) == len(name):
        out += [low[:m.start(1)] + m.group(1) + low[m.end(1):] for m in _CODE_ALONE.finditer(up)]
    return list(dict.fromkeys(out))


def substance_bundle(adv) -> dict:
    """Every answer `leafscout advise --check-substance NAME` gives for every name the knowledge base knows, vi and en,
    for the phone's "Hỏi thuốc" box (phone/src/substances.js): the names are the advisor's own SubstanceIndex keys
    (products, prohibited ids and aliases, treatment names and aliases), each answer `Advisor.check_substance` with
    `Advisor.substance_conditions`, so the phone never words a verdict itself.

    - `keys`: [folded key, "p"|"t", entry id, the name as the KB writes it, [its accented spellings]], in the index's
      order (the phone matches typed names with them exactly as SubstanceIndex does, and nearest() breaks ties
      in that order);
    - `verdicts`: unique answers {k: kind, r: reason {vi, en}, c: conditions {vi: [...], en: [...]}, x: how
      restrictive (the advisor's _restrictiveness), t: treatment id}, the texts as indices into `lines`;
    - `exact[key]`: {formulation key: verdict} for the name typed as itself, in each case that changes its
      formulation code ("" no code, "spray:SC");
    - `coded[key]`: the same for the name with a strength or formulation code after it ("Thiovit Jet 80WG"), where
      the advisor's answer depends only on the names found and the code ("spray:*": any code of that use; a
      verdict with `code` has "{code}" where the typed code goes);
    - `banned[id]`: the verdict of a prohibited entry named alone; with trade names in the query the phone puts
      "Karate = lambda-cyhalothrin: " before it (checked here against the advisor for every prohibited product);
    - `clash[tid]`: [[other treatment, verdict]] in `incompatible_with` order: a mixture of both;
    - `unknown`/`hint`: the advisor's "not in the knowledge base" answer as templates ({name}, {hint}, {near}),
      read back from two answers of the advisor and checked against them;
    - `part_line`: how a mixture of allowed parts lists each part's conditions ("{name}: {line}", the advisor's
      engine.PART_LINE; checked here against the advisor on a mixture of two entries);
    - `product_codes`: the codes besides `codes` that close a product's name (SubstanceIndex.unnamed_product:
      "Furadan 3GR"), so the phone knows "Thiovit Jet 80WG Bassa 50EC" names a product the advisor does not."""
    from leafscout.advisor import substances as S
    from leafscout.advisor.engine import PART_LINE, SubstanceCheck, _restrictiveness

    adv.check_substance("")  # builds the advisor's index
    ix = adv._index
    codes = adv.rules.get("formulation_codes") or {}
    verdicts: list[dict] = []
    seen: dict[str, int] = {}
    lines: list[str] = []  # every reason and condition line once; a verdict holds their indices
    line_ids: dict[str, int] = {}

    def line(text: str) -> int:
        if text not in line_ids:
            line_ids[text] = len(lines)
            lines.append(text)
        return line_ids[text]

    def enc(res, reason: dict | None = None) -> int:
        """The verdict's index; `reason`: a template with {code} in place of the typed formulation code."""
        if res.allowed is None:
            kind = "unknown"
        elif res.allowed is False:
            kind = "banned" if res.prohibited or res.standards else "clash"
        else:
            kind = ("allowed", "unverified", "restricted", "banned")[_restrictiveness(res)]
        v = {"k": kind, "r": {lang: line((reason or res.reason)[lang]) for lang in LANGS},
             "c": {lang: [line(x) for x in adv.substance_conditions(res, lang)] for lang in LANGS},
             "x": _restrictiveness(res), "t": res.treatment_id}
        if reason:
            v["code"] = 1
        key = json.dumps(v, sort_keys=True, ensure_ascii=False)
        if key not in seen:
            seen[key] = len(verdicts)
            verdicts.append(v)
        return seen[key]

    def found(text: str) -> set[str]:
        soft, flat = S._pair(text)
        return {k for k in ix.names if ix._in(soft, flat, k)}

    keys, exact, coded = [], {}, {}
    for key, (kind, ident) in ix.names.items():
        written = ix.written[key]
        keys.append([key, kind[0], ident, written, sorted(ix.accented[key])])
        variants = [v for v in _case_variants(written) if S.fold(v) == key and ix.exact(v)]
        exact[key] = {_form_key(S.formulation(v, codes)): enc(adv.check_substance(v)) for v in variants}
        if kind != "treatment":
            continue
        own, out = found(written), {}

        def put(text: str):
            """(its formulation, the advisor's answer) for `text`, None where it is not "the name and a code"
            (the phone answers such a name otherwise, or asks)."""
            if ix.exact(text) or len(S.mixture_parts(text, codes)) > 1 or found(text) != own:
                return None
            return S.formulation(text, codes), adv.check_substance(text)

        for v in {S.formulation(v, codes): v for v in reversed(variants)}.values():  # one per code it has
            got = put(f"{v} 1")
            if got:
                out[_form_key(got[0])] = enc(got[1])
            for app, spec in codes.items():
                all_codes = list((spec or {}).get("codes") or [])
                # the advisor reads a code only as (its use, the code as written in "not as a spray product (SC)"):
                # the first and last code of a use stand for all of them when the answers agree (the build time)
                each = {c: put(f"{v} 1{c}") for c in dict.fromkeys(all_codes[:1] + all_codes[-1:])}
                each = {c: g for c, g in each.items() if g}
                if not each:
                    continue
                c1, (f1, r1) = next(iter(each.items()))
                # one answer for every code of this use ("app:*"), the code itself put in where the answer names it
                tmpl = {lang: r1.reason[lang].replace(c1, "{code}") for lang in LANGS} if f1 == (app, c1) else None
                if tmpl and all(f == (app, c) and r.to_dict() == {**r1.to_dict(), "query": r.query, "reason": {
                        lang: tmpl[lang].replace("{code}", c) for lang in LANGS}} for c, (f, r) in each.items()):
                    out[f"{app}:*"] = enc(r1, tmpl if tmpl != r1.reason else None)
                    continue
                for c in all_codes:  # each code its own answer
                    got = each.get(c) or put(f"{v} 1{c}")
                    if got:
                        out[_form_key(got[0])] = enc(got[1])
        if out:
            coded[key] = out

    banned = {}
    for sid, s in adv.kb.prohibited.items():
        for n in [sid] + list((s or {}).get("aliases") or []):
            if ix.resolve(n) == ("prohibited", sid) and ix.exact(n) and not ix.products_in(n):
                banned[sid] = enc(adv.check_substance(n))
                break
    for key, (kind, ident) in ix.names.items():  # the phone's "Karate = lambda-cyhalothrin: ..." is the advisor's
        named = ix.products_in(ix.written[key])
        if kind == "prohibited" and named and ident in banned:
            said = "; ".join(f"{n} = {' + '.join(subs)}" for _, n, subs in named)
            want = adv.check_substance(ix.written[key]).reason
            if any(f"{said}: {lines[verdicts[banned[ident]]['r'][lang]]}" != want[lang] for lang in LANGS):
                raise PhoneBuildError(f"the advisor no longer words a trade name's verdict as the phone does "
                                      f"({ix.written[key]!r}): update phone/src/substances.js bannedReason")

    clash = {}
    for tid, t in adv.kb.treatments.items():
        for inc in t.get("incompatible_with") or []:
            msg = adv._incompatible([tid, inc["treatment"]])
            if msg is not None and inc["treatment"] != tid:
                res = SubstanceCheck("", True, False, None, False, {}, msg, [])
                clash.setdefault(tid, []).append([inc["treatment"], enc(res)])

    # a mixture of two allowed entries lists each part's lines after its name, as the phone composes them
    pair_names = []
    for key, (kind, ident) in ix.names.items():
        res = adv.check_substance(ix.written[key])
        if kind == "treatment" and res.allowed and res.treatment_id == ident and ident not in {t for _, t in pair_names}:
            pair_names.append((ix.written[key], ident))
        if len(pair_names) == 2:
            break
    if len(pair_names) == 2 and adv._incompatible([t for _, t in pair_names]) is None:
        mix = adv.check_substance(" + ".join(n for n, _ in pair_names))
        for lang in LANGS:
            want = [PART_LINE.format(name=n, line=x) for n, _ in pair_names
                    for x in adv.substance_conditions(adv.check_substance(n), lang)]
            if adv.substance_conditions(mix, lang) != want:
                raise PhoneBuildError("the advisor no longer lists a mixture's conditions as the phone does "
                                      f"({mix.query!r}): update phone/src/substances.js mixtureConditions")

    # the advisor's "not in the knowledge base" answer, as templates read back from it
    plain_name = SUBSTANCE_SAMPLE_UNKNOWN
    plain = adv.check_substance(plain_name)
    near = next(ix.written[k] for k in ix.names if len(k) >= 6 and k.isascii() and k.isalpha())
    near_name = near + "q"
    hinted = adv.check_substance(near_name)
    if plain.known or hinted.known or ix.nearest(near_name) != near:
        raise PhoneBuildError("the advisor's answer for a name it does not know could not be read back")
    unknown, hint = {}, {}
    for lang in LANGS:
        a, b = plain.reason[lang].replace(plain_name, "{name}"), hinted.reason[lang].replace(near_name, "{name}")
        i = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), len(a))
        j = len(a) - i
        if b[:i] + b[len(b) - j:] != a or near not in b[i:len(b) - j]:
            raise PhoneBuildError("the advisor's answer for a name it does not know could not be read back")
        unknown[lang] = a[:i] + "{hint}" + a[i:]
        hint[lang] = b[i:len(b) - j].replace(near, "{near}")
    return {"format": 1, "keys": keys, "lines": lines, "verdicts": verdicts, "exact": exact, "coded": coded, "banned": banned,
            "clash": clash, "unknown": unknown, "hint": hint,
            "products": [[k, ix.written[k], subs, pid] for k, (pid, subs) in ix.product_of.items()],
            "ingredient_of": {k: v for k, v in ix.ingredient_of.items() if v},
            "codes": {app: list((spec or {}).get("codes") or []) for app, spec in codes.items()},
            "word_separators": sorted(S._WORD_SEPARATORS), "unit_words": sorted(S._UNIT_WORDS),
            "product_codes": sorted(S._PRODUCT_CODES), "part_line": PART_LINE,
            "nearest_cutoff": 0.8}


def strings_bundle(adv, labels: list[str]) -> dict:
    """What the phone shows that Python already says: error messages (webapp.i18n) and label names (KB)."""
    from leafscout.webapp.i18n import STRINGS
    from leafscout.webapp.leaves import TEXTS as LEAF_TEXTS  # the Gradio app's words for a field photo's leaves

    errors = {k[4:]: v for k, v in STRINGS.items() if k.startswith("err_")}
    names = {}
    for label in labels:
        p = adv.kb.problems.get(label)
        if p is not None:
            crop = adv.kb.crops.get(p["crop"], {})
            names[label] = {lang: {"name": p["names"][lang], "crop": crop.get(lang, p["crop"])} for lang in LANGS}
    return {"errors": errors, "names": names, "ui": STRINGS, "leaves": LEAF_TEXTS,
            "organic": {o: STRINGS.get(f"org_{o}", {"vi": o, "en": o}) for o in ORGANIC}}


# ------------------------------------------------------------------------------------------- icons

def _icon(size: int) -> bytes:
    """A plain leaf on the app colour, drawn here (no file fetched from anywhere)."""
    import cv2
    import numpy as np

    img = np.zeros((size, size, 3), np.uint8)
    img[:] = (0x12, 0x34, 0x9a)  # BGR of #9a3412
    c = size // 2
    cv2.ellipse(img, (c, c), (int(size * 0.34), int(size * 0.2)), -35, 0, 360, (80, 180, 60), -1, cv2.LINE_AA)
    cv2.line(img, (int(c - size * 0.26), int(c + size * 0.19)), (int(c + size * 0.26), int(c - size * 0.19)),
             (40, 110, 30), max(2, size // 40), cv2.LINE_AA)
    ok, buf = cv2.imencode(".png", img)
    return buf.tobytes()


# ------------------------------------------------------------------------------------------- build

def build(out_dir: str | Path = DEFAULT_OUT, model_path: str | Path | None = None, kb_dir: str | None = None,
          quiet: bool = True, pests_path: str | Path | None = None) -> dict:
    """Assemble the static phone app in `out_dir` (replaced). Returns {files: {path: bytes}, total_bytes,
    core_bytes (what the install downloads), lazy (files fetched on first need), ...}. The insect detector is
    `pests_path`, else the one the Python service loads ($LEAFSCOUT_PESTS_MODEL, else model/pests.onnx); no file
    there: no insects on the phone."""
    from leafscout.service import load_advisor
    from leafscout.model.runtime import default_model_path

    if not SRC.is_dir():
        raise PhoneBuildError(f"{SRC} is missing: the phone app's sources are not in this install")
    if not ort_ready():
        raise PhoneBuildError(f"onnxruntime-web is not installed in {PHONE / 'node_modules'}: run "
                              f"`cd phone && npm ci` (needs Node.js and npm)")
    model_path = Path(model_path) if model_path else default_model_path()
    meta = model_metadata(model_path)
    adv = load_advisor(tuple(meta["labels"]), kb_dir)
    out = Path(out_dir)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "ort").mkdir(parents=True)
    (tmp / "model").mkdir()
    for f in sorted(SRC.iterdir()):
        if f.is_file() and f.name != "sw.js":
            shutil.copy2(f, tmp / f.name)
    for f in ORT_FILES:
        shutil.copy2(ORT_DIST / f, tmp / "ort" / f)
    meta["weights"] = ship_model(model_path, tmp / "model" / "leafscout.onnx", CLASSIFIER_WEIGHTS,
                                 CLASSIFIER_FALLBACK)
    meta["file"] = "leafscout.onnx"
    shipped = (tmp / "model" / "leafscout.onnx").read_bytes()  # sha256/bytes stay the source model's
    meta["file_bytes"], meta["file_sha256"] = len(shipped), hashlib.sha256(shipped).hexdigest()
    labels = list(meta["labels"])
    from leafscout.model.detect import default_pests_path

    pests_path = Path(pests_path) if pests_path else default_pests_path()  # what the Python service loads
    det = None
    if pests_path and pests_path.is_file():
        from leafscout.model.detect import Detector

        det = Detector(pests_path, threads=1)
        pb = pest_bundle(det, adv)
        pb["weights"] = ship_model(pests_path, tmp / "model" / "pests.onnx", DETECTOR_WEIGHTS, DETECTOR_FALLBACK)
        if det.labeler is not None:
            pb["labeler"]["weights"] = ship_model(det.labeler_path, tmp / "model" / "pests_labeler.onnx",
                                                  LABELER_WEIGHTS)
        (tmp / "model" / "pests.json").write_text(json.dumps(pb, ensure_ascii=False, separators=(",", ":")), "utf-8")
        labels += [lab for lab in det.labels if lab not in labels]  # the insects' advice and names
    meta["pests"] = "pests.json" if det is not None else None  # the phone looks for insects only where set
    (tmp / "model" / "leafscout.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), "utf-8")
    (tmp / "advice.json").write_text(json.dumps(advice_bundle(adv, labels), ensure_ascii=False,
                                                separators=(",", ":")), "utf-8")
    (tmp / "strings.json").write_text(json.dumps(strings_bundle(adv, labels), ensure_ascii=False), "utf-8")
    (tmp / "substances.json").write_text(json.dumps(substance_bundle(adv), ensure_ascii=False,
                                                    separators=(",", ":")), "utf-8")
    for size in (192, 512):
        (tmp / f"icon-{size}.png").write_bytes(_icon(size))
    files = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for rel in files:
        digest.update(rel.encode())
        digest.update(hashlib.sha256((tmp / rel).read_bytes()).digest())
    version = digest.hexdigest()[:16]
    lazy = [f for f in files if f in LAZY_FILES]
    precache = ["./"] + [f for f in files if f != "index.html" and f not in lazy] + ["index.html"]
    lazy_digest = hashlib.sha256(b"".join(hashlib.sha256((tmp / f).read_bytes()).digest() for f in lazy))
    sw = (f"const BUILD = {json.dumps(version)};\nconst FILES = {json.dumps(precache)};\n"
          f"const LAZY = {json.dumps(lazy)};\nconst LAZY_BUILD = {json.dumps(lazy_digest.hexdigest()[:16])};\n"
          + (SRC / "sw.js").read_text("utf-8"))
    (tmp / "sw.js").write_text(sw, "utf-8")
    (tmp / "build.json").write_text(json.dumps({"build": version, "model_version": meta["version"],
                                                "model_sha256": meta["sha256"], "files": files + ["sw.js"],
                                                "lazy": lazy},
                                               indent=1), "utf-8")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    sizes = {str(p.relative_to(out)): p.stat().st_size for p in out.rglob("*") if p.is_file()}
    info = {"out": str(out), "build": version, "model_version": meta["version"], "files": sizes,
            "total_bytes": sum(sizes.values()), "lazy": lazy,
            "core_bytes": sum(v for k, v in sizes.items() if k not in lazy)}
    if not quiet:
        print(f"phone app built in {out}: {len(sizes)} files, {info['core_bytes'] / 1e6:.1f} MB at install, "
              f"{info['total_bytes'] / 1e6:.1f} MB with the insect models (fetched on the first rice photo), "
              f"model {meta['version']} ({meta['sha256'][:12]}, {meta['weights']} weights "
              f"{meta['file_bytes'] / 1e6:.1f} MB), build {version}")
    return info


# ------------------------------------------------------------------------------------------- serving

def static_app(root: str | Path):
    """A Starlette app serving the built folder with the isolation headers (threads) and no caching surprises."""
    from starlette.staticfiles import StaticFiles

    files = StaticFiles(directory=str(root), html=True, check_dir=True)

    async def app(scope, receive, send):
        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                for k, v in HEADERS.items():
                    headers.append((k.lower().encode(), v.encode()))
                path = scope.get("path", "")
                if path.endswith(("sw.js", "/", ".html", "build.json")):
                    headers.append((b"cache-control", b"no-cache"))
                message = {**message, "headers": headers}
            await send(message)

        await files(scope, receive, send_with_headers)

    from starlette.middleware.gzip import GZipMiddleware

    # WASM and JSON shrink 4x to 15x over the wire (the ONNX weights barely: they are already dense)
    return GZipMiddleware(app, minimum_size=1024, compresslevel=6)


def not_built_app(reason: str):
    from starlette.responses import HTMLResponse

    from leafscout.safety import html_text

    async def app(scope, receive, send):
        page = (f"<!doctype html><meta charset=utf-8><title>LeafScout phone</title><h1>LeafScout phone app</h1>"
                f"<p>The phone app is not built on this server: {html_text(reason)}</p>")
        await HTMLResponse(page, status_code=503)(scope, receive, send)

    return app


def _clean_stale() -> None:
    """Builds that servers no longer running left in the temp folder (a killed server runs no atexit)."""
    import tempfile

    for d in Path(tempfile.gettempdir()).glob("leafscout-phone-*"):
        pid = d.name.rsplit("-", 1)[-1]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except OSError:
            pass


async def _to_slash(request):
    from starlette.responses import RedirectResponse

    return RedirectResponse(str(request.url.path) + "/")


def mount_routes(model_path=None, out_dir: str | Path | None = None, prebuilt: str | Path | None = None) -> list:
    """Starlette routes for `python app.py`: the phone app at /phone/, built at start from the model in use
    (into a temporary folder unless `out_dir`), or a folder `build` already made (`prebuilt`). Without npm's
    onnxruntime-web, /phone/ explains how to build it."""
    import tempfile

    from starlette.routing import Mount, Route

    try:
        if prebuilt:
            out = Path(prebuilt)
            if not (out / "build.json").is_file():
                raise PhoneBuildError(f"{out} holds no built phone app; run `python -m leafscout.webapp.phone build`")
        else:
            if out_dir:
                out = Path(out_dir)
            else:
                import atexit

                _clean_stale()
                tmp = Path(tempfile.gettempdir()) / f"leafscout-phone-{os.getpid()}"
                atexit.register(shutil.rmtree, tmp, True)  # a fresh build at each start; none left behind
                out = tmp / "phone"
            build(out, model_path)
        app = static_app(out)
    except Exception as exc:  # the Gradio app must start anyway; /phone/ says what went wrong
        reason = str(exc) if isinstance(exc, PhoneBuildError) else f"{type(exc).__name__}: {exc}"
        print(f"LeafScout: phone app not served: {reason}", file=sys.stderr)
        app = not_built_app(reason)
    return [Route("/phone", _to_slash), Mount("/phone", app=app)]


def serve(root: Path, host: str, port: int) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.routing import Mount, Route

    app = Starlette(routes=[Route("/phone", _to_slash), Mount("/phone", app=static_app(root))])
    print(f"phone app: http://{host}:{port}/phone/", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m leafscout.webapp.phone", description="Build or serve the offline phone app")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="assemble the static phone app folder")
    b.add_argument("--out", default=str(DEFAULT_OUT))
    b.add_argument("--model", default=None, help="ONNX model (default: $LEAFSCOUT_MODEL, else model/leafscout.onnx)")
    b.add_argument("--kb", default=None, help="knowledge base folder (default: the shipped advisor/kb)")
    b.add_argument("--pests", default=None, help="insect detector ONNX, its _labeler.onnx beside it (default: "
                                                 "$LEAFSCOUT_PESTS_MODEL, else model/pests.onnx)")
    q = sub.add_parser("quantize", help="make the calibrated int8 files of the shipped models (phone/int8/; needs "
                                        "the training photos; commit the result)")
    q.add_argument("--data-root", default=str(REPO.parent / "shared" / "datasets"))
    q.add_argument("--model", default=None, help="classifier ONNX (default: the shipped one)")
    q.add_argument("--pests", default=None, help="insect detector ONNX (default: the shipped one)")
    q.add_argument("--out", default=None, help="folder (default: phone/int8)")
    q.add_argument("--photos", type=int, default=24, help="TRAIN photos per classifier dataset")
    q.add_argument("--detector-photos", type=int, default=48, help="rice_pest TRAIN photos")
    s = sub.add_parser("serve", help="serve a built folder at http://HOST:PORT/phone/")
    s.add_argument("--out", default=str(DEFAULT_OUT))
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8765)
    args = ap.parse_args(argv)
    try:
        if args.cmd == "build":
            build(args.out, args.model, args.kb, quiet=False, pests_path=args.pests)
        elif args.cmd == "quantize":
            from leafscout.webapp.calibrated_int8 import quantize_shipped

            if not (Path(args.data_root) / "rice_pest" / "train").is_dir():
                raise PhoneBuildError(f"{args.data_root} holds no training photos (expected <dataset>/train/...): "
                                      f"pass --data-root")
            quantize_shipped(args.data_root, args.out, args.model, args.pests, args.photos, args.detector_photos)
        else:
            root = Path(args.out)
            if not (root / "index.html").is_file():
                raise PhoneBuildError(f"{root} holds no built phone app; run `python -m leafscout.webapp.phone build` first")
            serve(root, args.host, args.port)
    except (PhoneBuildError, OSError) as exc:
        print(f"webapp.phone: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # ModelError, a knowledge-base error: one line, no traceback
        print(f"webapp.phone: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

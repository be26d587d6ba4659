"""The phone app finds rice insects as the Python service does (phone/src/pipeline.js + app.js against
model.detect.Detector and DiagnosisService), on the model files the build ships, and downloads the insect models
only when a photo needs them.

* same pixels in: the detector's letterbox, decode, NMS and the labeler give the same insects: same labels in the
  same order (so the same counts), boxes within 1 px, scores within 1e-3 (WASM vs native onnxruntime);
* the photo file in: the service's gate (`_pests_may_be_there`) runs the detector on the same photos, and the
  insect counts and action texts (leafscout.pests.pest_action) are the same;
* lazy: installing the app and diagnosing a leaf on a plain backdrop with no insect to look for fetches no
  detector (a scene detector is also fetched for a field photo, whose leaves it finds); offline before they came a rice
  photo keeps its leaf answer (insects not checked, as the service does when the detector fails); the first
  rice insect photo online fetches them, the service worker keeps them, and offline after a reload the insects
  are still found;
* a scene detector (a last class plant.leaf): pests.json lists the insects only, and the phone's insects are
  Detector.detect's, never a leaf, though the leaf class outscores the insects at some of their locations.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import FIXTURE_IMAGES, LATE_BLIGHT_PHOTO, REPO
from phone_support import (JS_DIAGNOSE_BYTES, b64, browser, built_app, need_browser, need_build_tools, open_app,
                           static_server)

pytestmark = pytest.mark.slow
BOX_TOL, SCORE_TOL = 1.0, 1e-3
RICE = sorted(p for p in (REPO / "tests/fixtures/rice_pest").rglob("*") if p.suffix.lower() in (".jpg", ".png"))
# a few more rice insect photos where the shared datasets are at hand (more boxes to compare)
VAL = REPO.parent / "shared" / "datasets" / "rice_pest" / "val" / "images"
EXTRA = sorted(VAL.glob("*.jpg"))[:12] if VAL.is_dir() else []
OTHERS = sorted(p for p in FIXTURE_IMAGES.rglob("*") if p.suffix.lower() in (".jpg", ".png"))[::9]
JS_DETECT_RGB = """async ([w, h, b64]) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  return await window.leafscout.detectPests(window.leafscout.pipeline.makeImage(w, h, bytes)); }"""


@pytest.fixture(scope="module")
def app_dir():
    need_build_tools()
    from leafscout.model.runtime import default_model_path

    out = built_app(default_model_path())
    if not (out / "model" / "pests.json").is_file():
        pytest.skip("no insect detector in this install (model/pests.onnx)")
    return out


@pytest.fixture(scope="module")
def detector(app_dir):
    from leafscout.model.detect import Detector

    return Detector(app_dir / "model" / "pests.onnx", threads=1)  # the shipped files, labeler beside it


@pytest.fixture(scope="module")
def chromium():
    """One browser for the module (Playwright's sync API runs one at a time)."""
    need_browser()
    with browser() as b:
        yield b


@pytest.fixture(scope="module")
def served(app_dir, chromium):
    with static_server(app_dir) as url:
        yield url, chromium


@pytest.fixture(scope="module")
def page(served):
    url, b = served
    ctx, pg = open_app(b, url + "?threads=1")
    yield pg
    assert not pg.errors, pg.errors
    ctx.close()


def _compare(name, py, js, bad: list) -> tuple[float, float]:
    if [p.label for p in py] != [p["label"] for p in js]:
        bad.append(f"{name}: Python {[p.label for p in py]}, JS {[p['label'] for p in js]}")
        return float("inf"), float("inf")
    if not py:
        return 0.0, 0.0
    box = float(np.abs(np.array([p.box for p in py]) - np.array([p["box"] for p in js])).max())
    score = float(np.abs(np.array([p.score for p in py]) - np.array([p["score"] for p in js])).max())
    if box > BOX_TOL or score > SCORE_TOL:
        bad.append(f"{name}: boxes differ by {box:.3f} px, scores by {score:.2e}")
    return box, score


def test_same_insects_from_the_same_pixels(page, detector):
    bad, worst_box, worst_score, boxes = [], 0.0, 0.0, 0
    for p in RICE + EXTRA + OTHERS[:4]:
        rgb, _, _ = detector.load(str(p))
        py = detector.detect(rgb)
        js = page.evaluate(JS_DETECT_RGB, [rgb.shape[1], rgb.shape[0], b64(rgb.tobytes())])
        b, s = _compare(p.name, py, js, bad)
        worst_box, worst_score, boxes = max(worst_box, b), max(worst_score, s), boxes + len(py)
    print(f"\n{len(RICE)} rice fixtures + {len(EXTRA)} rice_pest val photos + 4 leaf photos: {boxes} insects, "
          f"largest box difference {worst_box:.3f} px, score {worst_score:.2e}")
    assert not bad, "\n".join(bad)
    assert boxes > 0, "no insect found on the rice fixtures: nothing was compared"


def test_service_gate_counts_and_actions(page, app_dir):
    from leafscout.service import DiagnosisService

    svc = DiagnosisService(model_path=app_dir / "model" / "leafscout.onnx", db=None,
                           pests_model_path=app_dir / "model" / "pests.onnx")
    bad, ran = [], 0
    cases = [(p, None) for p in RICE + OTHERS] + [(RICE[0], "tomato"), (RICE[0], "rice"), (LATE_BLIGHT_PHOTO, "rice")]
    for p, crop in cases:
        d = svc.diagnose(str(p), crop=crop)
        js = page.evaluate(JS_DIAGNOSE_BYTES, [b64(p.read_bytes()), crop])
        name = f"{p.name} crop={crop}"
        py_ran = svc._pests_may_be_there(d.result, crop)
        js_labels = [x["label"] for x in js.get("pests", [])]
        ran += py_ran
        if (d.result.status, d.result.label) != (js["status"], js["label"]):
            bad.append(f"{name}: Python {d.result.status} {d.result.label}, JS {js['status']} {js['label']}")
        if [x.label for x in d.pests or []] != js_labels:
            bad.append(f"{name}: insects Python {[x.label for x in d.pests or []]} (detector ran: {py_ran}), "
                       f"JS {js_labels}")
        if d.pest_counts != js.get("pest_counts"):
            bad.append(f"{name}: counts {d.pest_counts} vs {js.get('pest_counts')}")
        if json.loads(json.dumps(d.pest_actions)) != js.get("pest_actions"):
            bad.append(f"{name}: actions differ:\n{d.pest_actions}\n{js.get('pest_actions')}")
    print(f"\n{len(cases)} photos, the detector ran on {ran}")
    assert not bad, "\n".join(bad)
    assert ran >= len(RICE) and ran < len(cases), "the gate was not exercised both ways"


def _needs_no_detector(app_dir) -> Path:
    """A fixture photo the service runs no detector pass on: a leaf on a plain backdrop (framing "leaf") of a
    crop with no insect to look for. The late-blight tomato leaf when it is one (an insect-only detector never
    runs on it), else a leaf of MangoLeafBD (a scene detector runs on every field-framed photo too)."""
    from leafscout.service import DiagnosisService

    svc = DiagnosisService(model_path=app_dir / "model" / "leafscout.onnx", db=None,
                           pests_model_path=app_dir / "model" / "pests.onnx")
    scene = getattr(svc.detector, "leaf_class", None) is not None
    for p in [LATE_BLIGHT_PHOTO] + sorted((FIXTURE_IMAGES / "mangoleafbd").rglob("*.jpg")):
        r = svc.predictor.predict(str(p))
        if not svc._pests_may_be_there(r, None) and (r.framing == "leaf" or not scene):
            return p
    pytest.fail("no fixture photo that needs no detector pass")


def test_insect_models_fetched_only_when_a_photo_needs_them(app_dir, served):
    lazy = json.loads((app_dir / "build.json").read_text())["lazy"]
    quiet = _needs_no_detector(app_dir)
    assert sorted(lazy) == ["model/pests.onnx", "model/pests_labeler.onnx"][:len(lazy)] and lazy
    sw = (app_dir / "sw.js").read_text("utf-8")
    files = json.loads(sw.split("const FILES = ", 1)[1].split(";\n", 1)[0])
    assert not set(lazy) & set(files), "the insect models must not be cached at install"
    cached = """async () => { const out = [];
      for (const k of await caches.keys()) for (const r of await (await caches.open(k)).keys()) out.push(r.url);
      return out; }"""
    asked = "() => performance.getEntriesByType('resource').map(e => e.name)"
    url, b = served
    if True:  # a fresh context: its own service worker and caches
        ctx, page = open_app(b, url + "?threads=1")
        assert page.ready["offline"], "the service worker did not take over"
        page.evaluate(JS_DIAGNOSE_BYTES, [b64(quiet.read_bytes()), None])
        for where in (page.evaluate(cached), page.evaluate(asked)):
            assert not [u for u in where if "pests" in u and u.endswith(".onnx")], where
        # offline before the insect models came: the leaf answer stands, the insects say they were not checked
        ctx.set_offline(True)
        cut = page.evaluate(JS_DIAGNOSE_BYTES, [b64(RICE[0].read_bytes()), None])
        assert cut["status"] != "error" and cut["pests"] is None and cut["pest_error"], cut
        ctx.set_offline(False)
        first = page.evaluate(JS_DIAGNOSE_BYTES, [b64(RICE[0].read_bytes()), None])
        assert first["pests"], "no insect found on the rice fixture"
        assert {f"{url}{f}" for f in lazy} <= set(page.evaluate(cached))
        ctx.set_offline(True)
        page.reload()
        assert page.evaluate("window.leafscout.ready")["offline"]
        again = page.evaluate(JS_DIAGNOSE_BYTES, [b64(RICE[0].read_bytes()), None])
        assert [x["label"] for x in again["pests"]] == [x["label"] for x in first["pests"]]
        # and on the screen, as a farmer sees it: each insect, its count and the action text in Vietnamese
        page.set_input_files("#photo", str(RICE[0]))
        page.wait_for_selector("#insects .pest", timeout=60000)
        shown = page.eval_on_selector_all("#insects .pest", "els => els.map(e => [e.dataset.label, +e.dataset.count])")
        assert shown == sorted(first["pest_counts"].items()) or shown == [list(x) for x in first["pest_counts"].items()]
        assert first["pest_actions"][0]["text"]["vi"] in page.inner_text("#insects")
        assert not page.errors, page.errors
        ctx.close()


# ------------------------------------------------------------------------------------------ a scene detector
# A detector trained with `--leaves` has one more, last class: plant.leaf (model.detect.LEAF_LABEL). The phone
# must read it as model.detect.Detector.detect does: leaves are not insects (never counted, drawn or labelled).
SCENE_LABELS = ["rice.brown_planthopper", "rice.rice_bug"]
SCENE_SIZE = 96
STEPS = 15  # enough that some insects the phone must find lie where the leaf class scores higher


def _scene_detector(path, size: int = SCENE_SIZE):
    """A tiny FCOS scene detector (torch, a few SGD steps from random weights): SCENE_LABELS + plant.leaf, the
    insect threshold at its own scores' top tenth on the rice fixtures, the leaf threshold at 0 (every location
    where the leaf class wins has a leaf box), so both insects and leaves are found."""
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from leafscout.model.detect import LEAF_LABEL, letterbox, normalize
    from leafscout.model.detector_arch import detector_metadata, export_detector, torch_raw
    from leafscout.model.testing_pests import tiny_scene_model
    from leafscout.model.imageio import read_image
    from leafscout.model.preprocess import LITE_MEAN, LITE_STD

    labels = SCENE_LABELS + [LEAF_LABEL]
    model = tiny_scene_model(labels, size, [[10.0, 10.0, 60.0, 50.0], [5.0, 5.0, 90.0, 90.0]], STEPS)
    batch = np.stack([normalize(letterbox(read_image(p), size)[0], LITE_MEAN, LITE_STD) for p in RICE])
    scores, _ = torch_raw(model, batch)
    insect = scores[..., :-1].max(-1)
    assert (scores[..., -1] > insect).any(), "the leaf class wins nowhere: the test would not test it"
    insect_thr = float(np.quantile(insect, 0.9))
    meta = detector_metadata(labels, size, LITE_MEAN, LITE_STD, insect_thr, {LEAF_LABEL: 0.0}, 0.5, "0.0.0-scene",
                             127)
    export_detector(model, path, meta, batch)
    return path


@pytest.fixture(scope="module")
def scene_app(tmp_path_factory):
    """The phone app built with a scene detector as its insect detector (no labeler beside it)."""
    need_build_tools()
    from leafscout.model.runtime import default_model_path
    from leafscout.webapp.phone import build

    root = tmp_path_factory.mktemp("scene")
    pests = _scene_detector(root / "scene_pests.onnx")
    build(root / "dist", default_model_path(), pests_path=pests)
    return root / "dist", pests


def test_pests_json_of_a_scene_detector_lists_the_insects_only_and_carries_the_leaf_threshold(tmp_path):
    """pests.json carries Detector.labels and one threshold each: the leaf class is not there (torch-free: the toy
    detector with plant.leaf added as its last class and a leaf threshold of its own)."""
    onnx = pytest.importorskip("onnx")
    from leafscout import service
    from leafscout.model.detect import LEAF_CONTEXT, LEAF_LABEL, MAX_LEAVES, Detector
    from leafscout.model.testing_pests import TOY_PEST_LABELS, toy_detector
    from leafscout.service import load_advisor
    from leafscout.webapp.phone import pest_bundle

    path = toy_detector(tmp_path / "scene.onnx", labels=TOY_PEST_LABELS + [LEAF_LABEL], score_threshold=0.5)
    m = onnx.load(str(path))
    for e in m.metadata_props:
        if e.key == "leafscout.class_score_thresholds":
            e.value = json.dumps({LEAF_LABEL: 0.05, TOY_PEST_LABELS[1]: 0.3})
    onnx.save(m, str(path))
    det = Detector(path, labeler=False)
    assert det.leaf_class == len(TOY_PEST_LABELS) and len(det.thresholds) == len(TOY_PEST_LABELS) + 1
    pb = pest_bundle(det, load_advisor())
    assert pb["labels"] == TOY_PEST_LABELS == det.labels
    assert pb["thresholds"] == [0.5, 0.3, 0.5]  # the insects' own, in their order; not the leaf's 0.05
    assert LEAF_LABEL not in json.dumps(pb, ensure_ascii=False)
    assert set(pb["actions"]["by_count"]) == set(TOY_PEST_LABELS)
    # the leaves travel apart: their threshold and the numbers of the service's vote (tests/test_phone_leaves.py)
    assert pb["leaf_threshold"] == 0.05
    assert pb["leaves"] == {"max_boxes": MAX_LEAVES, "context": LEAF_CONTEXT, "votes": service.LEAF_VOTES,
                            "min_crop_side": service.LEAF_MIN_SIDE}
    insects = pest_bundle(Detector(toy_detector(tmp_path / "pests.onnx"), labeler=False), load_advisor())
    assert insects["leaf_threshold"] is None and insects["labels"] == TOY_PEST_LABELS


def test_a_scene_detector_gives_the_same_insects_and_never_a_leaf(chromium, scene_app):
    """The phone's insects from a scene detector are Detector(path, labeler=False).detect's: same labels in the
    same order, boxes within 1 px, scores within 1e-3; not one is plant.leaf, though the detector finds leaves."""
    from leafscout.model.detect import LEAF_LABEL, Detector, postprocess

    out, path = scene_app
    pm = json.loads((out / "model" / "pests.json").read_text("utf-8"))
    det = Detector(path, threads=1, labeler=False)
    assert pm["labels"] == det.labels == SCENE_LABELS and pm["labeler"] is None
    assert pm["thresholds"] == [float(t) for t in det.thresholds[:len(det.labels)]]
    assert LEAF_LABEL not in pm["labels"] and "plant" not in {lab.split(".")[0] for lab in pm["labels"]}
    n = len(det.labels)
    bad, insects, leaves, under_leaf = [], 0, 0, 0
    with static_server(out) as url:
        ctx, page = open_app(chromium, url + "?threads=1")
        assert page.evaluate("window.leafscout.pestsMeta.labels") == SCENE_LABELS
        # decodeDetections alone: the network's 3 score columns per location, only the 2 insect ones looked at
        rng = np.random.default_rng(0)
        s = rng.random((60, n + 1)).astype(np.float32)
        s[::2, n] += 1.0  # the leaf class wins every other location
        xy = rng.random((60, 2)).astype(np.float32) * 80
        bx = np.concatenate([xy, xy + 4 + rng.random((60, 2)).astype(np.float32) * 12], 1)
        want = postprocess(s[:, :n], bx, np.asarray(pm["thresholds"]), pm["nms_iou"], pm["max_detections"])
        got = page.evaluate("""([s, b, nA, nC]) => window.leafscout.pipeline.decodeDetections(
            new Float32Array(s), new Float32Array(b), nA, nC, window.leafscout.pestsMeta)""",
                            [s.ravel().tolist(), bx.ravel().tolist(), 60, n + 1])
        assert [d["cls"] for d in got] == want[2].tolist() and want[2].size
        assert np.allclose([d["score"] for d in got], want[1]) and np.allclose([d["box"] for d in got], want[0])
        for p in RICE + OTHERS[:4]:
            rgb, _, _ = det.load(str(p))
            scene = det.scene(rgb)
            assert scene.pests == det.detect(rgb)
            x, _ = det.prepare(rgb)
            raw, rb = (a[0] for a in det.infer(x[None]))
            naive = postprocess(raw, rb, det.thresholds, det.nms_iou, det.max_detections)[2]  # leaf in the argmax
            under_leaf += int((naive < n).sum()) != len(scene.pests)
            js = page.evaluate(JS_DETECT_RGB, [rgb.shape[1], rgb.shape[0], b64(rgb.tobytes())])
            if any(x["label"] == LEAF_LABEL or x["label"] not in SCENE_LABELS for x in js):
                bad.append(f"{p.name}: the phone counted something that is no insect: {[x['label'] for x in js]}")
            _compare(p.name, scene.pests, js, bad)
            insects, leaves = insects + len(scene.pests), leaves + len(scene.leaves)
        assert not page.errors, page.errors
        ctx.close()
    print(f"\nscene detector: {len(RICE) + 4} photos, {insects} insects compared, {leaves} leaves left out")
    assert not bad, "\n".join(bad)
    assert insects > 0 and leaves > 0, "the toy scene detector found no insects or no leaves: nothing was tested"
    assert under_leaf, "no insect lay where the leaf class scored higher: the leaf column was not put to the test"

"""The phone app finds rice insects as the Python service does (phone/src/pipeline.js + app.js against
model.detect.Detector and DiagnosisService), on the model files the build ships, and downloads the insect models
only when a photo needs them.

* same pixels in: the detector's letterbox, decode, NMS and the labeler give the same insects: same labels in the
  same order (so the same counts), boxes within 1 px, scores within 1e-3 (WASM vs native onnxruntime);
* the photo file in: the service's gate (`_pests_may_be_there`) runs the detector on the same photos, and the
  insect counts and action texts (leafscout.pests.pest_action) are the same;
* lazy: installing the app and diagnosing a tomato leaf fetches no insect model; offline before they came a rice
  photo keeps its leaf answer (insects not checked, as the service does when the detector fails); the first
  rice insect photo online fetches them, the service worker keeps them, and offline after a reload the insects
  are still found.
"""
from __future__ import annotations

import json

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
def served(app_dir):
    need_browser()
    with static_server(app_dir) as url, browser() as b:
        yield url, b


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


def test_insect_models_fetched_only_when_a_photo_needs_them(app_dir, served):
    lazy = json.loads((app_dir / "build.json").read_text())["lazy"]
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
        page.evaluate(JS_DIAGNOSE_BYTES, [b64(LATE_BLIGHT_PHOTO.read_bytes()), None])
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

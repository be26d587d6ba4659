"""The phone app answers a field photo from its leaves as the Python service does (phone/src/pipeline.js + app.js
against model.detect.Detector.scene, Scene.leaf_crop, Predictor.with_leaves and DiagnosisService._wrap), with a
scene detector (a last class plant.leaf) installed as the insect detector, on the model files the build ships.

* pests.json carries the leaf class's own threshold (null for an insect-only detector) and the numbers of the
  service's vote (boxes kept, crop margin, voters, smallest crop); the insect labels and thresholds stay;
* same numbers in, same numbers out: decodeLeaves is Detector._leaves (the leaf column, its threshold, NMS, at
  most 20: exactly the same boxes and scores), leafCrop is Scene.leaf_crop (exactly the same pixels);
* the photo file in: on field photos (framing "whole": iBean, chilli) the phone's leaf boxes (within 1 px), each
  leaf's label and status, and the answer (status, label, top-k; probabilities within 1e-3, WASM against native
  onnxruntime) are the service's, and the insects come from the same pass;
* where the scene pass cannot change anything (a leaf on a plain backdrop of a crop with no insect to look for)
  the detector is not even downloaded; an insect-only detector changes no answer and finds no leaf;
* on the screen: the leaves as white L1, L2 boxes over the photo and a "Các lá đã xem" / "Leaves looked at" list.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import FIXTURE_IMAGES, REPO
from phone_support import JS_DIAGNOSE_BYTES, b64, browser, built_app, need_browser, need_build_tools, open_app, static_server

pytestmark = pytest.mark.slow
TOL, BOX_TOL = 1e-3, 1.0
SCENE_LABELS = ["rice.brown_planthopper", "rice.rice_bug"]
# 160: the fixtures' shorter side (256) is decoded at full size for the detector too (a 1/2 JPEG decode needs
# 320), so Python and the browser cut the leaves from the same pixels
SCENE_SIZE = 160
FIELD = sorted(p for d in ("ibean_uganda", "chilli_leaf") for p in (FIXTURE_IMAGES / d).rglob("*.jpg"))
RICE = sorted((REPO / "tests/fixtures/rice_pest").rglob("*.jpg"))
PLAIN = sorted((FIXTURE_IMAGES / "mangoleafbd").rglob("*.jpg"))  # leaves on a plain backdrop (framing "leaf")
JS_DETECT_SCENE = """async ([w, h, b64]) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const s = await window.leafscout.detectScene(window.leafscout.pipeline.makeImage(w, h, bytes));
  return s.leaves; }"""
FETCHED = "() => performance.getEntriesByType('resource').map(e => e.name).filter(u => u.endsWith('pests.onnx'))"


def _toy_scene_detector(path):
    """A tiny FCOS scene detector (torch, a few SGD steps from random weights): SCENE_LABELS + plant.leaf; the
    insect threshold at the top tenth of its insect scores on the rice fixtures, the leaf threshold at the top
    3% of its leaf scores on the field photos (a few leaves a photo, none tied)."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from leafscout.model.detect import LEAF_LABEL, letterbox, normalize
    from leafscout.model.detector_arch import detector_metadata, export_detector, torch_raw
    from leafscout.model.testing_pests import tiny_scene_model
    from leafscout.model.imageio import read_image
    from leafscout.model.preprocess import LITE_MEAN, LITE_STD

    labels = SCENE_LABELS + [LEAF_LABEL]
    model = tiny_scene_model(labels, SCENE_SIZE, [[10.0, 10.0, 90.0, 80.0], [20.0, 30.0, 150.0, 140.0]])
    with torch.no_grad():  # boxes of a leaf's size (about 4 strides a side) rather than of an insect's
        model.fcos.head.regression_head.bbox_reg.bias += 2.0

    def batch(photos):
        return np.stack([normalize(letterbox(read_image(p), SCENE_SIZE)[0], LITE_MEAN, LITE_STD) for p in photos])
    insect = torch_raw(model, batch(RICE))[0][..., :-1].max(-1)
    leaf = torch_raw(model, batch(FIELD))[0][..., -1]
    meta = detector_metadata(labels, SCENE_SIZE, LITE_MEAN, LITE_STD, float(np.quantile(insect, 0.9)),
                             {LEAF_LABEL: float(np.quantile(leaf, 0.97))}, 0.5, "0.0.0-scene", 127)
    export_detector(model, path, meta, batch(RICE[:2]))
    return path


@pytest.fixture(scope="module")
def scene_app(tmp_path_factory):
    """The phone app built with the toy scene detector as its insect detector (no labeler beside it), and the
    service on the very files it ships."""
    need_build_tools()
    from leafscout.model.runtime import default_model_path
    from leafscout.service import DiagnosisService
    from leafscout.webapp.phone import build

    root = tmp_path_factory.mktemp("leaves")
    build(root / "dist", default_model_path(), pests_path=_toy_scene_detector(root / "scene_pests.onnx"))
    out = root / "dist"
    svc = DiagnosisService(model_path=out / "model" / "leafscout.onnx", db=None,
                           pests_model_path=out / "model" / "pests.onnx")
    return out, svc


@pytest.fixture(scope="module")
def chromium():
    need_browser()
    with browser() as b:
        yield b


@pytest.fixture(scope="module")
def scene_page(scene_app, chromium):
    out, _ = scene_app
    with static_server(out) as url:
        ctx, page = open_app(chromium, url + "?threads=1")  # 1 WASM thread: steady on 2 busy cores
        yield page, url
        assert not page.errors, page.errors
        ctx.close()


def _field(svc) -> list:
    """The field photos the service answers from their leaves: framing "whole" (no plain backdrop)."""
    return [p for p in FIELD if svc.predictor.predict(str(p)).framing == "whole"]


def test_leaf_boxes_and_crops_are_pythons(scene_page, scene_app):
    """decodeLeaves on one network output is Detector._leaves's postprocess (the same boxes and scores, exactly),
    leafCrop cuts Scene.leaf_crop's pixels (exactly), and a whole detector pass gives Detector.scene's leaves."""
    from leafscout.model.detect import Detector, Leaf, Scene, postprocess

    page, _ = scene_page
    out, svc = scene_app
    pm = json.loads((out / "model" / "pests.json").read_text("utf-8"))
    det = Detector(out / "model" / "pests.onnx", threads=1, labeler=False)
    n = len(det.labels)
    assert det.leaf_class == n and pm["leaf_threshold"] == float(det.thresholds[n])
    rng = np.random.default_rng(1)
    s = rng.random((300, n + 1)).astype(np.float32)
    s[::3, :n] += 1.0  # insects outscore the leaf at a third of the locations: the leaf column is read alone
    xy = rng.random((300, 2)).astype(np.float32) * 140
    bx = np.concatenate([xy, xy + rng.random((300, 2)).astype(np.float32) * 40], 1)
    bx[5, 2] = bx[5, 0] + 0.5  # under a pixel wide: never a leaf
    want = postprocess(s[:, n:n + 1], bx, det.thresholds[n], det.nms_iou, pm["leaves"]["max_boxes"])
    got = page.evaluate("""([s, b, nA, nC]) => window.leafscout.pipeline.decodeLeaves(
        new Float32Array(s), new Float32Array(b), nA, nC, window.leafscout.pestsMeta)""",
                        [s.ravel().tolist(), bx.ravel().tolist(), 300, n + 1])
    assert len(want[0]) == pm["leaves"]["max_boxes"]  # the cap is reached: it is tested
    assert [d["box"] for d in got] == want[0].tolist() and [d["score"] for d in got] == want[1].tolist()

    rgb = np.ascontiguousarray(rng.integers(0, 256, (61, 97, 3), np.uint8))
    boxes = [(0.0, 0.0, 97.0, 61.0), (10.3, 5.7, 40.49, 33.5), (90.0, 50.0, 97.0, 61.0), (96.9, 60.5, 97.0, 61.0),
             (0.0, 0.0, 0.0, 0.0), (3.999, 7.25, 28.75, 59.125)]
    for _ in range(20):  # and random ones, in the photo's pixels
        (x0, x1), (y0, y1) = sorted(rng.random(2) * 97), sorted(rng.random(2) * 61)
        boxes.append((float(x0), float(y0), float(x1), float(y1)))
    for scale in (1.0, 0.5, 97 / 388, 61 / 250):
        sc = Scene([], [Leaf(0.5, b) for b in boxes], rgb, scale)
        py = [sc.leaf_crop(i) for i in range(len(boxes))]
        js = page.evaluate("""([w, h, b64, boxes, scale, ctx]) => {
            const P = window.leafscout.pipeline, img = P.makeImage(w, h, Uint8Array.from(atob(b64), c => c.charCodeAt(0)));
            return boxes.map((b) => { const c = P.leafCrop(img, b, scale, ctx);
              return c ? [c.w, c.h, btoa(String.fromCharCode(...c.data))] : [0, 0, '']; }); }""",
                           [97, 61, b64(rgb.tobytes()), [list(b) for b in boxes], scale, pm["leaves"]["context"]])
        for b, p, j in zip(boxes, py, js):
            assert [p.shape[1], p.shape[0]] == j[:2] or (p.size == 0 and j[:2] == [0, 0]), (scale, b, p.shape, j[:2])
            assert j[2] == b64(p.tobytes()), (scale, b)

    leaves = 0
    for p in _field(svc)[:4]:
        rgb, _, _ = det.load(str(p))
        scene = det.scene(rgb)
        js = page.evaluate(JS_DETECT_SCENE, [rgb.shape[1], rgb.shape[0], b64(rgb.tobytes())])
        assert len(js) == len(scene.leaves), p.name
        if scene.leaves:
            assert np.abs(np.array([lf.box for lf in scene.leaves]) - np.array([x["box"] for x in js])).max() <= BOX_TOL
            assert np.abs(np.array([lf.score for lf in scene.leaves]) - np.array([x["score"] for x in js])).max() <= TOL
        leaves += len(scene.leaves)
    assert leaves > 0, "the toy scene detector found no leaf: nothing was compared"


def _probs(logits, t) -> np.ndarray:
    z = np.asarray(logits, np.float64) / t
    e = np.exp(z - z.max())
    return e / e.sum()


def _compare_leaves(name, py, js, temperature, bad: list) -> None:
    """`py`: the service's Diagnosis, `js`: diagnoseBytes's answer; what differs goes to `bad`."""
    r = py.result
    if (js["status"], js["label"]) != (r.status, r.label):
        bad.append(f"{name}: Python {r.status} {r.label}, JS {js['status']} {js['label']}")
    if [lab for lab, _ in js["top_k"]] != [lab for lab, _ in r.top_k]:
        bad.append(f"{name}: top-k {r.top_k} vs {js['top_k']}")
    diff = np.abs(_probs(js["logits"], temperature) - _probs(r.logits, temperature)).max()
    if diff > TOL or abs((js["confidence"] or 0) - (r.confidence or 0)) > TOL:
        bad.append(f"{name}: probabilities differ by {diff:.2e}, confidence {r.confidence} vs {js['confidence']}")
    pl, jl = r.leaves or [], js.get("leaves") or []
    if len(pl) != len(jl):
        bad.append(f"{name}: {len(pl)} leaves voted in Python, {len(jl)} on the phone")
        return
    for i, (a, b) in enumerate(zip(pl, jl), 1):
        if (a["label"], a["status"]) != (b["label"], b["status"]):
            bad.append(f"{name} L{i}: Python {a['status']} {a['label']}, JS {b['status']} {b['label']}")
        if np.abs(np.subtract(a["box"], b["box"])).max() > BOX_TOL or abs(a["score"] - b["score"]) > TOL:
            bad.append(f"{name} L{i}: box {a['box']} {a['score']} vs {b['box']} {b['score']}")
        if (a["confidence"] is None) != (b["confidence"] is None) or abs((a["confidence"] or 0) - (b["confidence"] or 0)) > TOL:
            bad.append(f"{name} L{i}: confidence {a['confidence']} vs {b['confidence']}")
    if [x.label for x in py.pests or []] != [x["label"] for x in js.get("pests") or []]:
        bad.append(f"{name}: insects {[x.label for x in py.pests or []]} vs {[x['label'] for x in js.get('pests') or []]}")


def test_a_field_photo_is_answered_from_its_leaves_as_the_service_does(scene_page, scene_app):
    """The photo file in, decoded by the browser: the service's leaves, their answers and the answer."""
    page, _ = scene_page
    _, svc = scene_app
    field = _field(svc)
    assert len(field) >= 10, [p.name for p in field]
    bad, voted, moved = [], 0, 0
    for p in field:
        d = svc.diagnose(str(p))
        js = page.evaluate(JS_DIAGNOSE_BYTES, [b64(p.read_bytes()), None])
        _compare_leaves(p.name, d, js, svc.predictor.temperature, bad)
        voted += len(d.result.leaves or [])
        whole = svc.predictor.predict(str(p))
        moved += d.result.leaves is not None and abs((whole.confidence or 0) - (d.result.confidence or 0)) > 0.01
    print(f"\n{len(field)} field photos: {voted} leaves voted, {moved} answers moved by the leaves")
    assert not bad, "\n".join(bad)
    assert voted >= len(field) and moved >= 3, "the leaves hardly voted: the test would not test them"


def test_rice_leaves_and_insects_come_from_one_pass(scene_page, scene_app):
    """The same pixels in (the rice fixtures are decoded at half size for the detector by Python's libjpeg, which
    a browser cannot do): the leaves vote and the insects are the same pass's, as in DiagnosisService._wrap."""
    from leafscout.model.imageio import read_image
    from phone_support import JS_DIAGNOSE_RGB

    page, _ = scene_page
    _, svc = scene_app
    ctx, info = svc.context()
    bad, insects = [], 0
    for p in RICE[:3]:
        rgb = read_image(str(p))
        d = svc._wrap(svc.predictor.predict(rgb), ctx, info, None, None, None, None, photo=rgb)
        js = page.evaluate(JS_DIAGNOSE_RGB, [rgb.shape[1], rgb.shape[0], b64(rgb.tobytes()), None])
        _compare_leaves(p.name, d, js, svc.predictor.temperature, bad)
        if d.pest_counts != js.get("pest_counts"):
            bad.append(f"{p.name}: counts {d.pest_counts} vs {js.get('pest_counts')}")
        insects += len(d.pests or [])
        assert d.result.framing != "whole" or d.result.leaves, f"{p.name}: no leaf voted"
    assert not bad, "\n".join(bad)
    assert insects > 0, "no insect found: the shared pass was not tested"


def test_no_scene_pass_where_it_cannot_change_anything(scene_app, chromium):
    """A leaf on a plain backdrop, of a crop with no insect to look for: the detector is not even downloaded
    (as the service runs no pass); a field photo then fetches it and its leaves vote."""
    out, svc = scene_app
    plain = next(p for p in PLAIN if (lambda r: r.framing == "leaf" and not svc._pests_may_be_there(r, None))(
        svc.predictor.predict(str(p))))
    with static_server(out) as url:
        ctx, page = open_app(chromium, url + "?threads=1")
        js = page.evaluate(JS_DIAGNOSE_BYTES, [b64(plain.read_bytes()), None])
        d = svc.diagnose(str(plain))
        assert js["framing"] == "leaf" and "leaves" not in js and js["pests"] == [] and d.result.leaves is None
        assert (js["status"], js["label"]) == (d.status, d.label)
        assert page.evaluate(FETCHED) == [], "a scene pass ran on a photo where it changes nothing"
        js = page.evaluate(JS_DIAGNOSE_BYTES, [b64(_field(svc)[0].read_bytes()), None])
        assert js["leaves"] and page.evaluate(FETCHED)
        assert not page.errors, page.errors
        ctx.close()


def test_an_insect_only_detector_finds_no_leaf_and_changes_no_answer(chromium, tmp_path):
    """An insect detector with no leaf class (1.0.0 as shipped before, or a toy one when the shipped detector is a
    scene detector): pests.json says so, and a field photo of a crop without insects is answered by the
    classifier alone, as the service does, without fetching the detector."""
    from leafscout.model.detect import Detector, default_pests_path
    from leafscout.model.runtime import default_model_path
    from leafscout.service import DiagnosisService

    need_build_tools()
    shipped = default_pests_path()
    if shipped.is_file() and Detector(shipped, labeler=False).leaf_class is None:
        out = built_app(default_model_path())
    else:  # the shipped detector finds leaves (or there is none): build with an insect-only toy detector
        pytest.importorskip("onnx")
        from leafscout.model.testing_pests import toy_detector
        from leafscout.webapp.phone import build
        out = tmp_path / "dist"
        build(out, default_model_path(), pests_path=toy_detector(tmp_path / "pests.onnx"))
    pm = json.loads((out / "model" / "pests.json").read_text("utf-8"))
    svc = DiagnosisService(model_path=out / "model" / "leafscout.onnx", db=None,
                           pests_model_path=out / "model" / "pests.onnx")
    assert svc.detector.leaf_class is None
    assert pm["leaf_threshold"] is None
    quiet = [p for p in _field(svc) if not svc._pests_may_be_there(svc.predictor.predict(str(p)), None)][::3]
    assert len(quiet) >= 3, "too few field photos without insects to look for"
    bad = []
    with static_server(out) as url:
        ctx, page = open_app(chromium, url + "?threads=1")
        for p in quiet:
            d = svc.diagnose(str(p))
            js = page.evaluate(JS_DIAGNOSE_BYTES, [b64(p.read_bytes()), None])
            if "leaves" in js or d.result.leaves is not None:
                bad.append(f"{p.name}: leaves {js.get('leaves')} / {d.result.leaves}")
            _compare_leaves(p.name, d, js, svc.predictor.temperature, bad)
        assert page.evaluate(FETCHED) == [], "the insect-only detector was fetched for photos with no insect to look for"
        assert not page.errors, page.errors
        ctx.close()
    assert not bad, "\n".join(bad)


def test_the_screen_shows_the_leaves_in_both_languages(scene_app, chromium):
    """A field photo taken in the app: white L1, L2 boxes over the photo and the list of the leaves looked at,
    each with its own answer, in Vietnamese, then in English."""
    out, svc = scene_app
    photo = _field(svc)[0]
    leaves = svc.diagnose(str(photo)).result.leaves
    assert leaves
    with static_server(out) as url:
        ctx, page = open_app(chromium, url + "?threads=1")
        page.set_input_files("#photo", str(photo))
        page.wait_for_selector("#leaves li", timeout=60000)
        assert page.get_attribute("#leaves", "data-leaves") == str(len(leaves))
        assert "Các lá đã xem" in page.inner_text("#leaves")
        items = page.eval_on_selector_all("#leaves li", "els => els.map(e => [e.dataset.leaf, e.dataset.label, e.innerText])")
        assert [(i, lab) for i, lab, _ in items] == [(str(k), lf["label"]) for k, lf in enumerate(leaves, 1)]
        assert all(text.startswith(f"L{i}") for i, _, text in items)
        tags = page.eval_on_selector_all("#boxes g.leaf-box text", "els => els.map(e => e.textContent)")
        assert tags == [f"L{k}" for k in range(1, len(leaves) + 1)] and page.is_visible("#boxes")
        strokes = page.eval_on_selector_all("#boxes g.leaf-box rect[stroke='#fff']", "els => els.length")
        assert strokes == len(leaves)
        page.click("#lang button[data-lang=en]")
        assert "Leaves looked at" in page.inner_text("#leaves")
        assert not page.errors, page.errors
        ctx.close()

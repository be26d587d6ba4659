"""A farmer's 50 MP photo (8160x6120, many cheap phones now) in the phone app: the same answer as Python, from a
decode that never holds the photo whole.

The app used to decode such a photo at full size (~200 MB as RGBA, four copies on the way: ~800 MB more in the
tab, measured by benchmarks/phone_big_photo.py) and then average it down to the 1/8 size Python decodes; on a
3-4 GB phone the tab was killed and the photo lost. Python decodes it with libjpeg's DCT scaling
(cv2.IMREAD_REDUCED_COLOR_8: model.imageio); the app now asks the browser's JPEG decoder for that size
(WebCodecs ImageDecoder, pipeline.js readImageAt), and where a browser has no ImageDecoder it reads the decoded
photo back a strip at a time. These tests check what that must give, not how fast:

* the classifier sees exactly the pixels Python's runtime decodes (EXIF orientation applied), so its answer is
  Python's: same status, label, leaf box and plant share, probabilities within the parity tests' 1e-3;
* the photo picked through the file input, as a farmer does: that answer on the card, the preview drawn from a
  reduced decode, the record saved with the original file, byte for byte;
* without ImageDecoder, the strip path gives exactly the pixels of the old full-size decode averaged (the answer
  the parity tests held within 0.05 of Python's).

The photos are made here (the fixture leaf enlarged, a little noise, JPEG quality 90): nothing big is committed.
"""
from __future__ import annotations

import base64
import hashlib

import numpy as np
import pytest

from conftest import LATE_BLIGHT_PHOTO
from phone_support import PHONE, b64, browser, built_app, need_browser, need_build_tools, static_server

pytestmark = pytest.mark.slow
TOL = 1e-3
W, H = 8160, 6120
CARD = "#card .card[data-status], #card .card.error"

# the image the classifier gets from the photo's bytes (the gate, then the app's decode, readImageAt)
JS_READ = """async ([b64, side]) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0)), P = window.leafscout.pipeline;
  const info = P.checkBytes(bytes, 'the photo', side), f = P.reduction(info, side);
  const r = await P.readImageAt(bytes, info, f);
  let s = ''; for (let i = 0; i < r.image.data.length; i += 32768) s += String.fromCharCode(...r.image.data.subarray(i, i + 32768));
  return {w: r.image.w, h: r.image.h, ow: r.ow, oh: r.oh, via: r.via, f, b64: btoa(s)}; }"""
# the old way: the whole photo decoded, then each f x f block averaged
JS_READ_WHOLE = """async ([b64, side]) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0)), P = window.leafscout.pipeline;
  const {image, info} = await P.readImageFull(bytes, side);
  const img = P.reduceBy(image, P.reduction(info, side));
  let s = ''; for (let i = 0; i < img.data.length; i += 32768) s += String.fromCharCode(...img.data.subarray(i, i + 32768));
  return {w: img.w, h: img.h, b64: btoa(s)}; }"""


def _big_photo(path, orientation=None):
    """The fixture late-blight leaf as a 50 MP phone photo; `orientation`: the EXIF tag a phone held sideways writes
    (the pixels stored turned back, so the photo as shown is the same leaf upright)."""
    import cv2
    from PIL import Image

    big = cv2.resize(cv2.imread(str(LATE_BLIGHT_PHOTO)), (W, H), interpolation=cv2.INTER_CUBIC)
    noise = np.random.default_rng(5).normal(0, 3, big.shape[:2] + (1,)).astype(np.int16)
    big = np.clip(big.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    if orientation is None:
        path.write_bytes(cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes())
        return path
    stored = {6: cv2.ROTATE_90_COUNTERCLOCKWISE, 3: cv2.ROTATE_180, 8: cv2.ROTATE_90_CLOCKWISE}[orientation]
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(cv2.cvtColor(cv2.rotate(big, stored), cv2.COLOR_BGR2RGB)).save(path, "JPEG", quality=90,
                                                                                  exif=exif.tobytes())
    return path


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    d = tmp_path_factory.mktemp("big")
    return {"plain": _big_photo(d / "leaf-50mp.jpg"), "turned": _big_photo(d / "leaf-50mp-turned.jpg", 6)}


@pytest.fixture(scope="module")
def predictor():
    """Python's runtime on the very model file the phone downloads (as test_phone_parity.py's)."""
    from leafscout.model.runtime import Predictor, default_model_path

    need_build_tools()
    return Predictor(built_app(default_model_path()) / "model" / "leafscout.onnx", threads=1)


@pytest.fixture(scope="module")
def site():
    need_browser()
    need_build_tools()
    with static_server(built_app()) as url, browser() as b:
        yield b, url + "?threads=1"


def _page(site, script=None):
    b, url = site
    ctx = b.new_context(viewport=PHONE, locale="vi-VN")
    if script:
        ctx.add_init_script(script)
    page = ctx.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url)
    page.evaluate("window.leafscout.ready")
    return ctx, page


@pytest.fixture(scope="module")
def page(site):
    ctx, pg = _page(site)
    yield pg
    assert not pg.errors, pg.errors
    ctx.close()


def _probs(logits, t):
    z = np.asarray(logits, np.float64) / t
    e = np.exp(z - z.max())
    return e / e.sum()


def _same_answer(py, js, predictor, tol=TOL, geometry=True) -> list[str]:
    bad = []
    if (js.get("status"), js.get("label")) != (py.status, py.label):
        bad.append(f"Python {py.status} {py.label}, phone {js.get('status')} {js.get('label')} {js.get('error')}")
        return bad
    if geometry and (js["framing"], tuple(js["leaf_box"]), js["plant_share"]) != (py.framing, tuple(py.leaf_box), py.plant_share):
        bad.append(f"locator: Python {py.framing} {py.leaf_box} {py.plant_share}, "
                   f"phone {js['framing']} {js['leaf_box']} {js['plant_share']}")
    diff = np.abs(_probs(js["logits"], predictor.temperature) - _probs(py.logits, predictor.temperature)).max()
    if diff > tol:
        bad.append(f"probabilities differ by {diff:.2e} (> {tol})")
    return bad


@pytest.mark.parametrize("which", ["plain", "turned"])
def test_the_classifier_gets_exactly_the_pixels_python_decodes(page, predictor, photos, which):
    """The 50 MP photo in, 1020x765 out (also when the phone was held sideways: the pixels stored 6120x8160, EXIF
    orientation 6): not one pixel differs from model.imageio's reduced decode, and the size of the photo as shown
    is kept for the boxes."""
    path = photos[which]
    want = predictor.load(str(path))
    got = page.evaluate(JS_READ, [b64(path.read_bytes()), predictor.cfg.resize_size])
    assert got["via"] == "scaled" and got["f"] == 8, got["via"]
    assert (got["h"], got["w"]) == want.shape[:2]
    assert (got["ow"], got["oh"]) == (W, H)  # the photo as shown: upright either way
    px = np.frombuffer(base64.b64decode(got["b64"]), np.uint8).reshape(want.shape)
    assert np.array_equal(px, want), f"{(px != want).mean():.1%} of the values differ"


@pytest.fixture(scope="module")
def service():
    """The Python service on the files the phone ships (the classifier and its scene detector): the answer a
    field photo gets, from the whole photo and its leaves (DiagnosisService._wrap)."""
    from leafscout.model.runtime import default_model_path
    from leafscout.service import DiagnosisService

    need_build_tools()
    out = built_app(default_model_path())
    pests = out / "model" / "pests.onnx"
    return DiagnosisService(model_path=out / "model" / "leafscout.onnx", db=None,
                            pests_model_path=pests if pests.is_file() else None)


def test_a_50mp_photo_picked_on_the_phone_gets_pythons_answer(page, service, photos):
    """Picked through the file input as a farmer does: the card shows the service's answer (its status and label,
    top-k, every probability within 1e-3; the leaves that voted, each with its label, box within 1 px of the
    50 MP photo's pixels); the preview is drawn from a reduced decode (the 50 MP file as an <img> is ~200 MB
    decoded while on screen) and looks the same (aspect kept); the record saved keeps the original file, byte for
    byte."""
    path = photos["turned"]
    d = service.diagnose(str(path))
    py = d.result
    page.set_input_files("#photo", str(path))
    page.locator(CARD).wait_for(timeout=120_000)
    r = page.evaluate("window.leafscout.result")
    bad = _same_answer(py, r, service.predictor, geometry=False)
    if [lab for lab, _ in r["top_k"]] != [lab for lab, _ in py.top_k]:
        bad.append(f"top-k {py.top_k} vs {r['top_k']}")
    pl, jl = py.leaves or [], r.get("leaves") or []
    if [(a["label"], a["status"]) for a in pl] != [(b["label"], b["status"]) for b in jl]:
        bad.append(f"leaves: Python {pl}, phone {jl}")
    elif pl and np.abs(np.array([a["box"] for a in pl]) - np.array([b["box"] for b in jl])).max() > 1.0:
        bad.append(f"leaf boxes: Python {[a['box'] for a in pl]}, phone {[b['box'] for b in jl]}")
    assert not bad, bad
    assert r["decoded"] == {"size": [1020, 765], "via": "scaled"} and r["photo_size"] == [W, H]
    assert page.locator(f"#card .card[data-status='{py.status}']").count() == 1
    nat = page.evaluate("[document.querySelector('#preview').naturalWidth, document.querySelector('#preview').naturalHeight]")
    assert nat == [1020, 765], nat
    page.fill("#plot", "Đồi A")
    page.click("#save-btn")
    page.locator("#records li[data-id]").first.wait_for()
    saved = page.evaluate("""window.leafscout.db.all().then(async (r) => {
      const b = r[0].photo, bytes = new Uint8Array(await b.arrayBuffer());
      return [bytes.length, Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)))]; })""")
    assert saved[0] == path.stat().st_size
    assert bytes(saved[1]) == hashlib.sha256(path.read_bytes()).digest()


def test_without_imagedecoder_the_strips_give_the_old_pixels_and_the_answer(site, predictor, photos):
    """A browser without WebCodecs' ImageDecoder: the photo is read back a strip at a time, each 8 x 8 block
    averaged: exactly the pixels the old whole-photo decode gave (reduceBy), so the same answer as before (within
    the parity tests' 0.05 of Python's for a browser-averaged JPEG; libjpeg's 1/8 is not quite a block mean)."""
    ctx, pg = _page(site, "delete window.ImageDecoder;")
    try:
        for which in ("plain", "turned"):
            path = photos[which]
            data = b64(path.read_bytes())
            got = pg.evaluate(JS_READ, [data, predictor.cfg.resize_size])
            old = pg.evaluate(JS_READ_WHOLE, [data, predictor.cfg.resize_size])
            assert got["via"] == "strips" and (got["w"], got["h"]) == (old["w"], old["h"])
            assert got["b64"] == old["b64"], f"{which}: the strips differ from the whole photo averaged"
            js = pg.evaluate("""async (b64) => window.leafscout.classifyBytes(Uint8Array.from(atob(b64), c => c.charCodeAt(0)), null)""", data)
            bad = _same_answer(predictor.predict(str(path)), js, predictor, tol=0.05, geometry=False)
            assert not bad, bad
        assert not pg.errors, pg.errors
    finally:
        ctx.close()

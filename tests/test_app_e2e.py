"""The app served for real: gradio_client API calls, the CLI, and user paths in a headless Debian Chromium
on a phone screen (390x844, and 360 px for the tab bar).

One server per module (in-process, free localhost port, temporary field log). The model is the shipped
model/leafscout.onnx when present, else the development model, else the toy model
($LEAFSCOUT_APP_TEST_MODEL=toy or a path forces one), so every assertion except "the late-blight photo is
diagnosed as tomato.late_blight" holds for any model.
Screenshots of the main screens: LEAFSCOUT_UPDATE_SCREENSHOTS=1 writes them to docs/screenshots/.
Browser: /usr/bin/chromium (Debian's `apt-get install chromium`); never `playwright install`.
"""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import LATE_BLIGHT_PHOTO, fixture_photos
from leafscout.webapp import handlers as H
from leafscout.webapp.i18n import STRINGS, t

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "model" / "leafscout.onnx"
DEV = REPO / "runs" / "dev" / "leafscout-dev.onnx"
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = (REPO / "docs" / "screenshots" if os.environ.get("LEAFSCOUT_UPDATE_SCREENSHOTS") == "1"
         else Path(os.environ.get("TMPDIR", "/tmp")) / "leafscout-screenshots")
LATE_BLIGHT = LATE_BLIGHT_PHOTO
BAD = REPO / "tests" / "fixtures" / "bad"
NON_LEAF_CANDIDATES = (sorted((REPO / "tests/fixtures/ood").glob("*.jpg"))
                       + sorted((REPO / "tests/fixtures/images/plantvillage/Background_without_leaves").glob("*.jpg")))
CHROME_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update"]
PHONE = {"width": 390, "height": 844}
VI_TABS = ("Khám lá", "Nhiều ảnh", "Tra cứu", "Sổ ghi chép")
CARD_DONE = "#card .card-ok, #card .card-retake, #card .card-error, #card .card-healthy"

pytestmark = pytest.mark.slow


def _model(tmp_path_factory) -> Path:
    forced = os.environ.get("LEAFSCOUT_APP_TEST_MODEL")  # "toy", or a path: check the suite on another model
    if forced and forced != "toy":
        return Path(forced)
    if not forced and SHIPPED.is_file():
        return SHIPPED
    if not forced and DEV.is_file():
        return DEV
    pytest.importorskip("onnx", reason="no shipped/dev model and no onnx package for the toy model")
    from leafscout.model.testing import toy_model

    return toy_model(tmp_path_factory.mktemp("toy") / "toy.onnx")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from leafscout.webapp import app
    from leafscout.webapp.services import Services

    db = str(tmp_path_factory.mktemp("db") / "log.sqlite")
    services = Services(model_path=_model(tmp_path_factory), db=db)
    services.warm_up()
    demo = app.build_app(services)
    demo.queue(default_concurrency_limit=2)
    port = _free_port()
    demo.launch(prevent_thread_lock=True, **app.launch_kwargs(port=port))
    url = f"http://127.0.0.1:{port}/"
    shipped = services.model_path.resolve() == SHIPPED.resolve()
    yield {"url": url, "services": services, "demo": demo, "shipped": shipped, "db": db}
    demo.close()


@pytest.fixture(scope="module")
def non_leaf(server, tmp_path_factory) -> Path:
    """A real non-leaf photo this model flags not_a_leaf (toy model: a flat blue photo)."""
    pred = server["services"].predictor
    for p in NON_LEAF_CANDIDATES:
        if pred.predict(str(p)).status == "not_a_leaf":
            return p
    if pred.version == "0.0.0-toy":
        import cv2
        from leafscout.model.testing import TOY_COLOURS, flat_photo

        p = tmp_path_factory.mktemp("nl") / "blue.png"
        cv2.imwrite(str(p), cv2.cvtColor(flat_photo(TOY_COLOURS["background"]), cv2.COLOR_RGB2BGR))
        return p
    pytest.skip("this model flags none of the non-leaf fixture photos as not_a_leaf "
                "(the handler's not_a_leaf rendering is unit-tested in test_app_handlers.py)")


@pytest.fixture(scope="module")
def copper_photo(server, tmp_path_factory) -> Path:
    """A photo whose advice, on a plot with no copper history, recommends a copper product."""
    svc = server["services"]
    for p in [LATE_BLIGHT] + fixture_photos():
        if svc.diagnose(str(p)).copper_decision()["recommended"]:
            return p
    if svc.predictor.version == "0.0.0-toy":
        import cv2
        from leafscout.model.testing import flat_photo

        p = tmp_path_factory.mktemp("cu") / "red.png"  # the toy model's tomato.late_blight colour
        cv2.imwrite(str(p), cv2.cvtColor(flat_photo((200, 20, 20)), cv2.COLOR_RGB2BGR))
        if svc.diagnose(str(p)).copper_decision()["recommended"]:
            return p
    pytest.skip("no fixture photo gets copper advice from this model")


# ----------------------------------------------------------------------------------------------- API

def test_api_diagnose_and_advise_by_name(server):
    from gradio_client import Client, handle_file

    services = server["services"]
    loads = services.loads
    client = Client(server["url"], verbose=False)
    out = client.predict(image=handle_file(str(LATE_BLIGHT)), lang="vi", organic_status="certified",
                         api_name="/diagnose")
    expected = services.diagnose(str(LATE_BLIGHT))
    assert (out["status"], out["label"]) == (expected.status, expected.label)
    assert out["model_version"] == services.predictor.version
    if server["shipped"]:
        assert out["label"] == "tomato.late_blight" and out["status"] == "ok"
    assert re.search(r"[ạảấầẩậắằặẹẻếềểệịọỏốồổộớờởợụủứừửựỳỷđ]", out["card_html"] + out["advice_markdown"])
    assert "/tmp" not in json.dumps(out) and "gradio" not in json.dumps(out).lower()
    adv = client.predict(label="tomato.late_blight", lang="vi", organic_status="certified", api_name="/advise")
    assert "Bệnh mốc sương" in adv or "mốc sương" in adv
    near = client.predict(label="tomato.late_blight", lang="vi", days_to_harvest=3, api_name="/advise")
    assert "Chưa nên dùng lúc này" in near and "Chưa nên dùng lúc này" not in adv
    en = client.predict(label="tomato.late_blight", lang="en", api_name="/advise")
    assert "late blight" in en.lower()
    with pytest.raises(Exception, match="not valid|không hợp lệ|chưa đúng"):  # refused, never read as certified
        client.predict(label="coffee.rust", lang="vi", organic_status="organic!!", api_name="/advise")
    # the knowledge base's untranslated note never reaches a Vietnamese page
    vi = client.predict(label="chilli.nutrient_deficiency", lang="vi", api_name="/advise")
    assert "nutrient shortage" not in vi and "dinh dưỡng" in vi
    # a bad file through the API: a translated message and a code, no server path
    bad = client.predict(image=handle_file(str(BAD / "notes.jpg")), lang="vi", api_name="/diagnose")
    assert bad["status"] == "error" and bad["error_code"]
    assert bad["error_message"] == H.error_text(bad["error_code"], "vi")
    assert "/tmp" not in json.dumps(bad, ensure_ascii=False)
    assert services.loads == loads == 1, "a request reloaded the model"


# ------------------------------------------------------------------------------------------- browser

@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (apt-get install chromium); browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROME_ARGS)
        yield b
        b.close()


def _open(browser, server, viewport=PHONE):
    page = browser.new_page(viewport=viewport, accept_downloads=True)
    page.set_default_timeout(30000)
    page.goto(server["url"])
    page.wait_for_selector("#photo")
    page.wait_for_selector("#card .card")
    return page


def _file_input(page, button_id):
    """The hidden <input type=file> of an upload button: it sits beside the button, not inside it."""
    return page.locator(f"input[type=file]:has(+ #{button_id}), #{button_id} + input[type=file]").first


def _upload_photo(page, path):
    before = page.inner_text("#card")
    _file_input(page, "photo").set_input_files(str(path))
    page.wait_for_function("(b) => { const c = document.querySelector('#card');"
                           " return c && c.innerText !== b && c.querySelector('.card:not(.card-empty)'); }",
                           arg=before)
    time.sleep(0.3)


def _shot(page, name):
    """Viewport screenshot for docs/, palette-quantised to keep the committed PNGs small."""
    from PIL import Image

    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    page.screenshot(path=str(path))
    Image.open(path).convert("RGB").quantize(colors=96, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def _tab(page, name):
    page.locator(f"button[role=tab]:has-text('{name}')").first.click()
    time.sleep(0.3)


def _wait_text(page, selector, text, timeout=30000):
    page.wait_for_function("([s, t]) => { const e = document.querySelector(s); return e && e.innerText.includes(t); }",
                           arg=[selector, text], timeout=timeout)


def _pick(page, dropdown_id, option):
    page.click(f"#{dropdown_id} input")
    page.click(f"[role=option]:has-text('{option}')")
    time.sleep(0.3)


def _scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def _english_ui_strings() -> list[str]:
    out = []
    for entry in STRINGS.values():
        for part in re.split(r"[.:;()]", re.sub(r"{\w+}", "", entry["en"])):
            part = part.strip()
            if len(part.split()) >= 2 and part not in entry["vi"]:
                out.append(part)
    # Gradio's own English texts (and raw i18n keys) that a careless layout shows
    return out + ["Drop Image Here", "Click to Upload", "Use via API", "Built with Gradio", "Upload file",
                  "Drop File Here", "Uploading", "common.", "upload_text.", "nutrient shortage", "Webcam"]


def _leaks(page) -> list[str]:
    text = page.inner_text("body")
    return [s for s in _english_ui_strings() if s in text]


def _expected_phrases(services, state, lang):
    """Phrases the answer card must show for this model's answer on the photo, in `lang`."""
    adv = services.advisor
    status = state["status"]
    if status == "ok":
        if state.get("problem_type") == "healthy":
            return [t("card_healthy", lang)]
        return [H.problem_name(adv, state["label"], lang), t("card_today", lang)]
    if status == "uncertain":
        return [t("status_uncertain", lang), t("retake_title", lang)]
    return [t("status_not_a_leaf", lang), t("retake_title", lang)]


def _contrast(fg: str, bg: str) -> float:
    """WCAG 2 contrast ratio of two computed CSS colours ('rgb(r, g, b)' / 'rgba(...)')."""
    def lum(css):
        r, g, b = (int(float(x)) for x in re.findall(r"[\d.]+", css)[:3])

        def ch(c):
            c /= 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
        return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b)
    hi, lo = sorted((lum(fg), lum(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_bad_files_get_a_translated_message_without_server_paths(browser, server):
    page = _open(browser, server)
    for name in ("notes.jpg", "empty.jpg", "truncated.jpg"):
        state, _ = H.diagnose_upload(server["services"], BAD / name, check_path=False)
        assert state["status"] == "error" and state["error_code"], (name, state)
        _upload_photo(page, BAD / name)
        # the card first changes to Gradio's progress timer: wait for this file's own message
        _wait_text(page, "#card", H.error_text(state["error_code"], "vi").capitalize())
        card = page.inner_text("#card")
        assert t("status_error", "vi") in card and t("retake_title", "vi") in card, card
        # the gate's error code, translated
        assert H.error_text(state["error_code"], "vi").capitalize() in card, (name, card)
        body = page.inner_text("body")
        assert "/tmp" not in body and "gradio" not in body.lower() and "Traceback" not in body, name
        assert not page.locator(".toast-body.error").count(), f"{name}: an error toast instead of the card"
        assert not _leaks(page), _leaks(page)
    page.close()


def test_late_blight_vi_then_en_card_above_the_fold(browser, server):
    services = server["services"]
    state, _ = H.diagnose_upload(services, LATE_BLIGHT, check_path=False)
    page = _open(browser, server)
    assert not _leaks(page), f"English on the Vietnamese page: {_leaks(page)}"
    # the primary button's text is readable: WCAG AA 4.5:1 from the computed colours
    fg, bg = page.evaluate("(() => { const s = getComputedStyle(document.querySelector('#photo'));"
                           " return [s.color, s.backgroundColor]; })()")
    assert _contrast(fg, bg) >= 4.5, (fg, bg, _contrast(fg, bg))
    _upload_photo(page, LATE_BLIGHT)
    card = page.inner_text("#card")
    for phrase in _expected_phrases(services, state, "vi"):
        assert phrase in card, f"missing vi text {phrase!r} in {card!r}"
    # the answer is on the first screen, below the photo: no scrolling after the upload
    box = page.locator("#card").bounding_box()
    photo = page.locator("#preview").bounding_box() or page.locator("#photo").bounding_box()
    assert page.evaluate("window.scrollY") == 0
    assert box["y"] >= photo["y"] + photo["height"] - 1, (box, photo)
    assert box["y"] + min(box["height"], 200) <= PHONE["height"], f"answer card below the fold: {box}"
    assert _scroll_width(page) <= PHONE["width"]
    assert not _leaks(page), f"English on the Vietnamese page after a diagnosis: {_leaks(page)}"
    if state["status"] == "ok" and state.get("problem_type") != "healthy":
        page.click("#why .label-wrap")
        _wait_text(page, "#citations-md", "TCVN 11041-2")
    page.evaluate("window.scrollTo(0, 0)")
    _shot(page, "diagnose-vi.png")
    _shot(page, "phone-vi.png")
    page.get_by_label("English").check()
    en = _expected_phrases(services, state, "en")
    _wait_text(page, "#card", en[0])
    _wait_text(page, "#photo", t("photo_btn", "en"))
    card = page.inner_text("#card")
    for phrase in en:
        assert phrase in card, f"missing en text {phrase!r}"
    assert t("card_today", "vi") not in card
    page.wait_for_function("!document.querySelector('.wrap.translucent:not(.hide), .pending')")
    time.sleep(1)  # the switch's greyed-out "pending" look fades
    page.evaluate("window.scrollTo(0, 0)")
    _shot(page, "diagnose-en.png")
    page.close()
    if server["shipped"]:
        assert state["label"] == "tomato.late_blight"


def test_big_photo_shrinks_in_the_browser_before_upload(browser, server, tmp_path, monkeypatch):
    import cv2
    import numpy as np

    big = tmp_path / "big.jpg"
    rng = np.random.default_rng(0)
    img = cv2.resize(rng.integers(0, 255, (60, 80, 3), dtype=np.uint8), (4000, 3000),
                     interpolation=cv2.INTER_LINEAR)
    cv2.imwrite(str(big), img, [cv2.IMWRITE_JPEG_QUALITY, 97])
    seen = []
    svc = server["services"]
    real = svc.diagnose

    def spy(path, *a, **kw):
        seen.append(cv2.imread(str(path)).shape[:2])
        return real(path, *a, **kw)

    monkeypatch.setattr(svc, "diagnose", spy)
    page = _open(browser, server)
    _upload_photo(page, big)
    page.close()
    assert seen and max(seen[0]) <= 1600, f"the server got {seen} pixels: nothing shrank the photo"


def test_non_leaf_photo_shows_retake_guidance(browser, server, non_leaf):
    page = _open(browser, server)
    _upload_photo(page, non_leaf)
    card = page.inner_text("#card")
    assert t("status_not_a_leaf", "vi") in card and t("retake_tips", "vi") in card
    assert t("card_today", "vi") not in card  # no treatment for a guess
    page.close()


def test_copper_decision_is_the_same_in_the_app_the_api_and_the_cli(browser, server, copper_photo, tmp_path):
    """27.5 kg Cu/ha over 7 years (cap 28) on the plot: copper is blocked by the cap everywhere."""
    from gradio_client import Client, handle_file

    from test_cli_advise_log import add_copper_history

    svc = server["services"]
    free = svc.diagnose(str(copper_photo))
    crop = free.label.split(".")[0]
    plot = "Đồi gần giới hạn đồng"
    svc.log.add_plot(plot, crop, 0.5, organic_status="certified")
    add_copper_history(svc.log, plot, total=27.5)
    decision = svc.diagnose(str(copper_photo), plot=plot).copper_decision()
    assert decision["blocked_by_cap"] and not decision["recommended"], decision
    # the app, in the browser: the plot chosen in the field form, then the photo
    page = _open(browser, server)  # a plot added since the server started is offered on a new page
    page.click("#context .label-wrap")
    _pick(page, "diag-plot", plot)
    _upload_photo(page, copper_photo)
    _wait_text(page, "#ctx-md", "27,5")  # the vi page writes the decimal comma, as the advice does
    assert page.locator('#card [data-copper="blocked"]').count() == 1, page.inner_text("#card")
    assert page.locator("#copper input").input_value() in ("27.5", "27.50")
    page.close()
    # the API
    api = Client(server["url"], verbose=False).predict(image=handle_file(str(copper_photo)), lang="vi",
                                                       plot=plot, api_name="/diagnose")
    assert api["copper"] == decision and api["context"]["copper_7y"] == pytest.approx(27.5)
    assert 'data-copper="blocked"' in api["card_html"]
    # the CLI: leafscout diagnose --log PLOT --advise --json
    exe = shutil.which("leafscout") or ""
    cmd = ([exe] if exe else [sys.executable, "-m", "leafscout.cli"]) + [
        "diagnose", str(copper_photo), "--log", plot, "--advise", "--json", "--model", str(svc.model_path),
        "--db", server["db"]]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    assert row["copper"] == decision == api["copper"]


def test_batch_of_ten_with_a_corrupt_file_fits_the_phone_and_gives_a_csv(browser, server, tmp_path):
    photos = sorted((REPO / "tests/fixtures/images/plantvillage").glob("*/*.jpg"))[:9]
    corrupt = tmp_path / "corrupt.jpg"
    shutil.copy(BAD / "truncated.jpg", corrupt)
    files = [str(p) for p in photos] + [str(corrupt)]
    assert len(files) == 10
    page = _open(browser, server)
    _tab(page, "Nhiều ảnh")
    _file_input(page, "batch-files").set_input_files(files)
    _wait_text(page, "#batch-chosen", "10")
    page.click("#batch-btn")
    page.wait_for_selector("#csv-btn", state="visible", timeout=120000)
    _wait_text(page, "#batch-summary", "10")
    rows = page.locator("#batch-results .brow")
    assert rows.count() == 10
    table = page.inner_text("#batch-results")
    assert t("st_error", "vi") in table and "corrupt.jpg" in table
    for p in photos:  # full file names, never cut with "…"
        assert p.name in table
    assert "/tmp" not in table
    assert _scroll_width(page) <= PHONE["width"], f"sideways scroll on the batch page: {_scroll_width(page)}"
    assert not _leaks(page), _leaks(page)
    page.evaluate("window.scrollTo(0, 0)")
    _shot(page, "batch-vi.png")
    with page.expect_download() as dl:
        page.click("#csv-btn")
    with open(dl.value.path(), encoding="utf-8-sig") as fh:
        lines = list(csv.reader(fh))
    assert len(lines) == 11
    assert any("corrupt.jpg" in c for r in lines[1:] for c in r)
    assert not any("/tmp" in c for r in lines for c in r), "server paths in the CSV"
    with page.expect_download() as dl:
        page.click("#pdf-btn")
    assert Path(dl.value.path()).read_bytes()[:4] == b"%PDF"
    # the language switch re-labels the download buttons and keeps their files
    page.click("#lang label:has-text('English')")
    _wait_text(page, "#csv-btn", t("csv", "en"))
    with page.expect_download() as dl:
        page.click("#csv-btn")
    with open(dl.value.path(), encoding="utf-8-sig") as fh:
        assert len(list(csv.reader(fh))) == 11
    with page.expect_download() as dl:
        page.click("#pdf-btn")
    assert Path(dl.value.path()).read_bytes()[:4] == b"%PDF"
    page.close()


def test_all_tabs_reachable_at_360_px_and_no_english_on_vi_pages(browser, server):
    page = _open(browser, server, viewport={"width": 360, "height": 780})
    assert not page.locator(".overflow-menu:visible").count(), "tabs hidden behind an overflow menu"
    for name in VI_TABS:
        tab = page.locator(f"button[role=tab]:has-text('{name}')")
        assert tab.count() == 1 and tab.is_visible(), f"tab {name} not on the screen at 360 px"
        b = tab.bounding_box()
        assert b["x"] >= 0 and b["x"] + b["width"] <= 360, (name, b)
        tab.click()
        time.sleep(0.3)
        assert tab.get_attribute("aria-selected") == "true"
        if name == "Tra cứu":
            _wait_text(page, "#kb-md", "mốc sương")
        assert _scroll_width(page) <= 360, f"sideways scroll on {name} at 360 px"
        assert not _leaks(page), f"English on the Vietnamese {name} tab: {_leaks(page)}"
    page.set_viewport_size(PHONE)
    _tab(page, "Tra cứu")
    page.evaluate("window.scrollTo(0, 0)")
    _shot(page, "knowledge-vi.png")
    page.close()


def test_harvest_lot_with_its_qr_code_made_in_the_log_tab(browser, server):
    import cv2
    import numpy as np

    from leafscout.fieldlog import qr

    svc = server["services"]
    page = _open(browser, server)
    _tab(page, "Sổ ghi chép")
    page.click("#add-plot .label-wrap")
    page.fill("#np-name textarea, #np-name input", "Đồi Chè 2")
    page.click("#np-btn")
    _wait_text(page, "#np-msg", t("log_need_area", "vi"))  # no area made up for it
    assert "Đồi Chè 2" not in [p.name for p in svc.log.plots()]
    page.fill("#np-area textarea, #np-area input", "0,5")
    page.click("#np-btn")
    _wait_text(page, "#np-msg", "Đồi Chè 2")
    page.click("#lot .label-wrap")
    page.fill("#lot-code textarea, #lot-code input", "LOT-2026-07")
    _pick(page, "lot-plots", "Đồi Chè 2")
    page.click("#lot-btn")
    _wait_text(page, "#lot-msg", t("log_lot_done", "vi", lot="LOT-2026-07"))
    page.wait_for_function("(() => { const i = document.querySelector('#lot-qr img');"
                           " return i && i.complete && i.naturalWidth > 0; })()")
    lot = svc.log.get_lot("LOT-2026-07")
    b64 = page.evaluate("""async () => { const r = await fetch(document.querySelector('#lot-qr img').src);
        const b = new Uint8Array(await r.arrayBuffer()); let s = '';
        for (const x of b) s += String.fromCharCode(x); return btoa(s); }""")
    import base64
    img = cv2.imdecode(np.frombuffer(base64.b64decode(b64), np.uint8), cv2.IMREAD_COLOR)
    # OpenCV's classic detector misses ~3% of valid codes; the ArUco-based one reads those
    text = cv2.QRCodeDetector().detectAndDecode(img)[0] or cv2.QRCodeDetectorAruco().detectAndDecode(img)[0]
    assert text == qr.payload(lot, svc.log.trace_base_url), text
    assert _scroll_width(page) <= PHONE["width"]
    assert not _leaks(page), _leaks(page)
    page.locator("#lot").scroll_into_view_if_needed()
    _shot(page, "log-vi.png")
    page.close()


def test_save_to_log_then_record_an_action(browser, server):
    page = _open(browser, server)
    _upload_photo(page, LATE_BLIGHT)
    page.click("#save .label-wrap")
    page.fill("#save-new textarea, #save-new input", "Lô thử nghiệm")
    page.fill("#save-area textarea, #save-area input", "0,5")
    page.click("#save-btn")
    _wait_text(page, "#save", t("saved", "vi", plot="Lô thử nghiệm"))
    _tab(page, "Sổ ghi chép")
    _pick(page, "log-plot", "Lô thử nghiệm")
    _wait_text(page, "#log-md", t("log_observation", "vi"))
    page.click("#act .label-wrap")
    page.fill("#act-what textarea, #act-what input", "Ngắt lá bệnh")
    page.click("#act-btn")
    _wait_text(page, "#log-md", "Ngắt lá bệnh")
    hist = server["services"].log.history("Lô thử nghiệm")
    assert len(hist.observations) == 1 and [a.what for a in hist.actions] == ["Ngắt lá bệnh"]
    page.close()


def test_save_names_who_confirms_and_the_phone_remembers_the_name(browser, server):
    page = _open(browser, server)
    _upload_photo(page, LATE_BLIGHT)
    page.click("#save .label-wrap")
    page.fill("#save-new textarea, #save-new input", "Lô xác nhận")
    page.fill("#save-area textarea, #save-area input", "0,5")
    page.fill("#save-by textarea, #save-by input", "Lò Thị Hoa")
    page.click("#save-btn")
    _wait_text(page, "#save", t("saved_by", "vi", by="Lò Thị Hoa"))
    assert [o.confirmed_by for o in server["services"].log.history("Lô xác nhận").observations] == ["Lò Thị Hoa"]
    # a new photo's answer is not saved: "Đã lưu ..." goes with the old answer
    _upload_photo(page, BAD / "notes.jpg")
    page.wait_for_function("() => !document.querySelector('#save-msg').innerText.trim()", timeout=5000)
    page.reload()
    page.wait_for_selector("#card .card")
    page.click("#save .label-wrap")
    page.wait_for_function("() => { const e = document.querySelector('#save-by textarea, #save-by input');"
                           " return e && e.value === 'Lò Thị Hoa'; }")
    page.close()


def test_two_photos_of_one_plant_give_one_answer_and_say_how_many_agree(browser, server):
    """Issue 17 item 3 at 390x844: "Thêm ảnh cùng cây" after the first photo, the combined card with its
    "k trên n ảnh" line and one line a photo, a bad photo's own translated line, "Cây mới" clears the group."""
    services = server["services"]
    second = next(p for p in sorted(LATE_BLIGHT.parent.glob("*.jpg")) if p != LATE_BLIGHT)
    want, _ = H.diagnose_group_upload(services, [LATE_BLIGHT, second], check_path=False)
    page = _open(browser, server)
    assert not page.locator("#photo-more").is_visible()
    _upload_photo(page, LATE_BLIGHT)
    page.wait_for_selector("#photo-more", state="visible")
    _file_input(page, "photo-more").set_input_files(str(second))
    page.wait_for_selector("#card .group-agree")
    agree = page.inner_text("#card .group-agree")
    assert "2" in agree and t("group_agree", "vi", k=want["group"]["agree"], n=2) in agree, agree
    assert page.locator("#card .group-photo").count() == 2
    card = page.inner_text("#card")
    for phrase in _expected_phrases(services, want, "vi"):
        assert phrase in card, f"missing {phrase!r} in the combined card {card!r}"
    assert _scroll_width(page) <= PHONE["width"]
    assert not _leaks(page), _leaks(page)
    _shot(page, "diagnose-group-vi.png")
    # a bad file joins the group: its own translated line, the two leaves still count
    _file_input(page, "photo-more").set_input_files(str(BAD / "notes.jpg"))
    _wait_text(page, "#card .group-agree", t("group_agree", "vi", k=want["group"]["agree"], n=3))
    bad = page.inner_text("#card .group-photo:nth-child(3)")
    assert t("status_error", "vi") in bad and t("group_not_counted", "vi") in bad, bad
    assert page.locator("#card .group-photo").count() == 3 and "/tmp" not in page.inner_text("body")
    # "Cây mới": the group is gone, the next photo is a single photo again
    page.click("#photo-new")
    page.wait_for_selector("#card .card-empty")
    assert not page.locator("#photo-more").is_visible() and not page.locator("#card .group-box").count()
    _upload_photo(page, second)
    assert not page.locator("#card .group-box").count()
    page.close()


# -------------------------------------------------------------------------------------- login, caps

def _get(url, cookies=None):
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, headers={"Cookie": cookies} if cookies else {})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def test_login_guards_the_app_the_api_and_the_page(server):
    """--auth user:pass: nothing is served without the password, and the logged-out login page carries no
    API description (issue 12 item 6: it embedded every endpoint while /gradio_api/info said 401)."""
    import urllib.parse
    import urllib.request

    from leafscout.webapp import app
    from gradio_client import Client

    demo = app.build_app(server["services"])
    port = _free_port()
    demo.launch(prevent_thread_lock=True, **app.launch_kwargs(port=port, auth=app.parse_auth("coop:s3cret")))
    url = f"http://127.0.0.1:{port}/"
    try:
        with pytest.raises(Exception):
            Client(url, verbose=False)
        for path in ("config", "gradio_api/info"):
            assert _get(url + path)[0] == 401, path
        assert _get(url + "openapi.json")[0] == 404
        code, page = _get(url)
        assert code == 200 and "window.gradio_api_info = {};" in page
        for secret in ("copper_used_7y", "organic_status", "/diagnose", "named_endpoints", "api_name"):
            assert secret not in page, f"{secret!r} on the logged-out page"
        # logged in (Gradio's own login form), the page is the full app again
        resp = urllib.request.urlopen(urllib.request.Request(
            url + "login", data=urllib.parse.urlencode({"username": "coop", "password": "s3cret"}).encode()))
        cookie = "; ".join(c.split(";")[0] for c in resp.headers.get_all("set-cookie"))
        code, page = _get(url, cookie)
        assert code == 200 and "copper_used_7y" in page
        client = Client(url, auth=("coop", "s3cret"), verbose=False)
        assert "mốc sương" in client.predict(label="tomato.late_blight", lang="vi", api_name="/advise")
    finally:
        demo.close()
    assert server["services"].loads == 1


def test_upload_size_is_capped(server):
    from leafscout.webapp import app
    from gradio_client import Client, handle_file

    demo = app.build_app(server["services"])
    port = _free_port()
    demo.launch(prevent_thread_lock=True, **app.launch_kwargs(port=port, max_file_size="5kb"))
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        assert LATE_BLIGHT.stat().st_size > 5000
        with pytest.raises(Exception, match="(?i)size|large|413"):
            client.predict(image=handle_file(str(LATE_BLIGHT)), lang="vi", api_name="/diagnose")
    finally:
        demo.close()


def test_a_field_photo_shows_its_numbered_leaves_on_a_phone(browser, server):
    """A chilli field photo (no plain backdrop) taken on a 390x844 screen: the photo above the answer shows the
    leaves' white L1, L2 ... boxes, and under the card "the leaves looked at" names each, all within the
    screen's width, as the service answered it."""
    svc = server["services"]
    if svc.detector is None or getattr(svc.detector, "leaf_class", None) is None:
        pytest.skip("this install's detector finds no leaves (insects only)")
    photo = next((p for p in fixture_photos() if "/chilli_leaf/" in p.as_posix()
                  and svc.diagnose(str(p)).result.leaves), None)
    if photo is None:
        pytest.skip("no chilli fixture photo gets leaf boxes from this detector")
    d = svc.diagnose(str(photo))
    page = _open(browser, server)
    _upload_photo(page, photo)
    page.wait_for_selector("#card .card-leaves")
    rows = page.locator("#card .card-leaves li")
    assert rows.count() == len(d.result.leaves)
    assert [rows.nth(i).get_attribute("data-label") for i in range(rows.count())] == \
        [lf["label"] for lf in d.result.leaves]
    assert rows.nth(0).inner_text().startswith("L1")
    assert _scroll_width(page) <= PHONE["width"]
    shown = _shown_preview(page)  # the preview is the photo with its boxes drawn: white rims on it
    white = (shown.min(axis=2) >= 250).mean()
    plain = _preview_of(photo)
    assert white > (plain.min(axis=2) >= 250).mean() + 0.002, f"no white leaf box on the preview ({white:.4f})"
    assert not _leaks(page), f"English on the Vietnamese page: {_leaks(page)}"
    _shot(page, "field-leaves-vi.png")
    page.close()


def _shown_preview(page):
    """The preview image the page shows, as RGB pixels."""
    import base64
    import io

    import numpy as np
    from PIL import Image
    src = page.eval_on_selector("#preview img", "img => img.src")
    if src.startswith("data:"):
        data = base64.b64decode(src.split(",", 1)[1])
    else:
        data = page.request.get(src).body()
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def _preview_of(photo):
    """The same photo's preview without boxes (the page's own downscale)."""
    from leafscout.webapp.app import _preview
    return _preview(str(photo))


def test_opening_the_field_form_leaves_days_to_harvest_unknown_not_zero(browser, server, copper_photo):
    """An untouched "days to harvest" box is "not given": it must not become 0, which blocks every product with a
    pre-harvest interval and tells the farmer that no spray is needed."""
    page = _open(browser, server)
    page.click("#context .label-wrap")
    time.sleep(0.5)
    _upload_photo(page, copper_photo)
    assert page.locator("#days input, #days textarea").first.input_value() == ""
    assert t("card_no_spray", "vi") not in page.inner_text("#card"), page.inner_text("#card")
    page.close()


def test_days_to_harvest_typed_with_words_is_asked_again_not_a_photo_error(browser, server):
    """'3 ngày' in the days box: the photo was answered 'could not be read: take it again', and typed after a photo
    it was ignored without a word (the card kept its answer). Now the answer comes, and the form says to type
    the number again."""
    page = _open(browser, server)
    page.click("#context .label-wrap")
    time.sleep(0.5)
    page.locator("#days input, #days textarea").first.fill("3 ngày")
    _upload_photo(page, LATE_BLIGHT)
    card = page.inner_text("#card")
    assert t("status_error", "vi") not in card, card
    _wait_text(page, "#ctx-md", t("form_bad_days", "vi").split(":")[0])
    box = page.locator("#days input, #days textarea").first
    box.fill("")
    box.type("7")
    page.wait_for_function("() => !document.querySelector('#ctx-md').innerText.trim()", timeout=10000)
    box.type("x")
    _wait_text(page, "#ctx-md", t("form_bad_days", "vi").split(":")[0])
    page.close()


def test_changing_the_crop_after_a_photo_diagnoses_the_photo_again(browser, server):
    """The crop picker re-runs the photo for the chosen crop; a crop the photo does not show is "check the crop",
    with no treatment (no error badge, no stale advice for the first answer)."""
    svc = server["services"]
    photo = next((p for p in fixture_photos() if svc.diagnose(str(p)).status == "ok"), None)
    if photo is None:
        pytest.skip("no fixture photo gets an ok answer from this model")
    first = svc.diagnose(str(photo))
    other = next((c for c in svc.crops if c != first.label.split(".")[0]), None)
    if other is None:
        pytest.skip("this model knows one crop")
    errors = []
    page = _open(browser, server)
    page.on("pageerror", lambda e: errors.append(str(e)))
    _upload_photo(page, photo)
    before = page.inner_text("#card")
    name = H.model_crop_choices(svc, "vi")
    label = next(lbl for lbl, val in name if val == other)
    _pick(page, "crop", label)
    page.wait_for_function("(b) => { const c = document.querySelector('#card'); return c && c.innerText !== b; }",
                           arg=before)
    time.sleep(0.5)
    assert not errors, errors
    assert page.locator(".toast-body.error, .error .toast-title").count() == 0
    again = svc.diagnose(str(photo), crop=other)
    card = page.inner_text("#card")
    if again.reason_code == "crop_mismatch":
        assert page.locator('#card [data-reason="crop_mismatch"]').count() == 1, card
        assert t("card_today", "vi") not in card
    assert page.evaluate("localStorage.getItem('leafscout.crop')") == other
    page.close()


def test_api_batch_rows_carry_the_reason_and_rounded_confidence(server):
    from gradio_client import Client, handle_file

    client = Client(server["url"], verbose=False)
    out, csv_file = client.predict(files=[handle_file(str(LATE_BLIGHT)), handle_file(str(BAD / "notes.jpg"))],
                                   lang="vi", api_name="/batch")
    rows = out["rows"]
    assert len(rows) == 2 and Path(csv_file).is_file()
    good, bad = rows
    assert set(good) >= {"no", "file", "status", "label", "confidence", "error_code", "reason_code"}
    assert good["confidence"] == round(good["confidence"], 4)
    assert (bad["status"], bad["reason_code"]) == ("error", "unreadable") and bad["error_code"]

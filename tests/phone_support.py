"""Shared pieces of the phone-app tests (tests/test_phone_*.py): build once, serve, drive Debian's Chromium.

Everything skips with its reason when a piece is missing: onnxruntime-web (`cd phone && npm ci`), the
browser (`apt-get install chromium`), or Playwright's Python package. Never `playwright install`.
"""
from __future__ import annotations

import atexit
import base64
import shutil
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROME_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update"]
PHONE = {"width": 390, "height": 844}

# JS helpers evaluated in the page (window.leafscout is app.js's API)
JS_DIAGNOSE_BYTES = """async ([b64, crop]) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  return await window.leafscout.diagnoseBytes(bytes, crop); }"""
# the classifier's answer on the whole photo alone (Predictor.predict): no scene pass, whatever detector is shipped
JS_CLASSIFY_BYTES = """async ([b64, crop]) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  return await window.leafscout.classifyBytes(bytes, crop); }"""
JS_CLASSIFY_RGB = """async ([w, h, b64, crop]) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  return await window.leafscout.classifyImage(window.leafscout.pipeline.makeImage(w, h, bytes), crop); }"""
JS_DIAGNOSE_RGB = """async ([w, h, b64, crop]) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  return await window.leafscout.diagnoseImage(window.leafscout.pipeline.makeImage(w, h, bytes), crop); }"""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need_build_tools() -> None:
    from leafscout.webapp.phone import ORT_DIST, ort_ready

    if not ort_ready():
        pytest.skip(f"onnxruntime-web is not installed ({ORT_DIST} missing): run `cd phone && npm ci`")


def need_browser():
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (Debian: apt-get install -y chromium)")
    return pytest.importorskip("playwright.sync_api", reason="playwright (the dev extra) is not installed")


_BUILT: dict = {}


def built_app(model=None) -> Path:
    """The phone app built once per test process from `model` (default: the model the runtime loads)."""
    need_build_tools()
    import tempfile

    from leafscout.model.runtime import default_model_path
    from leafscout.webapp.phone import build

    key = str(Path(model or default_model_path()).resolve())
    if key not in _BUILT:
        root = Path(tempfile.mkdtemp(prefix="leafscout-phonetest-"))
        atexit.register(shutil.rmtree, root, True)  # 30 MB a build: gone when the test process ends
        out = root / "dist"
        build(out, key)
        _BUILT[key] = out
    return _BUILT[key]


@contextmanager
def static_server(root: Path):
    """The built folder at http://127.0.0.1:PORT/phone/ with the headers app.py sends (uvicorn in a thread)."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.routing import Mount, Route

    from leafscout.webapp.phone import _to_slash, static_app

    port = free_port()
    app = Starlette(routes=[Route("/phone", _to_slash), Mount("/phone", app=static_app(root))])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/phone/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def browser():
    sync_api = need_browser()
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROME_ARGS)
        try:
            yield b
        finally:
            b.close()


def open_app(b, url: str, **context_kwargs):
    """A phone-sized page with the app loaded and its model ready; page errors are collected in page.errors."""
    ctx = b.new_context(viewport=PHONE, accept_downloads=True, **context_kwargs)
    page = ctx.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url)
    page.ready = page.evaluate("window.leafscout.ready")
    return ctx, page


# module fixtures of the browser tests: a test file imports them (`from phone_support import app_url, chromium`)
@pytest.fixture(scope="module")
def app_url():
    """The built phone app on a local static server; 1 WASM thread: steady on 2 busy cores."""
    need_browser()
    need_build_tools()
    with static_server(built_app()) as url:
        yield url + "?threads=1"


@pytest.fixture(scope="module")
def chromium():
    with browser() as b:
        yield b


# the phone's "Hỏi thuốc" answers for a list of names (phone/src/substances.js through window.leafscout):
# {name: {how, kind, reason: {vi, en} | null, conditions: {vi: [...], en: [...]}}}
JS_CHECK_SUBSTANCES = """async (names) => {
  const out = {};
  for (const n of names) out[n] = await window.leafscout.checkSubstance(n);
  return out; }"""

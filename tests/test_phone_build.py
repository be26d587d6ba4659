"""Building and serving the phone app (webapp/phone.py), without a browser."""
from __future__ import annotations

import json

import pytest

from conftest import REPO
from phone_support import built_app


def test_build_carries_the_models_metadata_and_every_file():
    from leafscout.model.runtime import Predictor, default_model_path

    out = built_app()
    pred = Predictor(default_model_path(), threads=1)
    meta = json.loads((out / "model" / "leafscout.json").read_text("utf-8"))
    assert meta["labels"] == pred.labels and meta["temperature"] == pred.temperature
    assert meta["thresholds"] == json.loads(pred.meta["thresholds"]) and meta["version"] == pred.version
    assert (out / "model" / "leafscout.onnx").read_bytes() == pred.path.read_bytes()
    build = json.loads((out / "build.json").read_text())
    sw = (out / "sw.js").read_text("utf-8")
    for rel in build["files"]:
        assert (out / rel).is_file()
        if rel not in ("sw.js",):
            assert json.dumps(rel) in sw, f"{rel} is not cached for offline use"
    manifest = json.loads((out / "manifest.webmanifest").read_text("utf-8"))
    assert {i["sizes"] for i in manifest["icons"]} == {"192x192", "512x512"}
    advice = json.loads((out / "advice.json").read_text("utf-8"))
    assert set(advice["texts"]["vi"]) >= {lab for lab in pred.labels if lab != pred.background_label}


def test_served_with_isolation_headers_and_gzip():
    from starlette.applications import Starlette
    from starlette.routing import Mount, Route
    from starlette.testclient import TestClient

    from leafscout.webapp.phone import _to_slash, static_app

    app = Starlette(routes=[Route("/phone", _to_slash), Mount("/phone", app=static_app(built_app()))])
    with TestClient(app) as c:
        r = c.get("/phone", follow_redirects=False)
        assert r.status_code in (301, 302, 307) and r.headers["location"].endswith("/phone/")
        r = c.get("/phone/", headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200 and "LeafScout" in r.text
        assert r.headers["cross-origin-opener-policy"] == "same-origin"
        assert r.headers["cross-origin-embedder-policy"] == "require-corp"
        r = c.get("/phone/advice.json", headers={"Accept-Encoding": "gzip"})
        assert r.headers.get("content-encoding") == "gzip"
        assert c.get("/phone/../pyproject.toml").status_code == 404


def test_not_built_page_says_how_and_escapes(tmp_path):
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from leafscout.webapp.phone import mount_routes

    routes = mount_routes(prebuilt=tmp_path / "<nothing>")
    with TestClient(Starlette(routes=routes)) as c:
        r = c.get("/phone/")
        assert r.status_code == 503 and "webapp.phone build" in r.text and "<nothing>" not in r.text


def test_build_command_refuses_in_one_line(tmp_path, capsys):
    from leafscout.webapp.phone import main

    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"not a model")
    assert main(["build", "--out", str(tmp_path / "dist"), "--model", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert main(["serve", "--out", str(tmp_path / "nothing")]) == 2
    assert "no built phone app" in capsys.readouterr().err
    assert (REPO / "phone" / "package-lock.json").is_file()

"""Building and serving the phone app (webapp/phone.py), without a browser."""
from __future__ import annotations

import hashlib
import json

import numpy as np
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
    shipped = (out / "model" / "leafscout.onnx").read_bytes()
    if meta["weights"] == "float16":  # the same model with its weights stored as float16 (webapp.phone.half_weights)
        half = Predictor(out / "model" / "leafscout.onnx", threads=1)
        assert half.meta == pred.meta and half.labels == pred.labels
        assert len(shipped) < 0.55 * len(pred.path.read_bytes())
    else:  # no `onnx` package: the float32 file as it is
        assert shipped == pred.path.read_bytes()
    assert meta["file_bytes"] == len(shipped) and meta["sha256"] == hashlib.sha256(pred.path.read_bytes()).hexdigest()
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


def test_float16_weights_are_deterministic_and_keep_every_fixture_answer(tmp_path):
    """The phone's model file: built twice, the same bytes; on every committed fixture photo the same status and
    top-1 as the float32 model (probabilities move by up to ~1e-2; val accuracy: benchmarks/phone_weights_fp16.py)."""
    pytest.importorskip("onnx", reason="the float16 conversion needs the onnx package (the train extra)")
    from leafscout.model.runtime import Predictor, default_model_path
    from leafscout.webapp.phone import half_weights

    src = default_model_path()
    a, b = tmp_path / "a.onnx", tmp_path / "b.onnx"
    info = half_weights(src, a)
    half_weights(src, b)
    assert a.read_bytes() == b.read_bytes() and info["tensors"] > 0
    assert a.read_bytes() == (built_app() / "model" / "leafscout.onnx").read_bytes()
    p32, p16 = Predictor(src, threads=1), Predictor(a, threads=1)
    photos = sorted(p for root in ("tests/fixtures/images", "tests/fixtures/ood", "tests/fixtures/rice_pest")
                    for p in (REPO / root).rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    bad, worst = [], 0.0
    for p in photos:
        r32, r16 = p32.predict(str(p)), p16.predict(str(p))
        if (r32.status, r32.label) != (r16.status, r16.label):
            bad.append(f"{p.name}: float32 {r32.status} {r32.label}, float16 weights {r16.status} {r16.label}")
        worst = max(worst, float(np.abs(np.asarray(r32.logits) - np.asarray(r16.logits)).max()))
    assert not bad, "\n".join(bad)
    assert worst < 0.5, f"logits moved by {worst}"


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


def test_without_onnx_the_float32_file_ships_with_a_note(tmp_path, monkeypatch, capsys):
    import sys

    from leafscout.model.runtime import default_model_path
    from leafscout.webapp.phone import ship_model

    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` raises ImportError
    dst = tmp_path / "m.onnx"
    assert ship_model(default_model_path(), dst) == "float32"
    assert dst.read_bytes() == default_model_path().read_bytes()
    assert "float32 weights" in capsys.readouterr().err


def test_insect_models_are_lazy_and_their_texts_follow_the_python_ones():
    from leafscout.model.detect import default_pests_path
    from leafscout.pests import pest_action
    from leafscout.service import PEST_CROP_MIN, PEST_NO_LEAF_CROP_MIN, load_advisor

    if not default_pests_path().is_file():
        pytest.skip("no insect detector in this install")
    out = built_app()
    build = json.loads((out / "build.json").read_text())
    assert build["lazy"] == ["model/pests.onnx", "model/pests_labeler.onnx"]
    sw = (out / "sw.js").read_text("utf-8")
    precache = json.loads(sw.split("const FILES = ", 1)[1].split(";\n", 1)[0])
    assert "model/pests.json" in precache and not set(build["lazy"]) & set(precache)
    meta = json.loads((out / "model" / "leafscout.json").read_text("utf-8"))
    pm = json.loads((out / "model" / "pests.json").read_text("utf-8"))
    assert meta["pests"] == "pests.json" and pm["labeler"]["weights"] == "float16" and pm["weights"] == "float32"
    assert pm["gate"] == {"crop_min": PEST_CROP_MIN, "no_leaf_crop_min": PEST_NO_LEAF_CROP_MIN}
    kb = load_advisor(tuple(meta["labels"])).kb
    for label in pm["labels"]:
        for n in (1, 2, 9, 10, 11, pm["max_detections"]):
            t = pm["actions"]["templates"][pm["actions"]["by_count"][label][n - 1]]
            want = pest_action(label, n, kb.problems, kb.rules)
            assert {k: v for k, v in t.items() if k not in ("count", "text")} == \
                {k: v for k, v in want.items() if k not in ("count", "text")}
            assert {lang: s.replace("{count}", str(n)) for lang, s in t["text"].items()} == want["text"]

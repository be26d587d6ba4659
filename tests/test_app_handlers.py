"""Unit tests of the web app's pure handlers (webapp/): no server, no browser.

The deterministic toy model (model.testing) gives every status on demand: green -> bean.healthy ok,
yellow -> uncertain, blue -> background (not_a_leaf), grey -> out of distribution (not_a_leaf).
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import cv2
import pytest

from webapp import batch as B
from webapp import handlers as H
from webapp import logbook as LB
from webapp.i18n import LANGS, STRINGS, t
from webapp.services import Services

REPO = Path(__file__).resolve().parent.parent
VI_MARKS = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.I)
BAD = REPO / "tests" / "fixtures" / "bad"
LEAF = REPO / "tests/fixtures/images/plantvillage/Tomato___Late_blight/4cae9dde-fd4a-48f0-a66d-c7ed92eee6ea___GHLB2_Leaf_97.jpg"


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    pytest.importorskip("onnx", reason="the toy model needs the onnx package (installed by .[train])")
    from model.testing import toy_model

    return toy_model(tmp_path_factory.mktemp("toy") / "toy.onnx")


@pytest.fixture
def services(toy, tmp_path):
    return Services(model_path=toy, db=str(tmp_path / "log.sqlite"))


def photo(tmp_path, kind: str) -> Path:
    from model.testing import TOY_COLOURS, flat_photo

    p = tmp_path / f"{kind}.png"
    cv2.imwrite(str(p), cv2.cvtColor(flat_photo(TOY_COLOURS[kind]), cv2.COLOR_RGB2BGR))
    return p


# --------------------------------------------------------------------------------------- i18n table

def test_every_string_has_both_languages_and_vi_is_vietnamese():
    for key, entry in STRINGS.items():
        assert set(entry) == set(LANGS), f"{key}: expected exactly {LANGS}"
        vi, en = entry["vi"], entry["en"]
        assert vi.strip() and en.strip(), key
        # same placeholders in both languages
        assert sorted(re.findall(r"{(\w+)}", vi)) == sorted(re.findall(r"{(\w+)}", en)), key
        if len(vi.split()) > 1:
            assert vi != en, f"{key}: vi text equals en text, looks untranslated"
        if len(vi.split()) > 2:
            assert VI_MARKS.search(vi), f"{key}: vi text has no Vietnamese diacritics: {vi!r}"


def english_leaks(text: str) -> list[str]:
    """English UI strings (from the table, 2+ words) that appear in a supposedly Vietnamese text."""
    leaks = []
    for key, entry in STRINGS.items():
        en = re.sub(r"{\w+}", "", entry["en"]).strip(" .:")
        if len(en.split()) >= 2 and entry["en"] != entry["vi"]:
            for part in re.split(r"[.:;]", en):
                part = part.strip()
                if len(part.split()) >= 2 and part in text:
                    leaks.append(part)
    return leaks


# ------------------------------------------------------------------------------------------ services

def test_nothing_heavy_at_import_and_model_loads_once(services):
    assert services.loads == 0
    p1 = services.predictor
    p2 = services.predictor
    assert p1 is p2 and services.loads == 1


def test_model_path_flag_env_default(monkeypatch):
    from webapp.services import SHIPPED_MODEL, resolve_model_path

    monkeypatch.delenv("LEAFSCOUT_MODEL", raising=False)
    assert resolve_model_path() == SHIPPED_MODEL
    monkeypatch.setenv("LEAFSCOUT_MODEL", "/x/env.onnx")
    assert resolve_model_path() == Path("/x/env.onnx")
    assert resolve_model_path("/y/cli.onnx") == Path("/y/cli.onnx")


def test_auth_and_bind_defaults():
    import app

    assert app.parse_auth("coop:secret") == ("coop", "secret")
    assert app.parse_auth(None) is None
    with pytest.raises(SystemExit):
        app.parse_auth("nopassword")
    kw = app.launch_kwargs()
    assert kw["server_name"] == "127.0.0.1" and kw["max_file_size"] and kw["allowed_paths"] == []


def test_paths_outside_the_upload_folder_are_refused(tmp_path):
    inside = tmp_path / "up" / "a.jpg"
    inside.parent.mkdir()
    inside.write_bytes(b"x")
    assert H.safe_upload_path(inside, roots=[tmp_path / "up"]) == inside.resolve()
    for bad in ["/etc/passwd", tmp_path / "up" / ".." / "secret.jpg"]:
        with pytest.raises(ValueError):
            H.safe_upload_path(bad, roots=[tmp_path / "up"])


# ------------------------------------------------------------------------------------------ diagnose

@pytest.mark.parametrize("kind,status", [("ok", "ok"), ("uncertain", "uncertain"),
                                         ("background", "not_a_leaf"), ("ood", "not_a_leaf")])
def test_each_status_renders_in_plain_vietnamese(services, tmp_path, kind, status):
    st, overlay = H.diagnose_image(services, photo(tmp_path, kind), check_path=False)
    assert st["status"] == status
    res, advice, cit = H.render_all(services, st, "vi", "certified", None, 0)
    assert not english_leaks(res + advice + cit), english_leaks(res + advice + cit)
    adv = services.advisor
    if status == "ok":
        assert overlay is not None and overlay.ndim == 3
        assert "Lá đậu khỏe mạnh" in res or adv.problem(st["label"])["names"]["vi"] in res
        assert t("confidence", "vi") in res and "%" in res
        assert t("retake_title", "vi") not in res
        assert t("top3", "vi") in res
    else:  # retake guidance instead of a guess: no top 3, no "ok" headline
        assert t("retake_title", "vi") in res and t("retake_tips", "vi") in res
        assert t("top3", "vi") not in res
    if status == "not_a_leaf":
        assert overlay is None
        assert "Không thấy lá trong ảnh này" in res  # the advisor's own vi message
        assert advice == "" and cit == ""
    res_en, advice_en, _ = H.render_all(services, st, "en", "certified", None, 0)
    assert t("status_" + status, "en") in res_en and t("status_" + status, "vi") not in res_en


def test_not_a_leaf_result_renders_retake_guidance_without_a_model():
    """Rendering a not_a_leaf Result, independent of what any model says about real photos."""
    from advisor import Advisor
    from model.results import Result

    r = Result(path="x.jpg", status="not_a_leaf", label="background.no_leaf", confidence=None,
               top_k=[("background.no_leaf", 0.4), ("tomato.late_blight", 0.3)])
    md = H.render_result(Advisor.load(), r.to_dict(), "vi")
    assert "Hãy chụp lại ảnh" in md and "Không thấy lá" in md
    assert "Bệnh mốc sương" not in md  # never a guess


def test_unreadable_photo_is_an_error_state_not_an_exception(services):
    for bad in sorted(BAD.glob("*.*")):
        if bad.suffix == ".md":
            continue
        st, overlay = H.diagnose_image(services, bad, check_path=False)
        assert st["status"] == "error" and overlay is None
        res = H.render_result(services.advisor, st, "vi")
        assert t("retake_title", "vi") in res and "expected" not in res


def test_context_form_changes_the_advice(services):
    adv = services.advisor
    state = {"status": "ok", "label": "tomato.late_blight", "confidence": 0.9, "top_k": []}
    plain = H.render_advice(adv, state, H.parse_context("certified", None, 0), "vi")
    near_harvest = H.render_advice(adv, state, H.parse_context("certified", 3, 0), "vi")
    copper_full = H.render_advice(adv, state, H.parse_context("certified", None, 27.9), "vi")
    assert "Chưa nên dùng lúc này" not in plain
    assert "Chưa nên dùng lúc này" in near_harvest and "Đồng hydroxit" in near_harvest.split("Chưa nên dùng")[1]
    assert copper_full != plain
    # steps come in order and the citations accordion lists each standard
    assert re.search(r"^1\. ", plain, re.M) and re.search(r"^2\. ", plain, re.M)
    cit = H.render_citations(adv, H.advice_for(adv, state, H.parse_context()), "en")
    assert "TCVN 11041-2" in cit and "7 CFR" in cit
    cit_vi = H.render_citations(adv, H.advice_for(adv, state, H.parse_context()), "vi")
    assert "được phép" in cit_vi and not english_leaks(cit_vi)


def test_advise_handler_reads_any_problem(services):
    got = H.api_advise(services, "coffee.rust", "vi")
    assert "Bệnh gỉ sắt cà phê" in got
    # a problem the model cannot detect is still readable
    undetectable = [p for p in services.advisor.problems() if not p["detectable_by_model"]]
    if undetectable:
        assert undetectable[0]["names"]["en"] in H.api_advise(services, undetectable[0]["id"], "en")


def test_knowledge_choices_mark_undetectable_problems():
    from advisor import Advisor

    adv = Advisor.load()
    crops = dict((v, k) for k, v in H.crop_choices(adv, "vi"))
    assert "tomato" in crops and "background" not in crops
    allp = [c for crop in crops for c in H.problem_choices(adv, crop, "vi")]
    assert any(t("kb_not_detectable", "vi") in name for name, _ in allp) == any(
        not p["detectable_by_model"] for p in adv.problems())


# ------------------------------------------------------------------------------------------- batch

def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_zip_is_opened_safely(tmp_path):
    leaf = LEAF.read_bytes()
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("inside.jpg", leaf)
    z = _zip(tmp_path / "photos.zip", {"../../evil.jpg": leaf, "/abs/path.jpg": leaf, "ok/leaf.jpg": leaf,
                                       "nested.zip": inner.getvalue(), "notes.txt": b"hello"})
    dest = tmp_path / "out"
    items, skipped = B.safe_extract(z, dest)
    assert skipped == 1  # nested archive ignored
    assert len(items) == 4
    for it in items:
        assert Path(it.path).resolve().parent == dest.resolve()  # nothing escaped
    assert not (tmp_path / "evil.jpg").exists() and not Path("/abs/path.jpg").exists()
    # cap on total uncompressed size (also enforced while reading)
    big = _zip(tmp_path / "big.zip", {"a.jpg": b"\0" * 5000, "b.jpg": b"\0" * 5000})
    with pytest.raises(B.ZipRefused):
        B.safe_extract(big, tmp_path / "big", max_total=8000)
    with pytest.raises(B.ZipRefused):
        B.safe_extract(tmp_path / "photos.zip", tmp_path / "few", max_members=2)


def test_batch_bad_files_are_rows_and_reports_are_written(services, tmp_path):
    good = [photo(tmp_path, k) for k in ("ok", "uncertain", "background")]
    z = _zip(tmp_path / "more.zip", {"a/green.png": good[0].read_bytes(), "bad.jpg": b"not a photo"})
    broken_zip = tmp_path / "broken.zip"
    broken_zip.write_bytes(b"PK\x03\x04 not really")
    files = good + [BAD / "notes.jpg", BAD / "empty.jpg", BAD / "truncated.jpg", z, broken_zip]
    res = B.run_batch(services, files, tmp_path / "work", check_paths=False)
    rows = res["rows"]
    assert len(rows) == 3 + 3 + 2 + 1
    assert [r["status"] for r in rows[:3]] == ["ok", "uncertain", "not_a_leaf"]
    assert all(r["status"] == "error" and r["error"] for r in rows[3:6])
    assert rows[6]["status"] == "ok" and rows[7]["status"] == "error" and rows[8]["status"] == "error"
    tab = B.table(services.advisor, res, "vi")
    assert len(tab["data"]) == 9 and len(tab["headers"]) == len(tab["data"][0])
    assert not english_leaks(str(tab))
    out = B.write_csv(services.advisor, res, "vi", tmp_path / "r.csv")
    with open(out, encoding="utf-8-sig") as fh:
        lines = list(csv.reader(fh))
    assert len(lines) == 10 and lines[0][0] == t("col_no", "vi")
    pdf = B.write_pdf(services.advisor, res, "vi", tmp_path / "r.pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 2000


def test_batch_refuses_paths_outside_upload_folder(services, tmp_path):
    res = B.run_batch(services, [LEAF], tmp_path / "work", check_paths=True)
    assert res["rows"][0]["status"] == "error" and "upload folder" in res["rows"][0]["error"]


# --------------------------------------------------------------------------------------------- log

def test_save_to_log_history_and_action(services, tmp_path):
    st, _ = H.diagnose_image(services, photo(tmp_path, "ok"), check_path=False)
    assert LB.save_observation(services, st, None, "", "vi") == t("choose_plot", "vi")
    msg = LB.save_observation(services, st, None, "Lô A", "vi")
    assert msg == t("saved", "vi", plot="Lô A")
    assert "Lô A" in LB.plot_names(services)
    assert LB.record_action(services, "Lô A", "Phun Bordeaux", "copper sulphate", 1.5, "vi") == t("log_recorded", "vi")
    assert LB.copper_for_plot(services, "Lô A") == pytest.approx(1.5)
    hist = LB.history_md(services, "Lô A", "vi")
    assert "Phun Bordeaux" in hist and "Lá đậu khỏe mạnh" in hist and t("log_observation", "vi") in hist
    assert "1.5 kg/ha" in hist
    assert LB.add_plot(services, "Lô B", "coffee", 1.0, "certified", "en") == t("log_added", "en", plot="Lô B")
    assert LB.add_plot(services, "Lô B", "coffee", 1.0, "certified", "vi").startswith("Không lưu được")

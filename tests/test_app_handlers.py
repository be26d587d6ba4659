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

from leafscout.webapp import batch as B
from leafscout.webapp import handlers as H
from leafscout.webapp import logbook as LB
from leafscout.webapp.i18n import LANGS, STRINGS, t
from leafscout.webapp.services import Services

REPO = Path(__file__).resolve().parent.parent
VI_MARKS = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.I)
BAD = REPO / "tests" / "fixtures" / "bad"
LEAF = REPO / "tests/fixtures/images/plantvillage/Tomato___Late_blight/4cae9dde-fd4a-48f0-a66d-c7ed92eee6ea___GHLB2_Leaf_97.jpg"


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    pytest.importorskip("onnx", reason="the toy model needs the onnx package (installed by .[train])")
    from leafscout.model.testing import toy_model

    return toy_model(tmp_path_factory.mktemp("toy") / "toy.onnx")


@pytest.fixture
def services(toy, tmp_path):
    return Services(model_path=toy, db=str(tmp_path / "log.sqlite"))


def photo(tmp_path, kind: str) -> Path:
    from leafscout.model.testing import TOY_COLOURS, flat_photo

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
    from leafscout.webapp.services import SHIPPED_MODEL, resolve_model_path

    monkeypatch.delenv("LEAFSCOUT_MODEL", raising=False)
    assert resolve_model_path() == SHIPPED_MODEL
    monkeypatch.setenv("LEAFSCOUT_MODEL", "/x/env.onnx")
    assert resolve_model_path() == Path("/x/env.onnx")
    assert resolve_model_path("/y/cli.onnx") == Path("/y/cli.onnx")


def test_auth_and_bind_defaults():
    from leafscout.webapp import app

    assert app.parse_auth("coop:secret") == ("coop", "secret")
    assert app.parse_auth(None) is None
    with pytest.raises(SystemExit):
        app.parse_auth("nopassword")
    kw = app.launch_kwargs()
    assert kw["server_name"] == "127.0.0.1" and kw["max_file_size"] and kw["allowed_paths"] == []


def test_paths_outside_the_upload_folder_are_refused(tmp_path):
    from leafscout.errors import ServiceError
    inside = tmp_path / "up" / "a.jpg"
    inside.parent.mkdir()
    inside.write_bytes(b"x")
    assert H.safe_upload_path(inside, roots=[tmp_path / "up"]) == inside.resolve()
    for bad in ["/etc/passwd", tmp_path / "up" / ".." / "secret.jpg"]:
        with pytest.raises(ServiceError) as ei:
            H.safe_upload_path(bad, roots=[tmp_path / "up"])
        assert ei.value.code == "refused_path"


# ------------------------------------------------------------------------------------------ diagnose

def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize("kind,status", [("ok", "ok"), ("uncertain", "uncertain"),
                                         ("background", "not_a_leaf"), ("ood", "not_a_leaf")])
def test_each_status_renders_in_plain_vietnamese(services, tmp_path, kind, status):
    st, overlay = H.diagnose_upload(services, photo(tmp_path, kind), check_path=False)
    assert st["status"] == status
    card, details, cit = H.render_all(services, st, "vi")
    assert not english_leaks(_text(card) + details + cit), english_leaks(_text(card) + details + cit)
    adv = services.advisor
    if status == "ok":
        assert overlay is not None and overlay.ndim == 3
        assert adv.problem(st["label"])["names"]["vi"] in card
        assert "%" in card and t("retake_title", "vi") not in card
        assert t("top3", "vi") in details
    else:  # retake guidance instead of a guess
        assert t("retake_title", "vi") in card and t("retake_tips", "vi") in card
    if status == "not_a_leaf":
        assert overlay is None and cit == ""
    card_en, _, _ = H.render_all(services, st, "en")
    assert t("retake_title", "vi") not in card_en


@pytest.mark.parametrize("code", ["unnamed_problem", "unfamiliar"])
def test_an_uncertain_answer_says_its_own_reason_not_a_confidence_below_the_threshold(services, code):
    """A `<crop>.other` (rice insect photos) or unfamiliar answer can be 99% sure of its label: the card said
    "Confidence 100% is below the 39% needed to be sure"."""
    state = {"status": "uncertain", "label": "rice.other", "confidence": 0.9986, "reason_code": code, "top_k": [],
             "uncertain_below": 0.39}
    for lang in ("vi", "en"):
        card = _text(H.render_card(services, state, lang))
        assert t("uncertain_why", lang, p="100%", th="39%") not in card, card
        assert t("status_uncertain", lang) in card
    assert t("unnamed_problem_why" if code == "unnamed_problem" else "unfamiliar_why", "en",
             crop="rice") in _text(H.render_card(services, state, "en"))
    if code == "unnamed_problem":
        assert "cây lúa" in _text(H.render_card(services, state, "vi"))
    low = dict(state, reason_code="low_confidence", label="tomato.late_blight", confidence=0.3)
    assert t("uncertain_why", "en", p="30%", th="39%") in _text(H.render_card(services, low, "en"))


def test_healthy_is_its_own_state_and_the_card_has_the_farmer_fields(services, tmp_path):
    st, _ = H.diagnose_upload(services, photo(tmp_path, "ok"), check_path=False)
    assert st["problem_type"] == "healthy"
    card = H.render_card(services, st, "vi")
    assert t("card_healthy", "vi") in card and t("card_today", "vi") not in card
    sick = dict(st, label="tomato.late_blight", problem_type="fungal",
                advice=services.advise("tomato.late_blight").to_dict())
    card = H.render_card(services, sick, "vi")
    for key in ("card_today", "card_dose", "card_gear", "card_look_again"):
        assert t(key, "vi") in card, key
    assert t("card_healthy", "vi") not in card


def test_unreadable_photo_is_an_error_state_with_a_translated_code(services):
    from leafscout.webapp.i18n import STRINGS
    for bad in sorted(BAD.glob("*.*")):
        if bad.suffix == ".md":
            continue
        st, overlay = H.diagnose_upload(services, bad, check_path=False)
        assert st["status"] == "error" and overlay is None
        assert st["error_code"] and f"err_{st['error_code']}" in STRINGS, st
        card = H.render_card(services, st, "vi")
        assert t("retake_title", "vi") in card and "expected" not in card and str(bad.parent) not in card


def test_context_form_changes_the_advice(services):
    state = {"status": "ok", "label": "tomato.late_blight", "confidence": 0.9, "top_k": []}
    plain = H.render_details(services, H.readvise(services, state, None, "certified", None, 0), "vi")
    near_harvest = H.render_details(services, H.readvise(services, state, None, "certified", 3, 0), "vi")
    copper_full = H.readvise(services, state, None, "certified", None, 27.9)
    assert "Chưa nên dùng lúc này" not in plain
    assert "Chưa nên dùng lúc này" in near_harvest and "Đồng hydroxit" in near_harvest.split("Chưa nên dùng")[1]
    assert "copper_cap" in str(copper_full["advice"]["blocked"])
    assert 'data-copper="blocked"' in H.render_card(services, dict(copper_full, problem_type="fungal"), "vi")
    assert re.search(r"^1\. ", plain, re.M) and re.search(r"^2\. ", plain, re.M)
    st = H.readvise(services, state)
    cit = H.render_citations(services, st, "en")
    assert "TCVN 11041-2" in cit and "7 CFR" in cit
    cit_vi = H.render_citations(services, st, "vi")
    assert "được phép" in cit_vi and not english_leaks(cit_vi)


def test_advise_handler_reads_any_problem(services):
    got = H.api_advise(services, "coffee.rust", "vi")
    assert "Bệnh gỉ sắt cà phê" in got
    # a problem the model cannot detect is still readable
    undetectable = [p for p in services.advisor.problems() if not p["detectable_by_model"]]
    if undetectable:
        assert undetectable[0]["names"]["en"] in H.api_advise(services, undetectable[0]["id"], "en")


def test_knowledge_choices_mark_undetectable_problems():
    from leafscout.advisor import Advisor

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
    assert [r["error_code"] for r in rows[3:6]] == ["not_image", "empty", "corrupt"]
    assert rows[7]["error_code"] == "not_image"  # a member of more.zip: not "zip" because of its temp path
    assert rows[8]["error_code"] == "zip"
    assert all(str(tmp_path) not in str(r.get("error")) for r in rows)
    assert rows[6]["status"] == "ok" and rows[7]["status"] == "error" and rows[8]["status"] == "error"
    tab = B.table(services.advisor, res, "vi")
    assert len(tab["data"]) == 9 and len(tab["headers"]) == len(tab["data"][0])
    assert not english_leaks(str(tab))
    out = B.write_csv(services.advisor, res, "vi", tmp_path / "r.csv")
    with open(out, encoding="utf-8-sig") as fh:
        lines = list(csv.reader(fh))
    assert len(lines) == 10 and lines[0][0] == t("col_no", "vi")
    assert [dict(zip(lines[0], x))["reason_code"] for x in lines[4:7]] == ["unreadable"] * 3  # rows[3:6], errors
    pdf = B.write_pdf(services.advisor, res, "vi", tmp_path / "r.pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 2000


def test_batch_refuses_paths_outside_upload_folder(services, tmp_path):
    res = B.run_batch(services, [LEAF], tmp_path / "work", check_paths=True)
    assert res["rows"][0]["status"] == "error" and res["rows"][0]["error_code"] == "refused_path"


# --------------------------------------------------------------------------------------------- log

def test_save_to_log_history_and_action(services, tmp_path):
    st, _ = H.diagnose_upload(services, photo(tmp_path, "ok"), check_path=False)
    assert LB.save_observation(services, st, None, "", "vi") == t("choose_plot", "vi")
    msg = LB.save_observation(services, st, None, "Lô A", "vi", new_area="0,5")
    assert msg == t("saved", "vi", plot="Lô A").replace("\u201c", "&#x201c;").replace("\u201d", "&#x201d;") or \
        "Lô A" in msg
    assert "Lô A" in LB.plot_names(services)
    assert LB.record_action(services, "Lô A", "Phun Bordeaux", "copper sulphate", 1.5, "vi") == t("log_recorded", "vi")
    assert LB.plot_context(services, "Lô A")[1] == pytest.approx(1.5)
    hist = LB.history_md(services, "Lô A", "vi")
    assert "Phun Bordeaux" in hist and "Lá đậu khỏe mạnh" in hist and t("log_observation", "vi") in hist
    assert "1,5 kg/ha" in hist  # the vi page's decimal comma
    assert "Lô B" in LB.add_plot(services, "Lô B", "coffee", 1.0, "certified", "en")
    assert LB.add_plot(services, "Lô B", "coffee", 1.0, "certified", "vi").startswith("Không lưu được")


# ------------------------------------------------------------------- confirmation, copper, field-log codes

FIELDLOG_CODES = ("bad_value", "bad_text", "bad_time", "bad_label", "duplicate", "similar_name", "unknown_plot",
                  "unknown_lot", "not_an_image", "copper_required", "needs_confirmation", "db_unavailable", "db_driver_missing",
                  "backup_failed", "backup_not_supported", "export_failed")


def _plain(msg: str) -> str:
    import html
    return html.unescape(msg)


def test_every_fieldlog_code_has_a_translated_message():
    """fieldlog.errors lists its codes in its docstring; each one (and each error class's own code) has a
    vi and an en message in the app, and the vi one says nothing in English."""
    import leafscout.fieldlog.errors as FE
    doc_codes = set(re.findall(r"\b([a-z]+(?:_[a-z]+)+)\b", FE.__doc__)) - {"allow_similar", "not_a_leaf"}
    class_codes = {c.code for c in vars(FE).values() if isinstance(c, type) and issubclass(c, FE.FieldLogError)}
    assert set(FIELDLOG_CODES) >= doc_codes | class_codes, (doc_codes | class_codes) - set(FIELDLOG_CODES)
    for code in FIELDLOG_CODES:
        exc = FE.FieldLogError("English detail that must not show", code)
        vi, en = LB.refusal_text(exc, "vi"), LB.refusal_text(exc, "en")
        assert vi and en and vi != en, code
        assert "English detail" not in vi + en and not english_leaks(vi), code


def test_save_names_who_confirms_and_unconfirmed_saves_say_so(services, tmp_path):
    def fresh():  # each save is a photo of its own (the same diagnosis saved twice is recorded once)
        return H.diagnose_upload(services, photo(tmp_path, "ok"), check_path=False)[0]
    st = fresh()
    msg = _plain(LB.save_observation(services, st, None, "Lô A", "vi", confirmed_by="  Lò Thị Hoa ",
                                         new_area=0.5))
    assert t("saved", "vi", plot="Lô A") in msg and t("saved_by", "vi", by="Lò Thị Hoa") in msg
    assert t("saved_unconfirmed", "vi") not in msg
    msg = _plain(LB.save_observation(services, fresh(), "Lô A", "", "en"))
    assert t("saved", "en", plot="Lô A") in msg and t("saved_unconfirmed", "en") in msg
    obs = services.log.history("Lô A").observations
    assert [o.confirmed_by for o in obs] == ["Lò Thị Hoa", None]
    hist = _plain(LB.history_md(services, "Lô A", "vi"))
    assert t("log_confirmed_by", "vi", by="Lò Thị Hoa") in hist and t("log_unconfirmed", "vi") in hist
    # the log was opened with the loaded model's labels: a label this model cannot give is refused
    assert services.log.known_labels == frozenset(services.predictor.labels)
    bad = dict(fresh(), label="bean.made_up")
    msg = _plain(LB.save_observation(services, bad, "Lô A", "", "vi", confirmed_by="Hoa"))
    assert t("fl_bad_label", "vi") in msg and len(services.log.history("Lô A").observations) == 2
    # a typed plot name that is an existing plot in another case is that plot, not a refused duplicate
    assert t("saved", "vi", plot="Lô A") in _plain(LB.save_observation(services, fresh(), None, "lô a", "vi"))


def test_not_a_leaf_needs_a_person_and_a_refusal_leaves_no_new_plot(services, tmp_path):
    st, _ = H.diagnose_upload(services, photo(tmp_path, "background"), check_path=False)
    assert st["status"] == "not_a_leaf"
    for lang in ("vi", "en"):
        msg = _plain(LB.save_observation(services, st, None, "Lô mới", lang, new_area=0.5))
        assert msg == t("log_error", lang, msg=t("fl_needs_confirmation", lang)), msg
    assert "Lô mới" not in LB.plot_names(services)  # plot and record: one transaction
    msg = _plain(LB.save_observation(services, st, None, "Lô mới", "vi", confirmed_by="Lò Văn Nam", new_area=0.5))
    assert t("saved", "vi", plot="Lô mới") in msg
    (obs,) = services.log.history("Lô mới").observations
    assert obs.status == "not_a_leaf" and obs.confirmed_by == "Lò Văn Nam" and obs.label == "background.no_leaf"


def test_copper_without_an_amount_or_out_of_range_gets_the_translated_message(services):
    services.log.add_plot("Lô C", "coffee", 0.5, organic_status="certified")
    for lang in ("vi", "en"):
        msg = LB.record_action(services, "Lô C", "Phun Bordeaux", "copper sulphate", None, lang)
        assert msg == t("log_error", lang, msg=t("fl_copper_required", lang)), msg
        msg = LB.record_action(services, "Lô C", "Phun Bordeaux", "copper sulphate", 12, lang)
        assert msg == t("log_error", lang, msg=t("fl_copper_range", lang, kg="12", max="6")), msg
        msg = LB.record_action(services, "Lô C", "Phun Bordeaux", "copper sulphate", "nhiều", lang)
        assert msg == t("log_error", lang, msg=t("fl_bad_value", lang)), msg
    assert services.log.history("Lô C").actions == []
    # a field operation without copper needs no copper amount
    assert LB.record_action(services, "Lô C", "Làm cỏ", "", None, "vi") == t("log_recorded", "vi")


def test_copper_spray_by_the_tank_sends_the_derived_copper(services):
    services.log.add_plot("Lô S", "coffee", 0.5, organic_status="certified")
    # 3 g per tank x 1 tank of a 50 % product on 0.5 ha = 0.003 kg Cu/ha: kept, not rounded away
    msg = _plain(LB.record_copper_spray(services, "Lô S", "copper_hydroxide", 3, 1, None, "vi"))
    assert "0,003" in msg, msg  # the vi page's decimal comma
    assert services.log.copper_used("Lô S")[0] == pytest.approx(0.003)
    # 50 g per tank, 7 tanks of Bordeaux copper sulfate (25 %) on 0.5 ha: 0.175 kg Cu/ha
    LB.record_copper_spray(services, "Lô S", "copper_sulfate", 50, 7, None, "en")
    assert services.log.copper_used("Lô S")[0] == pytest.approx(0.178)
    (_, act) = services.log.history("Lô S").actions
    assert act.copper_kg_ha == pytest.approx(0.175) and act.amount == 350 and act.unit == "g"
    for lang in ("vi", "en"):
        # "other" product without its copper %: the copper cannot be worked out
        msg = _plain(LB.record_copper_spray(services, "Lô S", "other", 100, 2, None, lang))
        assert msg == t("log_error", lang, msg=t("fl_copper_pct", lang)), msg
        # 1 kg per tank x 10 tanks of a 50 % product on 0.5 ha = 10 kg Cu/ha: a typo, refused with the range
        msg = _plain(LB.record_copper_spray(services, "Lô S", "copper_hydroxide", 1000, 10, None, lang))
        assert msg == t("log_error", lang, msg=t("fl_copper_range", lang, kg="10", max="6")), msg
    assert len(services.log.history("Lô S").actions) == 2


def test_plot_names_and_areas_get_translated_reasons(services):
    assert "Đồi A" in LB.add_plot(services, "Đồi A", "coffee", 1.0, "certified", "vi")
    msg = _plain(LB.add_plot(services, "Doi-A", "coffee", 1.0, "certified", "vi"))
    assert msg == t("log_error", "vi", msg=t("fl_similar_name", "vi", other="Đồi A")), msg
    msg = _plain(LB.add_plot(services, "Đồi B", "coffee", 5000, "certified", "en"))
    assert msg == t("log_error", "en", msg=t("fl_plot_area", "en", lo="0.0001", hi="1,000")), msg
    assert LB.plot_names(services) == ["Đồi A"]


def test_vi_page_shows_the_kb_vietnamese_organism_note(services):
    vi = H.api_advise(services, "chilli.nutrient_deficiency", "vi")
    en = H.api_advise(services, "chilli.nutrient_deficiency", "en")
    organism_vi = services.advisor.kb.problems["chilli.nutrient_deficiency"]["organism_vi"]
    assert organism_vi in vi and "nutrient shortage" not in vi
    assert "nutrient shortage or imbalance" in en and organism_vi not in en
    # a Latin name is the same on both pages
    assert "Phytophthora infestans" in H.api_advise(services, "tomato.late_blight", "vi")


def test_kb_schema_checks_organism_vi(tmp_path):
    import copy

    from leafscout.advisor.kb import read_kb
    from leafscout.advisor.schema import validate
    kb = read_kb(None)
    kb.model_labels = frozenset(pid for pid, p in kb.problems.items() if p.get("detectable_by_model", True))
    bad = copy.deepcopy(kb)
    bad.problems["chilli.nutrient_deficiency"]["organism_vi"] = ""
    with pytest.raises(Exception, match="organism_vi"):
        validate(bad)
    bad.problems["chilli.nutrient_deficiency"]["organism_vi"] = "không có"
    del bad.problems["chilli.nutrient_deficiency"]["organism"]
    with pytest.raises(Exception, match="organism_vi translates"):
        validate(bad)
    validate(kb)


def test_the_card_gives_the_dose_per_tank_and_per_sao_in_the_page_language():
    """The knowledge base's sourced dose reaches the card: per 16-litre tank, per sào and how often, not
    "as on the product label" when a figure exists."""
    from leafscout.advisor import Advisor, Context
    from leafscout.webapp.handlers import sprayer_dose

    adv = Advisor.load().advise("tomato.late_blight", Context())
    copper = next(s for s in adv.steps if s.dose and "copper" in str(s.title).lower())
    vi, en = sprayer_dose(copper, "vi"), sprayer_dose(copper, "en")
    assert "48 g" in vi and "mỗi sào (360 m²)" in vi and "ngày" in vi
    assert "48 g" in en and "per sào" in en and "days" in en
    assert sprayer_dose(next(s for s in adv.steps if not s.dose), "vi") is None


def test_a_plot_without_a_name_is_asked_for_its_name(services):
    assert LB.add_plot(services, "   ", "Cà phê", 0.5, "certified", "vi") == t("plot_name_needed", "vi")


def test_a_batch_row_of_an_answer_below_even_odds_says_check_first(services, tmp_path, monkeypatch):
    """An ok answer below 60% is 'not sure: check the signs first' on the Diagnose card and in the CLI; the batch
    table and CSV gave its first steps (a copper spray for a 44% rust) as the 'first things to do'."""
    monkeypatch.setattr("leafscout.service.CHECK_FIRST_BELOW", 1.01)  # the toy model's answers are all sure
    res = B.run_batch(services, [photo(tmp_path, "ok")], tmp_path / "work", check_paths=False)
    assert res["rows"][0]["status"] == "ok" and res["rows"][0]["advice_steps"]
    steps = "; ".join(s["en"] for s in res["rows"][0]["advice_steps"])
    assert B.table(services.advisor, res, "en")["data"][0][5] == t("batch_check_first", "en", steps=steps)
    csv_text = B.write_csv(services.advisor, res, "vi", tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    assert t("batch_check_first", "vi", steps="").split("(")[0] in csv_text
    monkeypatch.setattr("leafscout.service.CHECK_FIRST_BELOW", 0.0)
    sure = B.run_batch(services, [photo(tmp_path, "ok")], tmp_path / "work2", check_paths=False)
    assert B.table(services.advisor, sure, "en")["data"][0][5] == steps


def test_a_batch_steered_by_the_diagnose_tabs_crop_says_so(tmp_path, red_leaf):
    """The batch takes the Diagnose tab's crop picker (kept in the phone's browser): a tomato photo with "coffee"
    chosen there was 'not sure: take the photo again' with no word of the crop on the Batch tab."""
    from conftest import toy_crop_service

    svc = toy_crop_service(tmp_path)
    res = B.run_batch(svc, [red_leaf], tmp_path / "work", check_paths=False, crop="coffee")
    assert res["rows"][0]["reason_code"] == "crop_mismatch"
    row = B.table(svc.advisor, res, "vi")["data"][0]
    assert row[5] == t("batch_check_crop", "vi") and t("retake_title", "vi") not in row
    assert t("batch_crop", "vi", crop="Cà phê") in B.summary(res, "vi")
    assert t("batch_crop", "en", crop="Coffee") in B.summary(res, "en")
    free = B.run_batch(svc, [red_leaf], tmp_path / "work2", check_paths=False)
    assert B.summary(free, "en") == t("batch_summary", "en", n=1, ok=1, unsure=0, noleaf=0, err=0)

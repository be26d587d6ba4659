"""Several photos of one plant in the app (issue 17 item 3): the Diagnose tab's "add another photo of the same
plant", the card's "k of n photos agree" line with each photo's own line, saving the combined answer, and the
API's /diagnose_group.

The deterministic toy model (model.testing) gives every status on demand: green -> bean.healthy ok, yellow ->
uncertain, blue -> background (not_a_leaf). The committed fixture photos (a late-blight leaf, rice insect
photos, non-plant photos) run on the shipped model when it is there.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import cv2
import pytest

from leafscout.webapp import handlers as H
from leafscout.webapp import logbook as LB
from leafscout.webapp.i18n import STRINGS, t
from leafscout.webapp.services import Services

REPO = Path(__file__).resolve().parent.parent
BAD = REPO / "tests" / "fixtures" / "bad"
OOD = REPO / "tests" / "fixtures" / "ood"
RICE = REPO / "tests" / "fixtures" / "rice_pest" / "images"
SHIPPED = REPO / "model" / "leafscout.onnx"
LATE_BLIGHT_DIR = REPO / "tests" / "fixtures" / "images" / "plantvillage" / "Tomato___Late_blight"


from test_app_handlers import services, toy  # noqa: E402,F401  the same toy model and app services


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    if not SHIPPED.is_file():
        pytest.skip("no shipped model/leafscout.onnx")
    return Services(model_path=SHIPPED, db=str(tmp_path_factory.mktemp("db") / "log.sqlite"))


def photo(folder: Path, kind: str, name: str | None = None) -> Path:
    from leafscout.model.testing import TOY_COLOURS, flat_photo

    p = folder / (name or f"{kind}.png")
    rgb = flat_photo(TOY_COLOURS[kind])
    rgb[0, 0, 0] ^= 1 + sum(p.name.encode()) % 7  # one pixel: each name its own photo (the same bytes vote once)
    cv2.imwrite(str(p), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return p


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# ------------------------------------------------------------------------------------------- strings

def test_group_strings_exist_in_both_languages_and_the_limit_is_the_one_written():
    for key in ("group_add_btn", "group_new_btn", "group_hint", "group_title", "group_agree", "group_skipped",
                "group_photo", "group_not_counted", "group_insects", "group_full", "group_saved"):
        assert set(STRINGS[key]) == {"vi", "en"}, key
    assert t("group_add_btn", "vi") == "Thêm ảnh cùng cây"
    assert t("group_agree", "en", k=2, n=3) == "2 of 3 photos agree"
    for key in ("group_full", "group_hint"):
        assert str(H.GROUP_MAX) in t(key, "vi") and str(H.GROUP_MAX) in t(key, "en"), key


# ------------------------------------------------------------------------------------------ handlers

def test_one_photo_is_exactly_the_single_photo_flow(services, tmp_path):
    p = photo(tmp_path, "ok")
    one, ov1 = H.diagnose_upload(services, p, check_path=False)
    grp, ov2 = H.diagnose_group_upload(services, [p], check_path=False)
    assert grp == one and "group" not in grp and not H.is_group(grp)
    assert (ov1 is None) == (ov2 is None)
    assert H.render_all(services, grp, "vi") == H.render_all(services, one, "vi")
    assert H.diagnose_group_upload(services, [], check_path=False) == (None, None)


def test_group_combines_and_says_how_many_agree_with_each_photos_line(services, tmp_path):
    paths = [photo(tmp_path, "ok", "a.png"), photo(tmp_path, "ok", "b.png"), photo(tmp_path, "background", "c.png"),
             BAD / "notes.jpg"]
    st, _ = H.diagnose_group_upload(services, paths, check_path=False)
    assert st["status"] == "ok" and st["label"] == "bean.healthy"
    # the blue photo shows no leaf and the text file is no photo: neither votes; the other two still count
    assert st["group"] == {"photos": 4, "voted": 2, "agree": 2, "crops": ["bean"], "mixed": False, "duplicates": 0}
    assert [e["status"] for e in st["group_photos"]] == ["ok", "ok", "not_a_leaf", "error"]
    assert [e["voted"] for e in st["group_photos"]] == [True, True, False, False]
    assert st["photo"] == str(paths[0])  # the first readable photo: what Save records
    assert st["group_photos"][3]["error_code"] and "/" not in json.dumps(st["group_photos"])
    card, details, _ = H.render_all(services, st, "vi")
    text = _text(card)
    assert t("group_title", "vi", n=4) in text and t("group_agree", "vi", k=2, n=4) in text
    assert t("group_skipped", "vi", m=2) in text
    assert 'data-agree="2"' in card and 'data-photos="4"' in card
    for i in range(1, 5):
        assert t("group_photo", "vi", i=i) in text
    # the unreadable photo: its own one line, the gate's code translated
    assert H.error_text(st["group_photos"][3]["error_code"], "vi") in text
    assert t("status_not_a_leaf", "vi") in text and t("group_not_counted", "vi") in text
    # the combined answer is a normal card (healthy) with the group's lines inside it
    assert t("card_healthy", "vi") in text and card.index("group-box") < card.rindex("</div>")
    assert t("top3", "vi") in details
    en = _text(H.render_all(services, st, "en")[0])
    assert "2 of 4 photos agree" in en and t("group_agree", "vi", k=2, n=4) not in en


def test_the_same_photo_added_three_times_counts_once(services, tmp_path):
    """A farmer who taps the same picture three times has one leaf's evidence: "1 of 1 photos agree", and the
    two repeats say which photo they repeat instead of voting."""
    a = photo(tmp_path, "ok", "a.png")
    b, c = tmp_path / "b.png", tmp_path / "c.jpg"  # copies of a.png under other names
    shutil.copy(a, b)
    shutil.copy(a, c)
    st, _ = H.diagnose_group_upload(services, [a, b, c], check_path=False)
    assert st["group"]["photos"] == 3 and st["group"]["voted"] == 1 and st["group"]["agree"] == 1
    assert st["group"]["duplicates"] == 2
    assert [e["duplicate_of"] for e in st["group_photos"]] == [None, 1, 1]
    assert [e["voted"] for e in st["group_photos"]] == [True, False, False]
    text = _text(H.render_all(services, st, "en")[0])
    assert "1 of 1 photos agree" in text and "2 photo(s) repeat an earlier one: counted once" in text
    assert text.count("same photo as 1, not counted") == 2 and "not counted: no leaf found" not in text
    vi = _text(H.render_all(services, st, "vi")[0])
    assert t("group_same_as", "vi", i=1) in vi and "same photo" not in vi


def test_disagreeing_photos_are_counted_and_marked(services, tmp_path):
    paths = [photo(tmp_path, "ok", "a.png"), photo(tmp_path, "ok", "b.png"), photo(tmp_path, "uncertain", "c.png")]
    st, _ = H.diagnose_group_upload(services, paths, check_path=False)
    g = st["group"]
    assert g["photos"] == 3 and g["voted"] == 3 and g["agree"] == sum(e["agrees"] for e in st["group_photos"])
    assert g["agree"] <= 3
    assert t("group_agree", "vi", k=g["agree"], n=3) in _text(H.render_card(services, st, "vi")
                                                             + H.group_html(services, st, "vi"))


def test_a_group_with_no_leaf_asks_for_a_retake(services, tmp_path):
    paths = [photo(tmp_path, "background", "a.png"), BAD / "notes.jpg"]
    st, ov = H.diagnose_group_upload(services, paths, check_path=False)
    assert st["status"] == "not_a_leaf" and st["group"] == {"photos": 2, "voted": 0, "agree": 0, "crops": [], "mixed": False,
                                                    "duplicates": 0} and ov is None
    text = _text(H.render_all(services, st, "vi")[0])
    assert t("retake_title", "vi") in text and t("group_agree", "vi", k=0, n=2) in text
    none, _ = H.diagnose_group_upload(services, [BAD / "notes.jpg", BAD / "empty.jpg"], check_path=False)
    assert none["status"] == "error" and none["photo"] is None
    assert t("status_error", "vi") in _text(H.render_all(services, none, "vi")[0])


def test_file_names_are_escaped(services, tmp_path):
    evil = photo(tmp_path, "ok", "<img src=x onerror=alert(1)>.png")
    st, _ = H.diagnose_group_upload(services, [evil, photo(tmp_path, "ok", "b.png")], check_path=False)
    card = H.render_all(services, st, "vi")[0]
    assert "<img" not in card and "&lt;img" in card


def test_only_uploads_are_read_and_the_group_is_capped(services, tmp_path, monkeypatch):
    up = tmp_path / "up"
    up.mkdir()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(up))
    inside = [photo(up, "ok", f"{i}.png") for i in range(H.GROUP_MAX + 2)]
    st, _ = H.diagnose_group_upload(services, [inside[0], "/etc/hostname"])
    assert st["status"] == "error" and st["error_code"] == "refused_path"
    st, _ = H.diagnose_group_upload(services, inside)
    assert st["group"]["photos"] == H.GROUP_MAX  # the app never sends more; extra photos are not read
    from leafscout.errors import ServiceError
    with pytest.raises(ServiceError) as ei:
        H.api_diagnose_group(services, inside, "vi")
    assert ei.value.code == "batch_too_big"
    with pytest.raises(ServiceError) as ei:
        H.api_diagnose_group(services, [], "vi")
    assert ei.value.code == "no_photo"


def test_the_context_form_and_the_language_switch_keep_the_group(services, tmp_path):
    st, _ = H.diagnose_group_upload(services, [photo(tmp_path, "ok", "a.png"), photo(tmp_path, "ok", "b.png")],
                                    check_path=False)
    again = H.readvise(services, st, None, "in_conversion", 5, 0)
    assert again["group"] == st["group"] and again["group_photos"] == st["group_photos"]
    assert again["context"]["organic_status"] == "in_conversion"
    assert t("group_agree", "en", k=2, n=2) in _text(H.render_all(services, again, "en")[0])


def test_saving_a_group_saves_the_combined_answer_with_the_first_readable_photo(services, tmp_path):
    paths = [BAD / "notes.jpg", photo(tmp_path, "ok", "a.png"), photo(tmp_path, "ok", "b.png")]
    st, _ = H.diagnose_group_upload(services, paths, check_path=False)
    assert st["photo"] == str(paths[1])
    seen = {}
    real = services.record_result

    def spy(plot, photo_path, label, status, confidence, model_version, **kw):
        seen.update(photo=photo_path, label=label, status=status, confidence=confidence)
        return real(plot, photo_path, label, status, confidence, model_version, **kw)

    services.record_result = spy
    msg = H.group_save_note(st, LB.save_observation(services, st, None, "Doi A", "vi", crop="bean",
                                                    confirmed_by="Lò Văn A", new_area=0.5), "vi")
    assert t("saved", "vi", plot="Doi A") in msg and t("group_saved", "vi", n=3) in msg
    assert seen == {"photo": str(paths[1]), "label": st["label"], "status": st["status"],
                    "confidence": st["confidence"]}
    assert "Doi A" in LB.plot_names(services)
    # nothing saved: the message is left as it is; one photo: no group note
    refused = H.group_save_note(st, LB.save_observation(services, st, None, "", "vi"), "vi")
    assert refused == t("choose_plot", "vi")
    one, _ = H.diagnose_upload(services, paths[1], check_path=False)
    assert H.group_save_note(one, "x", "vi") == "x"


def test_api_diagnose_group_json(services, tmp_path, monkeypatch):
    up = tmp_path / "up"
    up.mkdir()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(up))
    bad = up / "notes.jpg"
    shutil.copy(BAD / "notes.jpg", bad)
    files = [photo(up, "ok", "a.png"), photo(up, "background", "b.png"), bad, photo(up, "ok", "c.png")]
    out = H.api_diagnose_group(services, files, "vi")
    assert out["group"] == {"photos": 4, "voted": 2, "agree": 2, "crops": ["bean"], "mixed": False, "duplicates": 0}
    assert (out["status"], out["label"]) == ("ok", "bean.healthy") and out["name"]
    assert [p["file"] for p in out["photos"]] == ["a.png", "b.png", "notes.jpg", "c.png"]
    assert out["photos"][2]["error_message"] == H.error_text(out["photos"][2]["error_code"], "vi")
    assert t("group_agree", "vi", k=2, n=4) in _text(out["card_html"])
    assert str(up) not in json.dumps(out, ensure_ascii=False)


# ------------------------------------------------------------------------- the committed fixture photos

def _no_plant(svc) -> Path:
    for p in sorted(OOD.glob("*.jpg")):
        if svc.predictor.predict(str(p)).status == "not_a_leaf":
            return p
    pytest.skip("the model flags none of the non-plant fixture photos")


def test_real_photos_a_photo_with_no_plant_does_not_vote(shipped):
    leaves = sorted(LATE_BLIGHT_DIR.glob("*.jpg"))[:2]
    no_plant = _no_plant(shipped)
    paths = [leaves[0], no_plant, leaves[1]]
    st, _ = H.diagnose_group_upload(shipped, paths, check_path=False)
    entries = st["group_photos"]
    assert entries[1]["status"] == "not_a_leaf" and not entries[1]["voted"] and not entries[1]["agrees"]
    assert st["group"]["photos"] == 3 and st["group"]["voted"] == sum(e["voted"] for e in entries) == 2
    # the combined answer is the two leaves' answer: the same as the group without the non-plant photo
    without, _ = H.diagnose_group_upload(shipped, [leaves[0], leaves[1]], check_path=False)
    assert (st["status"], st["label"], st["confidence"]) == (without["status"], without["label"],
                                                              without["confidence"])
    assert st["label"].startswith("tomato.")
    text = _text(H.render_all(shipped, st, "vi")[0])
    assert t("group_agree", "vi", k=st["group"]["agree"], n=3) in text


def test_real_photos_rice_insects_stay_with_their_photo(shipped):
    rice = sorted(RICE.glob("*.jpg"))[:2]
    st, overlay = H.diagnose_group_upload(shipped, rice + [_no_plant(shipped)], check_path=False)
    assert st["group"]["photos"] == 3 and st["group_photos"][2]["voted"] is False
    assert not st["group_photos"][2].get("insects")  # no insects reported on a photo with no plant
    if shipped.detector is not None and any(e.get("insects") for e in st["group_photos"]):
        assert overlay is not None and overlay.ndim == 3
        assert t("group_insects", "vi", n=st["group_photos"][0]["insects"]) in _text(
            H.render_all(shipped, st, "vi")[0]) or not st["group_photos"][0].get("insects")


# -------------------------------------------------------------------------------------- served app

@pytest.mark.slow
def test_gradio_client_diagnose_group(toy, tmp_path):
    pytest.importorskip("gradio_client")
    from gradio_client import Client, handle_file

    from app_support import served

    services = Services(model_path=toy, db=str(tmp_path / "log.sqlite"))
    services.warm_up()
    with served(services) as url:
        client = Client(url, verbose=False)
        files = [photo(tmp_path, "ok", "a.png"), photo(tmp_path, "background", "b.png"), BAD / "notes.jpg",
                 photo(tmp_path, "ok", "c.png")]
        out = client.predict(files=[handle_file(str(f)) for f in files], lang="en", api_name="/diagnose_group")
        assert out["group"] == {"photos": 4, "voted": 2, "agree": 2, "crops": ["bean"], "mixed": False, "duplicates": 0}
        assert out["label"] == "bean.healthy" and "2 of 4 photos agree" in _text(out["card_html"])
        assert [p["status"] for p in out["photos"]] == ["ok", "not_a_leaf", "error", "ok"]
        assert "/tmp" not in json.dumps(out) and str(tmp_path) not in json.dumps(out)
        single = client.predict(image=handle_file(str(files[0])), lang="en", api_name="/diagnose")
        assert "group" not in single and single["label"] == out["label"]
        assert services.loads == 1


def test_photos_of_two_crops_in_one_group_are_said_to_be_two_plants(shipped):
    """A chilli leaf and a coffee leaf sent as "one plant": the card says the photos look like different crops."""
    from conftest import chilli_and_coffee_photos
    picks = chilli_and_coffee_photos(shipped)
    st, _ = H.diagnose_group_upload(shipped, picks, check_path=False)
    html = H.group_html(shipped, st, "vi")
    assert 'data-crops="chilli,coffee"' in html and "một nhóm ảnh phải là cùng một cây" in html
    same, _ = H.diagnose_group_upload(shipped, [picks[0], picks[0]], check_path=False)
    assert "group-mixed" not in H.group_html(shipped, same, "vi")


def test_the_language_switch_keeps_the_full_group_line(services, tmp_path):
    """Six photos taken: "add another photo" is hidden and the line says "press New plant"; the language switch
    re-wrote it as "add up to 6 photos" (one i18n key bound to it)."""
    from leafscout.webapp import app

    demo = app.build_app(services)
    fns = {f.fn.__qualname__: f.fn for f in demo.fns.values() if getattr(f, "fn", None)}
    switch = fns["wire_language.<locals>.switch"]

    def line(group, lang):
        return switch(lang, None, None, "tomato", "tomato.late_blight", None, "coffee", [], "", "copper_hydroxide",
                      "", "certified", "", 0, None, None, None, group)[-1]
    six = [str(photo(tmp_path, "ok", f"{i}.png")) for i in range(H.GROUP_MAX)]
    assert line(six, "en") == t("group_full", "en") and line(six, "vi") == t("group_full", "vi")
    assert line(six[:2], "en") == t("group_hint", "en") and line([], "vi") == t("group_hint", "vi")

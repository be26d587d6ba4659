"""A grower who names the wrong crop (a chilli leaf sent as rice) gets "uncertain: check the crop", never rice blast
advice as "ok"; a crop may be named in Vietnamese ("lúa", "cà phê") wherever a crop is asked for.

Toy model: a red photo is tomato late blight, a green one coffee rust (leafscout.model.testing.toy_model)."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import TOY_CROP_LABELS as LABELS, toy_crop_service


@pytest.fixture
def svc(tmp_path):
    return toy_crop_service(tmp_path)


def test_a_crop_the_photo_clearly_does_not_show_is_uncertain_with_no_advice(svc, red_leaf):
    d = svc.diagnose(red_leaf, crop="coffee")  # a tomato-red leaf named coffee
    assert (d.status, d.reason_code, d.label) == ("uncertain", "crop_mismatch", "coffee.rust")
    assert d.advice is None and "looks more like tomato" in d.crop_note
    right = svc.diagnose(red_leaf, crop="tomato")
    assert (right.status, right.reason_code) == ("ok", "") and right.advice is not None
    group, _ = svc.diagnose_group([red_leaf, red_leaf], crop="coffee")
    assert (group.status, group.reason_code, group.advice) == ("uncertain", "crop_mismatch", None)


def test_the_runtime_decides_crop_mismatch_before_any_other_doubt():
    from leafscout.model.results import REASON_CODES
    from leafscout.model.runtime import Predictor
    assert "crop_mismatch" in REASON_CODES
    pred = Predictor.__new__(Predictor)  # decide() needs only labels and thresholds
    pred.labels = LABELS
    pred.background_label = "background.no_leaf"
    pred.temperature, pred.uncertain_below, pred.ood_energy_above, pred.plant_share_min = 1.0, 0.6, 99.0, 0.02
    tomato = np.array([6.0, 0.0, 0.0])
    d = pred.decide(tomato, plant=0.5, crop="coffee")
    assert (d["status"], d["reason_code"], d["label"]) == ("uncertain", "crop_mismatch", "coffee.rust")
    assert d["reason"] == d["crop_note"]
    near_tie = np.array([0.3, 0.0, -9.0])  # tomato ahead, but not twice coffee's share: no doubt about the crop
    assert pred.decide(near_tie, plant=0.5, crop="coffee")["reason_code"] != "crop_mismatch"


def test_the_cli_says_check_the_crop_not_retake_the_photo(svc, red_leaf, tmp_path, capsys):
    from leafscout.cli import main
    args = ["diagnose", "--model", svc.toy_path, "--db", str(tmp_path / "log.sqlite"), str(red_leaf)]
    assert main(args + ["--crop", "coffee", "--lang", "en", "--advise", "en"]) == 0
    out = capsys.readouterr().out
    assert "uncertain: coffee.rust" in out and "looks more like tomato" in out and "check the crop" in out
    assert "retake" not in out and out.count("looks more like tomato") == 1  # said once, not again in brackets
    assert "LEAFSCOUT ADVICE" not in out.upper()  # nothing to act on
    assert main(args + ["--crop", "cà phê", "--lang", "vi"]) == 0  # a Vietnamese crop name works as --crop
    out = capsys.readouterr().out
    assert "kiểm tra lại cây trồng" in out and "chụp lại" not in out


def test_the_app_card_asks_to_check_the_crop(svc, red_leaf):
    from leafscout.webapp import handlers as H
    state, _ = H.diagnose_upload(svc, red_leaf, crop="coffee", check_path=False, heatmap=False)
    card = H.render_card(svc, state, "vi")
    assert 'data-reason="crop_mismatch"' in card and "đừng xử lý theo kết quả này" in card and "Cà phê" in card
    assert H.readvise(svc, state) is state  # no advice to work out for the named crop's nearest label


@pytest.mark.parametrize("text, crop", [("lúa", None), ("cà phê", "coffee"), ("ca phe", "coffee"),
                                        ("Cà chua", "tomato"), (" TOMATO ", "tomato")])
def test_a_crop_may_be_named_in_vietnamese(svc, text, crop):
    from leafscout.errors import ServiceError
    if crop is None:  # rice: a crop the toy model has no labels for, refused with the model's own message
        with pytest.raises(ServiceError, match="no labels for crop"):
            svc.check_crop(text)
    else:
        assert svc.check_crop(text) == crop


def test_a_numpy_photo_is_diagnosed_like_a_file(svc):
    from leafscout.model.testing import flat_photo
    d = svc.diagnose(flat_photo((200, 20, 20)))
    assert d.status in ("ok", "uncertain") and d.label == "tomato.late_blight"


def test_the_api_json_says_the_crop_note_in_the_page_language(svc, red_leaf, monkeypatch):
    """/diagnose keeps the runtime's English `crop_note` for logs and adds `crop_note_message` as the card says it."""
    from pathlib import Path

    from leafscout.webapp import handlers as H
    monkeypatch.setattr(H, "safe_upload_path", lambda p: Path(p))  # the test photo is not an upload
    out = H.api_diagnose(svc, str(red_leaf), lang="vi", crop="coffee")
    assert "looks more like tomato" in out["crop_note"]
    assert out["crop_note_message"].startswith("Ảnh này giống lá cây khác hơn là cà phê")
    assert H.api_diagnose(svc, str(red_leaf), lang="en", crop="coffee")["crop_note_message"].startswith("This photo")
    assert H.api_diagnose(svc, str(red_leaf), lang="vi", crop="tomato")["crop_note_message"] is None
    group = H.api_diagnose_group(svc, [str(red_leaf), str(red_leaf)], lang="vi", crop="coffee")
    assert group["crop_note_message"].startswith("Ảnh này giống")

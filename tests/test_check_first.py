"""An `ok` answer below 60% calibrated confidence is more likely wrong than right on field-like photos
(benchmarks/confidence_bands.py: ok answers at 39-50% are right 39% of the time, at 50-60% 48%). Its advice opens with "not sure:
check the signs first", and the today card names today's steps without doses, so a grower does not buy and
spray copper on a guess; the plan below is unchanged for when the signs match."""
from __future__ import annotations

import pytest

from leafscout.advisor import Advisor, Context
from leafscout.advisor.render import today_lines

ADV = Advisor.load()


def test_a_doubtful_answer_says_check_first_and_its_today_card_has_no_dose():
    sure = ADV.advise("tomato.late_blight", Context(rainy_season=True))
    doubt = ADV.advise("tomato.late_blight", Context(rainy_season=True), check_first=0.44)
    assert not sure.check_first and doubt.check_first
    assert [s.treatment_id for s in doubt.steps] == [s.treatment_id for s in sure.steps]  # the plan stays
    en = today_lines(doubt, "en", ADV.rules)
    assert en[0].startswith("Not sure: first check the signs") and len(en) == 2
    assert en[1].startswith("Only if they match: Copper hydroxide") and "48 g" not in en[1]
    assert "48 g" in today_lines(sure, "en", ADV.rules)[0]
    vi = today_lines(doubt, "vi", ADV.rules)
    assert vi[0].startswith("Chưa chắc") and vi[1].startswith("Chỉ khi thấy đúng: Đồng hydroxit")
    text = doubt.render("en")
    assert "LeafScout is not sure of this answer (44%)" in text and text.index("TODAY") < text.index("CHECK BY EYE")
    assert "chưa chắc về kết quả này (44%)" in doubt.render("vi")
    assert doubt.to_dict()["check_first"] is True and ADV.advise("tomato.late_blight").to_dict()["check_first"] is False


def test_a_doubtful_healthy_answer_asks_to_look_for_spots_not_to_check_signs_it_has_none_of():
    doubt = ADV.advise("tomato.healthy", check_first=0.45)
    assert not doubt.checks
    assert today_lines(doubt, "en", ADV.rules)[0] == "Not sure: look at both sides of several leaves for spots, mould or insects."
    assert "Look at both sides of several leaves" in doubt.messages[0]["en"]


@pytest.mark.parametrize("pid", sorted(ADV.kb.problems))
def test_every_doubtful_today_card_stays_short(pid):
    advice = ADV.advise(pid, Context(rainy_season=True, severity="high"), check_first=0.4)
    if advice.status != "ok":
        return
    for lang in ("en", "vi"):
        today = advice.sections(lang, "text", ADV.rules)["today"]
        assert len(today.split()) <= ADV.rules["plan"]["today_max_words"], (pid, lang, today)


def test_uncertain_and_person_picked_advice_is_never_marked():
    assert not ADV.advise("tomato.late_blight", status="uncertain", check_first=0.3).check_first
    assert not ADV.advise("tomato.late_blight").check_first  # a problem picked by a person in the Knowledge tab


def test_the_service_marks_ok_answers_below_even_odds(tmp_path):
    from leafscout.model.results import Result
    from leafscout.service import CHECK_FIRST_BELOW, DiagnosisService
    assert CHECK_FIRST_BELOW == 0.6
    svc = DiagnosisService(db=f"sqlite:///{tmp_path / 'log.sqlite'}")
    ctx, _ = svc.context()

    def advice(conf, status="ok"):
        return svc._advice_for(Result(path=None, status=status, label="tomato.late_blight", confidence=conf,
                                      model_version="t"), ctx)
    assert advice(0.44).check_first and "(44%)" in advice(0.44).messages[0]["en"]
    assert advice(0.55).check_first and not advice(0.6).check_first and not advice(0.93).check_first
    assert not advice(0.3, "uncertain").check_first


def test_the_app_card_of_a_doubtful_answer_asks_to_check_and_shows_no_dose(tmp_path):
    """The Diagnose tab's card at 44%: "late blight?", check the signs first, today's steps by name only; at
    93% the card keeps its dose row."""
    import re

    from leafscout.webapp import handlers as H
    from leafscout.webapp.services import Services
    services = Services(db=str(tmp_path / "log.sqlite"))
    adv = services.advisor

    def card(conf, label="tomato.late_blight", lang="en"):
        advice = adv.advise(label, Context(), check_first=conf if conf < 0.5 else None)
        state = {"status": "ok", "label": label, "confidence": conf, "advice": advice.to_dict(),
                 "problem_type": advice.problem.get("type")}
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", H.render_card(services, state, lang)))
    doubt, sure = card(0.44), card(0.93)
    assert "Not sure: first check the signs below" in doubt and "Only if they match: Copper hydroxide" in doubt
    assert "48 g" not in doubt and "48 g" in sure and "Not sure" not in sure
    assert "Chưa chắc" in card(0.44, lang="vi")
    assert "look at both sides of several leaves" in card(0.45, "tomato.healthy")
    assert "Not sure" not in card(0.9, "tomato.healthy")


def test_the_cli_line_of_a_doubtful_answer_says_check_before_spraying():
    from leafscout.cli_diagnose import result_text
    from leafscout.model.results import Result

    def line(conf, lang):
        r = Result(path=None, status="ok", label="tomato.late_blight", confidence=conf, model_version="t",
                   top_k=[("tomato.late_blight", conf), ("tomato.early_blight", 0.3)])
        return result_text(r, lang, ADV, threshold=0.39)
    assert line(0.44, "en").endswith("not sure: check the signs on several leaves before spraying")
    assert "chưa chắc" in line(0.44, "vi") and "chưa chắc" not in line(0.8, "vi")

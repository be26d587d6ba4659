"""Issue 18: advice as a plan in time. Today (protectant first for fast diseases, dose per 16-litre tank and per
sào, at most 80 words), this week (monitoring, re-check), next season (rotation, varieties); the rest folds out."""
import pytest

from leafscout.advisor import Advisor, Context
from leafscout.advisor.render import today_lines

ADV = Advisor.load()
MAX = ADV.rules["plan"]["today_max_words"]
CONTEXTS = [Context(), Context(rainy_season=True, severity="high"), Context(rainy_season=False, severity="low"),
            Context(days_to_harvest=0, hot_weather=True)]


@pytest.mark.parametrize("pid", sorted(ADV.kb.problems))
def test_every_problems_today_part_is_at_most_80_words(pid):
    assert MAX == 80
    for ctx in CONTEXTS:
        advice = ADV.advise(pid, ctx)
        if advice.status != "ok":
            continue
        for lang in ("en", "vi"):
            today = advice.sections(lang, "text", ADV.rules)["today"]
            assert len(today.split()) <= MAX, (pid, lang, len(today.split()), today)


@pytest.mark.parametrize("label", ["tomato.late_blight", "potato.late_blight"])
def test_late_blight_first_today_step_is_the_protectant(label):
    advice = ADV.advise(label, Context(rainy_season=True))
    lines = today_lines(advice, "en", ADV.rules)
    assert lines[0].startswith("Copper hydroxide") and "every 5-7 days" in lines[0]
    assert today_lines(advice, "vi", ADV.rules)[0].startswith("Đồng hydroxit")
    text = advice.render("en")
    assert text.index("TODAY") < text.index("CHECK BY EYE") < text.index("\nThis week") < text.index("\nNext season")


def test_todays_spray_shows_the_dose_per_16_litre_tank_and_per_sao():
    for pid in sorted(ADV.kb.problems):
        advice = ADV.advise(pid)
        for s in advice.steps:
            if s.phase == "today" and s.dose and s.dose["per_sao"]["en"] != "see the product label":
                line = next(ln for ln in today_lines(advice, "en", ADV.rules) if ln.startswith(s.title["en"]))
                assert "per 16-litre" in line and "per sào" in line, (pid, line)
                vi = next(ln for ln in today_lines(advice, "vi", ADV.rules) if ln.startswith(s.title["vi"]))
                assert "bình 16 lít" in vi and "sào" in vi, (pid, vi)


def test_sections_let_the_app_fold_the_rest():
    advice = ADV.advise("coffee.rust", Context(rainy_season=True))
    for fmt in ("text", "markdown"):
        sec = advice.sections("vi", fmt, ADV.rules)
        assert set(sec) == {"today", "rest"} and sec["today"] and sec["today"] not in sec["rest"]
        assert "Hôm nay" not in sec["today"] and advice.problem["names"]["vi"] in sec["rest"]
    assert ADV.advise("coffee.rust", status="uncertain").sections("en")["today"] == ""


def test_next_season_measures_come_last_and_monitoring_is_this_week():
    for pid in ("tomato.late_blight", "rice.blast", "coffee.rust", "rice.brown_planthopper"):
        advice = ADV.advise(pid)
        phases = [s.phase for s in advice.steps]
        assert phases == sorted(phases, key=["today", "week", "season"].index), pid
        assert next(s for s in advice.steps if s.kind == "monitoring").phase == "week"
    fast = next(s for s in ADV.advise("tomato.late_blight").steps if s.kind == "monitoring")
    assert "2-3 days" in fast.short["en"]

"""The knowledge-base review left by stop 39 (docs/knowledge-base.md, "Sources and what was verified", the rows after "Organisms and controls"): each fact
fixed or kept unverified against a source found with the project's search tool."""
import pytest

from leafscout.advisor import Advisor

ADV = Advisor.load()


def steps(label: str) -> list:
    return [s for s in ADV.advise(label).steps if s.treatment_id]


def step(label: str, tid: str):
    return next(s for s in ADV.advise(label).steps if s.treatment_id == tid)


def test_bacterial_wilt_plants_go_out_with_the_soil_off_the_tools_today_and_tomato_stays_off_for_4_years():
    """Pacific Pests 146: remove wilted plants immediately, remove soil from shoes and tools, 4-year rotation with
    maize, soybean, brassicas or rice (the generic rotation step says 2-3 years)."""
    today = [s.treatment_id for s in steps("tomato.bacterial_wilt") if s.phase == "today"]
    assert today[:2] == ["rogue_infected_plants", "tool_hygiene"]
    rot = step("tomato.bacterial_wilt", "crop_rotation")
    assert rot.phase == "season"
    en = " ".join(c["en"] for c in rot.cautions)
    vi = " ".join(c["vi"] for c in rot.cautions)
    assert "for 4 years" in en and "maize, soybean" in en and "trong 4 năm" in vi and "đậu tương" in vi
    assert any("fact sheet 146" in src and "4-year rotation" in src
               for src in ADV.problem("tomato.bacterial_wilt")["sources"])
    assert "cạo sạch đất" in ADV.advise("tomato.bacterial_wilt").render("vi")


def test_mango_hopper_threshold_is_cabis_economic_injury_level_not_5_per_panicle():
    at = ADV.problem("mango.hoppers")["action_threshold"]
    assert (at["count"], at["unit"], at["verified"]) == (4, "per_panicle", True)
    assert "10.1079/cpc.28470" in at["source"] and "fact sheet 263" in at["source"]
    assert "2 adults per panicle" in at["text_en"] and "2 con trưởng thành" in at["text_vi"]
    mon = next(s for s in ADV.advise("mango.hoppers").steps if s.kind == "monitoring")
    assert mon.action_threshold["count"] == 4 and at["source"] in mon.citations


def test_fall_armyworm_threshold_stays_marked_unverified_and_says_why():
    at = ADV.problem("corn.fall_armyworm")["action_threshold"]
    assert at["verified"] is False and "Unverified" in at["source"] and at["text_en"].startswith("Indicative")


def test_tea_mosquito_bug_hand_picking_today_shade_thinning_next_season():
    """Thinning shade trees is not an immediate control in any source found: it stays a next-season step, after
    today's hand collection and this week's plucking and weeding."""
    by_id = {s.treatment_id: s for s in steps("tea.helopeltis")}
    assert by_id["hand_pick_pests"].phase == "today"
    assert by_id["short_plucking_rounds"].phase == "week" and by_id["weed_and_host_removal"].phase == "week"
    assert by_id["shade_management"].phase == "season"
    order = [s.treatment_id for s in steps("tea.helopeltis")]
    assert order.index("shade_management") == len(order) - 1
    assert any("hand nets" in src for src in ADV.problem("tea.helopeltis")["sources"])


def test_mango_powdery_mildew_sulfur_is_timed_by_panicle_length_and_gives_no_unsourced_rate():
    sulfur = step("mango.powdery_mildew", "sulfur")
    en = " ".join(c["en"] for c in sulfur.cautions)
    assert "5-10 cm" in en and "every 10 days" in en and "label" in en
    assert sulfur.dose["per_16l"]["en"] == "see the product label"
    assert any("10.1016/j.cropro.2017.07.017" in src for src in ADV.problem("mango.powdery_mildew")["sources"])


@pytest.mark.parametrize("tid", ["metarhizium", "potassium_soap", "sulfur"])
def test_doses_without_a_reputable_rate_say_follow_the_label_and_why(tid):
    d = ADV.dose(tid)
    assert d["per_16l"]["en"] == d["per_1000m2"]["en"] == d["interval"]["en"] == "see the product label"
    assert d["source"].startswith("follow the product label: ") and len(d["source"]) > 120

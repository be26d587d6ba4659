"""A fast disease whose only spray is blocked (pre-harvest interval, copper cap, heat) must not read "nothing to
spray today" as if no spray were needed: the today-part says a spray is held back and where to read why."""
import pytest

from leafscout.advisor import Advisor, Context
from leafscout.advisor.render import today_lines

ADV = Advisor.load()


@pytest.mark.parametrize("ctx", [Context(days_to_harvest=3), Context(copper_used_7y_kg_ha=27.5)])
@pytest.mark.parametrize("check_first", [None, 0.4])
def test_a_blocked_protectant_is_not_nothing_to_spray(ctx, check_first):
    advice = ADV.advise("coffee.rust", ctx, check_first=check_first)
    assert advice.blocked and not any(s.phase == "today" for s in advice.steps)
    en, vi = today_lines(advice, "en", ADV.rules)[-1], today_lines(advice, "vi", ADV.rules)[-1]
    assert "Nothing to spray" not in en and "Not recommended now" in en, en
    assert "chưa cần phun" not in vi and "Chưa nên dùng lúc này" in vi, vi


def test_low_severity_in_dry_weather_still_needs_no_spray_today():
    advice = ADV.advise("coffee.rust", Context(severity="low", rainy_season=False))
    assert [b.reason_code for b in advice.blocked] == ["severity"]
    assert today_lines(advice, "en", ADV.rules) == [ADV.rules["plan"]["nothing_today"]["en"]]
    assert today_lines(advice, "vi", ADV.rules) == [ADV.rules["plan"]["nothing_today"]["vi"]]


def test_a_copper_paste_with_no_per_hectare_figure_is_blocked_once_the_cap_is_reached():
    """Bordeaux paste has no kg/ha figure, so the cap never blocked it: with 30 kg/ha already used in 7 years it
    was still today's step for durian Phytophthora. At or over the cap no copper of any kind is advised."""
    from leafscout.advisor import Advisor, Context
    adv = Advisor.load()
    over = adv.advise("durian.phytophthora", Context(copper_used_7y_kg_ha=30.0))
    under = adv.advise("durian.phytophthora", Context(copper_used_7y_kg_ha=10.0))
    assert "bordeaux_paste" in under.recommended_ids
    assert "bordeaux_paste" not in over.recommended_ids
    (b,) = [b for b in over.blocked if b.treatment_id == "bordeaux_paste"]
    assert b.reason_code == "copper_cap" and "no more copper of any kind" in b.reason["en"]
    assert "30 kg" in b.reason["en"] and "không dùng thêm" in b.reason["vi"]


def test_a_ledger_already_at_or_over_the_cap_says_so_not_another_spray_would_pass_it():
    """30 kg/ha in 7 years is over the 28 kg/ha cap already: the reason says 'at or over the limit: no more copper of
    any kind' (it said 'another 1 kg/ha spray would go over the limit', as if there were room left)."""
    from leafscout.advisor import Advisor, Context
    adv = Advisor.load()
    for used in (28.0, 30.0):
        b = next(x for x in adv.advise("tomato.late_blight", Context(copper_used_7y_kg_ha=used)).blocked
                 if x.treatment_id == "copper_hydroxide")
        assert "no more copper of any kind" in b.reason["en"] and "another" not in b.reason["en"], b.reason
        assert "không dùng thêm bất kỳ sản phẩm đồng nào" in b.reason["vi"]
    b = next(x for x in adv.advise("tomato.late_blight", Context(copper_used_7y_kg_ha=27.5)).blocked
             if x.treatment_id == "copper_hydroxide")
    assert "another 0.75 kg/ha spray would go over" in b.reason["en"]  # room left, but not for one more spray

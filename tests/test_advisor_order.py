"""Advice order across every entry (review of 2026-12-07): what the grower does today (protectants, removing what
is infected or infested, the allowed sprays) always comes before this week's steps, and both before next season's
(rotation, varieties, clean seed), in every context, including the ones that block a spray."""
import pytest

from leafscout.advisor import Advisor, Context

ADV = Advisor.load()
PHASES = ["today", "week", "season"]
CONTEXTS = [Context(), Context(rainy_season=True, severity="high"), Context(rainy_season=False, severity="low"),
            Context(copper_used_7y_kg_ha=28.0, rainy_season=True), Context(days_to_harvest=1, hot_weather=True),
            Context(organic_status="conventional", severity="medium")]


@pytest.mark.parametrize("pid", sorted(ADV.kb.problems))
def test_today_then_this_week_then_next_season_in_every_context(pid):
    for ctx in CONTEXTS:
        advice = ADV.advise(pid, ctx)
        phases = [s.phase for s in advice.steps]
        assert phases == sorted(phases, key=PHASES.index), (pid, ctx, [(s.treatment_id, s.phase) for s in advice.steps])
        for s in advice.steps:
            t = ADV.kb.treatments.get(s.treatment_id or "", {})
            # removing what is infected or infested acts on a problem that is there: never left to next season
            if t.get("only_if_present"):
                assert s.phase != "season", (pid, s.treatment_id)


@pytest.mark.parametrize("label", ["tomato.late_blight", "potato.late_blight"])
def test_late_blight_with_the_copper_cap_reached_removes_the_blighted_parts_before_the_bacillus_spray(label):
    """Copper is blocked at the cap; Bacillus subtilis is left. Sources: USAblight (usablight.org, 'Information about
    late blight for gardeners': if late blight is confirmed, destroy affected plant tissue; apply fungicides weekly if
    plants are kept and continually remove leaves, stems and fruit that develop symptoms); Penn State Extension
    (S. Feather 2010, 'Biofungicides for tomatoes'): Serenade (B. subtilis QST 713) is most effective used to prevent
    disease, 'not an effective cure once late blight gets started'. So the blighted tissue goes first, then the
    biological protects what is left; with copper allowed, the protectant copper still opens the day."""
    capped = ADV.advise(label, Context(copper_used_7y_kg_ha=28.0, rainy_season=True))
    today = [s.treatment_id for s in capped.steps if s.phase == "today"]
    assert today[:2] == ["sanitation", "bacillus_subtilis"], today
    assert "copper_hydroxide" in [b.treatment_id for b in capped.blocked]
    free = ADV.advise(label, Context(rainy_season=True))
    assert [s.treatment_id for s in free.steps if s.phase == "today"] == ["copper_hydroxide", "sanitation",
                                                                          "bacillus_subtilis"]
    p = ADV.problem(label)
    assert p["today"] == ["copper_hydroxide", "sanitation", "bacillus_subtilis"]
    assert any("usablight.org" in s and "destroy affected plant tissue" in s for s in p["sources"])
    assert any("not an effective cure" in s for s in p["sources"])


@pytest.mark.parametrize("label", ["corn.fall_armyworm", "rice.brown_planthopper", "rice.white_backed_planthopper"])
def test_a_fast_insect_is_rechecked_in_days_without_the_rain_and_dew_of_a_disease(label):
    """The 2-3-day recheck of a fast problem said 'and after every rain, fog or heavy dew' for insects too (fall
    armyworm, planthoppers: `weather: none`); that line is for diseases the wet drives."""
    mon = next(s for s in ADV.advise(label).steps if s.kind == "monitoring")
    assert "2-3 days" in mon.short["en"] and "2-3 ngày" in mon.short["vi"]
    assert "rain" not in mon.short["en"] and "mưa" not in mon.short["vi"], mon.short
    blight = next(s for s in ADV.advise("tomato.late_blight").steps if s.kind == "monitoring")
    assert "after every rain, fog or heavy dew" in blight.short["en"]

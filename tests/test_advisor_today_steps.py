"""What a grower does today must not spread the problem: a review of the "Today" steps against extension sources
(docs/knowledge-base.md, "Sources and what was verified"). Cutting a virus-infected plant and then the next one,
stripping the leaves of a wind-borne rust or of a harmless algal spot, or putting blighted leaves on a home compost
heap spreads or keeps the disease; tools are cleaned the same day a bacterial disease is cut."""
import pytest

from leafscout.advisor import Advisor

ADV = Advisor.load()


def today(label: str) -> list[str]:
    return [s.treatment_id for s in ADV.advise(label).steps if s.phase == "today" and s.treatment_id]


def test_a_mosaic_virus_plant_is_removed_whole_with_clean_hands_never_pruned():
    assert today("tomato.mosaic_virus")[:2] == ["tool_hygiene", "rogue_infected_plants"]
    assert "sanitation" not in ADV.advise("tomato.mosaic_virus").recommended_ids


@pytest.mark.parametrize("label", ["corn.common_rust", "corn.northern_leaf_blight", "corn.gray_leaf_spot",
                                   "tea.algal_spot", "tea.brown_blight", "tea.gray_blight", "tea.red_spot",
                                   "coffee.cercospora_leaf_spot"])
def test_no_leaf_cutting_where_it_does_not_help(label):
    assert "sanitation" not in ADV.advise(label).recommended_ids


def test_a_leaf_spot_of_a_hungry_coffee_bush_is_fed_not_starved_of_nitrogen():
    ids = ADV.advise("coffee.cercospora_leaf_spot").recommended_ids
    assert "soil_test_and_compost" in ids and "balanced_nutrition" not in ids


@pytest.mark.parametrize("label", ["citrus.canker", "mango.bacterial_canker", "tomato.bacterial_spot",
                                   "pepper_bell.bacterial_spot"])
def test_tools_are_cleaned_the_day_a_bacterial_disease_is_cut(label):
    steps = today(label)
    assert "tool_hygiene" in steps and steps.index("tool_hygiene") < steps.index("sanitation")


def test_mango_die_back_is_cut_into_healthy_wood_and_the_cut_painted_that_day():
    assert today("mango.die_back")[:2] == ["prune_infected_parts", "bordeaux_paste"]


def test_diseased_leaves_never_go_on_a_home_compost_heap():
    how = ADV.kb.treatments["sanitation"]["how"]
    assert "compost them hot" not in how["en"] and "Do not put them on a home compost heap" in how["en"]
    assert "Không bỏ vào đống ủ phân" in how["vi"]


def test_blighted_potatoes_keep_the_tubers_covered_and_are_dug_two_weeks_after_the_tops_die():
    advice = ADV.advise("potato.late_blight")
    assert "protect_potato_tubers" in advice.recommended_ids
    assert "at least two weeks later" in advice.render("en") and "cull heap" in advice.render("en")


def test_greening_oil_is_for_psyllids_seen_or_a_tree_about_to_be_cut_not_a_calendar():
    assert "Spray oil only where psyllids are on the new flush" in ADV.advise("citrus.greening").render("en")


def test_hand_picking_says_where_to_look_in_maize_and_shakes_only_trees():
    how = ADV.kb.treatments["hand_pick_pests"]["how"]["en"]
    assert "whorl" in how and "on trees and bushes, shake the branches" in how


@pytest.mark.parametrize("label", ["citrus.foot_rot", "durian.phytophthora", "plum.gummosis"])
def test_a_trunk_rot_starts_with_the_trunk_not_the_leaves(label):
    assert today(label)[:2] == ["clean_trunk_lesion", "bordeaux_paste"]
    assert "sanitation" not in ADV.advise(label).recommended_ids


def test_rice_sheath_blight_and_planthoppers_start_with_water_and_nitrogen_not_leaves():
    assert today("rice.sheath_blight")[:2] == ["stop_nitrogen_now", "field_drainage_rice"]
    assert "sanitation" not in ADV.advise("rice.sheath_blight").recommended_ids
    for hopper in ("rice.brown_planthopper", "rice.white_backed_planthopper"):
        assert today(hopper)[:1] == ["field_drainage_rice"]
    assert today("rice.stem_borer")[:1] == ["hand_pick_pests"]  # egg masses before the larvae bore in


def test_the_south_american_tomato_leafminer_is_not_called_by_the_liriomyza_name():
    assert ADV.problem("tomato.tuta_absoluta")["names"]["vi"].startswith("Sâu đục lá cà chua Nam Mỹ")


def test_tea_blister_blight_today_starts_with_the_protectant():
    """A fast disease (new spores every few days in fog): copper first today, then removing blistered shoots;
    "Remove infected parts" came first because the entry had no today list (advisor QA, stop 40)."""
    from leafscout.advisor import Advisor, Context
    from leafscout.advisor.render import today_lines
    adv = Advisor.load()
    lines = today_lines(adv.advise("tea.blister_blight", Context()), "en", adv.rules)
    assert lines[0].startswith("Copper hydroxide") and "Remove" in lines[1], lines

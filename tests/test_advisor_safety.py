"""Issue 10, "harmful today": one regression case per harm, each failing on the advice shipped before."""
import pytest

from leafscout.advisor import Advisor, Context

ADV = Advisor.load()


@pytest.mark.parametrize("label", ["tomato.late_blight", "potato.late_blight", "coffee.rust", "tea.blister_blight"])
def test_fast_wet_weather_disease_is_not_held_back_at_low_severity_in_rain(label):
    """Low severity in the rain: the protectant copper the entry lists stays on offer (the global rule blocked it)."""
    advice = ADV.advise(label, Context(severity="low", rainy_season=True))
    assert "copper_hydroxide" in advice.recommended_ids
    assert not [b for b in advice.blocked if b.reason_code == "severity"]
    # the copper cap still applies
    capped = ADV.advise(label, Context(severity="low", rainy_season=True, copper_used_7y_kg_ha=27.5))
    assert "copper_hydroxide" not in capped.recommended_ids


def test_speed_and_weather_are_stated_per_problem_in_yaml():
    lb = ADV.kb.problems["tomato.late_blight"]
    assert (lb["speed"], lb["weather"]) == ("fast", "dew")  # dew and fog drive it on rain-free days (issue 18)
    assert ADV.kb.problems["tomato.early_blight"].get("speed", "moderate") != "fast"


def test_longan_witches_broom_prunes_the_brooms_and_does_not_uproot():
    advice = ADV.advise("longan.witches_broom")
    assert "rogue_infected_plants" not in advice.recommended_ids
    assert "prune_infected_parts" in advice.recommended_ids
    remove = next(m for m in advice.messages if m["en"].startswith("What to remove"))
    assert "50 cm" in remove["en"] and "50 cm" in remove["vi"] and "Do not cut down the tree" in remove["en"]
    vector = {s.treatment_id for s in advice.steps if s.target == "vector"}
    assert {"sulfur", "horticultural_oil"} <= vector
    assert "balanced_nutrition" in advice.recommended_ids


def test_every_incurable_entry_says_what_to_remove():
    for pid, p in ADV.kb.problems.items():
        ptype = ADV.rules["problem_types"][p["type"]]
        if not p.get("curable", ptype.get("curable", True)):
            assert p.get("remove"), pid


def test_fruit_fly_lure_names_its_kill_and_warns_against_premixed_lure():
    t = ADV.kb.treatments["methyl_eugenol_traps"]
    assert "soap" in t["how"]["en"] and "sticky" in t["how"]["en"] and "xà phòng" in t["how"]["vi"]
    assert "no insecticide" in t["active"]
    advice = ADV.advise("mango.fruit_fly")
    step = next(s for s in advice.steps if s.treatment_id == "methyl_eugenol_traps")
    assert any("premixed" in c["en"] for c in step.cautions)
    assert {"naled", "malathion", "dichlorvos"} <= {n.substance for n in advice.not_allowed}


@pytest.mark.parametrize("name", ["naled", "malathion", "dichlorvos", "Methyl eugenol + naled", "DDVP"])
def test_fruit_fly_killing_agents_are_on_the_denylist(name):
    res = ADV.check_substance(name)
    assert res.prohibited is True and res.allowed is False
    assert res.reason["en"].startswith("Not allowed")


@pytest.mark.parametrize("label", sorted(p for p, e in ADV.kb.problems.items() if e["type"] == "healthy"))
def test_healthy_label_means_nothing_to_do_keep_scouting(label):
    advice = ADV.advise(label)
    assert advice.messages[0]["en"].startswith("Nothing to do") and "Keep scouting" in advice.messages[0]["en"]
    assert "sanitation" not in advice.recommended_ids and "rogue_infected_plants" not in advice.recommended_ids

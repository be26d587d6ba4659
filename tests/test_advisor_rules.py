"""One fixture case per rule that must fire, plus the safety sweep and the CLI."""
import json
import re

import pytest
from hypothesis import given, settings, strategies as st

from leafscout.advisor import Advice, Advisor, AdvisorError, Context, ContextError, UnknownLabelError
from leafscout.cli import main

ADV = Advisor.load()
LABELS = sorted(ADV.kb.problems)
DENY = [w for sid, s in ADV.kb.prohibited.items() for w in [sid] + list(s.get("aliases") or [])]
# An ingredient that is not allowed as such (copper sulphate) may be named only inside the steps of the
# treatments it makes (Bordeaux mixture and paste), nowhere else.
INGREDIENT_OF = {w: set(s["ingredient_of"]) for sid, s in ADV.kb.prohibited.items() if s.get("ingredient_of")
                 for w in [sid] + list(s.get("aliases") or [])}


def _recommended_text(advice: Advice, drop_steps: set[str] = frozenset()) -> str:
    """Everything the advice recommends or says, except the explicit not-allowed warnings."""
    d = advice.to_dict()
    d.pop("not_allowed")
    d["steps"] = [s for s in d["steps"] if s["treatment_id"] not in drop_steps]
    return json.dumps(d, ensure_ascii=False)


def _assert_safe(advice: Advice) -> None:
    text = _recommended_text(advice)
    hits = [w for w in DENY if re.search(rf"(?<!\w){re.escape(w)}(?!\w)",
                                         _recommended_text(advice, INGREDIENT_OF[w]) if w in INGREDIENT_OF else text,
                                         re.I)]
    assert not hits, f"{advice.label}: prohibited {hits} outside the not-allowed warning"
    for s in advice.steps:
        if s.kind == "treatment":
            assert s.citations, f"{advice.label}: {s.treatment_id} has no citation"
            assert all(v["status"] != "prohibited" for v in s.organic_status.values())
        for t in [s.title, s.how] + s.cautions:
            assert t["en"] and t["vi"]
    for r in advice.reminders + advice.messages:
        assert r["en"] and r["vi"]
    ids = [r["en"] for r in advice.reminders]
    assert any("diary" in x for x in ids) and any("buffer zone" in x for x in ids)


def test_denylist_is_not_empty():
    for name in ["mancozeb", "chlorpyrifos", "imidacloprid", "glyphosate", "rotenone"]:
        assert name in DENY


@pytest.mark.parametrize("status", ["ok", "uncertain", "not_a_leaf"])
def test_exhaustive_walk_never_recommends_a_prohibited_substance(status):
    for label in LABELS:
        for organic in ("certified", "conventional"):
            _assert_safe(ADV.advise(label, Context(organic_status=organic), status=status))


contexts = st.builds(
    lambda **kw: Context(**kw),
    organic_status=st.sampled_from(["certified", "in_conversion", "conventional"]),
    days_to_harvest=st.none() | st.integers(0, 400),
    copper_used_year_kg_ha=st.floats(0, 40), copper_used_7y_kg_ha=st.floats(0, 60),
    rainy_season=st.none() | st.booleans(), hot_weather=st.none() | st.booleans(),
    severity=st.none() | st.sampled_from(["low", "medium", "high"]))


@settings(max_examples=150, deadline=None)
@given(label=st.sampled_from(LABELS), ctx=contexts)
def test_property_sweep_of_contexts_is_safe_and_consistent(label, ctx):
    advice = ADV.advise(label, ctx)
    _assert_safe(advice)
    order, phases = ADV.rules["ipm_order"], ADV.rules["plan"]["phases"]
    assert [s.phase for s in advice.steps] == sorted((s.phase for s in advice.steps), key=phases.index)
    pinned = ADV.kb.problems[label].get("today") or []
    for ph in phases:  # within a phase, the NOP 205.206 IPM order (after the entry's pinned protectants today)
        ranks = [order.index(s.category) for s in advice.steps if s.phase == ph and s.treatment_id not in pinned]
        assert ranks == sorted(ranks), "steps must follow the NOP 205.206 IPM order within each phase"
    for s in advice.steps:  # the hard limits hold for whatever is recommended
        t = ADV.kb.treatments.get(s.treatment_id or "", {})
        if ctx.days_to_harvest is not None and t.get("phi_days") is not None:
            assert t["phi_days"] <= ctx.days_to_harvest
        if t.get("copper_kg_ha"):
            assert ctx.copper_7y + t["copper_kg_ha"] <= ADV.copper_cap_kg_ha_7y
        if ctx.hot_weather and t.get("phytotoxic_above_c"):
            pytest.fail(f"{s.treatment_id} recommended in hot weather")
    assert Advice.from_dict(json.loads(json.dumps(advice.to_dict()))) == advice


def test_ipm_order_late_blight():
    """Issue 18: today's protectant first, then this week's steps in IPM order, next season's last."""
    steps = ADV.advise("tomato.late_blight").steps
    assert steps[0].treatment_id == "copper_hydroxide" and steps[0].phase == "today"
    week = [s.category for s in steps if s.phase == "week"]
    assert week == sorted(week, key=ADV.rules["ipm_order"].index) and "monitoring" in week
    assert steps[-1].phase == "season"


def test_viral_gets_no_curative_spray():
    advice = ADV.advise("tomato.yellow_leaf_curl_virus")
    ids = advice.recommended_ids
    assert "rogue_infected_plants" in ids and "clean_planting_material" in ids
    vector = [s for s in advice.steps if s.target == "vector"]
    assert vector, "vector control must be advised"
    for s in advice.steps:
        if s.category in ("biological", "botanical", "mineral"):
            assert s.target == "vector", f"{s.treatment_id} targets the virus itself"
    assert "No spray cures" in advice.messages[0]["en"]


def test_incurable_bacterial_greening_same_rule():
    advice = ADV.advise("citrus.greening")
    assert "remove_infected_tree" in advice.recommended_ids
    assert all(s.target == "vector" for s in advice.steps if s.category in ("biological", "botanical", "mineral"))


def test_copper_blocked_past_the_cap_with_reason():
    ok = ADV.advise("coffee.rust", Context(copper_used_7y_kg_ha=20))
    assert "copper_hydroxide" in ok.recommended_ids
    advice = ADV.advise("coffee.rust", Context(copper_used_7y_kg_ha=27.5))
    assert "copper_hydroxide" not in advice.recommended_ids
    b = next(b for b in advice.blocked if b.treatment_id == "copper_hydroxide")
    assert b.reason_code == "copper_cap" and "28" in b.reason["en"] and "28" in b.reason["vi"]


def test_copper_yearly_average_gives_a_caution():
    advice = ADV.advise("coffee.rust", Context(copper_used_year_kg_ha=3.5, copper_used_7y_kg_ha=10))
    step = next(s for s in advice.steps if s.treatment_id == "copper_hydroxide")
    assert any("4 kg/ha" in c["en"] for c in step.cautions)


def test_phi_filter():
    advice = ADV.advise("tomato.late_blight", Context(days_to_harvest=3))
    assert "copper_hydroxide" not in advice.recommended_ids
    assert "bacillus_subtilis" in advice.recommended_ids  # PHI 0
    assert next(b for b in advice.blocked if b.treatment_id == "copper_hydroxide").reason_code == "phi"
    assert "copper_hydroxide" in ADV.advise("tomato.late_blight", Context(days_to_harvest=30)).recommended_ids


def test_rain_raises_fungal_risk_not_viral():
    dry = ADV.advise("coffee.rust", Context(severity="medium", rainy_season=False))
    wet = ADV.advise("coffee.rust", Context(severity="medium", rainy_season=True))
    assert (dry.risk["level"], wet.risk["level"]) == ("medium", "high") and wet.risk["reasons"]
    assert ADV.advise("tomato.mosaic_virus", Context(rainy_season=True)).risk["reasons"] == []


def test_sulfur_blocked_in_heat_and_warned_near_oil():
    hot = ADV.advise("tomato.spider_mites", Context(hot_weather=True))
    assert {"sulfur", "horticultural_oil"} <= {b.treatment_id for b in hot.blocked if b.reason_code == "heat"}
    cool = ADV.advise("tomato.spider_mites", Context(hot_weather=False))
    sulfur = next(s for s in cool.steps if s.treatment_id == "sulfur")
    assert any("14-28" in c["en"] for c in sulfur.cautions)
    unknown = ADV.advise("tomato.spider_mites")
    assert any("32" in c["en"] for c in next(s for s in unknown.steps if s.treatment_id == "sulfur").cautions)


def test_low_severity_holds_back_mineral():
    """For a problem of moderate speed, and for a fast one out of its weather (late blight in dry weather)."""
    for label, ctx in [("tomato.early_blight", Context(severity="low", rainy_season=True)),
                       ("coffee.rust", Context(severity="low", rainy_season=False))]:
        advice = ADV.advise(label, ctx)
        assert "copper_hydroxide" not in advice.recommended_ids
        assert any(b.reason_code == "severity" for b in advice.blocked)


def test_status_uncertain_not_a_leaf_and_healthy():
    unc = ADV.advise("coffee.rust", status="uncertain")
    assert not unc.steps and any("both sides" in m["en"] for m in unc.messages)
    assert any("extension officer" in m["en"] for m in unc.messages)
    for advice in (ADV.advise("coffee.rust", status="not_a_leaf"), ADV.advise("background.no_leaf")):
        assert advice.status == "not_a_leaf" and not advice.steps and "photo" in advice.messages[0]["en"]
    healthy = ADV.advise("coffee.healthy")
    assert healthy.steps and all(s.category in ("cultural", "mechanical", "trap", "monitoring") for s in healthy.steps)


def test_multiple_stresses_checks_each_related_problem():
    advice = ADV.advise("coffee.multiple_stresses")
    assert "Coffee leaf rust" in advice.messages[0]["en"]
    assert "copper_hydroxide" in advice.recommended_ids and "neem_oil" in advice.recommended_ids


def test_conventional_farm_gets_a_note_certified_does_not():
    assert any("not certified" in m["en"] for m in ADV.advise("mango.anthracnose", {"organic_status": "conventional"}).messages)
    assert not any("not certified" in m["en"] for m in ADV.advise("mango.anthracnose").messages)


def test_check_substance():
    assert ADV.check_substance("mancozeb").allowed is False
    assert ADV.check_substance("Rotenone").prohibited is True
    cu = ADV.check_substance("copper_hydroxide")
    assert cu.allowed is True and cu.standards["eu_2021_1165"]["status"] == "restricted" and cu.citations
    assert ADV.check_substance("neem").treatment_id == "neem_oil"
    unknown = ADV.check_substance("mancozep")
    assert unknown.allowed is None and "did you mean 'mancozeb'" in unknown.reason["en"]


def test_errors_suggest_the_nearest_name():
    with pytest.raises(UnknownLabelError, match="did you mean 'tomato.late_blight'"):
        ADV.advise("tomato.late_blite")
    with pytest.raises(ContextError, match="did you mean 'days_to_harvest'"):
        Context(days_to_harvst=3)
    with pytest.raises(ContextError, match="did you mean 'certified'"):
        Context(organic_status="certifed")
    with pytest.raises(ContextError):
        Context(days_to_harvest=-1)
    with pytest.raises(AdvisorError, match="did you mean 'uncertain'"):
        ADV.advise("coffee.rust", status="uncertian")


@pytest.mark.parametrize("label", ["tomato.late_blight", "citrus.greening", "coffee.multiple_stresses"])
def test_render_both_languages_and_formats(label):
    advice = ADV.advise(label, Context(days_to_harvest=3, rainy_season=True))
    en_only = {v["en"] for v in ADV.rules["ui"].values() if isinstance(v, dict) and "en" in v}
    for fmt in ("text", "markdown"):
        vi = advice.render("vi", fmt)
        en = advice.render("en", fmt)
        assert advice.problem["names"]["vi"] in vi and advice.problem["names"]["en"] in en
        leaked = [w for w in en_only if len(w) > 3 and re.search(rf"(?<!\w){re.escape(w)}(?!\w)", vi)]
        assert not leaked, f"English in vi rendering: {leaked}"
        assert "Pre-harvest" not in vi and "Citations" not in vi
    assert advice.render("en", "markdown").startswith("# ")


def test_json_round_trip():
    advice = ADV.advise("tomato.late_blight", Context(days_to_harvest=3, copper_used_year_kg_ha=5))
    assert Advice.from_dict(json.loads(json.dumps(advice.to_dict()))) == advice


def test_cli_advise(capsys):
    rc = main(["advise", "tomato.late_blight", "--lang", "vi", "--days-to-harvest", "3", "--copper-used", "5"])
    out = capsys.readouterr().out
    assert rc == 0 and "Bệnh mốc sương" in out and "Thời gian cách ly là 7 ngày" in out and "mancozeb" in out


def test_cli_typo_suggests(capsys):
    assert main(["advise", "tomato.late_blite", "--lang", "en"]) == 2
    assert "did you mean 'tomato.late_blight'" in capsys.readouterr().err
    assert main(["advise", "tomato.late_blite"]) == 2  # --lang vi is the default: the refusal is Vietnamese (50fcc37)
    assert "có phải ý bạn là 'tomato.late_blight'" in capsys.readouterr().err


def test_cli_json_list_and_substance(capsys):
    assert main(["advise", "coffee.rust", "--format", "json", "--rainy", "--severity", "low"]) == 0
    assert json.loads(capsys.readouterr().out)["risk"]["level"] == "medium"
    assert main(["advise", "--list", "--crop", "longan", "--lang", "en"]) == 0
    assert "longan.stink_bug" in capsys.readouterr().out
    assert main(["advise", "--check-substance", "glyphosate", "--lang", "en"]) == 1
    assert "voids certification" in capsys.readouterr().out

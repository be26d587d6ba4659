"""Issue 22 (rice leaf diseases) and issue 18 (detector labels): every rice label of both models advises."""
import shutil

import pytest
import yaml

from leafscout.advisor import Advisor, Context, KnowledgeBaseError
from leafscout.advisor.kb import KB_DIR
from leafscout.advisor.labels import LABELS_FILE, detector_labels, model_labels
from leafscout.cli import main

ADV = Advisor.load()
INPUTS = ("biological", "botanical", "mineral")


def test_rice_leaf_diseases_are_model_labels_with_cited_entries():
    for label in ("rice.blast", "rice.bacterial_leaf_blight", "rice.brown_spot"):
        p = ADV.problem(label)
        assert label in model_labels()
        assert next(x for x in ADV.problems("rice") if x["id"] == label)["detectable_by_model"] is True
        assert p["sources"] and p["organism"]
    bs = ADV.problem("rice.brown_spot")
    assert bs["organism"].startswith("Bipolaris oryzae") and "Cochliobolus miyabeanus" in bs["organism"]
    assert "potassium" in bs["favoured_by"]["en"] and "silicon" in bs["favoured_by"]["en"]
    ids = ADV.advise("rice.brown_spot").recommended_ids
    assert {"hot_water_seed_treatment", "resistant_varieties", "soil_test_and_compost", "silicon_return"} <= set(ids)
    assert any("Pacific Pests" in s for s in ADV.problem("rice.bacterial_leaf_blight")["sources"])
    assert any("CABI Compendium" in s for s in ADV.problem("rice.blast")["sources"])


def _phase_ids(label: str, phase: str) -> list[str]:
    return [s.treatment_id for s in ADV.advise(label).steps if s.phase == phase and s.treatment_id]


def test_what_protects_this_weeks_rice_comes_first_and_nothing_spreads_the_blight():
    """Bacterial leaf blight: drain and stop nitrogen today; cutting the sick leaves spreads the bacteria
    (Pacific Pests 418; Access Agriculture), so no leaf-cutting step. Blast: stop nitrogen today (Vietnamese
    extension bulletins), keep water this week. Brown spot: keep water this week, the soil's repair next season."""
    blb = ADV.advise("rice.bacterial_leaf_blight")
    assert _phase_ids("rice.bacterial_leaf_blight", "today")[:2] == ["drain_blighted_paddy", "stop_nitrogen_now"]
    assert not {"sanitation", "strip_blast_leaves", "strip_lower_leaves"} & set(blb.recommended_ids)
    assert {"streptomycin", "kasugamycin"} <= set(ADV.problem("rice.bacterial_leaf_blight")["do_not_use"])
    assert "do not cut the sick leaves" in blb.render("en") and "không cắt lá bệnh" in blb.render("vi")
    assert _phase_ids("rice.blast", "today")[:2] == ["stop_nitrogen_now", "strip_blast_leaves"]
    assert "balanced_nutrition" not in ADV.advise("rice.blast").recommended_ids  # "feed compost" on a sick field
    assert "keep_paddy_water" in _phase_ids("rice.blast", "week")
    assert "keep_paddy_water" in _phase_ids("rice.brown_spot", "week")
    assert "soil_test_and_compost" in _phase_ids("rice.brown_spot", "season")


@pytest.mark.parametrize("status", ["ok", "uncertain"])
def test_rice_other_names_no_disease_lists_the_rice_entries_and_sprays_nothing(status):
    advice = ADV.advise("rice.other", status=status)
    en, vi = advice.render("en"), advice.render("vi")
    assert "Rice: not one of the diseases LeafScout knows. Do not spray" in en
    assert "Cây lúa: máy chưa nhận ra bệnh này. Đừng phun thuốc theo kết quả này" in vi
    alts = advice.problem["alternatives"]
    assert alts[:3] == ["rice.bacterial_leaf_blight", "rice.blast", "rice.brown_spot"]  # the model's first
    assert {"rice.brown_planthopper", "rice.sheath_blight"} <= set(alts) and "rice.other" not in alts
    for a in alts:
        assert ADV.problem(a)["names"]["vi"] in vi and f"({a})" in en
    assert not [s for s in advice.steps if s.category in INPUTS]


def test_the_code_knows_no_crop_by_name():
    """`rice.other` rests on a generic problem type; any crop can have its own `.other`."""
    t = ADV.rules["problem_types"][ADV.problem("rice.other")["type"]]
    assert t["lists_crop_problems"] and t["allowed_categories"] == ["cultural", "mechanical"]
    import leafscout.advisor.engine as engine
    src = open(engine.__file__, encoding="utf-8").read()
    assert "rice" not in src


@pytest.mark.parametrize("label", sorted(detector_labels() | {lab for lab in model_labels() if lab.startswith("rice.")}))
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_rice_and_detector_label_advises(label, lang, capsys):
    assert main(["advise", label, "--lang", lang]) == 0
    out = capsys.readouterr().out
    assert ADV.problem(label)["names"][lang] in out


def test_caterpillar_points_to_leaf_folder_and_stem_borer():
    advice = ADV.advise("rice.caterpillar", Context(rainy_season=True))
    assert "Rice leaf folder" in advice.messages[0]["en"] and "Yellow stem borer" in advice.messages[0]["en"]
    assert "bacillus_thuringiensis" in advice.recommended_ids and "trichogramma" in advice.recommended_ids


def test_a_detector_label_without_an_entry_fails_the_schema(tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(KB_DIR, kb)
    path = kb / "problems_sonla_field.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["problems"].pop("rice.grasshopper")
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="pest detector label 'rice.grasshopper'"):
        Advisor.load(kb_dir=kb, labels_file=LABELS_FILE)

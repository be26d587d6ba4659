"""Schema and coverage of the advisor knowledge base; a new crop is added by YAML alone."""
import shutil
from pathlib import Path

import pytest
import yaml

from leafscout.advisor import Advisor, Context, KnowledgeBaseError
from leafscout.advisor.kb import KB_DIR
from leafscout.model.labels import load_label_map


def _copy_kb(tmp_path: Path) -> Path:
    dst = tmp_path / "kb"
    shutil.copytree(KB_DIR, dst)
    return dst


def _edit(path: Path, fn) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_shipped_kb_loads_and_is_cached():
    assert Advisor.load().kb is Advisor.load().kb
    assert Advisor.load().copper_cap_kg_ha_7y == 28.0


def test_every_model_label_has_a_problem_entry():
    labels = load_label_map().labels
    assert len(labels) >= 67 and {"rice.blast", "rice.bacterial_leaf_blight", "rice.brown_spot", "rice.other"} <= set(labels)
    missing = set(labels) - set(Advisor.load().kb.problems)
    assert not missing


def test_priority_problems_the_model_cannot_detect_are_listed():
    probs = {p["id"]: p for p in Advisor.load().problems()}
    for pid in ["coffee.berry_borer", "tea.blister_blight", "mango.fruit_fly", "longan.stink_bug",
                "longan.witches_broom", "citrus.asian_citrus_psyllid", "durian.phytophthora"]:
        assert probs[pid]["detectable_by_model"] is False
    for pid in ["coffee.rust", "tea.helopeltis", "mango.anthracnose", "mango.powdery_mildew",
                "citrus.greening", "tomato.late_blight"]:
        assert probs[pid]["detectable_by_model"] is True
    assert {c["id"] for c in Advisor.load().crops()} >= {"coffee", "tea", "mango", "longan", "citrus", "durian"}


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["problems"]["tomato.late_blight"]["names"].pop("vi"), "missing translation 'vi'"),
    (lambda d: d["problems"].__setitem__("tomato.late_blite", dict(d["problems"]["tomato.late_blight"])),
     "unknown label 'tomato.late_blite' (did you mean 'tomato.late_blight'?)"),
    (lambda d: d["problems"]["tomato.late_blight"]["treatments"].append("coper_hydroxide"),
     "unknown treatment 'coper_hydroxide' (did you mean 'copper_hydroxide'?)"),
    (lambda d: d["problems"]["tomato.yellow_leaf_curl_virus"]["treatments"].append("copper_hydroxide"),
     "move insect control to vector_control"),
    (lambda d: d["problems"]["tomato.late_blight"].__setitem__("symptoms", {"en": "Large grey patches on leaves",
                                                                          "vi": "Large grey patches on leaves"}),
     "looks untranslated"),
])
def test_problem_schema_errors_are_clear(tmp_path, mutate, expected):
    kb = _copy_kb(tmp_path)
    _edit(kb / "problems_vegetables.yaml", mutate)
    with pytest.raises(KnowledgeBaseError) as exc:
        Advisor.load(kb_dir=kb)
    assert expected in str(exc.value)


def test_treatment_without_organic_status_fails(tmp_path):
    kb = _copy_kb(tmp_path)
    _edit(kb / "treatments.yaml", lambda d: d["treatments"]["neem_oil"]["status"].pop("usda_nop"))
    with pytest.raises(KnowledgeBaseError, match="missing organic status under 'usda_nop'"):
        Advisor.load(kb_dir=kb)


def test_treatment_naming_a_prohibited_substance_fails(tmp_path):
    kb = _copy_kb(tmp_path)
    _edit(kb / "treatments.yaml", lambda d: d["treatments"]["copper_hydroxide"].__setitem__("active", "mancozeb + copper"))
    with pytest.raises(KnowledgeBaseError, match="prohibited substance 'mancozeb'"):
        Advisor.load(kb_dir=kb)


def test_missing_label_coverage_fails(tmp_path):
    kb = _copy_kb(tmp_path)
    _edit(kb / "problems_background.yaml", lambda d: d["problems"].pop("background.no_leaf"))
    with pytest.raises(KnowledgeBaseError, match="model label 'background.no_leaf'"):
        Advisor.load(kb_dir=kb)


def test_duplicate_id_across_files_fails(tmp_path):
    kb = _copy_kb(tmp_path)
    (kb / "problems_zz.yaml").write_text("crops:\n  tomato: {en: Tomato, vi: Cà chua}\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="crops 'tomato' is already defined"):
        Advisor.load(kb_dir=kb)


NEW_CROP = """
crops:
  persimmon: {en: "Persimmon", vi: "Hồng"}
problems:
  persimmon.test_rot:
    crop: persimmon
    names: {en: "Test rot", vi: "Bệnh thối thử nghiệm"}
    organism: "Fictitia testensis"
    type: fungal
    detectable_by_model: false
    symptoms: {en: "Brown soft spots on the fruit skin.", vi: "Đốm nâu mềm trên vỏ quả hồng."}
    favoured_by: {en: "Long wet spells in spring.", vi: "Mưa ẩm kéo dài vào mùa xuân."}
    spread: {en: "Rain splash from rotten fruit.", vi: "Nước mưa bắn từ quả thối."}
    treatments: [sanitation, bacillus_subtilis, copper_hydroxide]
    do_not_use: [carbendazim]
    sources: ["test fixture"]
"""


def test_new_crop_is_pure_yaml(tmp_path):
    kb = _copy_kb(tmp_path)
    (kb / "problems_persimmon.yaml").write_text(NEW_CROP, encoding="utf-8")
    adv = Advisor.load(kb_dir=kb)
    assert [p["id"] for p in adv.problems(crop="persimmon")] == ["persimmon.test_rot"]
    advice = adv.advise("persimmon.test_rot", Context(days_to_harvest=2, rainy_season=True))
    assert advice.recommended_ids == ["sanitation", "bacillus_subtilis"]
    assert [b.treatment_id for b in advice.blocked] == ["copper_hydroxide"]
    assert advice.risk["level"] == "high"
    assert [n.substance for n in advice.not_allowed] == ["carbendazim"]
    assert "Hồng" in advice.render("vi", rules=adv.rules)

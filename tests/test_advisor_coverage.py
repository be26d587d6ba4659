"""Issue 18, coverage: every label of both models advises in vi and en; Son La's missing pests; thresholds where a
source gives one; vườn/nương for perennial crops; no dangling notes."""
import pytest
import yaml

from leafscout.advisor import Advisor, Context
from leafscout.advisor.labels import LABELS_FILE, detector_labels, model_labels

ADV = Advisor.load()
PERENNIAL = {"coffee": "vườn", "tea": "nương", "citrus": "vườn", "longan": "vườn", "mango": "vườn", "plum": "vườn",
             "custard_apple": "vườn", "durian": "vườn"}


def test_the_label_file_is_read_whole():
    data = yaml.safe_load(LABELS_FILE.read_text(encoding="utf-8"))
    classifier = {v for m in data["datasets"].values() for v in (m or {}).values() if v}
    detector = {v for m in (data.get("detection") or {}).values() for v in (m or {}).values() if v}
    assert model_labels() == classifier and detector_labels() == detector and detector


@pytest.mark.parametrize("label", sorted(model_labels() | detector_labels()))
def test_every_label_of_both_models_advises_in_vi_and_en(label):
    p = ADV.problem(label)
    for status in ("ok", "uncertain"):
        advice = ADV.advise(label, Context(rainy_season=True), status=status)
        vi, en = advice.render("vi"), advice.render("en")
        assert p["names"]["vi"] in vi and p["names"]["en"] in en
    if label in detector_labels():
        assert p["detectable_by_model"] is False and p["type"] == "pest"


@pytest.mark.parametrize("label, organism", [
    ("brassica.diamondback_moth", "Plutella xylostella"), ("tomato.tuta_absoluta", "Tuta absoluta"),
    ("rice.white_backed_planthopper", "Sogatella furcifera"), ("rice.black_streaked_dwarf", "Southern rice"),
    ("citrus.mites", "Panonychus citri")])
def test_son_la_gaps_are_filled(label, organism):
    p = ADV.problem(label)
    assert p["organism"].startswith(organism) and p["sources"]
    advice = ADV.advise(label)
    cats = {s.category for s in advice.steps}
    assert cats & {"cultural", "mechanical"} and "monitoring" in cats
    assert cats & {"biological", "botanical", "mineral"} or p["type"] == "viral"
    assert "Sogatella furcifera" in ADV.problem("rice.black_streaked_dwarf")["vector"]["en"]


@pytest.mark.parametrize("label, count, unit", [("coffee.rust", 5, "percent_leaves"), ("mango.hoppers", 4, "per_panicle"),
                                                ("citrus.asian_citrus_psyllid", 1, "per_shoot")])
def test_thresholds_where_a_source_gives_one(label, count, unit):
    at = ADV.problem(label)["action_threshold"]
    assert (at["count"], at["unit"]) == (count, unit) and at["source"]
    step = next(s for s in ADV.advise(label).steps if s.kind == "monitoring")
    assert step.threshold["vi"] == at["text_vi"] and at["source"] in step.citations


@pytest.mark.parametrize("crop, word", sorted(PERENNIAL.items()))
def test_perennial_crops_say_vuon_or_nuong_not_ruong(crop, word):
    for p in ADV.problems(crop):
        vi = ADV.advise(p["id"]).render("vi")
        assert "thăm ruộng" not in vi.lower() and "thăm đồng" not in vi.lower(), p["id"]
        assert word in vi, p["id"]
    assert "Thăm ruộng" in ADV.advise("tomato.early_blight").render("vi")


def test_no_dangling_note_points_to_nothing():
    for pid in ADV.kb.problems:
        for lang in ("vi", "en"):
            text = ADV.advise(pid).render(lang)
            assert "mục trên ghi" not in text and "the entry says how far" not in text and "{field}" not in text

"""Growers and officers name products by their trade names, not their active substances (products.yaml): "Karate
2.5EC" is lambda-cyhalothrin, "Regent 800WP" fipronil, "COC 85" copper oxychloride. The substance check answers for
the product as for its substance: a prohibited substance's product voids certification whatever way it is written
(in a mixture, with its formulation code, with or without marks, in any case); a copper product is the copper entry
with its restrictions. products.yaml is schema-checked on load: every product has names, substances the knowledge
base has, and the source of that fact."""
from __future__ import annotations

import copy

import pytest

from leafscout.advisor import Advisor
from leafscout.advisor.errors import KnowledgeBaseError
from leafscout.advisor.kb import read_kb
from leafscout.advisor.loading import link_products
from leafscout.advisor.schema import validate
from leafscout.advisor.substances import SubstanceIndex
from leafscout.cli import main
from leafscout.fieldlog import FieldLog

ADV = Advisor.load()


@pytest.mark.parametrize("name, substance", [
    ("Karate 2.5EC", "lambda-cyhalothrin"), ("karate", "lambda-cyhalothrin"), ("KARATE 2.5EC", "lambda-cyhalothrin"),
    ("Karate + Bt", "lambda-cyhalothrin"), ("Bt và Karate 2.5EC", "lambda-cyhalothrin"),
    ("Regent 800WG", "fipronil"), ("regent 800wp", "fipronil"), ("Lannate", "methomyl"), ("Actara 25WG", "thiamethoxam"),
    ("Confidor", "imidacloprid"), ("Tilt 250EC", "propiconazole"), ("tilt 250 ec", "propiconazole"), ("Vertimec", "abamectin"), ("Beam 75WP", "tricyclazole"),
    ("Ridomil Gold 68WG", "metalaxyl"), ("Ridomin gold 68WG", "metalaxyl")])
def test_a_trade_name_of_a_prohibited_substance_voids_certification(name, substance):
    res = ADV.check_substance(name)
    assert res.known and res.prohibited and res.allowed is False, (name, res)
    assert "voids certification" in res.reason["en"] and "mất chứng nhận" in res.reason["vi"]
    assert res.citations == list(ADV.kb.prohibited[substance]["citations"])  # the substance's own sources


def test_the_index_names_the_product_and_its_substances_for_the_verdict():
    index = ADV._index or SubstanceIndex(ADV.kb.prohibited, ADV.kb.treatments)
    assert index.products_in("Karate 2.5EC + Bt") == [("karate", "Karate", ["lambda-cyhalothrin"])]
    assert index.products_in("Ridomil Gold 68WG") == [("ridomil_gold", "Ridomil Gold 68WG", ["metalaxyl-m", "mancozeb"])]
    assert index.products_in("lambda-cyhalothrin") == []  # a substance is not a product


@pytest.mark.parametrize("name", ["COC 85", "COC 85WP", "coc85wp", "Kocide 2000", "kocide", "Funguran-OH 50WP"])
def test_a_copper_product_is_the_copper_entry_with_its_restrictions(name):
    res = ADV.check_substance(name)
    assert res.known and res.allowed is True and not res.prohibited, (name, res)
    assert res.treatment_id == "copper_hydroxide"
    assert res.standards == ADV.kb.treatments["copper_hydroxide"]["status"]
    assert "Allowed with restrictions" in res.reason["en"] and "covers" in res.reason["en"]


def test_a_cup_is_not_copper_oxychloride():
    """"cốc" (a cup) folds to "coc": only COC written without marks, with its figure, is the product."""
    res = ADV.check_substance("cốc 85")
    assert not res.known and res.allowed is None


def test_a_misspelt_trade_name_gets_a_hint():
    res = ADV.check_substance("Karat")
    assert not res.known and "did you mean 'Karate'" in res.reason["en"]


def test_a_product_is_as_bad_as_its_worst_substance():
    kb = ADV.kb
    index = SubstanceIndex(kb.prohibited, kb.treatments,
                           {"mixed": {"names": ["Mixo 50WP"], "substances": ["copper hydroxide", "mancozeb"]},
                            "clean": {"names": ["Cleano"], "substances": ["copper hydroxide"]}})
    assert index.lookup("Mixo 50WP") == ("prohibited", "mancozeb")
    assert index.lookup("Cleano") == ("treatment", "copper_hydroxide")


def test_every_shipped_product_has_names_known_substances_and_a_citation():
    assert len(ADV.kb.products) >= 10
    bare = SubstanceIndex(ADV.kb.prohibited, ADV.kb.treatments, products={})
    for pid, p in ADV.kb.products.items():
        assert p["names"] and all(isinstance(n, str) and n.strip() for n in p["names"]), pid
        assert p["substances"] and all(bare.resolve(s) is not None for s in p["substances"]), pid
        assert p["citations"] and all(isinstance(c, str) and len(c) > 20 for c in p["citations"]), pid


def _read():
    """The shipped YAML as read, not yet linked, with the labels the loaded knowledge base checks against."""
    kb = read_kb(None)
    kb.model_labels, kb.detector_labels = ADV.kb.model_labels, ADV.kb.detector_labels
    return kb


def _kb_with(**products):
    kb = _read()
    kb.products = copy.deepcopy(kb.products)
    kb.products.update(products)
    return kb


@pytest.mark.parametrize("product, message", [
    ({"names": ["Foo 5EC"], "substances": ["fiprnil"], "citations": ["a label"]}, "unknown substance 'fiprnil' (did you mean 'fipronil'?)"),
    ({"names": ["Foo 5EC"], "substances": ["fipronil"]}, "missing required field 'citations'"),
    ({"names": ["Foo 5EC"], "substances": ["fipronil"], "citations": []}, "missing citations"),
    ({"names": [], "substances": ["fipronil"], "citations": ["a label"]}, "expected a list of the names on the shelf"),
    ({"names": ["Foo"], "substances": [], "citations": ["a label"]}, "expected the active substance(s)"),
    ({"names": ["Dithane"], "substances": ["mancozeb"], "citations": ["a label"]}, "already a substance's name or alias"),
    ({"names": ["Karate"], "substances": ["lambda-cyhalothrin"], "citations": ["a label"]}, "already a name of product 'karate'"),
    ({"names": ["Foo"], "substances": ["fipronil"], "citations": ["a label"], "sold": True}, "unknown field 'sold'"),
])
def test_the_schema_names_a_bad_product(product, message):
    kb = _kb_with(zz_bad=product)
    with pytest.raises(KnowledgeBaseError) as err:
        validate(kb, require_all_labels=False)
    assert any(p.startswith("products.zz_bad") and message in p for p in err.value.problems), err.value.problems


def test_the_shipped_products_pass_the_schema_and_link_once():
    kb = _read()
    validate(kb, require_all_labels=False)
    link_products(kb)
    link_products(kb)  # twice changes nothing
    assert set(kb.prohibited["lambda-cyhalothrin"]["_products"]) == {"karate"}
    assert {"coc_85", "kocide", "funguran_oh"} <= set(kb.treatments["copper_hydroxide"]["_products"])
    assert set(kb.prohibited["mancozeb"]["_products"]) >= {"ridomil_gold"}
    validate(kb, require_all_labels=False)  # a linked knowledge base is still sound


# --- More trade names growers in Son La use (products.yaml, 2026): the allowed organic ones and the banned ones ---

@pytest.mark.parametrize("name, entry", [
    ("Thiovit", "sulfur"), ("Thiovit Jet 80WG", "sulfur"), ("THIOVIT JET 80 WG", "sulfur"), ("thiovit jet", "sulfur"),
    ("Kumulus DF", "sulfur"), ("kumulus wg", "sulfur"), ("Kumulus", "sulfur"),
    ("Dipel", "bacillus_thuringiensis"), ("DiPel DF", "bacillus_thuringiensis"), ("dipel df", "bacillus_thuringiensis"),
    ("phun Thiovit Jet 80WG cho cà phê", "sulfur"),
    ("Dipel DF + Kumulus DF", "bacillus_thuringiensis"),  # a mixture: the more restricted entry answers (Bt: EU restricted)
])
def test_an_allowed_organic_product_answers_with_its_entry(name, entry):
    """"Thiovit" or "Dipel" on the bottle is the sulphur or Bt entry, with that entry's status under every standard and
    its conditions (kb.treatments[entry]: cautions, dose, interval), never "not in the knowledge base"."""
    res = ADV.check_substance(name)
    assert res.known and res.allowed is True and not res.prohibited, (name, res)
    assert res.treatment_id == entry
    assert res.standards == ADV.kb.treatments[entry]["status"]
    assert ADV.kb.treatments[entry]["names"]["en"] in res.reason["en"]
    assert ADV.kb.treatments[entry]["names"]["vi"] in res.reason["vi"]
    assert "not in the knowledge base" not in res.reason["en"]


def test_an_allowed_product_says_which_entry_covers_it():
    res = ADV.check_substance("Thiovit Jet 80WG")
    assert res.reason["en"].startswith("Allowed in organic farming (Wettable sulfur: covers Thiovit Jet 80WG)"), res.reason
    res = ADV.check_substance("Dipel DF")
    assert res.reason["en"].startswith("Allowed with restrictions (Bt (Bacillus thuringiensis): covers Dipel DF)"), res.reason


@pytest.mark.parametrize("name, substance", [
    ("Furadan 3G", "carbofuran"), ("furadan", "carbofuran"), ("phun Furadan 3G vào gốc cà phê", "carbofuran"),
    ("Marshal 25EC", "carbosulfan"), ("marshal 25 ec", "carbosulfan"),
    ("Basudin", "diazinon"), ("Sumithion 50EC", "fenitrothion"), ("SUMITHION", "fenitrothion"),
    ("Trebon 30 EC", "etofenprox"), ("trebon 30ec", "etofenprox"),
    ("Applaud 25WP", "buprofezin"), ("Bt và Applaud 25WP", "buprofezin"), ("Applaud 40 SC", "buprofezin"),
    ("Virtako 40WG", "chlorantraniliprole"), ("Prevathon", "chlorantraniliprole"),
    ("Score 250EC", "difenoconazole"), ("score 250 ec", "difenoconazole"),
    ("Amistar 250SC", "azoxystrobin"), ("Amistar Top 325SC", "azoxystrobin"),
    ("Topsin M", "thiophanate-methyl"), ("Topsin-M 70WP", "thiophanate-methyl"),
    ("Radiant 60SC", "spinetoram"), ("Radiant SC", "spinetoram"),
    ("Thiovit Jet 80WG + Score 250EC", "difenoconazole"),  # an allowed product tank-mixed with a banned one
])
def test_a_new_banned_trade_name_voids_certification(name, substance):
    res = ADV.check_substance(name)
    assert res.known and res.prohibited and res.allowed is False, (name, res)
    assert "voids certification" in res.reason["en"] and "mất chứng nhận" in res.reason["vi"]
    assert res.citations == list(ADV.kb.prohibited[substance]["citations"])


def test_a_product_of_two_substances_names_both():
    ADV.check_substance("x")  # builds the advisor's own index (products included)
    index = ADV._index
    assert index.products_in("Virtako 40WG")[0] == ("virtako", "Virtako 40WG", ["chlorantraniliprole", "thiamethoxam"])
    assert index.products_in("Amistar Top 325SC")[0] == ("amistar_top", "Amistar Top 325SC", ["azoxystrobin", "difenoconazole"])
    assert "Virtako 40WG = chlorantraniliprole + thiamethoxam" in ADV.check_substance("Virtako 40WG").reason["en"]


def test_a_product_banned_in_vietnam_says_so():
    """Carbofuran (Furadan) and diazinon (Basudin) were taken off Vietnam's permitted list (QĐ 4154/2017, QĐ 3435/2018):
    the grower hears that too, not only the organic rule."""
    for name, year in [("Furadan 3G", "2017"), ("Basudin", "2019"), ("Topsin M", "2019")]:
        res = ADV.check_substance(name)
        assert f"banned in Vietnam since {year}" in res.reason["en"], res.reason
        assert f"cấm sử dụng tại Việt Nam từ năm {year}" in res.reason["vi"], res.reason


def test_spinetoram_is_not_spinosad():
    """Radiant (spinetoram) is not the spinosad the organic lists name: the spinosad bait stays allowed, spinetoram and
    its product are refused, with their own citations."""
    assert ADV.check_substance("spinosad").allowed is True
    for name in ("spinetoram", "Radiant 60SC"):
        res = ADV.check_substance(name)
        assert res.prohibited and res.allowed is False and res.treatment_id is None, (name, res)
        assert res.citations == list(ADV.kb.prohibited["spinetoram"]["citations"])
    assert any("spinosad only" in c for c in ADV.kb.prohibited["spinetoram"]["citations"])


@pytest.mark.parametrize("name", ["cartap", "cartap hydrochloride", "fenobucarb", "BPMC", "pymetrozine", "dinotefuran",
                                  "carbosulfan", "carbofuran", "diazinon", "dimpylate", "fenitrothion", "etofenprox",
                                  "spinetoram", "Cartap 95SP", "fenobucarb 50EC + Bt"])
def test_a_new_banned_substance_is_refused_by_its_own_name(name):
    """The substances of the products whose source was not found (Padan = cartap, Bassa = fenobucarb, Chess =
    pymetrozine, Oshin = dinotefuran) are answered when the grower reads them off the label."""
    res = ADV.check_substance(name)
    assert res.known and res.prohibited and res.allowed is False, (name, res)
    assert any("205.601" in c or "Annex I" in c for c in res.citations)


@pytest.mark.parametrize("text", ["score of 3", "Score", "tilt the tank", "Tilt", "a beam of the shed fell", "Beam",
                                  "marshal the pickers", "I applaud the team", "radiant sun", "Success", "chess",
                                  "entrust the plot to Minh", "Padan 95SP", "Bassa 50EC", "Chess 50WG"])
def test_an_everyday_word_or_an_unsourced_product_stays_unknown(text):
    """"Score", "Tilt", "Beam", "Marshal", "Applaud", "Radiant" are English words: the matcher finds a bare name anywhere
    in a text, so these brands are listed only with their code and a note stays a note. Products with no source
    (Padan, Bassa, Chess) are unknown: "treat it as not allowed", never a guessed substance."""
    res = ADV.check_substance(text)
    assert not res.known and res.allowed is None and not res.prohibited, (text, res)
    ADV.check_substance("x")
    assert ADV._index.products_in(text) == []


@pytest.fixture
def db(tmp_path) -> str:
    path = str(tmp_path / "log.sqlite")
    with FieldLog.open(path) as log:
        log.add_plot("Đồi C", "coffee", 0.5, organic_status="certified")
    return path


def _act(capsys, db, *extra):
    rc = main(["log", "act", "Đồi C", "--db", db, "--at", "2026-05-02T08:00", *extra])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return rc, out, err


def test_logging_a_new_banned_product_warns_and_an_allowed_one_or_a_note_does_not(db, capsys):
    rc, out, err = _act(capsys, db, "--what", "phun", "--product", "Furadan 3G", "--lang", "en")
    assert rc == 0 and "WARNING: Furadan 3G: Furadan 3G = carbofuran: Not allowed" in err, err
    rc, out, err = _act(capsys, db, "--what", "phun", "--product", "Thiovit Jet 80WG", "--lang", "en")
    assert rc == 0 and "WARNING" not in err, err
    rc, out, err = _act(capsys, db, "--what", "tilt the tank, score of 3 leaves", "--substance", "score of 3", "--lang", "en")
    assert rc == 0 and "WARNING" not in err, err

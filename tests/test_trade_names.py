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

ADV = Advisor.load()


@pytest.mark.parametrize("name, substance", [
    ("Karate 2.5EC", "lambda-cyhalothrin"), ("karate", "lambda-cyhalothrin"), ("KARATE 2.5EC", "lambda-cyhalothrin"),
    ("Karate + Bt", "lambda-cyhalothrin"), ("Bt và Karate 2.5EC", "lambda-cyhalothrin"),
    ("Regent 800WG", "fipronil"), ("regent 800wp", "fipronil"), ("Lannate", "methomyl"), ("Actara 25WG", "thiamethoxam"),
    ("Confidor", "imidacloprid"), ("Tilt", "propiconazole"), ("Vertimec", "abamectin"), ("Beam 75WP", "tricyclazole"),
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

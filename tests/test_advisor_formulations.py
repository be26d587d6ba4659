"""`--check-substance` and formulation codes: a code on the product name (CropLife International, Technical Monograph
n°2, 7th ed. 2017: SC suspension concentrate, EC, WP, WG ... are mixed with water and sprayed; RB, CB, GB are baits)
says how the product is applied. "Spinosad 25SC" is a spray: it must not be answered as the knowledge base's spinosad
*bait* entry (protein bait spots), only as the substance, with the note that LeafScout advises it as bait only."""
import pytest

from leafscout.advisor import Advisor
from leafscout.cli import main

ADV = Advisor.load()


@pytest.mark.parametrize("name", ["spinosad 25SC", "Spinosad25SC", "spinosad 25 SC", "Spinosad 480SC", "spinosad 25 sc",
                                  "spinosad EC", "spinosad 0.5WG"])
def test_a_spray_formulation_of_spinosad_is_not_answered_as_the_bait(name):
    res = ADV.check_substance(name)
    assert res.known and res.treatment_id != "spinosad_bait", (name, res.treatment_id)
    assert "bait spots" not in res.reason["en"].split(";")[0], res.reason["en"]  # the verdict names the substance
    assert res.reason["en"].startswith("Allowed in organic farming (spinosad)"), res.reason["en"]
    assert "only as Spinosad protein bait spots" in res.reason["en"] and "spray" in res.reason["en"]
    assert "chỉ khuyên dùng" in res.reason["vi"] and "phun" in res.reason["vi"]
    # the substance's own statuses and citations, not a recommendation of a product's other ingredients
    assert res.standards == {k: dict(v) for k, v in ADV.kb.treatments["spinosad_bait"]["status"].items()}
    assert res.citations and res.allowed is True


@pytest.mark.parametrize("name", ["spinosad", "spinosad 0.02GB", "spinosad 0.24CB", "Spinosad RB"])
def test_the_bait_and_the_bare_substance_still_find_the_bait_entry(name):
    res = ADV.check_substance(name)
    assert res.treatment_id == "spinosad_bait" and res.allowed is True, (name, res)


@pytest.mark.parametrize("name, tid", [("Sulfur 80WG", "sulfur"), ("neem 0.3EC", "neem_oil"),
                                       ("đồng hydroxit 77WP", "copper_hydroxide"), ("Bt 16WP", "bacillus_thuringiensis"),
                                       ("Beauveria 5WP", "beauveria_bassiana")])
def test_a_spray_code_on_a_spray_keeps_its_entry(name, tid):
    res = ADV.check_substance(name)
    assert res.treatment_id == tid and res.allowed is True, (name, res)


def test_a_mixture_part_with_a_spray_code_is_the_substance_too():
    res = ADV.check_substance("Bt + spinosad 25SC")
    assert res.known and res.allowed is True and res.treatment_id != "spinosad_bait"


def test_cli_says_the_bait_only_in_both_languages(capsys):
    assert main(["advise", "--check-substance", "spinosad 25SC", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "Spinosad protein bait spots" in out and "spray" in out
    assert main(["advise", "--check-substance", "Spinosad 25SC", "--lang", "vi"]) == 0
    assert "thuốc phun" in capsys.readouterr().out


def test_formulation_codes_are_data_in_rules_yaml():
    codes = ADV.rules["formulation_codes"]
    assert "SC" in codes["spray"]["codes"] and "RB" in codes["bait"]["codes"]
    assert ADV.kb.treatments["spinosad_bait"]["application"] == "bait"

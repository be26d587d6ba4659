"""`leafscout advise --check-substance`: one fixture case per substance named in issue 10."""
import pytest

from leafscout.advisor import Advisor
from leafscout.advisor.substances import fold
from leafscout.cli import main

ADV = Advisor.load()

NOT_ALLOWED = ["abamectin", "deltamethrin", "lambda-cyhalothrin", "permethrin", "cypermethrin", "validamycin",
               "kasugamycin", "tricyclazole", "dimethoate", "acetamiprid", "buprofezin", "chlorantraniliprole",
               "propiconazole", "azoxystrobin", "thiophanate-methyl", "naled", "malathion", "dichlorvos",
               "copper sulfate", "copper sulphate", "phèn xanh", "Abamectin 3.6EC", "Pyrethrins + piperonyl butoxide"]
ALLOWED = {"sulphur": "sulfur", "Lưu huỳnh": "sulfur", "luu huynh": "sulfur", "LƯU HUỲNH": "sulfur",
           "lime sulphur": "lime_sulfur", "vôi lưu huỳnh": "lime_sulfur", "Trichoderma": "trichoderma",
           "nấm đối kháng Trichoderma": "trichoderma", "pyrethrins": "pyrethrins", "pyrethrum": "pyrethrins",
           "kaolin": "kaolin", "cao lanh": "kaolin", "potassium soap": "potassium_soap",
           "xà phòng kali": "potassium_soap", "Bordeaux mixture": "bordeaux_mixture",
           "dầu khoáng": "horticultural_oil", "đồng hydroxit": "copper_hydroxide"}


def test_fold_strips_vietnamese_accents_and_d_bar():
    assert fold("Lưu huỳnh") == fold("luu huynh") == "luu huynh"
    assert fold("Đồng sunfat") == "dong sunfat"
    assert fold("thiophanate_methyl") == fold("Thiophanate-Methyl") == "thiophanate methyl"


@pytest.mark.parametrize("name", NOT_ALLOWED)
def test_synthetics_growers_buy_are_not_allowed(name, capsys):
    res = ADV.check_substance(name)
    assert res.known and res.allowed is False and res.prohibited, name
    assert main(["advise", "--check-substance", name, "--lang", "en"]) == 1
    assert "Not allowed" in capsys.readouterr().out


@pytest.mark.parametrize("name, tid", sorted(ALLOWED.items()))
def test_organic_inputs_are_allowed_by_any_name(name, tid, capsys):
    res = ADV.check_substance(name)
    assert res.treatment_id == tid and res.allowed is True, name
    assert main(["advise", "--check-substance", name, "--lang", "vi"]) == 0
    assert "Được phép" in capsys.readouterr().out


def test_pyrethroids_are_traps_only_in_the_eu_and_copper_sulphate_not_as_such():
    assert "only inside traps" in ADV.check_substance("deltamethrin").reason["en"]
    cu = ADV.check_substance("copper sulfate")
    assert "Bordeaux mixture" in cu.reason["en"] and "tribasic copper sulphate" in cu.reason["en"]
    # named together with the Bordeaux mixture it makes, it is that mixture
    assert ADV.check_substance("Bordeaux mixture (copper sulphate + lime)").treatment_id == "bordeaux_mixture"


def test_restricted_inputs_say_so():
    assert ADV.check_substance("pyrethrins").reason["en"].startswith("Allowed with restrictions")
    assert ADV.check_substance("sulphur").reason["en"].startswith("Allowed in organic farming")

"""A grower asks about two allowed products for one tank ("Dipel + COC 85", "Kumulus, Dipel"): the answer is the most
restrictive part's verdict, and the conditions to read are every part's, each after the part's name.

Before: only the verdict's part was listed. "Dipel + COC 85" answered with Dipel's conditions and left out COC 85's
copper caution (every spray counts against the 7-year copper limit, 28 kg Cu/ha), so the grower buying both never
read it; "COC 85 + Dipel" left out Dipel's. The CLI (`leafscout advise --check-substance`), the web app's Knowledge
tab and /check_substance (webapp/handlers.py, through Advisor.substance_conditions) and the phone bundle all list
the advisor's lines, so all of them now list both parts.
"""
from __future__ import annotations

import html
import json
import re

import pytest

from test_webapp_page_state import svc  # noqa: F401  (fixture: the toy model's services)

from leafscout.advisor import Advisor
from leafscout.cli import main

ADV = Advisor.load()
LANGS = ("vi", "en")
COPPER_CAP = {"vi": "giới hạn đồng 7 năm", "en": "7-year copper limit"}


def _alone(name: str, lang: str) -> list[str]:
    return ADV.substance_conditions(ADV.check_substance(name), lang)


@pytest.mark.parametrize("mixture, first", [("Dipel + COC 85", "Dipel"), ("COC 85 + Dipel", "COC 85"),
                                            ("coc 85 và dipel", "COC 85"), ("Dipel, COC 85", "Dipel")])
@pytest.mark.parametrize("lang", LANGS)
def test_both_parts_conditions_are_listed_whichever_is_named_first(mixture, first, lang):
    res = ADV.check_substance(mixture)
    assert res.allowed is True, res.reason["en"]
    lines = ADV.substance_conditions(res, lang)
    copper = [x for x in lines if x.startswith("COC 85: ")]
    dipel = [x for x in lines if x.startswith("Dipel: ")]
    assert len(copper) + len(dipel) == len(lines), lines  # every line says which part it belongs to
    assert copper == [f"COC 85: {x}" for x in _alone("COC 85", lang)]
    assert dipel == [f"Dipel: {x}" for x in _alone("Dipel", lang)]
    assert any(COPPER_CAP[lang] in x for x in copper), copper  # the caution that went missing
    assert lines[0].startswith(first + ": "), lines[0]  # in the order typed


def test_kumulus_and_dipel_list_sulphur_and_bt_conditions():
    res = ADV.check_substance("Kumulus, Dipel")
    assert res.treatment_id == "bacillus_thuringiensis"  # the verdict: the stricter part (Bt, with restrictions)
    assert [p["treatment_id"] for p in res.parts] == ["sulfur", "bacillus_thuringiensis"]
    for lang in LANGS:
        assert ADV.substance_conditions(res, lang) == ([f"Kumulus: {x}" for x in _alone("Kumulus", lang)]
                                                       + [f"Dipel: {x}" for x in _alone("Dipel", lang)])


def test_each_entry_is_listed_once_under_the_names_of_its_parts():
    res = ADV.check_substance("Dipel + COC 85 + Dipel DF")
    lines = ADV.substance_conditions(res, "en")
    assert len(lines) == len(_alone("Dipel", "en")) + len(_alone("COC 85", "en")), lines
    assert lines[0].startswith("Dipel, Dipel DF: "), lines[0]
    # two names of one entry: the lines of that entry alone, as for one name
    assert ADV.substance_conditions(ADV.check_substance("Dipel + Dipel DF"), "vi") == _alone("Dipel", "vi")


def test_one_name_keeps_its_lines_and_a_refused_mixture_lists_none():
    for name in ("Dipel", "COC 85", "Kumulus", "Thiovit Jet 80WG"):
        res = ADV.check_substance(name)
        assert res.parts == []
        assert not any(x.startswith(name + ": ") for x in ADV.substance_conditions(res, "en"))
    for name in ("Dipel + Karate", "neem, sulphur", "Dipel + xyzq", "Dipel + Kocide Padan 95SP"):
        res = ADV.check_substance(name)
        assert res.allowed is not True and ADV.substance_conditions(res, "vi") == [], name


def test_a_parts_name_is_the_knowledge_bases_not_the_typed_text():
    res = ADV.check_substance("coc85wp + DIPEL")
    assert [p["name"] for p in res.parts] == ["COC85WP", "Dipel"], res.parts
    assert all(not x.startswith(("coc85wp", "DIPEL")) for x in ADV.substance_conditions(res, "en"))


def test_cli_lists_both_parts_conditions_in_vietnamese(capsys):
    assert main(["advise", "--check-substance", "Dipel + COC 85", "--lang", "vi"]) == 0
    out = capsys.readouterr().out.splitlines()
    listed = [x[len("  - "):] for x in out if x.startswith("  - ")]
    assert listed == ADV.substance_conditions(ADV.check_substance("Dipel + COC 85"), "vi")
    assert any(x.startswith("COC 85: ") and COPPER_CAP["vi"] in x for x in listed), listed
    assert any(x.startswith("Dipel: ") for x in listed), listed


def test_cli_json_carries_the_parts(capsys):
    assert main(["advise", "--check-substance", "COC 85 + Dipel", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["parts"] == [{"name": "COC 85", "treatment_id": "copper_hydroxide"},
                             {"name": "Dipel", "treatment_id": "bacillus_thuringiensis"}]
    assert data["treatment_id"] == "copper_hydroxide"  # the fields before stay as they were


def test_web_app_and_api_list_both_parts(svc):  # noqa: F811
    from leafscout.webapp import handlers as H

    want = ADV.substance_conditions(ADV.check_substance("Dipel + COC 85"), "vi")
    api = H.check_substance(svc, "Dipel + COC 85", "vi")
    assert api["conditions"] == want and api["verdict"] == "conditions"
    md = H.render_substance(svc, H.substance_query("Dipel + COC 85"), "vi")
    items = [html.unescape(re.sub(r"\\(.)", r"\1", line[2:])) for line in md.splitlines() if line.startswith("- ")]
    assert items == want, items
    assert any(COPPER_CAP["vi"] in x for x in items)

"""Vietnamese advice shows no English: every problem, every rendering, the organism line included.

`organism` is written once; a Latin scientific name reads the same in both languages, anything else (a
note such as "not verified: ...", an English common name, an explanation) has its Vietnamese in
`organism_vi`. Citations may stay in their original language, so they are left out of the check.
"""
from __future__ import annotations

import re

import pytest

from leafscout.advisor import Advisor, Context
from leafscout.advisor.advice import Advice

# words that only an untranslated English text would contain
GIVEAWAY = ("not", "verified", "cause", "none", "settled", "unknown", "the", "and")

CONTEXTS = [
    {},
    # a tense context: blocks (PHI, copper cap, heat) and low-severity hold-backs add their own messages
    {"days_to_harvest": 0, "copper_used_year_kg_ha": 27.9, "hot_weather": True, "rainy_season": True,
     "severity": "low"},
    {"organic_status": "conventional", "severity": "high", "rainy_season": False, "hot_weather": False},
]


def _advisor() -> Advisor:
    return Advisor.load()


def _without_citations(text: str, rules: dict) -> str:
    """Drop the citation lines (legal references in their original language) and any URL."""
    heads = {rules["ui"]["citations"][lang] for lang in ("en", "vi")}
    kept = [ln for ln in text.splitlines() if not any(h in ln for h in heads)]
    return re.sub(r"https?://\S+", " ", "\n".join(kept))


def english_words(text: str) -> list[str]:
    return sorted({w for w in GIVEAWAY if re.search(rf"(?<![\w-]){w}(?![\w-])", text, re.I)})


def _problem_ids() -> list[str]:
    return sorted(_advisor().kb.problems)


@pytest.mark.parametrize("pid", _problem_ids())
def test_vi_advice_has_no_english_words(pid):
    adv = _advisor()
    bad = {}
    for ctx in CONTEXTS:
        for status in ("ok", "uncertain"):
            advice = adv.advise(pid, Context(**ctx), status=status)
            for fmt in ("text", "markdown"):
                vi = _without_citations(advice.render(lang="vi", fmt=fmt, rules=adv.rules), adv.rules)
                for line in vi.splitlines():
                    if english_words(line):
                        bad.setdefault(line, english_words(line))
    assert not bad, f"{pid}: English in the Vietnamese advice: {bad}"


@pytest.mark.parametrize("pid", _problem_ids())
def test_vi_advice_names_the_organism_in_vietnamese_or_latin(pid):
    """The cause line is shown in vi whenever `organism` is set: as organism_vi, or as the Latin name itself."""
    adv = _advisor()
    p = adv.kb.problems[pid]
    if not p.get("organism"):
        return
    vi = adv.advise(pid).render(lang="vi", fmt="text", rules=adv.rules)
    en = adv.advise(pid).render(lang="en", fmt="text", rules=adv.rules)
    cause_vi = f"{adv.rules['ui']['cause']['vi']}: "
    line = next((ln for ln in vi.splitlines() if cause_vi in ln), None)
    assert line is not None, f"{pid}: no cause line in vi"
    assert line.split(cause_vi, 1)[1] == p.get("organism_vi", p["organism"])
    assert p["organism"] in en  # the English page keeps the English text


def test_the_rule_for_what_needs_a_translation():
    from leafscout.advisor.names import is_scientific_name as sci
    for name in ["Hemileia vastatrix", "Phoma spp. (P. costarricensis)", "Xanthomonas citri pv. mangiferaeindicae",
                 "Candidatus Liberibacter asiaticus", "Rhizoctonia solani f. sp. sasakii", "Coccus viridis; Planococcus spp.",
                 "Planococcus spp., Ferrisia virgata", "Gymnosporangium juniperi-virginianae",
                 "Idioscopus spp. (I. clypealis, I. nitidulus)", "Pestalotiopsis spp. (Pseudopestalotiopsis)",
                 "Xanthomonas citri subsp. citri", "Fictitia testensis"]:
        assert sci(name), name
    for note in ["none (nutrient shortage or imbalance)", "Scirtothrips dorsalis and other thrips",
                 "Tomato yellow leaf curl virus (begomovirus)", "Capnodium spp. (grows on honeydew of sucking insects)",
                 "not verified: moth larvae (Conogethes punctiferalis and others are reported)",
                 "Polyphagotarsonemus latus (broad mite), Scirtothrips dorsalis (thrips)", "", "spp."]:
        assert not sci(note), note


def test_every_non_latin_organism_has_organism_vi():
    from leafscout.advisor.names import is_scientific_name
    adv = _advisor()
    missing = [pid for pid, p in adv.kb.problems.items()
               if p.get("organism") and not is_scientific_name(p["organism"]) and not p.get("organism_vi")]
    assert not missing


def test_schema_requires_organism_vi_for_a_plain_words_note():
    import copy

    from leafscout.advisor.kb import read_kb
    from leafscout.advisor.schema import validate
    kb = read_kb(None)
    kb.model_labels = frozenset(pid for pid, p in kb.problems.items() if p.get("detectable_by_model", True))
    bad = copy.deepcopy(kb)
    del bad.problems["tea.red_spot"]["organism_vi"]
    with pytest.raises(Exception, match=r"problems\.tea\.red_spot\.organism_vi.*not a Latin"):
        validate(bad)
    validate(kb)


def test_vi_falls_back_to_organism_only_when_it_is_a_latin_name():
    """Advice built elsewhere (an old JSON, a custom knowledge base without the schema): an untranslated
    note is left out of the vi page rather than shown in English; a Latin name is shown."""
    adv = _advisor()
    d = adv.advise("chilli.nutrient_deficiency").to_dict()
    d["problem"].pop("organism_vi", None)
    vi = Advice.from_dict(d).render(lang="vi", rules=adv.rules)
    assert "nutrient" not in vi and adv.rules["ui"]["cause"]["vi"] not in vi
    assert "none (nutrient shortage" in Advice.from_dict(d).render(lang="en", rules=adv.rules)
    d = adv.advise("tomato.late_blight").to_dict()
    d["problem"].pop("organism_vi", None)
    assert "Phytophthora infestans" in Advice.from_dict(d).render(lang="vi", rules=adv.rules)


def test_markdown_italicises_latin_names_only():
    adv = _advisor()
    assert "*Phytophthora infestans*" in adv.advise("tomato.late_blight").render("vi", "markdown", adv.rules)
    vi = adv.advise("tea.red_spot").render("vi", "markdown", adv.rules)
    assert f": {adv.kb.problems['tea.red_spot']['organism_vi']}\n" in vi


def test_cli_advise_vi_prints_the_vietnamese_note(capsys):
    from leafscout.cli import main
    assert main(["advise", "longan.witches_broom", "--lang", "vi"]) == 0
    out = capsys.readouterr().out
    assert Advisor.load().kb.problems["longan.witches_broom"]["organism_vi"] in out
    assert not english_words(out), out

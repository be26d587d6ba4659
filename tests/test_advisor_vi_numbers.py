"""Numbers the advisor writes into a Vietnamese page use the Vietnamese decimal comma ("27,5 kg"), as the knowledge
base's own Vietnamese texts do ("0,5 oz", "1,6%"); "27.5" reads as twenty-seven thousand five hundred in Vietnam."""
from leafscout.advisor import Advisor, Context

ADV = Advisor.load()


def test_copper_cap_reason_uses_the_decimal_comma_in_vietnamese():
    advice = ADV.advise("coffee.rust", Context(copper_used_7y_kg_ha=27.5))
    block = next(b for b in advice.blocked if b.reason_code == "copper_cap")
    assert "27,5 kg" in block.reason["vi"] and "27.5" not in block.reason["vi"], block.reason["vi"]
    assert "27.5 kg" in block.reason["en"]
    assert "27,5 kg" in advice.render("vi") and "27.5 kg" in advice.render("en")


def test_whole_numbers_are_unchanged():
    advice = ADV.advise("coffee.rust", Context(copper_used_7y_kg_ha=28, days_to_harvest=3))
    reasons = {b.reason_code: b.reason for b in advice.blocked}
    assert "dùng 28 kg" in reasons["copper_cap"]["vi"] and "28 kg/ha" in reasons["copper_cap"]["vi"]
    assert "7 ngày" in reasons["phi"]["vi"] and "3 ngày" in reasons["phi"]["vi"]


def test_dose_and_copper_ledger_figures_use_the_decimal_comma_in_vietnamese():
    import copy
    kb = copy.deepcopy(ADV.kb)
    t = kb.treatments["copper_hydroxide"]
    t["dose"]["per_16l"]["min"], t["copper_kg_ha"] = 2.5, 0.5
    t["dose"]["per_16l"].pop("max", None)
    adv = Advisor(kb)
    dose = adv.dose("copper_hydroxide")
    assert dose["per_16l"]["vi"].startswith("2,5 g") and dose["per_16l"]["en"].startswith("2.5 g"), dose["per_16l"]
    advice = adv.advise("coffee.rust", Context(rainy_season=True))
    vi, en = advice.render("vi", rules=kb.rules), advice.render("en", rules=kb.rules)
    assert "khoảng 0,5 kg Cu/ha" in vi and "about 0.5 kg Cu/ha" in en
    assert "2,5 g" in vi and "2.5 g" in en

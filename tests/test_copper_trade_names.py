"""A copper spray logged by its trade name counts in the copper ledger: `leafscout log act ... --product "COC 85"
--amount 2 --unit kg/ha` records 2 x 85 % copper oxychloride x 59.5 % Cu = 1.0115 kg Cu/ha (it recorded 0 unless a
substance was typed, so the 7-year copper cap was under-counted). The label's metallic copper is used where it is
known (Funguran-OH 50 WP: 50 %; Kocide 2000: 35 %). "cốc" (a cup) is not COC, as "đồng" alone is not copper."""
from __future__ import annotations

import pytest

from leafscout.cli import main
from leafscout.fieldlog import FieldLog
from leafscout.fieldlog import copper


@pytest.fixture
def db(tmp_path) -> str:
    path = str(tmp_path / "log.sqlite")
    with FieldLog.open(path) as log:
        log.add_plot("Đồi B", "coffee", 0.5, organic_status="certified")
    return path


def _act(db, *extra) -> int:
    return main(["log", "act", "--db", db, "Đồi B", *extra])


@pytest.mark.parametrize("product, kg_cu_ha", [("COC 85", 2 * 0.85 * 0.595), ("COC 85WP", 2 * 0.85 * 0.595),
                                                ("Funguran-OH 50WP", 2 * 0.50), ("Kocide 2000", 2 * 0.35),
                                                ("Kocide 53.8WG", 2 * 0.538 * 0.651), ("Kocide", 2 * 0.651)])
def test_log_act_with_a_copper_trade_name_records_its_copper(db, capsys, product, kg_cu_ha):
    assert _act(db, "--what", "phun thuốc", "--product", product, "--amount", "2", "--unit", "kg/ha") == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    with FieldLog.open(db) as log:
        assert log.copper_used("Đồi B")[0] == pytest.approx(kg_cu_ha, abs=1e-6)
    assert "kg Cu/ha" in out


def test_coc_85_by_the_plot_not_per_hectare(db):
    """1 kg of COC 85 over the 0.5 ha plot is 2 kg/ha of product: 1.0115 kg Cu/ha."""
    assert _act(db, "--what", "phun COC", "--product", "COC 85", "--amount", "1", "--unit", "kg") == 0
    with FieldLog.open(db) as log:
        assert log.copper_used("Đồi B")[0] == pytest.approx(1.0115, abs=1e-6)


def test_a_copper_trade_name_without_a_dose_asks_for_the_copper(db, capsys):
    assert _act(db, "--what", "phun", "--product", "COC 85") == 2
    out, err = capsys.readouterr()
    assert "this treatment uses copper, but how much was not given" in err, err
    assert "Traceback" not in out + err


@pytest.mark.parametrize("what", ["pha 2 cốc nước vôi quét gốc", "tưới 1 cốc 85 ml cho mỗi gốc", "làm cỏ cánh đồng"])
def test_a_cup_or_a_field_is_not_copper(db, what):
    assert not copper.mentions_copper(what)
    assert _act(db, "--what", what) == 0
    with FieldLog.open(db) as log:
        assert log.copper_used("Đồi B")[0] == 0


def test_a_typed_substance_still_counts_and_a_trade_name_is_more_exact():
    assert copper.fraction_for("copper oxychloride")[0] == pytest.approx(0.595)
    assert copper.fraction_for("copper oxychloride", "COC 85")[0] == pytest.approx(0.85 * 0.595)
    assert copper.fraction_for("Karate 2.5EC") is None and not copper.mentions_copper("Karate 2.5EC")


@pytest.mark.parametrize("product", ["Thiovit Jet 80WG", "Kumulus DF", "Dipel DF", "Furadan 3G", "Score 250EC",
                                     "Amistar Top 325SC", "Topsin M", "Marshal 25EC", "Trebon 30 EC"])
def test_the_new_non_copper_trade_names_add_no_copper(db, product):
    """The trade names added in 2026 hold no copper (products.yaml: sulphur, Bt, synthetics): logging one with a dose
    records the spray without asking for copper and adds nothing to the 7-year ledger; 'Kumulus' is not 'cupr...'."""
    assert not copper.mentions_copper(product) and copper.fraction_for(product) is None
    assert _act(db, "--what", "phun", "--product", product, "--amount", "2", "--unit", "kg/ha") == 0
    with FieldLog.open(db) as log:
        assert log.copper_used("Đồi B")[0] == 0


def test_every_copper_product_of_the_knowledge_base_is_in_the_ledger():
    """products.yaml and fieldlog/copper.py stay in step: every product whose substances are copper entries is found by
    copper.product_fraction (over-counting if need be), so no copper trade name logs 0 kg Cu."""
    from leafscout.advisor import Advisor
    adv = Advisor.load()
    copper_entries = {"copper_hydroxide", "bordeaux_mixture", "bordeaux_paste"}
    index = adv._index
    if index is None:
        adv.check_substance("x")
        index = adv._index
    seen = 0
    for pid, p in adv.kb.products.items():
        targets = [index.resolve(s) for s in p["substances"]]
        if any(t and t[0] == "treatment" and t[1] in copper_entries for t in targets):
            seen += 1
            for name in p["names"]:
                assert copper.product_fraction(name) is not None, (pid, name)
    assert seen >= 3

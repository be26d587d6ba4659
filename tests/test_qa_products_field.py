"""QA of the trade-name features as their users meet them (a farmer at the agro shop, an officer logging sprays by
product name, a cooperative's script): each test is a fault found by using the feature, written before its fix.

* An officer logs `--product "Karate 2.5EC" --substance Bt` (the shop said it was "sinh học"): the banned product
  must still be warned about at once and flagged by the season audit, not passed on the allowed substance.
* Copper named in Vietnamese as the knowledge base names it ("đồng oxyclorua", "đồng hydroxit") is copper: the
  ledger counts it, as it counts "copper oxychloride" (it counted nothing).
* Two copper products in one record with one dose ("Kocide 2000 + COC 85", 2 kg/ha) cannot be split: the log asks
  for the copper itself instead of counting one product and dropping the other.
* A farmer copies two bottles' names without a "+" ("Thiovit Jet 80WG Bassa 50EC"): the product the knowledge base
  does not know (it has its own formulation code) makes the answer "not known", never "allowed" on the known one.
* `advise --check-substance` prints the typed name on one line: a pasted line break cannot forge a second verdict.
* /check_substance given a list, a dict or a bool (a script's bug) refuses it with the API's bad_input, and a name
  with no letter or digit ("+", ",", control characters) is "no product name", in the API, the page and the CLI.
"""
from __future__ import annotations


import pytest

from leafscout.cli import main
from leafscout.fieldlog import FieldLog
from leafscout.fieldlog.errors import FieldLogError
from leafscout.service import default_advisor

from test_webapp_page_state import svc  # noqa: F401  (fixture: the two-crop toy model's services)


@pytest.fixture
def db(tmp_path) -> str:
    path = str(tmp_path / "coop.sqlite")
    with FieldLog.open(path) as log:
        log.add_plot("Đồi A", "coffee", 0.5, organic_status="certified")
    return path


def _run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def _act(capsys, db, *extra, at="2026-05-02T08:00"):
    return _run(capsys, "log", "act", "Đồi A", "--what", "phun", "--db", db, "--at", at, *extra)


# ------------------------------------------------------------------------------- a banned product, a named substance

def test_a_banned_product_logged_with_an_allowed_substance_is_warned_about_and_flagged(db, capsys):
    """The record names Karate 2.5EC: whatever substance was written beside it, the spray voids certification."""
    rc, out, err = _act(capsys, db, "--product", "Karate 2.5EC", "--substance", "Bt", "--lang", "vi")
    assert rc == 0, (out, err)
    assert "CẢNH BÁO: Karate 2.5EC" in err and "lambda-cyhalothrin" in err, err
    rc, out, err = _run(capsys, "log", "audit", "--season", "2026", "--db", db, "--lang", "vi")
    row = next(line for line in out.splitlines() if "Karate" in line)
    assert rc == 1 and row.startswith("KHÔNG ĐẠT") and "lambda-cyhalothrin" in row, out
    assert "1 việc không được phép" in out, out
    rc, out, err = _run(capsys, "log", "audit", "--season", "2026", "--db", db)
    row = next(line for line in out.splitlines() if "Karate" in line)
    assert row.startswith("FLAG") and "Karate = lambda-cyhalothrin: Not allowed" in row, out


def test_an_allowed_product_with_its_own_substance_stays_quiet_and_ok(db, capsys):
    """The control: Kocide 2000 logged with copper hydroxide is allowed both ways; an unknown product beside an
    allowed substance is judged on the substance the officer wrote (as before)."""
    rc, out, err = _act(capsys, db, "--product", "Kocide 2000", "--substance", "copper hydroxide",
                        "--amount", "1", "--unit", "kg/ha")
    assert rc == 0 and "WARNING" not in err, err
    rc, out, err = _act(capsys, db, "--product", "Padan 95SP xyz", "--substance", "Bacillus thuringiensis",
                        at="2026-05-03T08:00")
    assert rc == 0 and "WARNING" not in err, err
    rc, out, err = _run(capsys, "log", "audit", "--season", "2026", "--db", db)
    assert rc == 0 and "0 not allowed" in out and "FLAG" not in out, out


# ------------------------------------------------------------------------------------------------ the copper ledger

@pytest.mark.parametrize("substance, fraction", [("đồng oxyclorua", 0.595), ("Đồng Oxyclorua", 0.595),
                                                 ("dong oxyclorua", 0.595), ("đồng hydroxit", 0.651),
                                                 ("Cu(OH)2", 0.651)])
def test_copper_named_in_vietnamese_is_counted(db, substance, fraction):
    """The knowledge base's own Vietnamese names for copper (treatments.yaml copper_hydroxide aliases) are copper:
    2 kg/ha of the compound is 2 x its copper fraction, as for the English name."""
    with FieldLog.open(db) as log:
        a = log.record_action("Đồi A", "phun", active_substance=substance, amount=2, unit="kg/ha",
                              at="2026-05-02T08:00")
        assert a.copper_kg_ha == pytest.approx(2 * fraction), substance
        with pytest.raises(FieldLogError) as ei:  # named copper without a dose: asked for, never counted as 0
            log.record_action("Đồi A", "phun", active_substance=substance, at="2026-05-03T08:00")
        assert ei.value.code == "copper_required"


def test_two_copper_products_with_one_dose_are_not_counted_as_one(db):
    """2 kg/ha of "Kocide 2000 + COC 85" is some of each: no share can be read from the record, so the log asks for
    the copper (kg Cu/ha) rather than counting COC 85's 1.0115 and Kocide's nothing."""
    with FieldLog.open(db) as log:
        with pytest.raises(FieldLogError) as ei:
            log.record_action("Đồi A", "phun", product="Kocide 2000 + COC 85", amount=2, unit="kg/ha",
                              at="2026-05-02T08:00")
        assert ei.value.code == "copper_required" and "Kocide 2000" in str(ei.value) and "COC 85" in str(ei.value)
        a = log.record_action("Đồi A", "phun", product="Kocide 2000 + COC 85", copper_kg_ha=1.2,
                              at="2026-05-02T08:00")
        assert a.copper_kg_ha == pytest.approx(1.2)
        # one product named twice (product and what) is one product: 1 kg/ha of Kocide 2000 = 0.35 kg Cu/ha
        a = log.record_action("Đồi A", "phun Kocide 2000", product="Kocide 2000", amount=1, unit="kg/ha",
                              at="2026-05-03T08:00")
        assert a.copper_kg_ha == pytest.approx(0.35)
        this_year, _ = log.copper_used("Đồi A", 2026)
        assert this_year == pytest.approx(1.55)


# ----------------------------------------------------------------------------------------- the farmer at the shop

@pytest.mark.parametrize("typed, unknown", [("Thiovit Jet 80WG Bassa 50EC", "Bassa 50EC"),
                                            ("Kocide Padan 95SP", "Padan 95SP"), ("Bt Oshin 20WP", "Oshin 20WP"),
                                            ("dầu khoáng Anvil 5 SC", "Anvil 5 SC")])
def test_an_unknown_coded_product_beside_an_allowed_one_is_not_known(typed, unknown):
    """The product with a formulation code that no knowledge-base name covers is a second product: not known, said
    by its name, and treated as not allowed until the certifier confirms (never 'allowed' on the known one)."""
    res = default_advisor().check_substance(typed)
    assert res.allowed is None and res.treatment_id is None, (typed, res.reason["en"])
    assert f"'{unknown}' is not in the knowledge base" in res.reason["en"], res.reason["en"]


@pytest.mark.parametrize("typed, tid", [("Thiovit Jet 80WG", "sulfur"), ("Kocide 2000 35WG", "copper_hydroxide"),
                                        ("Dầu neem 0.3EC", "neem_oil"), ("Bt 16000 IU/mg WP", "bacillus_thuringiensis"),
                                        ("Lưu huỳnh 80WP", "sulfur"), ("COC 85 WP", "copper_hydroxide"),
                                        ("dầu khoáng 98.8EC", "horticultural_oil"), ("neem 1,8EC", "neem_oil"),
                                        ("Funguran-OH 50WP", "copper_hydroxide")])
def test_a_known_product_with_its_strength_and_code_is_still_answered(typed, tid):
    res = default_advisor().check_substance(typed)
    assert res.allowed is True and res.treatment_id == tid, (typed, res.reason["en"])


def test_cli_prints_the_typed_name_on_one_line(capsys):
    """A name pasted with a line break would print a second line that reads like a verdict ('Bt: Allowed ...')."""
    rc, out, err = _run(capsys, "advise", "--check-substance", "Karate\nBt: Được phép", "--lang", "vi")
    assert rc == 1
    assert not any(line.startswith("Bt:") for line in out.splitlines()), out
    assert out.splitlines()[0].startswith("Karate\\nBt: Được phép: Karate = lambda-cyhalothrin"), out
    rc, out, err = _run(capsys, "advise", "--check-substance", "\u202eKarate", "--lang", "en")
    assert "\u202e" not in out and "\\u202e" in out, out


@pytest.mark.parametrize("typed", ["+", ",", " + , ", "\x07", "..."])
def test_cli_a_name_with_no_letter_or_digit_is_no_name(capsys, typed):
    rc, out, err = _run(capsys, "advise", "--check-substance", typed, "--lang", "vi")
    assert rc == 2 and not out and "hãy nhập tên một chất hoặc sản phẩm" in err, (out, err)


# ------------------------------------------------------------------------------------- the cooperative's script

def _api(svc):  # noqa: F811
    """The /check_substance function as the server runs it (what gradio_client reaches)."""
    from leafscout.webapp import app
    demo = app.build_app(svc)
    fn = next(d.fn for d in demo.fns.values() if d.api_name == "check_substance")
    return fn


@pytest.mark.parametrize("name", [["Karate", "Bt"], {"name": "Karate"}, True, False])
def test_api_refuses_a_value_that_is_not_one_name(svc, name):  # noqa: F811
    """A list is not answered as its Python text "['Karate', 'Bt']": the script is told to send one name."""
    import gradio as gr
    from leafscout.webapp.i18n import t
    check = _api(svc)
    for lang in ("vi", "en"):
        with pytest.raises(gr.Error) as ei:
            check(name, lang=lang)
        msg = str(ei.value.message)
        assert msg.endswith("[bad_input]") and f": name ({t('sub_api_not_text', lang)})" in msg, msg


@pytest.mark.parametrize("name", ["+", ",", "\x00\x07", " ; "])
def test_api_and_page_a_name_with_no_letter_or_digit_is_no_product_name(svc, name):  # noqa: F811
    import gradio as gr
    from leafscout.webapp import handlers as H
    from leafscout.webapp.i18n import t
    check = _api(svc)
    with pytest.raises(gr.Error) as ei:
        check(name, lang="en")
    assert str(ei.value.message).endswith(": name (no product name) [bad_input]"), ei.value.message
    assert H.substance_query(name) == {"refused": "empty", "chars": 0}
    assert t("sub_empty", "vi") in H.render_substance(svc, H.substance_query(name), "vi")


def test_api_still_answers_a_number_as_a_name(svc):  # noqa: F811
    """A product code read from a spreadsheet cell as a number is asked as its text: not known."""
    out = _api(svc)(123, lang="en")
    assert out["query"] == "123" and out["allowed"] is None and out["verdict"] == "unknown"


@pytest.mark.parametrize("what", ["phun dau neem, pha 1 coc 20ml cho binh 16 lit", "pha 2 coc 1 lit nuoc roi phun neem",
                                  "phun neem: 1 coc 20 cho binh 16"])
def test_a_cup_typed_without_marks_is_not_copper(db, what):
    """'cốc' (a cup) typed without its marks is 'coc': a neem spray measured by the cup is no COC 85 spray. It was
    refused for want of a copper dose, or counted as copper oxychloride (0.238 kg Cu/ha) with a dose."""
    with FieldLog.open(db) as log:
        a = log.record_action("Đồi A", what, active_substance="dầu neem", at="2026-05-02T08:00")
        assert a.copper_kg_ha == 0
        a = log.record_action("Đồi A", what, active_substance="neem oil", amount=2, unit="kg/ha",
                              at="2026-05-03T08:00")
        assert a.copper_kg_ha == 0


def test_coc_85_is_still_counted_where_it_is_written(db):
    """The control: the product as printed (capitals) in what was done, or in the product field in any case."""
    with FieldLog.open(db) as log:
        for i, (what, product) in enumerate([("phun COC 85", None), ("phun", "coc 85"), ("phun", "COC 85WP"),
                                             ("phun", "Coc85 WP")]):
            a = log.record_action("Đồi A", what, product=product, amount=2, unit="kg/ha", at=f"2026-05-0{i + 1}")
            assert a.copper_kg_ha == pytest.approx(2 * 0.85 * 0.595), (what, product)
        a = log.record_action("Đồi A", "phun", product="Kocide 20 g/bình", amount=1, unit="kg/ha", at="2026-06-01")
        assert a.copper_kg_ha == pytest.approx(0.651)  # 20 g is a dose, not Kocide's model number or % content


@pytest.mark.slow
def test_gradio_client_list_is_refused_on_the_served_app(tmp_path):
    """Served for real: gradio's Textbox would turn the list into the text "['Karate', 'Bt']" before the handler saw
    it, so the refusal must survive the component (webapp.app: the name box keeps a list as it came), not only the
    handler; and building the app writes nothing beside its source (a Textbox subclass made gradio write app.pyi)."""
    pytest.importorskip("gradio_client")
    pytest.importorskip("onnx", reason="the toy model needs the onnx package (installed by .[train])")
    from gradio_client import Client

    from conftest import TOY_CROP_LABELS
    from leafscout.model.testing import toy_model
    from leafscout.webapp import app
    from leafscout.webapp.services import Services
    from app_support import served

    services = Services(model_path=toy_model(tmp_path / "toy.onnx", labels=TOY_CROP_LABELS),
                        db=str(tmp_path / "log.sqlite"))
    with served(services) as url:
        client = Client(url, verbose=False)
        for bad in (["Karate", "Bt"], {"name": "Karate"}, True):
            with pytest.raises(Exception, match=r"name \(send one product name, as text\) \[bad_input\]"):
                client.predict(name=bad, lang="en", api_name="/check_substance")
        with pytest.raises(Exception, match=r"name \(no product name\) \[bad_input\]"):
            client.predict(name="+", lang="en", api_name="/check_substance")
        out = client.predict(name="Karate 2.5EC", lang="en", api_name="/check_substance")
        assert out["allowed"] is False and out["query"] == "Karate 2.5EC"
        assert client.view_api(return_format="dict")["named_endpoints"]["/check_substance"]["parameters"][0][
            "python_type"]["type"] == "str"  # the schema a script reads is still one string
    from pathlib import Path
    assert not Path(app.__file__).with_suffix(".pyi").exists()

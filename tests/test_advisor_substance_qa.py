"""`--check-substance` QA (2026-12-07): how growers and shops write mixtures and names.

- A mixture written with a comma, a semicolon, a slash, "và"/"với" or "and"/"with" is a mixture, like "+": an unknown
  part ("Bt, Bassa 50EC") makes the whole unknown, and two inputs that burn leaves together are not allowed.
- "với" (with) and "vôi" (lime) fold to the same letters: typed with accents, "lưu huỳnh với dầu khoáng" (sulphur with
  mineral oil) is not "lưu huỳnh vôi" (lime sulphur). Typed without accents, names still match.
- A name the knowledge base does not know gets a hint only from the names of substances it knows, never from a
  cultural step's id ("grafted_resistant_rootstock") or a far-fetched pesticide ("dịch tỏi" is not dichlorvos), and
  the hint is in the page's language.
"""
import pytest

from leafscout.advisor import Advisor

ADV = Advisor.load()


@pytest.mark.parametrize("name, unknown", [("Bt, Bassa 50EC", "Bassa 50EC"), ("Bt và Bassa 50EC", "Bassa 50EC"),
                                           ("Bt / Padan 95SP", "Padan 95SP"), ("neem; Anvil 5SC", "Anvil 5SC"),
                                           ("neem with Anvil 5SC", "Anvil 5SC"), ("Bt và tỏi", "tỏi")])
def test_a_mixture_written_with_a_comma_slash_or_and_is_still_a_mixture(name, unknown):
    res = ADV.check_substance(name)
    assert res.allowed is None and not res.known, (name, res.reason["en"])
    assert f"'{unknown}'" in res.reason["en"]


@pytest.mark.parametrize("name", ["neem, sulphur", "neem/sulfur", "neem and sulfur", "neem với lưu huỳnh",
                                  "lưu huỳnh với dầu khoáng", "lưu huỳnh và dầu khoáng", "dầu khoáng, lưu huỳnh"])
def test_two_inputs_that_burn_leaves_together_are_refused_however_the_mixture_is_written(name):
    res = ADV.check_substance(name)
    assert res.known and res.allowed is False and "burn leaves" in res.reason["en"], (name, res.reason["en"])


def test_with_is_not_lime_when_typed_with_accents():
    res = ADV.check_substance("lưu huỳnh với dầu khoáng")
    assert res.treatment_id != "lime_sulfur"
    assert ADV.check_substance("lưu huỳnh vôi").treatment_id == "lime_sulfur"
    assert ADV.check_substance("luu huynh voi").treatment_id == "lime_sulfur"  # no accents: still lime sulphur
    assert ADV.check_substance("luu huỳnh").treatment_id == "sulfur"  # accents on some letters only
    assert ADV.check_substance("vôi lưu huỳnh 29SL").treatment_id == "lime_sulfur"
    # the tone on the other vowel of "oa" (old placement) is the same word; a wrong tone is not
    assert ADV.check_substance("dầu khóang").treatment_id == "horticultural_oil"
    assert ADV.check_substance("Đồng Hydroxit").treatment_id == "copper_hydroxide"
    assert ADV.check_substance("lưu huỵnh").treatment_id != "sulfur"


@pytest.mark.parametrize("name, tid", [("Bordeaux paste for wounds and trunks", "bordeaux_paste"),
                                       ("Hồ Bordeaux quét vết cắt và thân cây", "bordeaux_paste"),
                                       ("Abamectin 1,8EC", None), ("Bacillus thuringiensis var. kurstaki 16000 IU/mg WP",
                                                                   "bacillus_thuringiensis"),
                                       ("Cu(OH)2", "copper_hydroxide"), ("đồng oxyclorua 85WP", "copper_hydroxide")])
def test_names_with_and_commas_or_units_are_not_split(name, tid):
    res = ADV.check_substance(name)
    assert res.known, (name, res.reason["en"])
    if tid:
        assert res.treatment_id == tid and res.allowed is True
    else:
        assert res.prohibited


def test_copper_sulphate_by_its_formula_is_copper_sulphate():
    res = ADV.check_substance("CuSO4")
    assert res.known and res.prohibited and "Bordeaux" in res.reason["en"]


@pytest.mark.parametrize("name, hint_en", [("luu hunh", "lưu huỳnh"), ("Trichodema", "trichoderma"),
                                           ("beauvaria", "beauveria")])
def test_a_misspelt_name_gets_the_nearest_substance_name(name, hint_en):
    res = ADV.check_substance(name)
    assert not res.known and f"did you mean '{hint_en}'" in res.reason["en"], res.reason["en"]
    assert f"có phải ý bạn là '{hint_en}'" in res.reason["vi"] and "did you mean" not in res.reason["vi"]


@pytest.mark.parametrize("name", ["dịch tỏi", "Oshin 20WP", "tỏi ớt gừng", "chitosan", "Bassa", "vi sinh"])
def test_no_far_fetched_or_non_substance_hint(name):
    res = ADV.check_substance(name)
    assert not res.known
    for bad in ("dichlorvos", "grafted_resistant_rootstock", "tool_hygiene", "chlorpyrifos", "paraquat",
                "diêm sinh"):  # "vi sinh" (microbial) is not "diêm sinh" (sulphur)
        assert bad not in res.reason["en"], res.reason["en"]


@pytest.mark.parametrize("name, tid", [("Bacillus thuringiensis var. kurstaki, 16000 IU/mg", "bacillus_thuringiensis"),
                                       ("Bt, 32000 IU/mg WP", "bacillus_thuringiensis"),
                                       ("Metarhizium anisopliae, 10^8 cfu/g", "metarhizium"),
                                       ("Trichoderma, 1.5%", "trichoderma")])
def test_a_potency_or_strength_after_a_comma_is_not_a_second_product(name, tid):
    res = ADV.check_substance(name)
    assert res.known and res.treatment_id == tid and res.allowed is True, (name, res.reason["en"])


def test_a_short_unknown_product_after_a_comma_still_makes_the_mixture_unknown():
    res = ADV.check_substance("Bt, EM")
    assert not res.known and res.allowed is None and "'EM'" in res.reason["en"]


@pytest.mark.parametrize("name, alias_en, alias_vi", [
    ("đồng oxyclorua 85WP", "Copper hydroxide: covers đồng oxyclorua", "Đồng hydroxit: gồm cả đồng oxyclorua"),
    ("copper oxychloride", "Copper hydroxide: covers copper oxychloride", "Đồng hydroxit: gồm cả copper oxychloride"),
    ("diêm sinh", "Wettable sulfur: covers diêm sinh", "Lưu huỳnh dạng bột thấm nước: gồm cả diêm sinh")])
def test_a_name_the_entry_covers_under_another_name_is_said_so(name, alias_en, alias_vi):
    """'copper oxychloride' was answered 'Allowed with restrictions (Copper hydroxide)', as if the grower had asked
    about another product; the entry covers both (its dose is 'a copper hydroxide or oxychloride powder')."""
    res = ADV.check_substance(name)
    assert alias_en in res.reason["en"] and alias_vi in res.reason["vi"], res.reason


@pytest.mark.parametrize("name", ["lưu huỳnh", "neem", "Bt", "cúc trừ sâu", "Trichoderma", "copper hydroxide"])
def test_a_name_inside_the_entrys_own_name_gets_no_note(name):
    assert "covers" not in ADV.check_substance(name).reason["en"]


@pytest.mark.parametrize("typed, said", [("Bt, Karate 2.5EC", "Karate = lambda-cyhalothrin"),
                                         ("Regent 800WG", "Regent = fipronil"),
                                         ("ridomil gold 68wg", "Ridomil Gold 68WG = metalaxyl-m + mancozeb")])
def test_a_trade_name_is_refused_with_what_is_in_it_however_the_advisor_was_loaded(typed, said, capsys):
    """A grower types the name on the bottle. The verdict says what is in it, on the service's advisor (the one the
    CLI, the app and the season audit use, loaded against the model's labels), not only on Advisor.load()'s."""
    from leafscout.cli import main
    from leafscout.service import default_advisor
    res = default_advisor().check_substance(typed)
    assert res.allowed is False and res.reason["en"].startswith(said + ": "), res.reason
    assert res.reason["vi"].startswith(said + ": Không được phép"), res.reason
    assert main(["advise", "--check-substance", typed, "--lang", "vi"]) in (0, 1)
    out = capsys.readouterr().out
    assert said in out and "Không được phép" in out, out


def test_a_product_whose_name_holds_another_products_name_is_named_once():
    """"Amistar Top 325SC" is one product (azoxystrobin + difenoconazole), not also "Amistar" (azoxystrobin)."""
    from leafscout.service import default_advisor
    res = default_advisor().check_substance("Amistar Top 325SC")
    assert res.allowed is False and res.reason["en"].startswith("Amistar Top 325SC = azoxystrobin + difenoconazole: ")
    assert "; Amistar" not in res.reason["en"], res.reason


def test_read_the_conditions_below_has_conditions_below(capsys):
    """"Allowed with restrictions: read the conditions below" printed nothing below. Now the entry's cautions, its
    intervals and each standard's status follow, one line each, in the asked language."""
    from leafscout.cli import main
    assert main(["advise", "--check-substance", "COC 85", "--lang", "vi"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "chỉ dùng theo các điều kiện sử dụng" in out[0] and len(out) >= 5, out
    assert any("giới hạn đồng 7 năm" in x for x in out[1:]), out
    assert "  - thời gian cách ly trước thu hoạch: 7 ngày" in out, out
    assert any(x.startswith("  - Quy định EU 2021/1165, Phụ lục I: được phép có điều kiện: ") for x in out), out
    assert main(["advise", "--check-substance", "Karate", "--lang", "en"]) == 1
    assert len(capsys.readouterr().out.splitlines()) == 1  # not allowed: no conditions to read


UNKNOWN_CODED = ["Bassa 50EC", "Padan 95SP", "Oshin 20WP", "Anvil 5SC", "Chess 50WG", "padan95sp"]


def _every_product_beside_an_unknown_coded_one() -> list[tuple[str, str]]:
    """(typed, the unknown product) for every product in the knowledge base written beside a product it does not
    know, before and after it, no "+" between (two bottles' names copied off a shop's shelf)."""
    out = []
    products = [str(n) for p in ADV.kb.products.values() for n in p["names"]]
    for i, prod in enumerate(products):
        other = UNKNOWN_CODED[i % len(UNKNOWN_CODED)]
        out += [(f"{prod} {other}", other), (f"{other} {prod}", other)]
    return out


@pytest.mark.parametrize("typed, other", _every_product_beside_an_unknown_coded_one())
def test_a_known_product_beside_an_unknown_coded_one_is_never_allowed(typed, other):
    """An allowed product's name beside a coded product the knowledge base lacks ("Thiovit Jet 80WG Bassa 50EC") is
    "not in the knowledge base" for that product; a banned one stays banned (the worst answer wins)."""
    res = ADV.check_substance(typed)
    alone = ADV.check_substance(typed.replace(other, "").strip())
    if alone.allowed is False:
        assert res.allowed is False and res.prohibited, (typed, res.reason["en"])
    else:
        assert res.allowed is None and f"'{other}' is not in the knowledge base" in res.reason["en"], res.reason
        assert ADV.substance_conditions(res, "vi") == []


def test_two_allowed_products_list_the_conditions_of_both(capsys):
    """"Dipel + COC 85" answered with Dipel's conditions only (the stricter part): COC 85's copper limit was not
    there to read. Every part's lines now follow, after its name; the one-name answer above is unchanged."""
    from leafscout.cli import main
    for typed in ("Dipel + COC 85", "COC 85 + Dipel"):
        assert main(["advise", "--check-substance", typed, "--lang", "vi"]) == 0
        out = capsys.readouterr().out.splitlines()
        assert any(x.startswith("  - COC 85: ") and "giới hạn đồng 7 năm" in x for x in out), out
        assert "  - Dipel: thời gian cách ly trước thu hoạch: 0 ngày" in out, out
        assert "  - COC 85: thời gian cách ly trước thu hoạch: 7 ngày" in out, out

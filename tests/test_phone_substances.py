"""The farmer in the agro-shop asks the phone "may I use this product?" (the "Hỏi thuốc" box), offline, and gets the
answer `leafscout advise --check-substance NAME` gives on a PC, word for word, in Debian's Chromium at 390x844:

- the build writes the advisor's verdict for every name its SubstanceIndex knows (webapp/phone.py substance_bundle);
- parity: for every product, 20 prohibited names, 20 treatment names and 5 names it does not know, typed as written,
  in capitals, in lower case and without Vietnamese marks, the phone's verdict text is `check_substance(...).reason`
  and its conditions `substance_conditions(...)`, vi and en; names with a code or mixtures are either the same or
  "hỏi cán bộ", never another verdict;
- two bottles' names without a "+" ("Thiovit Jet 80WG Bassa 50EC"): the advisor's "not in the knowledge base" for
  the product it lacks, for every product before and after such a name; a mixture of two allowed products lists
  both parts' conditions after each part's name ("COC 85: ..."), for every ordered pair;
- the farmer's story: offline (the service worker), "karate" -> red "Không được phép: mất chứng nhận hữu cơ" naming
  lambda-cyhalothrin; "dipel" -> allowed with its conditions listed; English on the language switch.
The phone had no such check: a farmer had to find a PC.
"""
from __future__ import annotations

import gzip
import json

import pytest

from phone_support import JS_CHECK_SUBSTANCES, app_url, chromium  # noqa: F401  (module fixtures)
from phone_support import built_app, open_app

pytestmark = pytest.mark.slow
LANGS = ("vi", "en")
UNKNOWN = ["karatee", "luu hunh", "Thuốc XYZ-999", "Sữa rửa bát Sunlight", "abamectinx 3.6EC"]


@pytest.fixture(scope="module")
def adv():
    from leafscout.advisor.engine import Advisor

    a = Advisor.load()
    a.check_substance("")  # the index
    return a


def _python(adv, name: str) -> dict:
    res = adv.check_substance(name)
    return {"allowed": res.allowed, "reason": res.reason,
            "conditions": {lang: adv.substance_conditions(res, lang) for lang in LANGS}}


def _sample(adv) -> list[str]:
    """Every product name, 20 prohibited and 20 treatment names (spread over the index), 5 unknown names, each also
    in capitals, in lower case and without marks (the farmer's keyboard)."""
    from leafscout.advisor.substances import fold

    ix = adv._index
    products = [str(n) for p in adv.kb.products.values() for n in p["names"]]
    prohibited = [ix.written[k] for k, (kind, _) in ix.names.items() if kind == "prohibited"
                  and k not in ix.product_of]
    treatments = [ix.written[k] for k, (kind, _) in ix.names.items() if kind == "treatment"
                  and k not in ix.product_of]
    pick = lambda xs: xs[:: max(1, len(xs) // 20)][:20]  # noqa: E731
    base = products + pick(prohibited) + pick(treatments) + UNKNOWN
    assert len(pick(prohibited)) == 20 and len(pick(treatments)) == 20
    assert any(fold(n) != n.lower() for n in pick(treatments)), "no Vietnamese name in the sample"
    names = []
    for n in base:
        names += [n, n.upper(), n.lower(), fold(n)]
    return list(dict.fromkeys(names))


def test_the_bundle_holds_the_advisors_verdict_for_every_name_it_knows(adv):
    from leafscout.webapp.phone import substance_bundle

    b = substance_bundle(adv)
    ix = adv._index
    assert [k[0] for k in b["keys"]] == list(ix.names)  # the advisor's own names, none re-listed
    for key, kind, ident, written, _ in b["keys"]:
        res = adv.check_substance(written)
        v = b["verdicts"][b["exact"][key][""] if "" in b["exact"][key] else next(iter(b["exact"][key].values()))]
        assert {lang: b["lines"][v["r"][lang]] for lang in LANGS} == res.reason or v.get("code"), written
    raw = json.dumps(b, ensure_ascii=False, separators=(",", ":")).encode()
    assert len(gzip.compress(raw, 9)) < 60_000, len(gzip.compress(raw, 9))  # a small download (about 25 KB)
    for n in UNKNOWN:
        assert adv.check_substance(n).known is False, n


def test_the_phone_gives_the_advisors_verdict_word_for_word(chromium, app_url, adv):
    names = _sample(adv)
    ctx, page = open_app(chromium, app_url, locale="vi-VN")
    got = page.evaluate(JS_CHECK_SUBSTANCES, names)
    wrong, asked = [], []
    for n in names:
        want, phone = _python(adv, n), got[n]
        if phone["how"] == "ask":
            asked.append(n)
            continue
        if phone["reason"] != want["reason"] or phone["conditions"] != want["conditions"]:
            wrong.append((n, phone["reason"]["en"], want["reason"]["en"]))
        colour = {None: {"unknown"}, False: {"banned", "clash"}, True: {"allowed", "unverified", "restricted"}}
        assert phone["kind"] in colour[want["allowed"]], (n, phone["kind"], want["allowed"])
    assert not wrong, wrong[:5]
    assert not asked, asked  # every name the knowledge base knows, however typed, is answered
    assert {got[n]["how"] for n in UNKNOWN} == {"unknown"}
    assert "(did you mean 'Karate'?)" in got["karatee"]["reason"]["en"]  # the advisor's hint, as it gives it

    # names with a strength or formulation code, trade names in a text, mixtures: the advisor's answer or "hỏi cán bộ"
    ws = [adv._index.written[k] for k in adv._index.names]
    extra = ["Karate 2.5EC", "Regent 800WG", "thuốc Regent", "Karate + Dipel", "Dipel + Thiovit Jet", "Spinosad 25SC",
             "spinosad sc", "Spinosad SC", "Thiovit Jet 80WG", "Dipel + xyzq", "COC 85 và Dipel",
             "copper hydroxide, Cu(OH)2 80WG", "Bordeaux mixture (copper sulphate + lime)", "với", "vôi"]
    extra += [f"{a} + {b}" for a, b in zip(ws[::7], ws[3::11])]
    got = page.evaluate(JS_CHECK_SUBSTANCES, extra)
    for n in extra:
        if got[n]["how"] != "ask":
            want = _python(adv, n)
            assert (got[n]["reason"], got[n]["conditions"]) == (want["reason"], want["conditions"]), n
    answered = {n for n in extra if got[n]["how"] != "ask"}
    assert {"Karate 2.5EC", "Regent 800WG", "Karate + Dipel", "Dipel + Thiovit Jet", "Spinosad 25SC",
            "Thiovit Jet 80WG", "Dipel + xyzq"} <= answered, set(extra) - answered
    assert got["Karate + Dipel"]["reason"]["en"].startswith("Karate = lambda-cyhalothrin; Dipel = ")
    assert "(25SC)" not in got["Spinosad 25SC"]["reason"]["en"] and "(SC)" in got["Spinosad 25SC"]["reason"]["en"]
    assert got["copper hydroxide, Cu(OH)2 80WG"]["how"] == "ask"  # a mixture part with a code: not guessed
    assert not page.errors, page.errors
    ctx.close()


UNKNOWN_CODED = ["Bassa 50EC", "Padan 95SP", "Oshin 20WP", "Anvil 5SC", "Chess 50WG", "padan95sp"]


def _beside_unknown_coded(adv) -> list[str]:
    """Two bottles' names copied without a "+": the advisor's cases, then every product name before and after a coded
    product the knowledge base does not know."""
    names = ["Thiovit Jet 80WG Bassa 50EC", "Kocide Padan 95SP", "Bt Oshin 20WP", "thiovit jet 80wg bassa 50ec",
             "Dipel Oshin20WP", "Dipel + Kocide Padan 95SP", "Kocide Padan 95SP, Dipel"]
    products = [str(n) for p in adv.kb.products.values() for n in p["names"]]
    for i, prod in enumerate(products):
        other = UNKNOWN_CODED[i % len(UNKNOWN_CODED)]
        names += [f"{prod} {other}", f"{other} {prod}"]
    return names


def test_a_known_product_beside_an_unknown_coded_one_is_not_allowed_on_the_phone(chromium, app_url, adv):
    """The advisor answers "Thiovit Jet 80WG Bassa 50EC" with "'Bassa 50EC' is not in the knowledge base"
    (SubstanceIndex.unnamed_product); the phone said "allowed" on Thiovit Jet. Now it gives the advisor's words."""
    names = _beside_unknown_coded(adv)
    assert len(names) >= 60
    ctx, page = open_app(chromium, app_url, locale="vi-VN")
    got = page.evaluate(JS_CHECK_SUBSTANCES, names)
    for n in names:
        want = _python(adv, n)
        assert got[n]["how"] != "ask", n  # the rule is copied: answered, not only refused
        assert (got[n]["reason"], got[n]["conditions"]) == (want["reason"], want["conditions"]), n
        if want["allowed"] is None:
            assert got[n]["kind"] == "unknown", (n, got[n]["kind"])
    assert "'Bassa 50EC' không có trong cơ sở dữ liệu" in got["Thiovit Jet 80WG Bassa 50EC"]["reason"]["vi"]
    allowed = [n for p in adv.kb.products.values() for n in p["names"] if adv.check_substance(n).allowed]
    assert sum(_python(adv, n)["allowed"] is None for n in names) >= 2 * len(allowed) >= 30  # each allowed name
    assert not page.errors, page.errors
    ctx.close()


def test_a_mixture_of_two_allowed_products_lists_both_parts_conditions(chromium, app_url, adv):
    """Every ordered pair of the allowed products ("Dipel + COC 85", "Kumulus, Dipel"): the phone lists the lines of
    both parts, after each part's name, as Advisor.substance_conditions (it listed the stricter part's only)."""
    allowed = [p["names"][0] for p in adv.kb.products.values() if adv.check_substance(p["names"][0]).allowed]
    seps = [" + ", ", ", " và "]
    names = [f"{a}{seps[i % 3]}{b}" for i, (a, b) in enumerate((a, b) for a in allowed for b in allowed if a != b)]
    names += ["Kumulus, Dipel", "Dipel + COC 85", "coc 85 + dipel", "Dipel + COC 85 + Dipel DF", "Dipel + Dipel DF"]
    ctx, page = open_app(chromium, app_url, locale="vi-VN")
    got = page.evaluate(JS_CHECK_SUBSTANCES, names)
    for n in names:
        want = _python(adv, n)
        assert got[n]["how"] == "mixture", (n, got[n]["how"])
        assert (got[n]["reason"], got[n]["conditions"]) == (want["reason"], want["conditions"]), n
    for lang, cap in (("vi", "giới hạn đồng 7 năm"), ("en", "7-year copper limit")):
        lines = got["Dipel + COC 85"]["conditions"][lang]
        assert any(x.startswith("COC 85: ") and cap in x for x in lines), lines
        assert any(x.startswith("Dipel: ") for x in lines), lines

    box = page.locator("#ask-name")  # what the farmer reads under the verdict
    box.fill("Dipel + COC 85")
    box.press("Enter")
    page.locator("#ask-verdict .verdict[data-kind=restricted]").wait_for()
    assert page.locator("#ask-verdict .conditions li").all_inner_texts() == \
        adv.substance_conditions(adv.check_substance("Dipel + COC 85"), "vi")
    assert not page.errors, page.errors
    ctx.close()


def test_farmer_in_the_shop_checks_karate_and_dipel_offline(chromium, app_url, adv):
    ctx, page = open_app(chromium, app_url, locale="vi-VN")
    assert page.ready["offline"] is True, page.ready  # the service worker keeps the app
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    failed = []
    ctx.on("requestfailed", lambda r: failed.append(r.url))
    ctx.set_offline(True)
    page.reload()
    page.evaluate("window.leafscout.ready")
    assert page.inner_text("#ask h2").startswith("Hỏi thuốc")

    box = page.locator("#ask-name")
    box.fill("karate 2.5EC")  # as on the bottle: the code is no obstacle to the suggestions
    page.locator("#ask-suggest button", has_text="Karate").first.wait_for()
    box.fill("karate")
    page.click("#ask-btn")
    verdict = page.locator("#ask-verdict .verdict")
    verdict.wait_for()
    assert verdict.get_attribute("data-kind") == "banned"
    assert page.inner_text("#ask-verdict .verdict-head") == "Không được phép: mất chứng nhận hữu cơ"
    text = verdict.inner_text()
    assert "lambda-cyhalothrin" in text and adv.check_substance("karate").reason["vi"] in text, text
    red = page.evaluate("getComputedStyle(document.querySelector('#ask-verdict .verdict-head')).color")
    assert red == "rgb(185, 28, 28)", red

    box.fill("dipel")
    page.locator("#ask-suggest button", has_text="Dipel").first.click()
    page.locator("#ask-verdict .verdict[data-kind=restricted]").wait_for()
    assert page.inner_text("#ask-verdict .verdict-head") == "Được phép có điều kiện"
    want = adv.substance_conditions(adv.check_substance("Dipel"), "vi")
    assert want and page.locator("#ask-verdict .conditions li").all_inner_texts() == want
    assert "Điều kiện khi dùng" in page.inner_text("#ask-verdict")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone

    page.click("#lang button[data-lang=en]")
    assert page.inner_text("#ask-verdict .verdict-head") == "Allowed with conditions"
    assert page.locator("#ask-verdict .conditions li").all_inner_texts() == \
        adv.substance_conditions(adv.check_substance("Dipel"), "en")
    page.click("#lang button[data-lang=vi]")

    box.fill("Dipel + xyzq")  # a mixture with a part the knowledge base does not know: the advisor's words
    box.press("Enter")
    page.locator("#ask-verdict .verdict[data-kind=unknown]").wait_for()
    assert adv.check_substance("Dipel + xyzq").reason["vi"] in page.inner_text("#ask-verdict")
    assert page.inner_text("#ask-verdict .verdict-head") == "Không có trong dữ liệu: coi như không được phép"
    box.fill("copper hydroxide, Cu(OH)2 80WG")  # not answerable on the phone: ask, never a guess
    box.press("Enter")
    page.locator("#ask-verdict .verdict[data-kind=ask]").wait_for()
    assert "hỏi cán bộ khuyến nông" in page.inner_text("#ask-verdict").lower()
    assert not failed, failed
    assert not page.errors, page.errors
    ctx.close()

""""May I use this product?" in the web app: the Knowledge tab's box and button, and the /check_substance API.

A farmer holds a pack bought at the agro shop ("Karate 2.5EC", "COC 85") and asks whether it may be used on a
certified organic plot; a cooperative's script checks its purchase list. Both get what `leafscout advise
--check-substance` says (Advisor.check_substance, the products in advisor/kb/products.yaml, and
Advisor.substance_conditions), in the page's language, with the typed name shown as text.

The page is played through the app's own event wiring (test_webapp_page_state.Page: the functions the server runs,
no browser); the API is called as the server calls it, then through gradio_client on a served app; the layout is
checked in Debian's Chromium at 390x844 as the other app layout tests do (test_app_e2e.py).
"""
from __future__ import annotations

import html
import re

import pytest

from test_webapp_page_state import Page, svc  # noqa: F401  (fixture: the two-crop toy model's services)

from leafscout.webapp import handlers as H
from leafscout.webapp.i18n import STRINGS, t

HOSTILE = "<img src=x onerror=alert(1)>"


def _page(svc) -> Page:  # noqa: F811
    from leafscout.webapp import app

    return Page(app.build_app(svc))


def _html(md: str) -> str:
    """The panel's Markdown as a browser gets it (CommonMark with raw HTML allowed, so a tag that slipped through
    the escaping would be an element here)."""
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark").render(md)


def _text(md: str) -> str:
    """What the farmer reads in the panel: the rendered Markdown without tags, entities read."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", _html(md)))).strip()


def _ask(page: Page, name: str, how: str = "click") -> str:
    page.set("sub_q", name)
    page.fire("sub_btn" if how == "click" else "sub_q", how)
    return page.get("sub_md")


def _english_on_vi(text: str) -> list[str]:
    """The app's English strings (2+ words, not also in the Vietnamese one) found in a Vietnamese text."""
    out = []
    for entry in STRINGS.values():
        for part in re.split(r"[.:;()]", re.sub(r"{\w+}", "", entry["en"])):
            part = part.strip()
            if len(part.split()) >= 2 and part not in entry["vi"] and part in text:
                out.append(part)
    return out


# --------------------------------------------------------------------------------------------- the page

def test_the_knowledge_tab_asks_in_the_farmers_words(svc):  # noqa: F811
    """The box says what to type, in both languages, and the panel says what it is for before anything is asked."""
    assert t("sub_box", "vi") == "Hỏi một loại thuốc (tên thương mại hoặc hoạt chất)"
    assert t("sub_box", "en") == "Check a product (trade name or active substance)"
    page = _page(svc)
    c = page.c
    assert c["sub_q"].label == t("sub_box", "vi") and c["sub_btn"].value == t("sub_btn", "vi")
    assert page.get("sub_md") == t("sub_hint", "vi")
    # the box, the button and the answer are in the Knowledge tab, above its crop and problem pickers
    order = [b._id for b in page.demo.blocks.values()]
    assert order.index(c["sub_q"]._id) < order.index(c["kb_crop"]._id)
    page.set("lang", "en")
    page.fire("lang", "change")
    assert page.get("sub_md") == t("sub_hint", "en")
    assert any(comp is c["sub_q"] and keys == {"label": "sub_box", "placeholder": "sub_placeholder"}
               for comp, keys in page.demo.i18n_bound)


def test_karate_is_not_allowed_and_says_it_is_lambda_cyhalothrin_in_vi_and_en(svc):  # noqa: F811
    """The farmer's story: "Karate 2.5EC" has no banned word in its name; the answer says it is lambda-cyhalothrin
    and not allowed, in Vietnamese, and again in English after the language switch (no second question)."""
    page = _page(svc)
    md = _ask(page, "Karate 2.5EC")
    vi = _text(md)
    assert vi.startswith(t("sub_verdict_not_allowed", "vi")), vi
    assert "lambda-cyhalothrin" in vi and "Karate 2.5EC" in vi and "mất chứng nhận hữu cơ" in vi
    assert t("sub_conditions", "vi") not in vi  # nothing to follow: it is not to be used
    assert not _english_on_vi(vi), _english_on_vi(vi)
    page.set("lang", "en")
    page.fire("lang", "change")
    en = _text(page.get("sub_md"))
    assert en.startswith(t("sub_verdict_not_allowed", "en")) and "lambda-cyhalothrin" in en, en
    assert "voids certification" in en and "Karate 2.5EC" in en


def test_coc_85_is_allowed_with_conditions_and_the_copper_cap_caution(svc):  # noqa: F811
    """COC 85 (copper hydroxide): allowed with conditions, and the conditions list carries the copper cap caution
    (every spray counts against the 7-year copper limit), the lines the CLI prints under the same answer."""
    adv = svc.advisor
    res = adv.check_substance("COC 85")
    for lang, cap in (("vi", "giới hạn đồng 7 năm"), ("en", "7-year copper limit")):
        page = _page(svc)
        if lang == "en":
            page.set("lang", "en")
            page.fire("lang", "change")
        md = _ask(page, "  COC 85 ", how="submit")  # Enter in the box does what the button does
        text = _text(md)
        assert text.startswith(t("sub_verdict_conditions", lang)), text
        assert t("sub_conditions", lang) in text and cap in text and "28 kg" in text
        items = [re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", li)))
                 for li in re.findall(r"<li>(.*?)</li>", _html(md), re.S)]
        assert items == adv.substance_conditions(res, lang) and items, items


def test_a_name_the_knowledge_base_does_not_have_is_not_known(svc):  # noqa: F811
    page = _page(svc)
    for lang in ("vi", "en"):
        page.set("lang", lang)
        text = _text(_ask(page, "xyz"))
        assert text.startswith(t("sub_verdict_unknown", lang)), text
        assert "'xyz'" in text and t("sub_conditions", lang) not in text


def test_typed_html_is_shown_as_text_never_as_an_element(svc):  # noqa: F811
    """Typed text is hostile: `<img src=x onerror=alert(1)>` comes back as those characters, in the "you asked" line
    and in the reason that quotes it, never as an image whose onerror runs."""
    page = _page(svc)
    md = _ask(page, HOSTILE)
    rendered = _html(md)
    assert "<img" not in rendered and "&lt;img src=x onerror=alert(1)&gt;" in rendered, rendered
    text = _text(md)
    assert t("sub_asked", "vi", name=HOSTILE) in text and text.count(HOSTILE) == 2, text
    link = _text(_ask(page, "[Karate](javascript:alert(1)) http://evil.example"))
    assert "<a" not in _html(page.get("sub_md")) and "[Karate](javascript:alert(1))" in link


@pytest.mark.parametrize("typed, key", [("", "sub_empty"), ("   ", "sub_empty"), ("Karate " * 80, "sub_too_long"),
                                        ("x" * H.SUBSTANCE_MAX_CHARS, "sub_too_long")])
def test_an_empty_or_overlong_question_gets_a_clear_message(svc, typed, key):  # noqa: F811
    """Nothing typed, or a pasted page: one sentence saying what to do, in the page's language (and again in the
    other after the switch), never a traceback nor an answer about a name nobody asked."""
    page = _page(svc)
    text = _text(_ask(page, typed))
    assert text == t(key, "vi", n=len(typed.strip()), max=H.SUBSTANCE_MAX_CHARS), text
    assert not any(text.startswith(t(f"sub_verdict_{v}", "vi")) for v in H.SUBSTANCE_VERDICTS)
    page.set("lang", "en")
    page.fire("lang", "change")
    assert _text(page.get("sub_md")) == t(key, "en", n=len(typed.strip()), max=H.SUBSTANCE_MAX_CHARS)


def test_the_longest_name_still_asked_is_answered(svc):  # noqa: F811
    """The limit refuses 500 characters or more, not a long real name one character under it."""
    name = ("Karate " * 80)[: H.SUBSTANCE_MAX_CHARS - 1].strip()
    assert H.substance_query(name) == {"q": name}
    assert _text(_ask(_page(svc), name)).startswith(t("sub_verdict_not_allowed", "vi"))


def test_the_verdict_marks_follow_the_standards(svc):  # noqa: F811
    """"allowed" only where every standard allows it (a cultural practice); a standard that restricts it or is not
    verified yet (TCVN: ask your certifier) makes it "conditions"."""
    adv = svc.advisor
    entries = adv.kb.treatments
    plain = next(tid for tid, e in entries.items()
                 if all(s["status"] == "allowed" for s in e["status"].values())
                 and adv.check_substance(e["names"]["en"]).treatment_id == tid)
    unverified = next(tid for tid, e in entries.items()
                      if {s["status"] for s in e["status"].values()} == {"allowed", "unverified"}
                      and adv.check_substance(e["names"]["en"]).treatment_id == tid)
    assert H.check_substance(svc, entries[plain]["names"]["en"], "en")["verdict"] == "allowed"
    assert H.check_substance(svc, entries[unverified]["names"]["en"], "en")["verdict"] == "conditions"
    text = _text(H.render_substance(svc, H.substance_query(entries[plain]["names"]["vi"]), "vi"))
    assert text.startswith(t("sub_verdict_allowed", "vi")), text


# ---------------------------------------------------------------------------------------------- the API

def _api(svc):  # noqa: F811
    from leafscout.webapp import app

    demo = app.build_app(svc)
    return next(f.fn for f in demo.fns.values() if getattr(f, "api_name", None) == "check_substance")


def test_api_answers_a_purchase_list_as_the_advisor_does(svc):  # noqa: F811
    """A cooperative's script: each name of its purchase list -> allowed true / false / null, the reason and the
    conditions in the language asked for, the knowledge base's treatment id."""
    check = _api(svc)
    adv = svc.advisor
    for name, allowed, verdict in (("Karate 2.5EC", False, "not_allowed"), ("Regent", False, "not_allowed"),
                                   ("COC 85", True, "conditions"), ("Dipel DF", True, "conditions"),
                                   ("xyz", None, "unknown")):
        res = adv.check_substance(name)
        for lang in ("vi", "en"):
            out = check(name, lang=lang)
            assert set(out) == {"query", "allowed", "verdict", "reason", "conditions", "treatment_id"}
            assert (out["query"], out["allowed"], out["verdict"]) == (name, allowed, verdict), out
            assert out["reason"] == res.reason[lang] and out["treatment_id"] == res.treatment_id
            assert out["conditions"] == adv.substance_conditions(res, lang)
    assert "lambda-cyhalothrin" in check("Karate 2.5EC", lang="en")["reason"]
    assert check("COC 85", lang="en")["treatment_id"] == "copper_hydroxide"
    assert check("xyz", lang="fr")["reason"] == adv.check_substance("xyz").reason["vi"]  # the app's default language


@pytest.mark.parametrize("name, why", [("", "sub_api_empty"), (None, "sub_api_empty"),
                                       ("x" * 600, "sub_api_too_long")])
def test_api_refuses_an_empty_or_overlong_name_in_the_apps_refusal_style(svc, name, why):  # noqa: F811
    """As every API refusal (`_api_error`): the message in `lang`, the parameter refused, the code last in brackets."""
    import gradio as gr

    check = _api(svc)
    for lang in ("vi", "en"):
        with pytest.raises(gr.Error) as ei:
            check(name, lang=lang)
        msg = str(ei.value.message)
        assert msg.endswith("[bad_input]") and ": name (" in msg, msg
        assert msg.startswith(t("error", lang, msg=H.error_text("bad_input", lang)))
        assert t(why, lang, n=600, max=H.SUBSTANCE_MAX_CHARS) in msg and "x" * 20 not in msg


@pytest.mark.slow
def test_gradio_client_checks_a_purchase_list(tmp_path):
    """/check_substance served for real, called by name with gradio_client as a cooperative's script would."""
    pytest.importorskip("gradio_client")
    pytest.importorskip("onnx", reason="the toy model needs the onnx package (installed by .[train])")
    from gradio_client import Client

    from conftest import TOY_CROP_LABELS
    from leafscout.model.testing import toy_model
    from leafscout.webapp.services import Services
    from app_support import served

    services = Services(model_path=toy_model(tmp_path / "toy.onnx", labels=TOY_CROP_LABELS),
                        db=str(tmp_path / "log.sqlite"))
    services.warm_up()
    with served(services) as url:
        client = Client(url, verbose=False)
        purchases = ["Karate 2.5EC", "COC 85", "xyz", HOSTILE]
        got = {n: client.predict(name=n, lang="vi", api_name="/check_substance") for n in purchases}
        assert got["Karate 2.5EC"]["allowed"] is False and "lambda-cyhalothrin" in got["Karate 2.5EC"]["reason"]
        coc = got["COC 85"]
        assert coc["allowed"] is True and coc["verdict"] == "conditions" and coc["treatment_id"] == "copper_hydroxide"
        assert any("giới hạn đồng 7 năm" in line for line in coc["conditions"])
        assert got["xyz"]["allowed"] is None and got["xyz"]["verdict"] == "unknown"
        assert got[HOSTILE]["query"] == HOSTILE  # data for a script, returned as it was sent
        en = client.predict(name="Karate 2.5EC", lang="en", api_name="/check_substance")
        assert en["reason"].startswith("Karate = lambda-cyhalothrin: Not allowed")
        with pytest.raises(Exception, match=r"name \(no product name\) \[bad_input\]"):
            client.predict(name="  ", lang="en", api_name="/check_substance")
        assert services.loads == 1


# ------------------------------------------------------------------------------------------ on a phone

@pytest.mark.slow
def test_asking_on_a_phone_at_390x844(tmp_path_factory):
    """The Knowledge tab on a 390x844 phone: the box and button on the first screen, the answer under them without
    sideways scrolling, the hostile name shown as text (no image in the panel), no English on the Vietnamese page."""
    import time
    from pathlib import Path

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("no /usr/bin/chromium (apt-get install chromium); browser tests skipped")
    pytest.importorskip("playwright")
    pytest.importorskip("onnx", reason="the toy model needs the onnx package (installed by .[train])")
    from playwright.sync_api import sync_playwright

    from leafscout.model.testing import toy_model
    from leafscout.webapp.services import Services
    from app_support import served
    from test_app_e2e import CHROME_ARGS, PHONE, _leaks, _open, _scroll_width, _tab, _wait_text

    tmp = tmp_path_factory.mktemp("sub")
    services = Services(model_path=toy_model(tmp / "toy.onnx"), db=str(tmp / "log.sqlite"))
    services.warm_up()
    with served(services) as url:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), args=CHROME_ARGS)
            page = _open(browser, {"url": url})
            _tab(page, "Tra cứu")
            page.evaluate("window.scrollTo(0, 0)")
            box, btn = page.locator("#sub-box textarea, #sub-box input").first, page.locator("#sub-btn")
            for el in (box, btn):
                b = el.bounding_box()
                assert b and b["y"] + b["height"] <= PHONE["height"] and b["x"] + b["width"] <= PHONE["width"], b
            assert btn.bounding_box()["height"] >= 48  # a thumb's target
            assert page.get_attribute("#sub-box textarea, #sub-box input", "placeholder") == t("sub_placeholder", "vi")
            box.fill("Karate 2.5EC")
            btn.click()
            _wait_text(page, "#sub-md", "lambda-cyhalothrin")
            assert t("sub_verdict_not_allowed", "vi") in page.inner_text("#sub-md")
            assert _scroll_width(page) <= PHONE["width"], "sideways scroll with the answer"
            assert not _leaks(page), _leaks(page)
            box.fill("COC 85")
            box.press("Enter")
            _wait_text(page, "#sub-md", "giới hạn đồng 7 năm")
            assert _scroll_width(page) <= PHONE["width"], "sideways scroll with the conditions"
            box.fill(HOSTILE)
            btn.click()
            _wait_text(page, "#sub-md", HOSTILE)
            assert page.locator("#sub-md img").count() == 0
            page.click("#lang label:has-text('English')")
            _wait_text(page, "#sub-md", t("sub_verdict_unknown", "en"))
            assert page.locator("#sub-md img").count() == 0
            time.sleep(0.2)
            page.close()
            browser.close()

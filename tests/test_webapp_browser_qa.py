"""The app in Debian's Chromium at 390x844, as a farmer's phone shows it: things a screen reader and a phone user
meet that the handlers alone do not show. Same server and browser fixtures as tests/test_app_e2e.py."""
from __future__ import annotations

import time

import pytest

from test_app_e2e import _open, browser, server  # noqa: F401  (fixtures: one server, one browser per module)

pytestmark = pytest.mark.slow


def test_the_page_says_which_language_it_is_in(browser, server):  # noqa: F811
    """<html lang="en"> on the Vietnamese page: a phone's screen reader (TalkBack) read the Vietnamese text with an
    English voice. The page opens as vi and the language switch changes it."""
    page = _open(browser, server)
    assert page.evaluate("document.documentElement.lang") == "vi"
    page.click("#lang label:has-text('English')")
    page.wait_for_function("() => document.documentElement.lang === 'en'", timeout=10000)
    page.click("#lang label:has-text('Tiếng Việt')")
    page.wait_for_function("() => document.documentElement.lang === 'vi'", timeout=10000)
    time.sleep(0.2)
    page.close()


def test_the_photo_shown_with_the_answer_has_a_name_a_screen_reader_can_say(browser, server):  # noqa: F811
    """The photo above the answer (with its numbered boxes) was a button holding an image with alt="": a screen
    reader said only "button". It says what the picture is, in the page's language."""
    from test_app_e2e import LATE_BLIGHT, _upload_photo

    from leafscout.webapp.i18n import t

    page = _open(browser, server)
    _upload_photo(page, LATE_BLIGHT)
    page.wait_for_selector("#preview img")
    assert page.get_attribute("#preview img", "alt") == t("preview_alt", "vi")
    page.click("#lang label:has-text('English')")
    page.wait_for_function("(a) => { const i = document.querySelector('#preview img'); return i && i.alt === a; }",
                           arg=t("preview_alt", "en"), timeout=15000)
    page.close()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_login_page_speaks_the_apps_language(browser, server, lang):  # noqa: F811
    """`--auth` on the cooperative's LAN: the login page was Gradio's English ("Login", "username", "password",
    "Incorrect Credentials") with <html lang="en">, in front of a Vietnamese app. It is in the app's language
    (`--lang`), and a wrong password is said in it too; an English app's login page stays English."""
    from test_app_e2e import _free_port

    from leafscout.webapp import app

    demo = app.build_app(server["services"], lang=lang)
    port = _free_port()
    demo.launch(prevent_thread_lock=True, **app.launch_kwargs(port=port, auth=app.parse_auth("coop:s3cret"),
                                                              lang=lang))
    try:
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector("input[type=password]")
        want = {"vi": ["Đăng nhập", "Tên đăng nhập", "Mật khẩu"], "en": ["Log in", "User name", "Password"]}[lang]
        page.wait_for_function("(w) => w.every(x => document.body.innerText.includes(x))", arg=want, timeout=10000)
        assert page.evaluate("document.documentElement.lang") == lang
        if lang == "vi":
            assert "Login" not in page.inner_text("body") and "username" not in page.inner_text("body")
        page.fill("input[type=text]", "coop")
        page.fill("input[type=password]", "wrong")
        page.locator("button.primary").click()
        wrong = {"vi": "Sai tên đăng nhập hoặc mật khẩu", "en": "Wrong user name or password"}[lang]
        page.wait_for_function("(w) => document.body.innerText.includes(w)", arg=wrong, timeout=15000)
        page.close()
    finally:
        demo.close()


def test_the_answer_is_announced_when_it_arrives(browser, server):  # noqa: F811
    """The answer card replaced its content silently: a screen reader user pressed the photo button and heard
    nothing when the answer came (Gradio's own status line is hidden: it said raw English keys). The card is a
    polite live region, so the new answer is read out."""
    page = _open(browser, server)
    assert page.get_attribute("#card", "aria-live") == "polite"
    page.locator("button[role=tab]:has-text('Nhiều ảnh')").first.click()  # a tab's content is made when opened
    page.wait_for_selector("#batch-summary[aria-live=polite]", state="attached", timeout=10000)
    page.close()

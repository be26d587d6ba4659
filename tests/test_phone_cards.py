"""The phone's answer card says how far to trust the answer, as the web app's card does (webapp/handlers.py
render_card), in Debian's Chromium at 390x844, Vietnamese first:

- an ok answer below the service's CHECK_FIRST_BELOW (more likely wrong than right on field photos) is a question
  on the card itself, "Ớt cay: Lá ớt khỏe mạnh?", with "LeafScout chưa chắc về kết quả này (50%) ..." (the card read
  "Kết quả chẩn đoán: ..." like any sure answer; the doubt was only far down in the advice);
- a crop chosen that the photo clearly does not show shows no confidence figure (it read "Độ tin cậy: 100%" on the
  chosen crop's nearest label, a guess the farmer must not act on) and says "đừng xử lý theo kết quả này".
"""
from __future__ import annotations

import pytest

from conftest import FIXTURE_IMAGES, LATE_BLIGHT_PHOTO
from phone_support import app_url, chromium  # noqa: F401  (module fixtures)
from phone_support import open_app

pytestmark = pytest.mark.slow
CARD = "#card .card[data-status]"
NOT_SURE = FIXTURE_IMAGES / "chilli_leaf" / "healthy" / "IMG_3060_3.jpg"  # ok at about 50% (with its leaves)


@pytest.fixture
def phone(chromium, app_url):
    ctx, page = open_app(chromium, app_url, locale="vi-VN")
    yield page
    assert not page.errors, page.errors
    ctx.close()


def _pick(page, photo):
    page.evaluate("document.querySelector('#card').innerHTML = ''")
    page.set_input_files("#photo", str(photo))
    page.locator(CARD).wait_for(timeout=60_000)
    page.wait_for_function("() => window.leafscout.checking() === 0", timeout=120_000)
    return page.locator(CARD)


def test_a_not_sure_answer_is_a_question_on_the_card(phone):
    card = _pick(phone, NOT_SURE)
    r = phone.evaluate("window.leafscout.result")
    assert r["status"] == "ok" and 0.39 < r["confidence"] < 0.6, (r["status"], r["confidence"])
    pct = f"{int(r['confidence'] * 100 + 0.5)}%"
    assert card.get_attribute("data-check") == "first"
    title = phone.inner_text("#card .card[data-status] .card-title")
    assert title.endswith("?") and not title.startswith("Kết quả chẩn đoán"), title
    warn = phone.inner_text("#card .card[data-status] .warn")
    assert warn.startswith(f"LeafScout chưa chắc về kết quả này ({pct}).") , warn
    phone.click("#lang button[data-lang=en]")
    assert phone.inner_text("#card .card[data-status] .warn").startswith(f"LeafScout is not sure of this answer ({pct}).")
    # a sure answer is said as before
    card = _pick(phone, LATE_BLIGHT_PHOTO)
    assert card.get_attribute("data-check") is None
    assert phone.inner_text("#card .card[data-status] .card-title").startswith("Diagnosis")


def test_a_crop_the_photo_does_not_show_gives_no_confidence_to_act_on(phone):
    phone.click("#context summary")
    phone.select_option("#crop", "rice")
    card = _pick(phone, LATE_BLIGHT_PHOTO)  # a tomato leaf, "rice" chosen
    assert card.get_attribute("data-reason") == "crop_mismatch"
    text = card.inner_text()
    assert "Độ tin cậy" not in text and "%" not in text, text
    assert "đừng xử lý theo kết quả này" in text and "Lúa" in text, text
    assert "Tư vấn LeafScout" not in phone.locator("#advice").inner_text()  # no advice to act on (insects may show)
    phone.click("#lang button[data-lang=en]")
    text = phone.locator(CARD).inner_text()
    assert "Confidence" not in text and "%" not in text and "do not act on it" in text, text

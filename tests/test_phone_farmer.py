"""The phone app as a farmer in Son La uses it (Debian's Chromium at 390x844, the app served from the build of
phone/src, a fresh phone for each test): photos with no leaf, a new photo or crop while the last one is still
being checked, a language switch after saving and exporting, the field log's dates and times.
"""
from __future__ import annotations

import pytest

from conftest import FIXTURE_IMAGES, LATE_BLIGHT_PHOTO, REPO
from phone_support import browser, built_app, need_browser, need_build_tools, open_app, static_server

pytestmark = pytest.mark.slow
OOD_CAT = REPO / "tests/fixtures/ood/animal_cat_chelsea.jpg"  # no plant at all: not_a_leaf
FAR_AWAY = REPO / "tests/fixtures/plants_far_away/image_(94).jpg"  # plant colour, no single leaf: no_leaf_seen
RICE = sorted((REPO / "tests/fixtures/rice_pest/images").glob("*.jpg"))[0]  # needs the (lazy) insect models
MANGO = sorted((FIXTURE_IMAGES / "mangoleafbd" / "Healthy").glob("*.jpg"))  # plain backdrop: no detector pass
CARD = "#card .card[data-status]"


@pytest.fixture(scope="module")
def app_url():
    need_browser()
    need_build_tools()
    with static_server(built_app()) as url:
        yield url + "?threads=1"  # 1 WASM thread: steady on 2 busy cores


@pytest.fixture(scope="module")
def chromium():
    with browser() as b:
        yield b


@pytest.fixture
def phone(chromium, app_url):
    """A fresh phone (its own field log and settings) with the app open in Vietnamese, in Son La's time zone."""
    ctx, page = open_app(chromium, app_url, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    yield page
    assert not page.errors, page.errors
    ctx.close()


def _pick(page, photo, timeout=60_000):
    """Choose `photo` and wait for its answer card (the last card goes first, so an old one is never read)."""
    page.evaluate("document.querySelector('#card').innerHTML = ''")
    page.set_input_files("#photo", str(photo))
    page.locator(CARD).wait_for(timeout=timeout)
    return page.locator(CARD)


@pytest.mark.parametrize("photo, reason", [(OOD_CAT, "no_plant_colour"), (FAR_AWAY, "no_leaf_seen")],
                         ids=["cat", "far_away"])
def test_a_photo_with_no_leaf_says_retake_not_a_disease_heading(phone, photo, reason):
    """No leaf to answer from: the card says "no leaf found, take the photo again" with the tips, and nothing
    reads like a diagnosis (the knowledge base's no-leaf entry used to show as advice: "Cây trồng: Không có cây
    trồng (nền ảnh) / Vấn đề: Ảnh không có lá / Loại: ..."), in both languages."""
    card = _pick(phone, photo)
    assert card.get_attribute("data-reason") == reason
    assert phone.locator("#card .card-title").first.inner_text() == "Không thấy lá"
    text = card.inner_text()
    assert "Hãy chụp lại ảnh" in text and "20-30 cm" in text, text
    assert "Máy có thể sai" not in text and "Độ tin cậy" not in text, text  # no diagnosis to doubt
    advice = phone.locator("#advice").inner_text()
    for heading in ("Tư vấn LeafScout", "Cây trồng", "Vấn đề", "Không có cây trồng", "Ghi nhớ"):
        assert heading not in advice, advice[:300]
    phone.click("#lang button[data-lang=en]")
    assert phone.locator("#card .card-title").first.inner_text() == "No leaf found"
    assert "Please take the photo again" in phone.locator(CARD).inner_text()
    assert "LeafScout advice" not in phone.locator("#advice").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

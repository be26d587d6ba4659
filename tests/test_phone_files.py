"""Files a farmer can pick that are no usable photo, in Debian's Chromium at 390x844: a file over the size limit
(a video, a huge scan) is refused from its size, without reading it into the phone's memory first (it was read
whole: 200 MB and more in a cheap phone's browser before the "too large" answer, if the page lived); a file the
phone cannot read (a cloud photo not downloaded, a file deleted meanwhile) says so (the card said "Đang khám lá…"
for ever).
"""
from __future__ import annotations

import pytest

from conftest import LATE_BLIGHT_PHOTO
from phone_support import app_url, chromium  # noqa: F401  (module fixtures)
from phone_support import PHONE, browser

pytestmark = pytest.mark.slow
CARD = "#card .card[data-status]"
# every read of a picked file's bytes, with its size; a file named cloud*.jpg cannot be read
JS_WATCH_READS = """
window.__reads = [];
const read = Blob.prototype.arrayBuffer;
File.prototype.arrayBuffer = Blob.prototype.arrayBuffer = function () {
  window.__reads.push(this.size);
  if (this.name && this.name.startsWith('cloud')) return Promise.reject(new DOMException('The requested file could not be read', 'NotReadableError'));
  return read.call(this);
};
"""


@pytest.fixture
def phone(chromium, app_url):
    ctx = chromium.new_context(viewport=PHONE, locale="vi-VN")
    ctx.add_init_script(JS_WATCH_READS)
    page = ctx.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(app_url)
    page.evaluate("window.leafscout.ready")
    yield page
    assert not page.errors, page.errors
    ctx.close()


def test_a_file_over_the_size_limit_is_refused_without_reading_it(phone, tmp_path):
    big = tmp_path / "video.jpg"
    with open(big, "wb") as f:
        f.truncate(201 * 1048576)  # sparse: 201 MB on the phone, nothing on this disk
    phone.set_input_files("#photo", str(LATE_BLIGHT_PHOTO))
    phone.locator(CARD).wait_for(timeout=60_000)
    phone.set_input_files("#photo", str(big))
    card = phone.locator("#card .card.error")
    card.wait_for(timeout=60_000)
    assert card.get_attribute("data-error") == "too_large"
    assert "Tệp hoặc ảnh quá lớn." in card.inner_text() and "Hãy chụp lại ảnh" in card.inner_text()
    assert max(phone.evaluate("window.__reads")) < 200 * 1048576  # the big file was never read
    assert phone.locator("#save").is_hidden() and phone.locator("#preview").is_hidden()


def test_a_file_the_phone_cannot_read_says_so(phone, tmp_path):
    cloud = tmp_path / "cloud-photo.jpg"
    cloud.write_bytes(LATE_BLIGHT_PHOTO.read_bytes())
    phone.set_input_files("#photo", str(cloud))
    card = phone.locator("#card .card.error")
    card.wait_for(timeout=30_000)
    assert "Không đọc được tệp." in card.inner_text(), card.inner_text()
    assert phone.locator("#save").is_hidden()
    phone.set_input_files("#photo", str(LATE_BLIGHT_PHOTO))  # the next photo is answered as usual
    phone.locator(CARD).wait_for(timeout=60_000)
    assert phone.locator(CARD).get_attribute("data-label") == "tomato.late_blight"

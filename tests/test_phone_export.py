"""The phone's "Xuất sổ" (export the log) in Debian's Chromium at 390x844: a record is marked "đã xuất"
(exported) only once its file has gone, never when the file is merely offered. The share sheet cancelled, a
download the farmer never sent on, the page reloaded before saying "File sent": the records stay "chưa xuất"
and are in the next export; a record saved meanwhile is not marked by an older file; "export all again" makes a
file of every record (the officer's import adds nothing twice).

The Web Share API is faked with the contract browsers give it (navigator.share resolves once the file was
handed to an app, rejects AbortError when the farmer cancels, NotAllowedError when the tap's permission ran out)
and Android Chrome's list of the file types it shares (no .json: the file goes as the same JSON in a .json.txt of
type text/plain, which `leafscout log import` reads as it comes); Chromium on Linux has no share sheet for files,
so the plain-download path is the real one.
"""
from __future__ import annotations

import json

import pytest

from conftest import LATE_BLIGHT_PHOTO
from phone_support import app_url, chromium  # noqa: F401  (module fixtures)
from phone_support import PHONE, browser

pytestmark = pytest.mark.slow
CARD = "#card .card[data-status]"

NO_SHARE = "delete Navigator.prototype.share; delete Navigator.prototype.canShare;"
# Android Chrome's share sheet: it takes a file only when its name ends in one of these extensions AND its type is
# one of these (Chromium components/browser_ui/webshare/android/java/src/org/chromium/components/browser_ui/
# webshare/ShareServiceImpl.java, PERMITTED_EXTENSIONS / PERMITTED_MIME_TYPES); canShare says false for any other,
# and share() refuses it with NotAllowedError "Permission denied" (what Chrome did before canShare checked types).
# window.__shareMode: 'abort' (the farmer cancels), 'notallowed' once (the tap's permission ran out while the file
# was made), 'ok' (the file went to an app); every file the sheet took is kept in window.__shares
FAKE_SHARE = """
window.__shares = []; window.__shareMode = 'abort';
const EXT = new Set(['avif', 'bmp', 'css', 'csv', 'ehtml', 'flac', 'gif', 'htm', 'html', 'ico', 'jfif', 'jpeg', 'jpg',
  'm4a', 'm4v', 'mp3', 'mp4', 'mpeg', 'mpg', 'oga', 'ogg', 'ogm', 'ogv', 'opus', 'pdf', 'pjp', 'pjpeg', 'png', 'shtm',
  'shtml', 'svg', 'svgz', 'text', 'tif', 'tiff', 'txt', 'wav', 'weba', 'webm', 'webp', 'xbm']);
const TYPES = new Set(['audio/flac', 'application/pdf', 'audio/mp3', 'audio/mpeg', 'audio/ogg', 'audio/wav', 'audio/webm',
  'audio/x-m4a', 'image/avif', 'image/bmp', 'image/gif', 'image/jpeg', 'image/png', 'image/svg+xml', 'image/tiff',
  'image/webp', 'image/x-icon', 'image/x-ms-bmp', 'image/x-xbitmap', 'text/comma-separated-values', 'text/css',
  'text/csv', 'text/html', 'text/plain', 'video/mp4', 'video/mpeg', 'video/ogg', 'video/webm']);
const allowed = (f) => f.name.indexOf('.') > 0 && EXT.has(f.name.split('.').pop()) && TYPES.has(f.type);
window.__refused = [];
Navigator.prototype.canShare = function (d) {
  const ok = !!(d && d.files && d.files.length && d.files.every(allowed));
  if (!ok && d && d.files) window.__refused.push(...d.files.map((f) => [f.name, f.type]));
  return ok;
};
Navigator.prototype.share = async function (d) {
  const f = d.files[0];
  if (!d.files.every(allowed)) throw new DOMException('Permission denied', 'NotAllowedError');
  window.__shares.push({name: f.name, type: f.type, text: await f.text()});
  if (window.__shareMode === 'abort') throw new DOMException('Share canceled', 'AbortError');
  if (window.__shareMode === 'notallowed') { window.__shareMode = 'ok'; throw new DOMException('Must be handling a user gesture to perform a share request.', 'NotAllowedError'); }
};
"""


def _open(chromium, url, script):
    ctx = chromium.new_context(viewport=PHONE, accept_downloads=True, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    ctx.add_init_script(script)
    page = ctx.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url)
    page.evaluate("window.leafscout.ready")
    return ctx, page


@pytest.fixture
def downloads_only(chromium, app_url):
    """A phone whose browser has no share sheet for files: the export is a download."""
    ctx, page = _open(chromium, app_url, NO_SHARE)
    yield page
    assert not page.errors, page.errors
    ctx.close()


@pytest.fixture
def sharing(chromium, app_url):
    """A phone with a share sheet (Android Chrome: Zalo, Bluetooth, ...)."""
    ctx, page = _open(chromium, app_url, FAKE_SHARE)
    yield page
    assert not page.errors, page.errors
    ctx.close()


def _save_photo(page, plot="Đồi A"):
    page.evaluate("document.querySelector('#card').innerHTML = ''")
    page.set_input_files("#photo", str(LATE_BLIGHT_PHOTO))
    page.locator(CARD).wait_for(timeout=60_000)
    page.fill("#plot", plot)
    n = page.locator("#records li[data-id]").count()
    page.click("#save-btn")
    page.locator(f"#records li[data-id] >> nth={n}").wait_for()


def _exported(page):
    """{record id: exported_at} as the phone keeps it."""
    return dict(page.evaluate("window.leafscout.db.all().then(r => r.map(x => [x.id, x.exported_at]))"))


def _ids_in(text):
    body = json.loads(text)
    assert body["format"] == "leafscout-phone-log"
    return {r["id"] for r in body["records"]}


def _download(page, button="#export-btn"):
    with page.expect_download() as dl:
        page.click(button)
    return _ids_in(open(dl.value.path(), encoding="utf-8").read())


def test_a_download_is_not_exported_until_the_farmer_says_the_file_was_sent(downloads_only):
    """The file downloaded: the record stays "chưa xuất" (it was marked "đã xuất" as soon as the link was
    clicked, sent or not) and the app asks to press "Đã gửi tệp" once the file is sent on. Reloaded before that:
    still not exported, and the next export holds it. Confirmed: "đã xuất", the next export says there is nothing
    new and "Xuất lại tất cả bản ghi" makes a file with it again."""
    page = downloads_only
    _save_photo(page)
    (rid,) = _exported(page)
    assert _download(page) == {rid}
    page.locator("#offer").wait_for()
    msg = page.inner_text("#offer-msg")
    assert "(1 bản ghi)" in msg and "Đã gửi tệp" in msg and "chưa xuất" in msg, msg
    assert _exported(page) == {rid: None}
    assert "chưa xuất" in page.inner_text("#records") and "đã xuất" not in page.inner_text("#records")

    page.reload()  # the farmer went to Zalo, the app was closed: nothing said the file was sent
    page.evaluate("window.leafscout.ready")
    page.locator("#records li[data-id]").first.wait_for()
    assert _exported(page) == {rid: None} and page.locator("#offer").is_hidden()
    assert _download(page) == {rid}  # in the next export

    page.click("#offer-done")
    page.wait_for_function("document.querySelector('#records').innerText.includes('đã xuất')")
    assert _exported(page)[rid] is not None
    assert page.inner_text("#export-msg").startswith("Đã đánh dấu 1 bản ghi là đã xuất")
    assert page.locator("#offer").is_hidden()

    page.click("#export-btn")  # nothing new: no empty file, and the way to send them all again
    page.wait_for_function("document.querySelector('#export-msg').innerText.startsWith('Không có bản ghi mới')")
    assert page.locator("#export-all-btn").is_visible()
    assert _download(page, "#export-all-btn") == {rid}
    page.click("#lang button[data-lang=en]")
    assert "(1 record)" in page.inner_text("#offer-msg") and page.inner_text("#offer-done") == "File sent: mark as exported"


def test_not_sent_keeps_the_records_for_the_next_export(downloads_only):
    """The download offered, then "Chưa gửi được" (the file never arrived): the record stays "chưa xuất"."""
    page = downloads_only
    _save_photo(page)
    (rid,) = _exported(page)
    assert _download(page) == {rid}
    page.click("#offer-drop")
    assert page.locator("#offer").is_hidden()
    assert "vẫn “chưa xuất”" in page.inner_text("#export-msg")
    assert _exported(page) == {rid: None}
    assert _download(page) == {rid}


def test_a_record_saved_while_the_file_waits_is_not_marked_by_it(downloads_only):
    """A photo saved after the file was made is not in that file: "Đã gửi tệp" marks the file's records only
    (the old export marked what it had read, but a later mark-all would drop the new one from every export)."""
    page = downloads_only
    _save_photo(page)
    (first,) = _exported(page)
    assert _download(page) == {first}
    _save_photo(page, "Đồi B")
    second = next(i for i in _exported(page) if i != first)
    page.click("#offer-done")
    page.wait_for_function("document.querySelector('#records').innerText.includes('đã xuất')")
    assert _exported(page)[first] is not None and _exported(page)[second] is None
    assert _download(page) == {second}  # the next export: the new record only


def test_a_cancelled_share_marks_nothing_and_a_finished_one_marks_the_file(sharing):
    """The share sheet opened and cancelled: no record marked (they all were), and no download either; the
    records go in the next share. A share that finished marks them "đã xuất" with no extra question."""
    page = sharing
    _save_photo(page)
    (rid,) = _exported(page)
    page.click("#export-btn")
    page.wait_for_function("document.querySelector('#export-msg').innerText.startsWith('Chưa gửi tệp')")
    assert _exported(page) == {rid: None}
    assert "chưa xuất" in page.inner_text("#records")
    shares = page.evaluate("window.__shares")
    assert len(shares) == 1 and _ids_in(shares[0]["text"]) == {rid}
    assert shares[0]["name"].startswith("leafscout-log-") and shares[0]["name"].endswith(".json.txt")

    page.evaluate("window.__shareMode = 'ok'")
    page.click("#export-btn")
    page.wait_for_function("document.querySelector('#records').innerText.includes('đã xuất')")
    assert page.inner_text("#export-msg").startswith("Đã gửi tệp leafscout-log-")
    assert _exported(page)[rid] is not None and page.locator("#offer").is_hidden()
    assert _ids_in(page.evaluate("window.__shares")[1]["text"]) == {rid}


def test_a_share_the_browser_refuses_after_a_slow_export_asks_for_one_more_tap(sharing):
    """A big log takes seconds to pack and the tap's permission runs out (NotAllowedError): nothing is marked
    and a "Gửi tệp" button shares the same file with a fresh tap."""
    page = sharing
    _save_photo(page)
    (rid,) = _exported(page)
    page.evaluate("window.__shareMode = 'notallowed'")
    page.click("#export-btn")
    page.locator("#offer").wait_for()
    assert _exported(page) == {rid: None}
    assert page.locator("#offer-done").is_hidden() and page.inner_text("#offer-send") == "Gửi tệp"
    page.click("#offer-send")
    page.wait_for_function("document.querySelector('#records').innerText.includes('đã xuất')")
    assert _exported(page)[rid] is not None


def test_android_chrome_shares_the_log_and_the_officer_imports_the_file_it_gets(sharing, tmp_path, capsys):
    """Android Chrome's share sheet takes no .json file (application/json is not on its list): the export went to
    a download only. The farmer now gets the share sheet: the file it takes is the same JSON as text/plain, named
    leafscout-log-<time>.json.txt (never a .json offered and refused), the message names that file in the officer's
    import command, and `leafscout log import` imports the file as it arrived (Zalo keeps its name), the photo
    whole."""
    import base64

    from leafscout.cli import main
    from leafscout.fieldlog import FieldLog

    page = sharing
    _save_photo(page)
    (rid,) = _exported(page)
    page.evaluate("window.__shareMode = 'ok'")
    downloads = []
    page.on("download", lambda d: downloads.append(d))
    page.click("#export-btn")
    page.wait_for_function("document.querySelector('#records').innerText.includes('đã xuất')")
    assert _exported(page)[rid] is not None and not downloads  # the share sheet had it: no download
    assert page.evaluate("window.__refused") == []  # nothing offered that Android Chrome refuses
    (shared,) = page.evaluate("window.__shares")
    name = shared["name"]
    assert name.startswith("leafscout-log-") and name.endswith(".json.txt") and shared["type"] == "text/plain"
    msg = page.inner_text("#export-msg")
    assert msg.startswith(f"Đã gửi tệp {name} (1 bản ghi)") and f"leafscout log import {name}" in msg, msg

    received = tmp_path / name  # the officer saves what Zalo brought
    received.write_text(shared["text"], "utf-8")
    db = str(tmp_path / "log.sqlite")
    with FieldLog.open(db) as log:
        log.add_plot("Đồi A", crop="tomato", area_ha=0.5)
    code = main(["log", "import", str(received), "--db", db])
    out = capsys.readouterr()
    assert code == 0 and "imported 1 record(s)" in out.out, out.out + out.err
    body = json.loads(shared["text"])
    assert base64.b64decode(body["records"][0]["photo_base64"]) == LATE_BLIGHT_PHOTO.read_bytes()
    with FieldLog.open(db) as log:
        assert len(log.history("Đồi A").observations) == 1


# a record as the phone kept it before photos were Blobs (field log version 1): the photo's bytes in the record
JS_PUT_OLD_RECORD = """async (bytes) => {
  const db = await new Promise((ok, no) => { const q = indexedDB.open('leafscout', 1);
    q.onupgradeneeded = () => q.result.createObjectStore('records', {keyPath: 'id'});
    q.onsuccess = () => ok(q.result); q.onerror = () => no(q.error); });
  await new Promise((ok, no) => {
    const t = db.transaction('records', 'readwrite');
    t.objectStore('records').put({id: 'old-1', plot: 'Đồi C', observer: null, observed_at: '2026-12-01T01:00:00.000Z',
      created_at: '2026-12-01T01:00:00.000Z', exported_at: null, label: 'tomato.late_blight', status: 'ok', confidence: 0.9,
      model_version: '3.1.0', photo: new Uint8Array(bytes).buffer, photo_type: 'image/jpeg', photo_name: 'old.jpg'});
    t.oncomplete = ok; t.onerror = () => no(t.error);
  });
  db.close();
}"""


def test_photos_are_kept_on_disk_not_read_with_the_log_and_every_photo_exports_whole(chromium, app_url):
    """A saved photo is kept as a Blob (the browser keeps its bytes on disk: listing the log or making a file
    does not hold every photo in the page; as bytes in the record, 150 photos of 3 MB put 450 MB in the page
    each time the log was listed, more than a cheap phone's browser allows: the app was killed as it opened).
    A phone that saved photos with the earlier app has them turned into Blobs when the app opens. The export
    file (built a record at a time) holds each photo whole."""
    import base64

    old = LATE_BLIGHT_PHOTO.read_bytes()[::-1]  # any bytes: the file carries them as they are
    ctx = chromium.new_context(viewport=PHONE, accept_downloads=True, locale="vi-VN")
    ctx.add_init_script(NO_SHARE)
    page = ctx.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(app_url.replace("?threads=1", "build.json"))  # the app's site, before the app itself ever opened
    page.evaluate(JS_PUT_OLD_RECORD, list(old))
    page.goto(app_url)
    page.evaluate("window.leafscout.ready")
    page.locator("#records li[data-id]").first.wait_for()
    _save_photo(page)
    kinds = page.evaluate("window.leafscout.db.all().then(r => r.map(x => [x.id, x.photo instanceof Blob]))")
    assert len(kinds) == 2 and all(blob for _, blob in kinds), kinds
    with page.expect_download() as dl:
        page.click("#export-btn")
    body = json.loads(open(dl.value.path(), encoding="utf-8").read())
    assert body["format"] == "leafscout-phone-log" and body["version"] == 1 and body["exported_at"].endswith("Z")
    photos = {r["id"]: base64.b64decode(r["photo_base64"]) for r in body["records"]}
    assert photos.pop("old-1") == old
    assert list(photos.values()) == [LATE_BLIGHT_PHOTO.read_bytes()]
    assert not page.errors, page.errors
    ctx.close()


# the browser's answer to "keep this site's storage": counted, and granted
JS_COUNT_PERSIST = """
window.__persist = 0;
StorageManager.prototype.persisted = async function () { return window.__persist > 0; };
StorageManager.prototype.persist = async function () { window.__persist++; return true; };
"""


def test_saving_asks_the_browser_to_keep_the_records_when_the_phone_runs_short_of_space(chromium, app_url):
    """Records not exported yet live only in the browser's storage, which a phone short of space may clear for a
    site that did not ask to keep it ("best effort" storage: everything of the site goes, records included, and
    nothing says so). The first save asks navigator.storage.persist() (it never did); later saves do not ask again."""
    ctx, page = _open(chromium, app_url, NO_SHARE + JS_COUNT_PERSIST)
    _save_photo(page)
    page.wait_for_function("window.__persist > 0")
    _save_photo(page, "Đồi B")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__persist") == 1
    assert not page.errors, page.errors
    ctx.close()


def test_a_phone_too_full_to_convert_its_old_photos_keeps_listing_and_exporting_them(chromium, app_url):
    """Turning version 1's photos into Blobs writes each one again; on a phone with no space left that fails.
    The log then stays as it was, and its records are still listed, saved to and exported."""
    import base64

    old = LATE_BLIGHT_PHOTO.read_bytes()[::-1]
    ctx = chromium.new_context(viewport=PHONE, accept_downloads=True, locale="vi-VN")
    ctx.add_init_script(NO_SHARE + """
      IDBCursor.prototype.update = function () { throw new DOMException('The quota has been exceeded.', 'QuotaExceededError'); };""")
    page = ctx.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(app_url.replace("?threads=1", "build.json"))
    page.evaluate(JS_PUT_OLD_RECORD, list(old))
    page.goto(app_url)
    page.evaluate("window.leafscout.ready")
    page.locator("#records li[data-id]").first.wait_for()
    _save_photo(page)
    with page.expect_download() as dl:
        page.click("#export-btn")
    body = json.loads(open(dl.value.path(), encoding="utf-8").read())
    photos = {r["id"]: base64.b64decode(r["photo_base64"]) for r in body["records"]}
    assert photos.pop("old-1") == old and list(photos.values()) == [LATE_BLIGHT_PHOTO.read_bytes()]
    assert not page.errors, page.errors
    ctx.close()

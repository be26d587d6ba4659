"""Officers confirm and correct in the app (issue 20): the Diagnose tab after Save, the Log tab for a plot's
observations, and /confirm and /correct for scripts. Who is the logged-in officer (gr.Request.username), else the
typed name; the field log keeps who, when, the photo's sha256 and the model version. End to end: a correction made
in the running app reaches `leafscout corrections export DIR` and a tiny retraining run with `--extra-data DIR`.

The toy model (model.testing) says bean.healthy for the committed healthy-bean photo below.
"""
from __future__ import annotations

import csv
import hashlib
import html
import re
import logging
import socket

import pytest

from leafscout.webapp import handlers as H
from leafscout.webapp import logbook as LB
from leafscout.webapp.i18n import t
from leafscout.webapp.services import Services

from conftest import FIXTURE_IMAGES
from test_app_handlers import english_leaks, services, toy  # noqa: F401  the same toy model and app services

BEAN = FIXTURE_IMAGES / "ibean_uganda" / "healthy" / "healthy_val.13.jpg"  # toy model: bean.healthy, ok
HOA = "Lò Thị Hoa"
PW = "mật-khẩu-dài-1"


def _plain(msg: str) -> str:
    """What a Markdown component shows: backslash escapes and HTML entities undone."""
    return html.unescape(re.sub(r"\\(.)", r"\1", msg))


def _saved(services, plot="Lô A", by=None) -> int:
    st, _ = H.diagnose_upload(services, BEAN, check_path=False)
    assert (st["status"], st["label"]) == ("ok", "bean.healthy")
    msg, obs_id = LB.save_for_review(services, st, None, plot, "vi", confirmed_by=by, new_area=0.5)
    assert t("saved", "vi", plot=plot) in _plain(msg) and obs_id
    return obs_id


def _obs(services, obs_id, plot="Lô A"):
    h = services.log.history(plot)
    return next(o for o in h.observations if o.id == obs_id), h.corrections.get(obs_id, [])


# ------------------------------------------------------------------------------------- handlers

def test_a_saved_diagnosis_corrected_keeps_who_when_hash_and_model_version(services):
    obs_id = _saved(services)
    msg = _plain(LB.correct(services, obs_id, "bean.rust", "vi", username=HOA))
    assert msg.startswith(f"Đã sửa quan sát #{obs_id}") and HOA in msg and "Bệnh gỉ sắt đậu" in msg, msg
    assert not english_leaks(msg)
    obs, (c,) = _obs(services, obs_id)
    assert (c.label, c.previous_label, c.by) == ("bean.rust", "bean.healthy", HOA) and c.at is not None
    assert obs.label == "bean.healthy"  # the model's answer stays as it was
    sha = hashlib.sha256(services.log.photo_path(obs).read_bytes()).hexdigest()
    assert c.photo_sha256 == obs.photo_sha256 == sha == hashlib.sha256(BEAN.read_bytes()).hexdigest()
    assert c.model_version == obs.model_version == services.predictor.version == "0.0.0-toy"
    # the Log tab shows who, when, the model version and the photo's hash
    hist = _plain(LB.history_md(services, "Lô A", "vi"))
    assert t("log_corrected", "vi", name="Bệnh gỉ sắt đậu (Đậu đỗ)", by=HOA, when=f"{c.at:%Y-%m-%d %H:%M} UTC") in hist
    assert t("log_model", "vi", v="0.0.0-toy") in hist and t("log_photo", "vi", sha=sha[:12]) in hist
    detail = _plain(LB.review_md(services, obs_id, "vi"))
    assert sha in detail and "0.0.0-toy" in detail and HOA in detail and not english_leaks(detail)
    (choice,) = LB.review_choices(services, "Lô A", "vi")
    assert choice[1] == obs_id and "Bệnh gỉ sắt đậu" in choice[0] and "0.0.0-toy" in choice[0]
    # corrected again: the latest is the label, the first stays; the same label again is refused
    assert "bean.healthy" not in _plain(LB.correct(services, obs_id, "bean.healthy", "en", username="Lò Văn Nam"))
    assert [x.label for x in services.log.corrections(obs_id)] == ["bean.rust", "bean.healthy"]
    assert _plain(LB.correct(services, obs_id, "bean.healthy", "vi", username=HOA)) == \
        t("review_same", "vi", id=obs_id)
    # a corrected record's model answer can no longer be confirmed
    assert _plain(LB.confirm(services, obs_id, "vi", username=HOA)) == t("review_was_corrected", "vi", id=obs_id)
    assert _obs(services, obs_id)[0].confirmed_by is None


def test_confirm_keeps_who_and_when_and_twice_is_refused(services):
    obs_id = _saved(services)
    assert _obs(services, obs_id)[0].confirmed_by is None
    msg = _plain(LB.confirm(services, obs_id, "en", typed="  Lò Văn Nam "))  # no login: the typed name
    obs, _ = _obs(services, obs_id)
    assert (obs.confirmed_by, obs.label) == ("Lò Văn Nam", "bean.healthy") and obs.confirmed_at is not None
    assert msg == t("review_confirmed", "en", id=obs_id, name="Healthy bean leaf (Bean)", by="Lò Văn Nam",
                    when=f"{obs.confirmed_at:%Y-%m-%d %H:%M} UTC"), msg
    again = _plain(LB.confirm(services, obs_id, "vi", username=HOA))
    assert again == t("review_already", "vi", id=obs_id, by="Lò Văn Nam", when=f"{obs.confirmed_at:%Y-%m-%d %H:%M} UTC")
    assert _obs(services, obs_id)[0].confirmed_by == "Lò Văn Nam"
    hist = _plain(LB.history_md(services, "Lô A", "vi"))
    assert t("log_confirmed_by", "vi", by="Lò Văn Nam") + f" ({obs.confirmed_at:%Y-%m-%d %H:%M} UTC)" in hist
    # confirmed records are what `corrections export --confirmed` adds
    (item,) = services.log.labelled_photos(confirmed=True)
    assert (item["source"], item["by"], item["label"]) == ("confirmation", "Lò Văn Nam", "bean.healthy")


def test_nobody_to_name_or_a_bad_pick_is_refused_in_the_pages_language(services):
    obs_id = _saved(services)
    for lang in ("vi", "en"):
        for who in ({}, {"typed": "   "}, {"username": "", "typed": None}):
            assert _plain(LB.confirm(services, obs_id, lang, **who)) == t("review_need_by", lang)
            assert _plain(LB.correct(services, obs_id, "bean.rust", lang, **who)) == t("review_need_by", lang)
        assert _plain(LB.correct(services, obs_id, "", lang, username=HOA)) == t("review_pick_label", lang)
        assert _plain(LB.correct(services, obs_id, "tomato.late_blight", lang, username=HOA)) == \
            t("review_pick_label", lang)  # not a label of the model in use
        for bad in (None, ""):
            assert _plain(LB.confirm(services, bad, lang, username=HOA)) == t("review_pick", lang)
        for bad in ("abc", 0, 999):  # an id given that is no record: said so, not "save or choose one first"
            assert _plain(LB.confirm(services, bad, lang, username=HOA)) == t("review_no_such", lang, id=bad)
    # the logged-in name wins over a typed one; a typed name the log cannot store gets the translated reason
    msg = _plain(LB.correct(services, obs_id, "bean.rust", "vi", username=HOA, typed="x\x00"))
    assert msg.startswith(f"Đã sửa quan sát #{obs_id}"), msg
    assert _plain(LB.correct(services, obs_id, "bean.healthy", "vi", typed="Hoa\x00")) == \
        t("log_error", "vi", msg=t("fl_bad_text", "vi"))
    assert [c.by for c in services.log.corrections(obs_id)] == [HOA]
    assert not english_leaks(_plain(LB.confirm(services, obs_id, "vi")))


def test_who_is_the_logged_in_officer(tmp_path):
    from leafscout.officers import Officers, add
    f = tmp_path / "o.json"
    add(f, HOA, PW, iterations=1000)
    officers = Officers(f)
    who = lambda **kw: LB.reviewer(officers=officers, shared_user="coop", **kw)  # noqa: E731
    assert who(username=HOA, typed="someone else") == HOA
    assert who(username="coop", typed="Lò Văn Nam") == "Lò Văn Nam"  # the shared --auth account: the typed name
    assert who(username="coop") == "coop"
    assert LB.reviewer(typed=" Nam ") == "Nam" and LB.reviewer(username="u") == "u"
    from leafscout.officers import remove
    remove(f, HOA)  # removed while their page is open: refused
    with pytest.raises(LB.Refused) as ei:
        who(username=HOA)
    assert ei.value.key == "review_not_officer"
    with pytest.raises(LB.Refused) as ei:
        LB.reviewer(typed=" ")
    assert ei.value.key == "review_need_by"


def test_the_label_picker_lists_the_models_labels_with_their_names(services):
    vi = dict((v, k) for k, v in LB.label_choices(services, "vi"))
    en = dict((v, k) for k, v in LB.label_choices(services, "en"))
    assert set(vi) == set(en) == set(services.predictor.labels)
    assert vi["bean.rust"].startswith("Bệnh gỉ sắt đậu") and en["bean.rust"].startswith("Bean rust")
    assert not english_leaks(" ".join(vi.values()))


def test_the_app_wires_the_logged_in_name_into_the_log_tab_and_the_diagnose_tab(services):
    """The buttons' functions as the app wires them: a gr.Request's username is who."""
    from types import SimpleNamespace

    from leafscout.webapp import app

    demo = app.build_app(services)
    fns = {f.fn.__qualname__: f.fn for f in demo.fns.values() if getattr(f, "fn", None)}
    obs_id = _saved(services)
    officer = SimpleNamespace(username=HOA)
    msg, hist, choices, detail = fns["wire_log_review.<locals>.do_correct"](
        "Lô A", obs_id, "bean.rust", "typed", "", "vi", officer)
    assert HOA in _plain(msg) and "Bệnh gỉ sắt đậu" in _plain(hist) and HOA in _plain(detail)
    assert services.log.corrections(obs_id)[-1].by == HOA
    assert choices["choices"][0][1] == obs_id and choices["value"] == obs_id
    # no login: the Log tab's typed name, else the Diagnose tab's "confirmed by" name; nobody: refused
    nobody = SimpleNamespace(username=None)
    second = _saved(services)
    msg = fns["wire_log_review.<locals>.do_confirm"]("Lô A", second, "", "", "vi", nobody)[0]
    assert _plain(msg) == t("review_need_by", "vi")
    msg = fns["wire_log_review.<locals>.do_confirm"]("Lô A", second, "", "Lò Văn Nam", "vi", nobody)[0]
    assert _obs(services, second)[0].confirmed_by == "Lò Văn Nam"
    third = _saved(services)
    msg = fns["wire_review_box.<locals>.do_correct"](third, "bean.rust", "Lò Văn Nam", "en", officer)
    assert services.log.corrections(third)[-1].by == HOA and "corrected" in _plain(msg)
    # Save gives the Diagnose tab the new record's id and shows Confirm / Correct
    st, _ = H.diagnose_upload(services, BEAN, check_path=False)
    out = fns["wire_diagnose_tab.<locals>.do_save"](st, "Lô A", "", "vi", None, None, "")
    assert out[6] == max(o.id for o in services.log.history("Lô A").observations)
    assert out[7]["visible"] is True and out[8]["value"] == "bean.healthy"


# ------------------------------------------------------------------ the running app, export, retraining

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_a_correction_in_the_app_reaches_the_export_and_a_retraining_run(toy, tiny_datasets, tmp_path,  # noqa: F811
                                                                          monkeypatch, caplog):
    pytest.importorskip("gradio_client")
    torch = pytest.importorskip("torch")  # noqa: F841
    pytest.importorskip("albumentations")
    from gradio_client import Client

    from leafscout.cli import main as cli
    from leafscout.officers import Officers
    from leafscout.webapp import app

    db = str(tmp_path / "log" / "fieldlog.sqlite")
    monkeypatch.setenv("LEAFSCOUT_DB", db)
    monkeypatch.delenv("LEAFSCOUT_OFFICERS", raising=False)
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO(PW + "\n"))
    assert cli(["officers", "add", HOA, "--password-stdin"]) == 0  # beside the field log: log/officers.json
    officers = app.load_officers(str(tmp_path / "log" / "officers.json"))
    assert isinstance(officers, Officers)

    services = Services(model_path=toy, db=db)
    services.warm_up()
    demo = app.build_app(services, officers=officers)
    demo.queue(default_concurrency_limit=2)
    port = _free_port()
    demo.launch(prevent_thread_lock=True, **app.launch_kwargs(port=port, officers=officers))
    url = f"http://127.0.0.1:{port}/"
    try:
        with pytest.raises(Exception):
            Client(url, auth=(HOA, PW + "x"), verbose=False)  # a wrong password gets nothing
        client = Client(url, auth=(HOA, PW), verbose=False)
        # a diagnosis saved to the log as the Diagnose tab saves it, unconfirmed
        corrected, confirmed = _saved(services, "Doi A"), _saved(services, "Doi A")
        # the officer corrects one and confirms the other in the app; `by` is ignored: the login says who
        rec = client.predict(observation_id=corrected, label="bean.rust", by="someone else", lang="vi",
                             api_name="/correct")
        assert rec["label"] == "bean.rust" and rec["model_label"] == "bean.healthy"
        (c,) = rec["corrections"]
        assert (c["by"], c["model_version"]) == (HOA, "0.0.0-toy") and c["at"].endswith("Z")
        assert c["photo_sha256"] == rec["photo_sha256"] == hashlib.sha256(BEAN.read_bytes()).hexdigest()
        rec = client.predict(observation_id=confirmed, lang="en", api_name="/confirm")
        assert rec["confirmed_by"] == HOA and rec["confirmed_at"]
        with pytest.raises(Exception, match="already confirmed"):
            client.predict(observation_id=confirmed, lang="en", api_name="/confirm")
        for bad in (corrected + 0.5, "abc"):  # never rounded to another record, never Gradio's own TypeError
            with pytest.raises(Exception) as refused:
                client.predict(observation_id=bad, lang="en", api_name="/confirm")
            assert "TypeError" not in str(refused.value) and "round" not in str(refused.value)
        with pytest.raises(Exception, match="Choose the right answer"):
            client.predict(observation_id=corrected, label="tomato.late_blight", lang="en", api_name="/correct")
    finally:
        demo.close()
    assert services.loads == 1

    # `leafscout corrections export DIR`: the corrected photo under the corrected label, with its provenance
    out = tmp_path / "corrections"
    assert cli(["corrections", "export", str(out)]) == 0
    with open(out / "manifest.csv", newline="", encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    sha = hashlib.sha256(BEAN.read_bytes()).hexdigest()
    assert row["file"] == f"bean.rust/{sha}.jpg" and (out / row["file"]).read_bytes() == BEAN.read_bytes()
    assert (row["label"], row["source"], row["by"], row["model_label"], row["model_version"]) == \
        ("bean.rust", "correction", HOA, "bean.healthy", "0.0.0-toy")

    # a tiny retraining run reads it with --extra-data and says the extra photos were used
    from leafscout.training.data import discover_extra
    from leafscout.training.train import get_args_parser, main as train
    from leafscout.model.labels import load_label_map
    (extra,) = discover_extra(out, load_label_map().labels)
    assert extra.dataset == "extra" and load_label_map().labels[extra.label] == "bean.rust"
    args = get_args_parser().parse_args([
        "--data-root", str(tiny_datasets), "--output-dir", str(tmp_path / "run"), "--epochs", "1",
        "--datasets", "citrus_leaves", "ibean_uganda", "--batch-size", "8", "--train-size", "64",
        "--eval-size", "64", "--workers", "0", "--threads", "2", "--limit-per-class", "2", "--max-steps", "1",
        "--no-pretrained", "--no-finalize", "--extra-data", str(out)])
    caplog.set_level(logging.INFO)
    assert train(args) == 0
    used = [r.getMessage() for r in caplog.records if "train and" in r.getMessage()]
    assert used and "'extra'" in used[0], used


@pytest.mark.slow
def test_an_officer_logs_in_saves_and_corrects_in_the_browser(toy, tmp_path):  # noqa: F811
    """The page itself (Chromium at phone width): log in as an officer, Save, pick the right answer, Correct;
    the Log tab lists the record with who, the model version and the photo's hash; no English on the vi page."""
    pytest.importorskip("playwright")
    from test_app_e2e import CHROME_ARGS, CHROMIUM, PHONE, _english_ui_strings, _pick, _tab, _upload_photo, \
        _wait_text
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    from leafscout.officers import Officers, add
    from leafscout.webapp import app

    f = tmp_path / "officers.json"
    add(f, HOA, PW)
    officers = Officers(f)
    services = Services(model_path=toy, db=str(tmp_path / "log.sqlite"))
    services.warm_up()
    demo = app.build_app(services, officers=officers)
    demo.queue(default_concurrency_limit=2)
    port = _free_port()
    demo.launch(prevent_thread_lock=True, **app.launch_kwargs(port=port, officers=officers))
    url = f"http://127.0.0.1:{port}/"
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROME_ARGS)
            page = b.new_page(viewport=PHONE)
            page.set_default_timeout(30000)
            assert page.request.post(url + "login", form={"username": HOA, "password": PW}).ok
            page.goto(url)
            page.wait_for_selector("#card .card")
            _upload_photo(page, BEAN)
            page.click("#save .label-wrap")
            assert not page.is_visible("#rev-confirm")  # nothing to confirm before Save
            page.fill("#save-new textarea, #save-new input", "Lô cán bộ")
            page.fill("#save-area textarea, #save-area input", "0,5")
            page.click("#save-btn")
            _wait_text(page, "#save", t("saved", "vi", plot="Lô cán bộ"))
            page.wait_for_selector("#rev-correct", state="visible")
            _pick(page, "rev-label", "Bệnh gỉ sắt đậu")
            page.click("#rev-correct")
            _wait_text(page, "#rev-msg", "Đã sửa quan sát")
            (obs,) = services.log.history("Lô cán bộ").observations
            (c,) = services.log.corrections(obs.id)
            assert (c.by, c.label, c.photo_sha256, c.model_version) == (HOA, "bean.rust", obs.photo_sha256,
                                                                         "0.0.0-toy")
            _tab(page, "Sổ ghi chép")
            _pick(page, "log-plot", "Lô cán bộ")
            _wait_text(page, "#log-md", HOA)
            page.click("#log-review .label-wrap")
            _pick(page, "lr-obs", f"#{obs.id}")
            _wait_text(page, "#lr-md", obs.photo_sha256)
            page.click("#lr-confirm")  # a corrected record's model answer cannot be confirmed: said in vi
            _wait_text(page, "#lr-msg", t("review_was_corrected", "vi", id=obs.id)[:20])
            text = page.inner_text("body")
            leaks = [s for s in _english_ui_strings() if s in text]
            assert not leaks, leaks
            b.close()
    finally:
        demo.close()


def test_save_pressed_twice_records_the_photo_once(services):
    st, _ = H.diagnose_upload(services, BEAN, check_path=False)
    msg, first = LB.save_for_review(services, st, None, "Lô Hai Lần", "vi", new_area=0.5)
    assert first
    msg, again = LB.save_for_review(services, st, "Lô Hai Lần", None, "vi")
    assert again == first and t("already_saved", "vi", plot="Lô Hai Lần", id=first) in _plain(msg)
    assert len(services.log.history("Lô Hai Lần").observations) == 1
    fresh, _ = H.diagnose_upload(services, BEAN, check_path=False)  # the same photo diagnosed again: a new record
    assert LB.save_for_review(services, fresh, "Lô Hai Lần", None, "vi")[1] not in (None, first)

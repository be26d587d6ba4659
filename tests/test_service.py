"""The one diagnosis service: the app, the API and the CLI reach the same decision through it.

Also the issue-12 items this service and the app own: batch temp cleanup and caps, CSV formula
injection, error codes for zip members, escaped user text, the login guard."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from test_cli_advise_log import LABELS, add_copper_history

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    pytest.importorskip("onnx", reason="the toy model needs the onnx package (installed by .[train])")
    from leafscout.model.testing import toy_model
    return str(toy_model(tmp_path_factory.mktemp("toy") / "toy.onnx", labels=LABELS))


@pytest.fixture
def red_leaf(tmp_path):
    """A red photo: the toy model calls it tomato.late_blight, whose advice ends in copper."""
    from leafscout.model.testing import flat_photo
    p = tmp_path / "leaf.png"
    cv2.imwrite(str(p), cv2.cvtColor(flat_photo((200, 20, 20)), cv2.COLOR_RGB2BGR))
    return p


@pytest.fixture
def svc(toy, tmp_path):
    from leafscout.service import DiagnosisService
    s = DiagnosisService(model_path=toy, db=str(tmp_path / "log.sqlite"))
    s.log.add_plot("Doi A", "tomato", 0.5, organic_status="certified")
    add_copper_history(s.log, "Doi A", total=27.5)
    return s


def test_plot_context_uses_the_seven_year_ledger(svc):
    ctx, info = svc.context(plot="Doi A")
    assert info.copper_7y == pytest.approx(27.5) and info.copper_year == 0
    assert ctx.copper_7y == pytest.approx(27.5) and info.organic_status == "certified"
    # a lower figure typed by hand can never hide what the ledger holds
    ctx, info = svc.context(plot="Doi A", copper_7y=1.0)
    assert ctx.copper_7y == pytest.approx(27.5)


def _copper(decision_holder):
    return decision_holder["copper"]


def test_same_copper_decision_in_app_api_and_cli(svc, red_leaf, toy, tmp_path, capsys):
    """27.5 kg Cu/ha over 7 years, cap 28: copper is blocked by the cap everywhere."""
    from leafscout.cli import main
    from leafscout.webapp import handlers as H

    d = svc.diagnose(str(red_leaf), plot="Doi A")
    service_decision = d.copper_decision()
    assert d.label == "tomato.late_blight", d.label
    assert service_decision["blocked_by_cap"] and not service_decision["recommended"]
    # the app's Diagnose tab (plot chosen in the context form)
    st, _ = H.diagnose_upload(svc, red_leaf, plot="Doi A", check_path=False)
    assert st["copper"] == service_decision
    assert 'data-copper="blocked"' in H.render_card(svc, st, "vi")
    # the API's JSON (same handler the /diagnose endpoint runs), here without the upload-folder check
    import leafscout.webapp.handlers as HH
    orig = HH.safe_upload_path
    HH.safe_upload_path = lambda p, roots=None: Path(p)
    try:
        api = HH.api_diagnose(svc, str(red_leaf), "en", plot="Doi A")
    finally:
        HH.safe_upload_path = orig
    assert api["copper"] == service_decision and api["context"]["copper_7y"] == pytest.approx(27.5)
    # the CLI
    rc = main(["diagnose", "--json", "--model", toy, "--db", svc.db, "--log", "Doi A", "--advise", "en",
               str(red_leaf)])
    assert rc == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["copper"] == service_decision
    # and without the ledger, copper is recommended again
    free = svc.diagnose(str(red_leaf))
    assert free.copper_decision()["recommended"] and not free.copper_decision()["blocked_by_cap"]


def test_unknown_plot_and_bad_values_are_codes(svc, red_leaf):
    from leafscout.errors import ServiceError
    # each refused value names itself by the service's keyword (`field`), so the CLI, the app and the API can
    # name their own option or box without trying every value again
    for kw, code, field in [({"plot": "nowhere"}, "unknown_plot", None),
                            ({"days_to_harvest": "soon"}, "bad_input", "days_to_harvest"),
                            ({"days_to_harvest": -3}, "bad_input", "days_to_harvest"),
                            ({"copper_7y": -1}, "bad_input", "copper_7y"),
                            ({"copper_year": "nhiều"}, "bad_input", "copper_year"),
                            ({"organic_status": "organic-ish"}, "bad_input", "organic_status"),
                            ({"crop": "banana"}, "unknown_crop", "crop"),
                            ({"days_to_harvest": 7, "copper_7y": 2000}, "bad_input", "copper_7y")]:
        with pytest.raises(ServiceError) as ei:
            svc.diagnose(str(red_leaf), **kw)
        assert (ei.value.code, ei.value.field) == (code, field), kw


def test_advisor_labels_come_from_the_loaded_model(svc, toy):
    from leafscout.service import model_labels
    labels = model_labels(toy)
    assert set(labels) == set(svc.predictor.labels)
    detectable = {p["id"] for p in svc.advisor.problems() if p["detectable_by_model"]}
    assert detectable == set(labels) - {"background.no_leaf"} or detectable <= set(labels)


def test_no_import_cycle_between_the_cli_and_the_sub_clis():
    code = ("import sys; import leafscout.cli_diagnose, leafscout.cli_advise, leafscout.cli_log; "
            "assert 'leafscout.cli' not in sys.modules, 'a sub-CLI imports the dispatcher'; "
            "import model.evaluate; assert 'training' not in sys.modules")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


# ------------------------------------------------------------------------------------------ issue 12

def test_csv_cells_starting_a_formula_are_neutralised(svc, tmp_path):
    from leafscout.safety import csv_cell
    from leafscout.webapp import batch as B
    assert [csv_cell(x) for x in ("=1+2", "+SUM(1,2)", "-2", "@SUM(1)", "\tx", "\rx", "ok", -2.5)] == \
        ["'=1+2", "'+SUM(1,2)", "'-2", "'@SUM(1)", "'\tx", "'\rx", "ok", -2.5]
    from leafscout.model.testing import flat_photo
    TOY_COLOURS = {"ok": (200, 20, 20)}
    files = []
    for name in ("=1+2.jpg", "+SUM(1,2).jpg", "@SUM(1).jpg", "-x.png"):
        p = tmp_path / name
        cv2.imwrite(str(p.with_suffix(".png")), cv2.cvtColor(flat_photo(TOY_COLOURS["ok"]), cv2.COLOR_RGB2BGR))
        p.with_suffix(".png").rename(p)
        files.append(p)
    res = B.run_batch(svc, files, tmp_path / "w", check_paths=False)
    out = B.write_csv(svc.advisor, res, "en", tmp_path / "r.csv")
    with open(out, encoding="utf-8-sig") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], cells
    assert "'=1+2.jpg" in cells  # the full name is kept, only neutralised
    assert not any(str(tmp_path) in c for c in cells)


def test_batch_requests_clean_up_and_are_capped(svc, tmp_path, monkeypatch):
    import tempfile
    from leafscout.webapp import batch as B
    from leafscout.model.testing import flat_photo
    TOY_COLOURS = {"ok": (200, 20, 20)}
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    B.Workspace._previous = []
    p = tmp_path / "a.png"
    cv2.imwrite(str(p), cv2.cvtColor(flat_photo(TOY_COLOURS["ok"]), cv2.COLOR_RGB2BGR))
    dirs = []
    for _ in range(4):
        _, csv_path, pdf_path = B.run_request(svc, [p], "vi", check_paths=False)
        dirs.append(Path(csv_path).parent)
        assert not (dirs[-1] / "work").exists() and not (dirs[-1] / "thumbs").exists()
    assert [d.exists() for d in dirs] == [False, False, True, True]  # only the latest downloads stay
    (tmp_path / "leafscout-report-old").mkdir()
    (tmp_path / "leafscout-thumbs-old").mkdir()
    assert B.clean_stale(str(tmp_path)) >= 2
    assert not list(tmp_path.glob("leafscout-*"))
    ws = B.Workspace(budget=10)
    with pytest.raises(B.TooBig) as ei:
        ws.charge(11)
    assert ei.value.code == "batch_too_big"
    monkeypatch.setattr(B, "MAX_REQUEST_BYTES", 100)
    with pytest.raises(B.TooBig):
        B.run_request(svc, [p], "vi", check_paths=False)
    assert not list(tmp_path.glob("leafscout-batch-*"))[2:]


def test_user_text_is_escaped(svc):
    from leafscout.webapp import logbook as LB
    evil = '<img src=x onerror=alert(1)>'
    msg = LB.add_plot(svc, evil, "coffee", 0.5, "certified", "en")
    assert "<img" not in msg and "&lt;img" in msg
    assert "<img" not in LB.history_md(svc, evil, "en")
    from leafscout.errors import ServiceError
    from leafscout.webapp import handlers as H
    with pytest.raises(ServiceError):
        H.api_advise(svc, evil, "en")


def test_login_guard_delays_and_locks_out():
    from leafscout.webapp.security import LoginGuard
    now = [0.0]
    slept = []
    g = LoginGuard({"farm": "s3cret"}, max_failures=3, lockout_s=60, delay_s=1.0, clock=lambda: now[0],
                   sleep=slept.append)
    assert g("farm", "s3cret")
    for _ in range(3):
        assert not g("farm", "wrong")
    assert slept == [1.0, 1.0, 1.0]
    assert not g("farm", "s3cret"), "locked out: even the right password waits"
    now[0] += 61
    assert g("farm", "s3cret")


def test_record_passes_who_confirms_and_refusals_carry_the_log_code(svc, red_leaf, toy):
    """A person saving names who confirms; without a name the record is kept unconfirmed; the log is opened
    with the loaded model's labels; a refusal is ServiceError('log_error') with the field log's code."""
    from leafscout.errors import ServiceError
    from test_cli_advise_log import LABELS
    assert svc.log.known_labels == frozenset(LABELS)
    d = svc.diagnose(str(red_leaf), plot="Doi A")
    confirmed = svc.record(d, "Doi A", confirmed_by="Lò Thị Hoa")
    assert confirmed.confirmed_by == "Lò Thị Hoa" and d.observation_id == confirmed.id
    unconfirmed = svc.record(svc.diagnose(str(red_leaf)), "Doi A")
    assert unconfirmed.confirmed_by is None and unconfirmed.confirmed_at is None
    # diagnose(record=True) takes the name too
    again = svc.diagnose(str(red_leaf), plot="Doi A", record=True, confirmed_by="Lò Văn Nam")
    assert svc.log.history("Doi A").observations[-1].confirmed_by == "Lò Văn Nam" and again.observation_id
    for kw, log_code in [(dict(label=None, status="not_a_leaf"), "needs_confirmation"),
                         (dict(label="background.no_leaf", status="uncertain"), "needs_confirmation"),
                         (dict(label="tomato.leaf_mold", status="ok"), "bad_label"),
                         (dict(label="tomato.late_blight", status="ok", confirmed_by="x\x00"), "bad_text")]:
        confirmed_by = kw.pop("confirmed_by", None)
        with pytest.raises(ServiceError) as ei:
            svc.record_result("Doi A", str(red_leaf), kw["label"], kw["status"], 0.9, "toy",
                              confirmed_by=confirmed_by)
        assert ei.value.code == "log_error" and ei.value.log_code == log_code, (kw, ei.value.log_code)
        assert str(red_leaf) not in str(ei.value)
    with pytest.raises(ServiceError) as ei:
        svc.record_result("nowhere", str(red_leaf), "tomato.late_blight", "ok", 0.9, "toy")
    assert ei.value.log_code == "unknown_plot"
    # a not-a-leaf result a person vouches for is kept under the model's no-leaf label
    obs = svc.record_result("Doi A", str(red_leaf), None, "not_a_leaf", 0.2, "toy", confirmed_by="Lò Thị Hoa")
    assert obs.label == "background.no_leaf" and obs.confirmed_by == "Lò Thị Hoa"
    assert len(svc.log.history("Doi A").observations) == 4

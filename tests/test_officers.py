"""Officer accounts (issue 20): `leafscout officers add|remove|list`, a file of salted PBKDF2 hashes (mode 0600),
and the app's login with them (`python app.py --officers FILE`) keeping the LoginGuard's delay and lockout."""
from __future__ import annotations

import io
import json
import os
import stat

import pytest

PW = "mật-khẩu-dài-1"  # a non-ASCII password: hashed as UTF-8


@pytest.fixture
def ofile(tmp_path, monkeypatch):
    monkeypatch.delenv("LEAFSCOUT_OFFICERS", raising=False)
    monkeypatch.setenv("LEAFSCOUT_DB", str(tmp_path / "log" / "fieldlog.sqlite"))
    return tmp_path / "log" / "officers.json"


def _cli(argv, monkeypatch, stdin: str | None = None) -> int:
    from leafscout.cli import main
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(argv)


def _err(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    return err


def test_add_list_remove_with_the_default_file_beside_the_field_log(ofile, monkeypatch, capsys):
    assert _cli(["officers", "add", "Lò Thị Hoa", "--password-stdin"], monkeypatch, PW + "\n") == 0
    assert str(ofile) in capsys.readouterr().out
    assert _cli(["officers", "add", "Lò Văn Nam", "--password-stdin"], monkeypatch, "another-pw-2\n") == 0
    assert stat.S_IMODE(ofile.stat().st_mode) == 0o600
    raw = ofile.read_text(encoding="utf-8")
    assert PW not in raw and "another-pw-2" not in raw  # hashes only, never a password
    data = json.loads(raw)
    hashes = [r["hash"] for r in data["officers"].values()]
    assert all(h.startswith("pbkdf2_sha256$600000$") for h in hashes) and len(set(hashes)) == 2
    capsys.readouterr()
    assert _cli(["officers", "list"], monkeypatch) == 0
    out = capsys.readouterr().out
    assert "Lò Thị Hoa" in out and "Lò Văn Nam" in out and "pbkdf2" not in out
    assert _cli(["officers", "remove", "Lò Văn Nam"], monkeypatch) == 0
    assert list(json.loads(ofile.read_text(encoding="utf-8"))["officers"]) == ["Lò Thị Hoa"]
    assert stat.S_IMODE(ofile.stat().st_mode) == 0o600
    # $LEAFSCOUT_OFFICERS wins over the field log's folder; --file over both
    other = ofile.parent / "elsewhere.json"
    monkeypatch.setenv("LEAFSCOUT_OFFICERS", str(other))
    assert _cli(["officers", "add", "Hoa", "--password-stdin"], monkeypatch, PW + "\n") == 0
    assert other.is_file() and "Hoa" not in json.loads(ofile.read_text(encoding="utf-8"))["officers"]


def test_the_right_password_only_and_the_salt_differs(tmp_path):
    from leafscout.officers import Officers, add, hash_password, verify_password
    f = tmp_path / "o.json"
    add(f, "  Lò Thị Hoa ", PW)
    o = Officers(f)
    assert o.verify("Lò Thị Hoa", PW)
    assert not o.verify("Lò Thị Hoa", PW + "x") and not o.verify("Lò Thị Hoa", "")
    assert not o.verify("Hoa", PW) and not o.verify("", PW) and not o.verify(None, None)
    import unicodedata
    assert o.verify(unicodedata.normalize("NFD", "Lò Thị Hoa"), PW)  # a phone's keyboard may send NFD
    assert hash_password(PW) != hash_password(PW)  # a fresh salt each time
    assert not verify_password(PW, "plain:" + PW) and not verify_password(PW, PW)
    # an officer added from the CLI while the app runs can log in without a restart
    add(f, "Lò Văn Nam", "another-pw-2")
    assert o.verify("Lò Văn Nam", "another-pw-2") and o.known("Lò Văn Nam")


@pytest.mark.parametrize("argv, stdin, words", [
    (["officers", "add", "Hoa", "--password-stdin"], "short\n", "at least 8"),
    (["officers", "add", "Hoa", "--password-stdin"], "", "nothing on stdin"),
    (["officers", "add", "  ", "--password-stdin"], PW + "\n", "give a name"),
    (["officers", "add", "Ho\x00a", "--password-stdin"], PW + "\n", "control"),
    (["officers", "add", "Lò Thị Hoa", "--password-stdin"], PW + "\n", "already exists"),
    (["officers", "add", "Nobody", "--password-stdin", "--replace"], PW + "\n", "no officer"),
    (["officers", "remove", "Lo Thi Hoa"], None, "did you mean 'Lò Thị Hoa'"),
    (["officers", "add", "Hoa"], None, "--password-stdin"),  # no terminal to ask on
])
def test_bad_input_is_one_line_exit_2(ofile, monkeypatch, capsys, argv, stdin, words):
    assert _cli(["officers", "add", "Lò Thị Hoa", "--password-stdin"], monkeypatch, PW + "\n") == 0
    before = ofile.read_bytes()
    capsys.readouterr()
    if stdin is None:
        monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert _cli(argv, monkeypatch, stdin) == 2
    err = _err(capsys)
    assert err.startswith("leafscout officers: error: ") and words in err, err
    assert ofile.read_bytes() == before  # nothing changed


def test_a_file_others_can_read_or_a_broken_file_is_refused(ofile, monkeypatch, capsys):
    from leafscout.webapp import app
    assert _cli(["officers", "add", "Lò Thị Hoa", "--password-stdin"], monkeypatch, PW + "\n") == 0
    os.chmod(ofile, 0o644)
    capsys.readouterr()
    assert _cli(["officers", "list"], monkeypatch) == 2
    assert "chmod 600" in _err(capsys)
    with pytest.raises(SystemExit, match="chmod 600"):
        app.load_officers(str(ofile))
    os.chmod(ofile, 0o600)
    assert app.load_officers(str(ofile)).names() == ["Lò Thị Hoa"]
    ofile.write_text("{not json", encoding="utf-8")
    os.chmod(ofile, 0o600)
    assert _cli(["officers", "list"], monkeypatch) == 2
    assert "not a LeafScout officers file" in _err(capsys)
    for bad in (ofile, ofile.parent / "missing.json"):
        with pytest.raises(SystemExit) as ei:
            app.load_officers(str(bad))
        assert str(ei.value).startswith("LeafScout cannot start: --officers ") and "\n" not in str(ei.value)


def test_login_guard_with_officers_keeps_delay_and_lockout(tmp_path):
    import asyncio

    from leafscout.officers import Officers, add
    from leafscout.webapp.security import LoginGuard
    f = tmp_path / "o.json"
    add(f, "Hoa", PW, iterations=1000)
    now, slept = [0.0], []
    g = LoginGuard({"coop": "s3cret-shared"}, max_failures=3, lockout_s=60, delay_s=1.0, clock=lambda: now[0],
                   sleep=slept.append, verify=Officers(f).verify)
    assert g("Hoa", PW) and g("coop", "s3cret-shared")  # --officers and --auth together
    assert not g("coop", PW) and not g("Hoa", "s3cret-shared")
    for _ in range(2):
        assert not g("Hoa", "wrong")
    assert slept == [1.0] * 4
    assert not g("Hoa", PW), "locked out: even the right password waits"
    now[0] += 61
    assert asyncio.run(g.check_async("Hoa", PW))  # what Gradio's login route awaits


def test_launch_kwargs_and_the_parser_take_officers(tmp_path, monkeypatch):
    import inspect

    from leafscout.officers import Officers, add
    from leafscout.webapp import app
    f = tmp_path / "o.json"
    add(f, "Hoa", PW, iterations=1000)
    kw = app.launch_kwargs(officers=Officers(f))
    assert inspect.iscoroutinefunction(kw["auth"])  # awaited: hashing never blocks the server's event loop
    assert app.launch_kwargs()["auth"] is None
    assert inspect.iscoroutinefunction(app.launch_kwargs(auth=("coop", "pw"))["auth"])
    # --officers is parsed before anything heavy loads: a bad file stops the start with one line
    with pytest.raises(SystemExit, match="no officers file"):
        app.main(["--officers", str(tmp_path / "none.json"), "--model", str(tmp_path / "none.onnx")])


def test_the_cli_records_only_an_officer_as_reviewer_where_there_is_an_officers_file(ofile, monkeypatch, capsys,
                                                                                      tmp_path):
    """`log confirm/correct --by` and `--confirmed-by` write who checked a diagnosis into the audit. Once the
    log has an officers file (the app's logins), a name must be one of them: a typo or a name typed without
    its accents is refused with the officer it most likely means, and nothing is written."""
    from leafscout.fieldlog.api import FieldLog
    db = str(ofile.parent / "fieldlog.sqlite")
    assert _cli(["log", "add-plot", "Doi A", "--crop", "coffee", "--area", "0.5"], monkeypatch) == 0
    from pathlib import Path
    photos = sorted((Path(__file__).parent / "fixtures" / "images" / "coffee_bracol").glob("*/*.jpg"))[:4]
    for photo in photos[:3]:
        assert _cli(["log", "observe", "Doi A", str(photo), "--label", "coffee.rust", "--status", "ok",
                     "--confidence", "0.9", "--model-version", "3.1.0"], monkeypatch) == 0
    # no officers file yet: any name, as before
    assert _cli(["log", "confirm", "1", "--by", "Anh Ba"], monkeypatch) == 0
    assert _cli(["officers", "add", "Lò Thị Hoa", "--password-stdin"], monkeypatch, PW + "\n") == 0
    capsys.readouterr()
    assert _cli(["log", "confirm", "2", "--by", "Lo Thi Hoa"], monkeypatch) == 2
    assert "did you mean 'Lò Thị Hoa'" in _err(capsys)
    assert _cli(["log", "correct", "2", "--label", "coffee.healthy", "--by", "Somebody"], monkeypatch) == 2
    err = _err(capsys)
    assert "'Somebody' is not an officer" in err and "Lò Thị Hoa" in err
    assert _cli(["log", "observe", "Doi A", str(photos[3]), "--label", "coffee.rust", "--status", "ok",
                 "--confidence", "0.9", "--model-version", "3.1.0", "--confirmed-by", "Hoa?"], monkeypatch) == 2
    capsys.readouterr()
    log = FieldLog.open(db)
    try:
        obs = log.history("Doi A").observations
        assert len(obs) == 3 and sorted(o.confirmed_by or "" for o in obs) == ["", "", "Anh Ba"]
    finally:
        log.close()
    # the officer's own name, typed in NFD as some keyboards send it, is recorded as stored
    import unicodedata
    assert _cli(["log", "confirm", "2", "--by", unicodedata.normalize("NFD", " Lò Thị Hoa ")], monkeypatch) == 0
    assert "confirmed by Lò Thị Hoa." in capsys.readouterr().out
    assert _cli(["log", "correct", "3", "--label", "coffee.healthy", "--by", "Lò Thị Hoa"], monkeypatch) == 0

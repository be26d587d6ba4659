"""officers.OfficersError says which step failed with its `code` (bad_name, bad_password, officers_file,
unknown_officer, duplicate), set where it is raised; `leafscout officers` and `--by` refuse from that code, not from
guessing which of the inputs was wrong."""
from __future__ import annotations

import os

import pytest

from leafscout import officers as O
from leafscout.cli import main


def _code(fn, *a, **k):
    with pytest.raises(O.OfficersError) as info:
        fn(*a, **k)
    return info.value.code


def test_each_officers_error_carries_its_code(tmp_path, monkeypatch):
    path = tmp_path / "officers.json"
    assert _code(O.clean_name, "  ") == "bad_name"
    assert _code(O.clean_name, "x" * (O.MAX_NAME + 1)) == "bad_name"
    assert _code(O.clean_name, "Hoa\x07") == "bad_name"
    assert _code(O.check_password, "") == "bad_password"
    assert _code(O.check_password, "short") == "bad_password"
    assert _code(O.check_password, " spaces around ") == "bad_password"
    assert _code(O.load, path) == "officers_file"  # not there
    assert _code(O.remove, path, "Hoa") == "officers_file"
    assert O.add(path, "Lò Thị Hoa", "mật khẩu dài", iterations=1000) == "Lò Thị Hoa"
    assert _code(O.add, path, "Lò Thị Hoa", "mật khẩu dài", iterations=1000) == "duplicate"
    assert _code(O.add, path, "Lò Thị Hoà", "mật khẩu dài", replace=True, iterations=1000) == "unknown_officer"
    assert _code(O.add, path, "", "mật khẩu dài", iterations=1000) == "bad_name"
    assert _code(O.add, path, "Lan", "ngắn", iterations=1000) == "bad_password"
    assert _code(O.remove, path, "Lò Thị Hòa") == "unknown_officer"
    monkeypatch.delenv("LEAFSCOUT_OFFICERS", raising=False)
    db = str(tmp_path / "fieldlog.sqlite")  # officers.json beside it is the file the reviewer is checked against
    assert O.reviewer("Lò Thị Hoa", db) == "Lò Thị Hoa"
    assert _code(O.reviewer, "Lo Thi Hoa", db) == "unknown_officer"
    assert _code(O.reviewer, "Ba", db) == "unknown_officer"
    assert _code(O.reviewer, " ", db, "--by") == "bad_name"
    os.chmod(path, 0o644)
    assert _code(O.load, path) == "officers_file"
    assert _code(O.reviewer, "Lò Thị Hoa", db) == "officers_file"
    path.write_text("{}")
    os.chmod(path, 0o600)
    assert _code(O.load, path) == "officers_file"
    assert str(O.OfficersError("x")) == "x" and O.OfficersError("x").code == "officers_file"


def test_the_cli_refuses_from_the_code(tmp_path, capsys, monkeypatch):
    """An officer added by someone else between the CLI's own check and the write (the file changed under it) is
    refused as a duplicate, from the code: not 'cannot write the officers file'."""
    path = tmp_path / "officers.json"
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("mật khẩu dài\n"))

    def add(*a, **k):
        raise O.OfficersError("officer 'Hoa' already exists; to set a new password add --replace", "duplicate")
    monkeypatch.setattr(O, "add", add)
    capsys.readouterr()
    assert main(["officers", "add", "Hoa", "--password-stdin", "--file", str(path), "--lang", "vi"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("leafscout officers: lỗi [duplicate]: đã có cán bộ 'Hoa'"), err

"""`--db PATH` is a file name, whatever characters it holds."""
from __future__ import annotations

import pytest

from leafscout.cli import main


@pytest.mark.parametrize("folder", ["HTX%20Chiềng Ban", "Đồi ?A", "log #2"])
def test_the_log_is_the_file_named_not_another(tmp_path, capsys, folder):
    """The path went into an SQLAlchemy URL as it was: `%20` was decoded (`HTX%20Chiềng Ban/log.sqlite` opened
    `HTX Chiềng Ban/log.sqlite`, another cooperative's log if there is one) and `?` started the URL's query (`Đồi
    ?A/log.sqlite` wrote the log to a file named `Đồi ` beside the folder)."""
    where = tmp_path / folder
    where.mkdir()
    db = where / "log.sqlite"
    assert main(["log", "add-plot", "Đồi A", "--crop", "tea", "--area", "0.5", "--db", str(db)]) == 0
    assert db.is_file(), sorted(p.name for p in tmp_path.rglob("*"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder]
    capsys.readouterr()
    assert main(["log", "history", "Đồi A", "--db", str(db)]) == 0
    assert "Plot Đồi A" in capsys.readouterr().out
    assert main(["log", "backup", str(tmp_path / folder / "b.sqlite"), "--db", str(db)]) == 0
    assert (where / "b.sqlite").is_file()

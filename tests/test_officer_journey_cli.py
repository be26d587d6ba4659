"""An officer keeping two cooperatives' logs side by side (`--db A`, `--db B`) and mistyping one."""
from __future__ import annotations

from leafscout.cli import main


def test_a_mistyped_db_is_refused_and_nothing_is_created(tmp_path, capsys):
    """`leafscout log history "Đồi A" --db coop-b/log.sqlit` made the folder and a new empty log, then said "no
    plot named 'Đồi A' (known plots: none yet)": the refusal wrote a file, and `log plots` on the typo said "No
    plots yet" as if the cooperative's records were gone. Only add-plot and add-farm start a new log."""
    a = tmp_path / "coop-a" / "log.sqlite"
    assert main(["log", "add-plot", "Đồi A", "--crop", "tea", "--area", "0.5", "--db", str(a)]) == 0
    typo = tmp_path / "coop-b" / "log.sqlit"
    capsys.readouterr()
    for argv in (["log", "history", "Đồi A"], ["log", "act", "Đồi A", "--what", "cắt cỏ"], ["export", "Đồi A"],
                 ["log", "audit", "--season", "2025"], ["log", "backup", str(tmp_path / "b.sqlite")],
                 ["log", "qr", "Đồi A", "--out", str(tmp_path / "q.png")], ["log", "confirm", "1", "--by", "Hoa"]):
        assert main([*argv, "--db", str(typo)]) == 2, argv
        err = capsys.readouterr().err
        assert "Traceback" not in err and err.count("\n") == 1, err
        assert f"no field log at {typo}" in err and "check --db" in err, err
    assert main(["log", "plots", "--db", str(typo)]) == 0
    assert f"No field log at {typo} yet" in capsys.readouterr().out
    assert not typo.parent.exists() and not (tmp_path / "b.sqlite").exists() and not (tmp_path / "q.png").exists()
    # the right file still answers, and a new log is started only on purpose
    assert main(["log", "history", "Đồi A", "--db", str(a)]) == 0
    assert main(["log", "add-farm", "HTX Chiềng Ban", "--db", str(typo)]) == 0 and typo.exists()

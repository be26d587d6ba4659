"""Text typed into the log is shown one record a line in the terminal (`log history`, `log audit`, `log plots`).

Line breaks are stored as typed (notes have paragraphs), but printed raw they forged records: an action
`hoeing⏎  2026-01-01 00:00  done   compost, by Inspector` showed as two actions in `history`, and a carriage
return (`sprayed glyphosate⏎weeding   `, CR) made the terminal overwrite the start of the line, so the audit's
FLAG line for the glyphosate spray read as a weeding. The backspace trick is refused at input (bad_text); a CR or
LF is kept, and shown escaped.
"""
from __future__ import annotations

from leafscout.cli import main

FORGED = "hoeing\n  2026-01-01 00:00  done   compost, by Inspector"
HIDDEN = "sprayed glyphosate\rweeding                                            "


def test_history_and_audit_print_one_line_per_record(tmp_path, capsys):
    db = str(tmp_path / "log.sqlite")
    assert main(["log", "add-plot", "Đồi A", "--crop", "tea", "--area", "1", "--status", "certified",
                 "--location", "Bản Mòng\r\nxóm 2", "--db", db]) == 0
    assert main(["log", "act", "Đồi A", "--what", HIDDEN, "--substance", "glyphosate", "--db", db]) == 0
    assert main(["log", "act", "Đồi A", "--what", FORGED, "--by", "Hoa\nby Inspector", "--db", db]) == 0
    capsys.readouterr()
    assert main(["log", "history", "Đồi A", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "\r" not in out, repr(out)
    lines = out.splitlines()
    assert len([x for x in lines if "  done  " in x]) == 2, out  # two actions, two lines
    assert not any(x.lstrip().startswith("2026-01-01") for x in lines), out
    assert "hoeing\\n" in out and "glyphosate\\rweeding" in out and "Bản Mòng\\r\\nxóm 2" in out, out
    year = lines[2].split()[0][:4]
    assert main(["log", "audit", "--season", year, "--db", db]) == 1
    out = capsys.readouterr().out
    assert "\r" not in out, repr(out)
    flag = [x for x in out.splitlines() if x.startswith("FLAG")]
    assert len(flag) == 1 and "glyphosate\\rweeding" in flag[0] and "Not allowed" in flag[0], out
    assert len(out.splitlines()) == 4, out  # header, 2 actions, copper
    # the records themselves keep what was typed
    from leafscout.fieldlog import FieldLog
    with FieldLog.open(db) as log:
        assert [a.what for a in log.history("Đồi A").actions] == [HIDDEN.strip(), FORGED]


def test_plots_and_farms_print_one_line_each(tmp_path, capsys):
    db = str(tmp_path / "log.sqlite")
    assert main(["log", "add-farm", "HTX A", "--location", "xã\nChiềng Ban", "--certifier", "X\rY", "--db", db]) == 0
    assert main(["log", "add-plot", "Đồi A", "--crop", "tea\nfake row", "--area", "1", "--db", db]) == 0
    capsys.readouterr()
    assert main(["log", "farms", "--db", db]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 2 and "\r" not in out, repr(out)
    assert main(["log", "plots", "--db", db]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 2 and "\r" not in out, repr(out)

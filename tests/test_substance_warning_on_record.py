"""A grower or officer logs a spray of a banned product: the log keeps the record (it happened, the certifier must
see it), and says at once that it voids certification, in the CLI and in the app's Log tab, instead of leaving it to
the season audit months later. An allowed or unknown substance logs quietly, as before."""
from __future__ import annotations

import pytest

from leafscout.cli import main
from leafscout.fieldlog import FieldLog

from test_app_handlers import services, toy  # noqa: F401  (fixtures)


@pytest.fixture
def db(tmp_path) -> str:
    path = str(tmp_path / "coop.sqlite")
    with FieldLog.open(path) as log:
        log.add_plot("Đồi A", "coffee", 0.5)
    return path


def _act(capsys, db, *extra):
    rc = main(["log", "act", "Đồi A", "--what", "phun", "--db", db, "--at", "2026-05-02T08:00", *extra])
    out, err = capsys.readouterr()
    return rc, out, err


def test_a_banned_product_is_logged_and_warned_about(db, capsys):
    rc, out, err = _act(capsys, db, "--product", "Karate 2.5EC")
    assert rc == 0 and "WARNING: Karate 2.5EC: Karate = lambda-cyhalothrin: Not allowed" in err, (out, err)
    assert "The record is kept; tell the certifier." in err
    rc, out, err = _act(capsys, db, "--substance", "fipronil", "--lang", "vi")
    assert rc == 0 and "CẢNH BÁO: fipronil: Không được phép" in err and "báo tổ chức chứng nhận" in err, err
    import datetime as dt
    with FieldLog.open(db) as log:
        kept = log.actions_between(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
                                   dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc))
        assert [a.product or a.active_substance for _, a in kept] == ["Karate 2.5EC", "fipronil"]


@pytest.mark.parametrize("extra", [("--substance", "Bacillus thuringiensis"), ("--product", "phân chuồng hoai"),
                                   ()])
def test_an_allowed_unknown_or_unnamed_input_logs_quietly(db, capsys, extra):
    rc, out, err = _act(capsys, db, *extra)
    assert rc == 0 and "WARNING" not in err and "CẢNH BÁO" not in err, err


def test_the_log_tab_says_it_too(services):  # noqa: F811
    from leafscout.webapp import logbook as LB
    LB.add_plot(services, "Đồi A", "coffee", "0,5", "certified", "vi")
    msg = LB.record_action(services, "Đồi A", "phun sâu", "Regent 800WG", None, "vi")
    assert "CẢNH BÁO" in msg and "fipronil" in msg and "Không được phép" in msg, msg
    msg = LB.record_action(services, "Đồi A", "phun", "Bacillus thuringiensis", None, "en")
    assert "WARNING" not in msg, msg


def test_copper_sulphate_for_bordeaux_is_no_alarm_but_a_banned_one_stays_banned(db, capsys):
    """Copper sulphate is allowed only as the ingredient of Bordeaux mixture: a Bordeaux spray logged with it is no
    alarm; the same substance logged for nothing it makes, or a banned substance beside the word Bordeaux, is."""
    rc, out, err = _act(capsys, db, "--substance", "copper sulphate", "--copper", "0.5")
    assert rc == 0 and "WARNING: copper sulphate" in err, err
    rc, out, err = main(["log", "act", "Đồi A", "--what", "Phun Bordeaux 1%", "--substance", "copper sulphate",
                         "--copper", "0.5", "--db", db]), *capsys.readouterr()
    assert rc == 0 and "WARNING" not in err, err
    rc, out, err = main(["log", "act", "Đồi A", "--what", "Phun Bordeaux", "--substance", "fipronil", "--copper", "0.5",
                         "--db", db]), \
        *capsys.readouterr()
    assert rc == 0 and "WARNING: fipronil" in err, err

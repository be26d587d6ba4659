"""A copper action that takes its plot over the 7-year copper cap (28 kg Cu/ha) is warned about when it is
logged (issue 18): `leafscout log act` prints one warning line, the app's Log tab adds it to its message. The
cap is the advisor's, given by the service (leafscout.service.copper_warning); the field log needs no advisor."""
from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest

from leafscout.fieldlog import FieldLog
from leafscout.cli import main
from leafscout.service import copper_check, copper_warning

YEAR = dt.date.today().year


@pytest.fixture
def db(tmp_path) -> str:
    """Plot "Đồi A" with 27 kg Cu/ha over the last 7 years (none this year); plot "Đồi B" with none."""
    path = str(tmp_path / "log.sqlite")
    with FieldLog.open(path) as log:
        log.add_plot("Đồi A", "coffee", 1.0, organic_status="certified")
        log.add_plot("Đồi B", "coffee", 1.0, organic_status="certified")
        for k in range(6):
            log.record_action("Đồi A", "copper spray", active_substance="copper hydroxide", copper_kg_ha=4.5,
                              at=f"{YEAR - 1 - k}-06-01")
    return path


@pytest.fixture(scope="module")
def advisor():
    from leafscout.service import default_advisor
    return default_advisor()


def _act(db, *extra) -> int:
    return main(["log", "act", "--db", db, *extra])


def test_cli_warns_once_when_a_spray_takes_the_plot_over_the_cap(db, capsys, advisor):
    assert advisor.copper_cap_kg_ha_7y == 28
    assert _act(db, "Đồi A", "--what", "sprayed Bordeaux", "--substance", "copper sulphate", "--copper", "1.5") == 0
    out, err = capsys.readouterr()
    lines = [ln for ln in err.splitlines() if "WARNING" in ln]
    assert len(lines) == 1 and len(err.strip().splitlines()) == 1, err
    assert re.search(r"28\.5 kg Cu/ha over the 7 years \d{4}-\d{4}", lines[0]) and "cap of 28 kg Cu/ha" in lines[0]
    assert "Đồi A" in lines[0] and "Traceback" not in out + err
    with FieldLog.open(db) as log:  # the action is kept: the warning does not refuse it
        assert log.copper_used("Đồi A")[1] == pytest.approx(28.5)


@pytest.mark.parametrize("args", [["Đồi A", "--copper", "1.0"],                       # 28.0: at the cap, not over
                                  ["Đồi B", "--copper", "2.0"],                       # far below
                                  ["Đồi A", "--what", "weeding"]],                    # no copper at all
                         ids=["at-cap", "below", "no-copper"])
def test_cli_says_nothing_under_or_at_the_cap(db, capsys, args):
    argv = args if "--what" in args else [*args, "--what", "sprayed copper", "--substance", "copper hydroxide"]
    assert _act(db, *argv) == 0
    out, err = capsys.readouterr()
    assert "WARNING" not in out + err and err == ""


def test_a_back_dated_spray_is_checked_against_every_window_it_falls_in(db, advisor):
    """A spray logged for 3 years ago also fills the windows ending in the years after it."""
    with FieldLog.open(db) as log:
        a = log.record_action("Đồi A", "copper spray", active_substance="copper hydroxide", copper_kg_ha=2.0,
                              at=f"{YEAR - 3}-07-01")
        c = copper_check(log, a, advisor.copper_cap_kg_ha_7y)
        assert c["over"] and c["total"] == pytest.approx(29.0) and c["last"] - c["first"] == 6
        assert c["first"] <= YEAR - 3 <= c["last"]


def test_the_cap_is_the_advisors(db):
    """Another advisor's cap (a stricter certifier) decides; the field log holds no cap of its own."""
    strict = SimpleNamespace(copper_cap_kg_ha_7y=5.0)
    with FieldLog.open(db) as log:
        a = log.record_action("Đồi B", "copper spray", active_substance="copper hydroxide", copper_kg_ha=6.0)
        vi = copper_warning(log, a, strict, "vi")
        en = copper_warning(log, a, strict, "en")
    assert vi.startswith("CẢNH BÁO: ") and "6 kg Cu/ha" in vi and "giới hạn 5 kg Cu/ha" in vi and "Đồi B" in vi
    assert en.startswith("WARNING: ") and "cap of 5 kg Cu/ha" in en


def test_the_app_log_tab_adds_the_warning_in_the_page_language(db, advisor):
    import leafscout.webapp.logbook as LB
    from leafscout.webapp.i18n import t

    with FieldLog.open(db) as log:
        log.add_plot("<b>Lô</b> C", "coffee", 0.1, organic_status="certified")
        for k in range(6):
            log.record_action("<b>Lô</b> C", "copper spray", active_substance="copper", copper_kg_ha=4.6,
                              at=f"{YEAR - 1 - k}-06-01")
        services = SimpleNamespace(log=log, advisor=advisor)
        msg = LB.record_action(services, "Đồi A", "Phun Bordeaux", "copper sulphate", 1.5, "vi")
        assert msg.startswith(t("log_recorded", "vi") + " CẢNH BÁO: ") and "28,5 kg Cu/ha" in msg
        assert LB.record_action(services, "Đồi B", "Phun Bordeaux", "copper sulphate", 1.5, "vi") == \
            t("log_recorded", "vi")  # below the cap: as before
        spray = LB.record_copper_spray(services, "<b>Lô</b> C", "copper_hydroxide", 100, 1, None, "en")
        assert "WARNING: " in spray and "&lt;b&gt;Lô&lt;/b&gt; C" in spray and "<b>" not in spray

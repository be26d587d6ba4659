"""The app's Log tab over an officer's season (webapp/logbook.py handlers, no server): copper sprays by the tank
that the season audit reads right, and a season audit asked for with a year that is not one."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from leafscout.fieldlog import FieldLog
from leafscout.webapp import logbook as LB
from leafscout.webapp.i18n import t


@pytest.fixture(scope="module")
def advisor():
    from leafscout.service import default_advisor
    return default_advisor()


@pytest.fixture
def services(tmp_path, advisor):
    log = FieldLog.open(str(tmp_path / "log.sqlite"))
    yield SimpleNamespace(log=log, advisor=advisor)
    log.close()


def test_copper_sprays_by_the_tank_pass_the_season_audit(services):
    """The Log tab recorded every copper spray with the substance "copper", which the advisor does not know, so
    the season audit flagged each one as not allowed (and `log audit` exited 1) although copper hydroxide,
    oxychloride and Bordeaux mixture are allowed. Only the "other" product, whose compound nobody named, is
    left for the certifier."""
    from leafscout.service import audit_season

    services.log.add_plot("Đồi Cà phê", "coffee", 0.5, organic_status="certified")
    for product in ("copper_hydroxide", "copper_oxychloride", "copper_sulfate"):
        msg = LB.record_copper_spray(services, "Đồi Cà phê", product, 50, 2, None, "vi")
        assert t("log_error", "vi", msg="") not in msg, msg
    LB.record_copper_spray(services, "Đồi Cà phê", "other", 50, 2, 40, "vi")
    year = dt.datetime.now(dt.timezone.utc).year
    report = audit_season(services.log, f"{year}-01-01", f"{year + 1}-01-01", services.advisor)
    assert [r.action.active_substance for r in report.flagged] == ["copper"], [
        (r.action.active_substance, r.reason) for r in report.flagged]
    assert {r.action.active_substance for r in report.rows} == {"copper hydroxide", "copper oxychloride",
                                                                 "Bordeaux mixture", "copper"}
    # the ledger is unchanged: 0.1 + 0.1 + 0.05 + 0.08 kg Cu/ha
    assert services.log.copper_used("Đồi Cà phê")[0] == pytest.approx(0.33)


@pytest.mark.parametrize("year", ["abc", None, "", "1e30", "20266", float("nan")])
def test_an_audit_year_that_is_not_one_gets_the_translated_reason(services, year):
    """The audit's year box gave Python's own words ("invalid literal for int() with base 10: 'abc'") on the en
    page and a generic reason on the vi page."""
    import html
    for lang in ("vi", "en"):
        msg = html.unescape(LB.audit_md(services, year, lang))
        want = (t("log_audit_need_year", lang, hi=9998) if year in (None, "") else
                t("log_audit_bad_year", lang, y=str(year).strip(), hi=9998))
        assert msg == want, msg
        assert "Traceback" not in msg and "int()" not in msg
    assert "**" in LB.audit_md(services, "2026", "en") and "**" in LB.audit_md(services, 2026.0, "en")


def test_markdown_typed_into_a_name_is_shown_as_text_not_a_link_or_a_remote_image(services):
    """A plot, a treatment note or a reviewer typed as Markdown ([x](http://evil), ![p](http://host/p.png)) is
    text in the Log tab's history, review and audit, never a link or an image fetched from elsewhere."""
    from leafscout.webapp import logbook as LB
    name = "[click](http://evil.example) ![p](http://host.example/p.png)"
    LB.add_plot(services, name, "Cà phê", 0.5, "certified", "vi")
    services.log.record_action(name, "![x](http://host.example/x.png) weeding **now**")
    hist = LB.history_md(services, name, "vi")
    assert "](http" not in hist and "\\[click\\]" in hist and "\\!\\[x\\]" in hist and "**now**" not in hist
    services.log.record_action(name, "sprayed [x](http://evil.example)", active_substance="[bad](http://evil.example)")
    audit = LB.audit_md(services, str(dt.date.today().year), "vi")
    assert "bad" in audit and "](http" not in audit  # flagged (unknown substance), as text

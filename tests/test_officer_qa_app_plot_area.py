"""The Log tab's "Add a new plot" with an area of 0 (the box cleared to 0, or typed before the decimals)."""
from __future__ import annotations

import html
from types import SimpleNamespace

from leafscout.fieldlog import FieldLog
from leafscout.webapp import logbook as LB
from leafscout.webapp.i18n import num, t


def test_an_area_of_zero_is_refused_not_made_a_tenth_of_a_hectare(tmp_path):
    """`float(area or 0.1)`: an area of 0 became a 0.1 ha plot without a word, and every copper spray logged by
    the tank on it was then divided by 0.1 ha (5x the copper per ha of the 0.5 ha plot it really was)."""
    with FieldLog.open(str(tmp_path / "log.sqlite")) as log:
        services = SimpleNamespace(log=log, advisor=None)
        for lang in ("vi", "en"):
            msg = html.unescape(LB.add_plot(services, "Đồi A", "coffee", 0, "certified", lang))
            assert t("fl_plot_area", lang, lo=num(0.0001, lang), hi=num(1000, lang)) in msg, msg
        assert log.plots() == []
        assert "Đồi A" in LB.add_plot(services, "Đồi A", "coffee", 0.5, "certified", "en")
        assert [p.area_ha for p in log.plots()] == [0.5]

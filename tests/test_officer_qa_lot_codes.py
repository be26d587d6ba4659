"""A harvest lot code typed twice (the second bag of the same harvest, or `cb-2025-11` beside `CB-2025-11`)."""
from __future__ import annotations

import pytest

from leafscout.fieldlog import FieldLog
from leafscout.fieldlog.errors import FieldLogError


def test_a_lot_code_already_used_is_a_duplicate_in_the_log_and_the_app(tmp_path):
    """The refusal's code was `bad_value`, so the app's Log tab answered "a number or choice is out of range or
    badly formed; check the fields" for a lot code that is simply already there."""
    from webapp import logbook as LB
    from webapp.i18n import t

    class Services:
        pass

    with FieldLog.open(str(tmp_path / "log.sqlite")) as log:
        log.add_plot("Đồi A", "coffee", 0.5)
        log.add_lot("CB-2025-11", ["Đồi A"], harvested_at="2025-11-20")
        with pytest.raises(FieldLogError) as info:
            log.add_lot("cb-2025-11", ["Đồi A"])
        assert info.value.code == "duplicate", info.value.code
        assert "CB-2025-11" in str(info.value) and "already exists" in str(info.value)
        s = Services()
        s.log = log
        for lang in ("vi", "en"):
            msg, png = LB.add_lot(s, "CB-2025-11", ["Đồi A"], lang)
            assert png is None and t("fl_duplicate", lang) in msg, msg
            assert t("fl_bad_value", lang) not in msg, msg
        assert [lot.code for lot in log.lots()] == ["CB-2025-11"]

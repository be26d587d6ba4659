"""The answer card says what the advisor's today-part says (`leafscout diagnose --advise` prints it as HÔM NAY /
TODAY): the steps for today, the dose of a spray that is for today, never a later step's."""
from __future__ import annotations

import re

import pytest

from leafscout.webapp import handlers as H
from leafscout.webapp.i18n import t

from test_webapp_page_state import svc  # noqa: F401  (fixture)


def _rows(services, label, lang):
    from leafscout.advisor.render import today_lines

    advice = services.advise(label)
    state = {"status": "ok", "label": label, "confidence": 0.95, "top_k": [], "reason_code": "",
             "problem_type": advice.problem.get("type"), "advice": advice.to_dict()}
    card = H.render_card(services, state, lang)
    rows = dict(re.findall(r'<span class="card-k">([^<]*)</span> <span class="card-v">([^<]*)</span>', card))
    return advice, rows, today_lines(advice, lang, services.advisor.rules)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_spray_the_advisor_puts_in_this_week_is_not_on_the_card_as_todays_dose(svc, lang):  # noqa: F811
    """citrus melanose: today 'remove infected parts', copper this week. The card read 'Do today: remove ...' over
    'Per 16-litre sprayer: Copper hydroxide: 48 g ...': a farmer sprayed copper today (and spent copper from the
    7-year cap) where the CLI's today-part says only remove."""
    import html

    advice, rows, today = _rows(svc, "citrus.melanose", lang)
    assert [s.phase for s in advice.steps if "copper" in s.title["en"].lower()] == ["week"]
    copper = next(s for s in advice.steps if "copper" in s.title["en"].lower()).title[lang]
    assert copper not in html.unescape(" ".join(rows.values()))
    todays = [s.title[lang] for s in advice.steps if s.phase == "today"]
    assert html.unescape(rows[t("card_today", lang)]) == "; ".join(todays)
    assert html.unescape(rows[t("card_dose", lang)]) == t("card_no_spray", lang)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_nothing_for_today_says_what_the_advisor_says_not_this_weeks_first_step(svc, lang):  # noqa: F811
    """corn common rust has no step for today: the card's "Do today" was "Balanced feeding" (a this-week step);
    the CLI says "nothing to spray today: do the steps below this week"."""
    import html

    advice, rows, today = _rows(svc, "corn.common_rust", lang)
    assert not [s for s in advice.steps if s.phase == "today"]
    assert html.unescape(rows[t("card_today", lang)]) == today[0]


def test_todays_spray_keeps_its_dose_and_todays_steps_are_all_named(svc):  # noqa: F811
    import html

    advice, rows, _ = _rows(svc, "tomato.late_blight", "vi")
    todays = [s.title["vi"] for s in advice.steps if s.phase == "today"]
    assert html.unescape(rows[t("card_today", "vi")]) == "; ".join(todays)
    dose = html.unescape(rows[t("card_dose", "vi")])
    assert dose.startswith(todays[0] + ":") and "48 g" in dose

"""The Log tab and Save as a farmer in Son La (UTC+7) and an officer read them: times on the recorder's clock with
the zone named, typed names shown as typed (never a link or bold text), refusals that say what is wrong (not
"could not save" or "file could not be read"), numbers written for people, a new plot never given a made-up area,
and a dose per 16-litre sprayer only for what is sprayed."""
from __future__ import annotations

import html
import re
import time

import pytest

from leafscout.webapp import handlers as H
from leafscout.webapp import logbook as LB
from leafscout.webapp.i18n import num, t

from test_app_handlers import photo, services, toy  # noqa: F401  (fixtures)
from test_webapp_page_state import _page, flat, svc, uploads, GREEN  # noqa: F401  (fixtures)

NAME = "[free spray](http://x.example) **URGENT**"
BY = "**Bo** [me](www.e.example)"


def _plain(msg: str) -> str:
    """What a Markdown component shows: entities and backslash escapes read."""
    return re.sub(r"\\(.)", r"\1", html.unescape(msg))


def _no_markup(md: str):
    """What a Markdown component would turn into a link or bold text: none of it is left."""
    for typed in ("[free spray](", "](http", "](www", "**URGENT**", "**Bo**", "**B**"):
        assert typed not in md, md
    assert "http://" not in md and "www." not in md, md


@pytest.fixture
def son_la(monkeypatch):
    """The recorder's clock is Son La's (UTC+7)."""
    monkeypatch.setenv("TZ", "Asia/Ho_Chi_Minh")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _saved(services, tmp_path, plot="Lô A", by=None, area=0.5):  # noqa: F811
    st, _ = H.diagnose_upload(services, photo(tmp_path, "ok"), check_path=False)
    msg, obs_id = LB.save_for_review(services, st, None, plot, "vi", confirmed_by=by, new_area=area)
    assert obs_id, msg
    return msg, obs_id


# ------------------------------------------------------------------------------------------ 1. local times

def test_log_tab_times_are_on_the_recorders_clock_with_the_zone_named(services, tmp_path, son_la):  # noqa: F811
    _, obs_id = _saved(services, tmp_path)
    obs = services.log.history("Lô A").observations[0]
    local = obs.observed_at.replace(tzinfo=__import__("datetime").timezone.utc).astimezone()
    want = f"{local:%Y-%m-%d %H:%M} UTC+07:00"
    for lang in ("vi", "en"):
        assert want in LB.review_md(services, obs_id, lang)
    msg = _plain(LB.confirm(services, obs_id, "vi", typed="Lò Thị Hoa"))
    assert "UTC+07:00" in msg and not re.search(r"\d UTC(?!\+)", msg), msg
    for text in (LB.history_md(services, "Lô A", "vi"), LB.review_md(services, obs_id, "en"),
                 _plain(LB.confirm(services, obs_id, "en", typed="Lò Thị Hoa"))):  # "already confirmed ... at"
        assert "UTC+07:00" in text and not re.search(r"\d UTC(?!\+)", text), text


# --------------------------------------------------------------------------------- 2. typed text as text

def test_save_message_history_and_log_messages_show_typed_names_as_text(services, tmp_path):  # noqa: F811
    msg, obs_id = _saved(services, tmp_path, plot=NAME, by=BY)
    _no_markup(msg)
    assert "free spray" in msg and "URGENT" in msg
    _no_markup(LB.history_md(services, NAME, "vi"))
    _no_markup(LB.review_md(services, obs_id, "vi"))
    _no_markup(LB.record_copper_spray(services, NAME, "copper_hydroxide", 20, 1, None, "vi"))
    _no_markup(LB.add_plot(services, "[lô](http://a.example) **B**", "coffee", 1, "certified", "vi"))
    obs2 = _saved(services, tmp_path, plot=NAME)[1]
    _no_markup(LB.confirm(services, obs2, "vi", typed=BY))
    _no_markup(LB.confirm(services, obs2, "vi", typed=BY))  # "already confirmed by ..."


# ------------------------------------------------------------------------------------------ 3. huge ids

@pytest.mark.parametrize("bad", [10**30, "99999999999999999999999", "#5000", -3])
def test_confirm_with_an_id_that_is_no_record_says_so_in_the_pages_language(services, tmp_path, bad):  # noqa: F811
    _saved(services, tmp_path)
    for lang in ("vi", "en"):
        msg = _plain(LB.confirm(services, bad, lang, typed="Hoa"))
        assert msg == t("review_no_such", lang, id=str(bad).lstrip("#")), msg
        assert t("err_other", lang) not in msg and t("log_error", lang, msg="") not in msg
        try:  # the /confirm API: the same words, without Markdown escapes
            LB.confirm_record(services, bad, "Hoa")
        except Exception as exc:
            assert html.unescape(LB.review_error(exc, lang, markdown=False)) == \
                t("review_no_such", lang, id=str(bad).lstrip("#"))
        else:
            pytest.fail("confirmed a record that does not exist")


def test_the_confirm_api_answers_a_huge_id_with_not_found(services, tmp_path):  # noqa: F811
    import gradio as gr

    from leafscout.webapp import app

    _saved(services, tmp_path)
    demo = app.build_app(services)
    fn = next(b.fn for b in demo.fns.values() if b.api_name == "confirm")
    with pytest.raises(gr.Error) as err:
        fn(str(10**30), "Hoa", "vi")
    assert err.value.message == t("review_no_such", "vi", id=str(10**30))


# --------------------------------------------------------------------------------------------- 4. audit

@pytest.mark.parametrize("year", [0, "0", 1969, "abc", 1e30, "inf", 2026.5, float("nan"), "20266"])
def test_an_audit_for_a_year_out_of_range_says_so_not_could_not_save(services, year):  # noqa: F811
    for lang in ("vi", "en"):
        msg = _plain(LB.audit_md(services, year, lang))
        assert msg == t("log_audit_bad_year", lang, y=str(year).strip(), hi=9998), msg
        assert not msg.startswith(t("log_error", lang, msg="").strip())


@pytest.mark.parametrize("year", [None, "", "  "])
def test_an_audit_without_a_year_asks_for_one(services, year):  # noqa: F811
    for lang in ("vi", "en"):
        assert LB.audit_md(services, year, lang) == t("log_audit_need_year", lang, hi=9998)


# ----------------------------------------------------------------------------------- 5. a new plot's area

def test_a_new_plot_from_save_is_not_made_without_its_area(services, tmp_path):  # noqa: F811
    st, _ = H.diagnose_upload(services, photo(tmp_path, "ok"), check_path=False)
    for lang in ("vi", "en"):
        for area in (None, "", "  "):
            msg, obs_id = LB.save_for_review(services, st, None, "Lô mới", lang, new_area=area)
            assert obs_id is None and _plain(msg) == t("new_plot_need_area", lang, plot="Lô mới"), msg
    assert LB.plot_names(services) == []  # no plot made up at 0.1 ha
    msg, obs_id = LB.save_for_review(services, st, None, "Lô mới", "vi", new_area="5000")
    assert obs_id is None and "1.000 ha" in _plain(msg) and LB.plot_names(services) == []
    msg, obs_id = LB.save_for_review(services, st, None, "Lô mới", "vi", new_area="0,36")  # a decimal comma
    assert obs_id and services.log.get_plot("Lô mới").area_ha == pytest.approx(0.36)
    # an existing plot typed again needs no area
    st2, _ = H.diagnose_upload(services, photo(tmp_path, "uncertain"), check_path=False)
    assert LB.save_for_review(services, st2, None, "lô mới", "vi")[1]


def test_the_log_tab_asks_for_an_emptied_area_instead_of_making_it_a_tenth_of_a_hectare(services):  # noqa: F811
    for lang in ("vi", "en"):
        for area in (None, "", " "):
            assert LB.add_plot(services, "Đồi A", "coffee", area, "certified", lang) == t("log_need_area", lang)
    assert LB.plot_names(services) == []
    msg = LB.add_plot(services, "Đồi A", "[x](http://y.example) **cà**", "0,5", "certified", "vi")
    assert services.log.get_plot("Đồi A").area_ha == pytest.approx(0.5)
    assert "](http" not in msg and "**cà**" not in msg, msg  # the typed crop, as text


def test_the_diagnose_tab_asks_for_the_area_and_keeps_what_was_typed(svc, uploads):  # noqa: F811
    page = _page(svc)
    page.upload("photo", flat(uploads, "leaf.png", GREEN))
    page.set("save_new", "Đồi chè mới")
    page.fire("save_btn", "click")
    assert _plain(page.get("save_msg")) == t("new_plot_need_area", "vi", plot="Đồi chè mới")
    assert page.get("save_new") == "Đồi chè mới" and svc.log.plots() == []
    page.set("save_area", "0,5")
    page.fire("save_btn", "click")
    assert t("saved", "vi", plot="Đồi chè mới") in _plain(page.get("save_msg"))
    assert svc.log.get_plot("Đồi chè mới").area_ha == pytest.approx(0.5)
    assert page.get("save_new") == "" and page.get("save_area") == ""


def test_reading_or_exporting_is_not_called_saving(services):  # noqa: F811
    from leafscout.fieldlog.errors import FieldLogError

    for lang in ("vi", "en"):
        unknown = t("fl_unknown_plot", lang)
        assert LB.history_md(services, "Không có", lang) == t("log_read_error", lang, msg=unknown)
        assert LB.export_files(services, "Không có", lang) == (t("log_export_error", lang, msg=unknown), [])

    def gone(*a, **k):
        raise FieldLogError("db gone", "db_unavailable")

    services.log.observation_review = gone
    for lang in ("vi", "en"):
        assert LB.review_md(services, 3, lang) == t("log_read_error", lang, msg=t("fl_db_unavailable", lang))


# ------------------------------------------------------------------------------------------- 6. numbers

def test_numbers_are_written_for_people():
    assert num(4.8e7, "vi") == "48.000.000" and num(4.8e7, "en") == "48,000,000"
    assert num(0.0001, "vi") == "0,0001" and num(1.5, "vi") == "1,5" and num(1.5, "en") == "1.5"
    assert num(28, "vi") == "28" and num(0.003, "vi") == "0,003"


@pytest.mark.parametrize("bad", ["inf", "-inf", "nan", "1e999", float("inf"), float("nan")])
def test_non_finite_numbers_are_refused_clearly(services, bad):  # noqa: F811
    services.log.add_plot("Lô S", "coffee", 0.5, organic_status="certified")
    for lang in ("vi", "en"):
        want = t("log_error", lang, msg=t("fl_not_finite", lang, value=str(bad).strip()))
        assert _plain(LB.record_action(services, "Lô S", "Phun", "", bad, lang)) == want
        assert _plain(LB.record_copper_spray(services, "Lô S", "copper_hydroxide", bad, 1, None, lang)) == want
        assert _plain(LB.record_copper_spray(services, "Lô S", "copper_hydroxide", 10, bad, None, lang)) == want
        assert _plain(LB.record_copper_spray(services, "Lô S", "other", 10, 1, bad, lang)) == want
        assert _plain(LB.add_plot(services, "Lô T", "coffee", bad, "certified", lang)) == want
    assert services.log.history("Lô S").actions == [] and LB.plot_names(services) == ["Lô S"]


def test_log_messages_on_the_vi_page_have_no_exponent_and_a_decimal_comma(services):  # noqa: F811
    services.log.add_plot("Lô nhỏ", "coffee", 0.0001, organic_status="certified")
    msg = _plain(LB.record_action(services, "Lô nhỏ", "Phun", "", 4.8e7, "vi"))
    assert "48.000.000 kg" in msg and "e+" not in msg and "0,2 đến 2" in msg, msg
    msg = _plain(LB.record_copper_spray(services, "Lô nhỏ", "copper_hydroxide", 1e6, 100, None, "vi"))
    assert "e+" not in msg and "500.000.000 kg" in msg, msg
    msg = _plain(LB.record_copper_spray(services, "Lô nhỏ", "copper_hydroxide", 1, 1, None, "vi"))
    assert "0,0001 ha" in msg and "0,5 g" in msg and "0.0001" not in msg, msg
    msg = _plain(LB.add_plot(services, "Lô lớn", "coffee", 5000, "certified", "vi"))
    assert "0,0001 đến 1.000 ha" in msg, msg
    hist = _plain(LB.history_md(services, "Lô nhỏ", "vi"))
    assert "Đồng đã dùng: 5 kg/ha" in hist and "Cu 5 kg/ha" in hist
    LB.record_action(services, "Lô nhỏ", "Phun", "copper hydroxide", "1,5", "vi")  # the vi page's "1,5"
    assert "Cu 1,5 kg/ha" in _plain(LB.history_md(services, "Lô nhỏ", "vi"))


# ------------------------------------------------------------------------------- 7. a dose only for sprays

@pytest.mark.parametrize("label", ["mango.die_back"])
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_paste_painted_on_trunks_has_no_per_sprayer_dose(svc, label, lang):  # noqa: F811
    advice = svc.advise(label)
    todays = [s for s in advice.steps if s.phase == "today"]
    assert "bordeaux_paste" in [s.treatment_id for s in todays]
    state = {"status": "ok", "label": label, "confidence": 0.95, "top_k": [], "reason_code": "",
             "problem_type": advice.problem.get("type"), "advice": advice.to_dict()}
    card = html.unescape(H.render_card(svc, state, lang))
    rows = dict(re.findall(r'<span class="card-k">([^<]*)</span> <span class="card-v">([^<]*)</span>', card))
    assert rows[t("card_dose", lang)] == t("card_no_spray", lang), rows
    paste = next(s for s in todays if s.treatment_id == "bordeaux_paste")
    assert paste.title[lang] not in rows[t("card_dose", lang)]
    assert rows[t("card_gear", lang)] != t("card_gear_spray", lang)


def test_an_audit_row_without_a_substance_has_no_empty_brackets(services, monkeypatch):  # noqa: F811
    import datetime as dt
    from types import SimpleNamespace

    import leafscout.service as service

    act = SimpleNamespace(at=dt.datetime(2026, 6, 1, 3, 0), what="Phun thuốc mua ở chợ", active_substance=None)
    row = SimpleNamespace(plot="Đồi A", action=act, reason="hỏi cán bộ")
    rep = SimpleNamespace(rows=[row], flagged=[row], copper=[])
    monkeypatch.setattr(service, "audit_season", lambda *a, **k: rep)
    md = LB.audit_md(services, 2026, "vi")
    assert "Phun thuốc mua ở chợ: hỏi cán bộ" in _plain(md) and "()" not in md, md


def test_the_log_tabs_new_plot_form_has_no_area_filled_in_for_the_farmer(svc, uploads):  # noqa: F811
    """The area box showed 0.5: a farmer who did not change it got a 0.5 ha plot, and every spray logged by the
    tank there was divided by an area nobody gave. It starts empty and an empty area is asked for."""
    page = _page(svc)
    assert page.get("np_area") in (None, "")
    page.set("np_name", "Đồi Bắc")
    page.fire("np_btn", "click")
    assert page.get("np_msg") == t("log_need_area", "vi") and svc.log.plots() == []
    page.set("np_area", "0,36")  # the vi page's decimal comma
    page.fire("np_btn", "click")
    assert svc.log.get_plot("Đồi Bắc").area_ha == pytest.approx(0.36)


def test_the_copper_cap_warning_shows_the_plot_name_as_text(services):  # noqa: F811
    LB.add_plot(services, NAME, "coffee", "0,5", "certified", "vi")
    for _ in range(6):
        msg = LB.record_action(services, NAME, "Phun đồng", "copper hydroxide", "5,5", "vi")
    assert "28 kg Cu/ha" in _plain(msg) and "free spray" in msg, msg  # the warning is there
    _no_markup(msg)


def test_a_name_too_close_to_an_existing_plot_names_that_plot_as_text(services):  # noqa: F811
    LB.add_plot(services, "**Đồi** A", "coffee", 1, "certified", "vi")
    msg = LB.add_plot(services, "Doi A", "coffee", 1, "certified", "vi")
    assert _plain(msg) == t("log_error", "vi", msg=t("fl_similar_name", "vi", other="**Đồi** A")), msg
    assert "**Đồi**" not in msg

"""A farmer photographs a street with a tree, a lawn or a hillside from afar: plant colour, but no leaf close
enough to look at. The model's own answer is "no leaf". LeafScout says so in the farmer's words, offers no
disease guess (its nearest leaf labels hold ~0%) and no treatment, and does not file it as a diagnosis.

Before this, the same photo was answered "Not sure: Mango sooty mould?" with that disease's advice.
The fixture is a PlantVillage background photo (tests/fixtures/images/ATTRIBUTION.md).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from leafscout.model.results import NO_LEAF_SEEN
from leafscout.webapp import batch as B
from leafscout.webapp import handlers as H
from leafscout.webapp.i18n import t

REPO = Path(__file__).resolve().parent.parent
FAR_AWAY = REPO / "tests/fixtures/plants_far_away/image_(94).jpg"


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    from leafscout.webapp.services import Services
    s = Services(db=str(tmp_path_factory.mktemp("log") / "log.sqlite"))  # the shipped models
    s.log.add_plot("Doi A", "tomato", 0.5)
    return s


@pytest.fixture(scope="module")
def state(services):
    st, _ = H.diagnose_upload(services, FAR_AWAY, check_path=False)
    return st


def test_the_answer_is_no_leaf_seen_not_a_disease(services, state):
    bg = services.predictor.background_label
    assert (state["status"], state["label"], state["reason_code"]) == ("uncertain", bg, NO_LEAF_SEEN), state
    assert state["confidence"] > 0.5  # the no-leaf class's own probability
    assert state["top_k"] and all(k["label"] != bg for k in state["top_k"])  # nearest leaf labels, for officers
    assert state["advice"]["problem"]["id"] == bg  # "take one leaf close up", no treatment


def test_the_card_gives_the_reason_and_no_guess(services, state):
    for lang in ("vi", "en"):
        card = H.render_card(services, state, lang)
        assert t("no_leaf_seen_why", lang) in card and t("retake_tips", lang) in card
        details = H.render_details(services, state, lang)
        for k in state["top_k"]:
            name = H.problem_name(services.advisor, k["label"], lang)
            assert name not in card and name not in details, k


def test_the_command_line_says_it_in_vietnamese(services):
    from leafscout.cli_diagnose import result_text
    from leafscout.i18n import t as cli_t
    r = services.predictor.predict(str(FAR_AWAY))
    text = result_text(r, "vi", services.advisor)
    assert text == f"{cli_t('uncertain', 'vi')}: {cli_t('why_no_leaf_seen', 'vi')}; {cli_t('retake', 'vi')}"
    assert r.summary().startswith("uncertain: the photo has plant colour")


def test_a_batch_row_names_no_disease(services, tmp_path):
    batch = B.run_batch(services, [str(FAR_AWAY)], workdir=tmp_path, check_paths=False)
    row = B.table(services.advisor, batch, "vi")["data"][0]
    assert t("no_leaf_seen_short", "vi") in row
    import csv
    with open(B.write_csv(services.advisor, batch, "vi", tmp_path / "r.csv"), encoding="utf-8-sig") as fh:
        head, first = list(csv.reader(fh))[:2]
    assert dict(zip(head, first))["reason_code"] == NO_LEAF_SEEN  # an officer can filter these out in a sheet


def test_it_is_not_filed_as_a_diagnosis_without_a_person(services, state):
    from leafscout.errors import ServiceError
    with pytest.raises(ServiceError) as ei:
        services.record_result("Doi A", state["photo"], state["label"], state["status"], state["confidence"],
                               state["model_version"])
    assert ei.value.log_code == "needs_confirmation"
    obs = services.record_result("Doi A", state["photo"], state["label"], state["status"], state["confidence"],
                                 state["model_version"], confirmed_by="Lò Thị Hoa")
    assert (obs.label, obs.status) == (services.predictor.background_label, "not_a_leaf")

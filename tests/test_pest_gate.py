"""The insect detector looks only where insects of its crop can be: never on a photo with no plant (a person
reports no rice bug), not on a leaf the classifier is sure is another crop, always when the grower names
rice or the classifier does not know the plant. Fakes stand in for the two networks, so the rule itself is
what is tested."""
from __future__ import annotations

import pytest

from leafscout.service import PEST_CROP_MIN, PEST_NO_LEAF_CROP_MIN, DiagnosisService
from leafscout.model.results import Result


class FakePredictor:
    labels = ["background.no_leaf", "rice.blast", "rice.other", "tomato.healthy"]
    crops = ["rice", "tomato"]
    background_label = "background.no_leaf"
    version = "test"

    def __init__(self, result: Result):
        self.result = result

    def check_crop(self, crop):
        return crop

    def predict(self, photo, top_k=3, tta=False, path=None, crop=None):
        return self.result


class FakeDetector:
    labels = ["rice.brown_planthopper", "rice.rice_bug"]

    def __init__(self):
        self.calls = 0

    def detect(self, photo):
        self.calls += 1
        return []


def run(result: Result, crop=None) -> tuple[int, object]:
    det = FakeDetector()
    svc = DiagnosisService(predictor=FakePredictor(result), detector=det, db="sqlite://")
    d = svc.diagnose(b"photo bytes are not read by the fakes", crop=crop)
    return det.calls, d


def test_a_photo_with_no_plant_reports_no_insects():
    calls, d = run(Result(path=None, status="not_a_leaf", label="background.no_leaf", confidence=0.9,
                          crop_scores=[("rice", 0.31)]))
    assert calls == 0 and d.pests == [] and d.pests_dict()["pest_counts"] == {}


def test_an_insect_close_up_on_a_dry_stem_is_still_looked_at():
    """No leaf colour, but the classifier is sure the photo is of rice: an insect on a dry stem."""
    calls, _ = run(Result(path=None, status="not_a_leaf", label="background.no_leaf",
                          crop_scores=[("rice", PEST_NO_LEAF_CROP_MIN)]))
    assert calls == 1


def test_a_leaf_of_another_crop_skips_the_rice_detector():
    calls, d = run(Result(path=None, status="ok", label="tomato.healthy", confidence=0.97,
                          crop_scores=[("tomato", 0.97), ("rice", PEST_CROP_MIN / 2)]))
    assert calls == 0 and d.pests == []


@pytest.mark.parametrize("result,crop", [
    (Result(path=None, status="ok", label="tomato.healthy", confidence=0.9,
            crop_scores=[("tomato", 0.9), ("rice", PEST_CROP_MIN)]), None),     # rice is possible
    (Result(path=None, status="uncertain", label="rice.other", confidence=0.8,
            crop_scores=[("rice", 0.8)]), None),                                # rice, problem unnamed
    (Result(path=None, status="uncertain", label="tomato.healthy", confidence=0.2,
            crop_scores=[("tomato", 0.2)]), None),                              # a plant it does not know
    (Result(path=None, status="ok", label="rice.blast", confidence=0.9, crop="rice"), "rice"),  # named
])
def test_the_detector_looks_where_rice_insects_can_be(result, crop):
    calls, _ = run(result, crop)
    assert calls == 1

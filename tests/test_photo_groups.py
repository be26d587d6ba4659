"""Several photos of one plant give one answer: every leaf photo's evidence counts, photos without a leaf
do not vote, and the answer says how many photos agree (issue 17: Nuru's field accuracy rose with six leaves
of one plant)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from leafscout.model.runtime import Predictor
from leafscout.model.testing import TOY_COLOURS, flat_photo, toy_model

pytest.importorskip("onnx")
FIXTURES = Path(__file__).parent / "fixtures" / "images"


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Predictor:
    return Predictor(toy_model(tmp_path_factory.mktemp("group") / "toy.onnx"), threads=1)


def test_a_group_weighs_every_leaf_photo_and_says_how_many_agree(toy):
    sure = toy.predict(flat_photo(TOY_COLOURS["ok"]))
    unsure = toy.predict(flat_photo(TOY_COLOURS["uncertain"]))
    assert sure.status == "ok" and unsure.status == "uncertain"
    g = toy.combine([sure, sure, unsure])
    assert g.group == {"photos": 3, "voted": 3, "agree": 2 + (unsure.label == g.label)}
    assert g.label == sure.label
    np.testing.assert_allclose(g.logits, np.mean([sure.logits, sure.logits, unsure.logits], axis=0))
    assert g.to_dict()["group"]["photos"] == 3


def test_photos_without_a_leaf_do_not_vote(toy):
    sure = toy.predict(flat_photo(TOY_COLOURS["ok"]))
    blank = toy.predict(flat_photo(TOY_COLOURS["background"]))
    assert blank.status == "not_a_leaf"
    g = toy.combine([blank, sure, blank])
    assert (g.status, g.label) == (sure.status, sure.label) and g.group["voted"] == 1
    none = toy.combine([blank, blank])
    assert none.status == "not_a_leaf" and "no photo of the group shows a leaf" in none.reason
    # grass, trees far away: uncertain "no single leaf seen" (plant colour, the no-leaf class won) does not vote
    import dataclasses
    lawn = dataclasses.replace(sure, status="uncertain", label=toy.background_label, reason_code="no_leaf_seen")
    assert not lawn.saw_a_leaf and sure.saw_a_leaf and not blank.saw_a_leaf
    g = toy.combine([lawn, sure])
    assert g.label == sure.label and g.group["voted"] == 1
    # only plant colour, no leaf in any photo: uncertain "no single leaf seen", as for one such photo
    g = toy.combine([lawn, lawn, blank])
    assert (g.status, g.label, g.reason_code) == ("uncertain", toy.background_label, "no_leaf_seen")
    assert not g.saw_a_leaf and g.summary().startswith("uncertain: the photos have plant colour")


def test_the_service_answers_a_group_with_advice_and_each_photo(tmp_path):
    from leafscout.service import DiagnosisService, ServiceError
    photos = sorted((FIXTURES / "ibean_uganda").glob("*/*.jpg"))[:3]  # the shipped model; any bean photos
    assert len(photos) == 3
    svc = DiagnosisService(db=f"sqlite:///{tmp_path / 'log.sqlite'}")
    combined, each = svc.diagnose_group(photos + [tmp_path / "missing.jpg"])
    assert len(each) == 4 and each[-1].status == "error"
    assert combined.result.group["photos"] == 4 and combined.result.group["voted"] == 3
    assert combined.status in ("ok", "uncertain") and combined.advice is not None
    assert combined.to_dict()["group"] == combined.result.group and combined.to_dict()["file"] is None
    with pytest.raises(ServiceError):
        svc.diagnose_group([])


def test_a_photo_sent_twice_is_one_leaf_not_two(tmp_path, capsys):
    """The same bytes under two names (or twice as bytes) vote once: two copies of an unsure photo beside one
    sure photo must not outvote it. The repeat keeps its own line, saying which photo it repeats."""
    import cv2
    import json

    from leafscout.cli import main
    from leafscout.service import DiagnosisService, same_photos
    toy = toy_model(tmp_path / "toy.onnx")
    plant = tmp_path / "plant"
    plant.mkdir()
    for name, colour in (("1.png", "ok"), ("2.png", "uncertain"), ("3.png", "uncertain")):
        cv2.imwrite(str(plant / name), cv2.cvtColor(flat_photo(TOY_COLOURS[colour]), cv2.COLOR_RGB2BGR))
    paths = sorted(plant.glob("*.png"))
    assert same_photos(paths) == [None, None, 1]
    assert same_photos([b"x", b"y", b"x", tmp_path / "missing.jpg", tmp_path / "missing.jpg"]) == [None, None, 0, None, None]
    svc = DiagnosisService(model_path=toy)
    d, each = svc.diagnose_group(paths)
    assert d.result.group["photos"] == 3 and d.result.group["voted"] == 2 and d.result.group["duplicates"] == 1
    assert [x.duplicate_of for x in each] == [None, None, 2] and each[2].display_name == "3.png"
    alone, _ = svc.diagnose_group(paths[:2])  # the repeat changes nothing in the answer
    np.testing.assert_allclose(d.result.logits, alone.result.logits)
    rc = main(["diagnose", "--model", str(toy), "--group", str(plant), "--lang", "en"])
    out = capsys.readouterr().out
    assert rc == 0 and "1 photo(s) repeat an earlier one: counted once" in out
    assert "3.png: same photo as 2, not counted" in out
    rc = main(["diagnose", "--model", str(toy), "--group", "--json", str(plant)])
    row = json.loads(capsys.readouterr().out)
    assert [p["duplicate_of"] for p in row["photos"]] == [None, None, 2] and row["group"]["duplicates"] == 1


def test_the_cli_gives_one_answer_per_plant_folder(tmp_path, capsys):
    """`leafscout diagnose --group plantA plantB`: a line per plant with how many photos agree, each photo
    under it; --json gives one object per plant; --group with --log is refused before any photo is read."""
    import cv2
    import json

    from leafscout.cli import main
    toy = str(toy_model(tmp_path / "toy.onnx"))
    for plant, colours in {"plantA": ["ok", "ok", "uncertain"], "plantB": ["background"]}.items():
        (tmp_path / plant).mkdir()
        for i, c in enumerate(colours):
            cv2.imwrite(str(tmp_path / plant / f"{i}.jpg"), cv2.cvtColor(flat_photo(TOY_COLOURS[c]), cv2.COLOR_RGB2BGR))
    rc = main(["diagnose", "--model", toy, "--group", str(tmp_path / "plantA"), str(tmp_path / "plantB")])
    out, err = capsys.readouterr()
    heads = [line for line in out.splitlines() if not line.startswith(" ")]
    assert rc == 0 and len(heads) == 2 and "2 group(s), 4 photo(s)" in err
    assert heads[0].startswith("plantA: bean.healthy") and "leaf photo(s) agree; 3 photo(s)" in heads[0]
    assert heads[1].startswith("plantB: not a leaf") and "[no photo shows a leaf; 1 photo(s) in the group]" in heads[1]
    rc = main(["diagnose", "--model", toy, "--group", "--json", str(tmp_path / "plantA")])
    row = json.loads(capsys.readouterr().out)
    assert rc == 0 and row["group_name"] == "plantA" and row["group"]["photos"] == 3 and len(row["photos"]) == 3
    assert [p["reason_code"] for p in row["photos"]].count("") == 2  # the two sure photos; each says why
    rc = main(["diagnose", "--model", toy, "--group", "--log", "Doi A", str(tmp_path / "plantA")])
    assert rc == 2 and "--group" in capsys.readouterr().err


def test_a_group_names_the_crops_its_photos_were_answered_with(tmp_path, capsys):
    """Two photos of two crops sent as one plant: the group's `crops` lists both, and the CLI says so."""
    import shutil

    from conftest import chilli_and_coffee_photos
    from leafscout.cli import main
    from leafscout.service import DiagnosisService
    svc = DiagnosisService()
    picks = chilli_and_coffee_photos(svc)
    d, _ = svc.diagnose_group(picks)
    assert d.result.group["crops"] == ["chilli", "coffee"] and d.result.group["mixed"]
    plant = tmp_path / "plant1"
    plant.mkdir()
    for p in picks:
        shutil.copy(p, plant / p.name)
    assert main(["diagnose", "--group", str(plant), "--lang", "en"]) == 0
    assert "the photos look like different crops (chilli, coffee)" in capsys.readouterr().out
    one, _ = svc.diagnose_group([picks[0], picks[0]])
    assert one.result.group["crops"] == ["chilli"] and not one.result.group["mixed"]


@pytest.mark.parametrize("labels, mixed", [
    (["chilli.a", "coffee.b"], True),                       # one photo against one: cannot be one plant's answer
    (["chilli.a"] * 5 + ["tomato.b"], False),               # one stray photo of six: still one plant
    (["chilli.a", "chilli.b", "tomato.c"], False),          # two thirds agree
    (["chilli.a", "chilli.b", "tomato.c", "coffee.d"], True),
    ([], False)])
def test_a_group_is_called_mixed_only_when_no_crop_holds_two_thirds(labels, mixed):
    from leafscout.service import mixed_crops
    assert mixed_crops(labels)["mixed"] is mixed

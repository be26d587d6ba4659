"""The messaging-app benchmarks: a folder re-delivered small and crushed keeps its class folders (so the scorers
read the truth from it), and the route limit is the highest quality at which the candidate never loses more than
the slack, counted from the lowest quality up."""
import subprocess
import sys
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.jpeg_route import route_limit  # noqa: E402
from leafscout.model.imageio import read_image  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures" / "images" / "chilli_leaf"


def test_route_limit_stops_at_the_first_quality_where_a_cell_loses():
    table = {(25, 0.5, "a"): (10, 5, 7), (25, 1.0, "b"): (10, 8, 7),   # -1 photo: within slack 1
             (35, 0.5, "a"): (10, 5, 6), (35, 1.0, "b"): (10, 8, 6),   # -2: fails
             (50, 0.5, "a"): (10, 5, 9), (50, 1.0, "b"): (10, 8, 9)}   # wins, but above a failing quality
    assert route_limit(table, [25, 35, 50], slack=1) == 25
    assert route_limit(table, [25, 35, 50], slack=2) == 50
    assert route_limit(table, [25, 35, 50], slack=0) is None


def test_small_jpeg_folder_keeps_class_folders_and_halves_each_photo(tmp_path):
    out = tmp_path / "chilli_leaf"
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "small_jpeg_folder.py"), str(FIXTURES), str(out),
                          "--quality", "25", "--scale", "0.5"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    src = sorted(p.relative_to(FIXTURES) for p in FIXTURES.rglob("*.jpg"))
    assert sorted(p.relative_to(out) for p in out.rglob("*.jpg")) == src
    first = src[0]
    h, w = read_image(FIXTURES / first).shape[:2]
    with Image.open(out / first) as im:
        assert im.size == (int(w * 0.5), int(h * 0.5))
        assert im.format == "JPEG"


def test_small_jpeg_folder_refuses_a_missing_folder(tmp_path):
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "small_jpeg_folder.py"), str(tmp_path / "nope"),
                          str(tmp_path / "out")], capture_output=True, text=True)
    assert run.returncode == 2 and "not a folder" in run.stderr and "Traceback" not in run.stderr

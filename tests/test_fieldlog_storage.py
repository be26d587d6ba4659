"""Storage stories: a farm keeps its field log in SQLite (or a cooperative's PostgreSQL), many
writers at once lose nothing, a crash leaves a sound database, and bad input changes nothing.

PostgreSQL runs when LEAFSCOUT_TEST_PG_URL is set (tests/ci/setup_postgres.sh prints it).
"""
from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import func, select

from leafscout.fieldlog import FieldLog, FieldLogError, NotAnImageError, UnknownPlotError
from leafscout.fieldlog.schema import Action, Base

from fieldlog_backends import db_url, log  # noqa: E402,F401  (shared fixtures: SQLite + PostgreSQL)

REPO = Path(__file__).resolve().parents[1]

@pytest.fixture
def leaf_photo(tmp_path) -> Path:
    rng = np.random.default_rng(6)
    img = rng.integers(0, 255, (96, 128, 3), dtype=np.uint8)
    path = tmp_path / "leaf.jpg"
    assert cv2.imwrite(str(path), img)
    return path


def snapshot(log: FieldLog) -> tuple:
    """Row counts of every table plus the photo files: "nothing changed" means this is equal."""
    engine = log._engine
    with engine.connect() as conn:
        counts = {t.name: conn.execute(select(func.count()).select_from(t)).scalar() for t in Base.metadata.sorted_tables}
    files = sorted(str(p.relative_to(log.photo_dir)) for p in log.photo_dir.rglob("*")) if log.photo_dir.exists() else []
    return counts, files


def test_a_plot_remembers_what_was_seen_and_done(log, leaf_photo):
    plot = log.add_plot("Nà Sản 1", crop="coffee", area_ha=0.8, location="Mai Sơn, Sơn La",
                        buffer_notes="5 m hedge of vetiver to the conventional maize next door")
    seen = log.record_observation("nà sản 1", leaf_photo, "coffee.leaf_rust", "ok", 0.87, "effnet-lite0-v3",
                                  observer="Lò Văn Ánh", observed_at="2025-06-02T07:30")
    log.record_action(plot, "sprayed Bordeaux mixture", product="Bordeaux 1%", active_substance="copper sulphate",
                      amount=2.5, unit="kg", copper_kg_ha=1.2, by="Lò Văn Ánh", at="2025-06-03T06:00",
                      observation_id=seen.id)
    log.record_action(plot, "pruned shade trees", at="2025-06-04")

    history = log.history("Nà Sản 1")
    assert [o.label for o in history.observations] == ["coffee.leaf_rust"]
    assert [a.what for a in history.actions] == ["sprayed Bordeaux mixture", "pruned shade trees"]
    assert history.actions[0].observation_id == seen.id
    assert [kind for _, kind, _ in history.timeline()] == ["observation", "action", "action"]
    stored = log.photo_path(seen)
    assert stored.read_bytes() == leaf_photo.read_bytes() and seen.photo_sha256 in stored.name


def test_copper_ledger_feeds_the_seven_year_cap(log):
    plot = log.add_plot("Chiềng Ban", "coffee", 1.0)
    for year, kg in [(2017, 4.5), (2017, 4.5), (2018, 3.0), (2022, 4.0), (2024, 2.5), (2024, 1.5), (2025, 3.0)]:
        log.record_action(plot, "copper spray", active_substance="copper hydroxide", copper_kg_ha=kg,
                          at=dt.date(year, 5, 1))
    assert log.copper_used(plot, 2024) == (4.0, 3.0 + 4.0 + 4.0)  # 2018..2024; 2017 has left the window
    assert log.copper_used(plot, 2025) == (3.0, 11.0)  # 2019..2025: 2018 has left too
    assert log.copper_ledger(plot) == {2017: 9.0, 2018: 3.0, 2022: 4.0, 2024: 4.0, 2025: 3.0}


def test_unknown_plot_is_refused_with_a_suggestion_and_nothing_changes(log, leaf_photo):
    log.add_plot("Tà Xùa tea", "tea", 2.0)
    before = snapshot(log)
    with pytest.raises(UnknownPlotError, match="Did you mean 'Tà Xùa tea'"):
        log.record_action("Ta Xua tea", "weeding")
    with pytest.raises(UnknownPlotError):
        log.record_observation("Ta Xua tee", leaf_photo, "tea.blight", "ok", 0.7, "v1")
    assert snapshot(log) == before


@pytest.mark.parametrize("area", [-1.0, 0, float("nan"), "big"])
def test_a_plot_needs_a_positive_area(log, area):
    before = snapshot(log)
    with pytest.raises(FieldLogError, match="plot area"):
        log.add_plot("Mộc Châu 3", "tea", area)
    assert snapshot(log) == before


def test_records_in_the_future_are_refused(log, leaf_photo):
    plot = log.add_plot("Phiêng Luông", "plum", 0.5)
    tomorrow = dt.datetime.now() + dt.timedelta(days=1)
    before = snapshot(log)
    with pytest.raises(FieldLogError, match="in the future"):
        log.record_action(plot, "spray neem", at=tomorrow)
    with pytest.raises(FieldLogError, match="in the future"):
        log.record_observation(plot, leaf_photo, "plum.healthy", "ok", 0.99, "v1", observed_at=tomorrow)
    with pytest.raises(FieldLogError, match="in the future"):
        log.add_lot("PL-2099", [plot], harvested_at=dt.date.today() + dt.timedelta(days=3))
    assert snapshot(log) == before


@pytest.mark.parametrize("content", [b"", b"not a photo at all", b"\xff\xd8\xff\xe0 truncated jpeg"])
def test_a_photo_must_be_a_real_image(log, tmp_path, content):
    plot = log.add_plot("Bản Áng", "tea", 1.0)
    fake = tmp_path / "leaf.jpg"
    fake.write_bytes(content)
    before = snapshot(log)
    with pytest.raises(NotAnImageError, match="not an image"):
        log.record_observation(plot, fake, "tea.blight", "ok", 0.8, "v1")
    with pytest.raises(NotAnImageError, match="could not be read"):
        log.record_observation(plot, tmp_path / "missing.jpg", "tea.blight", "ok", 0.8, "v1")
    assert snapshot(log) == before


def test_other_bad_values_are_explained(log, leaf_photo):
    plot = log.add_plot("Co Mạ", "coffee", 1.0)
    before = snapshot(log)
    with pytest.raises(FieldLogError, match="confidence"):
        log.record_observation(plot, leaf_photo, "coffee.rust", "ok", 1.5, "v1")
    with pytest.raises(FieldLogError, match="copper"):
        log.record_action(plot, "spray", copper_kg_ha=-2)
    with pytest.raises(FieldLogError, match="organic status"):
        log.add_plot("X", "tea", 1, organic_status="almost organic")
    with pytest.raises(FieldLogError, match="already exists"):
        log.add_plot("Co Mạ", "tea", 1)
    with pytest.raises(FieldLogError, match="is not an observation of plot"):
        log.record_action(plot, "spray", observation_id=999)
    assert snapshot(log) == before


def test_a_batch_is_kept_whole_or_not_at_all(log):
    plot = log.add_plot("Batch plot", "tea", 1.0)
    with pytest.raises(UnknownPlotError):
        with log.batch():
            log.record_action(plot, "first of the batch")
            log.record_action("no such plot", "second of the batch")
    assert log.history(plot).actions == []
    with log.batch():
        for i in range(5):
            log.record_action(plot, f"row {i}")
    assert len(log.history(plot).actions) == 5


def test_eight_writers_at_once_lose_nothing(db_url, tmp_path):
    """Eight workers (the app, the CLI, a diagnose batch...) each with its own connection."""
    with FieldLog.open(db_url, photo_dir=tmp_path / "photos") as first:
        first.add_plot("Busy plot", "coffee", 3.0)
    logs = [FieldLog.open(db_url, photo_dir=tmp_path / "photos") for _ in range(8)]
    start, errors = threading.Barrier(8), []

    def writer(n: int):
        start.wait()
        try:
            for i in range(500):
                logs[n].record_action("Busy plot", f"writer {n} row {i}", copper_kg_ha=0.001)
        except Exception as exc:  # any "database is locked" lands here and fails the test
            errors.append(repr(exc))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    elapsed = time.monotonic() - began
    assert errors == []
    whats = [a.what for a in logs[0].history("Busy plot").actions]
    assert len(whats) == 4000 and len(set(whats)) == 4000
    assert logs[0].copper_used("Busy plot")[0] == pytest.approx(4.0)
    for lg in logs:
        lg.close()
    assert elapsed < 60, f"8x500 writes took {elapsed:.1f}s"


KILLED_WRITER = """
import sys, time
from leafscout.fieldlog import FieldLog
log = FieldLog.open(sys.argv[1], photo_dir=sys.argv[2])
mode = sys.argv[3]
batch = 0
while True:
    with log.batch():
        for i in range(50):
            log.record_action("Crash plot", f"batch {batch} row {i}")
            if mode == "mid" and batch == 3 and i == 25:
                print("MID-TRANSACTION", flush=True)
                time.sleep(60)
    batch += 1
    if batch == 1 and mode == "anytime":
        print("WRITING", flush=True)
"""


@pytest.mark.parametrize("moment", ["mid", "anytime"])
def test_a_writer_killed_mid_transaction_leaves_a_sound_database(db_url, tmp_path, moment):
    with FieldLog.open(db_url, photo_dir=tmp_path / "photos") as lg:
        lg.add_plot("Crash plot", "tea", 1.0)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, db_url, str(tmp_path / "photos"), moment],
                             cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline().strip()
        assert line == {"mid": "MID-TRANSACTION", "anytime": "WRITING"}[moment], child.stderr.read()
        if moment == "anytime":
            time.sleep(0.4 + np.random.default_rng().random() * 0.6)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL

    if not db_url.startswith("postgresql"):
        with sqlite3.connect(db_url) as raw:
            assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    with FieldLog.open(db_url, photo_dir=tmp_path / "photos") as lg:
        actions = lg.history("Crash plot").actions
        lg.record_action("Crash plot", "life goes on after the crash")
    assert len(actions) % 50 == 0 and len(actions) >= 50  # only whole batches survive
    if moment == "mid":
        assert len(actions) == 150


def test_new_database_is_at_the_newest_migration(db_url, tmp_path):
    from leafscout.fieldlog import migrate

    with FieldLog.open(db_url, photo_dir=tmp_path / "photos") as lg:
        assert migrate.current_revision(lg._engine) == migrate.head_revision()


def test_migrations_create_exactly_the_models(db_url, tmp_path):
    """Alembic autogenerate finds nothing to add: migrations and schema.py agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with FieldLog.open(db_url, photo_dir=tmp_path / "photos") as lg:
        with lg._engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


@pytest.mark.parametrize("size, depth, why", [((60000, 60000), 8, "pixels"), ((14000, 14000), 8, "pixels"),
                                              ((10900, 10900), 16, "MB")])
def test_a_pixel_bomb_is_refused_from_its_header_not_decoded(log, tmp_path, size, depth, why):
    """A PNG a few hundred kB on disk that would decode to gigabytes: refused before OpenCV allocates it, with
    the limit in the message, whatever Pillow's own bomb guard says about it."""
    import struct
    import zlib
    w, h = size
    row_bytes = 1 + w * 3 * depth // 8
    comp = zlib.compressobj(9)
    rows = b"".join(comp.compress(b"\0" * row_bytes) for _ in range(min(h, 64))) + comp.flush()  # header counts
    chunk = lambda kind, body: (struct.pack(">I", len(body)) + kind + body  # noqa: E731
                                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, 2, 0, 0, 0))
           + chunk(b"IDAT", rows) + chunk(b"IEND", b""))
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png)
    plot = log.add_plot("Bản Bom", "tea", 1.0)
    before = snapshot(log)
    with pytest.raises(NotAnImageError, match=why):
        log.record_observation(plot, bomb, "tea.blight", "ok", 0.8, "v1")
    assert snapshot(log) == before

"""A log (or a backup) written by the first release (schema 0001) that holds records, opened by this one."""
from __future__ import annotations

import sqlite3

import pytest

from leafscout.cli import main


def old_log(path) -> None:
    from alembic import command

    from leafscout.fieldlog import db as fdb
    from leafscout.fieldlog import migrate

    engine = fdb.make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        command.upgrade(migrate._config(conn), "0001")
    engine.dispose()
    raw = sqlite3.connect(path)
    raw.execute("insert into farms (id, uid, name, kind, created_at) values (1, 'f1', 'HTX Chiềng Ban', 'cooperative', "
                "'2024-01-01 00:00:00')")
    raw.execute("insert into plots (id, uid, farm_id, name, crop, area_ha, organic_status, created_at) values "
                "(1, 'u1', 1, 'Đồi A', 'tea', 1.0, 'in_conversion', '2024-01-01 00:00:00')")
    raw.execute("insert into observations (id, uid, plot_id, observed_at, recorded_at, photo_sha256, photo_relpath, "
                "label, status, confidence, model_version) values (1, 'o1', 1, '2024-02-01 00:00:00', "
                "'2024-02-01 00:00:00', 'ab', 'ab/ab.jpg', 'tea.blister_blight', 'ok', 0.9, '1.0')")
    raw.execute("insert into actions (id, uid, plot_id, at, recorded_at, what, active_substance, copper_kg_ha, "
                "observation_id) values (1, 'a1', 1, '2024-02-02 00:00:00', '2024-02-02 00:00:00', 'Bordeaux', "
                "'copper hydroxide', 1.5, 1)")
    raw.execute("insert into lots (id, uid, code, harvested_at, created_at) values (1, 'l1', 'L1', "
                "'2024-03-01 00:00:00', '2024-03-01 00:00:00')")
    raw.execute("insert into lot_plots (lot_id, plot_id) values (1, 1)")
    raw.commit()
    raw.close()


def test_a_first_release_log_with_records_opens_and_keeps_them(tmp_path, capsys):
    """Opening it said "field log ... cannot be used (FOREIGN KEY constraint failed)" for every command: revision
    0002 rebuilds the plots table (SQLite batch mode), and with foreign keys enforced dropping the old table
    tripped over the observations, actions and lots that point at it. The whole log was out of reach."""
    db = tmp_path / "old.sqlite"
    old_log(db)
    assert main(["log", "history", "Đồi A", "--db", str(db)]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "tea.blister_blight" in out and "Bordeaux" in out and "harvest lot L1" in out, out
    from leafscout.fieldlog import FieldLog
    from leafscout.fieldlog import migrate
    with FieldLog.open(str(db)) as log:
        assert migrate.current_revision(log._engine) == migrate.head_revision()
        h = log.history("đồi a")
        assert [o.label for o in h.observations] == ["tea.blister_blight"]
        assert [a.observation_id for a in h.actions] == [1] and h.copper_by_year == {2024: 1.5}
        assert [lot.code for lot in h.lots] == ["L1"] and h.plot.farm_id == 1
        with log._engine.connect() as conn:  # the pool's connections still enforce foreign keys
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        with pytest.raises(Exception):
            log.record_action("Đồi A", "weeding", observation_id=99)
        log.record_action("Đồi A", "weeding")
    raw = sqlite3.connect(db)
    try:
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        raw.close()

"""FieldLog: the one object the CLI, the diagnose command and the app use to read and write records.

Every public write validates first and runs in one transaction, so bad input changes nothing.
`with log.batch():` groups many writes into one all-or-nothing transaction (a diagnose batch).
"""
from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import db, migrate, photos
from .errors import BackupNotSupportedError, FieldLogError, UnknownLotError, UnknownPlotError
from .schema import ORGANIC_STATUSES, Action, Farm, Lot, Observation, Plot, lot_plots
from .timeutil import to_utc, utcnow

COPPER_WINDOW_YEARS = 7


@dataclass
class PlotHistory:
    """Everything recorded on a plot, oldest first: what an auditor reads."""

    plot: Plot
    observations: list[Observation] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    lots: list[Lot] = field(default_factory=list)
    copper_by_year: dict[int, float] = field(default_factory=dict)

    def timeline(self) -> list[tuple[dt.datetime, str, Observation | Action]]:
        rows = [(o.observed_at, "observation", o) for o in self.observations]
        rows += [(a.at, "action", a) for a in self.actions]
        return sorted(rows, key=lambda r: (r[0], r[1]))


def _text(value, what: str, *, required: bool = True, max_len: int = 200) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise FieldLogError(f"{what}: expected a non-empty text, got {value!r}.")
        return None
    value = str(value).strip()
    if len(value) > max_len:
        raise FieldLogError(f"{what}: expected at most {max_len} characters, got {len(value)}; shorten it.")
    return value


def _number(value, what: str, *, minimum: float | None = None, maximum: float | None = None,
            strict_min: bool = False, required: bool = True) -> float | None:
    if value is None or value == "":
        if required:
            raise FieldLogError(f"{what}: expected a number, got nothing.")
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise FieldLogError(f"{what}: expected a number, got {value!r}.") from None
    if not math.isfinite(number):
        raise FieldLogError(f"{what}: expected a finite number, got {value!r}.")
    if minimum is not None and (number <= minimum if strict_min else number < minimum):
        bound = f"greater than {minimum:g}" if strict_min else f"at least {minimum:g}"
        raise FieldLogError(f"{what}: expected a number {bound}, got {number:g}.")
    if maximum is not None and number > maximum:
        raise FieldLogError(f"{what}: expected a number at most {maximum:g}, got {number:g}.")
    return number


def _organic_status(value: str) -> str:
    norm = str(value).strip().lower().replace(" ", "_").replace("-", "_")
    if norm not in ORGANIC_STATUSES:
        raise FieldLogError(
            f"organic status: expected one of {', '.join(ORGANIC_STATUSES)}, got {value!r}."
        )
    return norm


class FieldLog:
    """An open field log. Thread-safe: share one instance between threads."""

    def __init__(self, url: str, engine, photo_dir: Path, trace_base_url: str | None = None):
        self.url = url
        self._engine = engine
        self._write_engine = engine.execution_options(fieldlog_write=True)
        self.photo_dir = photo_dir
        self.trace_base_url = trace_base_url
        self._local = threading.local()

    # ---- opening ------------------------------------------------------------------------
    @classmethod
    def open(cls, url_or_path: str | os.PathLike | None = None, *, photo_dir: str | os.PathLike | None = None,
             trace_base_url: str | None = None) -> "FieldLog":
        """Open (creating and migrating to the newest schema on first use) the log.

        url_or_path: a file path or SQLAlchemy URL; default $LEAFSCOUT_DB, then
        ~/.local/share/leafscout/fieldlog.sqlite. Photos go to a `photos` folder beside the file
        (for a server URL: photo_dir, $LEAFSCOUT_PHOTOS, or ~/.local/share/leafscout/photos).
        trace_base_url (or $LEAFSCOUT_TRACE_URL) makes QR codes carry a link, not just an ID.
        """
        url = db.resolve_url(url_or_path)
        engine = db.make_engine(url)
        try:
            db.retry_busy(lambda: migrate.upgrade(engine))
        except Exception:
            engine.dispose()
            raise
        path = db.sqlite_path(url)
        if photo_dir is None:
            photo_dir = os.environ.get("LEAFSCOUT_PHOTOS") or (
                path.parent / "photos" if path else db.DEFAULT_DB.expanduser().parent / "photos")
        trace = trace_base_url or os.environ.get("LEAFSCOUT_TRACE_URL") or None
        return cls(url, engine, Path(photo_dir).expanduser(), trace)

    @property
    def is_sqlite(self) -> bool:
        return self._engine.dialect.name == "sqlite"

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- transactions -------------------------------------------------------------------
    @contextmanager
    def batch(self):
        """Group writes into one transaction: all are kept, or (on any error) none."""
        if getattr(self._local, "session", None) is not None:
            yield self
            return
        session = Session(self._write_engine, expire_on_commit=False)
        self._local.session = session
        try:
            with session.begin():
                yield self
        finally:
            self._local.session = None
            session.close()

    def _write(self, fn):
        current = getattr(self._local, "session", None)
        if current is not None:
            with current.begin_nested():  # a failed write inside a batch leaves the batch usable
                result = fn(current)
            return result

        def attempt():
            with Session(self._write_engine, expire_on_commit=False) as session:
                with session.begin():
                    result = fn(session)
                    session.flush()
                return result

        try:
            return db.retry_busy(attempt) if self.is_sqlite else attempt()
        except IntegrityError as exc:
            raise FieldLogError(f"the record conflicts with one already in the log: {exc.orig}") from None

    def _read(self, fn):
        current = getattr(self._local, "session", None)
        if current is not None:
            return fn(current)
        with Session(self._engine, expire_on_commit=False) as session:
            return fn(session)

    # ---- farms and plots ----------------------------------------------------------------
    def add_farm(self, name: str, kind: str = "farm", location: str | None = None,
                 certifier: str | None = None) -> Farm:
        name = _text(name, "farm name")
        if kind not in ("farm", "cooperative"):
            raise FieldLogError(f"farm kind: expected 'farm' or 'cooperative', got {kind!r}.")

        def write(s: Session) -> Farm:
            if s.scalar(select(Farm.id).where(Farm.name == name)) is not None:
                raise FieldLogError(f"a farm named {name!r} already exists; choose another name.")
            farm = Farm(name=name, kind=kind, location=_text(location, "location", required=False, max_len=2000),
                        certifier=_text(certifier, "certifier", required=False), created_at=utcnow())
            s.add(farm)
            return farm

        return self._write(write)

    def farms(self) -> list[Farm]:
        return self._read(lambda s: list(s.scalars(select(Farm).order_by(Farm.name))))

    def add_plot(self, name: str, crop: str, area_ha: float, organic_status: str = "in_conversion",
                 farm: str | int | Farm | None = None, location: str | None = None,
                 buffer_notes: str | None = None) -> Plot:
        name = _text(name, "plot name")
        crop = _text(crop, "crop", max_len=100)
        area = _number(area_ha, "plot area (ha)", minimum=0, strict_min=True)
        status = _organic_status(organic_status)

        def write(s: Session) -> Plot:
            if s.scalar(select(Plot.id).where(Plot.name == name)) is not None:
                raise FieldLogError(f"a plot named {name!r} already exists; use it, or choose another name.")
            plot = Plot(name=name, crop=crop, area_ha=area, organic_status=status,
                        farm_id=self._farm_id(s, farm) if farm is not None else None,
                        location=_text(location, "location", required=False, max_len=2000),
                        buffer_notes=_text(buffer_notes, "buffer notes", required=False, max_len=4000),
                        created_at=utcnow())
            s.add(plot)
            return plot

        return self._write(write)

    def _farm_id(self, s: Session, farm) -> int:
        if isinstance(farm, Farm):
            return farm.id
        found = s.scalar(select(Farm.id).where(Farm.name == str(farm)))
        if found is None and str(farm).isdigit():
            found = s.scalar(select(Farm.id).where(Farm.id == int(farm)))
        if found is None:
            known = ", ".join(s.scalars(select(Farm.name))) or "none yet"
            raise FieldLogError(f"no farm or cooperative {str(farm)!r} (known: {known}); add it first with add_farm.")
        return found

    def plots(self) -> list[Plot]:
        return self._read(lambda s: list(s.scalars(select(Plot).order_by(Plot.name))))

    def get_plot(self, name_or_id: str | int | Plot) -> Plot:
        return self._read(lambda s: self._plot(s, name_or_id))

    def _plot(self, s: Session, ref) -> Plot:
        if isinstance(ref, Plot):
            ref = ref.id
        if isinstance(ref, int) and not isinstance(ref, bool):
            plot = s.get(Plot, ref)
        else:
            text = str(ref).strip()
            plot = s.scalar(select(Plot).where(Plot.name == text))
            if plot is None:  # case-insensitive in Python: SQLite's lower() only folds ASCII
                ids = [i for i, n in s.execute(select(Plot.id, Plot.name)) if n.casefold() == text.casefold()]
                plot = s.get(Plot, ids[0]) if len(ids) == 1 else None
            if plot is None and text.isdigit():
                plot = s.get(Plot, int(text))
            if plot is None:
                plot = s.scalar(select(Plot).where(Plot.uid == text))
        if plot is None:
            raise UnknownPlotError(ref, list(s.scalars(select(Plot.name))))
        return plot

    # ---- observations and actions -------------------------------------------------------
    def record_observation(self, plot, photo_path, label: str, status: str, confidence: float,
                           model_version: str, observer: str | None = None,
                           observed_at: dt.datetime | str | None = None) -> Observation:
        """Log a diagnosis with its photo (stored by content hash; GPS taken from EXIF)."""
        self.get_plot(plot)  # an unknown plot fails before anything touches the disk
        label = _text(label, "diagnosis label")
        status = _text(status, "diagnosis status", max_len=50)
        confidence = _number(confidence, "confidence", minimum=0, maximum=1)
        model_version = _text(model_version, "model version", max_len=100)
        observer = _text(observer, "observer", required=False)
        when = to_utc(observed_at, "observation time")
        photo = photos.check_photo(photo_path)
        stored, created = photos.store(photo, self.photo_dir)

        def write(s: Session) -> Observation:
            obs = Observation(plot_id=self._plot(s, plot).id, observed_at=when, recorded_at=utcnow(),
                              photo_sha256=photo.sha256, photo_relpath=photo.relpath, label=label,
                              status=status, confidence=confidence, model_version=model_version,
                              observer=observer, gps_lat=photo.gps[0] if photo.gps else None,
                              gps_lon=photo.gps[1] if photo.gps else None)
            s.add(obs)
            s.flush()
            return obs

        try:
            return self._write(write)
        except BaseException:
            if created and not self._photo_referenced(photo.sha256):
                stored.unlink(missing_ok=True)
            raise

    def _photo_referenced(self, sha256: str) -> bool:
        try:
            return self._read(lambda s: s.scalar(
                select(func.count()).select_from(Observation).where(Observation.photo_sha256 == sha256))) > 0
        except Exception:
            return True  # when unsure, keep the file: an orphan photo is harmless, a lost one is not

    def photo_path(self, observation: Observation) -> Path:
        return self.photo_dir / observation.photo_relpath

    def record_action(self, plot, what: str, product: str | None = None, active_substance: str | None = None,
                      amount: float | None = None, unit: str | None = None, copper_kg_ha: float = 0.0,
                      by: str | None = None, at: dt.datetime | str | None = None,
                      observation_id: int | None = None) -> Action:
        """Log a treatment or field operation; copper_kg_ha feeds the copper ledger."""
        what = _text(what, "what was done", max_len=2000)
        product = _text(product, "product", required=False)
        substance = _text(active_substance, "active substance", required=False)
        amount = _number(amount, "amount", minimum=0, required=False)
        unit = _text(unit, "unit", required=False, max_len=30)
        copper = _number(copper_kg_ha or 0.0, "copper (kg/ha)", minimum=0, maximum=100)
        by = _text(by, "done by", required=False)
        when = to_utc(at, "action time")

        def write(s: Session) -> Action:
            plot_row = self._plot(s, plot)
            if observation_id is not None:
                obs = s.get(Observation, int(observation_id))
                if obs is None or obs.plot_id != plot_row.id:
                    raise FieldLogError(
                        f"observation {observation_id} is not an observation of plot {plot_row.name!r}; "
                        f"see `leafscout log history {plot_row.name}` for its observation ids.")
            action = Action(plot_id=plot_row.id, at=when, recorded_at=utcnow(), what=what, product=product,
                            active_substance=substance, amount=amount, unit=unit, copper_kg_ha=copper, by=by,
                            observation_id=observation_id)
            s.add(action)
            s.flush()
            return action

        return self._write(write)

    def actions_between(self, start: dt.datetime, end: dt.datetime) -> list[tuple[Plot, Action]]:
        def read(s: Session):
            rows = s.execute(select(Plot, Action).join(Action, Action.plot_id == Plot.id)
                             .where(Action.at >= start, Action.at < end).order_by(Plot.name, Action.at, Action.id))
            return [(p, a) for p, a in rows]

        return self._read(read)

    # ---- copper ledger ------------------------------------------------------------------
    def copper_ledger(self, plot) -> dict[int, float]:
        """Copper applied (kg/ha) per calendar year on this plot."""
        def read(s: Session) -> dict[int, float]:
            plot_id = self._plot(s, plot).id
            totals: dict[int, float] = {}
            for at, kg in s.execute(select(Action.at, Action.copper_kg_ha)
                                    .where(Action.plot_id == plot_id, Action.copper_kg_ha > 0)):
                totals[at.year] = totals.get(at.year, 0.0) + kg
            return dict(sorted(totals.items()))

        return self._read(read)

    def copper_used(self, plot, year: int | None = None) -> tuple[float, float]:
        """(kg/ha this year, kg/ha over the 7 years ending this year) for the advisor's copper cap."""
        year = year or utcnow().year
        ledger = self.copper_ledger(plot)
        this_year = ledger.get(year, 0.0)
        window = sum(kg for y, kg in ledger.items() if year - COPPER_WINDOW_YEARS < y <= year)
        return round(this_year, 6), round(window, 6)

    # ---- history ------------------------------------------------------------------------
    def history(self, plot) -> PlotHistory:
        def read(s: Session) -> PlotHistory:
            p = self._plot(s, plot)
            obs = list(s.scalars(select(Observation).where(Observation.plot_id == p.id)
                                 .order_by(Observation.observed_at, Observation.id)))
            acts = list(s.scalars(select(Action).where(Action.plot_id == p.id).order_by(Action.at, Action.id)))
            lots = list(s.scalars(select(Lot).join(lot_plots, lot_plots.c.lot_id == Lot.id)
                                  .where(lot_plots.c.plot_id == p.id).order_by(Lot.harvested_at)))
            return PlotHistory(p, obs, acts, lots)

        hist = self._read(read)
        hist.copper_by_year = self.copper_ledger(hist.plot.id)
        return hist

    # ---- harvest lots -------------------------------------------------------------------
    def add_lot(self, code: str, plots: list, harvested_at: dt.datetime | str | None = None,
                quantity_kg: float | None = None, notes: str | None = None) -> Lot:
        code = _text(code, "lot code", max_len=100)
        if not plots:
            raise FieldLogError("a harvest lot needs at least one plot it came from; pass plots=[...].")
        when = to_utc(harvested_at, "harvest time")
        qty = _number(quantity_kg, "quantity (kg)", minimum=0, required=False)
        notes = _text(notes, "notes", required=False, max_len=4000)

        def write(s: Session) -> Lot:
            if s.scalar(select(Lot.id).where(Lot.code == code)) is not None:
                raise FieldLogError(f"a harvest lot with code {code!r} already exists; lot codes must be unique.")
            plot_ids = sorted({self._plot(s, p).id for p in plots})
            lot = Lot(code=code, harvested_at=when, quantity_kg=qty, notes=notes, created_at=utcnow())
            s.add(lot)
            s.flush()
            s.execute(lot_plots.insert(), [{"lot_id": lot.id, "plot_id": pid} for pid in plot_ids])
            return lot

        return self._write(write)

    def lots(self) -> list[Lot]:
        return self._read(lambda s: list(s.scalars(select(Lot).order_by(Lot.harvested_at))))

    def get_lot(self, code_or_uid: str | Lot) -> Lot:
        if isinstance(code_or_uid, Lot):
            code_or_uid = code_or_uid.uid

        def read(s: Session) -> Lot:
            key = str(code_or_uid).strip()
            lot = s.scalar(select(Lot).where((Lot.code == key) | (Lot.uid == key)))
            if lot is None:
                raise UnknownLotError(key, list(s.scalars(select(Lot.code))))
            return lot

        return self._read(read)

    def lot_plots(self, lot) -> list[Plot]:
        lot = self.get_lot(lot)
        return self._read(lambda s: list(s.scalars(
            select(Plot).join(lot_plots, lot_plots.c.plot_id == Plot.id)
            .where(lot_plots.c.lot_id == lot.id).order_by(Plot.name))))

    # ---- traceability -------------------------------------------------------------------
    def qr_payload(self, item: Plot | Lot) -> str:
        from . import qr

        return qr.payload(item, self.trace_base_url)

    def resolve_qr(self, payload: str) -> Plot | Lot:
        """Find the plot or lot a scanned QR code points to."""
        from . import qr

        kind, uid = qr.parse(payload)
        return self.get_lot(uid) if kind == "lot" else self.get_plot(uid)

    # ---- backup -------------------------------------------------------------------------
    def backup(self, dest_path: str | os.PathLike, *, include_photos: bool = True) -> Path:
        """Consistent online copy with SQLite's backup API (writers may keep working).

        The copy is written beside dest and renamed into place, so dest is never half-written.
        Photos are copied into the `photos` folder beside dest, where FieldLog.open looks for them.
        """
        src_path = db.sqlite_path(self.url)
        if src_path is None:
            raise BackupNotSupportedError(
                "backup copies an SQLite file; for a PostgreSQL log use pg_dump on the server.")
        dest = Path(dest_path).expanduser().resolve()
        if dest == src_path.resolve():
            raise FieldLogError(f"backup destination {str(dest)!r} is the live database; choose another file.")
        if dest.is_dir():
            raise FieldLogError(f"backup destination {str(dest)!r} is a folder; give a file name like fieldlog-backup.sqlite.")
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.partial")
        tmp.unlink(missing_ok=True)
        raw = self._engine.raw_connection()
        try:
            target = sqlite3.connect(tmp)
            try:
                raw.driver_connection.backup(target)
                ok = target.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                target.close()
        finally:
            raw.close()
        if ok != "ok":
            tmp.unlink(missing_ok=True)
            raise FieldLogError(f"backup failed its integrity check ({ok}); the live database was not changed.")
        os.replace(tmp, dest)
        if include_photos and self.photo_dir.exists():
            dest_photos = dest.parent / "photos"
            if dest_photos.resolve() != self.photo_dir.resolve():
                shutil.copytree(self.photo_dir, dest_photos, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns(".incoming-*"))
        return dest

"""FieldLog: the one object the CLI, the diagnose command and the app use to read and write records.

Every public write validates first and runs in one transaction, so bad input changes nothing.
`with log.batch():` groups many writes into one all-or-nothing transaction (a diagnose batch).
"""
from __future__ import annotations

import datetime as dt
import difflib
import math
import os
import re
import shutil
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from . import copper as copper_rules
from . import db, migrate, photos
from .errors import BackupNotSupportedError, FieldLogError, ReadOnlyLogError, UnknownLotError, UnknownPlotError
from .schema import (OBSERVATION_STATUSES, ORGANIC_STATUSES, Action, Correction, Farm, Lot, Observation, Plot,
                     lot_plots)
from .text import check_text, clean_name, name_key, skeleton
from .timeutil import local_year, to_utc, utcnow

COPPER_WINDOW_YEARS = 7
# A single plot: 1 m2 to 10 km2. Smallholder plots in Son La are 0.1-2 ha; a cooperative's whole area is a
# farm, not a plot. Anything outside is a typo (0.5 typed as 5000, or 1e300).
PLOT_AREA_HA = (0.0001, 1000.0)
LABEL_FORMAT = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")  # crop.problem, as the model names them
UNCONFIRMED_OK = ("ok", "uncertain")  # may be logged unconfirmed; not_a_leaf / error need a person


@dataclass
class PlotHistory:
    """Everything recorded on a plot, oldest first: what an auditor reads."""

    plot: Plot
    observations: list[Observation] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    lots: list[Lot] = field(default_factory=list)
    copper_by_year: dict[int, float] = field(default_factory=dict)
    corrections: dict[int, list[Correction]] = field(default_factory=dict)  # observation id -> oldest first

    def timeline(self) -> list[tuple[dt.datetime, str, Observation | Action]]:
        rows = [(o.observed_at, "observation", o) for o in self.observations]
        rows += [(a.at, "action", a) for a in self.actions]
        return sorted(rows, key=lambda r: (r[0], r[1]))


def _text(value, what: str, *, required: bool = True, max_len: int = 200) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise FieldLogError(f"{what}: expected a non-empty text, got {value!r}.")
        return None
    value = check_text(str(value), what).strip()
    if len(value) > max_len:
        raise FieldLogError(f"{what}: expected at most {max_len} characters, got {len(value)}; shorten it.",
                            "bad_text")
    return value


LOT_MAX_KG = 1e8


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


def _label(value, known: frozenset[str] | None) -> str:
    label = _text(value, "diagnosis label", max_len=200)
    if not LABEL_FORMAT.match(label):
        raise FieldLogError(f"diagnosis label: expected crop.problem in lower case (like coffee.leaf_rust or "
                            f"tomato.healthy), got {label!r}.", "bad_label")
    if known is not None and label not in known:
        close = difflib.get_close_matches(label, sorted(known), n=1, cutoff=0.6)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise FieldLogError(f"diagnosis label: {label!r} is not a problem the model or knowledge base knows "
                            f"({len(known)} known).{hint}", "bad_label")
    return label


def _organic_status(value: str) -> str:
    norm = str(value).strip().lower().replace(" ", "_").replace("-", "_")
    if norm not in ORGANIC_STATUSES:
        raise FieldLogError(
            f"organic status: expected one of {', '.join(ORGANIC_STATUSES)}, got {value!r}."
        )
    return norm


class FieldLog:
    """An open field log. Thread-safe: share one instance between threads."""

    def __init__(self, url: str, engine, photo_dir: Path, trace_base_url: str | None = None,
                 known_labels=None, *, read_only: bool = False, private_copy: Path | None = None):
        self.url = url
        self.read_only = read_only  # opened for reading only: every write is refused (ReadOnlyLogError)
        self._private_copy = private_copy  # the temporary folder a read-only log was copied to, removed on close
        # labels a diagnosis may carry (the model's and the knowledge base's); None: only the format is checked
        self.known_labels = frozenset(known_labels) if known_labels is not None else None
        self._engine = engine
        self._write_engine = engine.execution_options(fieldlog_write=True)
        self.photo_dir = photo_dir
        self.trace_base_url = trace_base_url
        self._local = threading.local()

    # ---- opening ------------------------------------------------------------------------
    @classmethod
    def open(cls, url_or_path: str | os.PathLike | None = None, *, photo_dir: str | os.PathLike | None = None,
             trace_base_url: str | None = None, known_labels=None, synchronous: str | None = None,
             read_only: bool | None = False) -> "FieldLog":
        """Open (creating and migrating to the newest schema on first use) the log.

        url_or_path: a file path or SQLAlchemy URL; default $LEAFSCOUT_DB, then
        ~/.local/share/leafscout/fieldlog.sqlite. Photos go to a `photos` folder beside the file
        (for a server URL: photo_dir, $LEAFSCOUT_PHOTOS, or ~/.local/share/leafscout/photos).
        trace_base_url (or $LEAFSCOUT_TRACE_URL) makes QR codes carry a link, not just an ID.
        known_labels: the diagnosis labels the caller knows (the model's); others are refused. Without it
        only the `crop.problem` format is checked (fieldlog does not import the model).
        A database that cannot be opened (a folder, a file that is not SQLite, a server that is down)
        raises DatabaseUnavailableError (code "db_unavailable") with one line saying which and how to fix it.

        read_only: False (default) opens for reading and writing; a SQLite log on a place this process cannot
        write (a write-protected USB stick, a read-only share) raises ReadOnlyLogError (code db_unavailable)
        saying so. True opens a SQLite log for reading only and never writes beside it (no -wal/-shm files, no
        schema upgrade in place; see db.open_read_only: a -wal holding commits not yet in the main file is read
        from a private temporary copy, never ignored); every write then raises ReadOnlyLogError. None: read-only
        when the log's place is not writable, else as False (what the CLI's reading commands use).
        """
        url = db.resolve_url(url_or_path)
        path = db.sqlite_path(url)
        auto = read_only is None
        if path is not None and auto:
            read_only = path.exists() and not db.location_writable(path)
        read_only = bool(read_only)
        copy_dir = None
        if path is not None and read_only:
            engine, copy_dir = db.open_read_only(path, migrate.head_revision(), migrate.current_revision,
                                                 migrate.upgrade)
        else:
            if path is not None and path.exists() and not db.location_writable(path):
                raise ReadOnlyLogError(db.read_only_message(path))
            engine = db.make_engine(url, synchronous)  # SQLite: synchronous FULL unless "NORMAL" / $LEAFSCOUT_SQLITE_SYNC
            try:
                db.retry_busy(lambda: migrate.upgrade(engine))
            except Exception as exc:
                engine.dispose()
                error = db.explain_open_error(exc, url)
                # a share that says it is writable but refuses the -wal/-shm files (a read-only SMB or NFS export
                # mounted read-write): a reading command still reads it, read-only
                if not (auto and path is not None and path.is_file() and db.is_read_only_error(exc)):
                    raise error from None
                try:
                    engine, copy_dir = db.open_read_only(path, migrate.head_revision(), migrate.current_revision,
                                                         migrate.upgrade)
                except FieldLogError:
                    raise error from None
                read_only = True
        if photo_dir is None:
            photo_dir = os.environ.get("LEAFSCOUT_PHOTOS") or (
                path.parent / "photos" if path else db.DEFAULT_DB.expanduser().parent / "photos")
        trace = trace_base_url or os.environ.get("LEAFSCOUT_TRACE_URL") or None
        return cls(url, engine, Path(photo_dir).expanduser(), trace, known_labels, read_only=read_only,
                   private_copy=copy_dir)

    @property
    def where(self) -> str:
        """The log as a person names it: the SQLite file's path, or the server's URL without its password."""
        path = db.sqlite_path(self.url)
        if path is not None:
            return str(path)
        from sqlalchemy.engine import make_url
        return make_url(self.url).render_as_string(hide_password=True)

    @property
    def is_sqlite(self) -> bool:
        return self._engine.dialect.name == "sqlite"

    def close(self) -> None:
        self._engine.dispose()
        if self._private_copy is not None:
            shutil.rmtree(self._private_copy, ignore_errors=True)
            self._private_copy = None

    def _check_writable(self) -> None:
        if self.read_only:
            path = db.sqlite_path(self.url)
            raise ReadOnlyLogError(db.read_only_message(path) if path is not None else
                                   f"field log {self.where} was opened read-only; nothing was written.")

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
        self._check_writable()
        session = Session(self._write_engine, expire_on_commit=False)
        self._local.session = session
        try:
            with session.begin():
                yield self
        finally:
            self._local.session = None
            session.close()

    def _write(self, fn):
        self._check_writable()
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
            raise FieldLogError(f"the record conflicts with one already in the log: {exc.orig}", "duplicate") from None
        except OperationalError as exc:
            raise db.explain_open_error(exc, self.url) from None

    def _read(self, fn):
        current = getattr(self._local, "session", None)
        if current is not None:
            return fn(current)
        with Session(self._engine, expire_on_commit=False) as session:
            return fn(session)

    # ---- farms and plots ----------------------------------------------------------------
    def add_farm(self, name: str, kind: str = "farm", location: str | None = None,
                 certifier: str | None = None, *, allow_similar: bool = False) -> Farm:
        """Add a farm or cooperative. Its name is kept as plot names are (NFC, no invisible characters); a name
        that is an existing one in another case is refused (`duplicate`), one that differs only in accents,
        spaces or punctuation (`HTX Chieng Ban` beside `HTX Chiềng Ban`) too unless allow_similar=True."""
        name = clean_name(_text(name, "farm name"), "farm name")
        if not name:
            raise FieldLogError("farm name: expected visible text, got only invisible characters.", "bad_text")
        if kind not in ("farm", "cooperative"):
            raise FieldLogError(f"farm kind: expected 'farm' or 'cooperative', got {kind!r}.")

        def write(s: Session) -> Farm:
            key, shape = name_key(name), skeleton(name)
            for other in s.scalars(select(Farm.name)):
                if other == name or name_key(other) == key:
                    same = "" if other == name else f" (as {other!r}: names are compared ignoring case)"
                    raise FieldLogError(f"a farm named {name!r} already exists{same}; use it, or choose another "
                                        "name.", "duplicate")
                if not allow_similar and shape and skeleton(other) == shape:
                    raise FieldLogError(
                        f"farm name {name!r} is too close to the existing farm {other!r} (they differ only in "
                        f"accents, spaces or punctuation). Use {other!r}, or choose a clearly different name "
                        f"(`--allow-similar` keeps both).", "similar_name")
            farm = Farm(name=name, kind=kind, location=_text(location, "location", required=False, max_len=2000),
                        certifier=_text(certifier, "certifier", required=False), created_at=utcnow())
            s.add(farm)
            return farm

        return self._write(write)

    def farms(self) -> list[Farm]:
        return self._read(lambda s: list(s.scalars(select(Farm).order_by(Farm.name))))

    def add_plot(self, name: str, crop: str, area_ha: float, organic_status: str = "in_conversion",
                 farm: str | int | Farm | None = None, location: str | None = None,
                 buffer_notes: str | None = None, *, allow_similar: bool = False) -> Plot:
        """Add a plot. The name is stored in NFC without invisible characters; names are unique ignoring case
        (`doi a` is `Doi A`), and a name that differs from an existing one only by accents, spaces or
        punctuation (`Doi-A` beside `Đồi A`) is refused with a hint unless allow_similar=True."""
        name = clean_name(_text(name, "plot name"))
        if not name:
            raise FieldLogError("plot name: expected visible text, got only invisible characters.", "bad_text")
        key = name_key(name)
        crop = _text(crop, "crop", max_len=100)
        area = _number(area_ha, "plot area (ha)", minimum=0, strict_min=True)
        if not PLOT_AREA_HA[0] <= area <= PLOT_AREA_HA[1]:
            raise FieldLogError(f"plot area (ha): expected {PLOT_AREA_HA[0]:g} to {PLOT_AREA_HA[1]:g} ha (1 m2 to "
                                f"10 km2) for one plot, got {area:g}; check the unit (1 ha = 10,000 m2).", "bad_value")
        status = _organic_status(organic_status)

        def write(s: Session) -> Plot:
            existing = s.scalar(select(Plot.name).where((Plot.name_key == key) | (Plot.name == name)))
            if existing is not None:
                same = "" if existing == name else f" (as {existing!r}: names are compared ignoring case)"
                raise FieldLogError(f"a plot named {name!r} already exists{same}; use it, or choose another name.",
                                    "duplicate")
            if not allow_similar:
                shape = skeleton(name)
                for other in s.scalars(select(Plot.name)):
                    if shape and skeleton(other) == shape:
                        raise FieldLogError(
                            f"plot name {name!r} is too close to the existing plot {other!r} (they differ only in "
                            f"accents, spaces or punctuation). Use {other!r}, or choose a clearly different name "
                            f"(`--allow-similar` keeps both).", "similar_name")
            plot = Plot(name=name, name_key=key, crop=crop, area_ha=area, organic_status=status,
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
        if found is None:  # as for plots: NFC, invisible characters and case do not matter
            key = name_key(str(farm))
            found = next((f.id for f in s.scalars(select(Farm)) if name_key(f.name) == key), None)
        if found is None and str(farm).isdigit():
            found = s.scalar(select(Farm.id).where(Farm.id == int(farm)))
        if found is None:
            known = ", ".join(s.scalars(select(Farm.name))) or "none yet"
            raise FieldLogError(f"no farm or cooperative {str(farm)!r} (known: {known}); add it first (`leafscout log add-farm NAME`, or FieldLog.add_farm).")
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
            text = clean_name(str(ref), "plot")  # NUL / lone surrogate: a clear error, not a driver traceback
            plot = s.scalar(select(Plot).where(Plot.name == text))
            if plot is None:  # NFC, invisible characters and case do not matter (see fieldlog.text)
                plot = s.scalar(select(Plot).where(Plot.name_key == name_key(text)))
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
                           observed_at: dt.datetime | str | None = None,
                           confirmed_by: str | None = None) -> Observation:
        """Log a diagnosis with its photo (stored by content hash; GPS taken from EXIF).

        A model's result is a suggestion until a person confirms it:
        * status "ok" or "uncertain" without `confirmed_by` is stored *unconfirmed*: it is kept (with its
          photo) and shown as unconfirmed, but the audit does not count it as a diagnosis until someone
          confirms it (`confirm_observation`, `leafscout log confirm`);
        * status "not_a_leaf" or "error" is not a diagnosis at all: refused (code "needs_confirmation")
          unless `confirmed_by` names the person who looked at the photo and vouches for the label;
        * with `confirmed_by` the record is confirmed by that person, now.
        `label` must be `crop.problem` (and one of `known_labels` when the log was opened with them).
        """
        self._check_writable()  # a read-only log: before the photo is copied anywhere
        self.get_plot(plot)  # an unknown plot fails before anything touches the disk
        label = _label(label, self.known_labels)
        status = _text(status, "diagnosis status", max_len=50).lower()
        if status not in OBSERVATION_STATUSES:
            raise FieldLogError(f"diagnosis status: expected one of {', '.join(OBSERVATION_STATUSES)} (as the model "
                                f"reports it), got {status!r}.", "bad_value")
        try:
            confidence = _number(confidence, "confidence", minimum=0, maximum=1)
        except FieldLogError as exc:
            pct = _number(confidence, "confidence", required=False)
            if pct is not None and 1 < pct <= 100:  # "93" typed for 93%: say how it is written
                raise FieldLogError(f"{exc} A confidence is a share from 0 to 1: write {pct / 100:g} for "
                                    f"{pct:g}%.") from None
            raise
        model_version = _text(model_version, "model version", max_len=100)
        observer = _text(observer, "observer", required=False)
        confirmed_by = _text(confirmed_by, "confirmed by", required=False)
        if status not in UNCONFIRMED_OK and confirmed_by is None:
            raise FieldLogError(
                f"a result with status {status!r} is not a diagnosis; it is logged only when a person has looked at "
                f"the photo and confirms the label: pass confirmed_by (`--confirmed-by NAME`), or take a clearer "
                f"photo of one leaf.", "needs_confirmation")
        when = to_utc(observed_at, "observation time")
        confirmed_at = utcnow() if confirmed_by else None
        photo = photos.check_photo(photo_path)
        stored, created = photos.store(photo, self.photo_dir)

        def write(s: Session) -> Observation:
            obs = Observation(plot_id=self._plot(s, plot).id, observed_at=when, recorded_at=utcnow(),
                              photo_sha256=photo.sha256, photo_relpath=photo.relpath, label=label,
                              status=status, confidence=confidence, model_version=model_version,
                              observer=observer, gps_lat=photo.gps[0] if photo.gps else None,
                              gps_lon=photo.gps[1] if photo.gps else None, confirmed_by=confirmed_by,
                              confirmed_at=confirmed_at)
            s.add(obs)
            s.flush()
            return obs

        try:
            return self._write(write)
        except BaseException:
            if created and not self._photo_referenced(photo.sha256):
                stored.unlink(missing_ok=True)
            raise

    def confirm_observation(self, observation_id: int, by: str) -> Observation:
        """A person confirms an unconfirmed observation (they looked at the photo; the label is right).
        From then on the audit counts it as a diagnosis. Confirming twice is refused: the first name stays."""
        by = _text(by, "confirmed by")
        obs_id = int(_number(observation_id, "observation id", minimum=1))

        def write(s: Session) -> Observation:
            obs = s.get(Observation, obs_id)
            if obs is None:
                raise FieldLogError(f"no observation {obs_id}; see `leafscout log history PLOT` for the ids.",
                                    "bad_value")
            if obs.confirmed_by:
                raise FieldLogError(f"observation {obs_id} was already confirmed by {obs.confirmed_by!r} on "
                                    f"{obs.confirmed_at:%Y-%m-%d}.", "duplicate")
            # a confirmation vouches for the model's label, which a person has already said was wrong
            if s.scalar(select(Correction.id).where(Correction.observation_id == obs_id).limit(1)) is not None:
                raise FieldLogError(f"observation {obs_id} was corrected, so its model label cannot be confirmed; "
                                    f"the correction stands (see `leafscout log history PLOT`).", "duplicate")
            obs.confirmed_by, obs.confirmed_at = by, utcnow()
            s.flush()
            return obs

        return self._write(write)

    def correct_observation(self, observation_id: int, label: str, by: str, note: str | None = None,
                            known_labels=None) -> Correction:
        """A person says what the photo of an observation really shows. The observation keeps the model's answer;
        the correction is a row of its own with who, when (UTC), the photo's hash and the model version that
        answered. Corrected again later, the latest correction is the photo's label and the earlier ones stay.

        `label`: `crop.problem`, and one of `known_labels` (given here, else the log's own) when there are any.
        A label equal to what the record already says is refused (code "duplicate"): confirm it instead."""
        by = _text(by, "corrected by")
        known = frozenset(known_labels) if known_labels is not None else self.known_labels
        label = _label(label, known)
        note = _text(note, "note", required=False, max_len=4000)
        obs_id = int(_number(observation_id, "observation id", minimum=1))

        def write(s: Session) -> Correction:
            obs = s.get(Observation, obs_id)
            if obs is None:
                raise FieldLogError(f"no observation {obs_id}; see `leafscout log history PLOT` for the ids.",
                                    "bad_value")
            current = s.scalar(select(Correction.label).where(Correction.observation_id == obs_id)
                               .order_by(Correction.at.desc(), Correction.id.desc()).limit(1)) or obs.label
            if label == current:
                raise FieldLogError(f"observation {obs_id} already says {label!r}; to vouch for it as it is: "
                                    f"`leafscout log confirm {obs_id} --by NAME`.", "duplicate")
            c = Correction(observation_id=obs_id, label=label, previous_label=current, by=by, at=utcnow(),
                           photo_sha256=obs.photo_sha256, model_version=obs.model_version, note=note)
            s.add(c)
            s.flush()
            return c

        return self._write(write)

    def observation_review(self, observation_id: int) -> tuple[Observation, str, list[Correction]] | None:
        """One observation as a reviewer sees it: the record, its plot's name and its corrections (oldest
        first); None when there is no such observation."""
        obs_id = int(_number(observation_id, "observation id", minimum=1))

        def read(s: Session):
            o = s.get(Observation, obs_id)
            if o is None:
                return None
            plot = s.get(Plot, o.plot_id)
            cs = list(s.scalars(select(Correction).where(Correction.observation_id == obs_id)
                                .order_by(Correction.at, Correction.id)))
            return o, plot.name if plot else "", cs

        return self._read(read)

    def corrections(self, observation_id: int | None = None) -> list[Correction]:
        """Every correction (or one observation's), oldest first."""
        def read(s: Session) -> list[Correction]:
            q = select(Correction).order_by(Correction.at, Correction.id)
            if observation_id is not None:
                q = q.where(Correction.observation_id == int(observation_id))
            return list(s.scalars(q))

        return self._read(read)

    def labelled_photos(self, confirmed: bool = False) -> list[dict]:
        """The photos a person labelled, for training data, oldest first: each corrected observation with its
        latest correction's label (source "correction"); with `confirmed`, also each confirmed observation
        without a correction, with the model's label a person vouched for (source "confirmation").
        Each item: {"observation", "plot", "label", "source", "by", "at", "correction"}."""
        def read(s: Session) -> list[dict]:
            latest: dict[int, Correction] = {}
            for c in s.scalars(select(Correction).order_by(Correction.at, Correction.id)):
                latest[c.observation_id] = c
            q = select(Plot, Observation).join(Observation, Observation.plot_id == Plot.id)
            if not confirmed:
                q = q.where(Observation.id.in_(list(latest) or [-1]))
            out = []
            for p, o in s.execute(q.order_by(Observation.observed_at, Observation.id)):
                c = latest.get(o.id)
                if c is not None:
                    out.append({"observation": o, "plot": p, "label": c.label, "source": "correction",
                                "by": c.by, "at": c.at, "correction": c})
                elif o.confirmed_by:
                    out.append({"observation": o, "plot": p, "label": o.label, "source": "confirmation",
                                "by": o.confirmed_by, "at": o.confirmed_at, "correction": None})
            return out

        return self._read(read)

    def _photo_referenced(self, sha256: str) -> bool:
        try:
            return self._read(lambda s: s.scalar(
                select(func.count()).select_from(Observation).where(Observation.photo_sha256 == sha256))) > 0
        except Exception:
            return True  # when unsure, keep the file: an orphan photo is harmless, a lost one is not

    def photo_path(self, observation: Observation) -> Path:
        return self.photo_dir / observation.photo_relpath

    def record_action(self, plot, what: str, product: str | None = None, active_substance: str | None = None,
                      amount: float | None = None, unit: str | None = None, copper_kg_ha: float | None = None,
                      by: str | None = None, at: dt.datetime | str | None = None,
                      observation_id: int | None = None, copper_content_pct: float | None = None) -> Action:
        """Log a treatment or field operation; copper_kg_ha feeds the copper ledger.

        When the record names a copper product (Bordeaux, copper hydroxide, ...) and copper_kg_ha is not
        given (or 0), the copper is worked out from amount + unit (kg, g, kg/ha, g/ha; or litres of an
        "N %" Bordeaux spray) and the product's copper content (copper_content_pct from the label, else the
        compound's, see fieldlog.copper); if that is not possible the record is refused (code
        "copper_required"). A dose above 6 kg Cu/ha in one application is refused as implausible.
        """
        what = _text(what, "what was done", max_len=2000)
        product = _text(product, "product", required=False)
        substance = _text(active_substance, "active substance", required=False)
        amount = _number(amount, "amount", minimum=0, required=False)
        unit = _text(unit, "unit", required=False, max_len=30)
        copper = _number(copper_kg_ha or 0.0, "copper (kg/ha)", minimum=0)
        content = _number(copper_content_pct, "copper content (%)", minimum=0, maximum=100, strict_min=True,
                          required=False)
        by = _text(by, "done by", required=False)
        when = to_utc(at, "action time")
        if not copper and (content is not None or copper_rules.mentions_copper(copper_rules.note_text(what), product, substance)):
            area = self.get_plot(plot).area_ha
            derived = copper_rules.derive_kg_ha(what=what, product=product, substance=substance, amount=amount,
                                                unit=unit, area_ha=area, content_pct=content)
            if derived is None:
                raise FieldLogError(
                    "copper: this treatment uses copper, but how much was not given and cannot be worked out. "
                    "Give the copper applied in kg Cu/ha (`--copper`), or the dose (`--amount` with `--unit` kg, g, "
                    "kg/ha, g/ha, or L of an 'N %' Bordeaux spray) and the substance or the label's copper content "
                    "(`--copper-content PCT`).", "copper_required")
            copper = round(derived[0], 6)
        copper = copper_rules.check_dose(copper)

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

    def observations_between(self, start: dt.datetime, end: dt.datetime) -> list[tuple[Plot, Observation]]:
        def read(s: Session):
            rows = s.execute(select(Plot, Observation).join(Observation, Observation.plot_id == Plot.id)
                             .where(Observation.observed_at >= start, Observation.observed_at < end)
                             .order_by(Plot.name, Observation.observed_at, Observation.id))
            return [(p, o) for p, o in rows]

        return self._read(read)

    # ---- copper ledger ------------------------------------------------------------------
    def copper_ledger(self, plot) -> dict[int, float]:
        """Copper applied (kg/ha) per calendar year on this plot."""
        def read(s: Session) -> dict[int, float]:
            plot_id = self._plot(s, plot).id
            totals: dict[int, float] = {}
            for at, kg in s.execute(select(Action.at, Action.copper_kg_ha)
                                    .where(Action.plot_id == plot_id, Action.copper_kg_ha > 0)):
                year = local_year(at)  # the recorder's calendar year, as the season audit reads dates
                totals[year] = totals.get(year, 0.0) + kg
            return dict(sorted(totals.items()))

        return self._read(read)

    def copper_used(self, plot, year: int | None = None) -> tuple[float, float]:
        """(kg/ha this year, kg/ha over the 7 years ending this year) for the advisor's copper cap."""
        year = year or local_year()
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
            hist = PlotHistory(p, obs, acts, lots)
            ids = [o.id for o in obs]
            if ids:
                for c in s.scalars(select(Correction).where(Correction.observation_id.in_(ids))
                                   .order_by(Correction.at, Correction.id)):
                    hist.corrections.setdefault(c.observation_id, []).append(c)
            return hist

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
        # a harvest lot above 100,000 t is a typo (1e300, an extra zero run), not a lot
        qty = _number(quantity_kg, "quantity (kg)", minimum=0, maximum=LOT_MAX_KG, required=False)
        notes = _text(notes, "notes", required=False, max_len=4000)

        def write(s: Session) -> Lot:
            # "LOT-1" and "lot-1" on two bags are one typo away from two lots a buyer cannot tell apart
            clash = next((c for c in s.scalars(select(Lot.code)) if c.casefold() == code.casefold()), None)
            if clash is not None:
                raise FieldLogError(f"a harvest lot with code {clash!r} already exists; lot codes must be unique "
                                    "(codes that differ only in case are the same code).", "duplicate")
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
            key = check_text(str(code_or_uid), "lot code").strip()
            lot = s.scalar(select(Lot).where((Lot.code == key) | (Lot.uid == key)))
            if lot is None:  # "cb-2025-11" typed for "CB-2025-11"
                same = [x for x in s.scalars(select(Lot)) if x.code.casefold() == key.casefold()]
                lot = same[0] if len(same) == 1 else None
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
        """Consistent online copy: SQLite's backup API (writers may keep working), or `pg_dump` for PostgreSQL.

        The copy is written beside dest and renamed into place, so dest is never half-written.
        Photos are copied into the `photos` folder beside dest, where FieldLog.open looks for them.
        Any failure (unwritable folder, /proc, disk full, no pg_dump) is a BackupFailed FieldLogError
        (code "backup_failed" / "backup_not_supported") and leaves no partial file.
        """
        try:
            dest = Path(check_text(os.fspath(dest_path), "backup destination")).expanduser().resolve()
        except (OSError, RuntimeError) as exc:
            raise FieldLogError(f"backup destination {dest_path!r}: {exc}", "backup_failed") from None
        src_path = db.sqlite_path(self.url)
        if src_path is not None:
            live = src_path.resolve()
            # the log's own -wal/-shm/-journal: SQLite deletes or rewrites them, and a replaced -wal loses commits
            own = {live, *(live.with_name(live.name + s) for s in ("-wal", "-shm", "-journal"))}
            if dest in own:
                what = "the live database" if dest == live else f"the live database's {dest.name[len(live.name):]} file"
                raise FieldLogError(f"backup destination {str(dest)!r} is {what}; choose another file, like "
                                    f"{live.with_name(live.stem + '-backup.sqlite')}.", "backup_failed")
        if dest.is_dir():
            raise FieldLogError(f"backup destination {str(dest)!r} is a folder; give a file name like "
                                f"fieldlog-backup.sqlite.", "backup_failed")
        tmp = dest.with_name(f".{dest.name}.partial")
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp.unlink(missing_ok=True)
            if src_path is None:
                self._pg_dump(tmp)
            else:
                self._sqlite_backup(tmp)
            os.replace(tmp, dest)
            if include_photos and self.photo_dir.exists():
                dest_photos = dest.parent / "photos"
                if dest_photos.resolve() != self.photo_dir.resolve():
                    shutil.copytree(self.photo_dir, dest_photos, dirs_exist_ok=True,
                                    ignore=shutil.ignore_patterns(".incoming-*"))
        except (OSError, sqlite3.Error, shutil.Error) as exc:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
            reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
            raise FieldLogError(f"backup to {str(dest)!r} failed ({reason}); choose a writable folder on a disk "
                                "with space. The live database was not changed.", "backup_failed") from None
        return dest

    def restore(self, backup_path: str | os.PathLike, *, keep_current: bool = True) -> tuple[Path, Path | None]:
        """Make this (SQLite) log hold exactly what a backup holds; returns (backup, copy of the log as it was).

        Copying a backup over the log file is not a restore: a -wal file left beside the log (the app still
        running, or a crash) is replayed onto the copied file, so the "restored" log silently came back with the
        records the backup was meant to undo (or, with another page layout, damaged). Here SQLite's backup API
        writes the backup's pages through the live log's own locks and WAL, so the app's connections see the
        restored log and a stale -wal is dealt with by SQLite. The backup is read as the reading commands read a
        read-only log (its own -wal replayed in a private copy, an older schema upgraded there; nothing beside it
        is written), checked (quick_check), and its photos are added to this log's photos. Unless
        keep_current=False, the log as it was is first backed up beside it (`NAME.before-restore-STAMP.sqlite`);
        a log with no plot, farm or lot yet is not.
        """
        self._check_writable()
        live = db.sqlite_path(self.url)
        if live is None:
            raise BackupNotSupportedError("restore of a PostgreSQL log: use pg_restore on the pg_dump file "
                                          "(`leafscout log backup` made it with --format=custom).")
        live = live.resolve()
        try:
            src = Path(check_text(os.fspath(backup_path), "backup file")).expanduser().resolve()
        except (OSError, RuntimeError) as exc:
            raise FieldLogError(f"backup file {backup_path!r}: {exc}", "backup_failed") from None
        if src in {live, *(live.with_name(live.name + x) for x in ("-wal", "-shm", "-journal"))}:
            raise FieldLogError(f"{str(src)!r} is this log itself (or one of its own files); give the backup "
                                "file to restore from.", "backup_failed")
        if not src.is_file():
            raise FieldLogError(f"no backup file at {str(src)!r}; give the .sqlite file `leafscout log backup` "
                                "wrote.", "backup_failed")
        try:
            engine, copy_dir = db.open_read_only(src, migrate.head_revision(), migrate.current_revision,
                                                 migrate.upgrade)
        except FieldLogError as exc:
            reason = str(exc).split(";")[0].rstrip(".")  # the part after ';' tells how to fix --db, not this
            raise FieldLogError(f"cannot restore from {str(src)!r}: {reason}; give a file `leafscout log backup` "
                                "wrote. This log was not changed.", "backup_failed") from None
        kept = None
        try:
            if keep_current and self._read(lambda s: any(s.scalar(select(func.count()).select_from(t)) for t in
                                                         (Plot, Farm, Lot))):
                stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
                kept = self.backup(live.with_name(f"{live.stem}.before-restore-{stamp}{live.suffix}"),
                                   include_photos=False)

            def copy() -> None:
                raw_src, raw_live = engine.raw_connection(), self._engine.raw_connection()
                try:
                    raw_src.driver_connection.backup(raw_live.driver_connection)
                finally:
                    raw_src.close()
                    raw_live.close()

            try:
                db.retry_busy(copy)
            except (sqlite3.Error, OperationalError) as exc:
                raise FieldLogError(f"restore from {str(src)!r} failed ({str(exc).splitlines()[0]}); "
                                    f"{'the log as it was is in ' + str(kept) if kept else 'nothing was changed'}.",
                                    "backup_failed") from None
            src_photos = src.parent / "photos"
            if src_photos.is_dir() and src_photos.resolve() != self.photo_dir.resolve():
                try:
                    shutil.copytree(src_photos, self.photo_dir, dirs_exist_ok=True,
                                    ignore=shutil.ignore_patterns(".incoming-*"))
                except (OSError, shutil.Error) as exc:
                    raise FieldLogError(f"the records were restored, but the backup's photos could not be copied to "
                                        f"{self.photo_dir} ({exc}); copy {src_photos} there by hand.",
                                        "backup_failed") from None
        finally:
            engine.dispose()
            if copy_dir is not None:
                shutil.rmtree(copy_dir, ignore_errors=True)
        self._engine.dispose()  # pooled connections start afresh on the restored file
        return src, kept

    def _sqlite_backup(self, tmp: Path) -> None:
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
            raise FieldLogError(f"backup failed its integrity check ({ok}); the live database was not changed.",
                                "backup_failed")

    def _pg_dump(self, tmp: Path) -> None:
        """PostgreSQL: `pg_dump --format=custom` (restore with pg_restore), run without a shell."""
        import subprocess

        from sqlalchemy.engine import make_url

        exe = shutil.which("pg_dump")
        if exe is None:
            raise BackupNotSupportedError(
                "backup of a PostgreSQL log needs pg_dump, which is not installed here; install the PostgreSQL "
                "client (Debian: apt-get install postgresql-client) or run pg_dump on the server.")
        u = make_url(self.url)
        env = {**os.environ}
        if u.password:
            env["PGPASSWORD"] = str(u.password)
        argv = [exe, "--format=custom", "--no-owner", f"--file={tmp}", "--dbname", u.database or "postgres"]
        for flag, value in (("--host", u.host), ("--port", u.port), ("--username", u.username)):
            if value:
                argv += [flag, str(value)]
        try:
            done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=3600)
        except subprocess.TimeoutExpired:
            raise FieldLogError("pg_dump did not finish within an hour; nothing was written.", "backup_failed") from None
        if done.returncode != 0:
            tmp.unlink(missing_ok=True)
            detail = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
            raise FieldLogError(f"pg_dump failed: {detail}", "backup_failed")

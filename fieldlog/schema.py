"""The field-log tables. Alembic migrations in `fieldlog/migrations` create exactly these.

Times are naive UTC. Stable `uid`s (UUID4 text) survive backups and merges; QR codes carry them.
"""
from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (CheckConstraint, Column, DateTime, Float, ForeignKey, Integer, String, Table, Text,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ORGANIC_STATUSES = ("conventional", "in_conversion", "certified")
# A diagnosis' status as the model reports it (model.results): only "ok" is a diagnosis; the others are
# logged only when a person confirms them (FieldLog.record_observation(confirmed_by=...)).
OBSERVATION_STATUSES = ("ok", "uncertain", "not_a_leaf", "error")


def new_uid() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    def as_dict(self) -> dict:
        return {c.key: getattr(self, c.key) for c in self.__table__.columns}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.as_dict().items())})"


class Farm(Base):
    __tablename__ = "farms"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="farm")
    location: Mapped[str | None] = mapped_column(Text)
    certifier: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    __table_args__ = (CheckConstraint("kind IN ('farm', 'cooperative')", name="ck_farms_kind"),)


class Plot(Base):
    __tablename__ = "plots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    farm_id: Mapped[int | None] = mapped_column(ForeignKey("farms.id"))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    name_key: Mapped[str] = mapped_column(String(200))  # fieldlog.text.name_key(name): unique, case-insensitive
    crop: Mapped[str] = mapped_column(String(100))
    area_ha: Mapped[float] = mapped_column(Float)
    location: Mapped[str | None] = mapped_column(Text)
    organic_status: Mapped[str] = mapped_column(String(20))
    buffer_notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    __table_args__ = (
        UniqueConstraint("name_key", name="uq_plots_name_key"),
        CheckConstraint("area_ha > 0", name="ck_plots_area_positive"),
        CheckConstraint(
            "organic_status IN ('conventional', 'in_conversion', 'certified')", name="ck_plots_organic_status"
        ),
    )


class Observation(Base):
    __tablename__ = "observations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    plot_id: Mapped[int] = mapped_column(ForeignKey("plots.id"), index=True)
    observed_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    photo_sha256: Mapped[str] = mapped_column(String(64), index=True)
    photo_relpath: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(50))
    confidence: Mapped[float] = mapped_column(Float)
    model_version: Mapped[str] = mapped_column(String(100))
    observer: Mapped[str | None] = mapped_column(String(200))
    gps_lat: Mapped[float | None] = mapped_column(Float)
    gps_lon: Mapped[float | None] = mapped_column(Float)
    # The person who confirmed the model's result; NULL = an unconfirmed machine suggestion, which the
    # audit does not count as a diagnosis (see FieldLog.record_observation / confirm_observation).
    confirmed_by: Mapped[str | None] = mapped_column(String(200))
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    __table_args__ = (CheckConstraint("confidence >= 0 AND confidence <= 1", name="ck_obs_confidence"),)


class Correction(Base):
    """A person says what a logged photo really shows. The observation keeps the model's answer as it was; each
    correction is kept (the latest is the photo's label), with who, when, the photo's hash and the model version
    that answered, so a corrected photo can become training data with its provenance
    (FieldLog.correct_observation, `leafscout log correct`, `leafscout corrections export`)."""
    __tablename__ = "corrections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    observation_id: Mapped[int] = mapped_column(ForeignKey("observations.id"), index=True)
    label: Mapped[str] = mapped_column(String(200))           # what the photo shows, says `by`
    previous_label: Mapped[str] = mapped_column(String(200))  # what the record said before (model or earlier correction)
    by: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    photo_sha256: Mapped[str] = mapped_column(String(64), index=True)
    model_version: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)


class Action(Base):
    __tablename__ = "actions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    plot_id: Mapped[int] = mapped_column(ForeignKey("plots.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    what: Mapped[str] = mapped_column(Text)
    product: Mapped[str | None] = mapped_column(String(200))
    active_substance: Mapped[str | None] = mapped_column(String(200))
    amount: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(30))
    copper_kg_ha: Mapped[float] = mapped_column(Float, default=0.0)
    by: Mapped[str | None] = mapped_column(String(200))
    observation_id: Mapped[int | None] = mapped_column(ForeignKey("observations.id"))
    __table_args__ = (
        CheckConstraint("copper_kg_ha >= 0", name="ck_actions_copper_nonneg"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="ck_actions_amount_nonneg"),
    )


lot_plots = Table(
    "lot_plots",
    Base.metadata,
    Column("lot_id", ForeignKey("lots.id", ondelete="CASCADE"), primary_key=True),
    Column("plot_id", ForeignKey("plots.id"), primary_key=True),
)


class Lot(Base):
    __tablename__ = "lots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    harvested_at: Mapped[dt.datetime] = mapped_column(DateTime)
    quantity_kg: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

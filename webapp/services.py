"""The heavy objects (model, advisor, field log), created once and shared by every request.

`Services` is the application's `DiagnosisService` (leafscout/service.py): the app adds nothing to the
wiring, it only resolves the model path the way the command line does. Nothing loads at import; `loads`
counts how many times a model was loaded (a test proves requests do not reload it).
"""
from __future__ import annotations

import os
from pathlib import Path

from leafscout.service import DB_ENV, DiagnosisService  # noqa: F401

SHIPPED_MODEL = Path(__file__).resolve().parent.parent / "model" / "leafscout.onnx"


def resolve_model_path(cli_value: str | None = None) -> Path:
    """--model, else the runtime's own default ($LEAFSCOUT_MODEL, else the shipped model/leafscout.onnx)."""
    if cli_value:
        return Path(cli_value)
    from leafscout.model.runtime import default_model_path  # imported here: nothing heavy at app import
    return default_model_path()


class Services(DiagnosisService):
    def __init__(self, model_path: str | os.PathLike | None = None, db: str | None = None,
                 threads: int | None = None, **kw):
        super().__init__(model_path=model_path or resolve_model_path(), db=db, threads=threads, **kw)

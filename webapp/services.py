"""The heavy objects (model, advisor, field log), created once and shared by every request.

Nothing loads at import. `Services.predictor` builds the Predictor on first use under a lock and keeps
it; `loads` counts how many times a model was loaded (a test proves requests do not reload it).
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

DB_ENV = "LEAFSCOUT_DB"
SHIPPED_MODEL = Path(__file__).resolve().parent.parent / "model" / "leafscout.onnx"


def resolve_model_path(cli_value: str | None = None) -> Path:
    """--model, else the runtime's own default ($LEAFSCOUT_MODEL, else the shipped model/leafscout.onnx)."""
    if cli_value:
        return Path(cli_value)
    from model.runtime import default_model_path  # imported here: nothing heavy at app import
    return default_model_path()


class Services:
    def __init__(self, model_path: str | os.PathLike | None = None, db: str | None = None,
                 threads: int | None = None):
        self.model_path = Path(model_path) if model_path else resolve_model_path()
        self.db = db if db is not None else os.environ.get(DB_ENV)
        self.threads = threads
        self.loads = 0
        self._lock = threading.Lock()
        self._predictor = None
        self._advisor = None
        self._log = None

    @property
    def predictor(self):
        if self._predictor is None:
            with self._lock:
                if self._predictor is None:
                    from model.runtime import Predictor

                    self._predictor = Predictor(self.model_path, threads=self.threads)
                    self.loads += 1
        return self._predictor

    @property
    def advisor(self):
        if self._advisor is None:
            from advisor import Advisor

            self._advisor = Advisor.load()
        return self._advisor

    @property
    def log(self):
        """The field log, opened on first use (None-safe: callers report an error if it cannot open)."""
        if self._log is None:
            with self._lock:
                if self._log is None:
                    from fieldlog import FieldLog

                    self._log = FieldLog.open(self.db or None)
        return self._log

    def warm_up(self) -> None:
        """Load model and knowledge base now, at start, so the first farmer does not wait."""
        self.predictor
        self.advisor

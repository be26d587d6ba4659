"""The app's onnxruntime threads (issue 20, load): each of the MODEL_WORKERS diagnoses that run at once gets
cores / MODEL_WORKERS threads. Fewer threads than before must not change any answer."""
from __future__ import annotations

import os

from conftest import fixture_photos


def test_default_threads_share_the_cores():
    from leafscout.webapp import app
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert app.default_threads() == max(1, cores // app.MODEL_WORKERS) >= 1


def test_one_thread_gives_the_same_answers_as_all_cores():
    from leafscout.service import DiagnosisService
    one, every = DiagnosisService(threads=1), DiagnosisService(threads=None)
    for p in fixture_photos()[::6]:
        a, b = one.diagnose(str(p)), every.diagnose(str(p))
        assert (a.status, a.label, a.error_code) == (b.status, b.label, b.error_code), p
        if a.confidence is not None:
            assert abs(a.confidence - b.confidence) <= 1e-6, p
        assert a.pests_dict() == b.pests_dict(), p

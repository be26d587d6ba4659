"""Moved to `model.metrics` (numpy only, shared by the runtime's `leafscout evaluate` and training);
kept so existing imports and running jobs still resolve."""
from model.metrics import classification_report, confusion, ece, energy, fit_temperature, softmax  # noqa: F401

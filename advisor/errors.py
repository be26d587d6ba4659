"""Errors that say what was expected, what came, and how to fix it."""
from __future__ import annotations

import difflib
from typing import Iterable


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the nearest choice, or '' when nothing is close."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


class AdvisorError(ValueError):
    """Base class: a mistake the caller can fix; the message says how."""


class KnowledgeBaseError(AdvisorError):
    """The YAML knowledge base breaks the schema: every problem found is listed."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("knowledge base is invalid:\n  - " + "\n  - ".join(problems))


class UnknownLabelError(AdvisorError, KeyError):
    """A label or problem id the knowledge base does not hold."""

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class ContextError(AdvisorError):
    """A grower context value of the wrong name, type or range."""

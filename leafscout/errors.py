"""Errors shared by every front end (CLI, app, API), and the error *codes* they travel as.

No front end decides what kind of error it is looking at by reading English text: the service turns an
exception into a code once (`image_error_code`), and each front end maps the code to a message in the
user's language (the app through `webapp.i18n`, the CLI through `leafscout.i18n`).

This module imports nothing from the rest of the project, so every package can import it without a cycle.
"""
from __future__ import annotations

import os
import re


class UsageError(Exception):
    """A mistake in how a command was called: printed without a traceback, exit code 2.

    `str()` is the English message. `texts` holds the same refusal in other languages ({"vi": ...}; the CLI
    builds them with `leafscout.i18n.refusal`), and `code` is the ERROR_CODES (or field-log) code a translated
    refusal shows beside it, so support can search for it whatever language the person read it in."""

    def __init__(self, message: str = "", code: str | None = None, texts: dict | None = None):
        super().__init__(message)
        self.code = code
        self.texts = dict(texts or {})

    def text(self, lang: str) -> str:
        """The refusal in `lang`; the English message where no translation was given."""
        return self.texts.get(lang) or str(self)


class ServiceError(Exception):
    """A request the diagnosis service refuses; `code` is one of ERROR_CODES, `detail` English for logs/CLI.

    `log_code`: for code "log_error", the field log's own code (fieldlog.errors: needs_confirmation,
    copper_required, bad_label, ...), so a front end can say in the user's language why the record was refused.
    `field`: for a value refused (bad_input, unknown_crop), the service's name for it (SERVICE_FIELDS), so each
    front end names its own option or box (`--days-to-harvest`, the API's `days_to_harvest`) without
    trying every value again or reading the English."""

    def __init__(self, code: str, detail: str = "", log_code: str | None = None, field: str | None = None):
        super().__init__(detail or code)
        self.code = code if code in ERROR_CODES else "other"
        self.detail = detail
        self.log_code = log_code
        self.field = field if field in SERVICE_FIELDS else None


# the values DiagnosisService.context / check_crop refuse, by the service's keyword for them
SERVICE_FIELDS = ("crop", "organic_status", "days_to_harvest", "copper_year", "copper_7y")


# code -> what it means (English, for the CLI and for developers); the app translates the code itself.
ERROR_CODES = {
    "no_photo": "no photo was given",
    "empty": "the file is empty (0 bytes)",
    "not_image": "the file is not a photo (JPEG, PNG, WebP, BMP or TIFF)",
    "heic": "an HEIC/HEIF photo, which cannot be decoded yet",
    "too_small": "the photo is too small",
    "too_large": "the file or the image is too large",
    "corrupt": "the photo is damaged or truncated",
    "zip": "the zip file could not be opened, or is too large",
    "zip_member": "a file inside the zip could not be read",
    "batch_too_big": "too many files or too much data in one request",
    "not_a_file": "not a regular file",
    "not_found": "file not found",
    "refused_path": "the file is not an upload",
    "bad_input": "a value in the request is not valid",
    "unknown_plot": "no plot with that name",
    "unknown_crop": "the model has no labels for that crop yet",
    "unknown_label": "no such problem in the knowledge base",
    "log_error": "the field log refused the record",
    "other": "the photo could not be read",
}

# What an image error's *own* words say, tried in order, with the file's path removed first (a path
# like /tmp/zip000/x.jpg must never decide the kind). Used only when the exception carries no `code`.
_IMAGE_PATTERNS = (
    ("empty", r"\bis empty\b|\b0 bytes\b"),
    ("heic", r"\bheic\b|\bheif\b"),
    ("not_found", r"file not found"),
    ("not_a_file", r"is a folder|not a regular file|fifo|device|socket"),
    ("too_large", r"decompression bomb|over the .* limit|\bMB; a phone photo\b|too large|larger than|at most .* (?:bytes|MB)"),
    ("too_small", r"only \d+x\d+ pixels|expected at least"),
    ("not_image", r"not a photo|not an image|expected a file path"),
    ("corrupt", r"corrupt|damaged|truncated|cannot be decoded"),
)


def strip_paths(message: str, *paths) -> str:
    """`message` with every given path (and its bare file name) replaced by 'the file'."""
    text = str(message or "")
    for p in paths:
        if not p:
            continue
        p = os.fspath(p)
        for form in sorted({p, os.path.basename(p)}, key=len, reverse=True):
            if form:
                text = text.replace(form, "the file")
    # any absolute path left (a temp folder named in an OS error)
    text = re.sub(r"(?<![\w.])/(?:[\w.\-]+/)+[\w.\-]*", "the file", text)
    return text


def image_error_code(exc_or_message, path=None) -> str:
    """An ImageError (or its message, e.g. a batch row's `error`) -> one of ERROR_CODES."""
    code = getattr(exc_or_message, "code", None)
    if isinstance(code, str) and code in ERROR_CODES:
        return code
    text = strip_paths(str(exc_or_message), path).lower()
    for name, pattern in _IMAGE_PATTERNS:
        if re.search(pattern, text, flags=re.IGNORECASE):
            return name
    return "other"

"""Officer accounts for the app's login: each officer has a name and a password; the file keeps only salted
PBKDF2-SHA256 hashes (hashlib), never a password.

    leafscout officers add "Lò Thị Hoa"          # asks for the password twice
    leafscout officers list
    python app.py --officers ~/.local/share/leafscout/officers.json

The file is JSON, written with mode 0600 (atomically: a crash never leaves half a file). Its default place is
`$LEAFSCOUT_OFFICERS`, else `officers.json` beside the field log's SQLite file (`--db` / `$LEAFSCOUT_DB` /
~/.local/share/leafscout/), or in ~/.local/share/leafscout/ when the log is a database server. A file other
users can read or write is refused (like ssh does with a private key): `chmod 600 FILE`.

Who confirms or corrects a diagnosis in the app is the logged-in officer (webapp/logbook.py).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import stat
import tempfile
import unicodedata
from pathlib import Path

from .errors import UsageError

OFFICERS_ENV = "LEAFSCOUT_OFFICERS"
FORMAT = "leafscout-officers/1"
FILE_NAME = "officers.json"
SCHEME = "pbkdf2_sha256"
ITERATIONS = 600_000      # OWASP 2023 figure for PBKDF2-HMAC-SHA256
SALT_BYTES = 16
MIN_PASSWORD = 8
MAX_PASSWORD = 1024       # PBKDF2 on a megabyte "password" is a cheap way to keep the server busy
MAX_NAME = 100


OFFICERS_CODES = ("bad_name", "bad_password", "officers_file", "unknown_officer", "duplicate")


class OfficersError(UsageError):
    """A bad officers file, name or password: one line, no traceback (the CLI prints it, the app exits with it).
    `code` says which (OFFICERS_CODES): a bad name, a bad password, the officers file (not there, unreadable,
    readable by others, not an officers file, not writable), an officer who is not there, one who is already."""

    def __init__(self, message: str = "", code: str = "officers_file"):  # the file: what load and save refuse
        super().__init__(message, code=code)


# ----------------------------------------------------------------------------------------------- hashing

def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str, *, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """'pbkdf2_sha256$<iterations>$<salt b64>$<hash b64>': a fresh random salt for each password."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    dk = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"{SCHEME}${iterations}${_b64(salt)}${_b64(dk)}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time comparison of `password` against a stored hash; False for anything malformed."""
    try:
        scheme, iterations, salt, expected = stored.split("$")
        if scheme != SCHEME:
            return False
        n = int(iterations)
        if not 1 <= n <= 10_000_000:
            return False
        salt_b, expected_b = base64.b64decode(salt, validate=True), base64.b64decode(expected, validate=True)
    except (ValueError, AttributeError, TypeError):
        return False
    if not isinstance(password, str) or len(password) > MAX_PASSWORD:
        return False
    dk = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8", "surrogatepass"), salt_b, n)
    return hmac.compare_digest(dk, expected_b)


def _dummy_hash() -> str:
    """A hash of nothing, checked for an unknown name so a wrong name takes as long as a wrong password
    (made on first use: nothing slow at import)."""
    global _DUMMY
    if _DUMMY is None:
        _DUMMY = hash_password("", salt=b"\0" * SALT_BYTES)
    return _DUMMY


_DUMMY: str | None = None


# ------------------------------------------------------------------------------------------ names, paths

def clean_name(name) -> str:
    """An officer's name as stored and as typed at login: NFC, outer spaces removed, printable, <= 100."""
    if not isinstance(name, str):
        raise OfficersError("officer name: expected a text", "bad_name")
    name = unicodedata.normalize("NFC", name).strip()
    if not name:
        raise OfficersError("officer name: give a name, e.g. \"Lò Thị Hoa\"", "bad_name")
    if len(name) > MAX_NAME:
        raise OfficersError(f"officer name: at most {MAX_NAME} characters, got {len(name)}", "bad_name")
    if any(unicodedata.category(ch)[0] == "C" for ch in name):
        raise OfficersError("officer name: control or invisible characters are not allowed; type it again",
                            "bad_name")
    return name


def check_password(password) -> str:
    if not isinstance(password, str) or not password:
        raise OfficersError("password: empty; give a password of at least 8 characters", "bad_password")
    if len(password) < MIN_PASSWORD:
        raise OfficersError(f"password: at least {MIN_PASSWORD} characters, got {len(password)}", "bad_password")
    if len(password) > MAX_PASSWORD:
        raise OfficersError(f"password: at most {MAX_PASSWORD} characters", "bad_password")
    if password != password.strip() or any(unicodedata.category(ch) == "Cc" for ch in password):
        raise OfficersError("password: no spaces at the ends and no control characters (a stray newline?)",
                            "bad_password")
    return password


def default_file(db: str | os.PathLike | None = None) -> Path:
    """$LEAFSCOUT_OFFICERS, else officers.json beside the field log's SQLite file (--db, $LEAFSCOUT_DB, the
    per-user default), else in the per-user folder when the log is a database server."""
    env = os.environ.get(OFFICERS_ENV)
    if env:
        return Path(env).expanduser()
    from leafscout.fieldlog.db import DEFAULT_DB
    raw = db if db not in (None, "") else os.environ.get("LEAFSCOUT_DB") or DEFAULT_DB
    raw = str(raw)
    if "://" in raw:
        from sqlalchemy.engine import make_url
        try:
            u = make_url(raw)
        except Exception:
            u = None
        if u is not None and u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
            return Path(u.database).expanduser().parent / FILE_NAME
        return DEFAULT_DB.expanduser().parent / FILE_NAME
    return Path(raw).expanduser().parent / FILE_NAME


# ---------------------------------------------------------------------------------------------- the file

def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def load(path: str | os.PathLike, *, missing_ok: bool = False) -> dict[str, dict]:
    """name -> {"hash", "added_at"}. A missing file is {} with `missing_ok`, else refused; a file others may
    read or write, or one that is not an officers file, is refused."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        if missing_ok:
            return {}
        raise OfficersError(f"{path}: no officers file; add an officer first: leafscout officers add NAME "
                            f"--file {path}", "officers_file") from None
    except OSError as exc:
        raise OfficersError(f"{path}: cannot read it ({exc.strerror or exc})", "officers_file") from None
    if not stat.S_ISREG(st.st_mode):
        raise OfficersError(f"{path}: is not a file", "officers_file")
    if os.name == "posix" and st.st_mode & 0o077:
        raise OfficersError(f"{path}: other users can read or change it (mode {stat.S_IMODE(st.st_mode):04o}); "
                            f"run: chmod 600 {path}", "officers_file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise OfficersError(f"{path}: not a LeafScout officers file ({type(exc).__name__})",
                            "officers_file") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("officers"), dict):
        raise OfficersError(f"{path}: not a LeafScout officers file (expected format {FORMAT!r})",
                            "officers_file")
    out = {}
    for name, rec in data["officers"].items():
        if not isinstance(rec, dict) or not isinstance(rec.get("hash"), str) or not rec["hash"].startswith(SCHEME + "$"):
            raise OfficersError(f"{path}: the entry for {name!r} holds no password hash; remove it and add it "
                                "again", "officers_file")
        out[name] = rec
    return out


def save(path: str | os.PathLike, officers: dict[str, dict]) -> None:
    """Write atomically with mode 0600 (a temp file in the same folder, then rename)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OfficersError(f"{path.parent}: cannot create the folder ({exc.strerror or exc})",
                            "officers_file") from None
    body = json.dumps({"format": FORMAT, "officers": dict(sorted(officers.items()))}, indent=2,
                      ensure_ascii=False) + "\n"
    try:
        fd, tmp = tempfile.mkstemp(prefix=".officers-", dir=str(path.parent))  # mkstemp: mode 0600
    except OSError as exc:
        raise OfficersError(f"{path.parent}: cannot write there ({exc.strerror or exc})", "officers_file") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise OfficersError(f"{path}: cannot write it ({exc.strerror or exc})", "officers_file") from None


def add(path, name, password, *, replace: bool = False, iterations: int = ITERATIONS) -> str:
    """Add an officer (or, with `replace`, set a new password); returns the stored name."""
    name, password = clean_name(name), check_password(password)
    officers = load(path, missing_ok=True)
    if name in officers and not replace:
        raise OfficersError(f"officer {name!r} already exists; to set a new password add --replace", "duplicate")
    if name not in officers and replace:
        raise OfficersError(f"no officer {name!r}{_nearest(name, officers)}; without --replace to add one",
                            "unknown_officer")
    officers[name] = {"hash": hash_password(password, iterations=iterations),
                      "added_at": officers.get(name, {}).get("added_at") or _now()}
    if replace:
        officers[name]["changed_at"] = _now()
    save(path, officers)
    return name


def remove(path, name) -> str:
    name = clean_name(name)
    officers = load(path)
    if name not in officers:
        raise OfficersError(f"no officer {name!r}{_nearest(name, officers)}", "unknown_officer")
    del officers[name]
    save(path, officers)
    return name


def _nearest(name: str, officers: dict) -> str:
    import difflib
    close = difflib.get_close_matches(name, list(officers), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def reviewer(name, db=None, option: str = "--by") -> str:
    """The name a CLI command records as who confirmed or corrected a diagnosis. Where the log has an officers
    file (default_file(db): the one the app logs in against), the name must be one of its officers, so the
    audit never holds "Lo Thi Hoa" beside "Lò Thị Hoa"; it is returned as stored. Without a file, any name."""
    path = default_file(db)
    if not path.exists():
        return name
    officers = load(path)
    try:
        typed = clean_name(name)
    except OfficersError as exc:
        raise OfficersError(f"{option}: {exc}", exc.code) from None
    if typed in officers:
        return typed
    fold = {_fold(n): n for n in officers}
    if _fold(typed) in fold:  # the same name typed without its accents or in other case: say which one
        raise OfficersError(f"{option} {typed!r} is not an officer in {path}; did you mean {fold[_fold(typed)]!r}?",
                            "unknown_officer")
    raise OfficersError(f"{option} {typed!r} is not an officer in {path}{_nearest(typed, officers)}; officers: "
                        f"{', '.join(sorted(officers)) or 'none'} (add one: leafscout officers add NAME)",
                        "unknown_officer")


def _fold(name: str) -> str:
    """"Lò Thị Hoa" -> "lo thi hoa": for the hint only, never for a match."""
    base = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in base if not unicodedata.combining(c)).lower().split())


class Officers:
    """The app's view of an officers file: `verify(name, password)` for the login guard, `known(name)` for
    the handlers. The file is read again when it changes, so an officer added or removed with the CLI counts
    from the next login without a restart."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._stamp = None
        self._officers: dict[str, dict] = {}
        self.reload()  # a bad file stops the app at start, with its one-line reason

    def reload(self) -> None:
        try:
            st = self.path.stat()
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            stamp = None
        if stamp != self._stamp or stamp is None:
            self._officers = load(self.path)
            self._stamp = stamp

    def _current(self) -> dict[str, dict]:
        try:
            self.reload()
        except OfficersError:
            pass  # a broken edit while serving: keep the accounts as they were
        return self._officers

    def names(self) -> list[str]:
        return sorted(self._current())

    def known(self, name) -> bool:
        try:
            return clean_name(name) in self._current()
        except OfficersError:
            return False

    def verify(self, name, password) -> bool:
        try:
            name = clean_name(name)
        except OfficersError:
            name = ""
        rec = self._current().get(name)
        ok = verify_password(password if isinstance(password, str) else "", rec["hash"] if rec else _dummy_hash())
        return bool(rec) and ok

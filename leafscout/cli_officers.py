"""`leafscout officers add|remove|list`: the accounts officers log in to the app with (`python app.py --officers
FILE`). Passwords come from a prompt (asked twice) or, for scripts, one line on stdin (`--password-stdin`); the
file keeps salted PBKDF2 hashes only, mode 0600 (leafscout/officers.py). Imports nothing heavy."""
from __future__ import annotations

import argparse
import sys

EXIT_CODES = """exit codes:
  0  done
  2  refused: a bad name or password, an unknown officer, an officers file that is broken or readable by
     other users; nothing was changed
  130 interrupted (Ctrl-C)"""


def _file_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--file", metavar="PATH", help="the officers file (default: $LEAFSCOUT_OFFICERS, else "
                   "officers.json beside the field log: --db / $LEAFSCOUT_DB / ~/.local/share/leafscout/)")
    p.add_argument("--db", metavar="PATH_OR_URL", help="the field log whose folder holds officers.json "
                   "(only to find the default file)")
    from leafscout.cli_log import lang_option
    lang_option(p)


def register(sub) -> None:
    o = sub.add_parser("officers", help="officer accounts for the app's login (confirm and correct diagnoses)",
                       description="Officer accounts: each officer logs in to the app with their own name and "
                       "password; what they confirm or correct is recorded under their name.", epilog=EXIT_CODES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    from leafscout.cli_log import dash_value_parser
    acts = o.add_subparsers(dest="officers_action", metavar="add|remove|list", required=True,
                            parser_class=dash_value_parser(type(o)))  # `--file -x.json`: how to give it
    a = acts.add_parser("add", help="add an officer (the password is asked for, twice)")
    a.add_argument("name", metavar="NAME", help="the name the officer logs in with, e.g. \"Lò Thị Hoa\"")
    a.add_argument("--password-stdin", action="store_true", help="read the password from one line on stdin "
                   "(for scripts) instead of asking")
    a.add_argument("--replace", action="store_true", help="the officer exists: set a new password")
    _file_option(a)
    a.set_defaults(func=cmd_add)
    r = acts.add_parser("remove", help="remove an officer (they can no longer log in)")
    r.add_argument("name", metavar="NAME")
    _file_option(r)
    r.set_defaults(func=cmd_remove)
    ls = acts.add_parser("list", help="the officers' names and when they were added (never a password)")
    _file_option(ls)
    ls.set_defaults(func=cmd_list)


def _path(args):
    from leafscout.officers import default_file
    from pathlib import Path
    return Path(args.file).expanduser() if args.file else default_file(args.db)


def file_refusal(exc, path):
    """An officers file the officers module refused to read or write, in each language: the reason found from the
    file itself (not there, not a file, readable by others, not an officers file), never from the English."""
    import os
    import stat

    from leafscout.i18n import os_reason, refusal
    path = str(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return refusal("off_no_file", "officers_file", detail=str(exc), path=path)
    except OSError as err:
        return refusal("off_cannot_read", "officers_file", detail=str(exc), path=path, why=os_reason(err))
    if not stat.S_ISREG(st.st_mode):
        return refusal("off_not_a_file", "officers_file", detail=str(exc), path=path)
    if os.name == "posix" and st.st_mode & 0o077:
        return refusal("off_mode", "officers_file", detail=str(exc), path=path, mode=f"{stat.S_IMODE(st.st_mode):04o}")
    return refusal("off_not_ours", "officers_file", detail=str(exc), path=path)


def name_refusal(exc, name, flag: str = ""):
    """A name clean_name refused, in each language, from the name itself. `flag`: '--by: ' where it was typed."""
    import unicodedata

    from leafscout.i18n import refusal
    from leafscout.officers import MAX_NAME
    text = unicodedata.normalize("NFC", name).strip() if isinstance(name, str) else ""
    if not text:
        return refusal("off_name_empty", "bad_name", detail=str(exc), flag=flag)
    if len(text) > MAX_NAME:
        return refusal("off_name_long", "bad_name", detail=str(exc), flag=flag, max=MAX_NAME, n=len(text))
    return refusal("off_name_control", "bad_name", detail=str(exc), flag=flag)


def password_refusal(exc, password):
    from leafscout.i18n import refusal
    from leafscout.officers import MAX_PASSWORD, MIN_PASSWORD
    if not isinstance(password, str) or not password:
        return refusal("off_pw_empty", "bad_password", detail=str(exc), min=MIN_PASSWORD)
    if len(password) < MIN_PASSWORD:
        return refusal("off_pw_short", "bad_password", detail=str(exc), min=MIN_PASSWORD, n=len(password))
    if len(password) > MAX_PASSWORD:
        return refusal("off_pw_long", "bad_password", detail=str(exc), max=MAX_PASSWORD)
    return refusal("off_pw_spaces", "bad_password", detail=str(exc))


def _nearest(name: str, officers) -> str | None:
    import difflib
    close = difflib.get_close_matches(name, list(officers), n=1, cutoff=0.6)
    return close[0] if close else None


def checked(path, name, step, *, must_exist: bool, password=None):
    """Run `step()` (a change to the officers file), each refusal in the run's language from the OfficersError's
    code: the name, the password, the file (read, or written), an officer that is not there (`must_exist`: remove,
    a new password), or one that is there already."""
    from leafscout.i18n import PerLang, refusal, t
    from leafscout.officers import OfficersError, clean_name, load
    try:
        return step()
    except OfficersError as exc:
        code = exc.code
        if code == "bad_name":
            raise name_refusal(exc, name) from None
        if code == "bad_password":
            raise password_refusal(exc, password) from None
        try:
            officers = load(path, missing_ok=not must_exist)
        except OfficersError:  # the file itself, whichever step met it
            raise file_refusal(exc, path) from None
        typed = clean_name(name)
        if code == "duplicate":
            raise refusal("off_exists", "duplicate", name=typed, quoted=repr(typed)) from None
        if code == "unknown_officer":
            near = _nearest(typed, officers)
            raise refusal("off_unknown", "unknown_officer", detail=str(exc), name=typed, path=path,
                          hint=PerLang(vi=t("near_name", "vi", name=near) if near else "", en=""),
                          known=", ".join(sorted(officers)) or t("none_yet", "vi")) from None
        raise refusal("off_cannot_write", "officers_file", detail=str(exc), path=path) from None  # read, not written


def checked_reviewer(name, db, flag: str = "--by") -> str:
    """officers.reviewer (the name a command records as who confirmed or corrected), its refusal in the run's
    language from the OfficersError's code: the name typed, the officers file, or a name that is not one of the
    officers (with the nearest, the same name typed without its accents first)."""
    from leafscout.errors import UsageError
    from leafscout.i18n import LANGS, t
    from leafscout.officers import OfficersError, clean_name, default_file, load, reviewer
    try:
        return reviewer(name, db, flag)
    except OfficersError as exc:
        path = default_file(db)
        if exc.code == "bad_name":
            raise name_refusal(exc, name, flag=f"{flag}: ") from None
        if exc.code != "unknown_officer":
            raise file_refusal(exc, path) from None
        typed = clean_name(name)
        try:
            officers = sorted(load(path))
        except OfficersError:
            raise file_refusal(exc, path) from None
        from leafscout.fieldlog.errors import nearest_name
        near = (nearest_name(typed, officers) or _nearest(typed, officers)) if officers else None
        texts = {lang: t("not_an_officer", lang, flag=flag, name=typed, path=path, detail=str(exc),
                         hint=t("near_name", lang, name=near) if near else "",
                         known=", ".join(officers) or t("none_yet", lang)) for lang in LANGS}
        raise UsageError(str(exc), code="unknown_officer", texts=texts) from None


def _read_password(args) -> str:
    from leafscout.i18n import refusal, t
    from leafscout.officers import OfficersError, check_password

    def checked_password(pw):
        try:
            return check_password(pw)
        except OfficersError as exc:
            raise password_refusal(exc, pw) from None

    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise refusal("off_pw_stdin_empty", "bad_password")
        return checked_password(line.rstrip("\r\n"))
    if not sys.stdin.isatty():
        raise refusal("off_no_terminal", "bad_password")
    import getpass
    first = checked_password(getpass.getpass(t("off_prompt", args.lang)))
    if getpass.getpass(t("off_prompt_again", args.lang)) != first:
        raise refusal("off_pw_differ", "bad_password")
    return first


def cmd_add(args) -> int:
    from leafscout.i18n import refusal
    from leafscout.officers import OfficersError, add, clean_name, load
    path = _path(args)
    try:
        name = clean_name(args.name)  # a bad name, or one that is there already, is refused before the password
    except OfficersError as exc:
        raise name_refusal(exc, args.name) from None
    try:
        officers = load(path, missing_ok=True)
    except OfficersError as exc:
        raise file_refusal(exc, path) from None
    if (name in officers) != bool(args.replace):
        if not args.replace:
            raise refusal("off_exists", "duplicate", name=name, quoted=repr(name))
        near = _nearest(name, officers)
        from leafscout.i18n import PerLang, t
        raise refusal("off_unknown_replace", "unknown_officer", name=name,
                      detail=f"no officer {name!r}; without --replace to add one",
                      hint=PerLang(vi=t("near_name", "vi", name=near) if near else "", en=""))
    password = _read_password(args)
    name = checked(path, name, lambda: add(path, name, password, replace=args.replace), must_exist=args.replace,
                   password=password)
    from leafscout.i18n import t
    print(t("oo_replaced" if args.replace else "oo_added", args.lang, name=repr(name), path=path))
    return 0


def cmd_remove(args) -> int:
    from leafscout.officers import remove
    path = _path(args)
    name = checked(path, args.name, lambda: remove(path, args.name), must_exist=True)
    from leafscout.i18n import t
    print(t("oo_removed", args.lang, name=repr(name), path=path))
    return 0


def cmd_list(args) -> int:
    from leafscout.officers import OfficersError, load
    path = _path(args)
    try:
        officers = load(path, missing_ok=True)
    except OfficersError as exc:
        raise file_refusal(exc, path) from None
    from leafscout.i18n import t
    if not officers:
        print(t("oo_none", args.lang, path=path))
        return 0
    for name, rec in sorted(officers.items()):
        print(t("oo_entry", args.lang, name=name, added=rec.get("added_at", "?"))
              + (t("oo_changed", args.lang, changed=rec["changed_at"]) if rec.get("changed_at") else ""))
    return 0

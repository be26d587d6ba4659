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


def register(sub) -> None:
    o = sub.add_parser("officers", help="officer accounts for the app's login (confirm and correct diagnoses)",
                       description="Officer accounts: each officer logs in to the app with their own name and "
                       "password; what they confirm or correct is recorded under their name.", epilog=EXIT_CODES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    acts = o.add_subparsers(dest="officers_action", metavar="add|remove|list", required=True,
                            parser_class=type(o))
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


def _read_password(args) -> str:
    from leafscout.officers import OfficersError, check_password
    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise OfficersError("--password-stdin: nothing on stdin; pipe the password in, e.g. "
                                "printf '%s\\n' \"$PW\" | leafscout officers add NAME --password-stdin")
        return check_password(line.rstrip("\r\n"))
    if not sys.stdin.isatty():
        raise OfficersError("no terminal to ask for the password; use --password-stdin")
    import getpass
    first = check_password(getpass.getpass("Password for the officer: "))
    if getpass.getpass("The same password again: ") != first:
        raise OfficersError("the two passwords differ; nothing was changed")
    return first


def cmd_add(args) -> int:
    from leafscout.officers import OfficersError, add, clean_name, load
    path = _path(args)
    name = clean_name(args.name)  # a bad name, or one that is there already, is refused before the password
    if (name in load(path, missing_ok=True)) != bool(args.replace):
        raise OfficersError(f"officer {name!r} already exists; to set a new password add --replace"
                            if not args.replace else f"no officer {name!r}; without --replace to add one")
    name = add(path, name, _read_password(args), replace=args.replace)
    what = "New password set for" if args.replace else "Added"
    print(f"{what} officer {name!r} in {path}. Start the app with: python app.py --officers {path}")
    return 0


def cmd_remove(args) -> int:
    from leafscout.officers import remove
    path = _path(args)
    name = remove(path, args.name)
    print(f"Removed officer {name!r} from {path}; they can no longer log in (a page already open keeps its "
          f"session until the browser closes it).")
    return 0


def cmd_list(args) -> int:
    from leafscout.officers import load
    path = _path(args)
    officers = load(path, missing_ok=True)
    if not officers:
        print(f"No officers in {path}. Add one: leafscout officers add NAME --file {path}")
        return 0
    for name, rec in sorted(officers.items()):
        print(f"{name}\tadded {rec.get('added_at', '?')}"
              + (f", password changed {rec['changed_at']}" if rec.get("changed_at") else ""))
    return 0

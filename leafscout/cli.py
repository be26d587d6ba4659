"""The `leafscout` command: a thin dispatcher.

Each area registers its own subcommands (model: diagnose/info/evaluate; advisor: advise;
fieldlog: log/export). Registration imports nothing heavy, so `leafscout --help` is instant.
"""
from __future__ import annotations

import argparse
import difflib
import importlib
import os
import sys

# module path -> it must define `register(subparsers)`; each parser sets `func(args) -> int`.
COMMAND_MODULES = ("leafscout.cli_diagnose", "leafscout.cli_advise", "leafscout.cli_log", "leafscout.cli_batch",
                   "leafscout.cli_corrections", "leafscout.cli_officers")


from leafscout.errors import UsageError  # noqa: F401  (re-exported: `from leafscout.cli import UsageError`)

# what `leafscout --help` tells a person (the module docstring above is for developers)
DESCRIPTION = ("LeafScout: names the disease or pest on crop-leaf photos and gives organic advice, offline, in\n"
               "Vietnamese or English; keeps the field log organic certification needs.\n"
               "LeafScout: nhận biết bệnh và sâu hại qua ảnh lá cây, hướng dẫn cách xử lý hữu cơ; chạy không cần mạng.")
EPILOG = """examples:
  leafscout diagnose photos/ --lang vi          the answers in Vietnamese (--advise adds the advice)
  leafscout advise coffee.rust --lang vi        advice for a problem the model cannot see yet
  leafscout advise --list --crop "cà phê"       the problems of one crop
  leafscout log plots                           the field log's plots

Each command has its own --help. --lang vi|en (every command but info and evaluate) sets the language a person reads,
refusals included; --json and --csv stay language-free."""


def _all_names(parser: argparse.ArgumentParser) -> list[str]:
    """Every subcommand and option name below `parser`: unknown options are reported by the top parser."""
    names = _own_names(parser)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                names.extend(_all_names(sub))
    return names


def _named(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The deepest subcommand the command line names below `parser` (`leafscout log add-plot ...` -> add-plot's
    parser): unknown options are reported by the top parser, but only that command's names are near misses."""
    for token in _ARGV:
        subs = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        if subs is not None and token in subs.choices:
            parser = subs.choices[token]
    return parser


def _own_names(parser: argparse.ArgumentParser) -> list[str]:
    """A parser's own options and subcommand names (not those of the subcommands' own options)."""
    names = []
    for action in parser._actions:
        names.extend(action.option_strings)
        if isinstance(action, argparse._SubParsersAction):
            names.extend(action.choices)
    return names


# argparse's fixed message templates (Python's argparse module) -> the i18n key that says them in another language
_ARGPARSE_MESSAGES = (
    (r"argument (?P<arg>.+?): invalid int value: (?P<value>.+)", "ap_invalid_int"),
    (r"argument (?P<arg>.+?): invalid float value: (?P<value>.+)", "ap_invalid_float"),
    (r"argument (?P<arg>.+?): invalid \S+ value: (?P<value>.+)", "ap_invalid_value"),
    (r"argument (?P<arg>.+?): invalid choice: (?P<value>.+?) \(choose from (?P<choices>.+)\)", "ap_invalid_choice"),
    (r"argument (?P<arg>.+?): expected one argument", "ap_expected_one"),
    (r"argument (?P<arg>.+?): expected at most one argument", "ap_expected_at_most_one"),
    (r"argument (?P<arg>.+?): expected at least one argument", "ap_expected_at_least_one"),
    (r"argument (?P<arg>.+?): expected (?P<n>\d+) arguments?", "ap_expected_n"),
    (r"argument (?P<arg>.+?): ignored explicit argument (?P<value>.+)", "ap_ignored_explicit"),
    (r"argument (?P<arg>.+?): not allowed with argument (?P<other>.+)", "ap_not_allowed_with"),
    (r"unrecognized arguments: (?P<args>.+)", "ap_unrecognized"),
    (r"the following arguments are required: (?P<args>.+)", "ap_required"),
    (r"one of the arguments (?P<args>.+) is required", "ap_one_of_required"),
    (r"ambiguous option: (?P<option>\S+) could match (?P<matches>.+)", "ap_ambiguous"),
)


def argparse_message(message: str, lang: str) -> str:
    """argparse's English `message` in `lang` (English: as argparse wrote it). Option names, values and choices
    stay as they are; a message none of the templates fits is kept inside a sentence in `lang`."""
    import re

    from leafscout.i18n import t
    if lang == "en":
        return message
    for pattern, key in _ARGPARSE_MESSAGES:
        m = re.fullmatch(pattern, message, flags=re.DOTALL)
        if m:
            return t(key, lang, **m.groupdict())
    return t("ap_other", lang, message=message)


def argv_lang(parser: argparse.ArgumentParser, argv: list[str]) -> str:
    """The language the command line asks for, read before argparse runs, so that a refusal argparse makes
    (a bad value, an unknown option, a missing argument) is said in it wherever `--lang` stands (before or after
    the mistake). `--lang vi|en` (or `--lang=vi`), last one wins; else `diagnose --advise [vi|en]` (Vietnamese
    unless it names English, as `diagnose` itself reads it); else the named command's own default (`advise`:
    vi); else English."""
    from leafscout.i18n import LANGS
    words = argv[:argv.index("--")] if "--" in argv else list(argv)
    lang = None
    for i, w in enumerate(words):
        value = words[i + 1] if w == "--lang" and i + 1 < len(words) else w[7:] if w.startswith("--lang=") else None
        if value in LANGS:
            lang = value
    if lang:
        return lang
    named = _named(parser)
    if any(a.dest == "advise" for a in named._actions):
        for i, w in enumerate(words):
            if w == "--advise" or w.startswith("--advise="):
                value = w[9:] if "=" in w else (words[i + 1] if i + 1 < len(words) else "")
                return value if value in LANGS else "vi"
    default = named.get_default("lang")
    return default if default in LANGS else "en"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # suggest the nearest subcommand/option, like difflib-powered tools do
        from leafscout.i18n import t
        lang = _LANG
        # `diagnose --frob`: diagnose's options only (`--from` is another command's)
        choices = _own_names(_named(self)) if "unrecognized arguments" in message else _all_names(self)
        words = [w.strip("'\",:") for w in message.split()]
        hints = []
        if "unrecognized arguments" not in message and "invalid choice" not in message:
            words = []  # a wrong value for a right option ("invalid float value"): nothing to suggest
        for w in words:
            if w in choices:  # "argument --top-k: invalid int value": the option is right, its value is not
                continue
            close = difflib.get_close_matches(w, choices, n=1)
            if close and close[0] != w:
                hints.append(t("did_you_mean", lang, name=close[0]))
                break
        # a photo named "-leaf.jpg" is read as an option ("required: PATH", "unrecognized arguments"): say so
        dashed = [a for a in _ARGV if a.startswith("-") and a != "-" and os.path.isfile(a)]
        if dashed:
            hints = [t("dashed_file", lang, name=repr(dashed[0]), bare=dashed[0])]
        usage = self.format_usage()
        if lang != "en" and usage.startswith("usage: "):
            usage = t("usage_prefix", lang) + usage[len("usage: "):]
        self._print_message(usage, sys.stderr)
        self.exit(2, f"{self.prog}: {t('error_word', lang)}: {argparse_message(message, lang)}.{''.join(hints)}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="leafscout", description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # an area not installed in this build
            if exc.name and name.startswith(exc.name):
                continue
            raise
        module.register(sub)
    return parser


_ARGV: list[str] = []  # the command line being parsed, for _Parser.error's hints
_LANG = "en"  # the language it asks for (argv_lang), for _Parser.error


def refusal_line(exc: UsageError, lang: str) -> str:
    """'lỗi [unknown_label]: ...': a refusal in the run's language. A translated one shows its code beside the
    word for 'error', so support can search for it; English lines read as they always have."""
    from leafscout.i18n import t
    word = t("error_word", lang)
    if lang != "en" and exc.code:
        word = t("error_code", lang, word=word, code=exc.code)
    return f"{word}: {exc.text(lang)}"


def main(argv: list[str] | None = None) -> int:
    global _ARGV, _LANG
    _ARGV = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    _LANG = argv_lang(parser, _ARGV)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    lang = getattr(args, "lang", None) or _LANG
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a full disk under `> results.jsonl` is said here, not as a traceback at exit
        return code
    except UsageError as exc:
        print(f"leafscout {args.command}: {refusal_line(exc, getattr(args, 'lang', None) or lang)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader left early (`leafscout diagnose photos/ | head`): stop quietly, as cat and grep do; point
        # stdout at devnull so the interpreter's final flush does not raise again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, the shell's code for a writer whose reader left
    except OSError as exc:
        import errno
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO):
            raise
        # where the output goes is full or failing (`--json > /media/usb/results.jsonl`): one line, in the run's
        # language, not a traceback; stdout to devnull so the interpreter's final flush does not fail again
        from leafscout.i18n import os_reason, refusal
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        lang = getattr(args, "lang", None) or lang  # diagnose settles its language as it runs
        print(f"leafscout {args.command}: {refusal_line(refusal('output_failed', why=os_reason(exc)), lang)}",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    # Run through the package module so exception classes are the ones the subcommands import.
    from leafscout.cli import main as package_main
    sys.exit(package_main())

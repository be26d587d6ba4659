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


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # suggest the nearest subcommand/option, like difflib-powered tools do
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
                hints.append(f" Did you mean '{close[0]}'?")
                break
        # a photo named "-leaf.jpg" is read as an option ("required: PATH", "unrecognized arguments"): say so
        dashed = [a for a in _ARGV if a.startswith("-") and a != "-" and os.path.isfile(a)]
        if dashed:
            hints = [f" {dashed[0]!r} is a file read as an option: write ./{dashed[0]} or put -- before it."]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}.{''.join(hints)}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="leafscout", description=__doc__.splitlines()[0])
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


def main(argv: list[str] | None = None) -> int:
    global _ARGV
    _ARGV = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        word = "lỗi" if getattr(args, "lang", None) == "vi" else "error"  # the run's language, where it has one
        print(f"leafscout {args.command}: {word}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader left early (`leafscout diagnose photos/ | head`): stop quietly, as cat and grep do; point
        # stdout at devnull so the interpreter's final flush does not raise again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, the shell's code for a writer whose reader left


if __name__ == "__main__":
    # Run through the package module so exception classes are the ones the subcommands import.
    from leafscout.cli import main as package_main
    sys.exit(package_main())

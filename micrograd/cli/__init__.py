"""The command line: `python -m micrograd COMMAND`. The only part of the package that prints.

Each command is a module here with `add_parser(subparsers)` and `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from micrograd import __version__
from micrograd.cli import demo, draw, example, playground
from micrograd.cli.terminal import ArgumentParser, printable

COMMANDS = (demo, example, draw, playground)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command registered."""
    # Sub-commands' parsers are of the same class, so every argparse error is escaped.
    parser = ArgumentParser(
        # Named as it was started: the `micrograd` console script or `python -m micrograd`.
        prog="micrograd" if Path(sys.argv[0]).name == "micrograd" else "python -m micrograd",
        description="A scalar-valued autograd engine: examples, demos and graph drawing.",
    )
    parser.add_argument("--version", action="version", version=f"micrograd {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        code: int = args.run(args)
    except KeyboardInterrupt:
        print(f"{parser.prog} {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        # Each command ends the failures it expects itself, with a hint; this backstop keeps
        # the promise of one escaped line and a non-zero exit for the rest.
        message = f"{parser.prog} {args.command}: error: {type(error).__name__}: {error}"
        print(printable(message), file=sys.stderr)
        return 1
    return code

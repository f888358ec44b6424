"""Text for the terminal: user-supplied text is shown, never obeyed.

A file name or an expression may hold control characters (`\\x1b]0;title\\a` retitles an xterm,
`\\x1b[2J` clears it) or bytes that are not valid in the terminal's encoding. Everything the
commands print goes through `printable`, which writes such characters as Python escapes, and
`ArgumentParser` does the same for argparse's own error messages (which quote arguments).
"""

from __future__ import annotations

import argparse
from typing import NoReturn


def printable(text: str) -> str:
    """`text` with every non-printable character (control, format, line break) escaped."""
    if text.isprintable():
        return text
    # unicode_escape also covers the lone surrogates that undecodable argv bytes become.
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, with its error messages passed through `printable`."""

    def error(self, message: str) -> NoReturn:
        """Print the usage and the escaped message to stderr; exit with status 2."""
        super().error(printable(message))

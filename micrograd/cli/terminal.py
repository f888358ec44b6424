"""Text for the terminal: user-supplied text is shown, never obeyed.

A file name or an expression may hold control characters (`\\x1b]0;title\\a` retitles an xterm,
`\\x1b[2J` clears it) or bytes that are not valid in the terminal's encoding. Everything the
commands print goes through `printable`, which writes such characters as Python escapes, and
`ArgumentParser` does the same for argparse's own error messages (which quote arguments).
The progress bar of the training commands is here too.
"""

from __future__ import annotations

import argparse
from typing import NoReturn, TextIO


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


def loss_text(loss: float) -> str:
    """`loss 0.1234`; a loss run away to 1e58 in exponent form, not as 59 digits."""
    return f"loss {loss:.4f}" if abs(loss) < 1e6 else f"loss {loss:.4e}"


class ProgressBar:
    """A one-line bar redrawn in place on a terminal; a line per tenth of the run otherwise.

    `accuracy_label` names the accuracy shown (the demo's is the training set's, the digits'
    the minibatch's).
    """

    def __init__(self, stream: TextIO, width: int = 30, accuracy_label: str = "accuracy") -> None:
        self.stream = stream
        self.width = width
        self.accuracy_label = accuracy_label
        self.tty: bool = hasattr(stream, "isatty") and stream.isatty()
        self.open: bool = False  # a bar drawn on a terminal, not yet ended by a newline

    def __call__(self, done: int, total: int, loss: float, accuracy: float) -> None:
        """Show progress after step `done` of `total`."""
        filled = self.width * done // total
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"[{bar}] {done:>{len(str(total))}}/{total}  "
        line += f"{loss_text(loss)}  {self.accuracy_label} {accuracy:6.1%}"
        if self.tty:
            self.stream.write("\r" + line + ("\n" if done == total else ""))
            self.stream.flush()
        elif done % max(1, total // 10) == 0 or done == total:
            self.stream.write(line + "\n")
            self.stream.flush()
        self.open = self.tty and done < total

    def interrupt(self) -> None:
        """End a bar left part-drawn on a terminal, so that a message starts on a new line."""
        if self.open:
            self.stream.write("\n")
            self.stream.flush()
            self.open = False

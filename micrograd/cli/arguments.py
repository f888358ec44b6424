"""Argument types shared by the command line's sub-commands (argparse's `type=`)."""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    """An int >= 1, else an argparse error naming what was received."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive int, received {text!r}")
    return value

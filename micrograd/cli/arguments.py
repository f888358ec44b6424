"""Argument types shared by the command line's sub-commands (argparse's `type=`), and the size
guard for the models they build."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from micrograd.numeric import count, non_negative

MAX_PARAMETERS = 1_000_000
"""Largest model a command builds, in parameters: each is a Python object of some hundred bytes,
so this is already a few hundred MB of graph per forward pass (the digits demo has 2,410)."""


def positive_int(text: str) -> int:
    """An int >= 1 (the number policy's `count`), else an argparse error naming the text."""
    try:
        return count(int(text), "the value", 1)
    except ValueError:  # int() of a non-int, or a count below 1
        raise argparse.ArgumentTypeError(f"expected a positive int, received {text!r}") from None


def non_negative_float(text: str) -> float:
    """A finite float >= 0 (the number policy's `non_negative`: not nan, not inf, so not 1e999),
    else an argparse error naming the text."""
    try:
        return non_negative(float(text), "the value")
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a finite number >= 0, received {text!r}"
        ) from None


def check_mlp_size(nin: int, nouts: Sequence[int], text: str) -> None:
    """Refuse an MLP(nin, nouts) of more than MAX_PARAMETERS parameters, naming `text`.

    Counted with a cap: the sum stops as soon as it passes the limit, so a long list of huge
    sizes costs no more than a short one.
    """
    total = 0
    for n_in, n_out in zip([nin, *nouts[:-1]], nouts):
        total += (min(n_in, MAX_PARAMETERS) + 1) * min(n_out, MAX_PARAMETERS)
        if total > MAX_PARAMETERS:
            raise argparse.ArgumentTypeError(
                f"the model would have more than {MAX_PARAMETERS:,} parameters (the limit of "
                f"these commands); expected smaller sizes, received {text!r}"
            )

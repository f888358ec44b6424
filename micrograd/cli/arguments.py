"""Argument types shared by the command line's sub-commands (argparse's `type=`), and the size
guard for the models they build."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

MAX_PARAMETERS = 1_000_000
"""Largest model a command builds, in parameters: each is a Python object of some hundred bytes,
so this is already a few hundred MB of graph per forward pass (the digits demo has 2,410)."""


def positive_int(text: str) -> int:
    """An int >= 1, else an argparse error naming what was received."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive int, received {text!r}")
    return value


def non_negative_float(text: str) -> float:
    """A finite float >= 0 (not nan, not inf), else an argparse error naming what was received."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < math.inf:  # also rejects nan
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, received {text!r}")
    return value


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

"""The pictures the training commands write: matplotlib drawing to files, each figure saved once.

matplotlib is optional (the `demo` extra): it is imported when a command plots, not before.
"""

from __future__ import annotations

import os
from typing import Any

from micrograd.files import write_figure


def pyplot() -> Any:
    """`matplotlib.pyplot` drawing to files only: no window, works without a display."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig: Any, out: str, name: str) -> str:
    """Write `fig` to the file `name` in the folder `out`, close it, and return the path."""
    path = os.path.join(out, name)
    write_figure(fig, path, dpi=100, bbox_inches="tight")
    import matplotlib.pyplot as plt  # imported already: the figure was drawn with it

    plt.close(fig)
    return path

"""Single numpy calls the tape's numpy replay chose between, timed side by side.

    python benchmarks/numpy_calls.py

Each row is the best of 5 repeats of many calls, one BLAS thread (as `run.py` runs every
engine), on blocks the size of the benchmarks': the digits step at 1,797 rows (a hidden layer
of 32 and 10 classes) and the moons step at 100. It prints a table and writes nothing; the
choices it backs are explained in `micrograd/tape/numpy_steps.py`, `micrograd/ops.py` and
`benchmarks/README.md` (issue 25), where its numbers are quoted. PyTorch's rows, when it is
installed, are the products of the same step in PyTorch float64, for the digits at 1,797 rows.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads its BLAS
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import timeit  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402


def best_us(call: Callable[[], Any], number: int) -> float:
    """Microseconds per call, the best of 5 repeats of `number` calls."""
    return min(timeit.repeat(call, number=number, repeat=5)) / number * 1e6


def main() -> None:
    rng = np.random.default_rng(0)
    rows, hidden, classes, pixels = 1797, 32, 10, 64
    z = rng.normal(size=(hidden, rows))  # a hidden layer's pre-activations, one sample a column
    up = rng.normal(size=(hidden, rows))
    x = rng.random((rows, pixels + classes))  # the caller's rows: pixels, then the one-hot
    xs = x.T[:pixels]  # the first layer's inputs as the replay reads them (no copy)
    w1, w2 = rng.normal(size=(hidden, pixels)), rng.normal(size=(classes, hidden))
    h, dz = np.maximum(z, 0.0), rng.normal(size=(classes, rows))
    block = np.empty((hidden, rows))
    w_one, up_one = rng.normal(size=(1, 16)), rng.normal(size=(1, 100))  # moons' last layer
    # moons' hidden layer: a gathered weight block and 16 rows of a buffer, both contiguous
    w16, up16 = rng.normal(size=(16, 16)), rng.normal(size=(16, 100))
    cases: list[tuple[str, Callable[[], Any], int]] = [
        ("relu of 32 x 1,797: np.where(z <= 0, 0, z)", lambda: np.where(z <= 0.0, 0.0, z), 200),
        ("relu of 32 x 1,797: np.maximum(z, 0)", lambda: np.maximum(z, 0.0), 200),
        ("relu's slope x upstream: 1 - (z <= 0), times", lambda: (1.0 - (z <= 0.0)) * up, 200),
        ("relu's slope x upstream: (out != 0), times", lambda: np.not_equal(h, 0.0) * up, 200),
        ("an elementwise pass: 32 x 1,797 times 32 x 1,797", lambda: z * up, 200),
        (
            "an elementwise pass: a bias column added in place",
            lambda: np.add(block, w1[:, :1], out=block),
            200,
        ),
        ("moons' last layer, x grads: w.T @ upstream", lambda: w_one.T @ up_one, 20000),
        ("moons' last layer, x grads: w.T * upstream", lambda: w_one.T * up_one, 20000),
        ("16 x 16 by 16 x 100: np.matmul", lambda: np.matmul(w16, up16), 20000),
        ("16 x 16 by 16 x 100: np.dot", lambda: np.dot(w16, up16), 20000),
        ("digits 1,797, layer 1 forward: W1 @ X.T", lambda: np.matmul(w1, xs, out=block), 200),
        ("digits 1,797, layer 1 weight grads: dZ1 @ X", lambda: up @ xs.T, 200),
        ("digits 1,797, layer 2 forward: W2 @ H", lambda: w2 @ h, 200),
        ("digits 1,797, layer 2 weight grads: dZ2 @ H.T", lambda: dz @ h.T, 200),
        ("digits 1,797, layer 1 gradient: W2.T @ dZ2", lambda: w2.T @ dz, 200),
        ("digits 1,797, layer 1 gradient: np.dot(W2.T, dZ2)", lambda: np.dot(w2.T, dz), 200),
    ]
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(1)
        tx, tw1, tw2 = torch.tensor(x[:, :pixels]), torch.tensor(w1), torch.tensor(w2)
        tu, th, tdz = torch.tensor(up.T.copy()), torch.tensor(h.T.copy()), torch.tensor(dz.T.copy())
        cases += [
            ("torch, layer 1 forward: X @ W1.T", lambda: tx @ tw1.T, 200),
            ("torch, layer 1 weight grads: dZ1.T @ X", lambda: tu.T @ tx, 200),
            ("torch, layer 2 forward: H @ W2.T", lambda: th @ tw2.T, 200),
            ("torch, layer 2 weight grads: dZ2.T @ H", lambda: tdz.T @ th, 200),
            ("torch, layer 1 gradient: dZ2 @ W2", lambda: tdz @ tw2, 200),
        ]
    print("| call | µs |\n|---|---|")
    for name, call, number in cases:
        print(f"| {name} | {best_us(call, number):.1f} |")


if __name__ == "__main__":
    main()

"""The edge values the tests feed the ops, in one place: one table per use, each saying why.

Every table has the signed zeros; they differ in what else they hold because they are compared
with different things. Each list is used as written, its order too (hypothesis's draws from
`FUZZ_LEAVES` depend on it; the other three are run as every combination of an op's inputs).
"""

from __future__ import annotations

import math

# Against numpy and PyTorch float64 (tests/engine/test_ops.py): normal magnitudes from 1e-300 to
# 1e300, the infinities and nan, every combination of an op's inputs. The subnormals and exp's
# overflow threshold are in the three tables below.
LIBRARY_EDGES = [
    0.0,
    -0.0,
    1e-300,
    -1e-300,
    0.5,
    -2.0,
    3.0,
    1e300,
    -1e300,
    math.inf,
    -math.inf,
    math.nan,
]

# Finite inputs only (tests/gradients/test_anomaly.py): anomaly mode must stop exactly where a
# finite input gives nan or inf, so the table reaches the overflow edges (exp(710.0), 1e308 * 3.0)
# and the subnormals, but holds no inf or nan of its own.
FINITE_EDGES = [0.0, -0.0, 1e-310, -1e-310, 0.5, -2.0, 3.0, 710.0, 1e308, -1e308]

# Leaves of the random graphs (tests/engine/test_fuzz.py), drawn beside random floats: the
# subnormals, a small number, ±1, exp's overflow threshold, the largest floats, inf and nan.
FUZZ_LEAVES = [
    0.0,
    -0.0,
    1e-310,
    -1e-310,
    1e-8,
    1.0,
    -1.0,
    710.0,
    -710.0,
    1e308,
    -1e308,
    math.inf,
    -math.inf,
    math.nan,
]

# Every path against backward() (tests/engine/test_edge_values_on_every_path.py): the widest
# table, since each path must agree with the others to the bit, whatever the libraries do.
EVERY_PATH_EDGES = [
    0.0,
    -0.0,
    1e-310,
    -1e-310,
    1e-300,
    0.5,
    1.0,
    -2.0,
    3.0,
    710.0,
    -710.0,
    1e300,
    -1e308,
    math.inf,
    -math.inf,
    math.nan,
]

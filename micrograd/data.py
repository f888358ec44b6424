"""Small seeded datasets in plain Python lists, and minibatch iteration.

Generators return `(X, y)`: `X` a list of points (lists of floats), `y` a list of int labels.
`make_moons`, `make_circles` and `make_blobs` are scikit-learn's: the same parameter names and
order, the same class counts, shapes and geometry (the random numbers differ: these use Python's
`random`, never numpy). Each takes a `random_state` (an int or a `random.Random`; `seed` is
accepted as this package's older name) and never touches the global random state when given
one. Counts above `MAX_SAMPLES` are refused before anything is allocated.
The tiny tables of the backpropagation walk-through live here too, so notebooks and tests share
them. Plotting and file formats are left out.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal, overload

from micrograd.numeric import (
    as_row,
    count,
    flag,
    in_unit_interval,
    is_integer,
    is_row,
    non_negative,
    real,
)

Seed = int | random.Random | None
Dataset = tuple[list[list[float]], list[int]]

# The argument checks below are shared with `micrograd.nn` (seeds, layer sizes): this module
# imports only the standard library and micrograd.numeric, so nn can build on it without a cycle.


def _rng(
    seed: Seed | ModuleType, *, unseeded_global: bool = False, name: str = "seed"
) -> random.Random | Any:  # Any: the `random` module itself, used as a generator
    """`seed` as a generator: a `random.Random` as is, an int seeds a new one.

    Without a seed: a freshly seeded generator, or, with `unseeded_global`, the `random` module
    itself (nn draws unseeded weights from the global state, as micrograd 0.1.0 did).
    """
    if isinstance(seed, random.Random):
        return seed
    if is_integer(seed):
        return random.Random(int(seed))
    if unseeded_global and (seed is None or seed is random):  # `random`: passed down by an MLP
        return random
    if seed is None:
        return random.Random()
    raise TypeError(
        f"{name} must be an int, a random.Random or None, received {type(seed).__name__}: "
        f"{seed!r:.60}"
    )


def _noise(noise: object) -> float:
    """A noise level: None is none."""
    return 0.0 if noise is None else non_negative(noise, "noise")


def _check_sequence(seq: object, name: str) -> Sequence[Any]:
    """A sized, indexable sequence (list, tuple, range...), read more than once; not a string.

    A numpy array is taken as the lists it holds (`tolist()`: Python numbers, rows as lists),
    so an array works wherever a list does.
    """
    dims = getattr(seq, "ndim", None)
    if not isinstance(seq, Sequence) and isinstance(dims, int) and dims >= 1 and is_row(seq, dims):
        return as_row(seq, name, dims)
    if isinstance(seq, (str, bytes)) or not isinstance(seq, Sequence):
        raise TypeError(
            f"{name} must be a sequence such as a list or an array (it is indexed and "
            f"measured), received {type(seq).__name__}"
        )
    return seq


# Dataset sizes: a scalar engine trains on thousands of points; a count far beyond this is a typo
# (make_moons(10**12) would otherwise allocate until the machine gives up).
MAX_SAMPLES = 1_000_000
# The numbers one dataset may hold (samples times features, or centers times features).
MAX_NUMBERS = 10_000_000


def _check_samples(n: object, name: str, minimum: int) -> int:
    """A sample count: an int >= minimum and at most MAX_SAMPLES."""
    n = count(n, name, minimum)
    if n > MAX_SAMPLES:
        raise ValueError(
            f"{name} is {n:,}; this package makes at most MAX_SAMPLES = {MAX_SAMPLES:,} samples "
            "(plain Python lists, for a scalar engine)"
        )
    return n


def _check_numbers(rows: int, columns: int, name: str) -> None:
    """Refuse a table of more than MAX_NUMBERS numbers before it is built."""
    if rows * columns > MAX_NUMBERS:
        raise ValueError(
            f"{name} would make {rows:,} x {columns:,} = {rows * columns:,} numbers; this "
            f"package makes at most MAX_NUMBERS = {MAX_NUMBERS:,}"
        )


def _split_two(n_samples: object) -> tuple[int, int]:
    """scikit-learn's split of n_samples between two classes: an int halves (the second class
    taking the odd one), a pair gives each class its count."""
    if isinstance(n_samples, (tuple, list)):
        if len(n_samples) != 2:
            raise ValueError(f"n_samples must be an int or a pair of ints, received {n_samples!r}")
        first = count(n_samples[0], "n_samples[0]")
        second = count(n_samples[1], "n_samples[1]")
        _check_samples(first + second, "the sum of n_samples", 2)
        return first, second
    n = _check_samples(n_samples, "n_samples", 2)
    return n // 2, n - n // 2


def _random_state(random_state: Seed, seed: Seed) -> random.Random:
    """The generator for scikit-learn's `random_state`, or for `seed` (this package's older name
    for it): not both."""
    if seed is not None and random_state is not None:
        raise TypeError(
            "received both random_state and seed (its older name in this package); pass one"
        )
    if random_state is None:
        return _rng(seed)
    return _rng(random_state, name="random_state")


def _linspace(start: float, stop: float, n: int, endpoint: bool = True) -> list[float]:
    """n evenly spaced numbers, like numpy.linspace."""
    if n == 1:
        return [start]
    step = (stop - start) / ((n - 1) if endpoint else n)
    return [start + i * step for i in range(n)]


def _finish(
    points: list[list[float]], labels: list[int], noise: float, shuffle: bool, rng: random.Random
) -> Dataset:
    # scikit-learn's order: shuffle the clean points, then add noise.
    if shuffle:
        order = list(range(len(points)))
        rng.shuffle(order)
        points = [points[i] for i in order]
        labels = [labels[i] for i in order]
    if noise:
        points = [[c + rng.gauss(0.0, noise) for c in point] for point in points]
    return points, labels


def make_moons(
    n_samples: int | tuple[int, int] = 100,
    *,
    shuffle: bool = True,
    noise: float | None = None,
    random_state: Seed = None,
    seed: Seed = None,
) -> Dataset:
    """Two interleaving half circles: `(X, y)`, X `n_samples` points [x, y], y labels 0 and 1.

    scikit-learn's `make_moons`: label 0 on the upper unit half circle, label 1 on it flipped and
    shifted by (1, 0.5); `n_samples` may be a pair (upper, lower). `noise` is the standard
    deviation of Gaussian noise on each coordinate. `seed` is this package's older name for
    `random_state`.
    """
    n_out, n_in = _split_two(n_samples)
    noise = _noise(noise)
    rng = _random_state(random_state, seed)
    outer = [[math.cos(t), math.sin(t)] for t in _linspace(0.0, math.pi, n_out)]
    inner = [[1.0 - math.cos(t), 1.0 - math.sin(t) - 0.5] for t in _linspace(0.0, math.pi, n_in)]
    return _finish(outer + inner, [0] * n_out + [1] * n_in, noise, flag(shuffle, "shuffle"), rng)


def make_circles(
    n_samples: int | tuple[int, int] = 100,
    *,
    shuffle: bool = True,
    noise: float | None = None,
    random_state: Seed = None,
    factor: float = 0.8,
    seed: Seed = None,
) -> Dataset:
    """A unit circle (label 0) around a smaller one of radius `factor` (label 1): `(X, y)`.

    scikit-learn's `make_circles`; `n_samples` may be a pair (outer, inner).
    """
    n_out, n_in = _split_two(n_samples)
    noise = _noise(noise)
    factor = in_unit_interval(factor, "factor")
    rng = _random_state(random_state, seed)
    outer = [[math.cos(t), math.sin(t)] for t in _linspace(0.0, 2 * math.pi, n_out, False)]
    inner = [
        [factor * math.cos(t), factor * math.sin(t)]
        for t in _linspace(0.0, 2 * math.pi, n_in, False)
    ]
    return _finish(outer + inner, [0] * n_out + [1] * n_in, noise, flag(shuffle, "shuffle"), rng)


@overload
def make_blobs(
    n_samples: int | Sequence[int] = 100,
    n_features: int = 2,
    *,
    centers: int | Sequence[Sequence[float]] | None = None,
    cluster_std: float | Sequence[float] = 1.0,
    center_box: tuple[float, float] = (-10.0, 10.0),
    shuffle: bool = True,
    random_state: Seed = None,
    return_centers: Literal[False] = False,
    seed: Seed = None,
) -> Dataset: ...
@overload
def make_blobs(
    n_samples: int | Sequence[int] = 100,
    n_features: int = 2,
    *,
    centers: int | Sequence[Sequence[float]] | None = None,
    cluster_std: float | Sequence[float] = 1.0,
    center_box: tuple[float, float] = (-10.0, 10.0),
    shuffle: bool = True,
    random_state: Seed = None,
    return_centers: Literal[True],
    seed: Seed = None,
) -> tuple[list[list[float]], list[int], list[list[float]]]: ...
@overload
def make_blobs(
    n_samples: int | Sequence[int] = 100,
    n_features: int = 2,
    *,
    centers: int | Sequence[Sequence[float]] | None = None,
    cluster_std: float | Sequence[float] = 1.0,
    center_box: tuple[float, float] = (-10.0, 10.0),
    shuffle: bool = True,
    random_state: Seed = None,
    return_centers: bool = False,
    seed: Seed = None,
) -> Dataset | tuple[list[list[float]], list[int], list[list[float]]]: ...


def make_blobs(
    n_samples: int | Sequence[int] = 100,
    n_features: int = 2,
    *,
    centers: int | Sequence[Sequence[float]] | None = None,
    cluster_std: float | Sequence[float] = 1.0,
    center_box: tuple[float, float] = (-10.0, 10.0),
    shuffle: bool = True,
    random_state: Seed = None,
    return_centers: bool = False,
    seed: Seed = None,
) -> Dataset | tuple[list[list[float]], list[int], list[list[float]]]:
    """Gaussian clusters: `(X, y)`, label i around center i (`(X, y, centers)` with
    `return_centers`).

    scikit-learn's `make_blobs`: without `centers`, 3 random centers in `center_box` (or one per
    entry when `n_samples` lists a count per center); an int asks for that many; a list of points
    fixes them (and `n_features` follows their dimension). An int `n_samples` is split evenly,
    the first `n_samples % k` centers getting one extra. `cluster_std` may give one standard
    deviation per center.
    """
    rng = _random_state(random_state, seed)
    nf = count(n_features, "n_features", 1)
    if is_integer(n_samples):
        n = _check_samples(n_samples, "n_samples", 1)
        counts = None
        if centers is None:
            centers = 3
    else:
        counts = [
            count(c, f"n_samples[{i}]")
            for i, c in enumerate(_check_sequence(n_samples, "n_samples"))
        ]
        if not counts:
            raise ValueError("n_samples must be an int or a non-empty list of counts per center")
        n = _check_samples(sum(counts), "the sum of n_samples", 1)
        if centers is None:
            centers = len(counts)
        elif isinstance(centers, numbers.Integral):
            raise ValueError(
                f"centers must be a list of points when n_samples lists counts per center, "
                f"received {centers!r}"
            )
    if is_integer(centers):
        k = count(centers, "centers", 1)
        _check_numbers(k, nf, "centers")
        low, high = _check_box(center_box)
        points_of_centers = [[rng.uniform(low, high) for _ in range(nf)] for _ in range(k)]
    else:
        points_of_centers = _check_centers(centers)
    k = len(points_of_centers)
    _check_numbers(n, len(points_of_centers[0]), "n_samples")
    if counts is None:
        counts = [n // k + (1 if label < n % k else 0) for label in range(k)]
    elif len(counts) != k:
        raise ValueError(f"n_samples lists {len(counts)} counts for {k} centers; expected {k}")
    stds = _check_stds(cluster_std, k)
    points, labels = [], []
    for label, (center, size, std) in enumerate(zip(points_of_centers, counts, stds)):
        for _ in range(size):
            points.append([c + rng.gauss(0.0, std) for c in center])
            labels.append(label)
    points, labels = _finish(points, labels, 0.0, flag(shuffle, "shuffle"), rng)
    if flag(return_centers, "return_centers"):
        return points, labels, points_of_centers
    return points, labels


def _check_stds(cluster_std: object, k: int) -> list[float]:
    if isinstance(cluster_std, (str, bytes)) or not isinstance(cluster_std, Sequence):
        return [non_negative(cluster_std, "cluster_std")] * k
    if len(cluster_std) != k:
        raise ValueError(
            f"cluster_std lists {len(cluster_std)} standard deviations for {k} centers; "
            f"expected one number or {k}"
        )
    return [non_negative(s, f"cluster_std[{i}]") for i, s in enumerate(cluster_std)]


def _check_box(box: object) -> tuple[float, float]:
    if isinstance(box, (str, bytes)) or not isinstance(box, Sequence) or len(box) != 2:
        raise TypeError(f"center_box must be a pair (low, high), received {box!r:.60}")
    low, high = real(box[0], "center_box[0]"), real(box[1], "center_box[1]")
    if low > high:
        raise ValueError(f"center_box must have low <= high, received {box!r:.60}")
    return low, high


def _check_centers(centers: object) -> list[list[float]]:
    if isinstance(centers, (str, bytes)) or not isinstance(centers, Sequence):
        raise TypeError(
            f"centers must be an int or a list of points, received {type(centers).__name__}: "
            f"{centers!r:.60}"
        )
    _check_numbers(len(centers), 1, "centers")
    points = []
    for i, center in enumerate(centers):
        if isinstance(center, (str, bytes)) or not isinstance(center, Sequence):
            raise TypeError(
                f"centers[{i}] must be a point (a list of numbers), received "
                f"{type(center).__name__}: {center!r:.60}"
            )
        _check_numbers(len(centers), len(center), "centers")
        points.append([real(c, f"centers[{i}][{j}]") for j, c in enumerate(center)])
    if not points or not points[0] or len({len(p) for p in points}) != 1:
        raise ValueError(
            f"centers must be an int or a non-empty list of points of one dimension (at least "
            f"1), received {centers!r:.80}"
        )
    return points


def make_spiral(
    n_samples: int = 100,
    n_classes: int = 2,
    *,
    noise: float = 0.2,
    turns: float = 4.0,
    shuffle: bool = True,
    random_state: Seed = None,
    seed: Seed = None,
) -> Dataset:
    """Interleaved spiral arms from the origin, one per class (the CS231n spiral): `(X, y)`.

    Arm j has radius growing from 0 to 1 while its angle runs from `turns * j` to
    `turns * (j + 1)` radians, plus Gaussian noise of standard deviation `noise` on the angle.
    """
    n = _check_samples(n_samples, "n_samples", 1)
    k = count(n_classes, "n_classes", 1)
    if k > n:
        raise ValueError(f"n_classes ({k}) must be at most n_samples ({n}): one point per class")
    noise = _noise(noise)
    turns = real(turns, "turns")
    rng = _random_state(random_state, seed)
    points, labels = [], []
    for label in range(k):
        size = n // k + (1 if label < n % k else 0)
        radii = _linspace(0.0, 1.0, size)
        angles = _linspace(turns * label, turns * (label + 1), size)
        for r, t in zip(radii, angles):
            t += rng.gauss(0.0, noise) if noise else 0.0
            points.append([r * math.sin(t), r * math.cos(t)])
            labels.append(label)
    return _finish(points, labels, 0.0, flag(shuffle, "shuffle"), rng)


def xor(
    n_samples: int | None = None,
    *,
    noise: float = 0.1,
    shuffle: bool = True,
    random_state: Seed = None,
    seed: Seed = None,
) -> Dataset:
    """The XOR truth table ([0,0]->0, [0,1]->1, [1,0]->1, [1,1]->0), or noisy samples of it.

    Without `n_samples`, the four rows in that order: `(X, y)`. With it, `n_samples` points
    drawn from the four corners in turn, each with Gaussian noise of standard deviation `noise`.
    """
    table = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    labels = [0, 1, 1, 0]
    noise = _noise(noise)  # checked even when unused, so a typo is never ignored
    rng = _random_state(random_state, seed)
    if n_samples is None:
        return table, labels
    n = _check_samples(n_samples, "n_samples", 1)
    points = [list(table[i % 4]) for i in range(n)]
    return _finish(points, [labels[i % 4] for i in range(n)], noise, flag(shuffle, "shuffle"), rng)


def iterate_minibatches(
    inputs: Sequence[Any],
    targets: Sequence[Any],
    batch_size: int,
    shuffle: bool = True,
    seed: Seed = None,
    drop_last: bool = False,
) -> Iterator[tuple[list[Any], list[Any]]]:
    """Yield `(inputs, targets)` batches covering the data once, in shuffled order by default.

    The last batch is smaller when `batch_size` does not divide the data, unless `drop_last`.
    Pass a `random.Random` as `seed` to get a new order on every epoch from one generator.
    """
    inputs = _check_sequence(inputs, "inputs")
    targets = _check_sequence(targets, "targets")
    if len(inputs) != len(targets):
        raise ValueError(
            f"{len(inputs)} inputs but {len(targets)} targets; they must have the same length"
        )
    size = count(batch_size, "batch_size", 1)
    shuffle, drop_last = flag(shuffle, "shuffle"), flag(drop_last, "drop_last")
    rng = _rng(seed)  # checked even without shuffling, so a bad seed is never silently ignored
    order = list(range(len(inputs)))
    if shuffle:
        rng.shuffle(order)
    # Checked above, when called; the batches come lazily from the generator below.
    return _batches(inputs, targets, order, size, drop_last)


def _batches(
    inputs: Sequence[Any], targets: Sequence[Any], order: list[int], size: int, drop_last: bool
) -> Iterator[tuple[list[Any], list[Any]]]:
    for start in range(0, len(order), size):
        chunk = order[start : start + size]
        if drop_last and len(chunk) < size:
            return
        yield [inputs[i] for i in chunk], [targets[i] for i in chunk]


# The backpropagation walk-through's tables.

#: The `y = W * x` example with W = 2: (x, y) rows 0 -> 0, 1 -> 2, 2 -> 4.
LINEAR_TABLE: tuple[tuple[float, float], ...] = ((0.0, 0.0), (1.0, 2.0), (2.0, 4.0))


@dataclass(frozen=True)
class TwoTwoTwoNetwork:
    """The 2-2-2 sigmoid network of Matt Mazur's "A Step by Step Backpropagation Example".

    Hidden h1 = sigmoid(w1*i1 + w2*i2 + b1), h2 = sigmoid(w3*i1 + w4*i2 + b1); outputs
    o1 = sigmoid(w5*h1 + w6*h2 + b2), o2 = sigmoid(w7*h1 + w8*h2 + b2). The error is
    E_total = sum(0.5 * (target - o) ** 2); one gradient step with learning rate `lr` updates
    w1..w8 (the biases are left as they are) to `updated_weights`.
    """

    inputs: tuple[float, float] = (0.05, 0.10)
    weights: tuple[float, ...] = (0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55)
    b1: float = 0.35
    b2: float = 0.60
    targets: tuple[float, float] = (0.01, 0.99)
    lr: float = 0.5
    # Published results, to the 9 digits the walk-through prints.
    expected_error: float = 0.298371109
    expected_grad_w5: float = 0.082167041
    updated_weights: tuple[float, ...] = (
        0.149780716,
        0.19956143,
        0.24975114,
        0.29950229,
        0.35891648,
        0.408666186,
        0.511301270,
        0.561370121,
    )


TWO_TWO_TWO = TwoTwoTwoNetwork()


# The handwritten digits: real data, read from scikit-learn when installed, else from the copy
# shipped in `micrograd/datafiles` (license and citation in DIGITS.txt beside it).

# Imported beside the loader (not at the top) so that this section merges on its own.

_DIGITS_FILE = "digits.bin.gz"
_DIGITS_SHA256 = "68aea062d35a127749050fa0e52dca09d6569ac08092c925610e0954e172dde2"
_DIGITS_SHAPE = (1797, 64)


@dataclass(frozen=True)
class Digits:
    """The digits as scikit-learn's `load_digits` gives them, in lists: `data` rows of 64 pixel
    counts (floats 0..16), `target` the digits, `images` the rows as 8x8, and where they came
    from (`source`: "scikit-learn" or "micrograd")."""

    data: list[list[float]]
    target: list[int]
    images: list[list[list[float]]]
    target_names: list[int]
    feature_names: list[str]
    DESCR: str
    source: str


def _read_shipped_digits() -> bytes:
    import gzip
    from importlib import resources

    return gzip.decompress((resources.files("micrograd") / "datafiles" / _DIGITS_FILE).read_bytes())


def _read_sklearn_digits() -> bytes | None:
    """scikit-learn's copy in the canonical form, or None when scikit-learn is not installed.

    Its file is read directly (65 comma-separated integers a line, the label last), without
    importing scikit-learn, whose import takes seconds.
    """
    import gzip
    import importlib.util
    import os

    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:
        return None
    path = os.path.join(os.path.dirname(spec.origin), "datasets", "data", "digits.csv.gz")
    try:
        with gzip.open(path, "rt", encoding="ascii") as file:
            return bytes(int(v) for line in file for v in line.split(","))
    except (OSError, ValueError):  # moved, unreadable or not numbers: use the shipped copy
        return None


def _parse_digits(raw: bytes, source: str) -> tuple[list[list[float]], list[int]]:
    """Rows and labels from the canonical bytes, after checking their size and checksum."""
    import hashlib

    n, width = _DIGITS_SHAPE
    if len(raw) != n * (width + 1):
        raise ValueError(
            f"the digits from {source} have {len(raw)} bytes, expected {n * (width + 1)} "
            f"({n} images of {width} pixels and a label)"
        )
    digest = hashlib.sha256(raw).hexdigest()
    if digest != _DIGITS_SHA256:
        raise ValueError(
            f"the digits from {source} have SHA-256 {digest}, expected {_DIGITS_SHA256}: "
            "the file is damaged or not the UCI digits"
        )
    rows = [[float(v) for v in raw[k : k + width]] for k in range(0, len(raw), width + 1)]
    return rows, list(raw[width :: width + 1])


@overload
def load_digits(
    *,
    n_class: int = 10,
    return_X_y: Literal[False] = False,  # noqa: N803
) -> Digits: ...


@overload
def load_digits(
    *,
    n_class: int = 10,
    return_X_y: Literal[True],  # noqa: N803
) -> tuple[list[list[float]], list[int]]: ...


def load_digits(
    *,
    n_class: int = 10,
    return_X_y: bool = False,  # noqa: N803 - scikit-learn's name
) -> Digits | tuple[list[list[float]], list[int]]:
    """The 1,797 8x8 handwritten digits (UCI optdigits test set), as scikit-learn's
    `load_digits`: only the digits `0 .. n_class-1`; `(data, target)` with `return_X_y`.

    Read from scikit-learn when it is installed, else from the compressed copy in this package;
    either way the shape and SHA-256 checksum are checked.
    """
    n_class = count(n_class, "n_class", 1, 10)
    raw, source = _read_sklearn_digits(), "scikit-learn"
    if raw is None:
        raw, source = _read_shipped_digits(), "micrograd"
    rows, labels = _parse_digits(raw, source)
    keep = [i for i, label in enumerate(labels) if label < n_class]
    data, target = [rows[i] for i in keep], [labels[i] for i in keep]
    if return_X_y:
        return data, target
    return Digits(
        data=data,
        target=target,
        images=[[row[r * 8 : r * 8 + 8] for r in range(8)] for row in data],
        target_names=list(range(n_class)),
        feature_names=[f"pixel_{r}_{c}" for r in range(8) for c in range(8)],
        DESCR="Optical recognition of handwritten digits (UCI, E. Alpaydin and C. Kaynak, "
        "1998; CC BY 4.0): 8x8 images of pixel counts 0..16, digits 0-9. "
        "See micrograd/datafiles/DIGITS.txt.",
        source=source,
    )


def train_test_split(
    *arrays: Sequence[Any],
    test_size: float | int = 0.25,
    random_state: Seed = None,
    shuffle: bool = True,
) -> list[list[Any]]:
    """Split each sequence into a train and a test part, as scikit-learn's `train_test_split`
    (same arguments and output order `a_train, a_test, b_train, b_test, ...`; the random
    order comes from Python's `random`, so it differs from scikit-learn's for the same seed).

    `test_size` is a fraction in (0, 1) (the test part has ceil(fraction * n) items) or a
    count.
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one sequence")
    seqs = [_check_sequence(a, f"arrays[{i}]") for i, a in enumerate(arrays)]
    n = len(seqs[0])
    for i, seq in enumerate(seqs[1:], 1):
        if len(seq) != n:
            raise ValueError(
                f"train_test_split: arrays[0] has {n} items but arrays[{i}] has {len(seq)}"
            )
    if is_integer(test_size):
        n_test = count(test_size, "test_size (a count)", 1, n - 1)
    else:  # a fraction; a bool or a string is refused here, named as a setting
        n_test = math.ceil(in_unit_interval(test_size, "test_size", include_zero=False) * n)
    if n - n_test < 1:
        raise ValueError(f"test_size {test_size!r} leaves no training items out of {n}")
    order = list(range(n))
    if shuffle:
        _rng(random_state).shuffle(order)
    train, test = order[: n - n_test], order[n - n_test :]
    out: list[list[Any]] = []
    for seq in seqs:
        out += [[seq[i] for i in train], [seq[i] for i in test]]
    return out

"""Datasets: scikit-learn's geometry, seeding, minibatches, and the walk-through's tables."""

import collections
import inspect
import math
import random
import statistics
import time

import pytest

from micrograd import MLP, data
from micrograd.data import (
    LINEAR_TABLE,
    TWO_TWO_TWO,
    iterate_minibatches,
    make_blobs,
    make_circles,
    make_moons,
    make_spiral,
    xor,
)
from micrograd.engine import Value
from micrograd.losses import mse
from micrograd.optim import SGD


def test_moons_geometry_without_noise_matches_sklearn_construction():
    np = pytest.importorskip("numpy")
    points, labels = make_moons(7, shuffle=False)
    # scikit-learn: floor(n/2) points on the upper unit half circle, the rest on that circle
    # flipped and moved to centre (1, 0.5); label 0 upper, 1 lower.
    t_out = np.linspace(0, np.pi, 3)
    t_in = np.linspace(0, np.pi, 4)
    expected = np.vstack(
        [
            np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
            np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], axis=1),
        ]
    )
    assert np.allclose(points, expected, rtol=0, atol=1e-15)
    assert labels == [0, 0, 0, 1, 1, 1, 1]


@pytest.mark.slow  # importing scikit-learn takes seconds
def test_moons_match_sklearn_exactly_when_installed():
    np = pytest.importorskip("numpy")
    datasets = pytest.importorskip("sklearn.datasets")
    ours, our_labels = make_moons(101, shuffle=False)
    theirs, their_labels = datasets.make_moons(101, shuffle=False)
    assert np.allclose(ours, theirs, atol=1e-15) and our_labels == their_labels.tolist()


def test_moons_noise_has_the_requested_spread_and_seed_reproduces():
    clean, clean_labels = make_moons(2000, shuffle=False)
    noisy, labels = make_moons(2000, noise=0.1, random_state=3, shuffle=False)
    assert labels == clean_labels
    deviations = [n - c for a, b in zip(noisy, clean) for n, c in zip(a, b)]
    assert statistics.pstdev(deviations) == pytest.approx(0.1, rel=0.05)
    assert abs(statistics.fmean(deviations)) < 0.01
    assert make_moons(50, noise=0.1, random_state=3) == make_moons(50, noise=0.1, random_state=3)
    assert make_moons(50, noise=0.1, random_state=3) != make_moons(50, noise=0.1, random_state=4)


def test_seeded_generators_leave_global_random_alone():
    random.seed(123)
    expected = random.random()
    random.seed(123)
    make_moons(20, noise=0.1, random_state=1)
    make_blobs(20, random_state=1)
    assert random.random() == expected


def test_shuffle_keeps_points_with_their_labels():
    points, labels = make_moons(40, random_state=0)
    clean, clean_labels = make_moons(40, shuffle=False)
    assert labels != clean_labels  # shuffled
    pairs = sorted((tuple(p), y) for p, y in zip(points, labels))
    assert pairs == sorted((tuple(p), y) for p, y in zip(clean, clean_labels))


def test_circles_radii():
    points, labels = make_circles(10, factor=0.5, shuffle=False)
    radii = [math.hypot(*p) for p in points]
    assert radii == pytest.approx([1.0] * 5 + [0.5] * 5)
    assert labels == [0] * 5 + [1] * 5
    # scikit-learn leaves out the end point: no duplicate of angle 0 at 2 pi
    assert len({(round(x, 12), round(y, 12)) for x, y in points[:5]}) == 5


def test_blobs_split_and_centres():
    points, labels = make_blobs(301, centers=[[0.0, 0.0], [5.0, 5.0], [-5.0, 5.0]], random_state=0)
    assert [labels.count(k) for k in range(3)] == [101, 100, 100]
    for k, centre in enumerate([[0.0, 0.0], [5.0, 5.0], [-5.0, 5.0]]):
        cluster = [p for p, y in zip(points, labels) if y == k]
        mean = [statistics.fmean(c) for c in zip(*cluster)]
        assert mean == pytest.approx(centre, abs=0.3)
    random_centres, _ = make_blobs(30, centers=4, n_features=3, random_state=1)
    assert all(len(p) == 3 for p in random_centres)


def test_spiral_arms():
    points, labels = make_spiral(60, n_classes=3, noise=0.0, shuffle=False)
    assert [labels.count(k) for k in range(3)] == [20, 20, 20]
    radii = [math.hypot(*p) for p in points[:20]]
    assert radii == pytest.approx([k / 19 for k in range(20)])


def test_xor_table_and_samples():
    assert xor() == ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0])
    points, labels = xor(40, noise=0.05, random_state=0)
    for (a, b), y in zip(points, labels):
        assert y == (round(a) != round(b))


def test_minibatches_cover_everything_once_and_shuffle():
    inputs = list(range(10))
    targets = [x * 10 for x in inputs]
    batches = list(iterate_minibatches(inputs, targets, 3, seed=0))
    assert [len(b[0]) for b in batches] == [3, 3, 3, 1]
    seen = [x for xb, _ in batches for x in xb]
    assert sorted(seen) == inputs and seen != inputs
    assert all(t == x * 10 for xb, tb in batches for x, t in zip(xb, tb))
    in_order = list(iterate_minibatches(inputs, targets, 4, shuffle=False, drop_last=True))
    assert in_order == [([0, 1, 2, 3], [0, 10, 20, 30]), ([4, 5, 6, 7], [40, 50, 60, 70])]
    rng = random.Random(5)
    first = [xb for xb, _ in iterate_minibatches(inputs, targets, 10, seed=rng)]
    second = [xb for xb, _ in iterate_minibatches(inputs, targets, 10, seed=rng)]
    assert first != second  # one generator: a new order every epoch


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: make_moons(1), "n_samples must be an int >= 2"),
        (lambda: make_moons(10, noise=-1), "noise must be a finite number >= 0"),
        (lambda: make_circles(10, factor=1.5), "factor"),
        (lambda: make_blobs(10, centers=[[0.0], [1.0, 2.0]]), "one dimension"),
        (lambda: list(iterate_minibatches([1, 2], [1], 1)), "2 inputs but 1 targets"),
        (lambda: list(iterate_minibatches([1], [1], 0)), "batch_size"),
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_linear_table_is_y_equals_two_x_and_sgd_finds_w():
    assert [y for _, y in LINEAR_TABLE] == [2 * x for x, _ in LINEAR_TABLE]
    w = Value(0.5)
    opt = SGD([w], lr=0.1)
    for _ in range(100):
        opt.zero_grad()
        mse([w * x for x, _ in LINEAR_TABLE], [y for _, y in LINEAR_TABLE]).backward()
        opt.step()
    assert w.data == pytest.approx(2.0, abs=1e-9)


def two_two_two_model():
    net = TWO_TWO_TWO
    model = MLP(2, [2, 2], activation="sigmoid", output_activation="sigmoid", seed=0)
    w = net.weights
    model.load_state_dict(
        {
            "layers.0.neurons.0.w.0": w[0],
            "layers.0.neurons.0.w.1": w[1],
            "layers.0.neurons.1.w.0": w[2],
            "layers.0.neurons.1.w.1": w[3],
            "layers.0.neurons.0.b": net.b1,
            "layers.0.neurons.1.b": net.b1,
            "layers.1.neurons.0.w.0": w[4],
            "layers.1.neurons.0.w.1": w[5],
            "layers.1.neurons.1.w.0": w[6],
            "layers.1.neurons.1.w.1": w[7],
            "layers.1.neurons.0.b": net.b2,
            "layers.1.neurons.1.b": net.b2,
        }
    )
    return model


def test_two_two_two_network_reproduces_the_published_numbers():
    net = TWO_TWO_TWO
    model = two_two_two_model()
    outputs = model(list(net.inputs))
    error = 0.5 * mse(outputs, list(net.targets), reduction="sum")
    assert error.data == pytest.approx(net.expected_error, abs=1e-9)
    error.backward()
    w5 = model.layers[1].neurons[0].w[0]
    assert w5.grad == pytest.approx(net.expected_grad_w5, abs=1e-9)
    weights = [w for layer in model.layers for n in layer.neurons for w in n.w]
    SGD(weights, lr=net.lr).step()  # the walk-through leaves the biases alone
    assert [w.data for w in weights] == pytest.approx(list(net.updated_weights), abs=1e-8)


def _train_two_two_two(steps: int, hidden_sees_moved_output_weights: bool) -> list[float]:
    """Plain-float gradient descent on the 2-2-2 network: [error after 1 step, out_o1, out_o2,
    error after `steps`]. With the flag, the hidden layer's gradients go through the already
    updated w5..w8 (the first version of the post's code); without it, every gradient comes from
    the same forward pass."""
    net = TWO_TWO_TWO
    (i1, i2), (t1, t2), lr = net.inputs, net.targets, net.lr

    def sigmoid(z: float) -> float:
        return 1.0 / (1.0 + math.exp(-z))

    def forward(w: list[float]) -> tuple[float, float, float, float, float]:
        h1 = sigmoid(w[0] * i1 + w[1] * i2 + net.b1)
        h2 = sigmoid(w[2] * i1 + w[3] * i2 + net.b1)
        o1 = sigmoid(w[4] * h1 + w[5] * h2 + net.b2)
        o2 = sigmoid(w[6] * h1 + w[7] * h2 + net.b2)
        return h1, h2, o1, o2, 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2

    w = list(net.weights)
    first = 0.0
    for step in range(steps):
        h1, h2, o1, o2, _ = forward(w)
        d1, d2 = (o1 - t1) * o1 * (1 - o1), (o2 - t2) * o2 * (1 - o2)
        out = [w[4] - lr * d1 * h1, w[5] - lr * d1 * h2, w[6] - lr * d2 * h1, w[7] - lr * d2 * h2]
        v = out if hidden_sees_moved_output_weights else w[4:]
        dh1 = (d1 * v[0] + d2 * v[2]) * h1 * (1 - h1)
        dh2 = (d1 * v[1] + d2 * v[3]) * h2 * (1 - h2)
        hidden = [w[0] - lr * dh1 * i1, w[1] - lr * dh1 * i2, w[2] - lr * dh2 * i1]
        w = [*hidden, w[3] - lr * dh2 * i2, *out]
        if step == 0:
            first = forward(w)[4]
    _, _, o1, o2, error = forward(w)
    return [first, o1, o2, error]


def test_two_two_two_published_training_numbers_come_from_two_algorithms():
    # The post's error figures come from the algorithm it describes; its first-round error and
    # 10,000-step outputs from its code's first version, which moved w5..w8 too early.
    first, o1, o2, error = _train_two_two_two(10_000, hidden_sees_moved_output_weights=False)
    assert round(first, 9) == 0.291027774 and f"{error:.4e}" == "3.5102e-05"
    assert (round(o1, 9), round(o2, 9)) == (0.01591362, 0.984064274)
    first, o1, o2, _ = _train_two_two_two(10_000, hidden_sees_moved_output_weights=True)
    assert round(first, 9) == 0.291027924
    assert (round(o1, 9), round(o2, 9)) == (0.015912196, 0.984065734)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: make_moons(2.0), TypeError, "n_samples must be an int >= 2, received float"),
        (lambda: make_moons(10, noise="0.1"), TypeError, "noise must be a finite.*received str"),
        (lambda: make_moons(10, noise=math.nan), ValueError, "noise must be a finite number"),
        (
            lambda: make_moons(10, random_state="1"),
            TypeError,
            "random_state must be an int.*received str",
        ),
        (lambda: make_circles(10, factor="0.5"), TypeError, "factor must be a number"),
        (lambda: make_blobs(10, centers=3.0), TypeError, "centers must be an int or a list"),
        (lambda: make_blobs(10, centers=True), TypeError, "centers must be an int or a list"),
        (lambda: make_blobs(10, center_box="ab"), TypeError, "center_box must be a pair"),
        (lambda: make_blobs(10, center_box=(0, "1")), TypeError, r"center_box\[1\]"),
        (lambda: make_blobs(10, center_box=(1.0, -1.0)), ValueError, "low <= high"),
        (lambda: make_blobs(10, centers=[[]]), ValueError, "of one dimension"),
        (lambda: make_blobs(10, centers=[1.0, 2.0]), TypeError, r"centers\[0\] must be a point"),
        (lambda: make_blobs(10, centers=[[0.0, "a"]]), TypeError, r"centers\[0\]\[1\]"),
        (lambda: make_blobs(10, n_features=0), ValueError, "n_features must be an int >= 1"),
        (lambda: make_blobs(10, cluster_std=None), TypeError, "cluster_std must be a finite"),
        (lambda: make_spiral(10, turns="a"), TypeError, "turns must be a finite.*received str"),
        (lambda: make_spiral(10, turns=math.inf), ValueError, "turns must be a finite number"),
        (lambda: make_spiral(10, n_classes=2.0), TypeError, "n_classes must be an int"),
        (lambda: xor(4.0), TypeError, "n_samples must be an int >= 1, received float"),
        (lambda: xor(4, noise=-0.5), ValueError, "noise must be a finite number >= 0"),
        (lambda: xor(noise="0.1"), TypeError, "noise must be a finite number.*received str"),
        (lambda: xor(random_state=1.5), TypeError, "random_state must be an int.*received float"),
        (
            lambda: iterate_minibatches(iter([1, 2]), [1, 2], 1),
            TypeError,
            "inputs must be a sequence.*received list_iterator",
        ),
        (lambda: iterate_minibatches([1, 2], {1, 2}, 1), TypeError, "targets must be a sequence"),
        (lambda: iterate_minibatches([1, 2], [1, 2], 1.0), TypeError, "batch_size must be an int"),
        (
            lambda: iterate_minibatches([1], [1], 1, shuffle=False, seed="x"),
            TypeError,
            "seed must be an int",
        ),
    ],
)
def test_every_bad_argument_is_named_when_called(call, error, message):
    # Checked at the call, not at the first batch: iterate_minibatches is not consumed here.
    with pytest.raises(error, match=message):
        call()


# scikit-learn's names, order, class counts and shapes (checked against it when installed).

MAKERS = ("make_moons", "make_circles", "make_blobs")


@pytest.mark.parametrize("name", MAKERS)
def test_signatures_are_scikit_learns(name):
    datasets = pytest.importorskip("sklearn.datasets")
    ours = inspect.signature(getattr(data, name)).parameters
    theirs = inspect.signature(getattr(datasets, name)).parameters
    # Same names, same order, same kinds and defaults; `seed` is our extra, older name, last.
    assert list(ours)[:-1] == list(theirs) and list(ours)[-1] == "seed"
    for key, param in theirs.items():
        assert ours[key].kind == param.kind, key
        assert ours[key].default == param.default, key


@pytest.mark.parametrize(
    ("name", "args", "kwargs"),
    [
        ("make_blobs", (100, 2), {}),  # the example: 3 classes, as in scikit-learn
        ("make_blobs", (100,), {}),
        ("make_blobs", (7, 3), {"centers": 4}),
        ("make_blobs", ([3, 5, 2],), {}),
        ("make_blobs", ([3, 5],), {"centers": [[0.0, 0.0, 1.0], [1.0, 1.0, 2.0]]}),
        ("make_blobs", (11,), {"centers": [[0.0], [1.0]], "n_features": 5}),
        ("make_moons", (), {}),
        ("make_moons", (7,), {}),
        ("make_moons", ((3, 8),), {}),
        ("make_circles", (9,), {"factor": 0.3}),
        ("make_circles", ((4, 1),), {}),
    ],
)
def test_class_counts_and_shapes_match_scikit_learn(name, args, kwargs):
    datasets = pytest.importorskip("sklearn.datasets")
    points, y = getattr(data, name)(*args, **kwargs, random_state=0)
    points_ref, y_ref = getattr(datasets, name)(*args, **kwargs, random_state=0)
    assert (len(points), len({len(row) for row in points}), len(points[0])) == (
        points_ref.shape[0],
        1,
        points_ref.shape[1],
    )
    assert sorted(collections.Counter(y).items()) == sorted(
        collections.Counter(y_ref.tolist()).items()
    )
    assert all(type(row) is list and all(type(c) is float for c in row) for row in points)
    assert all(type(label) is int for label in y)


def test_blobs_without_spread_match_scikit_learn_point_for_point():
    np = pytest.importorskip("numpy")
    datasets = pytest.importorskip("sklearn.datasets")
    centers = [[0.0, 1.0], [2.0, -3.0], [5.0, 5.0]]
    for n_samples in (10, [2, 0, 4]):
        ours = make_blobs(n_samples, centers=centers, cluster_std=0.0, shuffle=False)
        theirs = datasets.make_blobs(n_samples, centers=centers, cluster_std=0.0, shuffle=False)
        assert np.array_equal(ours[0], theirs[0]) and ours[1] == theirs[1].tolist()


def test_blobs_return_centers_and_a_spread_per_center():
    points, y, centers = make_blobs(
        3000, centers=2, cluster_std=[0.1, 2.0], return_centers=True, random_state=4
    )
    assert len(centers) == 2 and all(-10 <= c <= 10 for center in centers for c in center)
    for label, std in ((0, 0.1), (1, 2.0)):
        cluster = [p for p, k in zip(points, y) if k == label]
        assert statistics.fmean(p[0] for p in cluster) == pytest.approx(centers[label][0], abs=0.2)
        assert statistics.pstdev(p[0] for p in cluster) == pytest.approx(std, rel=0.1)


def test_random_state_and_the_older_seed_name_are_one_thing():
    assert make_moons(30, noise=0.1, random_state=5) == make_moons(30, noise=0.1, seed=5)
    assert make_blobs(30, random_state=random.Random(2)) == make_blobs(30, seed=2)
    with pytest.raises(TypeError, match="both random_state and seed"):
        make_moons(30, random_state=1, seed=1)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: make_moons(10**12), r"n_samples is 1,000,000,000,000; .*MAX_SAMPLES = 1,000,000"),
        (lambda: make_circles((10**9, 10**9)), r"sum of n_samples is 2,000,000,000"),
        (lambda: make_blobs(10**15), "n_samples is 1,000,000,000,000,000"),
        (lambda: make_blobs([10**8] * 3), "sum of n_samples"),
        (lambda: make_blobs(1000, n_features=10**9), r"3 x 1,000,000,000 .*MAX_NUMBERS"),
        (lambda: make_blobs(10**6, n_features=20), r"n_samples would make 1,000,000 x 20"),
        (lambda: make_blobs(10, centers=10**9), r"centers would make 1,000,000,000 x 2"),
        (lambda: make_spiral(10**10), "n_samples is 10,000,000,000"),
        (lambda: make_spiral(10, n_classes=10**12), r"n_classes \(1000000000000\) must be"),
        (lambda: xor(10**9), "n_samples is 1,000,000,000"),
    ],
)
def test_absurd_counts_are_refused_before_anything_is_allocated(call, message):
    started = time.perf_counter()
    with pytest.raises(ValueError, match=message):
        call()
    assert time.perf_counter() - started < 0.5  # refused up front, not after filling memory


def test_the_size_limit_still_allows_a_large_honest_dataset():
    points, y = make_moons(data.MAX_SAMPLES // 10, random_state=0, shuffle=False)
    assert len(points) == len(y) == data.MAX_SAMPLES // 10


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: make_blobs([3, 4], centers=2), "centers must be a list of points"),
        (lambda: make_blobs([3, 4], centers=[[0.0]] * 3), "lists 2 counts for 3 centers"),
        (lambda: make_blobs(10, centers=2, cluster_std=[1.0]), "1 standard deviations for 2"),
        (lambda: make_blobs(10, cluster_std=[1.0, -1.0, 1.0]), r"cluster_std\[1\] must be"),
        (lambda: make_moons((1, 2, 3)), "a pair of ints"),
        (lambda: make_moons(10, shuffle=1), "shuffle must be True or False"),
    ],
)
def test_scikit_learn_forms_are_checked(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_numpy_arrays_split_and_batch_as_lists_do():
    np = pytest.importorskip("numpy")
    from micrograd.data import iterate_minibatches, train_test_split

    x = [[float(i), -float(i)] for i in range(10)]
    y = list(range(10))
    want = train_test_split(x, y, test_size=0.3, random_state=0)
    got = train_test_split(np.array(x), np.array(y), test_size=0.3, random_state=0)
    assert got == want and type(got[0][0][0]) is float
    batches = list(iterate_minibatches(np.array(x), np.array(y), 4, seed=1))
    assert batches == list(iterate_minibatches(x, y, 4, seed=1))
    with pytest.raises(TypeError, match="received dict"):
        train_test_split({0: 1}, [1], test_size=0.5)

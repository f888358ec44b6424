"""`python -m micrograd demo`: train the classic moons classifier and save pictures and model.

The run of Karpathy's demo notebook: 100 points of two moons (noise 0.1), an MLP(2, [16, 16, 1])
with ReLU, the hinge loss mean(relu(1 - y * score)) plus 1e-4 times the sum of squared weights,
and SGD on the whole batch with the learning rate falling linearly from 1.0 to 0.1 over 100
steps. It writes the decision boundary, the loss curve, the graph of one neuron and the model
file into an output folder. Pictures whose optional package (matplotlib, Graphviz) is missing
are skipped with a one-line notice.

Training takes the fastest path available (`--engine auto`): the per-sample loss is traced once
into a tape (`micrograd.tape`) and replayed for the whole batch each step, with numpy when it is
installed and in pure Python otherwise, one tape for the hinge loss and the L2 term, and `SGD`
steps the model's parameters in place from each batch result; the eager engine is the fallback
when the model cannot be traced. Both give the same losses and weights to about 1e-12.

A run whose loss or weights stop being finite (a learning rate far too large) ends at that step
with one line on stderr and exit code 1; numerical warnings during a run are counted, not
printed one by one.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from micrograd import data
from micrograd.cli import digits, figures
from micrograd.cli.arguments import check_mlp_size, non_negative_float, positive_int
from micrograd.cli.terminal import ProgressBar, loss_text, printable
from micrograd.engine import Value
from micrograd.files import check_writable
from micrograd.grad_mode import TracingError, no_grad
from micrograd.losses import hinge, l2_penalty
from micrograd.nn import ACTIVATIONS, MLP
from micrograd.numeric import count
from micrograd.ops import OPS
from micrograd.optim import SGD, LinearLR

# Two-class datasets only: the hinge loss separates labels -1 and +1.
DATASETS: dict[str, Callable[[int, float, int], data.Dataset]] = {
    "moons": lambda n, noise, seed: data.make_moons(n, noise=noise, random_state=seed),
    "circles": lambda n, noise, seed: data.make_circles(
        n, noise=noise, factor=0.5, random_state=seed
    ),
    "blobs": lambda n, noise, seed: data.make_blobs(
        n, centers=[[-1.0, -1.0], [1.0, 1.0]], cluster_std=noise, random_state=seed
    ),
    "spiral": lambda n, noise, seed: data.make_spiral(
        n, 2, noise=noise, turns=3.0, random_state=seed
    ),
    "xor": lambda n, noise, seed: data.xor(n, noise=noise, random_state=seed),
}

DEFAULT_SEED = 1337  # with the defaults below, this seed reaches 100% training accuracy
L2_ALPHA = 1e-4
ENGINES = ("auto", "tape", "eager")


def _hidden_sizes(text: str) -> list[int]:
    try:
        sizes = [count(int(part), "a size", 1) for part in text.split(",")]
    except ValueError:  # int() of a non-int, or a size below 1
        raise argparse.ArgumentTypeError(
            f"expected hidden layer sizes as positive ints separated by commas, such as 16,16; "
            f"received {text!r}"
        ) from None
    check_mlp_size(2, [*sizes, 1], text)
    return sizes


class DivergedError(ArithmeticError):
    """Training produced a loss or a weight that is not a finite number."""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the `demo` command."""
    parser = subparsers.add_parser(
        "demo",
        help="train the classic two-moons classifier; save plots and the model",
        description="Train an MLP on a two-class 2-D dataset with the hinge loss, L2 penalty "
        "and SGD with a linearly decaying learning rate (lr falls to a tenth of --lr over the "
        "run), showing loss and accuracy as it goes. Writes into --out: model.json (load it "
        "with MLP.load), decision_boundary.png and loss.png (need matplotlib) and neuron.svg "
        "(needs Graphviz).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--dataset", choices=sorted(DATASETS), default="moons", help="the two-class dataset"
    )
    parser.add_argument(
        "--samples", type=positive_int, default=100, help="number of training points"
    )
    parser.add_argument(
        "--noise", type=non_negative_float, default=0.1, help="noise of the dataset (std dev)"
    )
    parser.add_argument(
        "--hidden",
        type=_hidden_sizes,
        default=[16, 16],
        metavar="SIZES",
        help="hidden layer sizes, comma-separated (the model is MLP(2, SIZES + [1]))",
    )
    parser.add_argument("--steps", type=positive_int, default=100, help="training steps")
    parser.add_argument(
        "--lr", type=non_negative_float, default=1.0, help="learning rate at the first step"
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="seed for the dataset and initial weights"
    )
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="tape: trace the loss once and replay it batched (numpy if installed, else pure "
        "Python); eager: build and backpropagate the graph of Values every step; auto: the "
        "tape, or eager if the model cannot be traced",
    )
    parser.add_argument(
        "--out", default="micrograd-demo", metavar="FOLDER", help="output folder (created)"
    )
    parser.set_defaults(run=run)
    # Other jobs are sub-commands with options of their own: `demo digits --help`.
    digits.add_parser(parser.add_subparsers(title="other jobs", metavar="JOB"))


@dataclass
class History:
    """Per-step loss and accuracy of a training run, its duration in seconds, the engine used."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    seconds: float = 0.0
    engine: str = ""


def train(
    points: list[list[float]],
    labels: list[int],
    hidden: list[int],
    steps: int,
    lr: float,
    seed: int,
    on_step: Callable[[int, float, float], None] | None = None,
    engine: str = "auto",
) -> tuple[MLP, History]:
    """Train MLP(2, hidden + [1]) on labels 0/1 (as -1/+1) with full-batch SGD; returns it.

    `engine` is "tape", "eager" or "auto" (the tape, or eager if tracing fails); see the module
    docstring.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, received {engine!r}")
    model = MLP(len(points[0]), [*hidden, 1], seed=seed)
    targets = [2.0 * label - 1.0 for label in labels]
    params = model.parameters()
    optimizer = SGD(params, lr=lr)
    # The classic schedule lr = 1.0 - 0.9 * k / 100, for any number of steps.
    schedule = LinearLR(optimizer, start_factor=1.0, end_factor=0.1, total_iters=steps)
    history = History()
    start = time.perf_counter()
    step = None
    if engine != "eager":
        try:
            step = _tape_step(model, points, targets, history, optimizer)
        except TracingError:
            if engine == "tape":
                raise
    if step is None:
        step = _eager_step(model, points, targets, history, optimizer)
    # The eager graph of Values has no reference cycles, so reference counting frees it; the
    # cyclic collector would only rescan the ~65,000 new nodes of every step (about 30% of the
    # time).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for k in range(steps):
            loss, correct = step()
            schedule.step()
            _check_finite(k + 1, steps, loss, model)
            history.loss.append(loss)
            history.accuracy.append(correct / len(targets))
            if on_step is not None:
                on_step(k + 1, history.loss[-1], history.accuracy[-1])
    finally:
        if gc_was_enabled:
            gc.enable()
    history.seconds = time.perf_counter() - start
    return model, history


def _check_finite(step: int, steps: int, loss: float, model: MLP) -> None:
    # Once a weight is inf or nan every later step is too: stop at the first one.
    where = f"training diverged at step {step} of {steps}"
    if not math.isfinite(loss):
        raise DivergedError(f"{where}: the loss is {loss}")
    for name, p in model.named_parameters():
        if not math.isfinite(p.data):
            raise DivergedError(f"{where}: after the update, weight {name} is {p.data}")


# A step function takes one optimizer step on hinge loss + L2 term from the current weights and
# returns the loss and the number of points classified correctly before the update.


def _eager_step(
    model: MLP, points: list[list[float]], targets: list[float], history: History, optimizer: SGD
) -> Callable[[], tuple[float, int]]:
    history.engine = "eager"
    params = model.parameters()
    # Inputs wrapped once as constants, so no step re-wraps 2 numbers per neuron per sample.
    inputs = [[Value(c, requires_grad=False) for c in point] for point in points]

    def step() -> tuple[float, int]:
        scores = [model(x) for x in inputs]
        loss = hinge(scores, targets) + l2_penalty(params, L2_ALPHA)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        correct = sum((s.data > 0) == (t > 0) for s, t in zip(scores, targets))
        return loss.data, correct

    return step


def _tape_step(
    model: MLP, points: list[list[float]], targets: list[float], history: History, optimizer: SGD
) -> Callable[[], tuple[float, int]]:
    from micrograd.tape import default_backend, trace

    params = model.parameters()

    def per_sample(*inputs: Value) -> list[Value]:
        *x, y = inputs
        score = model(x)
        # The label is an input of the tape, not a number frozen into it: the hinge loss of
        # score s for label y is the hinge loss of y * s for label +1. With y = +-1 both y * s
        # and the eager loop's -y * s are exact, so the formula rounds as the eager one does.
        # The L2 term, from the parameters only, is computed once per batch, not per sample.
        return [hinge([y * score], [1.0], prune=False), score, l2_penalty(params, L2_ALPHA)]

    tape = trace(per_sample, [*points[0], targets[0]], params)
    # An op without array versions replays in Python only (see `Op.array_forward`).
    batchable = all(ins.op.array_forward is not None for ins in tape.instructions)
    backend = default_backend() if batchable else "python"
    history.engine = f"tape, {backend} replay"
    rows: Any = [[*point, t] for point, t in zip(points, targets)]
    if backend == "numpy":
        import numpy as np

        rows = np.array(rows)
    scale = 1.0 / len(points)

    def step() -> tuple[float, int]:
        # The score is watched, not differentiated; the L2 term's gradient, the same in every
        # lane, is averaged over them: the gradient of mean(hinge) + L2.
        batch = tape.run_batch(rows, backend=backend, output_grads=[1, 0, 1], input_grads=False)
        # Reads the gradients from the result and updates the model's Values in place.
        optimizer.step(batch)
        outputs = batch.outputs.tolist() if backend == "numpy" else batch.outputs
        # Summed in sample order then scaled, as `hinge` does, so the loss is the eager one.
        loss = sum(out[0] for out in outputs) * scale + outputs[0][2]
        correct = sum((out[1] > 0) == (t > 0) for out, t in zip(outputs, targets))
        return loss, correct

    return step


def predict_grid(model: MLP, xs: Any, ys: Any) -> Any:
    """The model's scores on a numpy mesh grid, computed with numpy from its weights.

    Plot-only: thousands of points through the scalar engine would take seconds.
    """
    import numpy as np

    h = np.stack([np.ravel(xs), np.ravel(ys)], axis=1)
    for layer in model.layers:
        weights = np.array([[w.data for w in n.w] for n in layer.neurons])
        biases = np.array([n.b.data for n in layer.neurons])
        h = h @ weights.T + biases
        if layer.activation != "linear":  # the op's own numpy version: sigmoid cannot overflow
            array_forward = OPS[layer.activation].array_forward
            assert array_forward is not None, layer.activation
            h = array_forward(np, h)
    return h[:, 0].reshape(np.shape(xs))


def accuracy(model: MLP, points: list[list[float]], labels: list[int]) -> float:
    """The fraction of points on the side of the decision boundary their label (0/1) asks for."""
    with no_grad():
        correct: int = sum((model(p).data > 0) == (y == 1) for p, y in zip(points, labels))
    return correct / len(points)


def _plot(
    model: MLP,
    data_points: list[list[float]],
    labels: list[int],
    history: History,
    final_accuracy: float,
    out: str,
) -> list[str]:
    plt = figures.pyplot()
    import numpy as np

    written = []
    points = np.array(data_points)
    x_min, y_min = points.min(axis=0) - 1.0
    x_max, y_max = points.max(axis=0) + 1.0
    xs, ys = np.meshgrid(np.linspace(x_min, x_max, 200), np.linspace(y_min, y_max, 200))
    scores = predict_grid(model, xs, ys)
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.contourf(xs, ys, scores > 0, cmap=plt.cm.Spectral, alpha=0.8)
    ax.contour(xs, ys, scores, levels=[0.0], colors="k", linewidths=1)
    ax.scatter(points[:, 0], points[:, 1], c=labels, s=30, cmap=plt.cm.Spectral, edgecolors="k")
    ax.set_title(f"decision boundary, training accuracy {final_accuracy:.0%}")
    written.append(figures.save(fig, out, "decision_boundary.png"))

    fig, ax = plt.subplots(figsize=(6, 4))
    steps = range(1, len(history.loss) + 1)
    ax.plot(steps, history.loss, label="loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    other = ax.twinx()
    other.plot(steps, history.accuracy, color="tab:orange", label="accuracy")
    other.set_ylabel("training accuracy")
    other.set_ylim(0, 1.05)
    fig.legend(loc="center right")
    written.append(figures.save(fig, out, "loss.png"))
    return written


def _draw_neuron(model: MLP, points: list[list[float]], out: str) -> str:
    from micrograd.viz import draw_dot

    # The first neuron of the first layer, on the first point where its ReLU is active, so that
    # the drawing shows gradients flowing back rather than a wall of zeros.
    layer = model.layers[0]
    neuron, point = layer.neurons[0], points[0]
    for candidate in layer.neurons:
        active = [p for p in points if candidate(p).data > 0]
        if active:
            neuron, point = candidate, active[0]
            break
    x = [Value(c, f"x{i}", requires_grad=False) for i, c in enumerate(point)]
    weights = [Value(w.data, f"w{i}") for i, w in enumerate(neuron.w)]
    bias = Value(neuron.b.data, "b")
    # Fresh copies of the trained weights: labelling them leaves the model untouched.
    act = sum((w * xi for w, xi in zip(weights, x)), bias)
    act.label = "w·x + b"
    nonlinearity = ACTIVATIONS[neuron.activation]
    out_value = act if nonlinearity is None else nonlinearity(act)
    out_value.label = "out"
    out_value.backward()
    path = os.path.join(out, "neuron.svg")
    draw_dot(out_value).save(path)
    return path


def run(args: argparse.Namespace) -> int:
    """Train, report, and write the model file and pictures into the output folder."""
    numerical: list[str] = []
    show = warnings.showwarning

    def count(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if issubclass(category, RuntimeWarning):
            numerical.append(str(message))
        else:
            show(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        # Counted, not printed: a run gone wrong raises thousands (overflow in the engine's ops,
        # in numpy); a diverging one ends in its own line of error, a finished one in a summary.
        warnings.simplefilter("always", RuntimeWarning)
        warnings.showwarning = count
        code = _run(args)
    if numerical and code == 0:
        print(
            printable(
                f"demo: {len(numerical)} numerical warnings (overflow or nan), the first: "
                f"{numerical[0]}"
            ),
            file=sys.stderr,
        )
    return code


def _run(args: argparse.Namespace) -> int:
    try:
        points, labels = DATASETS[args.dataset](args.samples, args.noise, args.seed)
    except (TypeError, ValueError) as e:  # the generator's own check, naming the argument
        print(printable(f"demo: error: {args.dataset}: {e}"), file=sys.stderr)
        return 1
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        print(printable(f"demo: cannot create output folder {args.out!r}: {e}"), file=sys.stderr)
        return 1
    model_name = f"MLP(2, {[*args.hidden, 1]})"
    print(
        f"training {model_name} on {args.samples} {args.dataset} points (noise {args.noise}) "
        f"for {args.steps} steps, lr {args.lr} falling to {args.lr * 0.1:g}, seed {args.seed}"
    )
    bar = ProgressBar(sys.stderr)

    def progress(done: int, loss: float, accuracy: float) -> None:
        bar(done, args.steps, loss, accuracy)

    try:
        model, history = train(
            points, labels, args.hidden, args.steps, args.lr, args.seed, progress, args.engine
        )
    except DivergedError as e:
        bar.interrupt()
        hint = f"try a smaller --lr (received {args.lr:g}) or --noise (received {args.noise:g})"
        print(f"demo: error: {e}; {hint}", file=sys.stderr)
        return 1
    final_accuracy = accuracy(model, points, labels)
    print(
        f"done in {history.seconds:.1f} s ({history.engine}): {loss_text(history.loss[-1])}, "
        f"training accuracy {final_accuracy:.0%}"
    )
    written = [os.path.join(args.out, "model.json")]
    try:
        model.save(written[0])
    except (OSError, ValueError) as e:
        print(printable(f"demo: cannot write {written[0]}: {e}"), file=sys.stderr)
        return 1
    try:
        written += _plot(model, points, labels, history, final_accuracy, args.out)
    except ImportError:
        print("demo: matplotlib is not installed; skipping the plots (pip install matplotlib)")
    except (OSError, ValueError) as e:  # a full disk, a folder in the way of a picture
        print(printable(f"demo: cannot write a picture: {e}"), file=sys.stderr)
        return 1
    try:  # a path that cannot be written is an error; a missing renderer only skips the picture
        check_writable(os.path.join(args.out, "neuron.svg"))
    except OSError as e:
        print(printable(f"demo: cannot write a picture: {e}"), file=sys.stderr)
        return 1
    try:
        written.append(_draw_neuron(model, points, args.out))
    except ImportError as e:
        print(printable(f"demo: cannot draw the neuron graph ({e}); skipping it"))
    except (RuntimeError, OSError) as e:  # the renderer's error: Graphviz missing or failing
        first_line = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(printable(f"demo: cannot render the neuron graph ({first_line}); skipping it"))
    for path in written:
        print(printable(f"wrote {path}"))  # the folder name is the user's: shown, not obeyed
    return 0

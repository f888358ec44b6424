"""`python -m micrograd demo digits`: a scalar engine learns real data, the 8x8 handwritten digits.

An `MLP(64, [HIDDEN, 10])` is trained with softmax cross-entropy on minibatches by Adam, on a
held-out split of the 1,797 UCI digits (`micrograd.data.load_digits`), pixels scaled to 0..1.
With `--engine tape` (the default) the per-sample loss is traced once and replayed for each
minibatch (numpy when installed, else pure Python); `--engine eager` builds the graph of Values
for every sample, some hundred times slower, and gives the same numbers for the same seed (to
rounding: the tape sums some terms in another order).

The loss is written without a shift, log(sum(exp(z))) - z[target], with the target one-hot as
an input of the tape, so the tape and the eager engine compute the same formula (the library's
`cross_entropy` shifts by the largest logit, which a tape would freeze as a constant).

Writes into --out: model.json (`MLP.load`), and with matplotlib loss.png (train and test loss
per epoch), confusion.png (the test confusion matrix) and misclassified.png (test digits the
model gets wrong). Left out: hyper-parameter search, data augmentation.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import random
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from micrograd.cli import figures
from micrograd.cli.arguments import check_mlp_size, non_negative_float, positive_int
from micrograd.cli.terminal import ProgressBar, printable
from micrograd.data import iterate_minibatches, load_digits, train_test_split
from micrograd.engine import Value
from micrograd.nn import MLP
from micrograd.numeric import in_unit_interval
from micrograd.optim import Adam

if TYPE_CHECKING:
    from micrograd.tape import Tape

ENGINES = ("tape", "eager")
N_CLASSES = 10


def _fraction(text: str) -> float:
    try:
        return in_unit_interval(float(text), "the value", include_zero=False)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a fraction between 0 and 1, received {text!r}"
        ) from None


def _hidden_size(text: str) -> int:
    size = positive_int(text)
    check_mlp_size(64, [size, N_CLASSES], text)
    return size


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the `digits` job (a sub-command of `demo`)."""
    parser = subparsers.add_parser(
        "digits",
        help="train an MLP on the 8x8 handwritten digits",
        description="Train MLP(64, [HIDDEN, 10]) on the UCI handwritten digits with softmax "
        "cross-entropy, minibatches and Adam; report test accuracy. Writes into --out: "
        "model.json, and with matplotlib loss.png, confusion.png and misclassified.png.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--hidden", type=_hidden_size, default=32, help="hidden layer size")
    parser.add_argument("--epochs", type=positive_int, default=15, help="passes over the data")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="minibatch size")
    parser.add_argument("--lr", type=non_negative_float, default=0.01, help="Adam's learning rate")
    parser.add_argument(
        "--test-size", type=_fraction, default=0.2, help="fraction of images held out"
    )
    parser.add_argument(
        "--samples",
        type=positive_int,
        default=None,
        help="use only the first SAMPLES images (quick runs)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for the split and weights")
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="tape",
        help="tape: trace the loss once, replay it per minibatch; eager: build the graph of "
        "Values for every sample (slow, same numbers)",
    )
    parser.add_argument(
        "--out", default="micrograd-digits", metavar="FOLDER", help="output folder (created)"
    )
    parser.set_defaults(run=run)


@dataclass
class DigitsRun:
    """A finished run: the model, per-epoch losses and accuracies, test predictions, timing."""

    model: MLP
    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    predictions: list[int] = field(default_factory=list)
    seconds: float = 0.0
    engine: str = ""


def one_hot(label: int) -> list[float]:
    """The target as 10 numbers, an input of the tape rather than a constant frozen into it."""
    return [1.0 if k == label else 0.0 for k in range(N_CLASSES)]


def sample_loss(
    model: MLP, pixels: Sequence[Value | float], target: Sequence[float]
) -> list[Value]:
    """[loss, *logits] for one image: log(sum(exp(z))) - sum(target * z)."""
    logits: list[Value] = model(list(pixels))
    log_total = sum((z.exp() for z in logits[1:]), logits[0].exp()).log()
    picked = sum((t * z for t, z in zip(target[1:], logits[1:])), target[0] * logits[0])
    return [log_total - picked, *logits]


def _argmax(row: Sequence[float]) -> int:
    return max(range(len(row)), key=row.__getitem__)


class TapeEngine:
    """Loss and logits of a minibatch by replaying one traced sample; the optimizer steps the
    model from the replay's mean gradients."""

    def __init__(self, model: MLP) -> None:
        from micrograd.tape import default_backend, trace

        self.params: list[Value] = model.parameters()
        self.tape: Tape = trace(
            lambda *xs: sample_loss(model, xs[:64], xs[64:]), [0.0] * 74, self.params
        )
        self.backend: str = default_backend()
        self.name: str = f"tape, {self.backend} replay"
        # The logits are watched, not differentiated.
        self.seeds: list[float] = [1.0] + [0.0] * N_CLASSES

    def __call__(
        self, xs: list[list[float]], ys: list[int], optimizer: Adam | None
    ) -> tuple[list[float], list[list[float]]]:
        rows: Any = [[*x, *one_hot(y)] for x, y in zip(xs, ys)]
        if self.backend == "numpy":
            import numpy as np

            rows = np.array(rows)
        batch = self.tape.run_batch(
            rows, backend=self.backend, output_grads=self.seeds, input_grads=False
        )
        if optimizer is not None:
            optimizer.step(batch)  # the model's Values, updated in place
        outputs = batch.outputs.tolist() if self.backend == "numpy" else batch.outputs
        return [o[0] for o in outputs], [o[1:] for o in outputs]


class EagerEngine:
    """The same with a graph of Values per sample: mean loss, one backward(), one step."""

    name = "eager"

    def __init__(self, model: MLP) -> None:
        self.model = model

    def __call__(
        self, xs: list[list[float]], ys: list[int], optimizer: Adam | None
    ) -> tuple[list[float], list[list[float]]]:
        samples = [sample_loss(self.model, x, one_hot(y)) for x, y in zip(xs, ys)]
        if optimizer is not None:
            mean = sum((s[0] for s in samples[1:]), samples[0][0]) * (1.0 / len(samples))
            optimizer.zero_grad()
            mean.backward()
            optimizer.step()
        return [s[0].data for s in samples], [[z.data for z in s[1:]] for s in samples]


def train(
    x_train: list[list[float]],
    y_train: list[int],
    x_test: list[list[float]],
    y_test: list[int],
    *,
    hidden: int = 32,
    epochs: int = 15,
    batch_size: int = 32,
    lr: float = 0.01,
    seed: int = 0,
    engine: str = "tape",
    on_step: Callable[[int, int, float, float], None] | None = None,
) -> DigitsRun:
    """Train MLP(64, [hidden, 10]) with Adam on minibatches; evaluate on the test set per epoch.

    `on_step(step, total_steps, loss, accuracy)` is called after every minibatch with its loss
    and accuracy.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, received {engine!r}")
    model = MLP(64, [hidden, N_CLASSES], seed=seed)
    run = DigitsRun(model)
    compute = TapeEngine(model) if engine == "tape" else EagerEngine(model)
    run.engine = compute.name
    optimizer = Adam(model.parameters(), lr=lr)
    order = random.Random(seed)  # one generator: a new minibatch order every epoch
    steps_per_epoch = -(-len(x_train) // batch_size)
    total, step = epochs * steps_per_epoch, 0
    start = time.perf_counter()
    # The eager graphs hold no reference cycles; the cyclic collector would only rescan them.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(epochs):
            losses = []
            for xs, ys in iterate_minibatches(x_train, y_train, batch_size, seed=order):
                batch_losses, logits = compute(xs, ys, optimizer)
                losses += batch_losses
                step += 1
                if on_step is not None:
                    right = sum(_argmax(z) == y for z, y in zip(logits, ys))
                    on_step(step, total, sum(batch_losses) / len(ys), right / len(ys))
            run.train_loss.append(sum(losses) / len(losses))
            test_losses, logits = compute(x_test, y_test, None)
            run.predictions = [_argmax(z) for z in logits]
            run.test_loss.append(sum(test_losses) / len(test_losses))
            right = sum(p == y for p, y in zip(run.predictions, y_test))
            run.test_accuracy.append(right / len(y_test))
    finally:
        if gc_was_enabled:
            gc.enable()
    run.seconds = time.perf_counter() - start
    return run


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int]) -> list[list[int]]:
    """counts[true][predicted], as scikit-learn's `confusion_matrix` for labels 0..9."""
    counts = [[0] * N_CLASSES for _ in range(N_CLASSES)]
    for t, p in zip(y_true, y_pred):
        counts[t][p] += 1
    return counts


def _plot(run: DigitsRun, x_test: list[list[float]], y_test: list[int], out: str) -> list[str]:
    plt = figures.pyplot()
    written = []
    epochs = range(1, len(run.train_loss) + 1)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(epochs, run.train_loss, marker="o", label="train loss")
    ax.plot(epochs, run.test_loss, marker="o", label="test loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    ax.set_yscale("log")
    other = ax.twinx()
    other.plot(epochs, run.test_accuracy, color="tab:green", label="test accuracy")
    other.set_ylabel("test accuracy")
    other.set_ylim(0, 1.02)
    lines = ax.get_lines() + other.get_lines()
    ax.legend(lines, [str(line.get_label()) for line in lines], loc="center right")
    ax.set_title(f"{run.engine}: test accuracy {run.test_accuracy[-1]:.1%}")
    written.append(figures.save(fig, out, "loss.png"))

    counts = confusion_matrix(y_test, run.predictions)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.imshow(counts, cmap="Blues")
    for t in range(N_CLASSES):
        for p in range(N_CLASSES):
            if counts[t][p]:
                color = "white" if counts[t][p] > max(map(max, counts)) / 2 else "black"
                ax.text(p, t, str(counts[t][p]), ha="center", va="center", color=color, fontsize=8)
    ax.set_xticks(range(N_CLASSES))
    ax.set_yticks(range(N_CLASSES))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title("confusion matrix (test set)")
    written.append(figures.save(fig, out, "confusion.png"))

    wrong = [i for i, (p, y) in enumerate(zip(run.predictions, y_test)) if p != y][:24]
    columns = 8
    rows = max(1, -(-len(wrong) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.1, rows * 1.35), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), wrong):
        ax.imshow([x_test[i][r * 8 : r * 8 + 8] for r in range(8)], cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"{y_test[i]} as {run.predictions[i]}", fontsize=9, color="tab:red")
    fig.suptitle(f"misclassified test digits ({len(wrong)} shown): true as predicted")
    written.append(figures.save(fig, out, "misclassified.png"))
    return written


def _fail(message: str) -> int:
    print(printable(f"demo digits: error: {message}"), file=sys.stderr)
    return 1


def _diverged(run: DigitsRun) -> str | None:
    """Where the run stopped being finite (loss or weight), or None."""
    losses = [("train", run.train_loss), ("test", run.test_loss)]
    for which, values in losses:
        for epoch, loss in enumerate(values, start=1):
            if not math.isfinite(loss):
                return f"the {which} loss is {loss} at epoch {epoch}"
    for name, p in run.model.named_parameters():
        if not math.isfinite(p.data):
            return f"the weight {name} is {p.data}"
    return None


def run(args: argparse.Namespace) -> int:
    """Load, split, train, report, and write the model file and pictures.

    A bad run (arguments that leave no data, a diverging loss, a file that cannot be written)
    ends in one line on stderr and exit code 1.
    """
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        return _fail(f"cannot create output folder {args.out!r}: {e}")
    digits = load_digits()
    images, labels = digits.data, digits.target
    if args.samples is not None:
        images, labels = images[: args.samples], labels[: args.samples]
    pixels = [[v / 16.0 for v in row] for row in images]  # 0..16 counts to 0..1
    try:
        x_train, x_test, y_train, y_test = train_test_split(
            pixels, labels, test_size=args.test_size, random_state=args.seed
        )
    except ValueError as e:
        return _fail(f"--samples {args.samples} --test-size {args.test_size}: {e}")
    print(
        f"training MLP(64, [{args.hidden}, 10]) on {len(x_train)} digits, testing on "
        f"{len(x_test)}: {args.epochs} epochs of minibatches of {args.batch_size}, Adam lr "
        f"{args.lr}, seed {args.seed}, engine {args.engine}"
    )
    try:
        with warnings.catch_warnings():
            # A diverging run overflows thousands of times; it ends in one line below instead.
            warnings.simplefilter("ignore", RuntimeWarning)
            result = train(
                x_train,
                y_train,
                x_test,
                y_test,
                hidden=args.hidden,
                epochs=args.epochs,
                batch_size=args.batch_size,
                lr=args.lr,
                seed=args.seed,
                engine=args.engine,
                on_step=ProgressBar(sys.stderr, accuracy_label="batch accuracy"),
            )
    except (ArithmeticError, ValueError) as e:  # math.exp overflowing in the eager engine, ...
        return _fail(f"the run diverged ({e}); try a smaller --lr (received {args.lr:g})")
    where = _diverged(result)
    if where is not None:
        return _fail(f"the run diverged: {where}; try a smaller --lr (received {args.lr:g})")
    print(
        f"done in {result.seconds:.1f} s ({result.engine}): train loss "
        f"{result.train_loss[-1]:.4f}, test loss {result.test_loss[-1]:.4f}, "
        f"test accuracy {result.test_accuracy[-1]:.1%}"
    )
    written = [os.path.join(args.out, "model.json")]
    try:
        result.model.save(written[0])
    except (OSError, ValueError) as e:
        return _fail(f"cannot write {written[0]}: {e}")
    try:
        written += _plot(result, x_test, y_test, args.out)
    except ImportError:
        print("demo digits: matplotlib is not installed; skipping the plots")
    except (OSError, ValueError) as e:  # a full disk, a folder in the way of a picture
        return _fail(f"cannot write a picture: {e}")
    for path in written:
        print(printable(f"wrote {path}"))  # the folder name is the user's: shown, not obeyed
    return 0

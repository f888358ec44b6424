"""Workloads of the tape against hand-written numpy and PyTorch, and the cost of compiling a tape.

Called by `workloads.py` (one job per process, JSON in and out):

- `moons_numpy`: the moons step written by hand in numpy, the floor a batched replay can reach.
- `digits`: softmax cross-entropy on the 8x8 digits, MLP(64, [32, 10]), SGD on minibatches
  (consecutive slices of the data, the same for every engine), by the tape (numpy replay,
  `optim.SGD` stepping the model from each batch result), by PyTorch float64 and by hand-written
  numpy (plainly, and tuned: buffers made once, every operation in place), from the same initial
  weights.
- `compile`: an MLP tape of a given size traced, its pure-Python and numpy plans built (time,
  and peak memory counted by tracemalloc in a second pass) and replayed once.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from typing import Any


def _layers(weights: list[float], sizes: list[int]) -> list[tuple[list, list]]:
    """(W rows, b) per layer from the flat `parameters()` order: each neuron's weights then bias."""
    layers, at = [], 0
    for nin, nout in zip(sizes, sizes[1:]):
        rows = [weights[at + r * (nin + 1) : at + (r + 1) * (nin + 1)] for r in range(nout)]
        layers.append(([row[:nin] for row in rows], [row[nin] for row in rows]))
        at += nout * (nin + 1)
    return layers


def _flat(np: Any, layers: list) -> Any:
    """The flat parameter vector back from per-layer (W, b) arrays."""
    return np.concatenate([np.hstack([w, b[:, None]]).ravel() for w, b in layers])


def moons_numpy(job: dict) -> dict:
    """Karpathy's moons loop by hand in numpy: the least a batched step costs."""
    import numpy as np

    layers = [(np.array(w), np.array(b)) for w, b in _layers(job["weights"], [2, 16, 16, 1])]
    x, y = np.array(job["X"]), np.array(job["y"])
    n = len(y)
    times = []
    for k in range(job["steps"]):
        t0 = time.perf_counter()
        (w1, b1), (w2, b2), (w3, b3) = layers
        z1 = x @ w1.T + b1
        h1 = np.maximum(z1, 0.0)
        z2 = h1 @ w2.T + b2
        h2 = np.maximum(z2, 0.0)
        score = (h2 @ w3.T + b3)[:, 0]
        margin = 1.0 - y * score
        data_loss = np.maximum(margin, 0.0).sum() / n
        reg = 1e-4 * sum((w * w).sum() + (b * b).sum() for w, b in layers)
        d_score = np.where(margin > 0.0, -y, 0.0)[:, None] / n
        grads = [(d_score.T @ h2, d_score.sum(0))]
        d_h2 = (d_score @ w3) * (z2 > 0.0)
        grads.insert(0, (d_h2.T @ h1, d_h2.sum(0)))
        d_h1 = (d_h2 @ w2) * (z1 > 0.0)
        grads.insert(0, (d_h1.T @ x, d_h1.sum(0)))
        rate = 1.0 - 0.9 * k / 100
        layers = [
            (w - rate * (gw + 2e-4 * w), b - rate * (gb + 2e-4 * b))
            for (w, b), (gw, gb) in zip(layers, grads)
        ]
        times.append(time.perf_counter() - t0)
        loss = data_loss + reg
    acc = float(((y > 0) == (score > 0)).mean())
    return {"step_s": statistics.median(times), "steps": len(times), "loss": loss, "acc": acc}


def digits_data(n: int) -> tuple[list, list]:
    """The first n digits, pixels scaled to 0..1, and their labels."""
    from micrograd.data import load_digits

    images, labels = load_digits(return_X_y=True)
    return [[v / 16.0 for v in row] for row in images[:n]], labels[:n]


def _batches(n: int, batch: int, steps: int) -> list[slice]:
    return [slice((k * batch) % n, (k * batch) % n + batch) for k in range(steps)]


def digits(job: dict) -> dict:
    """SGD on minibatches of the digits with one engine; time per step, the losses."""
    import numpy as np

    x, y = digits_data(job["n"])
    x, y = np.array(x), np.array(y)
    onehot = np.eye(10)[y]
    sizes, lr = [64, job["hidden"], 10], job["lr"]
    slices = _batches(len(y), job["batch"], job["steps"])
    run = {
        "tape-numpy": _digits_tape,
        "tape-array": _digits_tape_array,
        "torch": _digits_torch,
        "numpy": _digits_numpy,
        "numpy-tuned": _digits_numpy_tuned,
    }
    times, losses = run[job["engine"]](job["weights"], sizes, x, onehot, slices, lr)
    return {
        "step_s": statistics.median(times),
        "steps": len(times),
        "loss": losses[-1],
        "first_loss": losses[0],
    }


def _digits_tape(weights, sizes, x, onehot, slices, lr):
    import numpy as np

    from micrograd.cli.digits import sample_loss
    from micrograd.nn import MLP
    from micrograd.optim import SGD
    from micrograd.tape import trace

    model = MLP(sizes[0], sizes[1:], seed=0)
    params = model.parameters()
    for p, w in zip(params, weights):
        p.data = w
    tape = trace(lambda *v: sample_loss(model, v[:64], v[64:])[0], 74, params)
    optimizer = SGD(params, lr=lr)
    rows = np.hstack([x, onehot])
    times, losses = [], []
    for part in slices:
        t0 = time.perf_counter()
        # The README's loop: the optimizer steps the model's Values from the batch result.
        result = tape.run_batch(rows[part], reduce="mean", input_grads=False)
        optimizer.step(result)
        times.append(time.perf_counter() - t0)
        losses.append(float(result.outputs.mean()))
    return times, losses


def _digits_tape_array(weights, sizes, x, onehot, slices, lr):
    """The same tape with the parameters kept in one array and SGD by hand: the model's Values
    are never updated, which shows what updating them costs."""
    import numpy as np

    from micrograd.cli.digits import sample_loss
    from micrograd.nn import MLP
    from micrograd.tape import trace

    model = MLP(sizes[0], sizes[1:], seed=0)
    tape = trace(lambda *v: sample_loss(model, v[:64], v[64:])[0], 74, model.parameters())
    rows = np.hstack([x, onehot])
    w = np.array(weights)
    times, losses = [], []
    for part in slices:
        t0 = time.perf_counter()
        result = tape.run_batch(rows[part], w, reduce="mean", input_grads=False)
        w -= lr * result.param_grads
        times.append(time.perf_counter() - t0)
        losses.append(float(result.outputs.mean()))
    return times, losses


def _digits_torch(weights, sizes, x, onehot, slices, lr):
    import torch

    torch.set_num_threads(1)
    params = []
    for w, b in _layers(weights, sizes):
        params += [
            torch.tensor(w, dtype=torch.float64, requires_grad=True),
            torch.tensor(b, dtype=torch.float64, requires_grad=True),
        ]
    xt, yt = torch.tensor(x), torch.tensor(onehot)
    times, losses = [], []
    for part in slices:
        t0 = time.perf_counter()
        xb, yb = xt[part], yt[part]
        h = torch.relu(xb @ params[0].T + params[1])
        z = h @ params[2].T + params[3]
        # The formula the tape records: log(sum(exp(z))) - sum(onehot * z), no shift.
        loss = (torch.log(torch.exp(z).sum(1)) - (yb * z).sum(1)).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        times.append(time.perf_counter() - t0)
        losses.append(loss.item())
    return times, losses


def _digits_numpy(weights, sizes, x, onehot, slices, lr):
    import numpy as np

    (w1, b1), (w2, b2) = [(np.array(w), np.array(b)) for w, b in _layers(weights, sizes)]
    times, losses = [], []
    for part in slices:
        t0 = time.perf_counter()
        xb, yb = x[part], onehot[part]
        n = len(xb)
        z1 = xb @ w1.T + b1
        h = np.maximum(z1, 0.0)
        z = h @ w2.T + b2
        e = np.exp(z)
        total = e.sum(1)
        loss = float((np.log(total) - (yb * z).sum(1)).mean())
        dz = (e / total[:, None] - yb) / n
        dh = (dz @ w2) * (z1 > 0.0)
        w2 = w2 - lr * (dz.T @ h)
        b2 = b2 - lr * dz.sum(0)
        w1 = w1 - lr * (dh.T @ xb)
        b1 = b1 - lr * dh.sum(0)
        times.append(time.perf_counter() - t0)
        losses.append(loss)
    return times, losses


def _digits_numpy_tuned(weights, sizes, x, onehot, slices, lr):
    """The same step by hand in numpy, written for speed: buffers made once per batch size,
    every operation in place (`out=`), the ReLU mask kept from the forward pass. The least time
    we know numpy to need for this step: a bound on any numpy replay, not a second floor."""
    import numpy as np

    (w1, b1), (w2, b2) = [(np.array(w), np.array(b)) for w, b in _layers(weights, sizes)]
    made: dict[int, tuple] = {}
    times, losses = [], []
    for part in slices:
        t0 = time.perf_counter()
        xb, yb = x[part], onehot[part]
        n = len(xb)
        if n not in made:
            made[n] = tuple(np.empty(shape) for shape in [(n, 32), (n, 32), (n, 10), (n,)])
            made[n] += (np.empty((n, 32), dtype=bool), np.empty(w1.shape), np.empty(w2.shape))
        z1, h, z, total, mask, g1, g2 = made[n]
        np.matmul(xb, w1.T, out=z1)
        z1 += b1
        np.greater(z1, 0.0, out=mask)
        np.maximum(z1, 0.0, out=h)
        np.matmul(h, w2.T, out=z)
        z += b2
        loss = float(np.log(np.exp(z).sum(1)).sum() - np.vdot(yb, z)) / n
        np.exp(z, out=z)  # z is not needed again: e = exp(z) in its place
        np.add.reduce(z, axis=1, out=total)
        z /= total[:, None]
        z -= yb
        z *= 1.0 / n  # dz
        np.matmul(z.T, h, out=g2)
        gb2 = z.sum(0)
        np.matmul(z, w2, out=h)  # dh, in h's place
        h *= mask
        np.matmul(h.T, xb, out=g1)
        gb1 = h.sum(0)
        g2 *= lr
        w2 -= g2
        b2 -= lr * gb2
        g1 *= lr
        w1 -= g1
        b1 -= lr * gb1
        times.append(time.perf_counter() - t0)
        losses.append(loss)
    return times, losses


def compile_cost(job: dict) -> dict:
    """Trace MLP(nin, [hidden, 10]); build and run both plans; time and peak memory."""
    import numpy  # noqa: F401 - imported before the clock starts, as a user's program would

    from micrograd.nn import MLP
    from micrograd.tape import trace
    from micrograd.tape.numpy_plan import NumpyPlan
    from micrograd.tape.python_plan import PythonPlan

    nin, hidden = job["nin"], job["hidden"]
    model = MLP(nin, [hidden, 10], seed=0)
    params = model.parameters()
    t0 = time.perf_counter()
    tape = trace(lambda *x: model(list(x)), nin, params)
    t1 = time.perf_counter()
    plan = tape.plan("python")  # built here, and kept by the tape for its first run
    t2 = time.perf_counter()
    tape.run([0.5] * nin)
    t3 = time.perf_counter()
    numpy_plan = NumpyPlan(tape)
    t4 = time.perf_counter()
    del plan, numpy_plan
    peaks = []
    for build in (PythonPlan, NumpyPlan):
        tracemalloc.start()
        built = build(tape)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        del built
    return {
        "instructions": len(tape),
        "trace_s": t1 - t0,
        "python_plan_s": t2 - t1,
        "python_run_s": t3 - t2,
        "numpy_plan_s": t4 - t3,
        "python_plan_bytes": peaks[0],
        "numpy_plan_bytes": peaks[1],
    }

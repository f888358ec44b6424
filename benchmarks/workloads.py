"""One benchmark workload in one process: read a JSON job on stdin, print a JSON result.

`run.py` starts this script once per (engine, workload) so that Karpathy's micrograd 0.1.0 (in
its own virtual environment, also named `micrograd`) never shares a process with ours. Engines:

- `0.1.0`: Karpathy's micrograd from PyPI, eager.
- `ours`: this repository's eager engine.
- `tape-numpy`, `tape-python`: this repository's tape, batched with numpy or replayed in Python;
  `tape-array` and `tape-2tapes` are variants of `tape-numpy` (see `moons_tape`).
- `torch`: PyTorch float64 tensors, batched (moons and digits).
- `numpy`: the step written by hand in numpy (moons and digits), the floor of a batched replay.
- `floor`: the dag built from the least node object CPython allows (`FloorNode`), build only.

The digits and compile workloads live in `tape_workloads.py`.

Only the standard library is imported at the top: the engine under test is imported in `main`.
"""

from __future__ import annotations

import gc
import json
import math
import operator
import os
import random
import statistics
import sys
import time
from collections.abc import Callable

# Binary and unary steps of the dag workload, by code.
DAG_OPS = ("mul", "add", "sub", "relu", "square")


def rss_bytes() -> int:
    """Resident memory of this process (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def dag_spec(n: int, seed: int) -> tuple[list[float], list[tuple[int, int, int]]]:
    """Leaves and n steps (op code, operand, operand) of a random expression graph.

    Operands are drawn uniformly from every earlier value, so the graph reuses values and stays
    shallow (depth grows like log n, which 0.1.0's recursive sort survives). Ops are chosen so
    that every value stays within [-100, 100]; the last steps add up the values nobody used, in
    a balanced tree, so that one backward pass reaches every node.
    """
    rng = random.Random(seed)
    values = [rng.uniform(-1.0, 1.0) for _ in range(100)]
    leaves = list(values)
    used = [False] * len(values)
    steps: list[tuple[int, int, int]] = []
    while len(steps) < n:
        i, j = rng.randrange(len(values)), rng.randrange(len(values))
        a, b = values[i], values[j]
        candidates = [0, 1, 2, 3, 4]
        rng.shuffle(candidates)
        for code in candidates:
            r = (a * b, a + b, a - b, max(a, 0.0), a * a)[code]
            if abs(r) <= 100.0:
                break
        steps.append((code, i, j if code < 3 else i))
        used[i] = True
        used[j if code < 3 else i] = True
        values.append(r)
        used.append(False)
    level = [k for k, u in enumerate(used) if not u]
    while len(level) > 1:
        nxt = []
        for k in range(0, len(level) - 1, 2):
            steps.append((1, level[k], level[k + 1]))
            nxt.append(len(values))
            values.append(0.0)  # placeholder: only the index matters from here on
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return leaves, steps


class FloorNode:
    """The least a graph node can be: a slotted object with its number, parents and op name,
    made by one Python call per op, with no op record, checks or gradient. Build cost only."""

    __slots__ = ("data", "parents", "op")

    def __init__(self, data: float, parents: tuple = (), op: str = "") -> None:
        self.data = data
        self.parents = parents
        self.op = op

    def __add__(self, other: FloorNode) -> FloorNode:
        return FloorNode(self.data + other.data, (self, other), "add")

    def __mul__(self, other: FloorNode) -> FloorNode:
        return FloorNode(self.data * other.data, (self, other), "mul")

    def __sub__(self, other: FloorNode) -> FloorNode:
        return FloorNode(self.data - other.data, (self, other), "sub")

    def __pow__(self, k: int) -> FloorNode:
        return FloorNode(self.data**k, (self,), "pow")

    def relu(self) -> FloorNode:
        return FloorNode(self.data if self.data > 0.0 else 0.0, (self,), "relu")


def build_dag(value_cls: type, leaves: list[float], steps: list[tuple[int, int, int]]) -> list:
    """The values of the dag, leaves first."""
    nodes = [value_cls(x) for x in leaves]
    append = nodes.append
    for code, i, j in steps:
        a = nodes[i]
        if code == 0:
            append(a * nodes[j])
        elif code == 1:
            append(a + nodes[j])
        elif code == 2:
            append(a - nodes[j])
        elif code == 3:
            append(a.relu())
        else:
            append(a**2)
    return nodes


def run_dag(value_cls: type, n: int, seed: int) -> dict:
    """Build the dag, then backward; time and memory per node."""
    leaves, steps = dag_spec(n, seed)
    gc.collect()
    rss0 = rss_bytes()
    t0 = time.perf_counter()
    nodes = build_dag(value_cls, leaves, steps)
    t1 = time.perf_counter()
    rss1 = rss_bytes()
    root = nodes[-1]
    del nodes[len(leaves) :]  # keep the graph alive through `root` only
    t2 = time.perf_counter()
    if value_cls is not FloorNode:  # the floor has no backward: it measures building only
        root.backward()
    t3 = time.perf_counter()
    leaf_grad = sum(abs(getattr(v, "grad", 0.0)) for v in nodes)
    del root, nodes
    # Anything the cyclic collector finds now was kept alive by reference cycles.
    cyclic = gc.collect()
    # Diagnostic: the same build with the cyclic collector paused, to separate the engine's own
    # cost from the collector's repeated scans of a large live graph.
    gc.disable()
    t4 = time.perf_counter()
    nodes = build_dag(value_cls, leaves, steps)
    t5 = time.perf_counter()
    del nodes
    gc.enable()
    gc.collect()
    return {
        "nodes": len(steps),
        "build_ns": (t1 - t0) / len(steps) * 1e9,
        "build_nogc_ns": (t5 - t4) / len(steps) * 1e9,
        "backward_ns": (t3 - t2) / len(steps) * 1e9,
        "bytes": (rss1 - rss0) / len(steps),
        "cyclic_garbage": cyclic,
        "check": leaf_grad,
    }


def run_chain(value_cls: type, depth: int) -> dict:
    """x <- 0.001 + 1.0001 x, `depth` times, then backward."""
    t0 = time.perf_counter()
    try:
        x0 = value_cls(1.0)
        x = x0
        for _ in range(depth):
            x = 0.001 + 1.0001 * x
        x.backward()
        grad = x0.grad
    except RecursionError:
        return {"ok": False, "error": "RecursionError", "seconds": time.perf_counter() - t0}
    seconds = time.perf_counter() - t0
    del x
    ok = math.isclose(grad, 1.0001**depth, rel_tol=1e-9)
    return {"ok": ok, "seconds": seconds, "grad": grad}


def moons_eager(value_cls: type, make_model: Callable, job: dict) -> dict:
    """Karpathy's demo loop: full batch, hinge loss, L2 term, SGD with a decaying rate."""
    model = make_model()
    params = model.parameters()
    assert len(params) == len(job["weights"])
    for p, w in zip(params, job["weights"]):
        p.data = w
    xs, ys = job["X"], job["y"]
    times, loss, acc = [], None, None
    for k in range(job["steps"]):
        t0 = time.perf_counter()
        inputs = [[value_cls(a), value_cls(b)] for a, b in xs]
        scores = [model(x) for x in inputs]
        losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in params)
        total = data_loss + reg_loss
        model.zero_grad()
        total.backward()
        rate = 1.0 - 0.9 * k / 100
        for p in params:
            p.data -= rate * p.grad
        times.append(time.perf_counter() - t0)
        loss = total.data
        acc = sum((yi > 0) == (si.data > 0) for yi, si in zip(ys, scores)) / len(ys)
    return {"step_s": statistics.median(times), "steps": len(times), "loss": loss, "acc": acc}


def moons_torch(job: dict) -> dict:
    """The same loop with batched float64 tensors."""
    import torch

    torch.set_num_threads(1)
    weights, sizes = job["weights"], [2, 16, 16, 1]
    params, at = [], 0
    for nin, nout in zip(sizes, sizes[1:]):
        rows = [weights[at + r * (nin + 1) : at + (r + 1) * (nin + 1)] for r in range(nout)]
        w = torch.tensor([row[:nin] for row in rows], dtype=torch.float64, requires_grad=True)
        b = torch.tensor([row[nin] for row in rows], dtype=torch.float64, requires_grad=True)
        params += [w, b]
        at += nout * (nin + 1)
    x = torch.tensor(job["X"], dtype=torch.float64)
    y = torch.tensor(job["y"], dtype=torch.float64)
    times = []
    for k in range(job["steps"]):
        t0 = time.perf_counter()
        h = torch.relu(x @ params[0].T + params[1])
        h = torch.relu(h @ params[2].T + params[3])
        scores = (h @ params[4].T + params[5]).squeeze(1)
        total = torch.relu(1 - y * scores).mean() + 1e-4 * sum((p * p).sum() for p in params)
        for p in params:
            p.grad = None
        total.backward()
        rate = 1.0 - 0.9 * k / 100
        with torch.no_grad():
            for p in params:
                p -= rate * p.grad
        times.append(time.perf_counter() - t0)
    acc = ((y > 0) == (scores > 0)).double().mean().item()
    return {
        "step_s": statistics.median(times),
        "steps": len(times),
        "loss": total.item(),
        "acc": acc,
    }


def l2_term(params: list) -> object:
    """The moons loss's L2 penalty, 1e-4 * sum(p * p), as the eager loop writes it."""
    return 1e-4 * sum(p * p for p in params)


def moons_tape(job: dict, backend: str) -> dict:
    """The same loop, traced once and replayed.

    `backend` "numpy": the README's loop as it is written there (one tape for hinge and L2,
    `SGD` with `LinearLR` stepping the model's Values from each batch result); "array": the same
    tape with the parameters in one numpy array and SGD by hand; "2tapes": the README's loop
    with the L2 term on a second tape; "python": no numpy, two tapes and the update by hand.
    """
    from micrograd.losses import l2_penalty
    from micrograd.nn import MLP
    from micrograd.tape import trace

    model = MLP(2, [16, 16, 1], seed=0)
    params = model.parameters()
    for p, w in zip(params, job["weights"]):
        p.data = w
    score = trace(lambda x0, x1: model([x0, x1]), 2, params)
    rows = [[x0, x1, y] for (x0, x1), y in zip(job["X"], job["y"])]
    times = []
    if backend == "numpy":
        import numpy

        from micrograd.optim import SGD, LinearLR

        # The guide's Speed page (docs/guide/speed.md), line for line (its data and seed aside).
        loss_tape = trace(
            lambda x0, x1, y: [(1 - y * model([x0, x1])).relu(), l2_penalty(params, 1e-4)],
            3,
            params,
        )
        optimizer = SGD(params, lr=1.0)
        schedule = LinearLR(optimizer, 1.0, 0.1, total_iters=100)
        rows = numpy.array(rows)
        for _ in range(job["steps"]):
            t0 = time.perf_counter()
            result = loss_tape.run_batch(rows, reduce="mean", input_grads=False)
            optimizer.step(result)
            schedule.step()
            times.append(time.perf_counter() - t0)
        seen = result.param_values  # the weights the last step read
        loss = float(result.outputs[:, 0].mean() + result.outputs[0, 1])
    elif backend == "array":
        import numpy

        # What the model in place costs: the same tape with the parameters kept in one array,
        # given to each replay, and SGD by hand (the model's Values are never updated).
        loss_tape = trace(
            lambda x0, x1, y: [(1 - y * model([x0, x1])).relu(), l2_penalty(params, 1e-4)],
            3,
            params,
        )
        rows = numpy.array(rows)
        weights = numpy.array([p.data for p in params])
        for k in range(job["steps"]):
            t0 = time.perf_counter()
            seen = weights
            result = loss_tape.run_batch(rows, weights, reduce="mean", input_grads=False)
            weights = weights - (1.0 - 0.9 * k / 100) * result.param_grads
            times.append(time.perf_counter() - t0)
        loss = float(result.outputs[:, 0].mean() + result.outputs[0, 1])
        backend = "numpy"
    elif backend == "2tapes":
        import numpy

        from micrograd.optim import SGD, LinearLR

        # The README's loop with a second tape for the L2 term, whose gradients are added to
        # the hinge's before the same optimizer step: one tape against two.
        hinge = trace(lambda x0, x1, y: (1 - y * model([x0, x1])).relu(), 3, params)
        l2 = trace(lambda: l2_penalty(params, 1e-4), 0, params)
        optimizer = SGD(params, lr=1.0)
        schedule = LinearLR(optimizer, 1.0, 0.1, total_iters=100)
        rows = numpy.array(rows)
        for _ in range(job["steps"]):
            t0 = time.perf_counter()
            data = hinge.run_batch(rows, reduce="mean", input_grads=False)
            reg = l2.run_batch([[]], input_grads=False)
            optimizer.step(data._replace(param_grads=data.param_grads + reg.param_grads))
            schedule.step()
            times.append(time.perf_counter() - t0)
        seen = data.param_values
        loss = float(data.outputs[:, 0].mean() + reg.outputs[0, 0])
        backend = "numpy"
    else:
        # Without numpy each lane costs a pure-Python replay: the L2 term gets its own tape.
        hinge = trace(lambda x0, x1, y: (1 + -y * model([x0, x1])).relu(), 3, params)
        l2 = trace(lambda: l2_term(params), 0, params)
        weights = [p.data for p in params]
        for k in range(job["steps"]):
            t0 = time.perf_counter()
            seen = weights
            data = hinge.run_batch(rows, weights, reduce="mean", backend=backend)
            reg = l2.run_batch([[]], weights, backend=backend)
            rate = 1.0 - 0.9 * k / 100
            grads = map(operator.add, data.param_grads, reg.param_grads)
            weights = [w - rate * g for w, g in zip(weights, grads)]
            times.append(time.perf_counter() - t0)
        loss = sum(o[0] for o in data.outputs) / len(data.outputs) + reg.outputs[0][0]
    # Accuracy of the scores the last step saw (before its update), as the eager loop reports.
    scores = [o[0] for o in score.run_batch(job["X"], seen, backend=backend).outputs]
    acc = sum((yi > 0) == (si > 0) for yi, si in zip(job["y"], scores)) / len(scores)
    return {"step_s": statistics.median(times), "steps": len(times), "loss": loss, "acc": acc}


def main() -> None:
    job = json.load(sys.stdin)
    engine = job["engine"]
    if engine != "0.1.0":
        sys.path.insert(0, job["repo"])
    if job["workload"] in ("digits", "compile") or engine == "numpy":
        import tape_workloads

        if job["workload"] == "digits":
            result = tape_workloads.digits(job)
        elif job["workload"] == "compile":
            result = tape_workloads.compile_cost(job)
        else:
            result = tape_workloads.moons_numpy(job)
    elif engine == "floor":
        result = run_dag(FloorNode, job["n"], job["seed"])
    elif engine == "torch":
        result = moons_torch(job)
    elif engine in ("tape-numpy", "tape-python", "tape-array", "tape-2tapes"):
        result = moons_tape(job, engine.split("-")[1])
    else:
        from micrograd.engine import Value
        from micrograd.nn import MLP

        if engine == "ours":
            import micrograd

            assert micrograd.__file__.startswith(job["repo"]), micrograd.__file__
        else:
            import micrograd

            assert "site-packages" in micrograd.__file__, micrograd.__file__
        if job["workload"] == "moons":
            # The weights are overwritten from the job; the seed only avoids drawing them twice.
            make = (
                (lambda: MLP(2, [16, 16, 1], seed=0))
                if engine == "ours"
                else (lambda: MLP(2, [16, 16, 1]))
            )
            result = moons_eager(Value, make, job)
        elif job["workload"] == "dag":
            result = run_dag(Value, job["n"], job["seed"])
        else:
            result = run_chain(Value, job["depth"])
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    sys.setrecursionlimit(1000)  # the default, stated: 0.1.0's failure depends on it
    main()

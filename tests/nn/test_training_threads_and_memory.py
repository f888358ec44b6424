"""Training across threads and across many steps: results independent, memory steady."""

from __future__ import annotations

import gc
import random
import sys
import threading
from collections.abc import Callable
from functools import partial

import pytest

from micrograd import MLP, detect_anomaly, no_grad


def moons_like_batch(rng: random.Random, size: int) -> list[tuple[list[float], float]]:
    """Points on two interleaved half circles, labelled -1 and +1."""
    import math

    batch = []
    for _ in range(size):
        t = rng.uniform(0, math.pi)
        if rng.random() < 0.5:
            batch.append(([math.cos(t), math.sin(t)], -1.0))
        else:
            batch.append(([1 - math.cos(t), 0.5 - math.sin(t)], 1.0))
    return batch


def train(seed: int, steps: int, batch_size: int = 4, hidden: int = 16) -> dict[str, float]:
    rng = random.Random(seed)
    model = MLP(2, [hidden, hidden, 1], seed=seed)
    for _ in range(steps):
        batch = moons_like_batch(rng, batch_size)
        losses = [(1 - y * model(x)).relu() for x, y in batch]
        loss = sum(losses) * (1.0 / len(batch))
        model.zero_grad()
        loss.backward()
        with no_grad():  # evaluation in no_grad: another thread's graph must not be affected
            accuracy = sum((model(x).data > 0) == (y > 0) for x, y in batch) / len(batch)
        assert 0.0 <= accuracy <= 1.0
        for p in model.parameters():
            p.data -= 0.05 * p.grad
    return model.state_dict()


def run_at_once(*calls: Callable[[], dict[str, float]]) -> list[dict[str, float]]:
    """Each call in a thread of its own, all started before any is joined; their results."""
    results: list[dict[str, float]] = [{} for _ in calls]

    def run(i: int) -> None:
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.slow
def test_two_threads_train_like_one_after_the_other():
    sequential = [train(1, 30), train(2, 30)]
    assert run_at_once(partial(train, 1, 30), partial(train, 2, 30)) == sequential


@pytest.mark.slow
def test_a_thread_in_anomaly_mode_trains_like_one_without_it():
    # One thread checks every op (and installs the checking functions for all threads); the
    # other is not checked. Both get the numbers of plain sequential training.
    sequential = [train(1, 20), train(2, 20)]

    def checked() -> dict[str, float]:
        with detect_anomaly():
            return train(1, 20)

    assert run_at_once(checked, partial(train, 2, 20)) == sequential


@pytest.mark.slow
def test_memory_is_steady_over_a_thousand_training_steps():
    rng = random.Random(0)
    model = MLP(2, [16, 16, 1], seed=0)

    def step(k: int) -> None:
        batch = moons_like_batch(rng, 2)
        loss = sum((1 - y * model(x)).relu() for x, y in batch) * 0.5
        loss = loss + 1e-4 * sum(p * p for p in model.parameters())
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= (1.0 - 0.9 * k / 1000) * 0.1 * p.grad

    # A warm-up, then two equal windows of steps. Caches that fill once (the allocator's, the
    # interpreter's) grow in the warm-up or the first window; a leak grows in both, in
    # proportion to the steps, so the second window is the one that must stay flat.
    warm_up, window = 50, 450
    gc.disable()  # graphs must be freed by reference counting alone
    try:
        for k in range(warm_up):
            step(k)
        counts = [(len(gc.get_objects()), sys.getallocatedblocks())]
        for first in (warm_up, warm_up + window):
            for k in range(first, first + window):
                step(k)
            counts.append((len(gc.get_objects()), sys.getallocatedblocks()))
    finally:
        gc.enable()
    (objects_0, _), (objects_1, blocks_1), (objects_2, blocks_2) = counts
    # One step's graph is about 2,000 Values; a leak of even one Value per step would add 900
    # objects over both windows, and at least one allocated block per step in each window.
    assert objects_2 - objects_0 < 100, (objects_0, objects_1, objects_2)
    assert blocks_2 - blocks_1 < window // 3, (blocks_1, blocks_2)

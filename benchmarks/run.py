"""Benchmark runner: every engine on every workload, each in its own process, then a table.

    python benchmarks/run.py            # full run (about 10 minutes on 2 shared cores)
    python benchmarks/run.py --quick    # smoke run: small sizes, few steps, nothing written
    python benchmarks/run.py --only moons --only digits --skip-0.1.0   # the tape's targets

Karpathy's micrograd 0.1.0 is installed from PyPI into `benchmarks/.venv-micrograd-0.1.0` on
first use. A full run rewrites the results section of `benchmarks/README.md` and the table of
the guide's Speed page, `docs/guide/speed.md`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import random
import subprocess
import sys
from collections.abc import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
VENV = os.path.join(HERE, ".venv-micrograd-0.1.0")
VENV_PYTHON = os.path.join(VENV, "bin", "python")
README = os.path.join(HERE, "README.md")
SPEED_PAGE = os.path.join(REPO, "docs", "guide", "speed.md")  # the guide's Speed page
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def ensure_venv() -> bool:
    """Create the 0.1.0 environment if missing; False if that is impossible (offline, ...)."""
    if os.path.exists(VENV_PYTHON):
        return True
    try:
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([VENV_PYTHON, "-m", "pip", "install", "-q", "micrograd==0.1.0"], check=True)
    except (subprocess.CalledProcessError, OSError) as error:
        print(f"could not install micrograd 0.1.0 ({error}); its column is left out")
        return False
    return True


def has_module(name: str) -> bool:
    """Whether the system python can import `name`."""
    code = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({name!r}) is None)"
    return subprocess.run([sys.executable, "-c", code]).returncode == 0


def moons_data(n: int = 100, noise: float = 0.1, seed: int = 1337) -> tuple[list, list]:
    """Two interleaving half circles, as sklearn's make_moons draws them; labels -1 and +1."""
    rng = random.Random(seed)
    n_outer = n // 2
    n_inner = n - n_outer
    points, labels = [], []
    for i in range(n_outer):
        t = math.pi * i / (n_outer - 1)
        points.append([math.cos(t), math.sin(t)])
        labels.append(-1.0)
    for i in range(n_inner):
        t = math.pi * i / (n_inner - 1)
        points.append([1.0 - math.cos(t), 0.5 - math.sin(t)])
        labels.append(1.0)
    points = [[x + rng.gauss(0.0, noise), y + rng.gauss(0.0, noise)] for x, y in points]
    return points, labels


def initial_weights(sizes: list[int], seed: int = 1337) -> list[float]:
    """MLP parameters in `parameters()` order: each neuron's weights, uniform in [-1, 1], then 0."""
    rng = random.Random(seed)
    weights = []
    for nin, nout in zip(sizes, sizes[1:]):
        for _ in range(nout):
            weights += [rng.uniform(-1.0, 1.0) for _ in range(nin)] + [0.0]
    return weights


def run_job(engine: str, job: dict, timeout: float = 900.0, repo: str = REPO) -> dict:
    """Run one workload in a fresh process of the right python; the parsed JSON result.

    `repo` is the checkout whose `micrograd` the engine "ours" imports (compare.py passes another).
    """
    python = VENV_PYTHON if engine == "0.1.0" else sys.executable
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env.pop("PYTHONPATH", None)
    payload = json.dumps({**job, "engine": engine, "repo": repo})
    try:
        done = subprocess.run(
            [python, os.path.join(HERE, "workloads.py")],
            input=payload,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=HERE,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s"}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {done.returncode}: {last}"}
    return json.loads(done.stdout)


def fmt_time(seconds: float) -> str:
    """Seconds with a readable unit."""
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.0f} µs"


def ratio(reference: float | None, ours: float | None) -> str:
    """How many times faster (or smaller) `ours` is than the reference."""
    if not reference or not ours:
        return "–"
    times = reference / ours
    return f"{times:,.1f}×" if times >= 10 else f"{times:.2g}×"


def table(header: list[str], rows: list[list[str]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# Engines whose steps take microseconds: the ratios between them are what the targets compare,
# so with --rounds they run round-robin, one job each per round, and report the median round.
BATCHED = ("tape-numpy", "tape-array", "tape-2tapes", "torch", "numpy", "numpy-tuned")


def interleaved(engines: list[str], rounds: int, job_of: Callable[[str], dict]) -> dict:
    """Each engine's job: the slow engines once, the batched ones `rounds` times in turn; the
    result of the round with the median step time."""
    results: dict[str, dict] = {}
    for engine in [e for e in engines if e not in BATCHED]:
        results[engine] = run_job(engine, job_of(engine))
    runs: dict[str, list[dict]] = {e: [] for e in engines if e in BATCHED}
    for _ in range(rounds):
        for engine in runs:
            runs[engine].append(run_job(engine, job_of(engine)))
    for engine, done in runs.items():
        good = sorted((r for r in done if "step_s" in r), key=lambda r: r["step_s"])
        results[engine] = good[len(good) // 2] if good else done[0]
    return {engine: results[engine] for engine in engines}


def bench_moons(engines: list[str], steps: dict[str, int], rounds: int = 1) -> tuple[str, dict]:
    """The moons demo: seconds per step (median), final loss and accuracy per engine."""
    points, labels = moons_data()
    job = {
        "workload": "moons",
        "X": points,
        "y": labels,
        "weights": initial_weights([2, 16, 16, 1]),
    }

    def job_of(engine: str) -> dict:
        print(f"  moons: {engine} ({steps[engine]} steps) ...", flush=True)
        return {**job, "steps": steps[engine]}

    results = interleaved(engines, rounds, job_of)
    reference = results.get("0.1.0", {}).get("step_s")
    torch_time = results.get("torch", {}).get("step_s")
    numpy_time = results.get("numpy", {}).get("step_s")
    rows = []
    for engine, r in results.items():
        if "error" in r:
            rows.append([engine, r["error"], "", "", "", "", "", ""])
            continue
        rows.append(
            [
                engine,
                str(r["steps"]),
                fmt_time(r["step_s"]),
                f"{r['loss']:.6f}",
                f"{r['acc']:.2f}",
                ratio(reference, r["step_s"]),
                ratio(torch_time, r["step_s"]),
                ratio(r["step_s"], numpy_time),
            ]
        )
    header = ["engine", "steps", "s/step (median)", "final loss", "accuracy"]
    header += ["vs 0.1.0", "vs torch", "times numpy's time"]
    return table(header, rows), results


def bench_digits(
    engines: list[str], steps: int, batches: list[int], rounds: int = 1
) -> tuple[str, dict]:
    """Softmax cross-entropy on the digits, MLP(64, [32, 10]), SGD: seconds per step per engine."""
    results = {}
    sizes = [64, 32, 10]
    weights = initial_weights(sizes)
    for batch in batches:

        def job_of(engine: str, batch: int = batch) -> dict:
            print(f"  digits: {engine} batch {batch} ...", flush=True)
            job = {"workload": "digits", "n": 1797 if batch > 1000 else 1792, "hidden": 32}
            job.update(batch=batch, steps=steps, lr=0.1, weights=weights)
            return job

        for engine, result in interleaved(engines, rounds, job_of).items():
            results[(engine, batch)] = result
    rows = []
    for batch in batches:
        torch_time = results.get(("torch", batch), {}).get("step_s")
        numpy_time = results.get(("numpy", batch), {}).get("step_s")
        for engine in engines:
            r = results[(engine, batch)]
            if "error" in r:
                rows.append([f"{batch:,}", engine, r["error"], "", "", "", ""])
                continue
            rows.append(
                [
                    f"{batch:,}",
                    engine,
                    fmt_time(r["step_s"]),
                    f"{r['first_loss']:.6f}",
                    f"{r['loss']:.6f}",
                    ratio(torch_time, r["step_s"]),
                    ratio(r["step_s"], numpy_time),
                ]
            )
    header = ["batch", "engine", "s/step (median)", "first loss", "final loss", "vs torch"]
    header += ["times numpy's time"]
    return table(header, rows), results


def bench_compile(sizes: list[tuple[int, int]]) -> tuple[str, dict]:
    """Tapes of MLP(nin, [hidden, 10]) of growing size: cost of tracing and building the plans."""
    results = {}
    rows = []
    for nin, hidden in sizes:
        print(f"  compile: MLP({nin}, [{hidden}, 10]) ...", flush=True)
        r = run_job("ours", {"workload": "compile", "nin": nin, "hidden": hidden})
        results[(nin, hidden)] = r
        if "error" in r:
            rows.append([f"MLP({nin}, [{hidden}, 10])", r["error"], *[""] * 7])
            continue
        n = r["instructions"]
        rows.append(
            [
                f"MLP({nin}, [{hidden}, 10])",
                f"{n:,}",
                fmt_time(r["trace_s"]),
                fmt_time(r["python_plan_s"]),
                f"{r['python_plan_s'] / n * 1e6:.2f}",
                f"{r['python_plan_bytes'] / 2**20:,.1f} ({r['python_plan_bytes'] / n:,.0f})",
                fmt_time(r["python_run_s"]),
                fmt_time(r["numpy_plan_s"]),
                f"{r['numpy_plan_bytes'] / 2**20:,.1f} ({r['numpy_plan_bytes'] / n:,.0f})",
            ]
        )
    header = ["tape", "instructions", "trace", "Python plan", "µs/instr."]
    header += ["peak MB (B/instr.)", "first run", "numpy plan", "numpy peak MB (B/instr.)"]
    return table(header, rows), results


def bench_dag(engines: list[str], sizes: list[int]) -> tuple[str, dict]:
    """Random expression graphs: ns per node to build and to backpropagate, bytes per node."""
    results = {}
    for n in sizes:
        for engine in engines:
            print(f"  dag: {engine} n={n:,} ...", flush=True)
            results[(engine, n)] = run_job(engine, {"workload": "dag", "n": n, "seed": 7})
    rows = []
    for n in sizes:
        ref = results.get(("0.1.0", n), {})
        floor = results.get(("floor", n), {}).get("build_ns")
        for engine in engines:
            r = results[(engine, n)]
            if "error" in r:
                rows.append([f"{n:,}", engine, r["error"], *[""] * 8])
                continue
            is_floor = engine == "floor"  # builds only: no backward, no gradients to compare
            same = math.isclose(r["check"], ref.get("check", r["check"]), rel_tol=1e-9)
            rows.append(
                [
                    f"{n:,}",
                    engine,
                    f"{r['build_ns']:,.0f}",
                    ratio(ref.get("build_ns"), r["build_ns"]),
                    f"{r['build_ns'] / floor:.1f}×" if floor else "–",
                    "–" if is_floor else f"{r['backward_ns']:,.0f}",
                    "–" if is_floor else ratio(ref.get("backward_ns"), r["backward_ns"]),
                    f"{r['build_nogc_ns']:,.0f}",
                    f"{r['bytes']:,.0f}",
                    f"{r['cyclic_garbage']:,}",
                    "–" if is_floor else "yes" if same else "NO",
                ]
            )
    header = ["N", "engine", "build ns/node", "vs 0.1.0", "times floor's time"]
    header += ["backward ns/node", "vs 0.1.0"]
    header += ["build ns/node, GC paused", "bytes/node", "objects in cycles", "same grads"]
    return table(header, rows), results


def bench_chain(engines: list[str], depths: list[int]) -> tuple[str, dict]:
    """x <- 0.001 + 1.0001 x repeated D times, then backward: does it work, and how long."""
    results = {}
    for depth in depths:
        for engine in engines:
            print(f"  chain: {engine} D={depth:,} ...", flush=True)
            results[(engine, depth)] = run_job(engine, {"workload": "chain", "depth": depth})
    rows = []
    for depth in depths:
        row = [f"{depth:,}"]
        for engine in engines:
            r = results[(engine, depth)]
            if r.get("ok"):
                row.append(f"ok, {fmt_time(r['seconds'])}")
            else:
                row.append(r.get("error", "wrong gradient"))
        rows.append(row)
    return table(["D", *engines], rows), results


def machine() -> str:
    """A one-line description of this machine and interpreter."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def write_between(path: str, begin: str, end: str, text: str) -> None:
    """Replace what lies between the markers `begin` and `end` in the file at `path`."""
    with open(path, encoding="utf-8") as f:
        content = f.read()
    start, stop = content.index(begin) + len(begin), content.index(end)
    with open(path, "w", encoding="utf-8") as f:
        f.write(content[:start] + "\n" + text + "\n" + content[stop:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few steps, no README")
    parser.add_argument("--skip-0.1.0", dest="skip_old", action="store_true")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="moons and digits: run the batched engines round-robin this many times and keep "
        "each one's median round (default 3)",
    )
    parser.add_argument(
        "--only",
        choices=["moons", "digits"],
        action="append",
        help="run only this workload (repeatable); prints the tables and writes nothing",
    )
    args = parser.parse_args()

    engines = ["ours"]
    if not args.skip_old and ensure_venv():
        engines.insert(0, "0.1.0")
    moons_engines = list(engines)
    digits_engines = []
    if has_module("numpy"):
        moons_engines += ["tape-numpy", "tape-array", "tape-2tapes"]
        digits_engines = ["tape-numpy", "tape-array", "numpy", "numpy-tuned"]
    moons_engines.append("tape-python")
    if has_module("torch"):
        moons_engines.append("torch")
        digits_engines.append("torch")
    if has_module("numpy"):
        moons_engines.append("numpy")

    if args.quick:
        steps = {engine: 3 for engine in moons_engines}
        sizes, depths = [10_000], [1_000, 10_000]
        digits_steps, compile_sizes = 3, [(64, 8)]
    else:
        steps = {engine: 100 for engine in moons_engines}
        sizes, depths = [10_000, 100_000, 1_000_000], [1_000, 10_000, 100_000, 1_000_000]
        digits_steps = 200
        # About 10,000, 50,000 and 200,000 instructions.
        compile_sizes = [(256, 19), (256, 94), (256, 375)]

    if args.only:
        if "moons" in args.only:
            print("moons (100 samples, MLP(2, [16, 16, 1]), full batch)")
            print(bench_moons(moons_engines, steps, args.rounds)[0])
        if "digits" in args.only and digits_engines:
            print("digits (MLP(64, [32, 10]), softmax cross-entropy, SGD on minibatches)")
            print(bench_digits(digits_engines, digits_steps, [32, 1797], args.rounds)[0])
        return 0

    print("moons (100 samples, MLP(2, [16, 16, 1]), full batch)")
    moons_table, _ = bench_moons(moons_engines, steps, args.rounds)
    digits_table = compile_table = ""
    if digits_engines:
        print("digits (MLP(64, [32, 10]), softmax cross-entropy, SGD on minibatches)")
        digits_table, _ = bench_digits(digits_engines, digits_steps, [32, 1797], args.rounds)
        print("compile (tapes of growing size)")
        compile_table, _ = bench_compile(compile_sizes)
    print("dag (random expression graph, then one backward)")
    dag_table, _ = bench_dag([*engines, "floor"], sizes)
    print("chain (x <- 0.001 + 1.0001 x, then backward)")
    chain_table, _ = bench_chain(engines, depths)

    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = (
        f"Run {stamp} on {machine()}.\n\n"
        f"**moons** (seconds per training step, median)\n\n{moons_table}\n\n"
        f"**digits** (seconds per training step, median)\n\n{digits_table}\n\n"
        f"**compile** (tracing a tape and building its replays)\n\n{compile_table}\n\n"
        f"**dag** (one run per size)\n\n{dag_table}\n\n"
        f"**chain**\n\n{chain_table}"
    )
    print()
    print(report)
    if not args.quick:
        write_between(README, BEGIN, END, report)
        write_between(SPEED_PAGE, "<!-- speed:begin -->", "<!-- speed:end -->", report)
        print(f"\nwritten to {os.path.relpath(README)} and {os.path.relpath(SPEED_PAGE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

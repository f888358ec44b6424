"""The eager engine's rows, this checkout against an earlier commit, side by side.

    python benchmarks/compare.py e7173d3              # 5 rounds
    python benchmarks/compare.py e7173d3 --rounds 9
    python benchmarks/compare.py e7173d3 --instructions   # counted by valgrind, not timed

A change to the engine's hot path reports these rows before and after. The earlier commit is
checked out into a temporary git worktree; both engines run the same workloads (the dag at 10^4
and 10^5 nodes, the 100,000-deep chain, the moons training step), each job in a fresh process,
alternating before/after round by round so that a change in the machine's load hits both sides.
The table gives each side's median over the rounds and the ratio after/before (below 1 is
faster). Nothing is written; on a shared machine treat a few percent as noise.

With `--instructions` the same rows are counted instead of timed: each is run under valgrind's
callgrind at two sizes and the difference of the instruction totals is taken (so start-up and
imports cancel out), with address randomisation off and the hash seed fixed. The counts then
repeat exactly whatever else the machine is doing, so they settle a "within 3%" question that
wall-clock medians on a shared machine cannot.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

from run import REPO, fmt_time, initial_weights, moons_data, run_job, table

# (row label, job, result key, unit): the unit is "ns" per node or "s".
DAG4 = {"workload": "dag", "n": 10_000, "seed": 7}
DAG5 = {"workload": "dag", "n": 100_000, "seed": 7}
ROWS = [
    ("dag 10^4: build ns/node", DAG4, "build_ns", "ns"),
    ("dag 10^4: backward ns/node", DAG4, "backward_ns", "ns"),
    ("dag 10^5: build ns/node", DAG5, "build_ns", "ns"),
    ("dag 10^5: backward ns/node", DAG5, "backward_ns", "ns"),
    ("chain 10^5: build + backward", {"workload": "chain", "depth": 100_000}, "seconds", "s"),
]


def moons_job(steps: int) -> dict:
    """Karpathy's demo step, the same data and initial weights as run.py's moons table."""
    xs, ys = moons_data()
    return {
        "workload": "moons",
        "X": xs,
        "y": ys,
        "steps": steps,
        "weights": initial_weights([2, 16, 16, 1]),
    }


def measure(repo: str, rounds_result: dict, moons: dict) -> None:
    """One round of every row for the engine in `repo`; appends to `rounds_result[label]`."""
    cache: dict[str, dict] = {}
    for label, job, key, _ in ROWS:
        name = repr(sorted(job.items()))
        if name not in cache:
            cache[name] = run_job("ours", job, repo=repo)
        result = cache[name]
        if "error" in result:
            sys.exit(f"{label} in {repo}: {result['error']}")
        rounds_result.setdefault(label, []).append(result[key])
    result = run_job("ours", moons, repo=repo)
    if "error" in result:
        sys.exit(f"moons in {repo}: {result['error']}")
    rounds_result.setdefault("moons: one training step", []).append(result["step_s"])


# Run inside valgrind by count_instructions: one workload at one size, nothing printed.
COUNTED = """
import json, sys
job = json.loads(sys.argv[1])
sys.path[:0] = [job["repo"], job["here"]]
import workloads
from micrograd.engine import Value
from micrograd.nn import MLP
if job["workload"] == "moons":
    workloads.moons_eager(Value, lambda: MLP(2, [16, 16, 1], seed=0), job)
else:
    leaves, steps = workloads.dag_spec(job["n"], 7)
    nodes = workloads.build_dag(Value, leaves, steps)
    if job["workload"] == "backward":
        nodes[-1].backward()
"""


def count_instructions(repo: str, job: dict) -> int:
    """Instructions valgrind counts for one run of COUNTED (start-up included)."""
    payload = json.dumps({**job, "repo": repo, "here": os.path.dirname(os.path.abspath(__file__))})
    # Without address-space randomisation and with a fixed hash seed the counts repeat exactly:
    # sets of Values hash by address, so their probing (and the count) moves with the layout.
    no_aslr = ["setarch", "-R"] if shutil.which("setarch") else []
    done = subprocess.run(
        [
            *no_aslr,
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-c",
            COUNTED,
            payload,
        ],
        env=dict(os.environ, PYTHONHASHSEED="0"),
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if not found:
        sys.exit(f"valgrind printed no instruction total:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def instruction_rows(base_dir: str) -> list[list[str]]:
    """Per-node (or per-step) instruction counts before and after, from differences of sizes."""
    moons = moons_job(1)
    cases = [
        ("dag: build, instructions/node", {"workload": "build"}, "n", 10_000, 30_000),
        ("dag: backward, instructions/node", {"workload": "backward"}, "n", 10_000, 30_000),
        ("moons: one training step, instructions", moons, "steps", 1, 3),
    ]
    rows = []
    for label, job, size_key, small, large in cases:
        counts = []
        for repo in (base_dir, REPO):
            print(f"{label}: {repo}", file=sys.stderr)
            total = {
                size: count_instructions(repo, {**job, size_key: size}) for size in (small, large)
            }
            if job["workload"] == "backward":  # subtract the build that precedes the backward
                total = {
                    size: total[size]
                    - count_instructions(repo, {"workload": "build", size_key: size})
                    for size in total
                }
            counts.append((total[large] - total[small]) / (large - small))
        rows.append(
            [label, f"{counts[0]:,.0f}", f"{counts[1]:,.0f}", f"{counts[1] / counts[0]:.3f}"]
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the earlier commit (any git revision)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--moons-steps", type=int, default=10)
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions with valgrind instead"
    )
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    moons = moons_job(args.moons_steps)
    with tempfile.TemporaryDirectory() as tmp:
        base_dir = os.path.join(tmp, "base")
        subprocess.run(
            ["git", "-C", REPO, "worktree", "add", "-q", "--detach", base_dir, args.base],
            check=True,
        )
        try:
            if args.instructions:
                rows = instruction_rows(base_dir)
                print(
                    f"Eager engine: {args.base} (before) against this checkout (after), "
                    "instructions counted by valgrind\n"
                )
                print(table(["row", "before", "after", "after/before"], rows))
                return 0
            before: dict[str, list[float]] = {}
            after: dict[str, list[float]] = {}
            for k in range(args.rounds):
                print(f"round {k + 1}/{args.rounds}", file=sys.stderr)
                measure(base_dir, before, moons)
                measure(REPO, after, moons)
        finally:
            subprocess.run(["git", "-C", REPO, "worktree", "remove", "--force", base_dir])
    units = {label: unit for label, _, _, unit in ROWS}
    rows = []
    for label in before:
        old, new = statistics.median(before[label]), statistics.median(after[label])
        unit = units.get(label, "s")
        show = (lambda x: f"{x:,.0f}") if unit == "ns" else fmt_time
        rows.append([label, show(old), show(new), f"{new / old:.3f}"])
    print(
        f"Eager engine: {args.base} (before) against this checkout (after), "
        f"medians of {args.rounds} alternating rounds\n"
    )
    print(table(["row", "before", "after", "after/before"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

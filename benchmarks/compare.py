"""The eager engine's rows, this checkout against an earlier commit, side by side.

    python benchmarks/compare.py e7173d3              # 5 rounds
    python benchmarks/compare.py e7173d3 --rounds 9

A change to the engine's hot path reports these rows before and after. The earlier commit is
checked out into a temporary git worktree; both engines run the same workloads (the dag at 10^4
and 10^5 nodes, the 100,000-deep chain, the moons training step), each job in a fresh process,
alternating before/after round by round so that a change in the machine's load hits both sides.
The table gives each side's median over the rounds and the ratio after/before (below 1 is
faster). Nothing is written; on a shared machine treat a few percent as noise.
"""

from __future__ import annotations

import argparse
import os
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the earlier commit (any git revision)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--moons-steps", type=int, default=10)
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

"""Time the commands the README and the notebooks quote, on this machine, and say which machine.

    python benchmarks/timings.py [--skip-tests] [--install] [--write benchmarks/timings.md]

Each command runs once, as a user runs it, from a scratch folder where it writes files:

- `install`: a fresh virtual environment and `pip install -e ".[test]"` (only with --install);
- `tests`: the README's test command, `python -m pytest` (left out with --skip-tests);
- `quick loop`: `python -m pytest -m "not slow"`;
- `demo`, `demo --engine eager` and `demo digits`, with the training time each prints;
- `playground`: the page's first graph after load and after a reload, as measured by the page
  itself (`window.playground.timings`, printed by tests/playground/test_playground_browser.py), when
  MICROGRAD_PLAYGROUND_ASSETS names the npm packs of its assets and Chromium is installed.

Wall time is the elapsed time; CPU time is the user and system time of the command and the
processes it waited for. The machine (processor, cores, Python) and the 1-minute load average
before and after each command are printed with the numbers, since on a shared machine the load
explains most of the spread. Nothing here is part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Timing:
    name: str
    command: str
    wall: float
    cpu: float
    load_before: float
    load_after: float
    output: str = ""
    note: str = ""


def machine() -> str:
    """Processor, core count, Python and OS, in one line."""
    processor = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                processor = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    python = platform.python_version()
    return f"{processor}, {os.cpu_count()} cores, Python {python}, {platform.system()}"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(name: str, command: list[str], cwd: Path, env: dict[str, str] | None = None) -> Timing:
    """Run one command to completion; a failure stops the script with the command's output."""
    load_before = os.getloadavg()[0]
    cpu_before = children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    cpu = children_cpu() - cpu_before
    if done.returncode != 0:
        output = done.stdout + done.stderr
        sys.exit(f"{name}: {' '.join(command)} exited {done.returncode}\n{output}")
    timing = Timing(name, " ".join(command[2:]), wall, cpu, load_before, os.getloadavg()[0])
    timing.output = done.stdout
    return timing


def playground(python: str, scratch: Path) -> Timing | None:
    """The page's own first-graph times (load, then reload), or None when it cannot run here."""
    if not os.environ.get("MICROGRAD_PLAYGROUND_ASSETS"):
        print("playground: skipped (MICROGRAD_PLAYGROUND_ASSETS is not set)", file=sys.stderr)
        return None
    tests = "first_graph_is_drawn or address_restores"
    timing = run(
        "playground",
        [python, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "-k", tests,
         str(ROOT / "tests" / "playground" / "test_playground_browser.py")],
        cwd=scratch,
    )  # fmt: skip
    found = re.findall(r"first graph after (?:a reload )?([\d.]+) s", timing.output)
    seconds = [float(s) for s in found]
    if len(seconds) != 2:
        print("playground: skipped (the browser tests did not run)", file=sys.stderr)
        return None
    timing.command = "first graph, page's own timer"
    timing.wall, timing.cpu = seconds[0], float("nan")
    timing.note = f"{seconds[1]:.1f} s on a reload"
    return timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-tests", action="store_true", help="leave out the full suite")
    parser.add_argument("--install", action="store_true", help="time a fresh install too")
    parser.add_argument("--write", type=Path, help="also write the table to this Markdown file")
    args = parser.parse_args()

    python = sys.executable
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    timings: list[Timing] = []
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        if args.install:
            venv = scratch / "venv"
            timings.append(run("venv", [python, "-m", "venv", str(venv)], cwd=scratch))
            pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-e"]
            timings.append(run("install", [*pip, f"{ROOT}[test]"], cwd=scratch))
        suite = [python, "-m", "pytest", "-q"]
        runs = [("quick loop", [*suite, "-m", "not slow"])]
        if not args.skip_tests:
            runs.insert(0, ("tests", suite))
        for name, command in runs:
            timing = run(name, command, cwd=ROOT)
            timing.note = timing.output.strip().splitlines()[-1].strip("= ")  # pytest's summary
            timings.append(timing)
        cli = [python, "-m", "micrograd"]
        for name, command in [
            ("demo", ["demo"]),
            ("demo, eager", ["demo", "--engine", "eager", "--out", "eager"]),
            ("demo digits", ["demo", "digits"]),
        ]:
            timing = run(name, [*cli, *command], cwd=scratch, env=env)
            # What the command reports itself: the training alone, without start-up and plots.
            trained = re.search(r"done in ([\d.]+) s", timing.output)
            timing.note = f"training {trained[1]} s" if trained else ""
            timings.append(timing)
        page = playground(python, scratch)
        if page is not None:
            timings.append(page)

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Measured {stamp} on {machine()}.",
        "",
        "| what | command | wall | CPU | load before → after | |",
        "|---|---|---|---|---|---|",
    ]
    for t in timings:
        cpu = "–" if t.cpu != t.cpu else f"{t.cpu:.0f} s"
        extra = t.note
        lines.append(
            f"| {t.name} | `{t.command}` | {t.wall:.1f} s | {cpu} "
            f"| {t.load_before:.1f} → {t.load_after:.1f} | {extra} |"
        )
    table = "\n".join(lines) + "\n"
    print(table)
    if args.write:
        title = "# Timings of the commands the README quotes\n\n"
        how = f"Written by `python benchmarks/timings.py {' '.join(sys.argv[1:])}`. "
        args.write.write_text(title + how + table, encoding="utf-8")


if __name__ == "__main__":
    main()

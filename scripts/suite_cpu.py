"""The project's tests, with the CPU each one cost: the whole machine's busy time (every core and every
process: ranks, forkservers, the subprocesses a test starts) read from /proc/stat before and after each
test, so the figures are only meaningful on an otherwise idle machine. Linux only.

    python scripts/suite_cpu.py [PYTEST_ARGS...]

Runs pytest in this process, from the checkout's root as `python -m pytest` would, with the given
arguments; writes every test's row to suite-cpu.json there and prints the costliest test functions
(parameters folded together). docs/performance.md ("The suite's CPU, per test") was measured with it.
Two cores give at most twice the wall time in CPU: the totals it prints say how far the suite is from that.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OUT = "suite-cpu.json"
SHOWN = 20


def busy_s(stat: str = "/proc/stat") -> float:
    """Seconds of CPU the machine has spent busy since boot, all cores together (idle and iowait left out)."""
    with open(stat) as f:
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, f.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class Probe:
    """A pytest plugin recording (test id, CPU seconds, wall seconds) for each test it sees run."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float]] = []

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None):
        cpu, wall = busy_s(), time.monotonic()
        yield
        self.rows.append((item.nodeid, busy_s() - cpu, time.monotonic() - wall))


def by_function(rows: list[tuple[str, float, float]]) -> list[tuple[str, float, float, int]]:
    """(test function, CPU, wall, tests) for each test function, its parameters together, costliest first."""
    totals: dict[str, tuple[float, float, int]] = {}
    for nodeid, cpu, wall in rows:
        name = nodeid.split("[", 1)[0]
        total_cpu, total_wall, tests = totals.get(name, (0.0, 0.0, 0))
        totals[name] = (total_cpu + cpu, total_wall + wall, tests + 1)
    return sorted(((name, *total) for name, total in totals.items()), key=lambda group: -group[1])


def main(args: list[str]) -> int:
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))  # what `python -m` puts first: the checkout's top-level modules
    probe = Probe()
    code = pytest.main(args, plugins=[probe])
    with open(OUT, "w") as f:
        json.dump(probe.rows, f, indent=0)
    cpu = sum(row[1] for row in probe.rows)
    wall = sum(row[2] for row in probe.rows)
    print(f"\n{len(probe.rows)} tests: {cpu:.0f} s of CPU in {wall:.0f} s of wall on {os.cpu_count()} cores")
    for name, cpu, wall, n in by_function(probe.rows)[:SHOWN]:
        print(f"{cpu:7.1f} s CPU {wall:7.1f} s wall {n:4d}  {name}")
    print(f"every test's row: {OUT}")
    return int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Whole process trees end with their run: what an implementation starts (a child ignoring SIGTERM, a
double-forked daemon, a child with children of its own) is gone once the run is, however it ended:
normally, with a rank killed outright, or with the harness itself killed by SIGKILL.

The adapters (`tests.spawning_adapters`) record every pid they start; each case replays a two-rank
scenario through the command line and then waits for every recorded pid to be gone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness_util import alive, proc, wait_until
from tests.spawning_adapters import SPAWN_DIR_VARIABLE

pytestmark = pytest.mark.timeout(240)

STARTED_WITHIN_S = 120.0
GONE_WITHIN_S = 10.0
PER_RANK = {"IgnoresTermAdapter": 1, "DaemonAdapter": 1, "TreeAdapter": 3}
ENDINGS = {
    "completed": [],
    "rank killed": [{"op": "fault", "fault": {"kind": "kill"}}],
    "harness killed": [{"op": "fault", "fault": {"kind": "sleep", "seconds": 300}}],
}
CASES = [
    ("IgnoresTermAdapter", "completed"),
    ("DaemonAdapter", "completed"),
    ("TreeAdapter", "completed"),
    ("IgnoresTermAdapter", "rank killed"),
    ("DaemonAdapter", "rank killed"),
    ("DaemonAdapter", "harness killed"),
    ("TreeAdapter", "harness killed"),
]


def recorded_pids(folder: Path) -> list[int]:
    return [int(p.name) for p in folder.rglob("*") if p.is_file()]


@pytest.mark.parametrize(("adapter", "ending"), CASES, ids=[f"{a}-{e.replace(' ', '-')}" for a, e in CASES])
def test_processes_an_implementation_starts_end_with_the_run(adapter, ending, tmp_path):
    spawned = tmp_path / "spawned"
    spawned.mkdir()
    ops = [{"op": "germinate", "slot": "a"}, {"op": "advance", "slot": "a"}, *ENDINGS[ending]]
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({"world_size": 2, "slots": ["a"], "ops": ops, "deadline_s": 90}))
    expected = 2 * PER_RANK[adapter]
    command = [sys.executable, "-m", "harness", "replay", str(scenario), "--impl", f"tests.spawning_adapters:{adapter}"]
    with open(tmp_path / "out.txt", "w") as out:
        run = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, SPAWN_DIR_VARIABLE: str(spawned)},
        )
        watched = []
        try:
            started = wait_until(
                lambda: len(recorded_pids(spawned)) >= expected or run.poll() is not None, STARTED_WITHIN_S
            )
            assert started and len(recorded_pids(spawned)) >= expected, (tmp_path / "out.txt").read_text()
            watched = [proc(pid) for pid in recorded_pids(spawned)]
            if ending == "harness killed":
                run.kill()
            run.wait(timeout=120)
        finally:
            if run.poll() is None:
                run.kill()
                run.wait(timeout=30)
            survivors = _survivors(watched)
            for p in survivors:
                os.kill(p.pid, signal.SIGKILL)
    assert not survivors, f"still alive after the run: {survivors}\n" + (tmp_path / "out.txt").read_text()
    expected_code = {"completed": 0, "rank killed": 1, "harness killed": -signal.SIGKILL}[ending]
    assert run.returncode == expected_code, (tmp_path / "out.txt").read_text()


def _survivors(watched: list) -> list:
    wait_until(lambda: not any(alive(p) for p in watched), GONE_WITHIN_S)
    return [p for p in watched if alive(p)]

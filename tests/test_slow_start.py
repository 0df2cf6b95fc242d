"""An adapter whose import or constructor takes long is reported while it happens, rank by rank.

Both slow adapters are replayed at once: each run spends its time asleep on its ranks, so together they take
the time of one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from harness.rankside.slowstart import REPORT_AFTER_S
from tests.slow_adapters import SLOW_VARIABLE

SLOW_S = REPORT_AFTER_S + 2
RUN_TIMEOUT_S = 180
SLOW = {
    "tests.slow_import_adapter:Adapter": "importing `tests.slow_import_adapter`",
    "tests.slow_adapters:SlowConstructorAdapter": "constructing `tests.slow_adapters:SlowConstructorAdapter`",
}


@pytest.mark.timeout(RUN_TIMEOUT_S + 30)
def test_slow_adapter_is_reported_while_it_loads_its_module_or_builds(tmp_path):
    scenario = tmp_path / "scenario.json"
    scenario.write_text(
        json.dumps({"world_size": 2, "slots": ["a"], "ops": [{"op": "germinate", "slot": "a"}], "deadline_s": 120})
    )
    env = {**os.environ, SLOW_VARIABLE: str(SLOW_S)}
    runs = {
        impl: subprocess.Popen(
            [sys.executable, "-m", "harness", "replay", str(scenario), "--impl", impl],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for impl in SLOW
    }
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_S  # one bound for both: they run at the same time
        done = {impl: run.communicate(timeout=max(deadline - time.monotonic(), 0.1)) for impl, run in runs.items()}
    finally:
        for process in runs.values():
            if process.poll() is None:
                process.kill()
                process.communicate()
    for impl, doing in SLOW.items():
        stdout, stderr = done[impl]
        assert runs[impl].returncode == 0, stdout + stderr
        for rank in (0, 1):
            assert f"rank {rank} is still {doing} after {REPORT_AFTER_S:.0f} s" in stderr, stderr

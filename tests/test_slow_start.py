"""An adapter whose import or constructor takes long is reported while it happens, rank by rank."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from harness.rankside.slowstart import REPORT_AFTER_S
from tests.slow_adapters import SLOW_VARIABLE

SLOW_S = REPORT_AFTER_S + 2


@pytest.mark.parametrize(
    ("impl", "doing"),
    [
        ("tests.slow_import_adapter:Adapter", "importing `tests.slow_import_adapter`"),
        ("tests.slow_adapters:SlowConstructorAdapter", "constructing `tests.slow_adapters:SlowConstructorAdapter`"),
    ],
    ids=["import", "constructor"],
)
def test_slow_adapter_is_reported_while_it_loads(impl, doing, tmp_path):
    scenario = tmp_path / "scenario.json"
    scenario.write_text(
        json.dumps({"world_size": 2, "slots": ["a"], "ops": [{"op": "germinate", "slot": "a"}], "deadline_s": 120})
    )
    env = {**os.environ, SLOW_VARIABLE: str(SLOW_S)}
    command = [sys.executable, "-m", "harness", "replay", str(scenario), "--impl", impl]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    for rank in (0, 1):
        assert f"rank {rank} is still {doing} after {REPORT_AFTER_S:.0f} s" in done.stderr, done.stderr

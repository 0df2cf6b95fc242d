"""A certification interrupted by SIGINT or SIGTERM stops within seconds, leaves no process, and writes a
certificate that claims no more than it checked."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from tests.harness_util import harness_command, marked, wait_until

STOP_WITHIN_S = 10.0
REPEAT_TIMEOUT_S = 300


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_certification_is_inconclusive_and_leaves_nothing(sig, tmp_path):
    mark = uuid.uuid4().hex
    env = {**os.environ, "LIFECYCLE_TEST_MARK": mark, "PYTHONUNBUFFERED": "1"}
    command = harness_command("certify", "--corpus", "64", "--out", str(tmp_path))
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("certifying"), first
        running = wait_until(lambda: len(marked(f"LIFECYCLE_TEST_MARK={mark}")) >= 4, 60.0)
        assert running, "the certification never started its ranks"
        proc.send_signal(sig)
        sent = time.monotonic()
        proc.wait(timeout=STOP_WITHIN_S)
        assert time.monotonic() - sent < STOP_WITHIN_S
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == 2, proc.stdout.read()
    cert = json.loads((tmp_path / "certificate.json").read_text())
    assert cert["verdict"] == "inconclusive" and cert["interrupted"] is True
    unchecked = [c for c in cert["clauses"] if c["status"] == "error"]
    assert unchecked and all("interrupted" in c["reason"] for c in unchecked)
    assert all(c["status"] in ("pass", "error") for c in cert["clauses"])
    assert wait_until(lambda: not marked(f"LIFECYCLE_TEST_MARK={mark}"), 10.0), marked(f"LIFECYCLE_TEST_MARK={mark}")


@pytest.mark.timeout(REPEAT_TIMEOUT_S + 30)
def test_repeat_reports_identical_runs(tmp_path):
    """Two runs of one profile at two world sizes: what `--repeat` compares does not depend on how much is run."""
    command = [sys.executable, "-m", "harness", "certify", "--repeat", "2", "--profile", "core", "--world-sizes", "1,2"]
    command += ["--corpus", "1"]
    done = subprocess.run([*command, "--out", str(tmp_path)], capture_output=True, text=True, timeout=REPEAT_TIMEOUT_S)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all 2 runs identical" in done.stdout

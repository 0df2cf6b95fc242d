"""Bad input gets one clear line and exit code 2: never a traceback wall, a hang or a leftover process.

Bad options and scenario files, one line each, are the table of `test_bad_input_table.py`; here, what
goes wrong only once a run has started: an adapter that cannot be built, a reader that goes away (an adapter
method that raises: `test_routes_agree.py`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from tests.harness_util import marked, wait_until

CLOSED_OUTPUT_WAIT_S = 120

CERTIFY = ["certify", "--world-sizes", "2", "--profile", "core", "--corpus", "2"]


def test_adapter_whose_constructor_raises_is_an_error_of_every_clause_and_leaves_no_process(tmp_path):
    mark = f"LIFECYCLE_TEST_MARK={uuid.uuid4().hex}"
    command = [sys.executable, "-m", "harness", *CERTIFY, "--impl", "tests.spec_adapters:ExplodingAdapter"]
    env = {**os.environ, mark.split("=")[0]: mark.split("=")[1]}
    done = subprocess.run([*command, "--out", str(tmp_path)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert wait_until(lambda: not marked(mark), 10.0), f"left running: {marked(mark)}"
    cert = json.loads((tmp_path / "certificate.json").read_text())
    assert cert["verdict"] == "inconclusive"
    assert {c["status"] for c in cert["clauses"]} == {"error"}
    errors = [r["error"] for c in cert["clauses"] for r in c["evidence"]["ranks"] if r["error"]]
    assert errors and all("boom: the adapter cannot be built" in e["traceback"] for e in errors)


@pytest.mark.timeout(CLOSED_OUTPUT_WAIT_S + 30)
def test_reader_closing_the_output_early_is_no_traceback(tmp_path):
    """The write that meets the closed pipe is the first clause's line: one clause at one rank, soon after."""
    command = [sys.executable, "-m", "harness", "certify", "--profile", "core", "--world-sizes", "1", "--corpus", "1"]
    command += ["--out", str(tmp_path)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().startswith("certifying")
    proc.stdout.close()
    try:
        assert proc.wait(timeout=CLOSED_OUTPUT_WAIT_S) == 2
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Traceback" not in proc.stderr.read()

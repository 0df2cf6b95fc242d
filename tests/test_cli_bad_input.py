"""Bad input gets one clear line and exit code 2: never a traceback wall, a hang or a leftover process.

Bad options and scenario files, one line each, are the table of `test_bad_input_table.py`; here, what
goes wrong only once a run has started: an adapter that cannot be built, a reader that goes away (an adapter
method that raises: `test_routes_agree.py`).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import uuid

import pytest

import harness as harness_package
from harness.spec.implementation import describe_implementation
from harness.spec.output.certificate import replay_command
from tests.harness_util import marked, wait_until

CLOSED_OUTPUT_WAIT_S = 120

CERTIFY = ["certify", "--world-sizes", "2", "--profile", "core", "--corpus", "2"]


def harness(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=timeout)


def assert_one_line_error(done: subprocess.CompletedProcess, expected: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("error: ") and expected in lines[0], lines[0]


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


ADAPTER_ELSEWHERE = "from reference_impl.adapter import Adapter\n"


def test_a_printed_replay_command_carries_the_suite_and_an_adapter_found_elsewhere(tmp_path, monkeypatch):
    """An adapter found through a folder of its own, and a suite run from its checkout: the printed command,
    run from another folder without PYTHONPATH, finds both."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "trust_adapter_elsewhere.py").write_text(ADAPTER_ELSEWHERE)
    monkeypatch.syspath_prepend(str(elsewhere))
    implementation = describe_implementation("trust_adapter_elsewhere:Adapter")
    checkout = os.path.dirname(os.path.dirname(os.path.abspath(harness_package.__file__)))
    assert implementation.pythonpath == (checkout, str(elsewhere))
    command = replay_command({"scenario_file": "x.json", "pythonpath": list(implementation.pythonpath)}, "C1")
    pythonpath = shlex.split(command)[0].removeprefix("PYTHONPATH=")
    assert pythonpath == os.pathsep.join(implementation.pythonpath)
    probe = "import harness, reference_impl, trust_adapter_elsewhere"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": pythonpath}
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_replay_of_evidence_whose_adapter_is_not_importable_here_names_the_recorded_path(tmp_path):
    recorded = tmp_path / "evidence"
    evidence = tmp_path / "C1-x.json"
    scenario = {"name": "x", "world_size": 1, "slots": ["a"], "ops": [{"op": "germinate", "slot": "a"}]}
    evidence.write_text(
        json.dumps(
            {
                "format": "ddp-lifecycle-spec/evidence/v1",
                "clause": "C1",
                "implementation": "trust_adapter_absent:Adapter",
                "pythonpath": [str(recorded)],
                "scenario": scenario,
            }
        )
    )
    done = harness("replay", str(evidence))
    assert_one_line_error(done, f"the evidence recorded it imported from {recorded}")
    assert f"run PYTHONPATH={recorded} " in done.stderr and f"replay {evidence} --clause C1" in done.stderr

"""`python -m harness bench --quick`: the shape of its output only.

The benchmark is not a test: timings depend on the machine and its neighbours, so nothing here
asserts a figure, only that every key is present with the right type and per-size figures are
objects keyed by "2" and "4".
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

PER_SIZE = (
    "warm_scenarios_per_s",
    "fresh_scenarios_per_s",
    "warm_over_fresh",
    "sync_us",
    "raw_bcast_object_us",
    "tensor_bcast_us",
)
SCALARS = (
    "peer_spawn_scenarios_per_s",
    "warm_over_peer",
    "hang_report_latency_s",
    "world_rebuild_s",
    "torch_import_s",
    "certify_wall_s",
    "certify_hanging_wall_s",
    "certify_crashing_wall_s",
    "certify_peak_rss_mb",
    "certify_peak_tmp_mb",
    "certify_ddp_wall_s",
    "certify_resume_wall_s",
)
RUN_TIMEOUT_S = 420
pytestmark = pytest.mark.timeout(RUN_TIMEOUT_S + 30)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One quick run in its own process group, killed as a whole if it overruns."""
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", "bench", "--quick", "--out", str(out)],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"bench --quick did not end within {RUN_TIMEOUT_S}s")
    assert process.returncode == 0, stderr
    with open(out) as f:
        return json.load(f), stdout


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def test_json_has_exactly_the_issue_keys(quick_run):
    figures, _ = quick_run
    assert set(figures) == {*PER_SIZE, *SCALARS, "environment"}


def test_per_size_figures_are_numbers_keyed_by_size(quick_run):
    figures, _ = quick_run
    for key in PER_SIZE:
        assert set(figures[key]) == {"2", "4"}, key
        assert all(is_number(v) for v in figures[key].values()), key


def test_scalars_are_numbers(quick_run):
    figures, _ = quick_run
    assert all(is_number(figures[key]) for key in SCALARS)


def test_environment(quick_run):
    env = quick_run[0]["environment"]
    assert set(env) == {"cores", "python", "torch"}
    assert isinstance(env["cores"], int) and isinstance(env["python"], str) and isinstance(env["torch"], str)


def test_table_lists_every_figure_and_target(quick_run):
    _, table = quick_run
    assert table.splitlines()[0].split() == ["world", "size", "2", "4"]
    for key in SCALARS:
        assert key in table
    assert "targets:" in table

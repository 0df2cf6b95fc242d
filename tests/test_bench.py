"""`python -m harness bench`: the shape of its output, and each measurement taken once at its smallest size.

The benchmark is not a test: timings depend on the machine and its neighbours, so nothing here asserts a
figure. How the figures are assembled, written and tabulated is checked through `harness bench --quick`
with the measurements stubbed out (they would take minutes); each measurement is then taken for real,
once, with the smallest counts, so every one still runs real processes and returns a number.
"""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from harness import WorldPool
from harness.cli import commands as cli
from harness.tools import bench

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
SMALLEST_CERTIFY = ("--world-sizes", "2", "--profile", "core", "--corpus", "1")  # C9 needs a peer
pytestmark = pytest.mark.timeout(300)


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """`harness bench --quick --out FILE` in this process, each measurement a stub that records its call."""
    calls: list[tuple] = []

    def stub(name: str, value: object):
        def measure(*args: object, **kwargs: object) -> object:
            calls.append((name, *args, *kwargs.values()))
            return value

        return measure

    stubs = {
        "_median_round_trip": stub("round_trip", 0.01),
        "_median_peer_spawn": stub("peer_spawn", 3.0),
        "_hang_and_rebuild": stub("hang_and_rebuild", (0.05, 1.5)),
        "_sync_costs": stub("sync_costs", {"sync": 300.0, "raw_bcast_object": 280.0, "tensor_bcast": 40.0}),
        "_median_torch_import": stub("torch_import", 2.5),
        "_certify": stub("certify", (8.0, 900.0, 3.5)),
        "_certify_profile": stub("certify_profile", 4.0),
    }
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        for name, measure in stubs.items():
            patch.setattr(bench, name, measure)
        code = cli.main(["bench", "--quick", "--out", str(out)])
    assert code == 0, stderr.getvalue()
    return json.loads(out.read_text()), stdout.getvalue(), calls


def test_json_has_exactly_the_issue_keys(quick_run):
    figures, _, _ = quick_run
    assert set(figures) == {*PER_SIZE, *SCALARS, "environment"}


def test_per_size_figures_are_numbers_keyed_by_size(quick_run):
    figures, _, _ = quick_run
    for key in PER_SIZE:
        assert set(figures[key]) == {"2", "4"}, key
        assert all(is_number(v) for v in figures[key].values()), key


def test_scalars_are_numbers(quick_run):
    figures, _, _ = quick_run
    assert all(is_number(figures[key]) for key in SCALARS)


def test_environment(quick_run):
    env = quick_run[0]["environment"]
    assert set(env) == {"cores", "python", "torch"}
    assert isinstance(env["cores"], int) and isinstance(env["python"], str) and isinstance(env["torch"], str)


def test_table_lists_every_figure_and_target(quick_run):
    _, table, _ = quick_run
    assert table.splitlines()[0].split() == ["world", "size", "2", "4"]
    for key in SCALARS:
        assert key in table
    assert "targets:" in table
    assert table.count(" met") + table.count(" MISSED") == len(bench.TARGETS)


def test_quick_mode_takes_small_counts_and_certifies_each_implementation_once(quick_run):
    _, _, calls = quick_run
    quick = bench.QUICK
    certified = [call[1:] for call in calls if call[0] == "certify"]
    assert certified == [
        (quick.certify_args,),
        (quick.certify_args, bench.HANGING, bench.NOT_CERTIFIED_EXIT),
        (quick.certify_args, bench.CRASHING, bench.NOT_CERTIFIED_EXIT),
        ((*bench.FLOODING_ARGS, "--world-sizes", "2"), bench.FLOODING),
    ]
    profiles = [call[1:] for call in calls if call[0] == "certify_profile"]
    assert profiles == [("ddp", bench.QUICK_DDP_WORLD_SIZES), ("resume", bench.QUICK_DDP_WORLD_SIZES)]
    round_trips = [call[2:4] for call in calls if call[0] == "round_trip"]
    assert sorted(round_trips) == sorted([(size, runs) for size in bench.SIZES for runs in (quick.warm, quick.fresh)])
    sync_costs = [call[1:] for call in calls if call[0] == "sync_costs"]
    assert sync_costs == [(size, quick.sync_rounds) for size in bench.SIZES]
    assert [call[1:] for call in calls if call[0] == "peer_spawn"] == [(bench.PEER_SIZE, quick.peer)]


def test_round_trips_in_a_warm_and_a_fresh_world_are_timed():
    assert bench._median_round_trip(WorldPool(), 2, 1, warm_up=True) > 0
    assert bench._median_round_trip(WorldPool(fresh=True), 2, 1, warm_up=False) > 0


def test_a_spawned_peer_world_is_timed():
    assert bench._median_peer_spawn(bench.PEER_SIZE, 1) > 0


def test_a_hang_is_reported_and_its_world_rebuilt():
    latency, rebuild = bench._hang_and_rebuild()
    assert is_number(latency) and is_number(rebuild) and rebuild > 0


def test_sync_rounds_are_timed_inside_ranks():
    costs = bench._sync_costs(2, 2)
    assert set(costs) == set(bench.SYNC_METHODS) and all(is_number(v) and v > 0 for v in costs.values()), costs


def test_torch_import_is_timed():
    assert bench._median_torch_import(1) > 0


def test_a_certification_is_timed_with_its_memory_and_temporary_files():
    wall, rss_mb, tmp_mb = bench._certify(SMALLEST_CERTIFY)
    assert wall > 0 and rss_mb > 0 and is_number(tmp_mb) and tmp_mb >= 0


def test_a_certification_ending_with_another_code_is_a_bench_error():
    with pytest.raises(bench.BenchError, match="certify exited with 2, not 0"):
        bench._certify(("--world-sizes", "0"))


def test_a_profile_in_warm_worlds_is_timed():
    """One profile suffices: `ddp` and `resume` take the same path, and the reference's certification on
    both is the certification tests' job."""
    assert bench._certify_profile("resume", bench.QUICK_DDP_WORLD_SIZES) > 0

"""Rank output is bounded: a rank keeps the first and last bytes of each scenario's output, with a line
saying how much it dropped, so a flooding implementation fills neither the disk nor the report."""

from __future__ import annotations

import os

from harness import Op, Scenario
from harness.rankside.ranklog import HEAD_BYTES, TAIL_BYTES, BoundedLog, read_output
from tests.harness_util import world_procs

FLOODING = "tests.bad_impls.flooding:Adapter"
MARGIN = 1024


def flood(world_size: int, advances: int) -> Scenario:
    ops = [Op("germinate", "a")] + [Op("advance", "a") for _ in range(advances)]
    return Scenario("flood", world_size, ["a"], ops, deadline_s=120)


def test_flooding_rank_keeps_both_ends_within_the_bound(world_pool):
    scenario = flood(2, 3)
    world, _ = world_procs(world_pool, scenario)
    result = world_pool.run(FLOODING, scenario, deadline_s=120)
    assert result.ok, result.render()
    for rank, outcome in enumerate(result.outcomes):
        log = os.path.join(world.folder, f"rank{rank}.log")
        assert os.path.getsize(log) <= HEAD_BYTES + TAIL_BYTES + MARGIN
        with open(log, "rb") as f:
            text = f.read().decode()
        assert text.startswith(f"flood begins: rank {rank} call 1\n")
        assert text.rstrip().endswith(f"flood ends: rank {rank} call 3")
        assert "bytes of output dropped" in text
        assert outcome.output.startswith(f"flood begins: rank {rank} call 1")
        assert outcome.output.rstrip().endswith(f"flood ends: rank {rank} call 3")
        assert len(outcome.output) < 100_000


def test_each_scenario_starts_a_new_log(world_pool):
    world_pool.run(FLOODING, flood(1, 1), deadline_s=120)
    result = world_pool.run(FLOODING, flood(1, 2), deadline_s=120)
    assert result.ok, result.render()
    assert result.outcomes[0].output.startswith("flood begins: rank 0 call 1")
    assert "flood ends: rank 0 call 2" in result.outcomes[0].output


def test_head_and_tail_are_kept_with_the_count_of_dropped_bytes(tmp_path):
    path = tmp_path / "rank.log"
    log = BoundedLog(str(path), head_bytes=6, tail_bytes=4)
    log._take(b"abc")
    log._write_tail()
    assert path.read_bytes() == b"abc"
    log._take(b"defghij")
    log._take(b"klmnop")
    log._write_tail()
    assert (
        path.read_bytes()
        == b"abcdef" + b"\n[... 6 bytes of output dropped: the log keeps the first 6 and last 4 ...]\nmnop"
    )


def test_report_reads_only_the_ends_of_a_long_log(tmp_path):
    path = tmp_path / "rank.log"
    path.write_bytes(b"a" * 10 + b"b" * 100 + b"c" * 10)
    assert read_output(str(path), head=10, tail=10) == (
        "a" * 10 + "\n[... 100 bytes of this rank's log left out of the report ...]\n" + "c" * 10
    )
    assert read_output(str(tmp_path / "absent.log")) == ""

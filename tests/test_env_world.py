"""A launcher's world without a launcher: a rank's records kept in memory, and its stop after a failed collective."""

from __future__ import annotations

import os

import pytest

from harness import Op, Scenario, WorldPool
from harness.rankside.collectives import CollectiveMonitor
from harness.rankside.rank import RankRun
from harness.records.report import RankOutcome
from harness.worlds.env_world import _Inbox, _outcome
from tests.harness_util import REFERENCE, comparable


def run_here(scenario: Scenario, monitor: CollectiveMonitor, stop_on_failed_collective: bool = True) -> RankOutcome:
    inbox = _Inbox()
    RankRun(0, REFERENCE, scenario, inbox, monitor, stop_on_failed_collective=stop_on_failed_collective).run()
    return _outcome(0, inbox.messages)


def test_records_kept_in_memory_make_the_outcome_a_pipe_makes() -> None:
    ops = [Op("germinate", "a"), Op("advance", "a", local=True), Op("advance", "a", local=False), Op("prune", "a")]
    scenario = Scenario("solo", 1, ["a"], ops, process_group=False)
    here = run_here(scenario, CollectiveMonitor([0, 0], 0))
    with WorldPool() as pool:
        piped = pool.run(REFERENCE, scenario).outcomes[0]
    assert (here.status, here.error, here.snapshots) == (piped.status, piped.error, piped.snapshots)
    assert comparable(here.records) == comparable(piped.records)
    assert (here.collective_totals, here.collective_failed) == (piped.collective_totals, piped.collective_failed)


@pytest.mark.parametrize(("stop", "calls", "status"), [(False, 2, "ok"), (True, 1, "raised")])
def test_once_a_collective_failed_a_rank_stops_at_the_next_error(stop: bool, calls: int, status: str) -> None:
    monitor = CollectiveMonitor([0, 0], 0)
    monitor.failed = True
    ops = [Op("fault", fault={"kind": "raise"}, continue_on_error=True) for _ in range(2)]
    outcome = run_here(Scenario("errors allowed", 1, [], ops, process_group=False), monitor, stop)
    assert (len(outcome.records), outcome.status) == (calls, status)


@pytest.mark.parametrize(("backend", "devices"), [("nccl", [3]), ("gloo", [])])
def test_joining_under_nccl_sets_the_local_rank_cuda_device_first_and_gloo_none(monkeypatch, backend, devices):
    """Without a GPU: under NCCL the rank takes `cuda:LOCAL_RANK` before it joins (and blocking wait,
    so a timed-out collective raises); under gloo no CUDA call is made. A refused join is one line."""
    import torch
    import torch.distributed as dist

    from harness.errors import WorldStartError
    from harness.worlds import env_world

    taken: list[int] = []
    for name, value in (("RANK", "3"), ("WORLD_SIZE", "4"), ("MASTER_ADDR", "127.0.0.1"), ("MASTER_PORT", "1")):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LOCAL_RANK", "3")
    monkeypatch.delenv("TORCH_NCCL_BLOCKING_WAIT", raising=False)
    monkeypatch.setattr(torch.cuda, "set_device", taken.append)

    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("no peer here")

    monkeypatch.setattr(dist, "init_process_group", refuse)
    with pytest.raises(WorldStartError, match=f"could not join the launcher's process group \\({backend}\\)"):
        env_world.join(backend, 5.0)
    assert taken == devices
    assert (os.environ.get("TORCH_NCCL_BLOCKING_WAIT") == "1") == (backend == "nccl")

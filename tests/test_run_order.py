"""A certification runs world size by world size and closes each size's worlds when it is done, while
each world still sees its scenarios in the order the clauses would run them one after the other.

Records only: a fake executor stands in for the worlds, so no process starts here.
"""

from __future__ import annotations

from harness.pool import WorldPool
from harness.spec.certify import _run_by_world_size
from harness.spec.clauses import REGISTRY
from harness.spec.runner import REFERENCE, ClauseRunner, describe_implementation

SIZES = [1, 2, 3, 4]


class Recorder:
    """Executor and pool at once: what ran, and when each world size was closed."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def run(self, impl: str, scenario):
        self.events.append(("run", scenario))
        return scenario.name

    def close_world_size(self, size: int) -> None:
        self.events.append(("close", size))


def test_scenarios_run_size_by_size_in_clause_order_and_each_size_closes_when_done():
    recorder = Recorder()
    runner = ClauseRunner(describe_implementation(REFERENCE), recorder)
    claimed = [c for c in REGISTRY if not c.requires - runner.implementation.capabilities]
    _run_by_world_size(runner, recorder, list(REGISTRY), SIZES)
    closes = [i for i, (kind, _) in enumerate(recorder.events) if kind == "close"]
    assert [recorder.events[i][1] for i in closes] == SIZES
    start = 0
    for size, end in zip(SIZES, closes, strict=True):
        ran = [s.name for _, s in recorder.events[start:end]]
        assert all(s.world_size == size for _, s in recorder.events[start:end])
        one_clause_after_another: dict[str, None] = {}
        for clause in claimed:
            for scenario in runner.scenarios(clause, SIZES):
                if scenario.world_size == size:
                    one_clause_after_another.setdefault(scenario.name)
        assert ran == list(one_clause_after_another), size
        start = end + 1
    ran_names = [s.name for kind, s in recorder.events if kind == "run"]
    assert len(ran_names) == len(set(ran_names)) == len(runner.results)


class FakeWorld:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_pool_closes_the_worlds_of_one_size_and_keeps_the_others():
    pool = WorldPool()
    configs = [pool.base.__class__(world_size=size, process_group=group) for size in (1, 2) for group in (True, False)]
    worlds = {config: FakeWorld() for config in configs}
    pool.worlds.update(worlds)
    pool.close_world_size(2)
    assert [c.world_size for c in pool.worlds] == [1, 1]
    assert [w.closed for c, w in worlds.items()] == [c.world_size == 2 for c in configs]

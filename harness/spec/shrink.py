"""Shrinking a failing scenario to a small one that fails the same clause, for the certificate."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from harness.report import ScenarioResult
from harness.scenario import Scenario

SHRINK_BUDGET_S = 8.0


def without_call(scenario: Scenario, index: int) -> Scenario:
    """`scenario` with call `index` removed from every rank's sequence, so the ranks stay aligned."""

    def drop(ops: list) -> list:
        return ops[:index] + ops[index + 1 :]

    return dataclasses.replace(
        scenario, ops=drop(scenario.ops), rank_ops={rank: drop(ops) for rank, ops in scenario.rank_ops.items()}
    )


def shrink(
    scenario: Scenario,
    result: ScenarioResult,
    still_fails: Callable[[Scenario], ScenarioResult | None],
    budget_s: float = SHRINK_BUDGET_S,
) -> tuple[Scenario, ScenarioResult]:
    """Remove calls one at a time, last first, keeping each removal after which the clause still fails.

    `still_fails` runs a candidate and returns its result when the clause fails on it, else None.
    The search is greedy and bounded by `budget_s`; what it returns always fails the clause.
    """
    end = time.monotonic() + budget_s
    index = max(len(scenario.ops_for(r)) for r in range(scenario.world_size)) - 1
    while index >= 0 and time.monotonic() < end:
        candidate = without_call(scenario, index)
        if all(candidate.ops_for(r) for r in range(candidate.world_size)):
            failing = still_fails(candidate)
            if failing is not None:
                scenario, result = candidate, failing
        index -= 1
    return dataclasses.replace(scenario, name=f"{scenario.name}-shrunk"), result

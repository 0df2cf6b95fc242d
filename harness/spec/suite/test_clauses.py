"""One test per clause and world size, against the implementation named by `--lifecycle-impl`.

The clause registry is the same one the certificate and SPEC.md are made from; a test ID carries the
clause ID (`test_clause[C1-agreement-ws2]`), so a JUnit report reads clause by clause.
"""

from __future__ import annotations

import pytest

from harness.spec.clauses import BY_ID, REGISTRY
from harness.spec.runner import NOT_CLAIMED, PASS, ClauseRunner
from harness.testing import configured_world_sizes


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "clause_id" in metafunc.fixturenames:
        cases = [(c.id, ws) for c in REGISTRY for ws in configured_world_sizes(metafunc.config)]
        ids = [f"{cid}-{BY_ID[cid].title.lower().replace(' ', '-')}-ws{ws}" for cid, ws in cases]
        metafunc.parametrize(("clause_id", "world_size"), cases, ids=ids)


def test_clause(clause_id: str, world_size: int, lifecycle_runner: ClauseRunner) -> None:
    outcome = lifecycle_runner.evaluate(BY_ID[clause_id], [world_size])
    if outcome.status == NOT_CLAIMED:
        pytest.skip(f"not claimed: {outcome.reason}")
    if outcome.scenarios == 0:
        pytest.skip(f"{clause_id} has no scenario at world size {world_size}")
    if outcome.status != PASS:
        evidence = outcome.evidence or {}
        details = "\n".join([*evidence.get("violations", []), evidence.get("report", "")])
        pytest.fail(f"{clause_id} {outcome.status}: {outcome.reason}\n{details}", pytrace=False)

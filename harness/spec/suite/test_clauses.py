"""One test per clause and world size, against the implementation named by `--lifecycle-impl`.

The clause registry is the same one the certificate and SPEC.md are made from. A test exists only for
the world sizes its clause's scenarios run at; its ID names the clause and the number of ranks
(`test_clause[C1-agreement-2-ranks]`), so `-k S1` selects S1 and nothing else, and each test carries
its profile as a marker (`-m core`). `--lifecycle-profile` narrows the run the same way.

A failed SHOULD clause is an xfail with the whole report as its reason: the certificate does not count
it against the verdict, so it does not fail the session either (`--runxfail` makes it fail). A failing
test whose ranks' report an earlier failing test of the session showed names that test instead of
repeating it (`harness.testing.report_once`), as the certificate does.
"""

from __future__ import annotations

import pytest

from ...records.statuses import ClauseStatus
from ...testing import configured_profile, configured_world_sizes, record_outcome, report_once, tolerated_failure
from ..clauses import BY_ID, REGISTRY, Plan
from ..judge.judging import judged_counts
from ..output.certificate import alone_caveat, replay_command
from ..runner import ClauseRunner

ALL_CAPABILITIES = frozenset({"scripted_gates", "metrics", "prune", "epoch_clock", "side_effects"})


def scenario_world_sizes(clause_id: str, requested: list[int]) -> list[int]:
    """The world sizes the clause's scenarios actually run at, for the requested ones."""
    sizes = {
        scenario.world_size
        for size in requested
        for scenario in BY_ID[clause_id].scenarios(Plan(size, tuple(requested), 0, 1, ALL_CAPABILITIES))
    }
    return sorted(sizes)


def _case_id(clause_id: str, world_size: int) -> str:
    slug = BY_ID[clause_id].title.lower().replace(" ", "-")
    return f"{clause_id}-{slug}-{world_size}-rank{'s' if world_size > 1 else ''}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "clause_id" not in metafunc.fixturenames:
        return
    requested = configured_world_sizes(metafunc.config)
    profile = configured_profile(metafunc.config)
    cases = [
        pytest.param(clause.id, size, id=_case_id(clause.id, size), marks=getattr(pytest.mark, clause.profile))
        for clause in REGISTRY
        if profile == "all" or clause.profile == profile
        for size in scenario_world_sizes(clause.id, requested)
    ]
    metafunc.parametrize(("clause_id", "world_size"), cases)


def test_clause(
    clause_id: str,
    world_size: int,
    lifecycle_runner: ClauseRunner,
    request: pytest.FixtureRequest,
) -> None:
    requested = configured_world_sizes(request.config)
    outcome = lifecycle_runner.evaluate(BY_ID[clause_id], requested, only_world_size=world_size)
    record_outcome(request.config, world_size, outcome)
    if outcome.status == ClauseStatus.NOT_CLAIMED:
        pytest.skip(f"not claimed: {outcome.reason}")
    if outcome.status == ClauseStatus.NOT_EXERCISED:
        pytest.skip(f"not exercised: {outcome.reason}")
    if outcome.status != ClauseStatus.PASS:
        evidence = outcome.evidence or {}
        counts = judged_counts(outcome.judged, outcome.unjudged)
        tolerated = tolerated_failure(outcome)
        level = f" ({outcome.clause.level}: not counted against the verdict)" if tolerated else ""
        violations = evidence.get("violations", [])
        lines = [f"{clause_id} {outcome.status}{level} ({counts}): {outcome.reason}"]
        lines += violations[1:] if violations[:1] == [outcome.reason] else violations  # the first is the reason
        lines += [f"not judged: {line}" for line in evidence.get("unjudged_calls", [])]
        if evidence.get("report"):  # an xfail's reason shows only on request: it never stands in for a failure's
            lines.append(evidence["report"] if tolerated else report_once(request.config, evidence, request.node.name))
        if evidence.get("scenario_file"):
            lines += [f"evidence: {evidence['scenario_file']}", f"replay: {replay_command(evidence, clause_id)}"]
            lines += [caveat] if (caveat := alone_caveat(evidence)) else []
        if tolerated:
            pytest.xfail("\n".join(lines))
        pytest.fail("\n".join(lines), pytrace=False)

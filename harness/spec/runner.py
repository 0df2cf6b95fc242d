"""Running clauses against an implementation: scenarios through warm worlds, checks, evidence.

Scenario results are memoised by name for the whole run, so the generated corpus that several
clauses read is run once. A clause fails on the first scenario with a violation; that scenario is
shrunk and saved as replayable JSON, and the clause's evidence points at it.

A world that cannot run a scenario (a launcher's world: `harness.launcher.ScenarioSkipped`) skips
it; the clause lists it, and a clause whose every scenario was skipped is `skipped`, which like
`not_claimed` is reported but does not count towards the verdict.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Protocol

from harness.adapter import AdapterLoadError, check_adapter, load_adapter_factory
from harness.launcher import ScenarioSkipped
from harness.report import ScenarioResult, render_report, to_jsonable
from harness.scenario import Scenario
from harness.spec.clauses import Clause, Plan
from harness.spec.shrink import shrink
from harness.world import WorldStartError

PASS = "pass"
FAIL = "fail"
NOT_CLAIMED = "not_claimed"
ERROR = "error"
SKIPPED = "skipped"
NOT_RUN = "not_run"
DEFAULT_CORPUS = 16
MAX_VIOLATIONS = 10


@dataclass
class ClauseOutcome:
    clause: Clause
    status: str
    scenarios: int = 0
    world_sizes: list[int] = field(default_factory=list)
    reason: str = ""
    evidence: dict | None = None
    skipped: list[str] = field(default_factory=list)


class Executor(Protocol):
    """What runs the scenarios: a `WorldPool` of spawned worlds, or a launcher's `EnvWorld`."""

    def run(self, impl: str, scenario: Scenario) -> ScenarioResult: ...


@dataclass
class Implementation:
    spec: str
    name: str
    version: str
    capabilities: frozenset[str]


def describe_implementation(spec: str) -> Implementation:
    """Name, version and capabilities of the adapter `spec` names, read in this process.

    An adapter class is not instantiated here: its constructor runs on the ranks, where an exception
    becomes an `error` of the clauses concerned, with its traceback in the evidence."""
    factory = load_adapter_factory(spec)
    adapter: object = factory
    if not (isinstance(factory, type) and all(hasattr(factory, k) for k in ("name", "version", "capabilities"))):
        try:
            adapter = factory()
        except Exception as exc:
            raise AdapterLoadError(f"the adapter factory {spec!r} raised: {type(exc).__name__}: {exc}") from exc
    check_adapter(adapter, spec)
    return Implementation(spec, str(adapter.name), str(adapter.version), frozenset(adapter.capabilities))


class ClauseRunner:
    def __init__(
        self,
        implementation: Implementation,
        pool: Executor,
        seed: int = 0,
        corpus: int = DEFAULT_CORPUS,
        evidence_dir: str | None = None,
    ) -> None:
        self.implementation = implementation
        self.pool = pool
        self.seed = seed
        self.corpus = corpus
        self.evidence_dir = evidence_dir
        self.results: dict[str, ScenarioResult] = {}

    def plan(self, world_size: int, world_sizes: list[int]) -> Plan:
        return Plan(world_size, tuple(world_sizes), self.seed, self.corpus, self.implementation.capabilities)

    def run(self, scenario: Scenario) -> ScenarioResult:
        if scenario.name not in self.results:
            self.results[scenario.name] = self.pool.run(self.implementation.spec, scenario)
        return self.results[scenario.name]

    def evaluate(self, clause: Clause, world_sizes: list[int]) -> ClauseOutcome:
        outcome = ClauseOutcome(clause, PASS, world_sizes=list(world_sizes))
        missing = clause.requires - self.implementation.capabilities
        if missing:
            outcome.status = NOT_CLAIMED
            outcome.reason = f"the adapter does not declare {', '.join(sorted(missing))}"
            return outcome
        unevaluated = []
        for world_size in world_sizes:
            for scenario in clause.scenarios(self.plan(world_size, world_sizes)):
                try:
                    result = self.run(scenario)
                except ScenarioSkipped as exc:
                    outcome.skipped.append(f"{scenario.name}: {exc}")
                    continue
                except WorldStartError as exc:
                    outcome.scenarios += 1
                    unevaluated.append(f"{scenario.name}: {str(exc).splitlines()[0]}")
                    continue
                outcome.scenarios += 1
                setup = [o for o in result.outcomes if o.error is not None]
                if setup:
                    unevaluated.append(
                        f"{scenario.name}: rank {setup[0].rank} could not set up: {_one_line(setup[0].error)}"
                    )
                    outcome.evidence = outcome.evidence or self._evidence(clause, scenario, result, [], shrunk=False)
                    continue
                violations = clause.check(result)
                if violations and outcome.status != FAIL:
                    outcome.status = FAIL
                    outcome.reason = violations[0]
                    outcome.evidence = self._failure_evidence(clause, scenario, result)
        if outcome.status != FAIL and unevaluated:
            outcome.status = ERROR
            outcome.reason = unevaluated[0]
        elif outcome.status == PASS and outcome.scenarios == 0 and outcome.skipped:
            outcome.status = SKIPPED
            outcome.reason = f"every scenario was skipped: {outcome.skipped[0]}"
        elif outcome.status == PASS and outcome.scenarios == 0:
            outcome.status = ERROR
            outcome.reason = f"no scenario checks this clause at world sizes {world_sizes}"
        return outcome

    def _failure_evidence(self, clause: Clause, scenario: Scenario, result: ScenarioResult) -> dict:
        def still_fails(candidate: Scenario) -> ScenarioResult | None:
            try:
                candidate_result = self.pool.run(self.implementation.spec, candidate)
            except (ScenarioSkipped, WorldStartError):
                return None
            return candidate_result if clause.check(candidate_result) else None

        small, small_result = shrink(scenario, result, still_fails)
        return self._evidence(clause, small, small_result, clause.check(small_result), shrunk=True)

    def _evidence(
        self, clause: Clause, scenario: Scenario, result: ScenarioResult, violations: list[str], shrunk: bool
    ) -> dict:
        evidence = {
            "scenario_name": scenario.name,
            "world_size": scenario.world_size,
            "shrunk": shrunk,
            "violations": violations[:MAX_VIOLATIONS],
            "report": render_report(result, output=False),
            "ranks": [
                {k: r[k] for k in ("rank", "status", "calls", "error", "signal", "exitcode", "stack")}
                for r in to_jsonable(result)["ranks"]
            ],
            "scenario": scenario.to_dict(),
            "scenario_file": None,
        }
        if self.evidence_dir:
            os.makedirs(self.evidence_dir, exist_ok=True)
            path = os.path.join(self.evidence_dir, f"{clause.id}-{scenario.name}.json")
            with open(path, "w") as f:
                json.dump(scenario.to_dict(), f, indent=1)
            evidence["scenario_file"] = path
        return evidence


def _one_line(error: dict) -> str:
    return f"{error['type']}: {' '.join(str(error['message']).split())[:200]}"

"""Running clauses against an implementation: scenarios through warm worlds, judged and folded into a clause's outcome.

Scenario results are memoised by name for the whole run, so the generated corpus that several
clauses read is run once; shrink candidates by content, so clauses that fail on one scenario do not
run the same candidates again. A clause's status comes from what its check could judge:

* `fail`: some scenario has a violation. The first failing scenario is shrunk (keeping the same
  kind of violation, with the reference passing) and saved as replayable JSON; the reason and the
  listed violations are those of the saved scenario, in its own call numbers.
* `error`: a scenario could not be judged at all (a rank could not set up, the adapter reported a
  value outside the contract, the world did not start), or no scenario checks the clause at the
  world sizes asked for (the reason names the size it needs).
* `incomplete`: no violation, but some calls were never judged. Reported with both counts and, from the
  first such scenario (saved as replayable JSON), the rank and call where judging stopped and what
  happened there (`harness.spec.judging`); it keeps the verdict from `certified`.
* `not_exercised`: every call was judged, but in none of its scenarios did what the clause judges
  happen (no survivor's call raised, so no error message was there to read): it has checked nothing.
  Like `not_claimed`, reported with the reason of its first scenario, and not counted towards the verdict.
* `pass`: every call the clause reads was judged, and none broke it.

A world that cannot run a scenario (a launcher's world: `harness.errors.ScenarioSkipped`) skips
it; the clause lists it, and a clause whose every scenario was skipped is `skipped`, which like
`not_claimed` is reported but does not count towards the verdict.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ..errors import ScenarioSkipped, WorldLost, WorldStartError
from ..locations import REFERENCE
from ..records.report import ScenarioResult
from ..records.scenario import MAX_CERTIFY_WORLD_SIZE, Scenario
from ..records.statuses import ClauseStatus
from .clauses import Clause, Plan
from .implementation import Implementation
from .judge.checks import Violation
from .judge.judging import ScenarioVerdict, UnreadableResult, judge, judge_scenario, unusable
from .output.evidence import build_evidence, write_evidence
from .shrink import shrink

DEFAULT_CORPUS = 16


@dataclass
class ClauseOutcome:
    clause: Clause
    status: ClauseStatus
    scenarios: int = 0
    world_sizes: list[int] = field(default_factory=list)
    reason: str = ""
    evidence: dict | None = None
    skipped: list[str] = field(default_factory=list)
    judged: int = 0
    unjudged: int = 0
    runs: list[dict] = field(default_factory=list)


ERROR_RUN = {"status": ClauseStatus.ERROR, "judged": 0, "unjudged": 0}


class Executor(Protocol):
    """What runs the scenarios: a `WorldPool` of spawned worlds, or a launcher's `EnvWorld`."""

    def run(self, impl: str, scenario: Scenario) -> ScenarioResult: ...


class ClauseRunner:
    def __init__(
        self,
        implementation: Implementation,
        pool: Executor,
        seed: int = 0,
        corpus: int = DEFAULT_CORPUS,
        evidence_dir: str | None = None,
        reference: str = REFERENCE,
        alone: Executor | None = None,
    ) -> None:
        self.implementation = implementation
        self.pool = pool
        self.seed = seed
        self.corpus = corpus
        self.evidence_dir = evidence_dir
        self.reference = reference
        self.alone = alone
        self.results: dict[str, ScenarioResult] = {}
        self.candidates: dict[tuple[str, str], ScenarioResult | None] = {}
        self.alone_results: dict[str, ScenarioResult | None] = {}

    def plan(self, world_size: int, world_sizes: list[int]) -> Plan:
        implementation = self.implementation
        return Plan(
            world_size,
            tuple(world_sizes),
            self.seed,
            self.corpus,
            implementation.capabilities,
            implementation.ddp_configurations,
        )

    def run(self, scenario: Scenario) -> ScenarioResult:
        if scenario.name not in self.results:
            self.results[scenario.name] = self.pool.run(self.implementation.spec, scenario)
        return self.results[scenario.name]

    def scenarios(self, clause: Clause, world_sizes: list[int]) -> list[Scenario]:
        """Every scenario the clause reads at these world sizes, without duplicates."""
        found: dict[str, Scenario] = {}
        for world_size in world_sizes:
            for scenario in clause.scenarios(self.plan(world_size, world_sizes)):
                found.setdefault(scenario.name, scenario)
        return list(found.values())

    def evaluate(self, clause: Clause, world_sizes: list[int], only_world_size: int | None = None) -> ClauseOutcome:
        """The clause's outcome over its scenarios at `world_sizes` (those of `only_world_size` alone
        when given: the pytest route runs one test per clause and world size)."""
        outcome = ClauseOutcome(clause, ClauseStatus.PASS, world_sizes=list(world_sizes))
        missing = clause.requires - self.implementation.capabilities
        if missing:
            outcome.status = ClauseStatus.NOT_CLAIMED
            outcome.reason = f"the adapter does not declare {', '.join(sorted(missing))}"
            return outcome
        unclaimed = clause.not_claimed(self.plan(world_sizes[0], world_sizes)) if clause.not_claimed else ""
        if unclaimed:
            outcome.status = ClauseStatus.NOT_CLAIMED
            outcome.reason = unclaimed
            return outcome
        unevaluated: list[str] = []
        failing: tuple[Scenario, ScenarioResult, Violation] | None = None
        incomplete: tuple[Scenario, ScenarioResult, ScenarioVerdict] | None = None
        unexercised: list[ScenarioVerdict] = []
        exercised = False
        for scenario in self.scenarios(clause, world_sizes):
            if only_world_size is not None and scenario.world_size != only_world_size:
                continue
            try:
                result = self.run(scenario)
            except ScenarioSkipped as exc:
                outcome.skipped.append(f"{scenario.name}: {exc}")
                continue
            except (WorldStartError, WorldLost) as exc:
                outcome.scenarios += 1
                unevaluated.append(f"{scenario.name}: {str(exc).splitlines()[0]}")
                outcome.runs.append({"scenario": scenario.name, "world_size": scenario.world_size} | ERROR_RUN)
                continue
            outcome.scenarios += 1
            verdict = judge_scenario(clause, result)
            outcome.runs.append(verdict.to_dict())
            if verdict.status == ClauseStatus.ERROR:
                unevaluated.append(verdict.reason)
                outcome.evidence = outcome.evidence or self._evidence(clause, scenario, result, verdict, shrunk=False)
                continue
            outcome.judged += verdict.judged
            outcome.unjudged += verdict.unjudged
            if verdict.violations and failing is None:
                failing = (scenario, result, verdict.violations[0])
            if verdict.status == ClauseStatus.INCOMPLETE and incomplete is None:
                incomplete = (scenario, result, verdict)
            if verdict.status == ClauseStatus.NOT_EXERCISED:
                unexercised.append(verdict)
            exercised = exercised or (verdict.status == ClauseStatus.PASS and verdict.judged > 0)
        if failing is not None:
            outcome.status = ClauseStatus.FAIL
            outcome.evidence = self._failure_evidence(clause, *failing)
            outcome.reason = outcome.evidence["reason"]
        elif unevaluated:
            outcome.status = ClauseStatus.ERROR
            outcome.reason = unevaluated[0]
        elif outcome.scenarios == 0 and outcome.skipped:
            outcome.status = ClauseStatus.SKIPPED
            outcome.reason = f"every scenario was skipped: {outcome.skipped[0]}"
        elif outcome.scenarios == 0:
            outcome.status = ClauseStatus.ERROR
            outcome.reason = self._no_scenario_reason(clause, world_sizes)
        elif incomplete is not None:
            outcome.status = ClauseStatus.INCOMPLETE
            alone = self._reproduces_alone(incomplete[0], lambda found: _stops_where(clause, found, incomplete[2]))
            outcome.evidence = self._evidence(clause, *incomplete, shrunk=False, reproduces_alone=alone)
            outcome.reason = incomplete[2].reason
        elif outcome.judged == 0:
            outcome.status = ClauseStatus.ERROR
            outcome.reason = "no call of its scenarios could be judged"
        elif unexercised and not exercised:
            outcome.status = ClauseStatus.NOT_EXERCISED
            outcome.reason = _unexercised_reason(outcome.scenarios, unexercised)
        return outcome

    def _no_scenario_reason(self, clause: Clause, world_sizes: list[int]) -> str:
        """Why a clause has nothing to run at `world_sizes`, and the world size that gives it scenarios."""
        reason = f"no scenario checks this clause at world sizes {world_sizes}"
        needed = next(
            (n for n in range(1, MAX_CERTIFY_WORLD_SIZE + 1) if self.scenarios(clause, sorted({*world_sizes, n}))),
            None,
        )
        if needed is None:
            return reason
        return f"{reason}: it needs a world of {needed} or more ranks; certify with world size {needed} among them"

    def _failure_evidence(self, clause: Clause, scenario: Scenario, result: ScenarioResult, first: Violation) -> dict:
        def accept(candidate: Scenario) -> ScenarioResult | None:
            try:
                found = self._run_fresh(self.implementation.spec, candidate)
                if found is None or first.kind not in judge(clause, found).kinds:
                    return None
                if self.implementation.spec != self.reference:
                    reference = self._run_fresh(self.reference, candidate)
                    if reference is None or judge(clause, reference).violations:
                        return None
            except UnreadableResult:
                return None
            return found

        def locate(found: ScenarioResult) -> int | None:
            return next((v.call for v in judge(clause, found).violations if v.kind == first.kind), None)

        small, small_result = shrink(scenario, result, accept, violation_call=first.call, locate=locate)

        def shows(found: ScenarioResult) -> bool:
            return first.kind in judge(clause, found).kinds

        reproduces_alone = self._reproduces_alone(small, shows)
        if reproduces_alone is False and self._reproduces_alone(scenario, shows):
            small, small_result, reproduces_alone = scenario, result, True
        verdict = judge_scenario(clause, small_result, kind=first.kind)
        shrunk = small.to_dict() | {"name": ""} != scenario.to_dict() | {"name": ""}
        return self._evidence(
            clause, small, small_result, verdict, shrunk=shrunk, reproduces_alone=reproduces_alone, found=result
        )

    def _reproduces_alone(self, scenario: Scenario, shows: Callable[[ScenarioResult], bool]) -> bool | None:
        """Whether `scenario` `shows` its failure (a violation, calls left unjudged) in a world of its own,
        with no scenario run before it in the same rank processes (None when this runner cannot start
        such a world). An implementation that keeps state across scenarios can fail only after others:
        its evidence then says so, instead of claiming a replay that would show the same."""
        if self.alone is None:
            return None
        key = _content(scenario)
        if key is not None and key in self.alone_results:
            found = self.alone_results[key]
        else:
            try:
                found = self.alone.run(self.implementation.spec, scenario)
            except (ScenarioSkipped, WorldStartError, WorldLost):
                found = None
            if key is not None:
                self.alone_results[key] = found  # clauses failing on one scenario ask the same of it
        try:
            return found is not None and shows(found)
        except UnreadableResult:
            return False

    def _run_fresh(self, impl: str, scenario: Scenario) -> ScenarioResult | None:
        """A shrink candidate's usable result, None when it has none. Each candidate runs once per
        implementation and run, whichever clause's shrinking offers it: clauses failing on one scenario
        offer many of the same candidates, and the reference's answer never changes."""
        content = _content(scenario)
        key = (impl, content) if content is not None else None
        if key is not None and key in self.candidates:
            return self.candidates[key]
        try:
            result = self.pool.run(impl, scenario)
        except (ScenarioSkipped, WorldStartError, WorldLost):
            return None
        usable = None if unusable(result) else result
        if key is not None:
            self.candidates[key] = usable
        return usable

    def _evidence(
        self,
        clause: Clause,
        scenario: Scenario,
        result: ScenarioResult,
        verdict: ScenarioVerdict,
        shrunk: bool,
        reproduces_alone: bool | None = None,
        found: ScenarioResult | None = None,
    ) -> dict:
        """`found`: the run that first showed the failure, when `result` is its shrunk scenario's; its rank
        processes' earlier runs are the ones the failure came after."""
        evidence = build_evidence(scenario, result, verdict, shrunk, self.implementation)
        evidence["reproduces_alone"] = reproduces_alone
        evidence["earlier"] = (found or result).earlier.to_dict()
        if self.evidence_dir:
            evidence["scenario_file"] = write_evidence(self.evidence_dir, clause.id, evidence)
        return evidence


def _stops_where(clause: Clause, found: ScenarioResult, verdict: ScenarioVerdict) -> bool:
    """`found` leaves the calls `verdict` left unjudged unjudged again: the same counts, stopped at the same call."""
    again = judge_scenario(clause, found)

    def stop(v: ScenarioVerdict) -> int | None:
        return v.unjudged_call.call if v.unjudged_call else None

    same_counts = (again.judged, again.unjudged) == (verdict.judged, verdict.unjudged)
    return again.status == ClauseStatus.INCOMPLETE and same_counts and stop(again) == stop(verdict)


def _content(scenario: Scenario) -> str | None:
    """What a scenario runs, whatever its name; None when a gate function decides its calls (not comparable)."""
    return json.dumps(scenario.to_dict() | {"name": ""}, sort_keys=True) if scenario.decide is None else None


def _unexercised_reason(scenarios: int, unexercised: list[ScenarioVerdict]) -> str:
    """Why none of a clause's `scenarios` exercised it, each cause once with the scenarios it held in."""
    held: dict[str, list[str]] = {}
    for verdict in unexercised:
        held.setdefault(verdict.reason.removeprefix(f"{verdict.scenario}: "), []).append(verdict.scenario)
    causes = "; ".join(f"in {', '.join(names)}: {cause}" for cause, names in held.items())
    return f"none of its {scenarios} scenarios exercised it: {causes}"

"""Shrinking a failing scenario to a small one that fails the same clause for the same reason.

Every pass keeps two rules, so the evidence always shows the defect the clause is about:

* the candidate fails the clause with a violation of the same kind as the original one (not merely
  "still fails"), and
* the reference implementation passes the clause on the candidate, so the evidence never rests on a
  call the specification leaves open.

"Simpler" is stated, and the passes run in its order. First, once, the calls after the one the
violation is about (after the run of epoch ticks it is in) are cut, with that call's slot alone if that
keeps the violation, else with every slot: what a rank did after that call cannot have caused it, and
dropping them one by one cost a run each (a model scenario failing at its sixth of 24 calls took 18 runs
to learn what one run shows; the generated payloads, 38 independent slots, ran nearly whole once more to
lose their last few calls). The same cut follows every step a pass takes, at the call the violation is
then about. Then fewer calls (one slot's calls alone, or every call of one slot removed, so a scenario
of many independent slots shrinks in a few runs; the last half of the calls, then the last quarter and
so on, so a violation that stays at the end of whatever runs, a rank left waiting in its last
collective, shrinks in a few runs too; one call dropped from every rank's sequence, last first, a run of
one slot's epoch ticks counting as one call: how long a stage lasts is the implementation's choice;
unused slots), then fewer ranks' deviations (a rank with its own sequence follows the shared one), then
simpler payloads (plain results for named payloads, passing defaults for explicit per-rank decisions,
simpler generated payloads of the same length). A further simplification is one more pass at the end of `PASSES`.

Shrinking is deterministic, so the same failure gives the same evidence on any machine: the budget
counts candidate runs, never seconds, and a pass keeps its position after a success (the candidate at
that position of the smaller scenario is tried next) instead of starting over. The passes repeat
until a whole round makes no progress or the budget is spent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

from ..errors import ScenarioError
from ..records.report import ScenarioResult
from ..records.scenario import Op, Scenario
from .shrink_payloads import simpler_payloads

SHRINK_MAX_RUNS = 80

Accept = Callable[[Scenario], ScenarioResult | None]


def without_calls(scenario: Scenario, calls: range) -> Scenario:
    """`scenario` with `calls` removed from every rank's sequence, so the ranks stay aligned."""

    def drop(ops: list) -> list:
        return ops[: calls.start] + ops[calls.stop :]

    return dataclasses.replace(
        scenario, ops=drop(scenario.ops), rank_ops={rank: drop(ops) for rank, ops in scenario.rank_ops.items()}
    )


def _replace_op(scenario: Scenario, index: int, op: Op) -> Scenario:
    """`scenario` with call `index` replaced on every rank that shares the symmetric sequence."""
    ops = [*scenario.ops]
    ops[index] = op
    return dataclasses.replace(scenario, ops=ops)


def through(scenario: Scenario, index: int) -> Scenario:
    """`scenario` cut after call `index` on every rank."""
    return dataclasses.replace(
        scenario,
        ops=scenario.ops[: index + 1],
        rank_ops={rank: ops[: index + 1] for rank, ops in scenario.rank_ops.items()},
    )


def _length(scenario: Scenario) -> int:
    return max(len(scenario.ops_for(r)) for r in range(scenario.world_size))


def _ticked_slot(scenario: Scenario, index: int) -> str | None:
    """The slot every rank's call `index` ticks the epoch clock of, one tick each (None when it is another call)."""
    ops = [scenario.ops_for(rank) for rank in range(scenario.world_size)]
    if any(index >= len(sequence) for sequence in ops):
        return None
    first = ops[0][index]
    plain_tick = first.op == "step_epoch" and first.until_empty is None
    return first.slot if plain_tick and all(sequence[index] == first for sequence in ops) else None


def call_units(scenario: Scenario) -> list[range]:
    """The calls a shrink drops together: each call alone, but a run of epoch ticks of one slot whole. How
    many ticks a stage lasts is the implementation's choice within the specification's bounds, so a shorter
    run could make evidence that only the reference's lengths pass (a cool-down cut to the reference's)."""
    units, index, length = [], 0, _length(scenario)
    while index < length:
        slot, end = _ticked_slot(scenario, index), index + 1
        while slot is not None and end < length and _ticked_slot(scenario, end) == slot:
            end += 1
        units.append(range(index, end))
        index = end
    return units


def _drops(scenario: Scenario) -> Iterator[Scenario]:
    for unit in reversed(call_units(scenario)):
        candidate = without_calls(scenario, unit)
        if all(candidate.ops_for(r) for r in range(candidate.world_size)):
            yield candidate


def _tail_halves(scenario: Scenario) -> Iterator[Scenario]:
    """The last half of the calls dropped, then the last quarter, and so on down to two calls (one is
    `_drops`' job): a violation that stays at the end of whatever runs (a rank left waiting at its last
    collective) then shrinks in a few runs, not one run per call."""
    units = call_units(scenario)
    size = len(units) // 2
    while size >= 2:
        candidate = through(scenario, units[len(units) - size - 1].stop - 1)
        if all(candidate.ops_for(r) for r in range(candidate.world_size)):
            yield candidate
        size //= 2


def _slots_dropped(scenario: Scenario) -> Iterator[Scenario]:
    """One slot's calls alone (last slot first), then every call of one slot removed: a scenario of many
    independent slots shrinks in a few runs."""
    if scenario.rank_ops or len(scenario.slots) < 2:
        return
    for keep in (True, False):
        for slot in reversed(scenario.slots) if keep else scenario.slots:
            ops = [op for op in scenario.ops if (op.slot == slot) == keep]
            if ops and len(ops) < len(scenario.ops):
                slots = [s for s in scenario.slots if (s == slot) == keep]
                yield dataclasses.replace(scenario, ops=ops, slots=slots)


def _plain(value: object) -> object:
    if isinstance(value, dict) and set(value) <= {"passed", "payload"}:
        return bool(value.get("passed", True))
    return value


def _simpler_decisions(scenario: Scenario) -> Iterator[Scenario]:
    for index, op in enumerate(scenario.ops):
        if op.op != "advance" or op.local is None:
            continue
        if isinstance(op.local, list) and any(isinstance(v, dict) for v in op.local):
            yield _replace_op(scenario, index, dataclasses.replace(op, local=[_plain(v) for v in op.local]))
        elif isinstance(op.local, list) and len({repr(v) for v in op.local}) == 1:
            yield _replace_op(scenario, index, dataclasses.replace(op, local=op.local[0]))
        if op.local not in (True, [True] * scenario.world_size):
            yield _replace_op(scenario, index, dataclasses.replace(op, local=None))


def _fewer_slots(scenario: Scenario) -> Iterator[Scenario]:
    used = {name for r in range(scenario.world_size) for op in scenario.ops_for(r) for name in (op.slot, op.origin)}
    if any(slot not in used for slot in scenario.slots):
        yield dataclasses.replace(scenario, slots=[s for s in scenario.slots if s in used])


def _fewer_deviations(scenario: Scenario) -> Iterator[Scenario]:
    for rank in sorted(scenario.rank_ops):
        yield dataclasses.replace(scenario, rank_ops={r: ops for r, ops in scenario.rank_ops.items() if r != rank})


Pass = Callable[[Scenario], Iterator[Scenario]]
PASSES: tuple[Pass, ...] = (
    _slots_dropped,
    _tail_halves,
    _drops,
    _fewer_slots,
    _fewer_deviations,
    _simpler_decisions,
    simpler_payloads,
)


def shrink(
    scenario: Scenario,
    result: ScenarioResult,
    accept: Accept,
    max_runs: int = SHRINK_MAX_RUNS,
    violation_call: int | None = None,
    locate: Callable[[ScenarioResult], int | None] | None = None,
) -> tuple[Scenario, ScenarioResult]:
    """The smallest scenario reached by passes whose every step `accept` took.

    `accept(candidate)` runs a candidate and returns its result when the candidate keeps the defect
    (same clause, same kind of violation, the reference passing), else None. At most `max_runs`
    candidates run. `violation_call` is the call the violation is about, when it names one; `locate(result)`
    names it in an accepted candidate's result, so that the calls after it are cut at once (one run)
    instead of dropped one by one, a run each, when dropping calls moves the violation earlier.
    """
    original = scenario
    runs = 0
    for candidate in _cuts(scenario, violation_call):
        runs += 1
        kept = accept(candidate)
        if kept is not None:
            scenario, result = candidate, kept
            break
    progress = True
    while progress:
        progress = False
        for shrink_pass in PASSES:
            position = 0
            while True:
                candidate = _at(shrink_pass(scenario), position)
                if candidate is None:
                    break
                if not _valid(candidate) or _same(candidate, scenario):
                    position += 1
                    continue
                if runs >= max_runs:
                    return _named(original, scenario, result)
                runs += 1
                kept = accept(candidate)
                if kept is None:
                    position += 1
                    continue
                scenario, result, progress = candidate, kept, True
                cut = _cut_after(scenario, locate(result)) if locate is not None else None
                if cut is not None and runs < max_runs:
                    runs += 1
                    kept = accept(cut)
                    if kept is not None:
                        scenario, result = cut, kept
    return _named(original, scenario, result)


def _cut_after(scenario: Scenario, call: int | None) -> Scenario | None:
    """`scenario` cut after `call` (after the run of epoch ticks it is in), when that drops a call."""
    if call is None:
        return None
    last = next((unit.stop - 1 for unit in call_units(scenario) if call in unit), call)
    if last + 1 >= _length(scenario):
        return None
    candidate = through(scenario, last)
    valid = _valid(candidate) and all(candidate.ops_for(r) for r in range(candidate.world_size))
    return candidate if valid else None


def _cuts(scenario: Scenario, call: int | None) -> list[Scenario]:
    """The first candidates, tried in order until one keeps the violation: the slot the violation's call is
    about alone, up to that call (a scenario of many independent slots, such as the generated payloads,
    would otherwise run nearly whole once more), then every slot up to that call."""
    cut = _cut_after(scenario, call)
    if call is None or call >= len(scenario.ops) or scenario.rank_ops or len(scenario.slots) < 2:
        return [cut] if cut is not None else []
    slot = scenario.ops[call].slot
    upto = cut if cut is not None else scenario
    ops = [op for op in upto.ops if op.slot == slot]
    alone = dataclasses.replace(upto, ops=ops, slots=[slot]) if slot is not None and ops else None
    return [c for c in (alone, cut) if c is not None and _valid(c)]


def _valid(candidate: Scenario) -> bool:
    """A pass may cut what another op refers to (a fork's origin slot): such a candidate is not run."""
    try:
        dataclasses.replace(candidate).validate()
    except ScenarioError:
        return False
    return True


def _same(candidate: Scenario, scenario: Scenario) -> bool:
    """A pass may offer the scenario itself (decisions that are already as plain as they get): taking
    it would count as progress and spend the budget on runs that simplify nothing."""
    return dataclasses.replace(candidate, name=scenario.name) == scenario


def _at(candidates: Iterator[Scenario], position: int) -> Scenario | None:
    """The candidate at `position` of a pass (None past its end)."""
    for index, candidate in enumerate(candidates):
        if index == position:
            return candidate
    return None


def _named(original: Scenario, scenario: Scenario, result: ScenarioResult) -> tuple[Scenario, ScenarioResult]:
    """The shrunk scenario named `<name>-shrunk`; one no candidate made smaller keeps its own name."""
    if _same(scenario, original):
        return original, dataclasses.replace(result, scenario=original)
    name = scenario.name if scenario.name.endswith("-shrunk") else f"{scenario.name}-shrunk"
    named = dataclasses.replace(scenario, name=name)
    return named, dataclasses.replace(result, scenario=named)

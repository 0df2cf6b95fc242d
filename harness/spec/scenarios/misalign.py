"""Misaligned call sequences, generated from short symmetric ones: the S1 and S2 corpus.

A base is a symmetric sequence of `BASE_LENGTH` advances, after both slots germinate, each call
targeting the next stage of its slot explicitly, with rank 0's gate passing or failing (a failing call
leaves the slot where it was, so the next call of that slot targets the same stage again). Bases: one
slot whose first gate fails, and two slots whose gates pass. On a deviating set of ranks (rank 0, the
last rank, or from world size 3 every rank but 0, taking turns), at every position, one deviation
makes the ranks part:

* S1 (the same slot state everywhere, different calls): insert an extra call (a retry of the call
  before, or a call of the other slot), drop a call, swap two adjacent calls, change a call's target,
  change its slot;
* S2 (the same calls, a different slot state): before the first call of each slot of the two-slot
  base, the slot's seed is missing, or pruned, on the deviating ranks only.

A case is kept only when S1/S2's rules can judge it: every rank makes a call at the first index
where the ranks' calls differ (a rank that merely makes one call more at the end cannot be told
from a slow one), and no two cases give the same per-rank sequences. Above world size 2, S1 uses the
two-slot base only, to keep `certify` fast. One misalignment per scenario: the rank that
detects it stops, so a second one in the same scenario would never be reached.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass

from ...records.contract import Stage
from ...records.scenario import Op, Scenario
from .families import PATH, A, B

BASE_LENGTH = 3
S1_KINDS = ("insert", "drop", "swap", "target", "slot")
S2_KINDS = ("no_seed", "pruned")
TWO_SLOTS = "aba"
NAME = re.compile(r"^misalign-(?P<kinds>[a-z_+]+)-p(?P<position>\d+)-")

# (slot, rank 0's gate passes) per call.
BASES: dict[str, tuple[tuple[str, bool], ...]] = {
    "afaa": ((A, False), (A, True), (A, True)),
    "aba": ((A, True), (B, True), (A, True)),
}


@dataclass(frozen=True)
class Case:
    """One generated misalignment: what was done, where, on which ranks."""

    kind: str
    position: int
    base: str
    ranks: tuple[int, ...]


def deviating_sets(world_size: int) -> list[tuple[int, ...]]:
    """Rank 0 alone, the last rank alone, and (from world size 3) every rank but rank 0."""
    sets = [(0,), (world_size - 1,)]
    if world_size > 2:
        sets.append(tuple(range(1, world_size)))
    return sets


def _next(stage: Stage) -> Stage:
    return PATH[min(PATH.index(stage) + 1, len(PATH) - 1)] if stage in PATH else PATH[0]


def _calls(base: tuple[tuple[str, bool], ...]) -> list[Op]:
    """The base as advances with explicit targets, tracking each slot's stage from rank 0's gates."""
    stage = {A: Stage.GERMINATED, B: Stage.GERMINATED}
    ops = []
    for slot, passes in base:
        target = _next(stage[slot])
        ops.append(Op("advance", slot, target=int(target), local=passes))
        if passes:
            stage[slot] = target
    return ops


def _stages_before(ops: list[Op], position: int) -> dict[str, Stage]:
    stage = {A: Stage.GERMINATED, B: Stage.GERMINATED}
    for op in ops[:position]:
        if op.local:
            stage[op.slot] = Stage(op.target)
    return stage


def _s1_variants(ops: list[Op], position: int) -> Iterator[tuple[str, list[Op]]]:
    at = ops[position]
    other = B if at.slot == A else A
    stage = _stages_before(ops, position)
    if position > 0:
        yield "insert", [*ops[:position], _copy(ops[position - 1]), *ops[position:]]
    extra = Op("advance", other, target=int(_next(stage[other])), local=True)
    yield "insert", [*ops[:position], extra, *ops[position:]]
    yield "drop", ops[:position] + ops[position + 1 :]
    if position + 1 < len(ops):
        yield "swap", [*ops[:position], ops[position + 1], at, *ops[position + 2 :]]
    changed = _next(Stage(at.target)) if Stage(at.target) != PATH[-1] else PATH[0]
    yield "target", [*ops[:position], _copy(at, target=int(changed)), *ops[position + 1 :]]
    moved = _copy(at, slot=other, target=int(_next(stage[other])))
    yield "slot", [*ops[:position], moved, *ops[position + 1 :]]


def _copy(op: Op, **changes: object) -> Op:
    fields = {"op": op.op, "slot": op.slot, "target": op.target, "local": op.local} | changes
    return Op(**fields)  # type: ignore[arg-type]


def _setup() -> list[Op]:
    return [Op("germinate", A), Op("germinate", B)]


def _parting(sequences: list[list[Op]]) -> int | None:
    """The first index where the ranks' calls differ (an advance of a slot an earlier op touched on
    some ranks only counts as differing), when every rank makes a call there; else None."""
    uneven: set[str | None] = set()
    for index in range(max(map(len, sequences))):
        present = [seq[index] for seq in sequences if index < len(seq)]
        if len(present) < len(sequences):
            return None
        if len({op.call_key for op in present}) > 1:
            return index
        op = present[0]
        if op.ranks is not None:
            uneven.add(op.slot)
        elif op.op == "advance" and op.slot in uneven:
            return index
    return None


def _cases(world_size: int, variants: Iterator[tuple[Case, list[list[Op]]]]) -> list[Scenario]:
    """One scenario per distinct judgeable case, every rank's sequence ending at the parting call, so no
    rank waits past it and a correct implementation leaves the world reusable; cases that come out the
    same there (a swap and a drop, say) are one scenario naming every kind."""
    found: dict[str, tuple[list[Case], list[list[Op]]]] = {}
    for case, sequences in variants:
        parting = _parting(sequences)
        if parting is None:
            continue
        cut = [seq[: parting + 1] for seq in sequences]
        fingerprint = repr([[op.to_dict() for op in seq] for seq in cut])
        found.setdefault(fingerprint, ([], cut))[0].append(case)
    scenarios = []
    for cases, cut in found.values():
        kinds = "+".join(dict.fromkeys(case.kind for case in cases))
        first = dataclasses.replace(cases[0], kind=kinds)
        shared = cut[next(rank for rank in range(world_size) if rank not in first.ranks)]
        rank_ops = {rank: seq for rank, seq in enumerate(cut) if seq != shared}
        scenarios.append(Scenario(_name(first, world_size), world_size, [A, B], shared, rank_ops=rank_ops))
    return scenarios


def s1(world_size: int) -> list[Scenario]:
    """Every S1 deviation at every position of every base (above world size 2, of the two-slot base
    only, to keep `certify` fast), the deviating sets of ranks taking turns."""
    if world_size < 2:
        return []
    sets = deviating_sets(world_size)

    def variants() -> Iterator[tuple[Case, list[list[Op]]]]:
        turn = 0
        for base_name, base in BASES.items():
            if world_size > 2 and base_name != TWO_SLOTS:
                continue
            ops = _calls(base)
            for position in range(len(ops)):
                for kind, deviated in _s1_variants(ops, position):
                    ranks = sets[turn % len(sets)]
                    turn += 1
                    sequences = [[*_setup(), *(deviated if r in ranks else ops)] for r in range(world_size)]
                    yield Case(kind, position, base_name, ranks), sequences

    return _cases(world_size, variants())


def s2(world_size: int, prune: bool) -> list[Scenario]:
    """A seed missing (or, with `prune`, pruned) on the deviating ranks, before the first call of each
    slot of the two-slot base, the deviating sets of ranks taking turns."""
    if world_size < 2:
        return []
    sets = deviating_sets(world_size)
    kinds = S2_KINDS if prune else S2_KINDS[:1]

    def variants() -> Iterator[tuple[Case, list[list[Op]]]]:
        turn = 0
        ops = _calls(BASES[TWO_SLOTS])
        for position, at in enumerate(ops):
            if any(op.slot == at.slot for op in ops[:position]):
                continue
            for kind in kinds:
                ranks = sets[turn % len(sets)]
                turn += 1
                others = [r for r in range(world_size) if r not in ranks]
                if kind == "no_seed":
                    setup = [Op("germinate", s, ranks=others if s == at.slot else None) for s in (A, B)]
                    middle: list[Op] = []
                else:
                    setup, middle = _setup(), [Op("prune", at.slot, ranks=list(ranks))]
                sequence = [*setup, *ops[:position], *middle, *ops[position:]]
                yield Case(kind, position, TWO_SLOTS, ranks), [sequence] * world_size

    return _cases(world_size, variants())


def _name(case: Case, world_size: int) -> str:
    ranks = "".join(map(str, case.ranks))
    return f"misalign-{case.kind}-p{case.position}-{case.base}-r{ranks}-ws{world_size}"


def kinds_and_position(scenario_name: str) -> tuple[list[str], int] | None:
    """The deviations and position a generated scenario's name states (None for other scenarios)."""
    found = NAME.match(scenario_name)
    return (found["kinds"].split("+"), int(found["position"])) if found else None

"""What a certification covered, read from the results it judged, so `certified` has a stated scope.

For every world size and every gated step of the table (`families.gated_steps`: forward through the
default and an explicit target, backward HOLDING -> BLENDING, gated targets the table forbids): how
many distinct sets of dissenting ranks (ranks whose local decision differed from rank 0's) were judged
with rank 0 passing and with rank 0 failing, out of how many there are, a step never judged showing 0;
and which payloads rank 0 sent in judged gate rounds. Separately,
the generated misalignments (`harness.spec.misalign`) S1/S2's rules judged: per world size and kind of
deviation, the positions and the number of cases.
"""

from __future__ import annotations

from collections import defaultdict

from ...records import payloads as payload_space
from ...records.contract import ALLOWED, GATED_TARGETS, Stage, default_target, stage_name
from ...records.report import ScenarioResult
from ..judge.checks import calls, disagreement_safety
from ..scenarios.families import LIFECYCLE_SOURCES, gated_steps
from ..scenarios.misalign import BASE_LENGTH, kinds_and_position

PAYLOAD_KEY = "payload"


def step_name(source: int, target: int, via: str) -> str:
    return f"{stage_name(source)}->{stage_name(target)} ({via})"


ALL_STEPS = tuple(step_name(source, target, via) for source in LIFECYCLE_SOURCES for target, via in gated_steps(source))


def _step(source: int, target: int | None) -> str | None:
    """The gated step an advance from `source` to `target` takes, None for an ungated one."""
    if source not in Stage._value2member_map_:
        return None
    forward = default_target(source)
    if target is None:
        return None if forward is None else step_name(source, forward, "default")
    if target not in GATED_TARGETS:
        return None
    if target == forward:
        return step_name(source, target, "explicit")
    return step_name(source, target, "backward" if target in ALLOWED[Stage(source)] else "forbidden")


def _payload_label(name: str) -> str:
    """A named payload by its name; a generated one by its kind (`bytes:SEED:LENGTH`)."""
    parsed = payload_space.parse(name)
    return name if parsed is None else f"{parsed[0]}:SEED:LENGTH"


def summarize(results: list[ScenarioResult]) -> dict:
    dissents: dict[int, dict[str, dict[str, set]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(set)))
    payloads: dict[int, set[str]] = defaultdict(set)
    for result in results:
        world_size = result.world_size
        for call in calls(result):
            if not call.same_everywhere or call.ops[0].op != "advance":
                continue
            locals_ = [r.local[-1] if r.local else None for r in call.records]
            before = call.records[0].stage_before
            if None in locals_ or before is None or any(r.error for r in call.records):
                continue
            step = _step(before, call.ops[0].target)
            if step is None:
                continue
            rank0 = locals_[0]["passed"]
            dissent = tuple(rank for rank, local in enumerate(locals_) if local["passed"] != rank0)
            dissents[world_size][step]["pass" if rank0 else "fail"].add(dissent)
            value = call.ops[0].local
            first = value[0] if isinstance(value, list) else value
            payloads[world_size].add(
                _payload_label(first.get(PAYLOAD_KEY, "plain") if isinstance(first, dict) else "plain")
            )
    return {
        str(world_size): {
            "dissent_sets_possible": 2 ** (world_size - 1),
            "steps": {
                step: {outcome: len(dissents[world_size][step][outcome]) for outcome in ("pass", "fail")}
                for step in ALL_STEPS
            },
            "rank0_payloads": sorted(payloads[world_size]),
        }
        for world_size in sorted(set(dissents) | set(payloads))
    }


def to_markdown(coverage: dict) -> list[str]:
    """The coverage as a table: one row per world size and step."""
    if not coverage:
        return []
    lines = [
        "## Coverage",
        "",
        "Sets of dissenting ranks judged per gated step (of all possible, the empty set included),"
        " with rank 0 passing / failing; payloads rank 0 sent.",
        "",
        "| world size | step | rank 0 passes | rank 0 fails | rank 0 payloads |",
        "|---|---|---|---|---|",
    ]
    for world_size, entry in coverage.items():
        possible = entry["dissent_sets_possible"]
        shown = ", ".join(entry["rank0_payloads"])
        for step, seen in entry["steps"].items():
            cells = [f"{seen[outcome]}/{possible}" if seen[outcome] else "not judged" for outcome in ("pass", "fail")]
            lines.append(f"| {world_size} | {step} | {cells[0]} | {cells[1]} | {shown} |")
            shown = ""
    return lines


def misalignments(results: list[ScenarioResult]) -> dict:
    """Per world size and kind of generated misalignment: the positions judged and how many cases."""
    seen: dict[int, dict[str, dict]] = defaultdict(lambda: defaultdict(lambda: {"positions": set(), "cases": 0}))
    for result in results:
        found = kinds_and_position(result.scenario.name)
        if found is None or not disagreement_safety(result).judged:
            continue
        kinds, position = found
        for kind in kinds:
            entry = seen[result.world_size][kind]
            entry["positions"].add(position)
            entry["cases"] += 1
    return {
        str(world_size): {
            kind: {"positions": sorted(entry["positions"]), "cases": entry["cases"]}
            for kind, entry in sorted(kinds.items())
        }
        for world_size, kinds in sorted(seen.items())
    }


def misalignment_markdown(table: dict) -> list[str]:
    """The misalignment coverage as a table: one row per world size and kind."""
    if not table:
        return []
    lines = [
        "## Misalignment coverage",
        "",
        f"Generated misalignments judged by S1/S2, per kind: positions (of {BASE_LENGTH} base calls) and cases.",
        "",
        "| world size | misalignment | positions | cases |",
        "|---|---|---|---|",
    ]
    for world_size, kinds in table.items():
        for kind, entry in kinds.items():
            positions = ", ".join(map(str, entry["positions"]))
            lines.append(f"| {world_size} | {kind} | {positions} | {entry['cases']} |")
    return lines

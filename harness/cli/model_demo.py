"""`python -m harness demo --ddp`: BUG-030's defect next to the reference, each training a real DDP model.

Two gloo ranks run the `ddp` profile's lifecycles where rank 0 alone decides (see
`harness.spec.model_families`): with local decisions applied, the ranks blend at different alphas
(same parameters, different outputs) and prune different seeds (parameter sets DDP cannot be built
on); with the reference, every rank's model stays bitwise identical.
"""

from __future__ import annotations

from collections.abc import Callable

from ..locations import REFERENCE, defect
from ..records.contract import Stage
from ..records.messages import MISMATCH, PROBE_OUTPUT, SKIPPED, CallRecord, ModelStep
from ..records.report import ScenarioResult
from ..spec.implementation import describe_implementation
from ..spec.judge.judging import diverged_before
from ..spec.judge.model_checks import completion, identity
from ..spec.scenarios.model_families import blend, fossilize_then_prune
from ..worlds.pool import WorldPool

DEFECT = defect("no_sync")
WORLD_SIZE = 2
DIGEST_CHARS = 8
HEADINGS = {
    DEFECT: "the defect, each rank applying its own gate decision",
    REFERENCE: "the reference, every rank applying rank 0's decision",
}
MODEL_STATES = {MISMATCH: "parameter sets differ: no DDP", SKIPPED: "no model step"}


def run_demo(say: Callable[[str], None] = print) -> int:
    """0 when the defect breaks the model and the reference keeps it identical, else 1."""
    for spec in (DEFECT, REFERENCE):
        describe_implementation(spec)
    scenarios = [blend(WORLD_SIZE), fossilize_then_prune(WORLD_SIZE)]
    broken: dict[str, list[str]] = {}
    say(
        "Each line is one call: for each rank its slot's stage and alpha, then the digest of its DDP model's"
        " output on a fixed probe after a training step (equal digests: identical outputs)."
    )
    with WorldPool() as pool:
        for spec in (DEFECT, REFERENCE):
            say(f"=== {HEADINGS[spec]}: {spec}")
            broken[spec] = []
            for scenario in scenarios:
                result = pool.run(spec, scenario)
                say(f"--- {scenario.name}")
                for line in _calls(result):
                    say(line)
                violations = completion(result).violations + identity(result).violations
                problems = [v.text + diverged_before(result, v.call) for v in violations]
                problems += [] if result.ok else [result.render()]
                broken[spec] += problems
                say("  => " + (problems[0] if problems else "identical on every rank after every step"))
    ok = bool(broken[DEFECT]) and not broken[REFERENCE]
    say(
        "the defect breaks the model; the reference keeps it identical"
        if ok
        else "UNEXPECTED: the defect did not break the model, or the reference did"
    )
    return 0 if ok else 1


def _calls(result: ScenarioResult) -> list[str]:
    lines = []
    length = max(len(o.records) for o in result.outcomes)
    for index in range(length):
        views = []
        op = result.scenario.ops[index]
        for outcome in result.outcomes:
            record = outcome.records[index] if index < len(outcome.records) else None
            views.append(f"rank {outcome.rank}: {_view(record)}")
        lines.append(f"  #{index:<3}{op.op:<11}{op.slot!r:<5} " + " | ".join(views))
    return lines


def _view(record: CallRecord | None) -> str:
    if record is None:
        return "(no record)"
    snapshot = record.snapshot or {}
    stage = snapshot.get("stage")
    alpha = snapshot.get("alpha", 0.0)
    lifecycle = f"{Stage(stage).name if stage is not None else 'no seed':<10} alpha {alpha:.2f}"
    step = ModelStep.from_record(record)
    if step is None:
        return lifecycle
    if step.digests:
        return f"{lifecycle} output {step.digests[PROBE_OUTPUT][:DIGEST_CHARS]}"
    return f"{lifecycle} {MODEL_STATES.get(step.status, step.status)}"

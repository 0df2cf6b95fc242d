"""The checks of the `ddp` profile: they read the `ModelStep` each rank recorded after each call.

Ranks are compared here, in the parent, from digests of every parameter, buffer and probe output;
the ranks themselves only exchanged their parameter sets. A call some rank did not finish is left
to the termination clauses, unless that rank was stuck in the model step itself. Every violation
names the DDP configuration the scenario trained under, and a step the configuration cannot take
(`NO_GRADIENT`, `GRAPH_CHANGED`) names the stage and the parameters, with what to change.
"""

from __future__ import annotations

from ...records.contract import stage_name
from ...records.ddp_configs import CONFIGS
from ...records.messages import FAILED, GRAPH_CHANGED, MISMATCH, NO_GRADIENT, PROBE_OUTPUT, TRAINED, ModelStep
from ...records.report import RankOutcome, ScenarioResult
from ...records.statuses import RankStatus
from .checks import Call, Judgement, calls, judged_calls, view_differences

MODEL_FRAME = "model_host.py"
SHOWN_PARAMS = 4
SHOWN_FIELDS = 2


def _steps(call: Call) -> list[ModelStep | None]:
    return [ModelStep.from_record(record) for record in call.records]


def _under(result: ScenarioResult) -> str:
    spelled = CONFIGS[result.scenario.ddp].spelled
    if result.world_size > 1:
        return f"under {spelled}"
    return f"under the graph rules of {spelled} (no DDP at world size 1)"


def completion(result: ScenarioResult) -> Judgement:
    """D1: every rank built the model and trained it after every call; no mismatch, failure or hang."""
    judgement = Judgement()
    under = _under(result)
    for call in judged_calls(result, judgement):
        steps = _steps(call)
        if any(step is not None and step.status == MISMATCH for step in steps):
            judgement.add("param_sets_differ", f"{call.label} {under}: {_param_set_difference(steps)}", call.index)
        for rank, step in enumerate(steps):
            if step is not None and step.status == FAILED and step.error:
                message = " ".join(str(step.error["message"]).split())[:200]
                text = f"{call.label} {under}: rank {rank}'s model step raised {step.error['type']}: {message}"
                judgement.add("model_step_failed", text, call.index)
        refused = next((s for s in steps if s is not None and s.status in (NO_GRADIENT, GRAPH_CHANGED)), None)
        if refused is not None:
            kind = "parameters_without_gradient" if refused.status == NO_GRADIENT else "graph_changed_in_stage"
            text = f"{call.label} {under}: {_refusal(refused, result.scenario.slots)}"
            judgement.add(kind, text, call.index)
    for outcome in result.outcomes:
        elsewhere = result.stall is not None and result.stall.rank != outcome.rank
        if (
            outcome.status == RankStatus.HUNG
            and MODEL_FRAME in outcome.stack
            and (elsewhere or _peer_left(result, outcome))
        ):
            judgement.unjudged += 1
        elif outcome.status == RankStatus.HUNG and MODEL_FRAME in outcome.stack:
            text = (
                f"rank {outcome.rank} hung in the model step after call #{outcome.current_call} {under}: the"
                " training step with the slots' modules never finished"
            )
            judgement.add("hung_in_model_step", text, outcome.current_call)
    return judgement


def _peer_left(result: ScenarioResult, waiting: RankOutcome) -> bool:
    """Another rank stopped (raised, exited, was killed) at an earlier call: `waiting` waits in the
    step for a peer that left, which is the termination clauses' to judge, not the model's."""
    return waiting.current_call is not None and any(
        other.status not in (RankStatus.OK, RankStatus.HUNG) and len(other.records) <= waiting.current_call
        for other in result.outcomes
    )


def _refusal(step: ModelStep, slots: list[str]) -> str:
    """What the step left without a gradient, stage by stage, and what to change."""
    if step.status == NO_GRADIENT:
        return (
            f"{_by_stage(step.ungraded, step.stages, slots)} without a gradient, which DDP's defaults"
            " (find_unused_parameters=False) refuse in the next step: train with find_unused_parameters=True,"
            " or give the seed a gradient path in that stage (e.g. straight-through: x + (seed(x) - seed(x).detach()))"
        )
    before = _names(step.used_before) or "none"
    now = _names(step.ungraded) or "none"
    stages = ", ".join(f"{slot} {step.stages.get(slot.replace('.', '_'), '?')}" for slot in slots)
    return (
        f"the parameters without a gradient changed while no slot changed stage ({stages}): {before} before,"
        f" {now} now; static_graph=True needs the same graph between rebuilds: change what the forward uses"
        " only with the stage, or do not train with static_graph"
    )


def _by_stage(names: list[str], stages: dict[str, str], slots: list[str]) -> str:
    """`stage TRAINING of slot 'a' leaves slots.a.seed.0.weight`, one part per slot."""
    parts = []
    for slot in slots:
        prefix = f"slots.{slot.replace('.', '_')}."
        own = [name for name in names if name.startswith(prefix)]
        if own:
            parts.append(f"stage {stages.get(prefix[6:-1], '?')} of slot {slot!r} leaves {_names(own)}")
    others = [name for name in names if not name.startswith("slots.")]
    if others:
        parts.append(f"the host network leaves {_names(others)}")
    return "; ".join(parts)


def _names(names: list[str]) -> str:
    more = f" and {len(names) - SHOWN_PARAMS} more" if len(names) > SHOWN_PARAMS else ""
    return ", ".join(names[:SHOWN_PARAMS]) + more


def _param_set_difference(steps: list[ModelStep | None]) -> str:
    """Names and shapes of the parameters not held by every rank, rank by rank."""
    sets = {rank: {(name, tuple(shape)) for name, shape, _ in step.params} for rank, step in enumerate(steps) if step}
    common = set.intersection(*sets.values()) if sets else set()
    lines = []
    for rank, params in sets.items():
        own = [f"{name} {list(shape)}" for name, shape in sorted(params - common)]
        more = f" and {len(own) - SHOWN_PARAMS} more" if len(own) > SHOWN_PARAMS else ""
        only = f", only it: {', '.join(own[:SHOWN_PARAMS])}{more}" if own else ""
        lines.append(f"rank {rank} {len(params)} parameters{only}")
    return "the ranks hold different parameter sets, on which DDP cannot be built: " + "; ".join(lines)


def identity(result: ScenarioResult) -> Judgement:
    """D2: after every step every parameter, buffer and the probe output are bitwise the same on every
    rank. A call whose step did not train on every rank is D1's to judge. A violation names the tensors
    that differ at that call in module order (the first call's are where the ranks' models parted), and
    the slots whose lifecycle state differs across ranks by then, the likely cause."""
    judgement = Judgement()
    for call in calls(result):
        if not call.symmetric:
            continue
        if not call.reported:
            judgement.unjudged += 1
            continue
        steps = _steps(call)
        if not all(step is not None and step.status == TRAINED for step in steps):
            continue
        judgement.judged += 1
        trained = [step for step in steps if step is not None]
        differing = [name for name in trained[0].digests if len({s.digests.get(name) for s in trained}) > 1]
        if not differing:
            continue
        tensors = [name for name in differing if name != PROBE_OUTPUT]
        first = tensors[0] if tensors else PROBE_OUTPUT
        values = "; ".join(f"rank {rank} {step.heads.get(first)}" for rank, step in enumerate(trained))
        if tensors:
            probe = ", and the probe output differs" if PROBE_OUTPUT in differing else ""
            kind, what = (
                "parameters_differ",
                f"{len(tensors)} parameters/buffers differ across ranks ({_names(tensors)}), first {first!r}:"
                f" {values}{probe}",
            )
        else:
            kind, what = (
                "probe_differs",
                f"every parameter and buffer is identical, but the probe output differs: {values}",
            )
        cause = _lifecycle_difference(result, call.index) or _lifecycle_views(call)
        judgement.add(kind, f"{call.label} {_under(result)}: {what}{cause}", call.index)
    return judgement


def _lifecycle_difference(result: ScenarioResult, index: int) -> str:
    """The slots whose latest snapshot up to call `index` differs across ranks, with the fields that
    differ: the lifecycle state the modules' difference follows from ("" when every slot agrees)."""
    parts = []
    for slot in result.scenario.slots:
        views = [_latest_snapshot(outcome, slot, index) for outcome in result.outcomes]
        differing = view_differences(views, SHOWN_FIELDS, skip=("stage_history",))
        if differing:
            parts.append(f"slot {slot!r} differs across ranks in {differing}")
    if not parts:
        return ""
    return (
        f"; by then {'; '.join(parts)}: the modules differ because the lifecycle state does; every rank must"
        " apply rank 0's decisions and their side effects"
    )


def _latest_snapshot(outcome: RankOutcome, slot: str, index: int) -> dict:
    """`slot`'s snapshot after the last call up to `index` on this rank that touched it ({} when none)."""
    touched = [r for r in outcome.records[: index + 1] if r.slot == slot and r.snapshot is not None]
    return touched[-1].snapshot if touched else {}


def _lifecycle_views(call: Call) -> str:
    """Each rank's stage and alpha of the slot the call touched, when the records carry them."""
    views = []
    for rank, record in enumerate(call.records):
        snapshot = (record.snapshot if record is not None else None) or {}
        if "stage" in snapshot:
            alpha = f" alpha {snapshot['alpha']:.3g}" if isinstance(snapshot.get("alpha"), float) else ""
            views.append(f"rank {rank} {stage_name(snapshot['stage'])}{alpha}")
    return f" ({', '.join(views)})" if views else ""


def model(result: ScenarioResult) -> Judgement:
    """D3: both D1 and D2, over the calls D1 reads."""
    judgement = completion(result)
    judgement.violations += identity(result).violations
    return judgement

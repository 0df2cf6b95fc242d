"""The gate rules of `LifecycleGates`, check by check, in strict and permissive mode.

Each case starts from a state that passes the gate exactly at its thresholds, so the boundary is
tested by every passing case and a single change makes exactly one check fail. Check names are
asserted in full: they are what an operator reads in the logs of every rank.
"""

from __future__ import annotations

import pytest

from reference_impl import (
    CallableGates,
    GateLevel,
    GateResult,
    LifecycleGates,
    SeedMetrics,
    SeedSlot,
    SeedStage,
    SeedState,
)

S = SeedStage
STRICT, PERMISSIVE = False, True
MODE_IDS = {STRICT: "strict", PERMISSIVE: "permissive"}

# Each gate's inputs exactly at its thresholds: the passing baseline the cases below change.
AT_THRESHOLD = {
    S.TRAINING: {"stage": S.GERMINATED},
    S.BLENDING: {"stage": S.TRAINING, "epochs_in_stage": 3, "improvement": 0.5, "ratio": 0.10},
    S.HOLDING: {
        "stage": S.BLENDING,
        "epochs_in_stage": 3,
        "alpha": 1.0 - 1e-6,
        "alpha_target": 1.0 - 1e-6,
        "alpha_holding": True,
    },
    S.FOSSILIZED: {"stage": S.HOLDING, "contribution": 1.0, "healthy": True},
}
METRIC_NAMES = {
    "improvement": "improvement_since_stage_start",
    "ratio": "gradient_norm_ratio",
    "contribution": "counterfactual_contribution",
    "healthy": "healthy",
}


def seed_state(**inputs: object) -> SeedState:
    metrics = {METRIC_NAMES[k]: inputs.pop(k) for k in list(inputs) if k in METRIC_NAMES}
    return SeedState("seed-1", "blueprint-1", metrics=SeedMetrics(**metrics), **inputs)


def evaluate(target: SeedStage, permissive: bool, **changes: object) -> GateResult:
    return LifecycleGates(permissive=permissive).check_gate(seed_state(**{**AT_THRESHOLD[target], **changes}), target)


CASES = [
    # (mode, target, changes from the threshold state, checks passed, checks failed)
    *[(mode, S.TRAINING, {}, ["seed_ready"], []) for mode in (STRICT, PERMISSIVE)],
    *[(mode, S.TRAINING, {"stage": S.TRAINING}, [], ["not_germinated_TRAINING"]) for mode in (STRICT, PERMISSIVE)],
    (STRICT, S.BLENDING, {}, ["improvement_sufficient", "epochs_in_stage", "gradient_ratio_ok"], []),
    (
        STRICT,
        S.BLENDING,
        {"improvement": 0.49},
        ["epochs_in_stage", "gradient_ratio_ok"],
        ["insufficient_improvement_0.49%_below_0.5%"],
    ),
    (
        STRICT,
        S.BLENDING,
        {"epochs_in_stage": 2},
        ["improvement_sufficient", "gradient_ratio_ok"],
        ["insufficient_epochs_2_below_3"],
    ),
    (
        STRICT,
        S.BLENDING,
        {"ratio": 0.09},
        ["improvement_sufficient", "epochs_in_stage"],
        ["low_gradient_ratio_0.09_below_0.1"],
    ),
    (
        STRICT,
        S.BLENDING,
        {"improvement": -1.0, "epochs_in_stage": 0, "ratio": 0.0},
        [],
        [
            "insufficient_improvement_-1.00%_below_0.5%",
            "insufficient_epochs_0_below_3",
            "low_gradient_ratio_0.00_below_0.1",
        ],
    ),
    (
        PERMISSIVE,
        S.BLENDING,
        {"epochs_in_stage": 1, "improvement": 0.0, "ratio": 0.0},
        ["epochs_in_stage"],
        [],
    ),
    (PERMISSIVE, S.BLENDING, {"epochs_in_stage": 0}, [], ["insufficient_epochs_0_below_1"]),
    (
        STRICT,
        S.HOLDING,
        {},
        ["alpha_target_full", "alpha_reached_target", "alpha_schedule_holding", "epochs_in_stage"],
        [],
    ),
    (
        STRICT,
        S.HOLDING,
        {"alpha": 1.0, "alpha_target": 1.0},
        ["alpha_target_full", "alpha_reached_target", "alpha_schedule_holding", "epochs_in_stage"],
        [],
    ),
    (
        STRICT,
        S.HOLDING,
        {"alpha": 1.0 - 1e-6, "alpha_target": 1.0},
        ["alpha_target_full", "alpha_reached_target", "alpha_schedule_holding", "epochs_in_stage"],
        [],
    ),
    (
        STRICT,
        S.HOLDING,
        {"alpha": 0.5, "alpha_target": 0.5},
        ["alpha_reached_target", "alpha_schedule_holding", "epochs_in_stage"],
        ["alpha_target_not_full_0.50"],
    ),
    (
        STRICT,
        S.HOLDING,
        {"alpha": 0.5, "alpha_target": 1.0},
        ["alpha_target_full", "alpha_schedule_holding", "epochs_in_stage"],
        ["alpha_below_target_0.50"],
    ),
    (
        STRICT,
        S.HOLDING,
        {"alpha_holding": False},
        ["alpha_target_full", "alpha_reached_target", "epochs_in_stage"],
        ["alpha_schedule_not_holding"],
    ),
    (
        STRICT,
        S.HOLDING,
        {"epochs_in_stage": 2},
        ["alpha_target_full", "alpha_reached_target", "alpha_schedule_holding"],
        ["insufficient_epochs_2_below_3"],
    ),
    (
        PERMISSIVE,
        S.HOLDING,
        {"epochs_in_stage": 0},
        ["alpha_target_full", "alpha_reached_target", "alpha_schedule_holding"],
        [],
    ),
    (
        PERMISSIVE,
        S.HOLDING,
        {"alpha_holding": False, "epochs_in_stage": 0},
        ["alpha_target_full", "alpha_reached_target"],
        ["alpha_schedule_not_holding"],
    ),
    (STRICT, S.FOSSILIZED, {}, ["contribution_known", "seed_healthy", "sufficient_contribution_1.00%"], []),
    (STRICT, S.FOSSILIZED, {"contribution": None}, ["seed_healthy"], ["contribution_unknown"]),
    (
        STRICT,
        S.FOSSILIZED,
        {"contribution": 0.42},
        ["contribution_known", "seed_healthy"],
        ["insufficient_contribution_0.42%_below_1.0%"],
    ),
    (
        STRICT,
        S.FOSSILIZED,
        {"healthy": False},
        ["contribution_known", "sufficient_contribution_1.00%"],
        ["seed_unhealthy"],
    ),
    (PERMISSIVE, S.FOSSILIZED, {"contribution": None}, ["seed_healthy"], []),
    (PERMISSIVE, S.FOSSILIZED, {"contribution": 0.0}, ["seed_healthy"], []),
    (PERMISSIVE, S.FOSSILIZED, {"healthy": False}, [], ["seed_unhealthy"]),
]


def case_id(case: tuple) -> str:
    mode, target, changes, _, failed = case
    what = ",".join(f"{k}={v}" for k, v in changes.items()) or "at-threshold"
    return f"{MODE_IDS[mode]}-{target.name}-{what}-{'fail' if failed else 'pass'}"


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_gate_checks(case):
    mode, target, changes, passed, failed = case
    result = evaluate(target, mode, **changes)
    assert result.checks_passed == passed
    assert result.checks_failed == failed
    assert result.passed is (not failed)
    assert result.score == pytest.approx(len(passed) / (len(passed) + len(failed)))


@pytest.mark.parametrize(
    "target, level",
    [
        (S.GERMINATED, GateLevel.G0),
        (S.TRAINING, GateLevel.G1),
        (S.BLENDING, GateLevel.G2),
        (S.HOLDING, GateLevel.G3),
        (S.FOSSILIZED, GateLevel.G5),
    ],
    ids=lambda v: v.name,
)
def test_gate_level_follows_target(target, level):
    state = seed_state(**AT_THRESHOLD.get(target, {}))
    assert LifecycleGates().check_gate(state, target).gate == level


def test_gate_level_values():
    assert {g.name: g.value for g in GateLevel} == {"G0": 0, "G1": 1, "G2": 2, "G3": 3, "G5": 5}


@pytest.mark.parametrize("target", [S.UNKNOWN, S.DORMANT, S.PRUNED, S.EMBARGOED, S.RESETTING], ids=lambda t: t.name)
def test_unmapped_target_raises(target):
    with pytest.raises(ValueError):
        LifecycleGates().check_gate(seed_state(), target)


@pytest.mark.parametrize(
    "seed_id, blueprint_id, passed, failed",
    [
        ("seed-1", "blueprint-1", ["seed_id_present", "blueprint_id_present"], []),
        ("", "blueprint-1", ["blueprint_id_present"], ["missing_seed_id"]),
        ("seed-1", "", ["seed_id_present"], ["missing_blueprint_id"]),
    ],
    ids=["both", "no-seed-id", "no-blueprint-id"],
)
def test_g0_checks_ids(seed_id, blueprint_id, passed, failed):
    result = LifecycleGates().check_gate(SeedState(seed_id, blueprint_id), S.GERMINATED)
    assert (result.checks_passed, result.checks_failed, result.passed) == (passed, failed, not failed)


def training_slot() -> SeedSlot:
    """A slot with the default (strict) gates, TRAINING for 3 epochs, with untouched metrics."""
    slot = SeedSlot("s")
    slot.germinate("seed-1", "blueprint-1")
    assert slot.advance_stage().passed
    for _ in range(3):
        slot.step_epoch()
    return slot


def test_default_gates_are_strict():
    slot = training_slot()
    result = slot.advance_stage()
    assert not result.passed
    assert result.checks_failed == [
        "insufficient_improvement_0.00%_below_0.5%",
        "low_gradient_ratio_0.00_below_0.1",
    ]
    assert slot.state.stage == S.TRAINING


def test_replacing_the_evaluator_changes_the_decision():
    slot = training_slot()
    slot.gates = LifecycleGates(permissive=True)
    assert slot.advance_stage().passed
    assert slot.state.stage == S.BLENDING


def test_a_callable_evaluator_decides_alone():
    """Whatever the lifecycle state says, a replaced evaluator's result is what advance_stage returns."""
    slot = SeedSlot("s")
    slot.germinate("seed-1", "blueprint-1")
    veto = GateResult(gate=GateLevel.G1, passed=False, checks_failed=["vetoed"], message="vetoed")
    slot.gates = CallableGates(lambda state, target: veto)
    assert slot.advance_stage() is veto
    assert slot.state.stage == S.GERMINATED


def test_metrics_fed_to_the_seed_change_the_decision():
    slot = training_slot()
    assert not slot.advance_stage().passed
    slot.state.metrics = SeedMetrics(improvement_since_stage_start=0.6, gradient_norm_ratio=0.2)
    result = slot.advance_stage()
    assert result.passed
    assert result.checks_passed == ["improvement_sufficient", "epochs_in_stage", "gradient_ratio_ok"]
    assert slot.state.stage == S.BLENDING


def test_full_lifecycle_under_strict_gates():
    """Metrics and the epoch clock alone carry a seed from GERMINATED to FOSSILIZED, at the default pace."""
    slot = SeedSlot("s")
    slot.germinate("seed-1", "blueprint-1")
    assert slot.advance_stage().passed
    slot.state.metrics = SeedMetrics(improvement_since_stage_start=0.5, gradient_norm_ratio=0.1)
    for _ in range(3):
        slot.step_epoch()
    assert slot.advance_stage().passed
    assert not slot.advance_stage().passed
    for _ in range(3):
        slot.step_epoch()
    assert slot.advance_stage().passed
    assert slot.state.stage == S.HOLDING
    assert not slot.advance_stage().passed
    slot.state.metrics = SeedMetrics(counterfactual_contribution=1.5)
    assert slot.advance_stage().passed
    assert slot.state.stage == S.FOSSILIZED

"""Gate results and gate evaluators.

A gate is evaluated locally on each rank from that rank's own view of the seed, which is exactly why
ranks can disagree. Evaluators are pluggable per slot (`SeedSlot.gates`): the default
`LifecycleGates` implements upstream's G0..G5 rules from a `SeedMetrics` record, and a test or harness
can install any object with `check_gate(state, target)` (or feed a rank its own metrics) without
touching the synchronisation code.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Protocol

from .stages import SeedStage

if TYPE_CHECKING:
    from .slot import SeedState


class GateLevel(IntEnum):
    G0 = 0
    G1 = 1
    G2 = 2
    G3 = 3
    G5 = 5


GATE_FOR_TARGET: dict[SeedStage, GateLevel] = {
    SeedStage.GERMINATED: GateLevel.G0,
    SeedStage.TRAINING: GateLevel.G1,
    SeedStage.BLENDING: GateLevel.G2,
    SeedStage.HOLDING: GateLevel.G3,
    SeedStage.FOSSILIZED: GateLevel.G5,
}


def gate_for(target: SeedStage) -> GateLevel:
    """The gate guarding `target`; unmapped targets raise, as in the newest upstream."""
    try:
        return GATE_FOR_TARGET[target]
    except KeyError:
        raise ValueError(f"no gate is mapped to target stage {target.name}") from None


@dataclass
class GateResult:
    gate: GateLevel
    passed: bool
    score: float = 0.0
    checks_passed: list[str] = field(default_factory=list)
    checks_failed: list[str] = field(default_factory=list)
    message: str = ""
    timestamp: float = field(default_factory=time.time)


@dataclass
class SeedMetrics:
    """One rank's view of a seed: the inputs of the G2, G3 and G5 checks that are not lifecycle state."""

    improvement_since_stage_start: float = 0.0
    gradient_norm_ratio: float = 0.0
    counterfactual_contribution: float | None = None
    healthy: bool = True


class GateEvaluator(Protocol):
    def check_gate(self, state: SeedState, target: SeedStage) -> GateResult: ...


BLEND_IMPROVEMENT_MIN = 0.5
BLEND_EPOCHS_MIN = 3
GRADIENT_RATIO_MIN = 0.10
HOLD_EPOCHS_MIN = 3
CONTRIBUTION_MIN = 1.0
ALPHA_EPSILON = 1e-6

Check = tuple[bool, str]


class LifecycleGates:
    """Upstream's gate rules; `permissive` relaxes G2 (one epoch), G3 (alpha only) and G5 (health only)."""

    def __init__(self, permissive: bool = False) -> None:
        self.permissive = permissive

    def check_gate(self, state: SeedState, target: SeedStage) -> GateResult:
        level = gate_for(target)
        checks = self._checks(level, state)
        passed_names = [name for ok, name in checks if ok]
        failed_names = [name for ok, name in checks if not ok]
        passed = not failed_names
        return GateResult(
            gate=level,
            passed=passed,
            score=len(passed_names) / len(checks) if checks else 1.0,
            checks_passed=passed_names,
            checks_failed=failed_names,
            message=f"{level.name} {'passed' if passed else 'failed'} for {target.name}",
        )

    def _checks(self, level: GateLevel, state: SeedState) -> list[Check]:
        return {
            GateLevel.G0: self._g0,
            GateLevel.G1: self._g1,
            GateLevel.G2: self._g2,
            GateLevel.G3: self._g3,
            GateLevel.G5: self._g5,
        }[level](state)

    @staticmethod
    def _g0(state: SeedState) -> list[Check]:
        return g0_checks(state.seed_id, state.blueprint_id)

    @staticmethod
    def _g1(state: SeedState) -> list[Check]:
        ready = state.stage == SeedStage.GERMINATED
        return [_check(ready, "seed_ready", f"not_germinated_{state.stage.name}")]

    def _g2(self, state: SeedState) -> list[Check]:
        epochs_min = 1 if self.permissive else BLEND_EPOCHS_MIN
        epochs = _at_least(state.epochs_in_stage, epochs_min, "epochs_in_stage", "insufficient_epochs")
        if self.permissive:
            return [epochs]
        gain = state.metrics.improvement_since_stage_start
        ratio = state.metrics.gradient_norm_ratio
        return [
            _check(
                gain >= BLEND_IMPROVEMENT_MIN,
                "improvement_sufficient",
                f"insufficient_improvement_{gain:.2f}%_below_{BLEND_IMPROVEMENT_MIN}%",
            ),
            epochs,
            _check(
                ratio >= GRADIENT_RATIO_MIN,
                "gradient_ratio_ok",
                f"low_gradient_ratio_{ratio:.2f}_below_{GRADIENT_RATIO_MIN}",
            ),
        ]

    def _g3(self, state: SeedState) -> list[Check]:
        checks = [
            _check(
                state.alpha_target >= 1.0 - ALPHA_EPSILON,
                "alpha_target_full",
                f"alpha_target_not_full_{state.alpha_target:.2f}",
            ),
            _check(
                state.alpha >= state.alpha_target - ALPHA_EPSILON,
                "alpha_reached_target",
                f"alpha_below_target_{state.alpha:.2f}",
            ),
            _check(state.alpha_holding, "alpha_schedule_holding", "alpha_schedule_not_holding"),
        ]
        if not self.permissive:
            checks.append(_at_least(state.epochs_in_stage, HOLD_EPOCHS_MIN, "epochs_in_stage", "insufficient_epochs"))
        return checks

    def _g5(self, state: SeedState) -> list[Check]:
        health = _check(state.metrics.healthy, "seed_healthy", "seed_unhealthy")
        if self.permissive:
            return [health]
        contribution = state.metrics.counterfactual_contribution
        if contribution is None:
            return [(False, "contribution_unknown"), health]
        return [
            (True, "contribution_known"),
            health,
            _check(
                contribution >= CONTRIBUTION_MIN,
                f"sufficient_contribution_{contribution:.2f}%",
                f"insufficient_contribution_{contribution:.2f}%_below_{CONTRIBUTION_MIN}%",
            ),
        ]


def g0_checks(seed_id: str, blueprint_id: str) -> list[Check]:
    """G0 is structural and checked by `germinate()` itself, never through a pluggable evaluator."""
    return [
        _check(bool(seed_id), "seed_id_present", "missing_seed_id"),
        _check(bool(blueprint_id), "blueprint_id_present", "missing_blueprint_id"),
    ]


def _check(ok: bool, ok_name: str, fail_name: str) -> Check:
    return ok, ok_name if ok else fail_name


def _at_least(value: int, minimum: int, ok_name: str, fail_name: str) -> Check:
    return _check(value >= minimum, ok_name, f"{fail_name}_{value}_below_{minimum}")


class CallableGates:
    """Adapts a plain function to the evaluator interface: the seam tests and the harness use."""

    def __init__(self, fn: Callable[[SeedState, SeedStage], GateResult]) -> None:
        self.fn = fn

    def check_gate(self, state: SeedState, target: SeedStage) -> GateResult:
        return self.fn(state, target)

"""`SeedSlot`: one seed's lifecycle, with gate decisions that are rank-consistent under DDP.

`advance_stage()` follows upstream after the BUG-030 fix, with two changes that make it fail fast
instead of hanging or diverging (see `reference_impl.sync` for the round itself):

* Arguments are checked before anything else: a failure stage or an ungated stage as explicit
  target raises `ValueError` on every rank at the same call, whatever each rank's state.
* Under a process group the early exits (`no_active_seed`, `no_valid_transition`) still take part
  in the round, carrying their outcome in the frame. Ranks that disagree about a seed then get
  `EarlyExitDisagreementError` at that call, instead of one rank waiting in a broadcast the others
  never join (a deadlock) or pairing with a later, unrelated call.

A default target with no gate (RESETTING -> DORMANT) is reported as `no_valid_transition`: the
cool-down pipeline is driven by the epoch clock, never by a gate decision.

The slot is the seed's part of the model, a `torch.nn.Module` over features of shape `(batch, width)`:
`germinate()` builds the seed from its blueprint (`reference_impl.blueprints`, the same weights on
every rank), `forward(x)` is `x` until the seed blends (the seed trains meanwhile through a
straight-through path, `x + (seed(x) - seed(x).detach())`, as upstream's does: every parameter gets
a gradient in every stage, so DDP's defaults hold), `x + alpha * seed(x)` while BLENDING or HOLDING,
`x + seed(x)` once FOSSILIZED, and pruning drops the seed and its parameters.

A slot checkpoints through `state_dict()` (`reference_impl.checkpoint`): the seed's weights and buffers
as tensors, the lifecycle as extra-state primitives; `load_checkpoint()` restores one whole or not at all.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import torch
from torch import nn

from .blueprints import build_seed
from .checkpoint import CheckpointError, checked_extra_state, extra_state
from .gates import (
    ALPHA_EPSILON,
    GATE_FOR_TARGET,
    GateEvaluator,
    GateLevel,
    GateResult,
    LifecycleGates,
    SeedMetrics,
    g0_checks,
)
from .stages import (
    FAILURE_STAGES,
    SeedStage,
    default_target,
    is_valid_transition,
)
from .sync import (
    GATE_ROUND,
    NO_ACTIVE_SEED,
    NO_VALID_TRANSITION,
    CallIdentity,
    sync_gate_decision,
)

PRUNABLE_STAGES = frozenset({SeedStage.GERMINATED, SeedStage.TRAINING, SeedStage.BLENDING, SeedStage.HOLDING})
BLENDED_STAGES = frozenset({SeedStage.BLENDING, SeedStage.HOLDING})
DEFAULT_WIDTH = 8


@dataclass
class SeedState:
    seed_id: str
    blueprint_id: str
    stage: SeedStage = SeedStage.DORMANT
    previous_stage: SeedStage = SeedStage.UNKNOWN
    epochs_in_stage: int = 0
    stage_history: list[SeedStage] = field(default_factory=list)
    alpha: float = 0.0
    alpha_target: float = 0.0
    alpha_holding: bool = False
    metrics: SeedMetrics = field(default_factory=SeedMetrics)

    def enter(self, stage: SeedStage) -> None:
        self.previous_stage = self.stage
        self.stage = stage
        self.epochs_in_stage = 0
        self.stage_history.append(stage)


class SeedSlot(nn.Module):
    """A place for one seed. `gates` is any `GateEvaluator`; replace it to script decisions."""

    def __init__(
        self,
        slot_id: str,
        gates: GateEvaluator | None = None,
        *,
        blend_epochs: int = 3,
        embargo_epochs: int = 2,
        width: int = DEFAULT_WIDTH,
    ) -> None:
        super().__init__()
        self.width = width
        self.seed: nn.Module | None = None
        self.slot_id = slot_id
        self.gates: GateEvaluator = gates if gates is not None else LifecycleGates()
        self.blend_epochs = blend_epochs
        self.embargo_epochs = embargo_epochs
        self.state: SeedState | None = None
        self.calls = 0

    def germinate(self, seed_id: str, blueprint_id: str) -> SeedState:
        """DORMANT -> GERMINATED after G0; local and unsynchronised, so call it on every rank."""
        if self.state is not None:
            raise ValueError(f"slot {self.slot_id!r} already holds seed {self.state.seed_id!r}")
        failed = [name for ok, name in g0_checks(seed_id, blueprint_id) if not ok]
        if failed:
            raise ValueError(f"slot {self.slot_id!r}: G0 failed: {', '.join(failed)}")
        state = SeedState(seed_id=seed_id, blueprint_id=blueprint_id, stage_history=[SeedStage.DORMANT])
        state.enter(SeedStage.GERMINATED)
        self.seed = build_seed(blueprint_id, seed_id, self.width)
        self.state = state
        return state

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.seed is None:
            return x
        weight = self.blend_weight()
        if weight is None:
            # Straight-through, as upstream trains a seed: the output is exactly `x`, yet every seed
            # parameter gets a gradient, so DDP's defaults (every parameter used) hold in every stage.
            seed = self.seed(x)
            return x + (seed - seed.detach())
        return x + weight * self.seed(x)

    def blend_weight(self) -> float | None:
        """The weight of the seed's output in `forward`; None while the seed takes no part in it."""
        state = self.state
        if state is None:
            return None
        if state.stage == SeedStage.FOSSILIZED:
            return 1.0
        return state.alpha if state.stage in BLENDED_STAGES else None

    def advance_stage(self, target: SeedStage | int | None = None) -> GateResult:
        explicit = None if target is None else _check_target(SeedStage(target))
        call = self.calls
        self.calls += 1
        state = self.state
        if state is None:
            identity = CallIdentity(self.slot_id, call, None, explicit, NO_ACTIVE_SEED)
            return self._sync_gate_decision(_early_exit(NO_ACTIVE_SEED, self.slot_id), identity)
        chosen = explicit if explicit is not None else default_target(state.stage)
        if chosen is None or chosen not in GATE_FOR_TARGET:
            identity = CallIdentity(self.slot_id, call, int(state.stage), None, NO_VALID_TRANSITION)
            return self._sync_gate_decision(_early_exit(NO_VALID_TRANSITION, self.slot_id), identity)
        identity = CallIdentity(self.slot_id, call, int(state.stage), int(chosen), GATE_ROUND)
        result = self._sync_gate_decision(self.gates.check_gate(state, chosen), identity)
        if not result.passed:
            return result
        if not is_valid_transition(state.stage, chosen):
            return dataclasses.replace(
                result,
                passed=False,
                checks_failed=[*result.checks_failed, "transition_failed"],
                message=f"{result.message} [transition {state.stage.name}->{chosen.name} refused]",
            )
        self._transition(state, chosen)
        return result

    def _sync_gate_decision(self, result: GateResult, identity: CallIdentity) -> GateResult:
        return sync_gate_decision(result, identity)

    def prune(self) -> bool:
        """Move to PRUNED (no gate, unsynchronised). False when there is nothing prunable."""
        if self.state is None or self.state.stage not in PRUNABLE_STAGES:
            return False
        self._transition(self.state, SeedStage.PRUNED)
        return True

    def schedule_prune(self) -> bool:
        """HOLDING -> BLENDING towards alpha 0; the epoch clock prunes once alpha reaches it."""
        if self.state is None or self.state.stage != SeedStage.HOLDING:
            return False
        self.state.enter(SeedStage.BLENDING)
        self.state.alpha_target = 0.0
        self.state.alpha_holding = False
        return True

    def step_epoch(self) -> None:
        """The per-epoch clock: blend alpha and run the cool-down pipeline. Never a gate decision."""
        state = self.state
        if state is None:
            return
        state.epochs_in_stage += 1
        if state.stage == SeedStage.BLENDING:
            self._blend(state)
        elif state.stage == SeedStage.PRUNED:
            state.enter(SeedStage.EMBARGOED)
        elif state.stage == SeedStage.EMBARGOED and state.epochs_in_stage >= self.embargo_epochs:
            state.enter(SeedStage.RESETTING)
        elif state.stage == SeedStage.RESETTING:
            self.state = None

    def snapshot(self) -> dict:
        """A plain, comparable record of the slot: equal on every rank when the lifecycle agrees."""
        state = self.state
        if state is None:
            return {"slot_id": self.slot_id, "stage": None, "calls": self.calls}
        return {
            "slot_id": self.slot_id,
            "seed_id": state.seed_id,
            "stage": int(state.stage),
            "previous_stage": int(state.previous_stage),
            "epochs_in_stage": state.epochs_in_stage,
            "stage_history": [int(s) for s in state.stage_history],
            "alpha": state.alpha,
            "alpha_target": state.alpha_target,
            "alpha_holding": state.alpha_holding,
            "calls": self.calls,
        }

    def get_extra_state(self) -> dict:
        return extra_state(self)

    def set_extra_state(self, state: dict) -> None:
        """Restore the lifecycle, checked whole first, and rebuild the seed module its weights load into next."""
        restored = checked_extra_state(state, self.slot_id, self.width)
        seed_state = None if restored.state is None else SeedState(**restored.state)
        has_seed = seed_state is not None and restored.has_seed
        self.seed = build_seed(seed_state.blueprint_id, seed_state.seed_id, self.width) if has_seed else None
        self.state, self.calls = seed_state, restored.calls

    def load_checkpoint(self, checkpoint: dict) -> None:
        """`load_state_dict(checkpoint)`, strict; on any refusal the slot is left exactly as it was."""
        before = (self.state, self.seed, self.calls)
        try:
            self.load_state_dict(checkpoint)
        except (CheckpointError, RuntimeError) as exc:
            self.state, self.seed, self.calls = before
            raise CheckpointError(f"slot {self.slot_id!r} refused the checkpoint: {exc}") from exc

    def _transition(self, state: SeedState, target: SeedStage) -> None:
        state.enter(target)
        if target == SeedStage.BLENDING:
            state.alpha_target = 1.0
            state.alpha_holding = False
        elif target == SeedStage.HOLDING:
            state.alpha = state.alpha_target = 1.0
            state.alpha_holding = True
        elif target == SeedStage.PRUNED:
            state.alpha = state.alpha_target = 0.0
            state.alpha_holding = False
            self.seed = None

    def _blend(self, state: SeedState) -> None:
        """Move alpha one step towards its target; snapping within ALPHA_EPSILON keeps float error from
        costing the schedule an extra epoch."""
        step = 1.0 / self.blend_epochs
        if state.alpha < state.alpha_target:
            state.alpha = min(state.alpha_target, state.alpha + step)
        else:
            state.alpha = max(state.alpha_target, state.alpha - step)
        if abs(state.alpha - state.alpha_target) <= ALPHA_EPSILON:
            state.alpha = state.alpha_target
        state.alpha_holding = state.alpha == state.alpha_target
        if state.alpha_holding and state.alpha_target == 0.0:
            self._transition(state, SeedStage.PRUNED)


def _check_target(target: SeedStage) -> SeedStage:
    if target in FAILURE_STAGES:
        raise ValueError(f"{target.name} is a failure stage: call prune() instead of advance_stage()")
    if target not in GATE_FOR_TARGET:
        raise ValueError(f"no gate is mapped to target stage {target.name}")
    return target


def _early_exit(check: str, slot_id: str) -> GateResult:
    return GateResult(
        gate=GateLevel.G0,
        passed=False,
        score=0.0,
        checks_failed=[check],
        message=f"slot {slot_id!r}: {check}",
    )

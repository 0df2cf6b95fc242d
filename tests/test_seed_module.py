"""The reference `SeedSlot` as a module: blueprints, deterministic weights, forward by stage, prune."""

from __future__ import annotations

import pytest
import torch

from reference_impl.blueprints import BLUEPRINTS, build_seed
from reference_impl.gates import CallableGates, GateLevel, GateResult
from reference_impl.slot import SeedSlot
from reference_impl.stages import SeedStage

WIDTH = 8


def passing(state, target) -> GateResult:
    return GateResult(gate=GateLevel.G1, passed=True, score=1.0)


def slot_at(stage: SeedStage, blueprint: str = "residual") -> SeedSlot:
    slot = SeedSlot("s", CallableGates(passing), width=WIDTH)
    slot.germinate("seed-1", blueprint)
    for step in (SeedStage.TRAINING, SeedStage.BLENDING, SeedStage.HOLDING, SeedStage.FOSSILIZED):
        if slot.state.stage == stage:
            break
        slot.advance_stage(step)
    assert slot.state.stage == stage
    return slot


def features() -> torch.Tensor:
    return torch.randn(4, WIDTH, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("blueprint", sorted(BLUEPRINTS))
def test_same_seed_id_builds_the_same_weights_whatever_the_global_random_state(blueprint):
    torch.manual_seed(1)
    first = build_seed(blueprint, "seed-x", WIDTH)
    torch.manual_seed(2)
    torch.rand(100)
    second = build_seed(blueprint, "seed-x", WIDTH)
    other = build_seed(blueprint, "seed-y", WIDTH)
    pairs = list(zip(first.parameters(), second.parameters(), other.parameters(), strict=True))
    assert pairs and all(torch.equal(a, b) for a, b, _ in pairs)
    assert not all(torch.equal(a, c) for a, _, c in pairs)


def test_blueprints_keep_the_feature_shape_and_an_unknown_id_builds_the_default():
    for blueprint in (*BLUEPRINTS, "blueprint-1"):
        assert build_seed(blueprint, "s", WIDTH).eval()(features()).shape == (4, WIDTH)
    unknown = [p.shape for p in build_seed("blueprint-1", "s", WIDTH).parameters()]
    assert unknown == [p.shape for p in build_seed("residual", "s", WIDTH).parameters()]


def test_forward_is_the_identity_until_the_seed_blends():
    x = features()
    empty = SeedSlot("s", width=WIDTH)
    assert torch.equal(empty(x), x) and not list(empty.parameters())
    for stage in (SeedStage.GERMINATED, SeedStage.TRAINING):
        slot = slot_at(stage)
        assert list(slot.parameters()) and torch.equal(slot(x), x)


def test_the_seed_learns_straight_through_before_it_blends():
    """Every seed parameter gets a gradient while the output stays `x`: DDP's defaults hold in every stage."""
    for stage in (SeedStage.GERMINATED, SeedStage.TRAINING):
        slot = slot_at(stage)
        slot(features()).square().sum().backward()
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in slot.parameters()), stage


def test_forward_blends_by_alpha_and_fossilized_is_at_full_weight():
    x = features()
    slot = slot_at(SeedStage.BLENDING)
    seed_out = slot.seed(x)
    assert torch.equal(slot(x), x + 0.0 * seed_out)
    slot.step_epoch()
    assert 0 < slot.state.alpha < 1
    assert torch.allclose(slot(x), x + slot.state.alpha * seed_out)
    slot.step_epoch()
    slot.step_epoch()
    slot.advance_stage(SeedStage.HOLDING)
    assert torch.allclose(slot(x), x + seed_out)
    slot.advance_stage(SeedStage.FOSSILIZED)
    assert torch.allclose(slot(x), x + seed_out)


def test_prune_drops_the_seed_and_its_parameters():
    slot = slot_at(SeedStage.BLENDING)
    assert slot.prune()
    assert slot.seed is None and not list(slot.parameters())
    assert torch.equal(slot(features()), features())


def test_scheduled_prune_drops_the_seed_when_alpha_reaches_zero():
    slot = slot_at(SeedStage.HOLDING)
    assert slot.schedule_prune()
    for _ in range(3):
        slot.step_epoch()
    assert slot.state.stage == SeedStage.PRUNED and slot.seed is None

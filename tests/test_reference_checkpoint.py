"""The reference `SeedSlot`'s checkpoint: weights-only safe, restored whole into a fresh slot or refused whole."""

from __future__ import annotations

import io

import pytest
import torch

from harness.errors import ScenarioError
from harness.records.scenario import Op, Scenario
from reference_impl.checkpoint import CheckpointError
from reference_impl.gates import CallableGates, GateLevel, GateResult
from reference_impl.slot import SeedSlot
from reference_impl.stages import SeedStage


def passing(state, target) -> GateResult:
    return GateResult(gate=GateLevel.G1, passed=True, score=1.0)


def blending_slot(blueprint: str = "normed") -> SeedSlot:
    """A slot mid-blend whose seed has trained weights and updated buffers."""
    slot = SeedSlot("s", CallableGates(passing))
    slot.germinate("seed-1", blueprint)
    slot.advance_stage(SeedStage.TRAINING)
    slot.advance_stage(SeedStage.BLENDING)
    slot.step_epoch()
    optimizer = torch.optim.SGD(slot.parameters(), lr=0.1)
    slot(torch.randn(4, slot.width)).sum().backward()
    optimizer.step()
    return slot


def travelled(checkpoint: dict) -> dict:
    """The checkpoint as a file carries it: `torch.save`, then `torch.load(weights_only=True)`."""
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    return torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)


def tensors(slot: SeedSlot) -> dict[str, torch.Tensor]:
    return {k: v for k, v in slot.state_dict().items() if isinstance(v, torch.Tensor)}


def test_a_restored_slot_is_bitwise_the_one_checkpointed():
    original = blending_slot()
    restored = SeedSlot("s")
    restored.load_checkpoint(travelled(original.state_dict()))
    assert restored.snapshot() == original.snapshot() and restored.calls == original.calls
    assert tensors(restored).keys() == tensors(original).keys()
    assert all(torch.equal(tensors(restored)[k], v) for k, v in tensors(original).items())
    probe = torch.randn(3, original.width)
    original.eval(), restored.eval()
    assert torch.equal(original(probe), restored(probe))


@pytest.mark.parametrize("stage", [SeedStage.PRUNED, SeedStage.EMBARGOED, None])
def test_a_slot_without_a_seed_module_restores_without_one(stage):
    original = blending_slot()
    original.prune()
    while original.state is not None and original.state.stage != stage:
        original.step_epoch()
    restored = SeedSlot("s")
    restored.load_checkpoint(travelled(original.state_dict()))
    assert restored.seed is None and restored.snapshot() == original.snapshot()


def test_another_slots_checkpoint_is_refused_and_nothing_applied():
    checkpoint = travelled(blending_slot().state_dict())
    other = SeedSlot("t")
    with pytest.raises(CheckpointError, match="checkpoint of slot 's' cannot be restored into slot 't'"):
        other.load_checkpoint(checkpoint)
    assert other.state is None and other.seed is None and other.calls == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e.pop("calls"), "checkpoint lacks calls"),
        (lambda e: e.update(extra=1), "checkpoint has unknown extra"),
        (lambda e: e.update(schema=99), "schema 99"),
        (lambda e: e["state"].pop("alpha"), "checkpoint state lacks alpha"),
        (lambda e: e["state"].update(stage=42), "42"),
        (lambda e: e["state"].update(epochs_in_stage="1"), "epochs_in_stage"),
    ],
)
def test_a_malformed_lifecycle_state_is_refused_and_the_slot_left_as_it_was(change, message):
    checkpoint = travelled(blending_slot().state_dict())
    change(checkpoint["_extra_state"])
    target = blending_slot("residual")
    before = (target.snapshot(), target.seed)
    with pytest.raises(CheckpointError, match=message):
        target.load_checkpoint(checkpoint)
    assert (target.snapshot(), target.seed) == before


def test_weights_that_do_not_fit_leave_the_slot_as_it_was():
    checkpoint = travelled(blending_slot().state_dict())
    checkpoint["seed.1.weight"] = torch.zeros(3, 3)
    target = SeedSlot("s")
    with pytest.raises(CheckpointError, match="seed.1.weight"):
        target.load_checkpoint(checkpoint)
    assert target.state is None and target.seed is None


def test_a_resume_source_must_be_a_rank_of_a_resume_op():
    ops = [Op("resume", "a", source=1)]
    assert Scenario("ok", 2, ["a"], ops).validate().ops[0].source == 1
    with pytest.raises(ScenarioError, match="source must be a rank of a resume op"):
        Scenario("far", 2, ["a"], [Op("resume", "a", source=2)]).validate()
    with pytest.raises(ScenarioError, match="source must be a rank of a resume op"):
        Scenario("advance", 2, ["a"], [Op("advance", "a", source=0)]).validate()
    assert Scenario.from_json(Scenario("ok", 2, ["a"], ops).to_json()).ops[0].source == 1


def test_a_fork_names_another_slot_of_the_scenario_and_survives_json():
    ops = [Op("resume", "twin", origin="a")]
    assert Scenario("ok", 2, ["a", "twin"], ops).validate().ops[0].origin == "a"
    assert Scenario.from_json(Scenario("ok", 2, ["a", "twin"], ops).to_json()).ops[0].origin == "a"
    for name, slots, op in [
        ("unknown", ["a", "twin"], Op("resume", "twin", origin="b")),
        ("itself", ["a"], Op("resume", "a", origin="a")),
        ("advance", ["a", "twin"], Op("advance", "twin", origin="a")),
    ]:
        with pytest.raises(ScenarioError, match="origin must name another slot"):
            Scenario(name, 2, slots, [op]).validate()

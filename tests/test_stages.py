"""The seed lifecycle state machine of `SeedSlot`, in one process with no process group.

A scripted always-pass gate takes the gate rules out of the picture, so every outcome here is the
state machine's own: the stage table, the default targets, the early exits, the epoch clock and the
side effects of entering a stage. Expected tables are written out from lifecycle-facts.md rather
than imported, so the reference is judged against the facts, not against itself.
"""

from __future__ import annotations

import pytest

from harness.records.contract import expected_transition
from reference_impl import CallableGates, GateLevel, GateResult, SeedSlot, SeedStage

S = SeedStage

ALLOWED = {
    S.UNKNOWN: (S.DORMANT,),
    S.DORMANT: (S.GERMINATED,),
    S.GERMINATED: (S.TRAINING, S.PRUNED),
    S.TRAINING: (S.BLENDING, S.PRUNED),
    S.BLENDING: (S.HOLDING, S.PRUNED),
    S.HOLDING: (S.FOSSILIZED, S.BLENDING, S.PRUNED),
    S.FOSSILIZED: (),
    S.PRUNED: (S.EMBARGOED,),
    S.EMBARGOED: (S.RESETTING,),
    S.RESETTING: (S.DORMANT,),
}
GATED_TARGETS = (S.GERMINATED, S.TRAINING, S.BLENDING, S.HOLDING, S.FOSSILIZED)
NOT_ADVANCE_TARGETS = (S.UNKNOWN, S.DORMANT, S.PRUNED, S.EMBARGOED, S.RESETTING)
COOL_DOWN = (S.PRUNED, S.EMBARGOED, S.RESETTING)
REACHABLE = (S.GERMINATED, S.TRAINING, S.BLENDING, S.HOLDING, S.FOSSILIZED, *COOL_DOWN)
PRUNABLE = (S.GERMINATED, S.TRAINING, S.BLENDING, S.HOLDING)
EMBARGO_EPOCHS = 2
BLEND_EPOCHS = 4
# Epoch-clock ticks from PRUNED to each cool-down stage, with EMBARGO_EPOCHS = 2.
COOL_DOWN_TICKS = {S.PRUNED: 0, S.EMBARGOED: 1, S.RESETTING: 3}


class ScriptedSlot:
    """A slot whose gate always passes and records every target it is asked about."""

    def __init__(self, **options: int) -> None:
        self.asked: list[SeedStage] = []
        options = {"blend_epochs": BLEND_EPOCHS, "embargo_epochs": EMBARGO_EPOCHS, **options}
        self.slot = SeedSlot("s", CallableGates(self._always_pass), **options)

    def _always_pass(self, state: object, target: SeedStage) -> GateResult:
        self.asked.append(target)
        return GateResult(gate=GateLevel.G0, passed=True, score=1.0, checks_passed=["scripted_pass"])

    def drive_to(self, stage: SeedStage) -> SeedSlot:
        """Germinate, then take the shortest path to `stage`; the gate log starts empty afterwards."""
        slot = self.slot
        slot.germinate("seed-1", "blueprint-1")
        path = (S.TRAINING, S.BLENDING, S.HOLDING, S.FOSSILIZED)
        if stage in path:
            for step in path[: path.index(stage) + 1]:
                assert slot.advance_stage(step).passed
        if stage in COOL_DOWN:
            assert slot.prune()
            for _ in range(COOL_DOWN_TICKS[stage]):
                slot.step_epoch()
        assert slot.state.stage == stage
        self.asked.clear()
        return slot


def slot_at(stage: SeedStage, **options: int) -> tuple[SeedSlot, list[SeedStage]]:
    scripted = ScriptedSlot(**options)
    return scripted.drive_to(stage), scripted.asked


def pair_id(pair: tuple[SeedStage, SeedStage]) -> str:
    return f"{pair[0].name}->{pair[1].name}"


ALLOWED_PAIRS = [(s, t) for s in REACHABLE for t in GATED_TARGETS if t in ALLOWED[s]]
REFUSED_PAIRS = [(s, t) for s in REACHABLE for t in GATED_TARGETS if t not in ALLOWED[s]]
RAISING_PAIRS = [(s, t) for s in REACHABLE for t in NOT_ADVANCE_TARGETS]


def test_stage_values_are_the_wire_contract():
    """Upstream serialises stages as integers, so every value is fixed and 5 stays unused."""
    assert {s.name: s.value for s in SeedStage} == {
        "UNKNOWN": 0,
        "DORMANT": 1,
        "GERMINATED": 2,
        "TRAINING": 3,
        "BLENDING": 4,
        "HOLDING": 6,
        "FOSSILIZED": 7,
        "PRUNED": 8,
        "EMBARGOED": 9,
        "RESETTING": 10,
    }
    with pytest.raises(ValueError):
        SeedStage(5)


@pytest.mark.parametrize("pair", ALLOWED_PAIRS, ids=pair_id)
def test_allowed_transition_passes(pair):
    source, target = pair
    slot, asked = slot_at(source)
    result = slot.advance_stage(target)
    assert result.passed
    assert asked == [target]
    assert slot.state.stage == target
    assert slot.state.previous_stage == source
    assert slot.state.stage_history[-1] == target
    assert slot.state.epochs_in_stage == 0


@pytest.mark.parametrize("pair", REFUSED_PAIRS, ids=pair_id)
def test_gated_but_forbidden_transition_fails_and_changes_nothing(pair):
    """The gate passes, but the state machine refuses: the result says so and the seed is untouched."""
    source, target = pair
    slot, asked = slot_at(source)
    before = {**slot.snapshot(), "calls": None}
    result = slot.advance_stage(target)
    assert not result.passed
    assert asked == [target]
    assert result.checks_failed == ["transition_failed"]
    assert slot.state.stage == source
    assert {**slot.snapshot(), "calls": None} == before


@pytest.mark.parametrize("pair", RAISING_PAIRS, ids=pair_id)
def test_failure_or_ungated_target_raises(pair):
    """Raised before the call is counted or the gate asked, so every rank raises at the same call."""
    source, target = pair
    slot, asked = slot_at(source)
    before = slot.snapshot()
    with pytest.raises(ValueError):
        slot.advance_stage(target)
    assert asked == []
    assert slot.snapshot() == before


@pytest.mark.parametrize("target", NOT_ADVANCE_TARGETS, ids=lambda t: t.name)
def test_failure_or_ungated_target_raises_without_a_seed(target):
    slot = ScriptedSlot().slot
    with pytest.raises(ValueError):
        slot.advance_stage(target)
    assert slot.calls == 0


def test_target_may_be_a_plain_int_but_not_an_unknown_value():
    slot, _ = slot_at(S.GERMINATED)
    assert slot.advance_stage(3).passed
    assert slot.state.stage == S.TRAINING
    with pytest.raises(ValueError):
        slot.advance_stage(5)


@pytest.mark.parametrize(
    "pair",
    [
        (S.GERMINATED, S.TRAINING),
        (S.TRAINING, S.BLENDING),
        (S.BLENDING, S.HOLDING),
        (S.HOLDING, S.FOSSILIZED),
    ],
    ids=pair_id,
)
def test_default_target_is_first_non_failure_target(pair):
    source, expected = pair
    slot, asked = slot_at(source)
    assert slot.advance_stage().passed
    assert asked == [expected]
    assert slot.state.stage == expected


@pytest.mark.parametrize("stage", [S.FOSSILIZED, *COOL_DOWN], ids=lambda s: s.name)
def test_no_default_target_gives_no_valid_transition(stage):
    """FOSSILIZED has no target at all; the cool-down stages move by the epoch clock, never a gate."""
    slot, asked = slot_at(stage)
    result = slot.advance_stage()
    assert not result.passed
    assert "no_valid_transition" in result.checks_failed
    assert asked == []
    assert slot.state.stage == stage


@pytest.mark.parametrize("stage", REACHABLE, ids=lambda s: s.name)
def test_the_suites_contract_expects_what_the_reference_does_on_a_default_advance(stage):
    """The oracle (`harness.records.contract`) is written apart from the reference: they must agree."""
    slot, _ = slot_at(stage)
    result = slot.advance_stage()
    did = "moves" if result.passed and slot.state.stage != stage else "no_valid_transition"
    assert did == "moves" or "no_valid_transition" in result.checks_failed
    assert expected_transition(int(stage), None) == did


@pytest.mark.parametrize("target", [None, S.TRAINING], ids=["default", "TRAINING"])
def test_empty_slot_gives_no_active_seed(target):
    scripted = ScriptedSlot()
    result = scripted.slot.advance_stage(target)
    assert not result.passed
    assert "no_active_seed" in result.checks_failed
    assert scripted.asked == []
    assert scripted.slot.state is None


def test_germinate_enters_germinated_from_dormant():
    slot = ScriptedSlot().slot
    state = slot.germinate("seed-1", "blueprint-1")
    assert slot.state is state
    assert state.stage == S.GERMINATED
    assert state.previous_stage == S.DORMANT
    assert state.stage_history == [S.DORMANT, S.GERMINATED]


@pytest.mark.parametrize(
    "seed_id, blueprint_id, failed",
    [
        ("", "blueprint-1", ["missing_seed_id"]),
        ("seed-1", "", ["missing_blueprint_id"]),
        ("", "", ["missing_seed_id", "missing_blueprint_id"]),
    ],
    ids=["no-seed-id", "no-blueprint-id", "neither"],
)
def test_germinate_g0_raises_on_empty_ids(seed_id, blueprint_id, failed):
    slot = ScriptedSlot().slot
    with pytest.raises(ValueError) as raised:
        slot.germinate(seed_id, blueprint_id)
    for name in failed:
        assert name in str(raised.value)
    assert slot.state is None


def test_germinate_into_an_occupied_slot_raises():
    slot, _ = slot_at(S.TRAINING)
    with pytest.raises(ValueError):
        slot.germinate("seed-2", "blueprint-1")
    assert slot.state.seed_id == "seed-1"


@pytest.mark.parametrize("stage", REACHABLE, ids=lambda s: s.name)
def test_prune_from_each_stage(stage):
    slot, _ = slot_at(stage)
    before = slot.snapshot()
    pruned = slot.prune()
    assert pruned is (stage in PRUNABLE)
    if pruned:
        assert slot.state.stage == S.PRUNED
        assert (slot.state.alpha, slot.state.alpha_target, slot.state.alpha_holding) == (0.0, 0.0, False)
    else:
        assert slot.snapshot() == before


def test_prune_of_an_empty_slot_is_refused():
    slot = ScriptedSlot().slot
    assert slot.prune() is False
    assert slot.state is None


def test_cool_down_pipeline_empties_the_slot_and_allows_regermination():
    slot, _ = slot_at(S.PRUNED)
    stages = []
    for _ in range(4):
        slot.step_epoch()
        stages.append(None if slot.state is None else slot.state.stage)
    assert stages == [S.EMBARGOED, S.EMBARGOED, S.RESETTING, None]
    state = slot.germinate("seed-2", "blueprint-1")
    assert state.stage_history == [S.DORMANT, S.GERMINATED]
    assert slot.advance_stage().passed
    assert slot.state.stage == S.TRAINING


@pytest.mark.parametrize("embargo_epochs", [1, 2, 5])
def test_embargo_lasts_embargo_epochs(embargo_epochs):
    slot, _ = slot_at(S.PRUNED, embargo_epochs=embargo_epochs)
    slot.step_epoch()
    assert slot.state.stage == S.EMBARGOED
    for _ in range(embargo_epochs - 1):
        slot.step_epoch()
        assert slot.state.stage == S.EMBARGOED
    slot.step_epoch()
    assert slot.state.stage == S.RESETTING


def test_entering_blending_starts_the_alpha_schedule():
    slot, _ = slot_at(S.BLENDING)
    state = slot.state
    assert (state.alpha, state.alpha_target, state.alpha_holding) == (0.0, 1.0, False)


def test_blending_alpha_steps_once_per_epoch():
    slot, _ = slot_at(S.BLENDING)
    seen = []
    for _ in range(BLEND_EPOCHS + 1):
        slot.step_epoch()
        seen.append((slot.state.alpha, slot.state.alpha_holding))
    assert seen == [(0.25, False), (0.5, False), (0.75, False), (1.0, True), (1.0, True)]
    assert slot.state.stage == S.BLENDING
    assert slot.state.epochs_in_stage == BLEND_EPOCHS + 1


@pytest.mark.parametrize("blend_epochs", [1, 2, 3, 4, 10])
def test_blend_in_reaches_full_alpha_in_blend_epochs(blend_epochs):
    slot, _ = slot_at(S.BLENDING, blend_epochs=blend_epochs)
    for _ in range(blend_epochs):
        assert not slot.state.alpha_holding
        slot.step_epoch()
    assert (slot.state.alpha, slot.state.alpha_holding) == (1.0, True)


def test_entering_holding_sets_alpha_full_and_holding():
    """HOLDING forces alpha to its target even when the blend had not got there."""
    slot, _ = slot_at(S.BLENDING)
    assert slot.advance_stage(S.HOLDING).passed
    state = slot.state
    assert (state.alpha, state.alpha_target, state.alpha_holding) == (1.0, 1.0, True)


def test_schedule_prune_blends_out_then_prunes():
    slot, _ = slot_at(S.HOLDING)
    assert slot.schedule_prune()
    state = slot.state
    assert (state.stage, state.alpha, state.alpha_target, state.alpha_holding) == (
        S.BLENDING,
        1.0,
        0.0,
        False,
    )
    alphas = []
    for _ in range(BLEND_EPOCHS - 1):
        slot.step_epoch()
        alphas.append(slot.state.alpha)
    assert alphas == [0.75, 0.5, 0.25]
    assert slot.state.stage == S.BLENDING
    slot.step_epoch()
    assert slot.state.stage == S.PRUNED
    assert slot.state.alpha == 0.0


@pytest.mark.parametrize("blend_epochs", [1, 2, 3, 4, 10])
def test_schedule_prune_reaches_pruned_in_blend_epochs(blend_epochs):
    slot, _ = slot_at(S.HOLDING, blend_epochs=blend_epochs)
    assert slot.schedule_prune()
    for _ in range(blend_epochs):
        assert slot.state.stage == S.BLENDING
        slot.step_epoch()
    assert slot.state.stage == S.PRUNED


@pytest.mark.parametrize("stage", [s for s in REACHABLE if s != S.HOLDING], ids=lambda s: s.name)
def test_schedule_prune_outside_holding_is_refused(stage):
    slot, _ = slot_at(stage)
    before = slot.snapshot()
    assert slot.schedule_prune() is False
    assert slot.snapshot() == before


def test_schedule_prune_of_an_empty_slot_is_refused():
    slot = ScriptedSlot().slot
    assert slot.schedule_prune() is False
    assert slot.state is None

"""Scenarios as data: JSON round trips, one-line validation errors, gates that cannot reach the ranks."""

from __future__ import annotations

import json
import threading

import dill
import pytest

from harness import Op, Scenario, WorldPool
from harness.errors import ScenarioError
from harness.records.statuses import RankStatus
from tests.good_impls import variants
from tests.harness_util import REFERENCE, comparable, ranks_table, simple

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def pool():
    with WorldPool() as pool:
        yield pool


def rich(n: int = 3) -> Scenario:
    return Scenario(
        "rich",
        n,
        ["a", "b"],
        [
            Op("germinate", "a", seed_id="s-a", blueprint_id="bp"),
            Op("germinate", "b"),
            Op("advance", "a", local=[r != 1 for r in range(n)]),
            Op("advance", "a", target=4, local=[{"score": 0.5 + r / 10} for r in range(n)]),
            Op("advance", "b", local=False),
            Op("prune", "b"),
            Op("step_epoch", "b"),
        ],
        rank_ops={
            n - 1: [
                Op("germinate", "a", seed_id="s-a", blueprint_id="bp"),
                Op("germinate", "b"),
                Op("advance", "a", local=[r != 1 for r in range(n)]),
                Op("advance", "a", target=4, local=[{"score": 0.5 + r / 10} for r in range(n)]),
                Op("advance", "b", local=False),
                Op("fault", fault={"kind": "raise", "message": "last"}, continue_on_error=True),
                Op("prune", "b"),
                Op("step_epoch", "b"),
            ]
        },
        deadline_s=45.0,
    )


def test_json_round_trip_is_exact():
    scenario = rich().validate()
    text = scenario.to_json()
    data = json.loads(text)
    assert data["ops"][3]["target"] == "BLENDING"  # stages travel by name
    assert set(data["rank_ops"]) == {"2"}
    again = Scenario.from_json(text)
    assert again == scenario
    assert again.to_json() == text
    assert Scenario.from_dict(json.loads(text)) == scenario


def test_stage_names_and_values_are_both_accepted_in_json():
    base = {"name": "t", "world_size": 1, "slots": ["a"]}
    by_name = Scenario.from_dict({**base, "ops": [{"op": "advance", "slot": "a", "target": "training"}]})
    by_value = Scenario.from_dict({**base, "ops": [{"op": "advance", "slot": "a", "target": 3}]})
    assert by_name == by_value
    assert by_name.ops[0].target == 3


def test_replayed_scenario_behaves_like_the_original(pool):
    original = rich()
    replayed = Scenario.from_json(original.to_json())
    first = pool.run(REFERENCE, original)
    second = pool.run(REFERENCE, replayed)
    assert first.statuses() == second.statuses() == [RankStatus.OK, RankStatus.OK, RankStatus.OK], ranks_table(first)
    assert second.world_reused
    for a, b in zip(first.outcomes, second.outcomes, strict=True):
        assert comparable(a.records) == comparable(b.records)
        assert a.snapshots == b.snapshots
    last = first.outcomes[2].records[5]
    assert last.op == "fault" and last.error["message"] == "last"


def test_tick_until_empty_observes_any_embargo_and_stops_at_its_bound(pool):
    """A scenario that needs an empty slot ticks until it is empty, whatever the embargo's length."""
    impl = variants.impl("upstream_embargo_conv")  # embargo of 5 epochs: 7 ticks from PRUNED to empty
    setup = [Op("germinate", "a"), Op("germinate", "b"), Op("prune", "a"), Op("prune", "b")]
    ticks = [Op("step_epoch", "a", until_empty=42), Op("step_epoch", "b", until_empty=6)]
    again = Op("germinate", "a", seed_id="again")
    scenario = Scenario("until-empty", 2, ["a", "b"], [*setup, *ticks, again])
    assert Scenario.from_json(scenario.to_json()) == scenario
    result = pool.run(impl, scenario)
    assert result.statuses() == [RankStatus.OK, RankStatus.OK], ranks_table(result)
    for outcome in result.outcomes:
        emptied, bounded, regrown = outcome.records[4:]
        assert (emptied.stage_before, emptied.stage_after) == (8, None)
        assert bounded.stage_after == 10  # six ticks reach RESETTING only: the bound holds
        assert regrown.error is None and regrown.stage_after == 2


def test_scenario_with_a_gate_callable_does_not_serialise():
    scenario = simple(2)
    scenario.decide = lambda q: True
    with pytest.raises(ScenarioError, match="gate callable"):
        scenario.to_json()


def _one_line(exc_info) -> str:
    message = str(exc_info.value)
    assert message and "\n" not in message, message
    return message


def test_validate_names_stages_by_name_or_value():
    scenario = Scenario("named", 2, ["a"], [Op("germinate", "a"), Op("advance", "a", target="training")]).validate()
    assert scenario.ops[1].target == 3


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: setattr(s, "ops", [Op("germinate", "zzz")]), "unknown slot 'zzz'"),
        (lambda s: setattr(s, "world_size", 0), "world size must be an integer from 1 to 16, got 0"),
        (lambda s: setattr(s, "world_size", 17), "got 17"),
        (lambda s: setattr(s, "world_size", "2"), "got '2'"),
        (lambda s: setattr(s, "world_size", True), "got True"),
        (lambda s: setattr(s, "ops", [Op("advance", "a", local=[True, False, True])]), "local has 3 entries"),
        (lambda s: setattr(s, "ops", [Op("advance", "a", metrics=[{}])]), "metrics has 1 entries"),
        (lambda s: setattr(s, "ops", [Op("fault", fault={"kind": "explode"})]), "fault kind must be one of"),
        (lambda s: setattr(s, "ops", [Op("fault")]), "fault kind must be one of"),
        (lambda s: setattr(s, "ops", [Op("jump", "a")]), "unknown op 'jump'"),
        (lambda s: setattr(s, "ops", [Op("advance", "a", ranks=[2])]), "ranks [2] outside world size 2"),
        (lambda s: setattr(s, "rank_ops", {5: []}), "rank_ops names rank 5"),
        (lambda s: setattr(s, "gates", "magic"), "gates must be one of"),
        (lambda s: setattr(s, "slots", ["a", "a"]), "slots must be distinct"),
        (lambda s: setattr(s, "process_group", False), "without a process group"),
        (lambda s: setattr(s, "ops", [Op("advance", "a", target=5)]), "unknown stage value 5"),
        (lambda s: setattr(s, "ops", [Op("advance", "a", target="SPROUTED")]), "unknown stage 'SPROUTED'"),
        (lambda s: setattr(s, "ops", [Op("advance", "a", until_empty=3)]), "until_empty must be a step_epoch's"),
        (lambda s: setattr(s, "ops", [Op("step_epoch", "a", until_empty=0)]), "from 1 to 1000, got 0"),
        (lambda s: setattr(s, "ops", [Op("step_epoch", "a", until_empty=True)]), "got True"),
    ],
)
def test_validate_gives_one_line_errors(change, expected):
    scenario = simple(2)
    change(scenario)
    with pytest.raises(ScenarioError) as exc_info:
        scenario.validate()
    assert expected in _one_line(exc_info)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"ops": [{"op": "advance", "slot": "a", "target": "FLOWERING"}]}, "unknown stage 'FLOWERING'"),
        ({"ops": [{"op": "advance", "slot": "a", "target": 5}]}, "unknown stage value 5"),
        ({"ops": [{"op": "advance", "slot": "nope"}]}, "unknown slot 'nope'"),
        ({"ops": [{"op": "fault", "fault": {"kind": "boom"}}]}, "fault kind must be one of"),
        ({"ops": [{"op": "advance", "slot": "a", "local": [True]}]}, "local has 1 entries for world size 2"),
        ({"ops": [{"op": "advance", "slot": "a", "colour": "red"}]}, "unknown keys colour"),
        ({"ops": [{"slot": "a"}]}, "must be an object with an 'op' key"),
        ({"ops": "advance"}, "ops must be a list"),
        ({"world_size": 99, "ops": []}, "got 99"),
        ({"rank_ops": {"x": []}, "ops": []}, "rank_ops"),
        ({"speed": 3, "ops": []}, "unknown scenario keys: speed"),
    ],
)
def test_from_json_gives_one_line_errors(data, expected):
    full = {"name": "bad", "world_size": 2, "slots": ["a"], **data}
    with pytest.raises(ScenarioError) as exc_info:
        Scenario.from_json(json.dumps(full))
    assert expected in _one_line(exc_info)


def test_malformed_json_and_missing_keys():
    with pytest.raises(ScenarioError) as exc_info:
        Scenario.from_json("{not json")
    assert "malformed scenario JSON" in _one_line(exc_info)
    with pytest.raises(ScenarioError) as exc_info:
        Scenario.from_json('{"name": "x", "slots": []}')
    assert "lacks ops, world_size" in _one_line(exc_info)
    with pytest.raises(ScenarioError) as exc_info:
        Scenario.from_json("[1, 2]")
    assert "JSON object" in _one_line(exc_info)


def test_pool_rejects_an_invalid_scenario_before_starting_a_world():
    with WorldPool() as pool:
        bad = Scenario("bad", 2, ["a"], [Op("advance", "b")])
        with pytest.raises(ScenarioError, match="unknown slot 'b'"):
            pool.run(REFERENCE, bad)
        assert pool.started == 0 and not pool.worlds


def test_gate_that_dill_cannot_pickle_is_a_scenario_error(pool):
    answers = (passed for passed in [True, False])  # a generator: dill refuses it

    def gate(query):
        return next(answers)

    with pytest.raises(TypeError):
        dill.dumps(gate)  # the premise: dill really fails on this closure
    good = simple(2, "before")
    assert pool.run(REFERENCE, good).ok
    world = pool.world_for(good)
    pids = world.pids()
    scenario = Scenario("unpicklable", 2, ["a"], [Op("germinate", "a"), Op("advance", "a")], decide=gate)
    with pytest.raises(ScenarioError) as exc_info:
        pool.run(REFERENCE, scenario)
    message = _one_line(exc_info)
    assert "'unpicklable' cannot be sent to the ranks" in message and "generator" in message
    # Nothing reached the ranks: the same world runs the next scenario.
    after = pool.run(REFERENCE, simple(2, "after"))
    assert after.ok and after.world_reused, ranks_table(after)
    assert world.healthy and world.pids() == pids


def test_gate_capturing_a_lock_is_picklable_by_dill_and_runs(pool):
    """dill pickles a threading.Lock (as a new lock), so a closure over one is not an error."""
    lock = threading.Lock()

    def gate(query):
        with lock:
            return query.rank == 0

    dill.dumps(gate)
    scenario = Scenario("lock", 2, ["a"], [Op("germinate", "a"), Op("advance", "a")], decide=gate)
    result = pool.run(REFERENCE, scenario)
    assert result.ok, ranks_table(result)
    assert [o.records[1].local[0]["passed"] for o in result.outcomes] == [True, False]


def test_gate_returning_a_bad_decision_is_reported_by_the_rank(pool):
    scenario = Scenario("bad-decision", 1, ["a"], [Op("germinate", "a"), Op("advance", "a")], decide=lambda q: 42)
    result = pool.run(REFERENCE, scenario)
    outcome = result.outcomes[0]
    assert outcome.status == RankStatus.RAISED, ranks_table(result)
    assert outcome.failure["type"] == "ScenarioError"
    assert "a gate decision must be a bool or a dict, got 42" in outcome.failure["message"]

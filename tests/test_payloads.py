"""Generated payloads: exact lengths, every field's whole space, deterministic, and simpler for the shrinker."""

from __future__ import annotations

import math
import struct
import unicodedata

import pytest

from harness.errors import ScenarioError
from harness.records import payloads
from harness.records.decisions import default_fields, local_decision
from harness.records.scenario import Op, Scenario
from harness.spec.judge.checks import first_difference
from harness.spec.scenarios.families import generated_payloads
from harness.spec.shrink_payloads import simpler_payloads


def fields(unit: str, seed: int, length: int, rank: int = 0, call: int = 0) -> dict:
    return payloads.generated(default_fields(rank, call, 3, True), rank, call, unit, seed, length)


@pytest.mark.parametrize("length", [0, 1, 2, 3, 255, 256, 257, 4097, 65536])
def test_a_generated_message_has_exactly_its_length(length):
    assert len(fields("chars", 1, length)["message"]) == length
    assert len(fields("bytes", 2, length)["message"].encode()) == length


def test_lengths_are_dense_to_beyond_one_kib_and_around_every_power_of_two():
    lengths = set(payloads.lengths())
    assert set(range(0, 1100)) <= lengths
    assert all({(1 << k) - 1, 1 << k, (1 << k) + 1} <= lengths for k in range(1, 17))


@pytest.mark.parametrize("world_sizes", [(1,), (2, 3), (1, 2, 3, 4)])
def test_a_run_judges_every_length_once_whatever_its_world_sizes(world_sizes):
    seen: list[tuple[str, int]] = []
    for share, world_size in enumerate(world_sizes):
        scenario = generated_payloads(world_size, 0, share, len(world_sizes))[0].validate()
        parsed = [payloads.parse(op.local[0]["payload"]) for op in scenario.ops if op.op == "advance"]
        seen += [(unit, length) for unit, _, length in parsed]
    assert sorted(seen) == sorted(payloads.sweep())
    assert {("bytes", 4097), ("chars", 4097), ("bytes", 65538)} <= set(seen)
    assert {length for _, length in seen} == set(payloads.lengths())


def test_messages_reach_every_kind_of_code_point_at_both_ends():
    messages = [fields(unit, seed, 40)["message"] for seed in range(200) for unit in payloads.UNITS]
    for end in (0, -1):
        categories = {unicodedata.category(m[end]) for m in messages}
        assert {"Cc", "Mn", "Zs"} <= categories, categories
    every = "".join(messages)
    assert max(map(ord, every)) > 0xFFFF and not any(0xD800 <= ord(c) <= 0xDFFF for c in every)


def test_scores_and_check_lists_cover_their_spaces():
    results = [fields("chars", seed, 3) for seed in range(400)]
    bits = {struct.pack(">d", r["score"]) for r in results}
    assert struct.pack(">d", -0.0) in bits and struct.pack(">d", 5e-324) in bits
    nans = {b for b in bits if math.isnan(struct.unpack(">d", b)[0])}
    assert len(nans) >= 3  # NaNs with different payloads
    assert any(math.isinf(r["score"]) for r in results)
    lengths = {len(r["checks_passed"]) for r in results}
    assert 0 in lengths and max(lengths) > 20
    assert any(len(set(r["checks_passed"])) < len(r["checks_passed"]) for r in results)


def test_each_rank_and_call_draws_its_own_result_and_the_draw_is_deterministic():
    assert fields("bytes", 5, 30, rank=1, call=2) == fields("bytes", 5, 30, rank=1, call=2)
    drawn = [fields("bytes", 5, 0, rank=r, call=c) for r in range(3) for c in range(3)]
    assert len({repr(d) for d in drawn}) == len(drawn)  # unique even with an empty message


def test_a_scenario_names_a_generated_payload_and_rejects_a_malformed_one():
    op = Op("advance", "a", local=[{"passed": False, "payload": "bytes:7:4097"}, True])
    scenario = Scenario("gen", 2, ["a"], [Op("germinate", "a"), op]).validate()
    decided = local_decision(scenario, op, 0, 1, 3)
    assert len(decided["message"].encode()) == 4097 and decided["passed"] is False
    for bad in ("bytes:7", "words:1:2", "bytes:x:3", f"chars:1:{payloads.MAX_LENGTH + 1}"):
        with pytest.raises(ScenarioError, match="unknown payload"):
            Scenario("gen", 1, ["a"], [Op("advance", "a", local={"payload": bad})]).validate()


def test_the_shrinker_simplifies_generated_payloads_keeping_their_length():
    local = [{"passed": True, "payload": "chars:9:257"}, {"passed": False, "payload": "bytes:3:12"}]
    scenario = Scenario("gen", 2, ["a"], [Op("germinate", "a"), Op("advance", "a", local=local)])
    candidates = [c.ops[1].local for c in simpler_payloads(scenario)]
    assert candidates[0] == [local[0], False]
    assert [{"passed": True, "payload": "chars:0:257"}, local[1]] in candidates


def test_first_difference_names_the_position_and_both_values():
    text = first_difference("abcX", "abcYZ")
    assert text == "first differs at index 3 of 4 characters (rank 0's has 5): got 'X', rank 0 decided 'Y'"
    assert first_difference("abc", "abcd") == (
        "ends after 3 characters where rank 0's has 4: the first 3 agree, rank 0's goes on with 'd'"
    )
    assert first_difference("abcd", "abc") == "has 4 characters where rank 0's has 3: the first 3 agree, then got 'd'"
    assert "index 1 of 2 items" in first_difference(["a", "b"], ["a", "c"])
    assert "0x8000000000000000" in first_difference(-0.0, 0.0)

"""Profile `ddp`: the reference keeps a real DDP model identical; the known-bad ones break it, with evidence."""

from __future__ import annotations

import subprocess
import sys

import pytest

from harness.rankside.adapter import CAPABILITIES
from harness.records.ddp_configs import CONFIGS, DEFAULTS, FIND_UNUSED, STATIC_GRAPH, UNDECLARED
from harness.spec.certify import CertifyOptions, certify
from harness.spec.clauses import BY_ID, Plan, declared_lifecycles, select, undeclared_lifecycles
from harness.spec.scenarios.model_families import lifecycle

DDP_CLAUSES = ("D1", "D2", "D3", "D4")
MUST_CLAUSES = DDP_CLAUSES[:3]
SHARED_CERTIFICATE_TIMEOUT_S = 400  # the first test to ask for a shared certificate waits for it


def clauses(cert: dict) -> dict[str, dict]:
    """The certificate's clauses of profile `ddp`, by ID."""
    return {c["id"]: c for c in cert["clauses"] if c["profile"] == "ddp"}


@pytest.mark.timeout(SHARED_CERTIFICATE_TIMEOUT_S)
def test_reference_is_certified_by_profile_ddp_with_and_without_a_process_group(reference_certificate):
    """Read from the session's certificate of the reference (every profile, world sizes 1 to 4)."""
    cert, _ = reference_certificate
    assert [clause.id for clause in select("ddp")] == list(DDP_CLAUSES)
    assert cert["verdict"] == "certified", {c["id"]: c["reason"] for c in cert["clauses"]}
    found = clauses(cert)
    assert list(found) == list(DDP_CLAUSES)
    compatibility = found.pop("D4")
    assert compatibility["status"] == "not_claimed" and "declares every DDP configuration" in compatibility["reason"]
    assert all(c["status"] == "pass" and c["scenarios"] > 0 for c in found.values())
    table = cert["ddp_configurations"]
    assert list(table) == list(CONFIGS) and cert["implementation"]["ddp_configurations"] == list(CONFIGS)
    assert all(row["declared"] and row["status"] == "trains in every stage" for row in table.values())
    assert all(row["scenarios"] for row in table.values())


def test_an_adapter_without_a_module_is_not_claimed():
    cert = certify(CertifyOptions(impl="tests.spec_adapters:NoPruneAdapter", profile="ddp", out_dir=None))
    assert {c["status"] for c in cert["clauses"]} == {"not_claimed"}
    assert all("module" in c["reason"] for c in cert["clauses"])


@pytest.mark.timeout(SHARED_CERTIFICATE_TIMEOUT_S)
def test_local_decisions_crash_and_silently_diverge_the_model(known_bad_certificate):
    cert, _ = known_bad_certificate("no_sync")
    found = clauses(cert)
    assert {cid for cid, c in found.items() if c["status"] == "fail"} == set(MUST_CLAUSES)
    crash = found["D1"]["evidence"]["violations"][0]
    assert "prune 'a'" in crash and "different parameter sets" in crash
    assert "rank 0 8 parameters, only it: slots.a.seed" in crash and "rank 1 4 parameters" in crash
    divergence = found["D2"]["evidence"]["violations"][0]
    # the seed trains straight-through, so its BatchNorm buffers (or the probe) diverge with the stages
    assert "differ across ranks" in divergence or "the probe output differs" in divergence
    # the cause, not the symptom: slot 'a' blends on rank 0 only, after the call at which the stages parted
    assert (
        "by then slot 'a' differs across ranks in alpha (rank 0 0.333, rank 1 0), stage (rank 0 BLENDING" in divergence
    )
    assert "before that, the ranks' lifecycles had diverged: call #3 advance 'a'" in divergence


@pytest.mark.timeout(SHARED_CERTIFICATE_TIMEOUT_S)
def test_a_rank_local_alpha_keeps_parameters_but_not_outputs(known_bad_certificate):
    cert, _ = known_bad_certificate("local_alpha")
    found = clauses(cert)
    assert [found[cid]["status"] for cid in DDP_CLAUSES] == ["pass", "fail", "fail", "not_claimed"]
    divergence = found["D2"]["evidence"]["violations"][0]
    assert (
        "the probe output differs" in divergence or "differ across ranks" in divergence
    ) and "rank 0 BLENDING alpha 0.333, rank 1 BLENDING alpha 0.333" in (divergence)


def test_demo_shows_the_defect_breaking_the_model_next_to_the_reference():
    done = subprocess.run(
        [sys.executable, "-m", "harness", "demo", "--ddp"], capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stdout + done.stderr
    intro, defect, reference = done.stdout.split("=== ")
    assert intro.startswith("Each line is one call") and defect.startswith("the defect, each rank applying its own")
    assert reference.startswith("the reference, every rank applying rank 0's decision: reference_impl.adapter:Adapter")
    assert "different parameter sets" in defect and ("the probe output differs" in defect or "differ across" in defect)
    assert "by then slot 'a' differs across ranks in alpha" in defect and "lifecycles had diverged: call #3" in defect
    assert reference.count("identical on every rank after every step") == 2
    assert "the defect breaks the model; the reference keeps it identical" in reference


def plan(world_size: int, world_sizes: tuple[int, ...], configs: tuple[str, ...]) -> Plan:
    return Plan(world_size, world_sizes, 0, 1, frozenset(CAPABILITIES), configs)


def test_an_adapter_declaring_nothing_keeps_its_scenarios_and_the_others_are_compatibility():
    """Judged as before (same scenario names, find_unused_parameters); D4 tours the rest at 1 and 2 only. The
    lifecycles run at 1 and the smallest size above 1, where D3's walk does not already take their decisions."""
    for size in (1, 2):
        names = [s.name for s in declared_lifecycles(plan(size, (1, 2, 3), UNDECLARED))]
        assert names == [s.name for s in lifecycle(size)]
    assert declared_lifecycles(plan(3, (1, 2, 3), UNDECLARED)) == []
    assert [s.name for s in declared_lifecycles(plan(3, (3, 4), UNDECLARED))] == [s.name for s in lifecycle(3)]
    at_two = undeclared_lifecycles(plan(2, (1, 2, 3), UNDECLARED))
    assert {s.ddp for s in at_two} == set(CONFIGS) - {FIND_UNUSED} and len(at_two) == len(CONFIGS) - 1
    assert {s.ddp for s in undeclared_lifecycles(plan(1, (1, 2, 3), UNDECLARED))} == {DEFAULTS, STATIC_GRAPH}
    assert undeclared_lifecycles(plan(3, (1, 2, 3), UNDECLARED)) == []
    everything = plan(3, (3, 4), tuple(CONFIGS))
    tours = [s for s in declared_lifecycles(everything) if s.name.startswith("model-stage-tour")]
    assert {s.ddp for s in declared_lifecycles(everything)} == set(CONFIGS)
    assert {s.ddp for s in tours} == set(CONFIGS) - {FIND_UNUSED}, "the lifecycles and D3 train under the primary"
    assert declared_lifecycles(plan(4, (3, 4), tuple(CONFIGS))) == []
    assert {s.ddp for s in BY_ID["D3"].scenarios(everything)} == {FIND_UNUSED}
    assert BY_ID["D4"].not_claimed(everything) and not BY_ID["D4"].not_claimed(plan(2, (2,), (DEFAULTS,)))
    assert {s.ddp for s in declared_lifecycles(plan(2, (2,), (DEFAULTS,)))} == {DEFAULTS}


def _step_kind(op) -> str:
    """What a D3 step is: its op, and for an advance whether it names its target."""
    if op.op != "advance":
        return op.op
    return "advance-named" if op.target is not None else "advance-default"


def test_d3_takes_every_step_kind_under_every_dissent_pattern_whatever_the_seed():
    """The systematic part of D3 does not depend on the seed: at each world size one scenario per
    dissent pattern, each with every kind of step, and every gated decision taken by rank 0 both ways
    against exactly the pattern's dissenters."""
    from harness.records.contract import Stage
    from harness.spec.scenarios.model_families import dissent_patterns, divergence

    expected = {1: 1, 2: 1, 3: 2, 4: 3}
    for size, count in expected.items():
        patterns = dissent_patterns(size)
        assert len(patterns) == count and len(set(patterns.values())) == count
        for seed in (0, 1, 7):
            d3 = BY_ID["D3"].scenarios(Plan(size, (1, 2, 3, 4), seed, 16, frozenset(CAPABILITIES), UNDECLARED))
            systematic = [s for s in d3 if s.name.startswith("model-divergence-")]
            assert systematic == divergence(size, True, True) and len(systematic) == count
        for scenario, dissenters in zip(divergence(size, True, True), patterns.values(), strict=True):
            ops = scenario.ops
            kinds = {_step_kind(op) for op in ops}
            assert kinds == {"germinate", "advance-default", "advance-named", "prune", "step_epoch"}
            targets = {Stage(op.target) for op in ops if op.op == "advance" and op.target is not None}
            assert {Stage.TRAINING, Stage.BLENDING, Stage.HOLDING, Stage.FOSSILIZED} <= targets
            split = [op.local for op in ops if isinstance(op.local, list)]
            for rank0 in (True, False):
                pattern = [rank0 != (rank in dissenters) for rank in range(size)]
                assert pattern in split, (scenario.name, pattern)
            assert all((local[0] != local[r]) == (r in dissenters) for local in split for r in range(size))
            assert any(op.until_empty for op in ops), "a regrow ticks until the slot is empty, whatever the embargo"
    without = divergence(2, epoch_clock=False, prune=False)[0].ops
    assert {op.op for op in without} == {"germinate", "advance"}

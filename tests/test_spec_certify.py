"""The suite certifies the reference and every legitimate variant, and rejects each known-bad one for
its own defect, with evidence that replays to the same kind of violation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from harness.locations import REFERENCE
from harness.spec.certify import CertifyOptions, certify
from harness.spec.clauses import BY_ID, REGISTRY
from harness.spec.judge.judging import judge, judged_counts
from harness.spec.output.certificate import SCHEMA, SCHEMA_FILE, same_run
from harness.spec.output.coverage import ALL_STEPS
from harness.spec.output.evidence import read_scenario_file
from harness.worlds.pool import WorldPool
from harness.worlds.stall import StallRule
from tests.bad_impls import EXPECTED_CONFIGURATION_FAILURES, EXPECTED_FAILURES, WORLD_SIZES, WORLD_SIZES_FOR
from tests.good_impls import GENERATED, MUST_CERTIFY
from tests.spec_adapters import LocalAfterThreeScenariosAdapter as AFTER_THREE

ROOT = Path(__file__).resolve().parent.parent


def statuses(cert: dict) -> dict[str, str]:
    return {c["id"]: c["status"] for c in cert["clauses"]}


def assert_follows_the_shipped_schema(cert: dict, folder: Path) -> None:
    """The certificate written to `folder` validates against the schema the package ships."""
    with open(SCHEMA_FILE) as f:
        schema = json.load(f)
    assert cert["schema"] == SCHEMA
    jsonschema.Draft202012Validator(schema).validate(json.loads((folder / "certificate.json").read_text()))


@pytest.mark.timeout(400)
def test_reference_is_certified_at_world_sizes_1_to_4(reference_certificate):
    cert, tmp_path = reference_certificate
    assert cert["verdict"] == "certified", json.dumps(cert["clauses"], indent=1)
    assert [c["id"] for c in cert["clauses"]] == [c.id for c in REGISTRY]
    clauses = [c for c in cert["clauses"] if c["id"] != "D4"]  # not claimed: every configuration is declared
    assert all(c["status"] == "pass" and c["judged"] > 0 and c["unjudged"] == 0 for c in clauses)
    assert_follows_the_shipped_schema(cert, tmp_path)
    written = json.loads((tmp_path / "certificate.json").read_text())
    assert written["verdict"] == "certified" and written["world_sizes"] == [1, 2, 3, 4]
    markdown = (tmp_path / "certificate.md").read_text()
    assert "| C1 | MUST | core | Agreement | pass |" in markdown and "## Coverage" in markdown
    for world_size in ("1", "2", "3", "4"):
        entry = written["coverage"][world_size]
        possible = entry["dissent_sets_possible"]
        assert set(entry["steps"]) == set(ALL_STEPS)
        assert all(seen == {"pass": possible, "fail": possible} for seen in entry["steps"].values()), entry
    assert "HOLDING->BLENDING (backward)" in ALL_STEPS and "TRAINING->FOSSILIZED (forbidden)" in ALL_STEPS
    assert set(written["coverage"]["2"]["rank0_payloads"]) >= {"empty", "long", "unicode", "many_checks", "score"}


@pytest.mark.parametrize("name", sorted(MUST_CERTIFY))
def test_legitimate_variant_is_certified(name):
    profiles = MUST_CERTIFY[name]
    for profile in ["all"] if set(profiles) == {"core", "strict"} else profiles:
        impl = f"tests.good_impls.{name}:Adapter"
        cert = certify(CertifyOptions(impl=impl, profile=profile, world_sizes=(1, 2, 3), out_dir=None))
        assert cert["verdict"] == "certified", {c["id"]: (c["status"], c["reason"]) for c in cert["clauses"]}


@pytest.mark.timeout(600)
@pytest.mark.parametrize("impl", sorted(GENERATED))
def test_generated_variant_is_certified_on_its_profiles_at_world_sizes_1_to_4(impl):
    profiles = GENERATED[impl]
    profile = "all" if set(profiles) == {"core", "strict", "ddp"} else profiles[0]
    assert profile == "all" or len(profiles) == 1
    cert = certify(CertifyOptions(impl=impl, profile=profile, world_sizes=(1, 2, 3, 4), out_dir=None))
    assert cert["verdict"] == "certified", {c["id"]: (c["status"], c["reason"]) for c in cert["clauses"]}
    claimed = [c for c in cert["clauses"] if c["profile"] in profiles and c["status"] != "not_claimed"]
    assert claimed and all(c["status"] == "pass" and c["unjudged"] == 0 for c in claimed)
    assert {c["profile"] for c in claimed} == set(profiles)


@pytest.fixture(scope="module")
def replay_pool():
    """Warm worlds that end a stalled scenario as `replay` does (its stall rule), not at the deadline."""
    with WorldPool(stall_rule=StallRule()) as pool:
        yield pool


@pytest.mark.timeout(400)
@pytest.mark.parametrize("name", sorted(EXPECTED_FAILURES))
def test_known_bad_implementation_fails_exactly_its_clauses(name, known_bad_certificate, replay_pool):
    impl = f"tests.bad_impls.{name}:Adapter"
    cert, tmp_path = known_bad_certificate(name)
    assert cert["verdict"] == "not_certified"
    assert_follows_the_shipped_schema(cert, tmp_path)
    failed = {cid for cid, status in statuses(cert).items() if status == "fail"}
    reasons = {c["id"]: (c["status"], c["reason"]) for c in cert["clauses"] if c["reason"]}
    assert failed == EXPECTED_FAILURES[name], reasons
    if name in EXPECTED_CONFIGURATION_FAILURES:
        table = cert["ddp_configurations"]
        failing = {config for config, row in table.items() if row["status"] == "fails"}
        assert failing == EXPECTED_CONFIGURATION_FAILURES[name], table
        assert all(row["status"] == "trains in every stage" for c, row in table.items() if c not in failing), table
    assert set(statuses(cert).values()) <= {"fail", "pass", "incomplete", "not_exercised", "not_claimed"}, reasons
    markdown = (tmp_path / "certificate.md").read_text()
    for clause in cert["clauses"]:
        if clause["status"] in ("fail", "incomplete"):  # each says whether a replay alone shows the same
            alone = clause["evidence"]["reproduces_alone"]
            section = markdown.split(f"\n## {clause['id']} ")[1].split("\n## ")[0]
            assert alone is not None and ("a replay of this file alone may" in section) is not alone, clause["id"]
            if alone is False:  # state kept per process: the section says how much ran before
                earlier = clause["evidence"]["earlier"]
                assert earlier["scenarios"] > 0 and f"Found after {earlier['scenarios']} earlier run" in section
            run = same_run(clause["evidence"])
            shown = [c["id"] for c in cert["clauses"] if c["evidence"] and same_run(c["evidence"]) == run][0]
            report = clause["evidence"]["report"]
            assert (report in section) if shown == clause["id"] else (f"the same run as under {shown} above" in section)
    page = (tmp_path / "certificate.html").read_text()
    for clause in cert["clauses"]:
        if clause["status"] != "fail":
            continue
        evidence = clause["evidence"]
        marked = evidence["history"]["marked"]
        assert marked is not None, clause["id"]
        assert f"-c{marked}' class='parted'>" in page.split(f"<section id='{clause['id']}'>")[1], clause["id"]
        assert evidence["violations"] and evidence["report"] and evidence["violations_total"] >= 1
        assert clause["reason"] == evidence["violations"][0]
        scenario, recorded = read_scenario_file(evidence["scenario_file"])
        assert recorded["implementation"] == impl and recorded["clause"] == clause["id"]
        check = BY_ID[clause["id"]]
        assert evidence["reproduces_alone"] is not None
        if not evidence["reproduces_alone"]:
            continue  # state kept across scenarios (rounds counted per process): the certificate says so
        again = judge(check, replay_pool.run(impl, scenario))
        assert again.kinds & set(evidence["violation_kinds"]), (clause["id"], again.violations)
        assert not judge(check, replay_pool.run(REFERENCE, scenario)).violations, clause["id"]


def test_known_bad_world_sizes_name_registered_implementations_and_always_run_one_and_two_ranks():
    assert set(WORLD_SIZES_FOR) <= set(EXPECTED_FAILURES)
    assert all({1, 2} <= set(sizes) for sizes in [WORLD_SIZES, *WORLD_SIZES_FOR.values()])


def test_an_adapter_value_outside_the_contract_is_an_error_not_a_crash(tmp_path):
    cert = certify(
        CertifyOptions(
            impl="tests.spec_adapters:RemovedStageAdapter", world_sizes=(1, 2), profile="core", out_dir=str(tmp_path)
        )
    )
    assert cert["verdict"] == "inconclusive"
    c1 = next(c for c in cert["clauses"] if c["id"] == "C1")
    assert c1["status"] == "error" and "adapter.stage() returned 5" in c1["reason"], c1["reason"]
    assert (tmp_path / "certificate.json").exists()


@pytest.mark.timeout(400)
def test_same_seed_gives_same_statuses_and_counts(known_bad_certificate):
    """Certified again with the seed and options of the session's certificate of no_sync, it says the same."""
    first, _ = known_bad_certificate("no_sync")
    assert (first["seed"], first["world_sizes"]) == (0, list(WORLD_SIZES))
    impl = first["implementation"]["spec"]
    again = certify(CertifyOptions(impl=impl, world_sizes=WORLD_SIZES, out_dir=None))

    def signature(cert: dict) -> list:
        return [(c["id"], c["status"], c["scenarios"], c["judged"]) for c in cert["clauses"]]

    assert signature(again) == signature(first)


def test_a_clause_needing_an_undeclared_capability_is_not_claimed(tmp_path):
    cert = certify(
        CertifyOptions(impl="tests.spec_adapters:NoPruneAdapter", world_sizes=(1, 2), out_dir=None, profile="core")
    )
    assert statuses(cert)["C8"] == "not_claimed"
    assert all(status == "pass" for cid, status in statuses(cert).items() if cid != "C8")
    assert cert["verdict"] == "certified"


def test_printed_replay_command_works_from_another_folder(tmp_path):
    """The certificate's replay command carries absolute paths and the adapter's PYTHONPATH; the evidence
    file records the implementation, so the command needs no --impl."""
    impl = "tests.bad_impls.passed_only:Adapter"
    cert = certify(CertifyOptions(impl=impl, world_sizes=(2,), profile="core", out_dir=str(tmp_path / "cert")))
    evidence = next(c["evidence"] for c in cert["clauses"] if c["id"] == "C3")
    assert evidence["shrunk"] and len(evidence["scenario"]["ops"]) <= 3
    markdown = (tmp_path / "cert" / "certificate.md").read_text()
    command = next(line for line in markdown.splitlines() if line.startswith("Replay: `"))[len("Replay: `") : -1]
    assert command.startswith(f"PYTHONPATH={ROOT} {sys.executable} -m harness replay ") and os.path.isabs(
        evidence["scenario_file"]
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        command,
        shell=True,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    reason = next(c["reason"] for c in cert["clauses"] if c["id"] == "C3")
    said = f"clause C3: fail ({judged_counts(evidence['judged'], evidence['unjudged'])}): {reason}"
    assert done.returncode == 1 and said in done.stdout.splitlines(), done.stdout + done.stderr
    assert "[fields:" in done.stdout


def test_replay_without_a_recorded_implementation_asks_for_one(tmp_path):
    path = tmp_path / "plain.json"
    path.write_text(json.dumps({"world_size": 1, "slots": ["a"], "ops": [{"op": "germinate", "slot": "a"}]}))
    done = subprocess.run(
        [sys.executable, "-m", "harness", "replay", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "LIFECYCLE_SPEC_IMPL"},
    )
    assert done.returncode == 2 and "records no implementation" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_replay_whose_ranks_cannot_set_up_is_a_one_line_error(tmp_path):
    path = tmp_path / "plain.json"
    path.write_text(json.dumps({"world_size": 2, "slots": ["a"], "ops": [{"op": "germinate", "slot": "a"}]}))
    done = subprocess.run(
        [sys.executable, "-m", "harness", "replay", str(path), "--impl", "tests.spec_adapters:ExplodingAdapter"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "could not set up" in done.stderr, done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_evidence_of_a_defect_kept_per_process_counts_what_ran_before_the_run_that_found_it():
    """A defect that starts after a number of scenarios per process shows that number in its evidence: the
    runs before the one that found it, not before its shrinking (whose candidates run later, in the same
    rank processes), and never in a world of its own."""
    cert = certify(CertifyOptions(impl=f"tests.spec_adapters:{AFTER_THREE.__name__}", profile="core",
                                  world_sizes=(2,), out_dir=None))  # fmt: skip
    failed = [c["evidence"] for c in cert["clauses"] if c["status"] == "fail"]
    assert failed and all(e["shrunk"] and e["reproduces_alone"] is False for e in failed), failed
    assert min(e["earlier"]["scenarios"] for e in failed) == AFTER_THREE.AFTER, [e["earlier"] for e in failed]

"""The suite certifies the reference implementation and rejects each known-bad one for its own defect."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.spec.certify import CertifyOptions, certify
from harness.spec.clauses import REGISTRY
from tests.bad_impls import EXPECTED_FAILURES

BAD_WORLD_SIZES = (1, 2, 3)


def failed(cert: dict) -> set[str]:
    return {c["id"] for c in cert["clauses"] if c["status"] != "pass"}


def test_reference_is_certified_at_world_sizes_1_to_4(tmp_path):
    cert = certify(CertifyOptions(world_sizes=(1, 2, 3, 4), out_dir=str(tmp_path)))
    assert cert["verdict"] == "certified", json.dumps(cert["clauses"], indent=1)
    assert [c["id"] for c in cert["clauses"]] == [c.id for c in REGISTRY]
    assert all(c["status"] == "pass" and c["scenarios"] > 0 for c in cert["clauses"])
    written = json.loads((tmp_path / "certificate.json").read_text())
    assert written["verdict"] == "certified" and written["world_sizes"] == [1, 2, 3, 4]
    assert "| C1 | MUST | core | Agreement | pass |" in (tmp_path / "certificate.md").read_text()


@pytest.mark.parametrize("name", sorted(EXPECTED_FAILURES))
def test_known_bad_implementation_fails_exactly_its_clauses(name, tmp_path):
    impl = f"tests.bad_impls.{name}:Adapter"
    cert = certify(CertifyOptions(impl=impl, world_sizes=BAD_WORLD_SIZES, out_dir=str(tmp_path)))
    assert cert["verdict"] == "not_certified"
    assert failed(cert) == EXPECTED_FAILURES[name], {c["id"]: c["reason"] for c in cert["clauses"] if c["reason"]}
    for clause in cert["clauses"]:
        if clause["status"] == "fail":
            evidence = clause["evidence"]
            assert evidence["violations"] and evidence["report"]
            saved = json.loads(Path(evidence["scenario_file"]).read_text())
            assert saved["world_size"] == evidence["world_size"]


def test_cli_exit_codes_follow_the_verdict(tmp_path):
    def run(impl: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "harness", "certify", "--impl", impl, "--world-sizes", "2"]
        return subprocess.run(
            [*command, "--profile", "core", "--out", str(tmp_path / impl)], capture_output=True, text=True, timeout=100
        )

    good, bad = run("reference_impl.adapter:Adapter"), run("tests.bad_impls.suffix_missing:Adapter")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "verdict: certified" in good.stdout and "C1" in good.stdout
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "C4" in bad.stdout and "fail" in bad.stdout


def test_same_seed_gives_same_statuses_and_counts(tmp_path):
    def signature(seed: int) -> list:
        options = CertifyOptions(impl="tests.bad_impls.no_sync:Adapter", world_sizes=(2,), seed=seed, out_dir=None)
        return [(c["id"], c["status"], c["scenarios"]) for c in certify(options)["clauses"]]

    assert signature(7) == signature(7)


def test_a_clause_needing_an_undeclared_capability_is_not_claimed(tmp_path):
    cert = certify(
        CertifyOptions(impl="tests.spec_adapters:NoPruneAdapter", world_sizes=(1, 2), out_dir=None, profile="core")
    )
    statuses = {c["id"]: c["status"] for c in cert["clauses"]}
    assert statuses["C8"] == "not_claimed"
    assert all(status == "pass" for cid, status in statuses.items() if cid != "C8")
    assert cert["verdict"] == "certified"


def test_evidence_replays_to_the_same_violation(tmp_path):
    impl = "tests.bad_impls.passed_only:Adapter"
    cert = certify(CertifyOptions(impl=impl, world_sizes=(2,), profile="core", out_dir=str(tmp_path)))
    evidence = next(c["evidence"] for c in cert["clauses"] if c["id"] == "C3")
    assert evidence["shrunk"] and len(evidence["scenario"]["ops"]) <= 3

    def replay(clause: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "harness", "replay", evidence["scenario_file"], "--impl", impl]
        return subprocess.run([*command, "--clause", clause], capture_output=True, text=True, timeout=120)

    failing, holding = replay("C3"), replay("C1")
    assert failing.returncode == 1 and "clause C3: 1 violation(s)" in failing.stdout, failing.stdout
    assert holding.returncode == 0 and "clause C1: holds" in holding.stdout, holding.stdout

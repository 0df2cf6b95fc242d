"""Certify, replay and the pytest route say the same thing about every clause: the same status, counts and
reason, because all three judge through `harness.spec.judging.judge_scenario`.

Affordable by design: one certification of an implementation that is rejected for one clause and left
`incomplete` for others (its `advance` raises, so the calls after it are never judged), each of its
evidence files judged again in the session's warm worlds, two of them through the `replay` command, and
the pytest route for those two clauses. The unit test proves the routes share the judging function.
An implementation that fails only a SHOULD clause (D4) is certified by `certify`, and that clause is an
xfail on the pytest route, which passes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.records.report import RankOutcome, ScenarioResult
from harness.records.scenario import Scenario
from harness.records.statuses import ClauseStatus, RankStatus
from harness.spec import runner
from harness.spec.certify import CertifyOptions, certify
from harness.spec.clauses import BY_ID, REGISTRY
from harness.spec.implementation import Implementation
from harness.spec.judge import judging
from harness.spec.judge.judging import judged_counts
from harness.spec.output.certificate import EXIT_CODES, same_run
from harness.spec.output.evidence import read_scenario_file
from harness.spec.runner import ClauseRunner

pytestmark = pytest.mark.timeout(900)

IMPL = "tests.spec_adapters:AdvanceRaisesAdapter"
SHOULD_FAILS = "tests.good_impls.declares_no_ddp_configuration:Adapter"  # D4 only: DDP's defaults refuse it
ROOT = Path(__file__).resolve().parent.parent


class OneResult:
    """An executor that returns a hand-made result for any scenario."""

    def run(self, impl: str, scenario: Scenario) -> ScenarioResult:
        return ScenarioResult(scenario, [RankOutcome(0, RankStatus.OK)], 0.0)


def test_certify_judges_every_scenario_through_the_function_replay_calls(monkeypatch):
    seen = []

    def spy(clause, result, kind=None):
        seen.append((clause.id, result.scenario.name))
        return judging.ScenarioVerdict(result.scenario.name, result.scenario.world_size, ClauseStatus.PASS, judged=1)

    monkeypatch.setattr(runner, "judge_scenario", spy)
    implementation = Implementation("x:Adapter", "x", "1", frozenset({"scripted_gates"}))
    outcome = ClauseRunner(implementation, OneResult()).evaluate(BY_ID["C1"], [1])
    assert outcome.status == ClauseStatus.PASS and seen and len(seen) == outcome.scenarios
    assert outcome.runs == [{"scenario": name, "world_size": 1, "status": "pass", "judged": 1, "unjudged": 0}
                            for _, name in seen]  # fmt: skip
    replay_source = (ROOT / "harness" / "cli" / "commands.py").read_text()
    assert "from ..spec.judge.judging import judge_scenario" in replay_source


def _harness(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("routes") / "cert"
    return certify(CertifyOptions(impl=IMPL, profile="core", world_sizes=(2,), out_dir=str(out)))


def _unsettled(cert: dict) -> dict[str, dict]:
    return {c["id"]: c for c in cert["clauses"] if c["status"] not in ("pass", "not_claimed")}


def test_an_adapter_method_that_raises_fails_termination_with_its_traceback(certificate):
    termination = next(c for c in certificate["clauses"] if c["id"] == "C6")
    assert termination["status"] == "fail", termination["reason"]
    tracebacks = [r["error"]["traceback"] for r in termination["evidence"]["ranks"] if r["error"]]
    assert any("advance is not wired up yet" in t for t in tracebacks), tracebacks


def test_every_evidence_file_judges_again_to_what_the_certificate_says(certificate, world_pool):
    unsettled = _unsettled(certificate)
    assert {c["status"] for c in unsettled.values()} == {"fail", "incomplete"}, unsettled
    for clause_id, clause in unsettled.items():
        evidence = clause["evidence"]
        assert (evidence["status"], evidence["reason"]) == (clause["status"], clause["reason"])
        if clause["status"] == "incomplete":
            assert evidence["unjudged_call"]["event"] == "raised", evidence["unjudged_call"]
            assert "NotImplementedError: advance is not wired up yet" in clause["reason"]
            # Calls after the raise were never reported exactly when the reason says the ranks stopped there.
            assert bool(evidence["unjudged_calls"]) == ("stopped there" in clause["reason"]), evidence
        scenario, recorded = read_scenario_file(evidence["scenario_file"])
        again = judging.judge_scenario(BY_ID[clause_id], world_pool.run(IMPL, scenario), kind=recorded["kind"])
        assert (again.status, again.reason, again.judged, again.unjudged) == (
            evidence["status"], evidence["reason"], evidence["judged"], evidence["unjudged"]
        ), clause_id  # fmt: skip


def test_replay_and_the_pytest_route_say_what_certify_said(certificate, tmp_path):
    unsettled = _unsettled(certificate)
    chosen = [next(c for c in unsettled.values() if c["status"] == status) for status in ("fail", "incomplete")]
    for clause in chosen:
        evidence = clause["evidence"]
        done = _harness("-m", "harness", "replay", evidence["scenario_file"], cwd=tmp_path)
        counts = judged_counts(evidence["judged"], evidence["unjudged"])
        expected = f"clause {clause['id']}: {clause['status']} ({counts}): {clause['reason']}"
        assert done.returncode == 1 and expected in done.stdout.splitlines(), done.stdout[-3000:] + done.stderr
        if clause["status"] == "incomplete":
            assert "calls not judged:" in done.stdout
    # A clause failing on the same run as an earlier one points to the report shown there, as the certificate does.
    run = same_run(chosen[1]["evidence"])
    sharing = next(c for c in unsettled.values() if c is not chosen[1] and same_run(c["evidence"]) == run)
    suite = ["--pyargs", "harness.spec.suite", "--lifecycle-impl", IMPL, "--lifecycle-world-sizes", "2"]
    keyword = " or ".join(f"{c['id']}-" for c in [*chosen, sharing])
    done = _harness("-m", "pytest", "-p", "ddp_lifecycle_spec_pytest", *suite, "-k", keyword, "--lifecycle-verbose",
                    "-p", "no:cacheprovider", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1, done.stdout[-3000:]
    first = min(chosen[1]["id"], sharing["id"], key=lambda clause_id: [c.id for c in REGISTRY].index(clause_id))
    assert f"(the ranks' report: the same run as under test_clause[{first}-" in done.stdout, done.stdout[-4000:]
    for clause in chosen:
        counts = judged_counts(clause["judged"], clause["unjudged"])
        assert f"{clause['id']} {clause['status']} ({counts}): {clause['reason']}" in done.stdout, done.stdout[-4000:]
        first = clause["runs"][0]
        ranks = f"{first['world_size']} rank{'s' if first['world_size'] > 1 else ''}"
        assert f"{clause['id']} at {first['world_size']} rank(s): {clause['status']} ({counts})" in done.stdout
        assert f"       {first['scenario']} ({ranks}): {first['status']}, {first['judged']} calls judged" in done.stdout
    # One replay command per failing test; pytest repeats the failure message in its summary when the
    # environment says CI, so the same command may be printed twice.
    commands = {line.split("replay: ", 1)[1] for line in done.stdout.splitlines() if "replay: " in line}
    assert len(commands) == len(chosen) + 1, done.stdout[-4000:]


def test_a_failed_should_clause_is_reported_by_both_routes_and_fails_neither(tmp_path):
    cert = certify(CertifyOptions(impl=SHOULD_FAILS, profile="ddp", world_sizes=(2,), out_dir=None))
    levels = {c["id"]: (c["level"], c["status"]) for c in cert["clauses"]}
    assert cert["verdict"] == "certified" and levels.pop("D4") == ("SHOULD", "fail"), levels
    assert {status for _, status in levels.values()} == {"pass"}, levels
    suite = ["--pyargs", "harness.spec.suite", "--lifecycle-impl", SHOULD_FAILS, "--lifecycle-world-sizes", "2"]
    # D4, and a cheap clause that passes: a certificate of clauses none of which passed is inconclusive.
    done = _harness("-m", "pytest", "-p", "ddp_lifecycle_spec_pytest", *suite, "-k", "D4 or C7", "-rx",
                    "-p", "no:cacheprovider", cwd=tmp_path)  # fmt: skip
    assert done.returncode == EXIT_CODES[cert["verdict"]], done.stdout[-4000:]
    lines = done.stdout.splitlines()
    assert any(line.startswith("XFAIL") and "test_clause[D4-" in line for line in lines), done.stdout[-4000:]
    d4 = next(c for c in cert["clauses"] if c["id"] == "D4")
    counts = f"({judged_counts(d4['judged'], d4['unjudged'])})"
    assert f"D4 fail (SHOULD: not counted against the verdict) {counts}: {d4['reason']}" in done.stdout
    assert f"D4 at 2 rank(s): fail (SHOULD, not counted) {counts}" in lines
    assert f"verdict of the clauses run, as a certificate gives it: {cert['verdict']}" in lines


def test_replay_says_what_the_run_that_wrote_the_file_said_when_its_answer_differs(tmp_path):
    """Evidence an implementation showed only after earlier scenarios ran can replay differently alone:
    the replay then prints the answer of the run that wrote the file beside its own, and the caveat."""
    from harness.locations import REFERENCE
    from harness.records.scenario import Op
    from harness.spec.output.evidence import evidence_file

    scenario = Scenario("after-others", 2, ["a"], [Op("germinate", "a"), Op("advance", "a")])
    recorded = {
        "implementation": REFERENCE,
        "status": "incomplete",
        "reason": "1 of the 2 calls this clause reads in scenario 'after-others' were never judged: ...",
        "judged": 1,
        "unjudged": 1,
        "reproduces_alone": False,
        "scenario": scenario.to_dict(),
    }
    path = tmp_path / "C1-after-others.json"
    path.write_text(json.dumps(evidence_file("C1", recorded)))
    command = [sys.executable, "-m", "harness", "replay", str(path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, cwd=ROOT)
    lines = done.stdout.splitlines()
    assert done.returncode == 0 and "clause C1: pass (2 calls judged, 0 not judged)" in lines, done.stdout + done.stderr
    said = lines.index(
        f"the run that wrote this file said incomplete (1 calls judged, 1 not judged): {recorded['reason']}"
    )
    assert lines[said + 1].startswith(
        "Found after earlier scenarios ran in the same rank processes; a world of its own"
    ), done.stdout
    path.write_text(json.dumps(evidence_file("C1", recorded | {"status": "pass", "judged": 2, "unjudged": 0})))
    again = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, cwd=ROOT)
    assert again.returncode == 0 and "the run that wrote this file said" not in again.stdout, (
        again.stdout + again.stderr
    )

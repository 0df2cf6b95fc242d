"""The pytest route, run as an installed plugin: the entry point module loaded with `-p`, this checkout's
code first on PYTHONPATH, autoloading off so that another installed copy of the plugin cannot interfere.

A run that proves a route runs one clause and says how many the route collected; the clauses' verdicts are
the known-bad run's (every clause at 2 ranks) and the certificate's. What the plugin collects and documents
is read from pytest run in this process (`inline`), where nothing starts a world."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.pytest_options import EVIDENCE_OPTION, configured_evidence_dir
from harness.spec.clauses import select

from .downstream_util import ROOT

CORE_IDS = {clause.id for clause in select("core")}

REFERENCE = "reference_impl.adapter:Adapter"
TIMEOUT_S = 300
PLUGIN = ("-p", "ddp_lifecycle_spec_pytest")


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    """Run pytest in a subprocess in pytester's folder with the plugin as installed (entry point given by -p)."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("LIFECYCLE_SPEC_IMPL", raising=False)

    def run_pytest(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess(*PLUGIN, *args, timeout=TIMEOUT_S)

    return run_pytest


@pytest.fixture
def inline(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    """Run pytest in this process with the plugin loaded as `run` loads it: for collection and help only."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("LIFECYCLE_SPEC_IMPL", raising=False)

    def run_inline(*args: str) -> pytest.RunResult:
        return pytester.runpytest_inprocess(*PLUGIN, *args)

    return run_inline


def suite_args(impl: str, world_sizes: str) -> list[str]:
    return ["--pyargs", "harness.spec.suite", "--lifecycle-impl", impl, "--lifecycle-world-sizes", world_sizes]


def collected_clauses(result: pytest.RunResult) -> set[str]:
    return {line.split("[")[1].split("-")[0] for line in result.outlines if "test_clause[" in line}


def test_pyargs_suite_certifies_the_reference_clause_by_clause(run):
    # The clauses whose world sizes or claim this reads, at both sizes; the others are deselected, not run.
    result = run(*suite_args(REFERENCE, "1,2"), "-v", "-k", "C1- or S4- or C5- or S1- or D4-")
    assert result.ret == 0, result.stdout.str()[-3000:]
    assert set(result.parseoutcomes()) == {"passed", "skipped", "deselected"}
    result.stdout.fnmatch_lines(["*test_clause?C1-agreement-2-ranks? PASSED*", "*test_clause?S4-*-2-ranks? PASSED*"])
    skipped = [line for line in result.outlines if " SKIPPED" in line]
    assert skipped and all("test_clause[D4-" in line for line in skipped), skipped  # the reference declares all
    result.stdout.no_fnmatch_line("*test_clause?S1-slot-and-order-safety-1-rank?*")
    result.stdout.no_fnmatch_line("*test_clause?C5-*-2-ranks?*")
    result.stdout.fnmatch_lines(["*test_clause?C5-single-process-1-rank? PASSED*"])
    result.stdout.fnmatch_lines(["verdict of the clauses run, as a certificate gives it: certified"])


def test_profiles_and_clause_ids_select_exactly(inline):
    base = [*suite_args(REFERENCE, "1,2"), "--collect-only", "-q"]

    def collected(*extra: str) -> set[str]:
        result = inline(*base, *extra)
        assert result.ret == 0, result.stdout.str()[-2000:]
        return collected_clauses(result)

    assert collected("-k", "S1") == {"S1"}
    assert collected("-k", "C5") == {"C5"}
    assert collected("-m", "strict") == {clause.id for clause in select("strict")}
    assert collected("--lifecycle-profile", "core") == CORE_IDS
    assert collected("-m", "resume") == {"R1", "R2", "R3", "R4", "R5"}


def test_known_bad_implementation_fails_only_its_clauses_with_evidence_kept_under_the_rootdir(run, pytester):
    result = run(*suite_args("tests.bad_impls.passed_only:Adapter", "2"), "-rfs")
    assert result.ret == 1, result.stdout.str()[-3000:]
    outcomes = result.parseoutcomes()
    result.assert_outcomes(passed=outcomes["passed"], failed=1, skipped=outcomes.get("skipped", 0))
    skips = [line for line in result.outlines if line.startswith("SKIPPED")]
    assert all("not claimed" in line for line in skips), skips  # no checkpoint; every DDP configuration
    result.stdout.fnmatch_lines(["FAILED *test_clause?C3-integrity-2-ranks?*"])
    folder = pytester.path / ".lifecycle-evidence"
    (evidence,) = {line.split("evidence: ", 1)[1] for line in result.outlines if line.startswith("evidence: /")}
    assert Path(evidence).parent == folder and Path(evidence).is_file(), evidence
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"
    result.stdout.fnmatch_lines(["replay: *", f"evidence: 1 file(s) in {folder}, kept between sessions"])
    result.stdout.fnmatch_lines(["verdict of the clauses run, as a certificate gives it: not_certified"])


def test_evidence_folder_is_resolved_from_where_pytest_started_and_checked_at_start(run, pytester):
    rootdir, started = Path("/project"), Path("/project/sub")
    config = SimpleNamespace(rootpath=rootdir, invocation_params=SimpleNamespace(dir=started))
    config.getoption = {EVIDENCE_OPTION: None}.get
    assert configured_evidence_dir(config) == rootdir / ".lifecycle-evidence"
    config.getoption = {EVIDENCE_OPTION: "out/evidence"}.get
    assert configured_evidence_dir(config) == started / "out" / "evidence"
    pytester.makefile(".txt", taken="a file, not a folder")
    result = run(*suite_args(REFERENCE, "2"), EVIDENCE_OPTION, "taken.txt")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()[-2000:]
    result.stderr.fnmatch_lines([f"ERROR: lifecycle-spec: {EVIDENCE_OPTION} 'taken.txt' exists and is not a folder"])
    assert "Traceback" not in result.stderr.str()


def test_plugin_is_inert_without_an_implementation_and_adds_the_suite_with_one(run, pytester, monkeypatch):
    pytester.makepyfile(test_own="def test_own():\n    assert True\n")
    run("-q").assert_outcomes(passed=1)
    monkeypatch.setenv("LIFECYCLE_SPEC_IMPL", REFERENCE)
    added = run("-q", "--lifecycle-world-sizes", "2", "--lifecycle-profile", "core", "-k", "test_own or C1-")
    assert added.ret == 0, added.stdout.str()[-3000:]
    added.assert_outcomes(passed=2, deselected=len(CORE_IDS) - 1)  # the own test, and every core clause added


def test_bad_options_are_one_usage_error(run):
    result = run(*suite_args(REFERENCE, "2"), "--lifecycle-profile", "nosuch")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: lifecycle-spec: --lifecycle-profile must be all or one of *, got 'nosuch'"])
    assert "Traceback" not in result.stderr.str()


@pytest.mark.parametrize(
    "extra", [["-p", "harness.testing"], ["--import-mode=importlib"]], ids=["p-testing", "importlib"]
)
def test_suite_runs_with_the_testing_module_named_or_imported_by_importlib(run, extra):
    options = ["--lifecycle-impl", REFERENCE, "--lifecycle-world-sizes", "2", "--lifecycle-profile", "core"]
    result = run(*extra, *options, "-k", "C1-")
    assert result.ret == 0, result.stdout.str()[-3000:] + result.stderr.str()[-2000:]
    result.assert_outcomes(passed=1, deselected=len(CORE_IDS) - 1)  # every core clause collected, one run


def test_run_scenario_runs_the_session_implementation_or_says_none_was_chosen(run, pytester):
    pytester.makepyfile(
        broken_impl="""
        from reference_impl.adapter import Adapter as Reference

        class Adapter(Reference):
            def germinate(self, slot, seed_id, blueprint_id):
                raise RuntimeError("the session's implementation ran")
        """,
        test_own="""
        from harness.records.scenario import Op, Scenario

        def test_own_scenario(run_scenario):
            result = run_scenario(Scenario("own", 1, ["a"], [Op("germinate", "a")]))
            assert not result.ok
            assert "the session's implementation ran" in result.render()
        """,
    )
    chosen = run("-p", "harness.testing", "--lifecycle-impl", "broken_impl:Adapter", "-k", "test_own_scenario")
    chosen.assert_outcomes(passed=1, deselected=chosen.parseoutcomes()["deselected"])
    unchosen = run("-p", "harness.testing", "-k", "test_own_scenario")
    unchosen.assert_outcomes(failed=1)
    unchosen.stdout.fnmatch_lines(["*run_scenario: no implementation chosen: pass impl='MODULE:ATTR'*"])


def test_fixtures_markers_and_options_are_documented(inline):
    fixtures = inline("-p", "harness.testing", "--fixtures").outlines
    for name in ("world_pool", "run_scenario", "lifecycle_runner"):
        at = next(i for i, line in enumerate(fixtures) if line.startswith(f"{name} "))
        assert "no docstring available" not in fixtures[at + 1], fixtures[at : at + 2]
    inline("-p", "harness.testing", "--markers").stdout.fnmatch_lines(
        ["@pytest.mark.world_sizes(*sizes): run the test once per world size*", "@pytest.mark.core: *"]
    )
    inline("--help").stdout.fnmatch_lines(
        [
            "*--lifecycle-impl=MODULE:ATTR*",
            "*--lifecycle-world-sizes=SIZES*",
            "*--lifecycle-seed=LIFECYCLE_SEED*",
            "*--lifecycle-profile=PROFILE*",
            "*--lifecycle-evidence-dir=DIR*",
        ]
    )

"""The pytest route: installed (--pyargs and the entry-point plugin) and vendored (copied, not installed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = "reference_impl.adapter:Adapter"


def pytest_run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def junit_cases(junit: Path) -> dict[str, str]:
    """Test name -> "passed", "failed" or "skipped", from a JUnit report."""
    cases = {}
    for case in ET.parse(junit).iter("testcase"):
        kinds = {child.tag for child in case}
        cases[case.get("name")] = "failed" if kinds & {"failure", "error"} else "skipped" if kinds else "passed"
    return cases


def test_pyargs_suite_certifies_the_reference_clause_by_clause(tmp_path):
    junit = tmp_path / "spec.xml"
    args = ["--pyargs", "harness.spec.suite", "--lifecycle-impl", REFERENCE, "--lifecycle-world-sizes", "1,2"]
    done = pytest_run([*args, f"--junitxml={junit}"], tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    cases = junit_cases(junit)
    assert cases["test_clause[C1-agreement-2-ranks]"] == "passed"
    assert "test_clause[S1-slot-and-order-safety-1-rank]" not in cases, "S1 has no scenario at one rank"
    assert [name for name in cases if name.startswith("test_clause[C5")] == ["test_clause[C5-single-process-1-rank]"]
    assert {name.split("-")[0] for name in cases} >= {"test_clause[C1", "test_clause[S4"}
    assert set(cases.values()) == {"passed"}


def test_profiles_and_clause_ids_select_exactly(tmp_path):
    base = ["--pyargs", "harness.spec.suite", "--lifecycle-impl", REFERENCE, "--lifecycle-world-sizes", "1,2"]
    base += ["--collect-only", "-q"]

    def collected(*extra: str) -> set[str]:
        done = pytest_run([*base, *extra], tmp_path)
        assert done.returncode == 0, done.stdout[-2000:]
        return {line.split("[")[1].split("-")[0] for line in done.stdout.splitlines() if "test_clause[" in line}

    assert collected("-k", "S1") == {"S1"}
    assert collected("-k", "C5") == {"C5"}
    assert collected("-m", "strict") == {"S1", "S2", "S3", "S4"}
    assert collected("--lifecycle-profile", "core") == {f"C{i}" for i in range(1, 9)}


def test_known_bad_implementation_fails_only_its_clauses(tmp_path):
    junit = tmp_path / "spec.xml"
    impl = "tests.bad_impls.passed_only:Adapter"
    args = ["--pyargs", "harness.spec.suite", "--lifecycle-impl", impl, "--lifecycle-world-sizes", "2"]
    done = pytest_run([*args, f"--junitxml={junit}"], ROOT)
    assert done.returncode == 1, done.stdout[-3000:]
    failed = {name for name, status in junit_cases(junit).items() if status == "failed"}
    assert failed == {"test_clause[C3-integrity-2-ranks]"}
    assert "replay: " in done.stdout and "evidence: " in done.stdout


def test_plugin_is_inert_without_an_implementation_and_adds_the_suite_with_one(tmp_path):
    (tmp_path / "test_own.py").write_text("def test_own():\n    assert True\n")
    inert = pytest_run(["-q"], tmp_path)
    assert inert.returncode == 0 and "1 passed" in inert.stdout, inert.stdout
    added = pytest_run(["-q", "--lifecycle-world-sizes", "2"], tmp_path, LIFECYCLE_SPEC_IMPL=REFERENCE)
    assert added.returncode == 0, added.stdout[-3000:]
    assert "1 passed" not in added.stdout and "passed" in added.stdout


def test_vendored_copy_runs_without_being_installed(tmp_path):
    vendor = tmp_path / "third_party" / "ddp_lifecycle"
    for package in ("harness", "reference_impl"):
        shutil.copytree(ROOT / package, vendor / package, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "conftest.py").write_text(
        "def pytest_report_header():\n    import harness\n    return f'harness from {harness.__file__}'\n"
    )
    junit = tmp_path / "spec.xml"
    suite = vendor / "harness" / "spec" / "suite"
    args = [str(suite), "--lifecycle-impl", REFERENCE, "--lifecycle-world-sizes", "2", f"--junitxml={junit}"]
    done = pytest_run(args, tmp_path, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert done.returncode == 0, done.stdout[-3000:]
    assert f"harness from {vendor / 'harness' / '__init__.py'}" in done.stdout
    assert junit_cases(junit)["test_clause[C2-authority-2-ranks]"] == "passed"

"""Downstream use without surprises: a repository with its own `harness` package, the suite vendored under
third_party/ddp_lifecycle, and the suite installed from a wheel. Every run is a bounded subprocess in a
temporary folder, with PYTHONPATH unset unless a test says otherwise."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness import read_certificate
from harness.spec.clauses import select

from .downstream_util import (
    ROOT,
    VENDOR_PACKAGE,
    VENDORED_REFERENCE,
    clean_env,
    downstream_tree,
    git_commit,
    run,
    side_by_side,
    start,
    wheel_venv,
)

# An older editable install of this project in the base environment, seen through --system-site-packages,
# registers its plugin under this name; the venv's own entry point is `ddp_lifecycle_spec_pytest`.
BASE_PLUGIN = "lifecycle_harness"
PLUGIN = "ddp_lifecycle_spec_pytest"
OLDER_INSTALL = {"METADATA": "Metadata-Version: 2.1\nName: older-lifecycle-spec\nVersion: 0.0\n",
                 "entry_points.txt": f"[pytest11]\nlifecycle_spec = {PLUGIN}\n"}  # fmt: skip
# A certification that proves the route (which copy ran, what it recorded), not the clauses' power: one
# world size, one profile, one generated scenario per world size.
ROUTE_ONLY = ("--world-sizes", "2", "--profile", "core", "--corpus", "1")
REGISTERED_ONCE = f"""import os

import {PLUGIN} as plugin


def test_the_plugin_is_registered_once_or_not_at_all(pytestconfig):
    names = [name for name, p in pytestconfig.pluginmanager.list_name_plugin() if p is plugin]
    assert "{PLUGIN}" not in names if os.environ.get("PLUGIN_OFF") else len(names) == 1, names
"""


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return wheel_venv(tmp_path_factory.mktemp("wheel"))


def pytest_in(tree: Path, *args: str, python: str = sys.executable, **env: str):
    return run(pytest_command(python, *args), tree, clean_env(**env))


def pytest_command(python: str, *args: str) -> list[str]:
    return [python, "-m", "pytest", "-p", "no:cacheprovider", *args]


def test_own_harness_package_runs_its_own_tests_with_the_plugin_present(tmp_path):
    tree = downstream_tree(tmp_path)
    plugin = ["-p", "ddp_lifecycle_spec_pytest"]
    env = {"PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    started = [start(pytest_command(sys.executable, *plugin, *extra), tree, clean_env(**env))
               for extra in ([], ["--lifecycle-impl", "reference_impl.adapter:Adapter"])]  # fmt: skip
    own, asked = side_by_side(started)
    assert own.returncode == 0, own.stdout[-3000:] + own.stderr[-2000:]
    assert asked.returncode == pytest.ExitCode.USAGE_ERROR, asked.stdout[-3000:]
    assert f"`import harness` resolves to {tree / 'harness'}" in asked.stderr
    assert "Vendor the suite under a package path" in asked.stderr and "Traceback" not in asked.stderr


def test_vendored_copy_certifies_beside_an_own_harness_package(tmp_path):
    tree = downstream_tree(tmp_path, vendored=True)
    own = pytest_in(tree, "-q", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert own.returncode == 0, own.stdout[-3000:]
    assert own.stdout.splitlines()[-1].split()[:2] == ["1", "passed"], "the vendored suite is not collected unasked"
    certify = [sys.executable, "-m", f"{VENDOR_PACKAGE}.harness", "certify", *ROUTE_ONLY]
    done = run([*certify, "--out", str(tmp_path / "cert")], tree, clean_env())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    cert = read_certificate(tmp_path / "cert")
    assert cert["verdict"] == "certified"
    assert cert["implementation"]["spec"] == VENDORED_REFERENCE
    assert cert["suite"]["commit"] == "unknown", "a vendored copy has no commit of its own"


@pytest.mark.parametrize("import_mode", ["prepend", "importlib"])
def test_vendored_suite_runs_through_pytest(tmp_path, import_mode):
    tree = downstream_tree(tmp_path, vendored=True)
    suite = "third_party/ddp_lifecycle/harness/spec/suite"
    args = [suite, f"--import-mode={import_mode}", "--lifecycle-impl", VENDORED_REFERENCE]
    # Every core clause collected from the vendored copy, one of them run: the route, not the clauses' verdicts.
    args += ["--lifecycle-world-sizes", "2", "--lifecycle-profile", "core", "-k", "C1-", "-q"]
    done = pytest_in(tree, *args, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    summary = done.stdout.splitlines()[-1].split()
    assert summary[:5] == ["1", "passed,", str(len(select("core")) - 1), "deselected", "in"], done.stdout[-1000:]


def test_installed_wheel_certifies_with_its_commit(venv_python, tmp_path):
    done = run(
        [str(venv_python), "-m", "harness", "certify", *ROUTE_ONLY, "--out", "cert"],
        tmp_path,
        clean_env(),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    cert = read_certificate(tmp_path / "cert")
    assert cert["verdict"] == "certified"
    assert cert["suite"]["commit"] == git_commit()
    where = run([str(venv_python), "-c", "import harness; print(harness.__file__)"], tmp_path, clean_env())
    assert str(venv_python.parent.parent) in where.stdout, "the venv's copy was certified, not this checkout"


def test_installed_plugin_leaves_an_own_harness_package_alone(venv_python, tmp_path):
    tree = downstream_tree(tmp_path)
    command = pytest_command(str(venv_python), "-p", f"no:{BASE_PLUGIN}")
    own, asked = side_by_side(
        [start([*command, *extra], tree, clean_env()) for extra in ([], ["--lifecycle-impl", "x:y"])]
    )
    assert own.returncode == 0, own.stdout[-3000:] + own.stderr[-2000:]
    assert asked.returncode == pytest.ExitCode.USAGE_ERROR, asked.stdout[-3000:]
    assert "another package called harness comes first on sys.path" in asked.stderr


def test_installed_plugin_is_one_plugin_however_loaded_even_beside_an_older_install(venv_python, tmp_path):
    (tmp_path / "test_plugin.py").write_text(REGISTERED_ONCE)
    older = tmp_path / "older" / "older_lifecycle_spec-0.0.dist-info"
    older.mkdir(parents=True)
    for name, text in OLDER_INSTALL.items():
        (older / name).write_text(text)
    beside_older = {"PYTHONPATH": str(older.parent)}
    runs = [([], beside_older), (["-p", PLUGIN], beside_older), (["-p", PLUGIN], {})]
    runs += [(["-p", PLUGIN], {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}), (["-p", f"no:{PLUGIN}"], {"PLUGIN_OFF": "1"})]
    command = pytest_command(str(venv_python), "-p", f"no:{BASE_PLUGIN}")
    started = [start([*command, *extra, "-q", "test_plugin.py"], tmp_path, clean_env(**env)) for extra, env in runs]
    for (extra, env), done in zip(runs, side_by_side(started), strict=True):  # independent sessions, side by side
        assert done.returncode == 0, (extra, env, done.stdout[-3000:] + done.stderr[-2000:])


def test_a_build_with_too_old_a_setuptools_names_the_fix(monkeypatch):
    """Without build isolation pip does not check pyproject's `requires`: the backend says what to do."""
    import importlib.util

    import setuptools

    monkeypatch.setattr(setuptools, "__version__", "65.5.0")
    path = Path(__file__).resolve().parent.parent / "build_backend" / "commit_backend.py"
    spec = importlib.util.spec_from_file_location("commit_backend_under_test", path)
    with pytest.raises(SystemExit, match=r"builds with setuptools>=70\.1, this environment has 65\.5\.0: run"):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))

"""Downstream use without surprises: a repository with its own `harness` package, the suite vendored under
third_party/ddp_lifecycle, and the suite installed from a wheel. Every run is a bounded subprocess in a
temporary folder, with PYTHONPATH unset unless a test says otherwise."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness import read_certificate

from .downstream_util import (
    ROOT,
    VENDOR_PACKAGE,
    VENDORED_REFERENCE,
    clean_env,
    downstream_tree,
    git_commit,
    run,
    wheel_venv,
)

PLUGIN = "ddp_lifecycle_spec_pytest"
# Older editable installs of this project in the base environment, seen through --system-site-packages,
# register the plugin under these names (the same module as the venv's own entry point, `PLUGIN`, which
# pytest refuses to register twice): blocked, so that the venv's entry point is the one that loads.
OLD_PLUGIN_NAMES = ["-p", "no:lifecycle_harness", "-p", "no:lifecycle_spec"]
REGISTERED_ONCE = f"""import {PLUGIN}


def test_the_plugin_is_registered_under_its_module_name_only(pytestconfig):
    names = [name for name, plugin in pytestconfig.pluginmanager.list_name_plugin() if plugin is {PLUGIN}]
    assert names == {[PLUGIN]!r}
    assert pytestconfig.getoption("--lifecycle-impl") is None
"""


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return wheel_venv(tmp_path_factory.mktemp("wheel"))


def pytest_in(tree: Path, *args: str, python: str = sys.executable, **env: str):
    return run([python, "-m", "pytest", "-p", "no:cacheprovider", *args], tree, clean_env(**env))


def test_own_harness_package_runs_its_own_tests_with_the_plugin_present(tmp_path):
    tree = downstream_tree(tmp_path)
    plugin = ["-p", "ddp_lifecycle_spec_pytest"]
    env = {"PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    own = pytest_in(tree, *plugin, **env)
    assert own.returncode == 0, own.stdout[-3000:] + own.stderr[-2000:]
    asked = pytest_in(tree, *plugin, "--lifecycle-impl", "reference_impl.adapter:Adapter", **env)
    assert asked.returncode == pytest.ExitCode.USAGE_ERROR, asked.stdout[-3000:]
    assert f"`import harness` resolves to {tree / 'harness'}" in asked.stderr
    assert "Vendor the suite under a package path" in asked.stderr and "Traceback" not in asked.stderr


def test_vendored_copy_certifies_beside_an_own_harness_package(tmp_path):
    tree = downstream_tree(tmp_path, vendored=True)
    own = pytest_in(tree, "-q", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert own.returncode == 0, own.stdout[-3000:]
    assert own.stdout.splitlines()[-1].split()[:2] == ["1", "passed"], "the vendored suite is not collected unasked"
    certify = [sys.executable, "-m", f"{VENDOR_PACKAGE}.harness", "certify", "--world-sizes", "2", "--profile", "core"]
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
    args += ["--lifecycle-world-sizes", "2", "--lifecycle-profile", "core", "-q"]
    done = pytest_in(tree, *args, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert done.stdout.splitlines()[-1].split()[:2] == ["8", "passed"], done.stdout[-1000:]


def test_installed_wheel_certifies_with_its_commit(venv_python, tmp_path):
    done = run(
        [str(venv_python), "-m", "harness", "certify", "--world-sizes", "1", "--profile", "core", "--out", "cert"],
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
    own = pytest_in(tree, *OLD_PLUGIN_NAMES, python=str(venv_python))
    assert own.returncode == 0, own.stdout[-3000:] + own.stderr[-2000:]
    asked = pytest_in(tree, *OLD_PLUGIN_NAMES, "--lifecycle-impl", "x:y", python=str(venv_python))
    assert asked.returncode == pytest.ExitCode.USAGE_ERROR, asked.stdout[-3000:]
    assert "another package called harness comes first on sys.path" in asked.stderr


def test_installed_plugin_is_one_plugin_autoloaded_named_with_p_or_both(venv_python, tmp_path):
    (tmp_path / "test_plugin.py").write_text(REGISTERED_ONCE)
    python = str(venv_python)
    for extra, env in (([], {}), (["-p", PLUGIN], {}), (["-p", PLUGIN], {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})):
        done = pytest_in(tmp_path, *OLD_PLUGIN_NAMES, *extra, "-q", python=python, **env)
        assert done.returncode == 0, (extra, env, done.stdout[-3000:] + done.stderr[-2000:])
    off = pytest_in(tmp_path, *OLD_PLUGIN_NAMES, "-p", f"no:{PLUGIN}", "-q", python=python)
    assert off.returncode == 1 and "assert [] == ['ddp_lifecycle_spec_pytest']" in off.stdout, off.stdout[-3000:]

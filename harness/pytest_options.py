"""The pytest options of the specification suite, defined once for every way the plugin is loaded.

This module imports nothing of the suite: the top-level entry point (`ddp_lifecycle_spec_pytest`) loads
it by its file before it knows whether `harness` on sys.path is this package, and `harness.testing`
uses it when loaded with `-p`, from `pytest_plugins` or from a vendored suite's conftest. Adding the
options is idempotent, so any number of those routes can meet in one run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

GROUP = "lifecycle-spec"
IMPL_OPTION = "--lifecycle-impl"
IMPL_VARIABLE = "LIFECYCLE_SPEC_IMPL"
EVIDENCE_OPTION = "--lifecycle-evidence-dir"
STALL_OPTION = "--lifecycle-stall-timeout"
EVIDENCE_DEFAULT = ".lifecycle-evidence"  # under the rootdir: pytest's own tmp folders go after 3 sessions
PLUGIN_NAME = "lifecycle_harness"


def add_options(parser: pytest.Parser) -> None:
    """Add the suite's options unless another route into the plugin already did."""
    group = parser.getgroup(GROUP, "DDP lifecycle specification suite")
    if any(IMPL_OPTION in option.names() for option in group.options):
        return
    group.addoption(
        IMPL_OPTION,
        default=None,
        metavar="MODULE:ATTR",
        help=f"the adapter to certify; adds the specification suite to the run (or set {IMPL_VARIABLE})",
    )
    group.addoption("--lifecycle-world-sizes", default="1,2,3,4", metavar="SIZES", help="world sizes, e.g. 1,2,3,4")
    group.addoption("--lifecycle-seed", type=int, default=0, help="seed of the generated scenarios")
    group.addoption(
        "--lifecycle-profile",
        default="all",  # harness.records.profiles.ALL: this module loads alone, before the package (see its docstring)
        metavar="PROFILE",
        help="the clauses to run: one profile (see `pytest --markers`), or all (default); the same as -m PROFILE",
    )
    group.addoption(
        EVIDENCE_OPTION,
        default=None,
        metavar="DIR",
        help=f"where failing clauses' evidence files go, kept between sessions (default: {EVIDENCE_DEFAULT}/ "
        "under the rootdir)",
    )
    group.addoption(
        STALL_OPTION,
        type=float,
        default=None,
        metavar="SECONDS",
        help="end a clause's scenario when no rank made progress for this long (default: from the calls seen so"
        " far, as `certify --stall-timeout`)",
    )
    group.addoption(
        "--lifecycle-verbose",
        action="store_true",
        help="in the summary, under each clause, each scenario it ran with its status and calls judged",
    )


def configured_impl(config: pytest.Config) -> str | None:
    """The implementation chosen for the session: `--lifecycle-impl`, else LIFECYCLE_SPEC_IMPL, else None."""
    return config.getoption(IMPL_OPTION) or os.environ.get(IMPL_VARIABLE) or None


def configured_evidence_dir(config: pytest.Config) -> Path:
    """The evidence folder: `--lifecycle-evidence-dir` (relative to where pytest was started), else
    `.lifecycle-evidence` under the rootdir."""
    chosen = config.getoption(EVIDENCE_OPTION)
    if chosen is None:
        return config.rootpath / EVIDENCE_DEFAULT
    return (config.invocation_params.dir / chosen).resolve()


def suite_plugin_registered(pluginmanager: pytest.PytestPluginManager) -> bool:
    """True once `harness.testing` (this copy or a vendored one) is registered, under whatever name."""
    return any(getattr(plugin, "SUITE_DIR", None) is not None for plugin in pluginmanager.get_plugins())

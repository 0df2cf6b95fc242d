"""The pytest entry point of ddp-lifecycle-spec: inert until the specification suite is asked for.

The plugin's name is this module's name, in the entry point too, so pytest sees one plugin whichever
way it arrives: autoloaded when installed, or `-p ddp_lifecycle_spec_pytest` (installed or on
PYTHONPATH, with autoloading on or off); `-p no:ddp_lifecycle_spec_pytest` turns it off. pytest refuses
to register one module under two names, with an error that stops the run; an older install's entry
point still carries another name, so once registered the module blocks its other names.

Installed, pytest loads this module in every run of every project, so it imports nothing of the suite
at start: it adds the suite's options (from `harness/pytest_options.py` beside it, loaded by file) and
only when `--lifecycle-impl` or LIFECYCLE_SPEC_IMPL asks for the suite does it import `harness.testing`.
If `harness` then resolves to another package (a downstream project's own `harness`), the run stops
with one usage error instead of ranks importing the wrong code.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SUITE_PACKAGE_DIR = Path(__file__).resolve().parent / "harness"
NAMES = (__name__, "lifecycle_spec")  # the entry point's name, and the one it had before it took the module's


def _load_options() -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"{__name__}_options", SUITE_PACKAGE_DIR / "pytest_options.py")
    options = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(options)
    return options


OPTIONS = _load_options()


def pytest_plugin_registered(plugin: object, plugin_name: str, manager: pytest.PytestPluginManager) -> None:
    """Block this module's other names once it is registered under one, so that an older install's entry
    point, or the module named after autoloading registered it, is skipped instead of stopping the run."""
    if plugin is sys.modules[__name__]:
        for name in NAMES:
            if name != plugin_name:
                manager.set_blocked(name)


def pytest_addoption(parser: pytest.Parser) -> None:
    OPTIONS.add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Register the suite's plugin when the suite is asked for and no route into it did so already."""
    if OPTIONS.configured_impl(config) is None or OPTIONS.suite_plugin_registered(config.pluginmanager):
        return
    _check_harness_is_ours()
    config.pluginmanager.register(importlib.import_module("harness.testing"), OPTIONS.PLUGIN_NAME)


def _check_harness_is_ours() -> None:
    found = importlib.util.find_spec("harness")
    locations = [Path(p).resolve() for p in (found.submodule_search_locations or [])] if found else []
    if SUITE_PACKAGE_DIR not in locations:
        where = ", ".join(map(str, locations)) or (found.origin if found else "nothing")
        raise pytest.UsageError(
            f"lifecycle-spec: `import harness` resolves to {where}, not this suite's package "
            f"({SUITE_PACKAGE_DIR}): another package called harness comes first on sys.path. "
            "Vendor the suite under a package path (e.g. third_party/ddp_lifecycle/harness) "
            "and run its suite folder (third_party/ddp_lifecycle/harness/spec/suite)"
        )

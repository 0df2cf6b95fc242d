"""Makes the suite work vendored (copied into another repository, not installed): when no route into
the plugin registered `harness.testing` already, register this copy's. pytest calls the historic
`pytest_addoption` hook for a plugin registered this late, so the suite's options still exist.

A downstream repository's own test run passes through a vendored copy without collecting it, unless
the suite is asked for (an implementation chosen, or the suite's folder named)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ... import testing
from ...pytest_options import PLUGIN_NAME


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    already = any(getattr(plugin, "SUITE_DIR", None) is not None for plugin in pluginmanager.get_plugins())
    if not already:
        pluginmanager.register(testing, PLUGIN_NAME)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    return None if testing.suite_asked_for(config) else True

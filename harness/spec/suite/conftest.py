"""Makes the suite work vendored (copied into another repository, not installed): when no route into
the plugin registered `harness.testing` already, register this copy's. pytest calls the historic
`pytest_addoption` hook for a plugin registered this late, so the suite's options still exist."""

from __future__ import annotations

import pytest

from ... import testing
from ...pytest_options import PLUGIN_NAME


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    already = any(getattr(plugin, "SUITE_DIR", None) is not None for plugin in pluginmanager.get_plugins())
    if not already:
        pluginmanager.register(testing, PLUGIN_NAME)

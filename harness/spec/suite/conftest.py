"""Makes the suite work vendored (copied into another repository, not installed): when no route into
the plugin registered `harness.testing` already, this copy's is registered.

A downstream repository's own test run passes through a vendored copy without collecting it, unless
the suite is asked for (an implementation chosen, or the suite's folder named)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ... import testing


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    testing.register_unless_present(pluginmanager)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    return None if testing.suite_asked_for(config) else True

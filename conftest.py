"""Project-wide pytest setup: the harness's fixtures and markers for the project's own tests.

Registered from a hook rather than `pytest_plugins`, because this file is also an ancestor conftest of the
suite folder when a checkout is installed editable and another project runs the suite from it, and pytest
refuses `pytest_plugins` in a conftest that is not at the rootdir.
"""

import pytest

from harness import testing


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    testing.register_unless_present(pluginmanager)

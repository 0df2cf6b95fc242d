"""Makes the suite work vendored (copied into another repository, not installed): when the
`lifecycle_harness` plugin did not come in through its entry point, register it here. pytest calls
the historic `pytest_addoption` hook for a plugin registered this late, so its options still exist."""

import importlib


def pytest_addoption(parser, pluginmanager):  # noqa: ANN001, ANN201 - pytest hook signature
    if not pluginmanager.has_plugin("lifecycle_harness"):
        suite = __name__.rpartition(".")[0] if "." in __name__ else "harness.spec.suite"
        pluginmanager.register(importlib.import_module(suite.rsplit(".", 2)[0] + ".testing"), "lifecycle_harness")

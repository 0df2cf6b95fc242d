"""Project-wide pytest setup: the harness's fixtures and markers for the project's own tests.

A downstream test suite gets the same fixtures with the same line in its own top-level conftest.py.
"""

pytest_plugins = ["harness.testing"]

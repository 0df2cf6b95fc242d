"""Project-wide pytest setup: the harness's fixtures and markers, and pytester for the plugin's own tests.

A downstream test suite gets the harness's fixtures with `pytest_plugins = ["harness.testing"]` in its
own top-level conftest.py.
"""

pytest_plugins = ["harness.testing", "pytester"]

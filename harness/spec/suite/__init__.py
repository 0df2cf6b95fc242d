"""The specification suite as pytest tests: `pytest --pyargs harness.spec.suite --lifecycle-impl MODULE:ATTR`."""

"""The checks: pure functions of a scenario's result, and the words a verdict is explained in."""

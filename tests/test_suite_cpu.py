"""The suite's CPU probe (`scripts/suite_cpu.py`) folds a test function's parameters together and ranks by CPU."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "suite_cpu.py"


def load_script():
    spec = importlib.util.spec_from_file_location("suite_cpu", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_parameters_fold_into_their_function_and_the_costliest_comes_first():
    rows = [
        ("tests/a.py::test_x[one]", 1.0, 2.0),
        ("tests/b.py::test_y", 5.0, 1.0),
        ("tests/a.py::test_x[two-words]", 3.0, 4.0),
    ]
    assert load_script().by_function(rows) == [
        ("tests/b.py::test_y", 5.0, 1.0, 1),
        ("tests/a.py::test_x", 4.0, 6.0, 2),
    ]


def test_the_machine_busy_time_only_grows():
    busy_s = load_script().busy_s
    first = busy_s()
    sum(range(2_000_000))
    assert busy_s() >= first > 0

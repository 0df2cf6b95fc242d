"""The suite's CPU probe (`scripts/suite_cpu.py`): busy time read from /proc/stat's fields, tests folded by function."""

from __future__ import annotations

import importlib.util
import os
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


def test_busy_time_is_every_field_but_idle_and_iowait(tmp_path):
    stat = tmp_path / "stat"
    stat.write_text("cpu  1 2 3 400 500 6 7 8 0 0\ncpu0 1 2 3 400 500 6 7 8 0 0\n")
    assert load_script().busy_s(str(stat)) == 27 / os.sysconf("SC_CLK_TCK")

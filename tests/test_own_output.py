"""The harness's own DDP warnings stay out of the user's terminal; the implementation's output reaches it
once, with its rank."""

from __future__ import annotations

import os

from harness.rankside import ranklog
from harness.rankside.own_output import harness_output, split_lines

REDUCER = (
    "[rank0]:[W1201 11:23:51.273613557 reducer.cpp:1529] Warning: find_unused_parameters=True was specified in DDP"
    " constructor, but did not find any unused parameters in the forward pass. (function operator())\n"
)
TORCH_PY = "/venv/lib/python3.12/site-packages/torch/nn/parallel/distributed.py:1200: UserWarning: bucket view\n"


def test_the_harness_ddp_lines_are_told_from_the_implementations():
    text = REDUCER + TORCH_PY + "  warnings.warn(\n" + "/team/slot.py:12: UserWarning: alpha clipped\n  warn(x)\n"
    harness, others = split_lines(text)
    assert harness == [REDUCER, TORCH_PY, "  warnings.warn(\n"]
    assert others == ["/team/slot.py:12: UserWarning: alpha clipped\n", "  warn(x)\n"]


def test_without_a_rank_log_only_the_implementations_output_reaches_stderr_with_its_rank(capfd, monkeypatch):
    monkeypatch.setattr(ranklog, "current", None)
    with harness_output(1):
        os.write(2, REDUCER.encode())
        os.write(2, b"my own warning\n")
    assert capfd.readouterr().err == "[rank 1] my own warning\n"

"""The harness's own DDP and gloo warnings kept out of the user's terminal.

torch prints some warnings of the harness's own DistributedDataParallel from C++, straight to file
descriptor 2 (`find_unused_parameters=True was specified ... but did not find any unused parameters`):
Python's `warnings` never sees them. `harness_output` captures fd 2 around the harness's DDP construction
and training step, then writes the harness's own lines to the rank log (a spawned rank's fd 2 is its
log; under a launcher there is none, and they are dropped), and everything else printed there, the
implementation's own output and warnings from its modules' forward, back to stderr once, each line
prefixed with its rank.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator

from . import ranklog

TORCH_WARNING = re.compile(
    r"reducer\.cpp|ProcessGroupGloo|find_unused_parameters=True was specified"
    r"|[\\/]torch[\\/](nn[\\/]parallel|distributed)[\\/][^:]*:\d+: \w*Warning:"
)


@contextlib.contextmanager
def harness_output(rank: int) -> Iterator[None]:
    """Sort what reaches fd 2 inside the block: the harness's own DDP/gloo lines, and the rest."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            harness, others = split_lines(capture.read().decode("utf-8", "replace"))
            text = "".join(f"[rank {rank}] {line}" for line in others)
            if ranklog.current is not None:
                text = "".join(harness) + text
            if text:
                os.write(2, text.encode())


def split_lines(text: str) -> tuple[list[str], list[str]]:
    """The harness's own warning lines (a Python warning's indented source line with it), and the rest."""
    harness: list[str] = []
    others: list[str] = []
    previous_was_warning = False
    for line in text.splitlines(keepends=True):
        own = TORCH_WARNING.search(line) is not None or (previous_was_warning and line.startswith("  "))
        (harness if own else others).append(line if line.endswith("\n") else line + "\n")
        previous_was_warning = own
    return harness, others

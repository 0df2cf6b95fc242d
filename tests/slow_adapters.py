"""Adapters slow to import or to build on the ranks (never in the harness process, which only reads
their name): each pauses `$LIFECYCLE_TEST_SLOW_S` seconds."""

from __future__ import annotations

import os
import time

from harness.procs.reaper import TOKEN_VARIABLE
from reference_impl.adapter import Adapter

SLOW_VARIABLE = "LIFECYCLE_TEST_SLOW_S"


def pause_on_a_rank() -> None:
    if TOKEN_VARIABLE in os.environ:
        time.sleep(float(os.environ.get(SLOW_VARIABLE, "0")))


class SlowConstructorAdapter(Adapter):
    def __init__(self) -> None:
        pause_on_a_rank()
        super().__init__()

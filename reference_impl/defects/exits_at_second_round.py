"""Rank 1 ends its process (`sys.exit`) at its second gate round, before the broadcast.

The count is per process: each new world reaches it again.
"""

import sys

from . import adapter_for, faulting_at_round

EXITING_ROUND = 2


def exit_process() -> None:
    sys.exit(3)


ExitingSlot = faulting_at_round(EXITING_ROUND, exit_process, "ExitingSlot")
Adapter = adapter_for(ExitingSlot, "exits_at_second_round")

"""Rank 1 stops answering at its third gate round: it sleeps outside any collective, before the broadcast.

The count is per process, as a stuck lock or a blocking read would be: each new world reaches it again.
"""

import time

from . import adapter_for, faulting_at_round

STALLING_ROUND = 3


def stall() -> None:
    time.sleep(600)


StallingSlot = faulting_at_round(STALLING_ROUND, stall, "StallingSlot")
Adapter = adapter_for(StallingSlot, "stalls_at_third_round")

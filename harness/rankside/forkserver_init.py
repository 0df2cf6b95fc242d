"""Imported by the forkserver only (it is in `harness.worlds.preload.PRELOAD`): makes the forkserver a child
subreaper, so the processes a rank leaves behind when it is killed outright are reparented to the
forkserver, where `harness.procs.reaper.end_forkserver_orphans` finds and ends them, instead of to init.

The forkserver reaps every child it has; for these adopted ones it would warn about an unexpected pid,
a warning that says nothing to the user, so it is silenced here.
"""

import warnings

from ..procs.reaper import become_subreaper

become_subreaper()
warnings.filterwarnings("ignore", message="forkserver: waitpid returned unexpected pid")

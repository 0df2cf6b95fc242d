"""A launcher's world: the ranks torchrun (or any env:// launcher) started, driven from rank 0.

The harness cannot start, watch or kill these ranks; each is a process the launcher owns. So rank 0
leads: `EnvWorld.run` sends each scenario to the other ranks, runs its own part the way a spawned
rank does (`harness.rankside.rank.RankRun`, its messages kept in memory instead of sent up a pipe), gathers
every rank's messages and builds the same `ScenarioResult` a spawned world returns. The other ranks
`follow` until rank 0 sends the end of the run. Harness traffic uses a gloo group of its own, never
the default group the implementation syncs on: it cannot pair with an implementation's collective,
and it carries Python objects on NCCL jobs too.

Bounded waits: the default group's timeout (`pg_timeout_s`) bounds every wait of the
implementation, and a rank stops its sequence once a collective failed (a broken group is not
retried call after call). The harness group's timeout is longer by `CONTROL_MARGIN_S`, so a rank
waiting for rank 0 outlasts a rank 0 that waits out the default group's timeout.

What is skipped (`ScenarioSkipped`): scenarios of another world size or without a process group,
scenarios that can strand a rank (`harness.records.stranding`), those that end a rank's process on purpose
(C9's and S5's dead peer: the launcher would take the whole job down with it), and scenarios with a
`restart` op, which end their world and start another (`harness.worlds.restart`). A scenario that leaves the
process group unusable (a failed collective, ranks that ran different collectives) cannot be followed by
another, as nothing can rebuild the group: every later `run` raises `WorldLost`, a `WorldStartError`,
which the clause runner reports as an error, so the run ends quickly and at best `inconclusive`. So does
a failed harness collective (a peer lost, the timeout).

The `ddp` profile runs on NCCL as on gloo: the host network lives on each rank's CUDA device
(`harness.records.ddp_configs.device_for`). On NCCL, scenarios that send one rank's checkpoint to the others
(`resume` ops with a `source`, as CPU bytes) are skipped.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import time
from typing import Any

from ..errors import ScenarioError, ScenarioSkipped, WorldLost, WorldStartError
from ..rankside.collectives import CollectiveMonitor
from ..rankside.rank import RankRun
from ..records.messages import EndRun, RunScenario, decode, encode, error_info, error_line
from ..records.report import EarlierRuns, RankOutcome, ScenarioResult
from ..records.scenario import Scenario
from ..records.stranding import may_strand_a_rank
from .world import reusable

BACKENDS = ("gloo", "nccl")
CONTROL_MARGIN_S = 60.0
LAUNCHER_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


class _Inbox:
    """Stands in for a spawned rank's pipe to its parent: keeps the rank's pickled messages."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    def send_bytes(self, data: bytes) -> None:
        self.messages.append(data)


def join(backend: str, pg_timeout_s: float) -> EnvWorld:
    """Join the process group the launcher's environment describes (env://) and the harness's group."""
    missing = [name for name in LAUNCHER_VARIABLES if name not in os.environ]
    if missing:
        raise WorldStartError(f"--launcher env runs under a launcher such as torchrun, which sets {', '.join(missing)}")
    import torch
    import torch.distributed as dist

    if backend == "nccl":
        # ProcessGroupNCCL then raises a timed-out collective in the waiting call, instead of its
        # watchdog aborting the process, so the run can still end with a certificate.
        os.environ.setdefault("TORCH_NCCL_BLOCKING_WAIT", "1")
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    timeout = datetime.timedelta(seconds=pg_timeout_s)
    try:
        dist.init_process_group(backend, init_method="env://", timeout=timeout)
        control = dist.new_group(backend="gloo", timeout=timeout + datetime.timedelta(seconds=CONTROL_MARGIN_S))
    except Exception as exc:
        raise WorldStartError(
            f"could not join the launcher's process group ({backend}): {error_line(error_info(exc))}"
        ) from exc
    return EnvWorld(dist.get_rank(), dist.get_world_size(), backend, control)


class EnvWorld:
    """This rank's part of the launcher's world. On rank 0, `run` is what `WorldPool.run` is to a
    spawned world; on the others, `follow` runs whatever rank 0 sends."""

    def __init__(self, rank: int, size: int, backend: str, control: Any) -> None:
        self.rank = rank
        self.size = size
        self.backend = backend
        self.control = control
        self.lost: str | None = None
        self.control_lost = False
        self.earlier: dict[str, EarlierRuns] = {}
        # Each rank writes only its own two slots; there is no parent to read them.
        self.monitor = CollectiveMonitor([0] * (2 * size), rank)
        self.monitor.install()

    def run(self, impl: str, scenario: Scenario) -> ScenarioResult:
        """Run `scenario` on every rank of the launcher's world (rank 0 only)."""
        scenario.validate()
        reason = self._skip_reason(scenario)
        if reason:
            raise ScenarioSkipped(reason)
        if self.lost:
            raise WorldLost(self.lost)
        try:
            payload = encode(RunScenario(impl, scenario))
        except Exception as exc:
            raise ScenarioError(
                f"scenario {scenario.name!r} cannot be sent to the ranks: {type(exc).__name__}: {exc}"
            ) from None
        started = time.monotonic()
        self._broadcast(payload)
        gathered = self._gather(self._run_here(impl, scenario))
        outcomes = [_outcome(rank, messages) for rank, messages in enumerate(gathered)]
        earlier = self.earlier.get(impl, EarlierRuns())
        result = ScenarioResult(
            scenario, outcomes, time.monotonic() - started, world_reused=bool(self.earlier), earlier=earlier
        )
        self.earlier[impl] = earlier.after(scenario.name, max(len(o.records) for o in outcomes))
        if not reusable(outcomes):
            self.lost = (
                f"scenario {scenario.name!r} left the launcher's process group unusable (a failed collective,"
                " or ranks that ran different collectives); a launcher's world cannot be rebuilt"
            )
        return result

    def _skip_reason(self, scenario: Scenario) -> str | None:
        if scenario.world_size != self.size:
            return f"world size {scenario.world_size}; the launcher's world has {self.size} ranks"
        if not scenario.process_group:
            return "runs without a process group; the launcher's is initialised"
        if scenario.restarts:
            return "ends its world at a restart and starts a new one, which only a world the harness started can do"
        if may_strand_a_rank(scenario):
            return "a rank may wait in a sync round its peers never join (harness.records.stranding)"
        if scenario.ends_a_process():
            return "ends a rank's process on purpose (a dead peer), which would end the launcher's job"
        if self.backend != "gloo" and any(op.source is not None for op in scenario.ops):
            return f"sends a checkpoint as CPU bytes, which the {self.backend} process group cannot carry"
        return None

    def follow(self) -> dict | None:
        """Run each scenario rank 0 sends, until it sends the end of the run: its certificate, or None."""
        while True:
            message = decode(self._broadcast(None))
            if isinstance(message, EndRun):
                self.lost = message.lost
                return message.certificate
            assert isinstance(message, RunScenario)
            self._gather(self._run_here(message.impl, message.scenario))

    def finish(self, certificate: dict | None) -> None:
        """Send the end of the run to the other ranks (rank 0 only); None when rank 0 has no certificate."""
        if not self.control_lost:
            with contextlib.suppress(WorldLost):
                self._broadcast(encode(EndRun(certificate, self.lost)))

    def close(self) -> None:
        """Leave the process group, unless it is broken: its ranks then just exit."""
        import torch.distributed as dist

        if not self.lost:
            dist.destroy_process_group()

    def _run_here(self, impl: str, scenario: Scenario) -> list[bytes]:
        inbox = _Inbox()
        RankRun(self.rank, impl, scenario, inbox, self.monitor, stop_on_failed_collective=True).run()
        return inbox.messages

    def _broadcast(self, message: bytes | None) -> bytes:
        """Rank 0's encoded record, on every rank (the others pass None)."""
        import torch.distributed as dist

        box = [message]
        self._control(dist.broadcast_object_list, box, src=0, group=self.control)
        return box[0]

    def _gather(self, messages: list[bytes]) -> list[list[bytes]]:
        import torch.distributed as dist

        gathered: list | None = [None] * self.size if self.rank == 0 else None
        self._control(dist.gather_object, messages, gathered, dst=0, group=self.control)
        return gathered or []

    def _control(self, collective: Any, *args: Any, **kwargs: Any) -> None:
        """A harness collective; its failure (a lost peer, the timeout) loses the world for good."""
        try:
            collective(*args, **kwargs)
        except Exception as exc:
            self.lost = (
                self.lost
                or f"rank {self.rank}: the harness's {collective.__name__} failed: {error_line(error_info(exc))}"
            )
            self.control_lost = True
            raise WorldLost(self.lost) from exc


def _outcome(rank: int, messages: list[bytes]) -> RankOutcome:
    """A rank's outcome from its messages, as `World` assembles one from a rank's pipe."""
    outcome = RankOutcome(rank=rank)
    for data in messages:
        outcome.apply(decode(data))
    return outcome

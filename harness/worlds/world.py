"""Worlds: N real rank processes joined in a gloo process group, and the pool that keeps them warm.

Start: an explicit `multiprocess` context (forkserver with torch preloaded by default, spawn on
request; never a global start method and never a fork of a parent that has run torch). Rendezvous
goes through a `FileStore` in the world's own temporary folder, so no port is ever chosen.

Bounded time: a scenario has a deadline; the first rank to fail opens a short grace period for the
others; a deadlock is declared the moment it is certain (a rank has finished, alive, while every
unfinished rank sits in a collective that a finished rank never entered, unchanged for
`DEADLOCK_SETTLE_S`), and, when `run` is given a `StallRule`, a stall as soon as no unfinished rank
has made progress (no call ended, no collective entered or left) for the stall window: ten times the
longest quiet gap the same implementation showed in healthy scenarios, at least 1 s (5 s until one
scenario has completed), at most the deadline (see `harness.worlds.stall`).

A rank whose process died is a peer the others may legitimately wait for until the process group's
timeout expires (gloo reports a closed connection at once, other transports only at the timeout):
from the death on, the survivors have that timeout plus `DEAD_PEER_MARGIN_S` to report what their
pending calls did, whatever the deadline; no stall ends that wait earlier, and a dead rank counts
for no deadlock (only a rank that finished alive will never enter a collective). A rank that has
reported a call cut short by a failed collective is ended then, as its own error would end it in a
training job, so a survivor waiting on it learns at once rather than at the timeout. Hung ranks get
SIGUSR1 (faulthandler dumps their stacks), then SIGTERM, then SIGKILL.

No orphans: whatever a rank starts ends with it (`harness.procs.reaper` describes how). Each rank holds
the read end of a lifeline pipe whose only writer is this process, and exits when it reads
end-of-file, which the kernel delivers however this process ends (normal exit, exception, `os._exit`
from pytest-timeout, SIGKILL). `atexit` closes every open world as well.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import multiprocess
import multiprocess.forkserver
from multiprocess.connection import wait

from ..errors import ScenarioError, WorldStartError
from ..procs import reaper
from ..procs.proctree import descendants
from ..procs.scratch import world_folder
from ..rankside.rank import rank_main
from ..rankside.ranklog import read_output
from ..records.messages import Ready, RestartCheckpoint, RunScenario, StopRank, decode, encode
from ..records.report import EarlierRuns, RankOutcome, ScenarioResult
from ..records.scenario import Scenario
from ..records.stacks import Stall, ordered_stack
from ..records.statuses import DEAD, RankStatus
from .preload import forkserver_preload
from .stall import POLL_S, PROBE_S, ProgressWatch, StallPlace, StallRule, blamed_rank, stall_place

DEFAULT_DEADLINE_S = 15.0
SLOW_CALL_ALLOWANCE_S = 2.0
DEFAULT_GRACE_S = 2.0
DEAD_PEER_MARGIN_S = 2.0
DEFAULT_PG_TIMEOUT_S = 10.0
START_TIMEOUT_S = 120.0
DEADLOCK_SETTLE_S = 0.05
STACK_WAIT_S = 0.5
STACK_POLL_S = 0.01
TERM_WAIT_S = 0.5
STOP_WAIT_S = 5.0

_open_worlds: weakref.WeakSet[World] = weakref.WeakSet()


@dataclass(frozen=True)
class WorldConfig:
    world_size: int
    process_group: bool = True
    pg_timeout_s: float = DEFAULT_PG_TIMEOUT_S
    start_method: str = "forkserver"


@dataclass
class _Rank:
    process: Any
    conn: Any
    lifeline: Any
    log_path: str
    stack_path: str
    stack_offset: int = 0


class World:
    """N rank processes with an initialised process group, ready to run scenario after scenario."""

    def __init__(self, config: WorldConfig) -> None:
        self.config = config
        self.ranks: list[_Rank] = []
        self.healthy = False
        self.earlier: dict[str, EarlierRuns] = {}
        self.folder = world_folder(config.world_size)
        self.shared: Any = None

    def start(self, timeout_s: float = START_TIMEOUT_S) -> World:
        return self.launch().ready(timeout_s)

    def launch(self) -> World:
        """Start the ranks without waiting for them: they join their process group while this process
        goes on; `ready` waits for them."""
        ctx = multiprocess.get_context(self.config.start_method)
        if self.config.start_method == "forkserver":
            ctx.set_forkserver_preload(forkserver_preload())
        size = self.config.world_size
        self.shared = ctx.RawArray("q", 2 * size)
        store = os.path.join(self.folder, "store")
        _open_worlds.add(self)
        try:
            self._spawn(ctx, size, store)
        except BaseException:
            self.close()
            raise
        return self

    def ready(self, timeout_s: float = START_TIMEOUT_S) -> World:
        """Wait until every launched rank is in its process group; a world that does not come up is closed."""
        try:
            self._await_ready(timeout_s)
        except BaseException:
            self.close()
            raise
        self.healthy = True
        return self

    def _spawn(self, ctx: Any, size: int, store: str) -> None:
        for rank in range(size):
            parent_conn, child_conn = ctx.Pipe()
            lifeline_read, lifeline_write = ctx.Pipe(duplex=False)
            log_path = os.path.join(self.folder, f"rank{rank}.log")
            stack_path = os.path.join(self.folder, f"rank{rank}.stack")
            process = ctx.Process(
                target=rank_main,
                name=f"lifecycle-rank{rank}",
                args=(rank, size, store, child_conn, lifeline_read, self.shared, log_path, stack_path)
                + (self.config.pg_timeout_s, self.config.process_group),
                daemon=True,
            )
            process.start()
            child_conn.close()
            lifeline_read.close()
            self.ranks.append(_Rank(process, parent_conn, lifeline_write, log_path, stack_path))

    def _await_ready(self, timeout_s: float) -> None:
        waiting = dict(enumerate(self.ranks))
        end = time.monotonic() + timeout_s
        while waiting:
            remaining = end - time.monotonic()
            if remaining <= 0:
                break
            objects = [r.conn for r in waiting.values()] + [r.process.sentinel for r in waiting.values()]
            for obj in wait(objects, timeout=remaining):
                for index, rank in list(waiting.items()):
                    if obj is rank.conn or obj is rank.process.sentinel:
                        try:
                            if rank.conn.poll() and isinstance(decode(rank.conn.recv_bytes()), Ready):
                                del waiting[index]
                                continue
                        except (EOFError, OSError):
                            pass
                        if not rank.process.is_alive():
                            waiting.clear()
                            break
        if waiting or any(not r.process.is_alive() for r in self.ranks):
            logs = "\n".join(f"--- rank {i} ---\n{_tail(r.log_path)}" for i, r in enumerate(self.ranks))
            self.close()
            raise WorldStartError(
                f"a world of {self.config.world_size} ranks did not come up within {timeout_s:.0f}s\n{logs}"
            )

    def run(
        self,
        impl: str,
        scenario: Scenario,
        deadline_s: float | None = None,
        grace_s: float = DEFAULT_GRACE_S,
        stall_rule: StallRule | None = None,
        restart: RestartCheckpoint | None = None,
    ) -> ScenarioResult:
        """Run `scenario` on every rank; always returns, within the deadline plus the teardown.

        With `stall_rule`, a scenario in which no unfinished rank makes progress for its window ends
        early, and a scenario that completes teaches the rule how long this implementation is quiet.
        With `restart`, the ranks run the part of the scenario that follows it (`harness.worlds.restart`)."""
        if not self.healthy:
            raise RuntimeError("this world is closed or broken; the pool starts a new one")
        try:
            payload = encode(RunScenario(impl, scenario, restart))
        except Exception as exc:
            raise ScenarioError(
                f"scenario {scenario.name!r} cannot be sent to the ranks: {type(exc).__name__}: {exc}"
            ) from None
        deadline_s = deadline_s or scenario.deadline_s or default_deadline(scenario, stall_rule is not None)
        started = time.monotonic()
        outcomes = [RankOutcome(rank=i) for i in range(len(self.ranks))]
        try:
            for rank in self.ranks:
                rank.stack_offset = _size(rank.stack_path)
                # A rank that died while the world was idle cannot take the scenario; `_collect`
                # reports it (killed / exited) instead of this send raising BrokenPipeError.
                with contextlib.suppress(OSError):
                    rank.conn.send_bytes(payload)
            watch = ProgressWatch(started)
            stall_window = (lambda: stall_rule.window(impl, deadline_s, watch.longest_gap_s)) if stall_rule else None
            known = partial(stall_rule.stalled_at, impl) if stall_rule is not None and stall_rule.probes(impl) else None
            deadlock, stall = self._collect(outcomes, started + deadline_s, grace_s, watch, stall_window, known)
            if stall is not None and not stall.recognised:
                stall = replace(stall, basis=stall_rule.basis(impl, deadline_s, watch.longest_gap_s))
            hung = [o for o in outcomes if o.status == RankStatus.HUNG]
            if hung and not (stall is not None and stall.recognised):
                self._dump_stacks(hung)
        except BaseException:
            # Interrupted mid-scenario (Ctrl-C, a test timeout's exception): the ranks' states and
            # the unread messages in their pipes belong to this scenario, so the world is not reused.
            self.healthy = False
            self.close()
            raise
        result = ScenarioResult(
            scenario,
            outcomes,
            time.monotonic() - started,
            deadlock,
            world_reused=bool(self.earlier),
            earlier=self.earlier.get(impl, EarlierRuns()),
            stall=stall,
        )
        if stall_rule is not None and result.ok:
            stall_rule.observe(impl, watch.longest_gap_s)
        if stall_rule is not None and stall is not None and not stall.recognised:
            place = stall_place(stall.rank, self.shared[2 * stall.rank + 1], outcomes[stall.rank].stack)
            stall_rule.record_stall(impl, stall.window_s, place)
        self.earlier[impl] = result.earlier.after(scenario.name, max(len(o.records) for o in outcomes))
        # Read each rank's output before a broken world is closed: closing removes the log files.
        for outcome, rank in zip(outcomes, self.ranks, strict=True):
            outcome.output = read_output(rank.log_path)
            if outcome.status == RankStatus.KILLED:
                outcome.stack = ordered_stack(_read_from(rank.stack_path, rank.stack_offset))
        if not reusable(outcomes):
            self.healthy = False
            self.close()
        return result

    def _collect(
        self,
        outcomes: list[RankOutcome],
        deadline: float,
        grace_s: float,
        watch: ProgressWatch,
        stall_window: Callable[[], float] | None,
        known_stall: Callable[[StallPlace | None], bool] | None = None,
    ) -> tuple[bool, Stall | None]:
        """Read records until every rank ended; (True, None) when a deadlock ended the wait early, a
        `Stall` when no unfinished rank made progress for the window `stall_window` gives, or for
        `PROBE_S` with the blamed rank at a place that `known_stall` recognises."""
        pending = set(range(len(self.ranks)))
        grace_end: float | None = None
        died = False
        released: set[int] = set()
        probed = False
        settle: tuple[float, tuple] | None = None
        while pending:
            now = time.monotonic()
            end = min(deadline, grace_end) if grace_end is not None else deadline
            if now >= end:
                return False, None
            finished = len(pending) < len(self.ranks)
            timeout = min(end - now, 0.01) if finished else end - now
            if stall_window is not None:
                timeout = min(timeout, POLL_S)
            watched = {}
            for i in pending:
                watched[self.ranks[i].conn] = i
                watched[self.ranks[i].process.sentinel] = i
            for obj in wait(list(watched), timeout=timeout):
                i = watched[obj]
                if i in pending and self._drain(i, outcomes[i]):
                    pending.discard(i)
                    if outcomes[i].status in DEAD and not died:
                        died = True
                        grace_end = max(grace_end or 0.0, time.monotonic() + self.dead_peer_grace_s)
                        deadline = max(deadline, grace_end)
                    elif outcomes[i].status != RankStatus.OK and grace_end is None:
                        grace_end = time.monotonic() + grace_s
            if died and pending:
                self._end_given_up(outcomes, pending, released)
            if pending and len(pending) < len(self.ranks):
                state = self._collective_state(pending, outcomes)
                if state is None:
                    settle = None
                elif settle is None or settle[1] != state:
                    settle = (time.monotonic(), state)
                elif time.monotonic() - settle[0] >= DEADLOCK_SETTLE_S:
                    return True, None
            quiet_s = watch.update(self._progress(outcomes, pending), time.monotonic())
            # A rank still importing or constructing its adapter is slow, not stuck: the slow-start
            # notices say so while it lasts, and the deadline bounds it.
            set_up = all(outcomes[i].set_up for i in pending)
            probed = probed and quiet_s >= PROBE_S
            if pending and stall_window is not None and set_up and not died:
                if quiet_s >= (window := stall_window()):
                    blamed, in_collective = self._blamed(pending)
                    return False, Stall(blamed, round(window, 2), in_collective)
                if known_stall is not None and not probed and quiet_s >= PROBE_S:
                    probed = True
                    if (stall := self._recognised_stall(outcomes, pending, quiet_s, known_stall)) is not None:
                        return False, stall
        return False, None

    def _blamed(self, pending: set[int]) -> tuple[int, bool]:
        """The pending rank a stall is blamed on, and whether it waits in a collective."""
        shared = self.shared
        waiting = {i: bool(shared[2 * i]) for i in pending}
        entered = {i: shared[2 * i + 1] for i in pending}
        blamed = blamed_rank(sorted(pending), waiting, entered)
        return blamed, waiting[blamed]

    def _recognised_stall(
        self,
        outcomes: list[RankOutcome],
        pending: set[int],
        quiet_s: float,
        known_stall: Callable[[StallPlace | None], bool],
    ) -> Stall | None:
        """Dump the pending ranks' stacks; the stall, if the blamed rank is where `known_stall` says an
        earlier one stopped (the stacks dumped stay as the report's), else None and nothing kept."""
        blamed, in_collective = self._blamed(pending)
        entered = self.shared[2 * blamed + 1]
        looked = [outcomes[i] for i in sorted(pending)]
        self._dump_stacks(looked)
        if entered == self.shared[2 * blamed + 1] and known_stall(stall_place(blamed, entered, outcomes[blamed].stack)):
            return Stall(blamed, round(quiet_s, 2), in_collective, recognised=True)
        for outcome in looked:
            outcome.stack = ""
            rank = self.ranks[outcome.rank]
            rank.stack_offset = _size(rank.stack_path)
        return None

    def _end_given_up(self, outcomes: list[RankOutcome], pending: set[int], ended: set[int]) -> None:
        """After a death, end each rank that has reported a call cut short by a failed collective.

        In a training job such a rank's error ends its process (and a launcher ends the rest); kept alive
        idle, it would leave a survivor waiting on it in the same round until the process group's timeout,
        or learning at once, as the order of gloo's sends decides. Ended, every survivor waiting on it
        learns at once from the closed connection; its own report is already in."""
        for i, outcome in enumerate(outcomes):
            if i in pending or i in ended or outcome.status != RankStatus.RAISED or not outcome.collective_failed:
                continue
            ended.add(i)
            reaper.end_processes([self.ranks[i].process.pid])

    @property
    def dead_peer_grace_s(self) -> float:
        """How long the survivors of a dead rank have to report their pending calls."""
        return self.config.pg_timeout_s + DEAD_PEER_MARGIN_S

    def _progress(self, outcomes: list[RankOutcome], pending: set[int]) -> tuple:
        """What changes whenever a rank makes progress: its calls reported, its collective flag and count."""
        shared = self.shared
        return tuple(
            (i in pending, outcomes[i].set_up, len(outcomes[i].records), shared[2 * i], shared[2 * i + 1])
            for i in range(len(self.ranks))
        )

    def _collective_state(self, pending: set[int], outcomes: list[RankOutcome]) -> tuple | None:
        """Entered-collective counts of the pending ranks if every one of them waits in a collective
        that a rank which finished alive never entered, else None.

        Every collective counted involves the whole world, and a world is reused only when its ranks
        ran the same collectives, so each scenario starts with equal counts on every rank. A pending
        rank inside its k-th collective while a finished rank entered fewer than k waits for a peer
        that will never come. One whose finished peers all entered a k-th collective may merely be
        slow to leave it (rank 0 returns from a broadcast while a receiver is still unpickling the
        object), which is not a deadlock.
        """
        shared = self.shared
        finished = [i for i in range(len(self.ranks)) if i not in pending and outcomes[i].status not in DEAD]
        if not finished:
            return None
        floor = min(shared[2 * i + 1] for i in finished)
        counts = []
        for i in sorted(pending):
            entered = shared[2 * i + 1]
            if not shared[2 * i] or entered <= floor:
                return None
            counts.append(entered)
        return tuple(counts)

    def _drain(self, index: int, outcome: RankOutcome) -> bool:
        """Take every message rank `index` has sent; True once it has ended (reported or died)."""
        rank = self.ranks[index]
        try:
            while rank.conn.poll():
                if outcome.apply(decode(rank.conn.recv_bytes())):
                    return True
        except (EOFError, OSError):
            pass
        if rank.process.is_alive():
            return False
        rank.process.join(1.0)
        code = rank.process.exitcode
        if code is not None and code < 0:
            outcome.status, outcome.signal = RankStatus.KILLED, signal.Signals(-code).name
        else:
            outcome.status, outcome.exitcode = RankStatus.EXITED, code
        return True

    def _dump_stacks(self, hung: list[RankOutcome]) -> None:
        """Have faulthandler dump each rank's stacks, all at once; a dump is read once its file has grown
        and then stayed the same size for one `STACK_POLL_S` (or at `STACK_WAIT_S`, whatever is there)."""
        sizes = {}
        for outcome in hung:
            rank = self.ranks[outcome.rank]
            sizes[outcome.rank] = _size(rank.stack_path)
            _signal(rank.process, signal.SIGUSR1)
        end = time.monotonic() + STACK_WAIT_S
        last = dict.fromkeys(sizes, -1)
        while last and time.monotonic() < end:
            for index in list(last):
                size = _size(self.ranks[index].stack_path)
                if size > sizes[index] and size == last[index]:
                    del last[index]
                else:
                    last[index] = size
            if last:
                time.sleep(STACK_POLL_S)
        for outcome in hung:
            rank = self.ranks[outcome.rank]
            outcome.stack = ordered_stack(_read_from(rank.stack_path, sizes[outcome.rank]))

    def close(self) -> None:
        """End every rank and return with none alive: a healthy world is asked to stop first, a
        broken one (hung ranks, a poisoned process group) goes straight to SIGTERM, then SIGKILL."""
        polite, self.healthy = self.healthy, False
        ranks, self.ranks = self.ranks, []
        if polite:
            for rank in ranks:
                with contextlib.suppress(OSError, ValueError):
                    rank.conn.send_bytes(encode(StopRank()))
            _join_all(ranks, STOP_WAIT_S)
        below = [pid for r in ranks if r.process.is_alive() for pid in descendants(r.process.pid)]
        reaper.end_processes(below)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            alive = [r for r in ranks if r.process.is_alive()]
            for rank in alive:
                _signal(rank.process, sig)
            _join_all(alive, TERM_WAIT_S)
        _end_leftovers(self.folder)
        for rank in ranks:
            for conn in (rank.conn, rank.lifeline):
                conn.close()
        shutil.rmtree(self.folder, ignore_errors=True)
        _open_worlds.discard(self)

    def pids(self) -> list[int]:
        return [r.process.pid for r in self.ranks]


def default_deadline(scenario: Scenario, stall_detection: bool) -> float:
    """The deadline of a scenario that names none. Where stalls are detected by progress, a stuck
    scenario ends with its stall window, so the deadline only bounds a slow one: it grows with the
    number of calls, so an implementation whose every gate takes a second is still judged whole."""
    if not stall_detection:
        return DEFAULT_DEADLINE_S
    calls = max(len(scenario.ops_for(rank)) for rank in range(scenario.world_size))
    return max(DEFAULT_DEADLINE_S, SLOW_CALL_ALLOWANCE_S * calls)


def reusable(outcomes: list[RankOutcome]) -> bool:
    """A process group that saw an error, or whose ranks ran different collectives, is not reused."""
    if not all(o.status in (RankStatus.OK, RankStatus.RAISED) for o in outcomes):
        return False
    if any(o.collective_failed for o in outcomes):
        return False
    return all(o.collective_totals == outcomes[0].collective_totals for o in outcomes)


def _end_leftovers(folder: str) -> None:
    """End what ranks killed outright left behind: the forkserver's orphans, processes marked with this world."""
    forkserver_pid = getattr(multiprocess.forkserver._forkserver, "_forkserver_pid", None)
    reaper.end_forkserver_orphans(forkserver_pid, {p.pid for p in multiprocess.active_children()})
    reaper.end_marked(folder)


def _join_all(ranks: list[_Rank], timeout_s: float) -> None:
    end = time.monotonic() + timeout_s
    for rank in ranks:
        rank.process.join(max(0.0, end - time.monotonic()))


def _signal(process: Any, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, TypeError):
        os.kill(process.pid, sig)


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _read_from(path: str, offset: int) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def _tail(path: str, limit: int = 4000) -> str:
    text = _read_from(path, 0)
    return text[-limit:]


@atexit.register
def _close_open_worlds() -> None:
    for world in list(_open_worlds):
        world.close()

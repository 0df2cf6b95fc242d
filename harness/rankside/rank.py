"""The body of one rank process: join the world, then run scenarios until told to stop.

Each rank streams one record per call to the parent as soon as the call ends, so a rank that later
hangs or dies still leaves its history behind. It ends with its parent in every case: a daemon thread
watches the lifeline pipe (whose only writer is the parent) and answers its end-of-file with
`os._exit`; SIGINT is ignored, since the parent owns the teardown; SIGUSR1 dumps every thread's
stack through faulthandler, which works even while the rank is stuck inside a C++ collective, and
a fatal signal (SIGABRT, SIGSEGV) leaves the stack of the line that crashed in the same file.
Whatever the implementation starts ends with the rank (`harness.procs.reaper`): the rank adopts its
orphans and kills its whole subtree on every way out it controls (stop, lifeline, SIGTERM).
"""

from __future__ import annotations

import contextlib
import datetime
import faulthandler
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..procs.reaper import become_subreaper, end_subtree, mark_environment
from ..records.contract import Stage
from ..records.decisions import local_decision
from ..records.messages import (
    CallRecord,
    ErrorInfo,
    Message,
    RankEnd,
    RankExiting,
    Ready,
    RestartCheckpoint,
    RunScenario,
    SetUp,
    decode,
    encode,
    error_info,
)
from ..records.scenario import Op, Scenario, per_rank
from ..records.statuses import RankStatus
from .adapter import (
    ContractValueError,
    check_adapter,
    checked_result_fields,
    checked_stage,
    load_adapter_factory,
    result_dict,
)
from .collectives import CollectiveMonitor
from .own_output import harness_output
from .ranklog import BoundedLog, flush_current
from .slowstart import module_of, reported_if_slow

if TYPE_CHECKING:
    from .model_host import ModelHost
    from .resume import ResumeStep

LIFELINE_EXIT_CODE = 70


def rank_main(
    rank: int,
    world_size: int,
    store_path: str,
    conn: Any,
    lifeline: Any,
    shared: Any,
    log_path: str,
    stack_path: str,
    pg_timeout_s: float,
    process_group: bool,
) -> None:
    notices = os.dup(2)  # the harness's own stderr, for what the user must see while it happens
    try:
        log = BoundedLog(log_path).start()
    except FileNotFoundError:
        os._exit(LIFELINE_EXIT_CODE)  # the world was closed, its folder removed, while this rank started
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    become_subreaper()
    mark_environment(os.path.dirname(store_path))
    signal.signal(signal.SIGTERM, _end_on_sigterm)
    threading.Thread(target=_watch_lifeline, args=(lifeline,), daemon=True).start()
    stack_file = open(stack_path, "w")  # noqa: SIM115 - faulthandler writes to it until the rank ends
    faulthandler.register(signal.SIGUSR1, file=stack_file, all_threads=True)
    faulthandler.enable(file=stack_file, all_threads=True)  # a fatal signal (abort, segfault) leaves its stack too
    monitor = CollectiveMonitor(shared, rank)
    monitor.install()
    import torch.distributed as dist

    _one_thread_unless_set()
    if process_group:
        join_gloo(store_path, world_size, rank, pg_timeout_s)
    _adopt_main_module()
    _send(conn, Ready(os.getpid()))
    while isinstance(message := decode(conn.recv_bytes()), RunScenario):
        log.new_segment()
        RankRun(
            rank,
            message.impl,
            message.scenario,
            conn,
            monitor,
            on_end=log.flush,
            notices=notices,
            restart=message.restart,
        ).run()
    if process_group:
        dist.destroy_process_group()
    end_subtree()


def _one_thread_unless_set() -> None:
    """One intra-op thread per rank, as torchrun sets for several ranks per machine, unless
    OMP_NUM_THREADS says otherwise: a rank computes on tiny tensors, where a pool of threads per rank
    only spins against the other ranks' (on two cores, a training step of four ranks took 0.3 s with
    two threads each, 0.02 s with one)."""
    if "OMP_NUM_THREADS" not in os.environ:
        import torch

        torch.set_num_threads(1)


def join_gloo(store_path: str, world_size: int, rank: int, timeout_s: float) -> None:
    """Join a gloo process group through the file store at `store_path`, listening on loopback only."""
    import torch.distributed as dist

    os.environ["GLOO_SOCKET_IFNAME"] = loopback_interface()
    dist.init_process_group(
        "gloo",
        store=dist.FileStore(store_path, world_size),
        rank=rank,
        world_size=world_size,
        timeout=datetime.timedelta(seconds=timeout_s),
    )


def loopback_interface() -> str:
    """The loopback interface's name, so gloo listens on 127.0.0.1 only, whatever the hostname resolves to."""
    names = [name for _, name in socket.if_nameindex()]
    return next((name for name in names if name.startswith("lo")), "lo")


def _adopt_main_module() -> None:
    """Make dill resolve `__main__` to the parent's main module, which this rank re-imported.

    dill binds `__main__` once, when it is first imported, and a function pickled by value in the
    parent's `__main__` (a closure or lambda defined in a script) carries its globals as "the
    `__main__` dict". In a forkserver rank, dill was imported by the server, whose `__main__` is its
    own `-c` module, so such a gate would run with the wrong globals (`NameError` for every name of
    the script). The multiprocess bootstrap has put the re-imported script in `sys.modules`.
    """
    import dill._dill

    main = sys.modules.get("__main__")
    if main is not None and hasattr(dill._dill, "_main_module"):
        dill._dill._main_module = main


def _watch_lifeline(lifeline: Any) -> None:
    with contextlib.suppress(EOFError, OSError):
        lifeline.recv_bytes()
    end_subtree()
    os._exit(LIFELINE_EXIT_CODE)


def _end_on_sigterm(signum: int, frame: Any) -> None:
    end_subtree()
    os._exit(128 + signum)


def _send(conn: Any, message: Message) -> None:
    conn.send_bytes(encode(message))


class RankRun:
    """One scenario on one rank: build the adapter and slots, run this rank's ops, stream records.

    `stop_on_failed_collective` ends the sequence at a failing call once a collective has failed, even
    a call marked `continue_on_error`: under a launcher nothing replaces the broken process group, so
    each later call would only wait out its timeout again. `on_end` runs just before the end is reported
    (a spawned rank completes its log there). A slow import or constructor of the adapter is reported
    on the file descriptor `notices` while it lasts.

    With `restart`, this rank belongs to a world started after a restart (`harness.worlds.restart`): it begins
    at the `restart` op `restart.call` by restoring those checkpoints into its fresh slots, and ends at
    the next `restart` op, once it has checkpointed there. Without, a `restart` op checkpoints every slot
    (rank 0 sends its bytes to the parent) and the sequence goes on uninterrupted.
    """

    def __init__(
        self,
        rank: int,
        impl: str,
        scenario: Scenario,
        conn: Any,
        monitor: CollectiveMonitor,
        stop_on_failed_collective: bool = False,
        on_end: Callable[[], None] | None = None,
        notices: int | None = None,
        restart: RestartCheckpoint | None = None,
    ):
        self.rank = rank
        self.impl = impl
        self.scenario = scenario
        self.conn = conn
        self.monitor = monitor
        self.stop_on_failed_collective = stop_on_failed_collective
        self.on_end = on_end
        self.notices = notices
        self.restart = restart
        self.adapter: Any = None
        self.slots: dict[str, Any] = {}
        self.slot_ids: dict[str, str] = {}
        self.call = -1
        self.local: list[tuple[dict, Any]] = []
        self.host: ModelHost | None = None

    def run(self) -> None:
        self.monitor.take_counts()
        self.monitor.take_fingerprints()
        self.monitor.totals.clear()
        status = RankStatus.OK
        try:
            self._setup()
        except Exception as exc:
            self._end(RankStatus.RAISED, {}, error_info(exc))
            return
        _send(self.conn, SetUp())
        start = self.restart.call if self.restart is not None else 0
        for index, op in enumerate(self.scenario.ops_for(self.rank)):
            if index < start:
                continue
            record = self._execute(index, op)
            if self.host is not None:
                with harness_output(self.rank):
                    record.model = self.host.after_call(index, record.error is None)
            _send(self.conn, record)
            broken = self.stop_on_failed_collective and self.monitor.failed
            model_failed = self.host is not None and self.host.broken
            if model_failed or (record.error is not None and (not op.continue_on_error or broken)):
                status = RankStatus.RAISED
                break
            if op.op == "restart" and index > start and self.restart is not None:
                break
        self._end(status, self._snapshots(), None)

    def _end(self, status: RankStatus, snapshots: dict, error: ErrorInfo | None) -> None:
        if self.on_end is not None:
            self.on_end()
        _send(self.conn, RankEnd(status, snapshots, error, dict(self.monitor.totals), self.monitor.failed))

    def _setup(self) -> None:
        with self._reported(f"importing `{module_of(self.impl)}`"):
            factory = load_adapter_factory(self.impl)
        with self._reported(f"constructing `{self.impl}`"):
            adapter = factory()
        check_adapter(adapter, self.impl)
        self.adapter = adapter
        for name in self.scenario.slots:
            slot = adapter.make_slot(name)
            if self.scenario.gates == "scripted":
                adapter.install_gate(slot, self._evaluator(name))
            self.slots[name] = slot
            self.slot_ids[name] = name
        if self.scenario.model:
            from .model_host import ModelHost  # here, not at the top: harness.rankside.model_host imports this module

            self.host = ModelHost(adapter, self.slots, self.scenario, self.monitor)

    def _reported(self, doing: str) -> contextlib.AbstractContextManager:
        if self.notices is None:
            return contextlib.nullcontext()
        return reported_if_slow(f"rank {self.rank} is still {doing}", self.notices)

    def _evaluator(self, slot_name: str) -> Any:
        def evaluate(target: int) -> Any:
            op = self.scenario.ops_for(self.rank)[self.call]
            fields = local_decision(self.scenario, op, self.rank, self.call, int(target))
            if "fault" in fields:
                run_fault(fields)
            native = self.adapter.make_result(fields)
            self.local.append((result_dict(fields), native))
            return native

        return evaluate

    def _execute(self, index: int, op: Op) -> CallRecord:
        self.call = index
        self.local = []
        record = CallRecord(index=index, op=op.op, slot=op.slot, target=op.target, skipped=not op.applies_to(self.rank))
        if record.skipped:
            return record
        started = time.perf_counter()
        record.contract = None
        try:
            slot = self.slots.get(op.slot) if op.slot is not None else None
            if slot is not None:
                record.stage_before = checked_stage(self.adapter.stage(slot), "stage")
            result = self._perform(op, slot)
            if op.op == "advance":
                record.same_object = bool(self.local) and result is self.local[-1][1]
                record.result = checked_result_fields(self.adapter.result_fields(result))
            if op.op == "resume":
                record.resume = result.to_record()
            if op.op == "restart":
                record.restart = {name: step.to_record() for name, step in result.items()}
        except ContractValueError as exc:
            record.contract = str(exc)
        except Exception as exc:
            record.error = error_info(exc, in_collective=self.monitor.failed_in_call)
        except SystemExit as exc:
            # The implementation ends the process: tell the parent where, then exit as it asked.
            _send(self.conn, RankExiting(error_info(exc)))
            raise
        record.local = [fields for fields, _ in self.local]
        record.collectives = self.monitor.take_counts()
        record.entered, overhead_s = self.monitor.take_fingerprints()
        record.elapsed_s = time.perf_counter() - started - overhead_s
        if op.slot is not None and op.slot in self.slots:
            try:
                record.stage_after = checked_stage(self.adapter.stage(self.slots[op.slot]), "stage")
                record.snapshot = self.adapter.snapshot(self.slots[op.slot])
            except ContractValueError as exc:
                record.contract = record.contract or str(exc)
            except Exception as exc:
                record.error = record.error or error_info(exc)
        return record

    def _perform(self, op: Op, slot: Any) -> Any:
        adapter = self.adapter
        if op.op == "fault":
            return run_fault(op.fault or {})
        if op.op == "germinate":
            return adapter.germinate(slot, op.seed_id or f"seed-{op.slot}", op.blueprint_id or "blueprint")
        if op.op == "advance":
            metrics = per_rank(op.metrics, self.rank)
            if metrics is not None:
                adapter.set_metrics(slot, metrics)
            return adapter.advance(slot, op.target)
        if op.op == "prune":
            return adapter.prune(slot)
        if op.op == "resume":
            return self._resume(op, slot)
        if op.op == "restart":
            return self._restart(self.call)
        if op.until_empty is None:
            return adapter.step_epoch(slot)
        for _ in range(op.until_empty):
            if checked_stage(adapter.stage(slot), "stage") in (None, Stage.DORMANT):
                break
            adapter.step_epoch(slot)
        return None

    def _resume(self, op: Op, slot: Any) -> ResumeStep:
        """Replace the op's slot with a fresh one restored from a checkpoint (`harness.rankside.resume`): its own, or
        with `origin` that slot's, restored into a slot made for `origin`'s id, which the op's slot keeps."""
        from .resume import resume_slot  # here, not at the top: it imports torch, which only some scenarios need

        def prepare(fresh: Any) -> None:
            if self.scenario.gates == "scripted":
                self.adapter.install_gate(fresh, self._evaluator(op.slot))

        if op.origin is not None:
            slot = self.slots[op.origin]
            self.slot_ids[op.slot] = self.slot_ids[op.origin]
        slot_id = self.slot_ids[op.slot]
        fresh, step = resume_slot(self.adapter, slot, slot_id, op.source, self.rank, self.monitor, prepare)
        self.slots[op.slot] = fresh
        return step

    def _restart(self, index: int) -> dict[str, ResumeStep]:
        """At the `restart` op `index`: restore the checkpoints this world started from into the fresh slots,
        or checkpoint every slot (rank 0 sends its bytes to the parent, which carries them to a new world)."""
        from .resume import ResumeStep, checkpointed, restored

        restart = self.restart
        if restart is not None and index == restart.call:
            steps = {name: ResumeStep(0, 0) for name in self.scenario.slots}
            for name, step in steps.items():
                restored(self.adapter, self.slots[name], restart.slots[name], step, 0)
            return steps
        saved = {name: checkpointed(self.adapter, slot, self.rank) for name, slot in self.slots.items()}
        if self.rank == 0:
            _send(self.conn, RestartCheckpoint(index, {name: data for name, (data, _) in saved.items()}))
        return {name: step for name, (_, step) in saved.items()}

    def _snapshots(self) -> dict:
        snapshots = {}
        for name, slot in self.slots.items():
            try:
                snapshots[name] = self.adapter.snapshot(slot)
            except Exception as exc:
                snapshots[name] = {"error": error_info(exc)}
        return snapshots


def run_fault(fault: dict) -> None:
    """Misbehave on purpose, as a scenario asks: the harness's own fault injection."""
    kind = fault.get("fault") or fault.get("kind")
    if kind == "raise":
        raise RuntimeError(fault.get("message", "injected fault"))
    if kind == "exit":
        flush_current()
        os._exit(int(fault.get("code", 0)))
    if kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "sleep":
        time.sleep(float(fault.get("seconds", 60)))
    if kind == "collective":
        import torch.distributed as dist

        dist.barrier()

"""`python -m harness bench`: the suite's speed and the reference sync's cost, side by side in one run.

Absolute times drift on shared machines while ratios hold, so every figure comes from the same run.
Round trips and sync rounds are medians (a noisy neighbour's stall says nothing about the harness);
scenario rates are 1 / median round trip. The sync figures are measured inside rank processes of
their own (no harness instrumentation around the collectives), with a barrier before each timed
round and the slowest rank's time per round, so skew between ranks is not mistaken for speed.

Failing implementations are certified in the same run as the reference, so their cost is a ratio:
one whose rank 1 stalls outside any collective at its third gate round, and one whose rank 1 exits
at its second (both shipped in `reference_impl.defects`, so an installed wheel measures them). The peer
figure runs the one-round scenario the way PyTorch's own distributed tests do: a fresh
`torch.multiprocessing.spawn` world per scenario. `torch_import_s`, a fresh interpreter importing torch and
`torch.distributed`, is the floor any certification pays; the default certification's target is a multiple of it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import multiprocess
from multiprocess.connection import wait

from ..locations import HARNESS, PACKAGE_DIR, REFERENCE, REFERENCE_PACKAGE, defect
from ..procs import proctree
from ..procs.scratch import folder_bytes, run_folders
from ..rankside.rank import join_gloo
from ..records.scenario import Op, Scenario
from ..records.statuses import RankStatus
from ..worlds.pool import WorldPool
from ..worlds.preload import forkserver_preload

FLOODING = defect("flooding")  # prints 10 MB per call
FLOODING_ARGS = ("--profile", "core", "--corpus", "1")
HANGING = defect("stalls_at_third_round")
CRASHING = defect("exits_at_second_round")
NOT_CERTIFIED_EXIT = 1
PEER_SIZE = 2
SIZES = (2, 4)
HANG_DEADLINE_S = 0.5
SYNC_METHODS = ("sync", "raw_bcast_object", "tensor_bcast")
SYNC_TIMEOUT_S = 120.0
SYNC_PG_TIMEOUT_S = 30.0
CERTIFY_TIMEOUT_S = 600.0
RSS_SAMPLE_S = 0.1
KILL_WAIT_S = 5.0
SCALARS = (
    "peer_spawn_scenarios_per_s",
    "warm_over_peer",
    "hang_report_latency_s",
    "world_rebuild_s",
    "torch_import_s",
    "certify_wall_s",
    "certify_hanging_wall_s",
    "certify_crashing_wall_s",
    "certify_peak_rss_mb",
    "certify_peak_tmp_mb",
    "certify_ddp_wall_s",
    "certify_resume_wall_s",
)
TARGETS = (
    ("certify_wall_s", "<= 20"),
    ("certify_wall_s / torch_import_s", "<= 3"),
    ("certify_hanging_wall_s / certify_wall_s", "<= 2"),
    ("certify_crashing_wall_s / certify_wall_s", "<= 2"),
    ("warm_over_peer at world size 2", ">= 300"),
    ("hang_report_latency_s", "<= 1"),
    ("sync_us / raw_bcast_object_us, worst size", "<= 1.3"),
    ("certify_peak_tmp_mb, flooding ranks", "<= 100"),
    ("certify_ddp_wall_s", "<= 5"),
    ("certify_resume_wall_s", "<= 5"),
)
DDP_WORLD_SIZES = (1, 2, 3, 4)
QUICK_DDP_WORLD_SIZES = (1, 2)


class BenchError(RuntimeError):
    """A measurement could not be taken (a scenario failed, ranks did not report, certify failed)."""


@dataclass(frozen=True)
class Counts:
    warm: int
    fresh: int
    peer: int
    sync_rounds: int
    imports: int
    certify_args: tuple[str, ...]


FULL = Counts(warm=300, fresh=20, peer=5, sync_rounds=300, imports=3, certify_args=())
QUICK = Counts(
    warm=20,
    fresh=1,
    peer=1,
    sync_rounds=30,
    imports=1,
    certify_args=("--world-sizes", "2", "--profile", "core", "--corpus", "1"),
)


def run_bench(quick: bool, progress: Callable[[str], None] | None = None) -> dict:
    """Every figure of the benchmark, as the JSON document `--out` writes."""
    counts = QUICK if quick else FULL
    say = progress or (lambda _: None)
    figures: dict[str, Any] = {"warm_scenarios_per_s": {}, "fresh_scenarios_per_s": {}, "warm_over_fresh": {}}
    warm_round_trip: dict[int, float] = {}
    for size in SIZES:
        say(f"warm and fresh worlds at world size {size}")
        warm = _median_round_trip(WorldPool(), size, counts.warm, warm_up=True)
        fresh = _median_round_trip(WorldPool(fresh=True), size, counts.fresh, warm_up=False)
        figures["warm_scenarios_per_s"][str(size)] = round(1 / warm, 1)
        figures["fresh_scenarios_per_s"][str(size)] = round(1 / fresh, 2)
        figures["warm_over_fresh"][str(size)] = round(fresh / warm, 1)
        warm_round_trip[size] = warm
    say(f"fresh torch.multiprocessing.spawn worlds at world size {PEER_SIZE}, as PyTorch's own tests run")
    peer = _median_peer_spawn(PEER_SIZE, counts.peer)
    figures["peer_spawn_scenarios_per_s"] = round(1 / peer, 3)
    figures["warm_over_peer"] = round(peer / warm_round_trip[PEER_SIZE], 1)
    say("a hang caught by its deadline, then the world's rebuild")
    figures["hang_report_latency_s"], figures["world_rebuild_s"] = _hang_and_rebuild()
    for key in SYNC_METHODS:
        figures[f"{key}_us"] = {}
    for size in SIZES:
        say(f"sync rounds inside {size} ranks")
        for key, value in _sync_costs(size, counts.sync_rounds).items():
            figures[f"{key}_us"][str(size)] = value
    say("a fresh interpreter's `import torch, torch.distributed`: the floor of any certification")
    figures["torch_import_s"] = _median_torch_import(counts.imports)
    say("the default certification" if not quick else "a small certification (quick mode)")
    figures["certify_wall_s"], figures["certify_peak_rss_mb"], _ = _certify(counts.certify_args)
    say("certifying an implementation whose rank 1 stalls at its third gate round")
    figures["certify_hanging_wall_s"] = _certify(counts.certify_args, HANGING, NOT_CERTIFIED_EXIT)[0]
    say("certifying an implementation whose rank 1 exits at its second gate round")
    figures["certify_crashing_wall_s"] = _certify(counts.certify_args, CRASHING, NOT_CERTIFIED_EXIT)[0]
    say("a certification of an implementation that floods its output")
    sizes_args = ("--world-sizes", "2") if quick else ()
    figures["certify_peak_tmp_mb"] = _certify((*FLOODING_ARGS, *sizes_args), FLOODING)[2]
    say("what profile ddp adds to a certification, in warm worlds")
    figures["certify_ddp_wall_s"] = _certify_profile("ddp", QUICK_DDP_WORLD_SIZES if quick else DDP_WORLD_SIZES)
    say("what profile resume adds to a certification, in warm worlds")
    figures["certify_resume_wall_s"] = _certify_profile("resume", QUICK_DDP_WORLD_SIZES if quick else DDP_WORLD_SIZES)
    figures["environment"] = {
        "cores": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "torch": importlib.metadata.version("torch"),
    }
    return figures


def one_advance(size: int) -> Scenario:
    """A seed, then one gate round: the smallest scenario that exercises the sync."""
    return Scenario(f"bench-advance-{size}", size, ["a"], [Op("germinate", "a"), Op("advance", "a")])


def _median_round_trip(pool: WorldPool, size: int, runs: int, warm_up: bool) -> float:
    """Median seconds per `pool.run` of a one-advance scenario; a fresh pool starts a world in each."""
    scenario = one_advance(size)
    times = []
    with pool:
        if warm_up:
            _check_ok(pool.run(REFERENCE, scenario))
        for _ in range(runs):
            started = time.perf_counter()
            result = pool.run(REFERENCE, scenario)
            times.append(time.perf_counter() - started)
            _check_ok(result)
    return statistics.median(times)


def _median_peer_spawn(size: int, runs: int) -> float:
    """Median seconds per one-advance scenario in a world `torch.multiprocessing.spawn` starts for it."""
    import torch.multiprocessing

    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="lifecycle-bench-peer-") as folder:
            started = time.perf_counter()
            torch.multiprocessing.spawn(peer_rank, args=(size, os.path.join(folder, "store")), nprocs=size, join=True)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def peer_rank(rank: int, size: int, store: str) -> None:
    """One rank of a spawned world: join it, germinate a seed, advance it through one gate round, leave."""

    import torch.distributed as dist

    Adapter = importlib.import_module(f"{REFERENCE_PACKAGE}.adapter").Adapter

    join_gloo(store, size, rank, SYNC_PG_TIMEOUT_S)
    adapter = Adapter()
    slot = adapter.make_slot("a")
    adapter.germinate(slot, "seed-a", "blueprint")
    adapter.advance(slot, None)
    dist.destroy_process_group()


def _check_ok(result: Any) -> None:
    if not result.ok:
        raise BenchError(f"a benchmark scenario failed, so its timing means nothing:\n{result.render()}")


def _hang_and_rebuild() -> tuple[float, float]:
    """Seconds from a hang's deadline to its report, and from the report to the next scenario's start.

    Rank 0 sleeps while rank 1 waits in the gate broadcast: no rank finishes, so only the deadline
    can end it (a deadlock where a rank has finished is declared within milliseconds, before any
    deadline). The report is ready when `World.run` returns it (stacks dumped, hung ranks ended) and
    rendered. The next scenario starts when the rebuilt world is sent it: its round trip minus the
    duration `World.run` measured from that send.
    """
    hang = Scenario(
        "bench-hang",
        2,
        ["a"],
        [Op("germinate", "a"), Op("advance", "a")],
        rank_ops={0: [Op("fault", fault={"kind": "sleep", "seconds": 60})]},
    )
    with WorldPool() as pool:
        _check_ok(pool.run(REFERENCE, one_advance(2)))
        started = time.monotonic()
        result = pool.run(REFERENCE, hang, deadline_s=HANG_DEADLINE_S)
        result.render()
        ready = time.monotonic()
        if result.statuses() != [RankStatus.HUNG, RankStatus.HUNG] or result.deadlock:
            raise BenchError(f"the hang scenario did not hang until its deadline:\n{result.render()}")
        following = pool.run(REFERENCE, one_advance(2))
        _check_ok(following)
        first_call = time.monotonic() - following.duration_s
    return round(ready - (started + HANG_DEADLINE_S), 3), round(first_call - ready, 3)


def _sync_costs(size: int, rounds: int) -> dict[str, float]:
    """Median microseconds per round of each method in `SYNC_METHODS`, in `size` fresh gloo ranks."""
    ctx = multiprocess.get_context("forkserver")
    ctx.set_forkserver_preload(forkserver_preload())
    processes, conns, lifelines = [], [], []
    with tempfile.TemporaryDirectory(prefix="lifecycle-bench-") as folder:
        try:
            for rank in range(size):
                parent_conn, child_conn = ctx.Pipe(duplex=False)
                lifeline_read, lifeline_write = ctx.Pipe(duplex=False)
                process = ctx.Process(
                    target=sync_rank,
                    args=(rank, size, os.path.join(folder, "store"), rounds, child_conn, lifeline_read),
                    daemon=True,
                )
                process.start()
                child_conn.close()
                lifeline_read.close()
                processes.append(process)
                conns.append(parent_conn)
                lifelines.append(lifeline_write)
            per_rank = _collect_sync(processes, conns)
        finally:
            for lifeline in lifelines:
                lifeline.close()
            _end(processes)
            for conn in conns:
                conn.close()
    return {
        method: round(statistics.median(max(times[method][i] for times in per_rank) for i in range(rounds)) * 1e6, 1)
        for method in SYNC_METHODS
    }


def _collect_sync(processes: list, conns: list) -> list[dict[str, list[float]]]:
    results: dict[int, dict] = {}
    end = time.monotonic() + SYNC_TIMEOUT_S
    while len(results) < len(conns):
        remaining = end - time.monotonic()
        waiting = [c for i, c in enumerate(conns) if i not in results]
        ready = wait(waiting + [p.sentinel for i, p in enumerate(processes) if i not in results], timeout=remaining)
        if not ready:
            raise BenchError(f"sync ranks did not report within {SYNC_TIMEOUT_S:.0f}s")
        for i, conn in enumerate(conns):
            if i in results:
                continue
            if conn.poll():
                results[i] = json.loads(conn.recv_bytes())
            elif not processes[i].is_alive():
                raise BenchError(f"sync rank {i} exited with code {processes[i].exitcode} before reporting")
    return [results[i] for i in range(len(conns))]


def _end(processes: list) -> None:
    """Join the ranks, then SIGTERM and SIGKILL whichever are still alive."""
    end = time.monotonic() + KILL_WAIT_S
    for process in processes:
        process.join(max(0.0, end - time.monotonic()))
    for stop in ("terminate", "kill"):
        alive = [p for p in processes if p.is_alive()]
        for process in alive:
            getattr(process, stop)()
        for process in alive:
            process.join(KILL_WAIT_S)


def sync_rank(rank: int, size: int, store: str, rounds: int, conn: Any, lifeline: Any) -> None:
    """One measuring rank: each round times the three methods (in rotating order) after a barrier."""
    threading.Thread(target=_exit_with_parent, args=(lifeline,), daemon=True).start()
    import dataclasses

    import torch
    import torch.distributed as dist

    gates, stages, sync = (importlib.import_module(f"{REFERENCE_PACKAGE}.{m}") for m in ("gates", "stages", "sync"))
    GateLevel, GateResult, SeedStage = gates.GateLevel, gates.GateResult, stages.SeedStage
    CallIdentity, sync_gate_decision = sync.CallIdentity, sync.sync_gate_decision

    join_gloo(store, size, rank, SYNC_PG_TIMEOUT_S)
    local = GateResult(
        gate=GateLevel.G2,
        passed=True,
        score=1.0,
        checks_passed=["improvement_sufficient", "epochs_in_stage", "gradient_ratio_ok"],
        message="G2 passed for BLENDING",
    )
    flag = torch.zeros(1, dtype=torch.uint8)

    def sync(call: int) -> None:
        sync_gate_decision(local, CallIdentity("slot-0", call, int(SeedStage.TRAINING), int(SeedStage.BLENDING)))

    def raw_bcast_object(call: int) -> None:
        identity = CallIdentity("slot-0", call, int(SeedStage.TRAINING), int(SeedStage.BLENDING))
        payload = {"for": dataclasses.asdict(identity), **dataclasses.asdict(local)}
        dist.broadcast_object_list([payload if rank == 0 else None], src=0)

    def tensor_bcast(call: int) -> None:
        dist.broadcast(flag, src=0)

    methods = {"sync": sync, "raw_bcast_object": raw_bcast_object, "tensor_bcast": tensor_bcast}
    times: dict[str, list[float]] = {name: [] for name in SYNC_METHODS}
    for call in range(rounds):
        for offset in range(len(SYNC_METHODS)):
            name = SYNC_METHODS[(call + offset) % len(SYNC_METHODS)]
            dist.barrier()
            started = time.perf_counter()
            methods[name](call)
            times[name].append(time.perf_counter() - started)
    conn.send_bytes(json.dumps(times).encode())
    dist.barrier()
    dist.destroy_process_group()


def _exit_with_parent(lifeline: Any) -> None:
    """End this rank when the parent goes, however it goes (the lifeline's only writer is the parent)."""
    with contextlib.suppress(EOFError, OSError):
        lifeline.recv_bytes()
    os._exit(1)


def _median_torch_import(runs: int) -> float:
    """Median wall seconds of `python -c "import torch, torch.distributed"`, interpreter start included."""
    times = []
    for _ in range(runs):
        started = time.monotonic()
        subprocess.run([sys.executable, "-c", "import torch, torch.distributed"], check=True, timeout=CERTIFY_TIMEOUT_S)
        times.append(time.monotonic() - started)
    return round(statistics.median(times), 2)


def _certify(extra_args: tuple[str, ...], impl: str = REFERENCE, expected_exit: int = 0) -> tuple[float, float, float]:
    """Wall seconds, peak summed RSS (MB) of `python -m harness certify` and all its descendants, and
    the peak size (MB) of its temporary folders."""
    root = os.path.dirname(PACKAGE_DIR)
    with tempfile.TemporaryDirectory(prefix="lifecycle-bench-certify-") as folder:
        log_path = os.path.join(folder, "certify.log")
        out = os.path.join(folder, "cert")
        command = [sys.executable, "-m", HARNESS, "certify", "--quiet", "--out", out, *extra_args]
        command += ["--impl", impl]
        peak = peak_tmp = 0
        with open(log_path, "wb") as log:
            started = time.monotonic()
            process = subprocess.Popen(command, cwd=root, stdout=log, stderr=subprocess.STDOUT)
            try:
                while process.poll() is None:
                    if time.monotonic() - started > CERTIFY_TIMEOUT_S:
                        raise BenchError(f"certify did not end within {CERTIFY_TIMEOUT_S:.0f}s")
                    peak = max(peak, _tree_rss(process.pid))
                    peak_tmp = max(peak_tmp, sum(folder_bytes(f) for f in run_folders(process.pid)))
                    time.sleep(RSS_SAMPLE_S)
                wall = time.monotonic() - started
            finally:
                _stop(process)
        if process.returncode != expected_exit:
            with open(log_path, errors="replace") as f:
                raise BenchError(f"certify exited with {process.returncode}, not {expected_exit}:\n{f.read()[-4000:]}")
    return round(wall, 2), round(peak / 2**20, 1), round(peak_tmp / 2**20, 1)


def _certify_profile(profile: str, world_sizes: tuple[int, ...]) -> float:
    """Wall seconds of `profile` (`ddp`, `resume`) in worlds already started, as it runs inside `certify
    --profile all` (where the other profiles have started the worlds): the time it adds to a certification."""
    from ..spec.certify import CertifyOptions, certify

    with WorldPool() as pool:
        for size in world_sizes:
            warm_up = one_advance(size) if size > 1 else dataclasses.replace(one_advance(1), process_group=False)
            _check_ok(pool.run(REFERENCE, warm_up))
        started = time.monotonic()
        cert = certify(CertifyOptions(profile=profile, world_sizes=world_sizes, out_dir=None), world=pool)
        wall = time.monotonic() - started
    if cert["verdict"] != "certified":
        raise BenchError(f"profile {profile} did not certify the reference: {[c['reason'] for c in cert['clauses']]}")
    return round(wall, 2)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM (certify then closes its worlds), then SIGKILL; its ranks follow through their lifelines."""
    for stop, grace in ((process.terminate, 10.0), (process.kill, KILL_WAIT_S)):
        if process.poll() is not None:
            return
        stop()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace)


def _tree_rss(pid: int) -> int:
    """Summed resident bytes of `pid` and its descendants (shared pages count once per process)."""
    return sum(proctree.resident_bytes(current) for current in [pid, *proctree.descendants(pid)])


def render_table(figures: dict) -> str:
    """The figures as a table, then each target with its status."""
    per_size = [
        ("warm_scenarios_per_s", "warm scenarios/s"),
        ("fresh_scenarios_per_s", "fresh scenarios/s"),
        ("warm_over_fresh", "warm / fresh"),
        ("sync_us", "sync round (us)"),
        ("raw_bcast_object_us", "broadcast_object_list (us)"),
        ("tensor_bcast_us", "one-tensor broadcast (us)"),
    ]
    sizes = list(figures["warm_scenarios_per_s"])
    lines = [f"{'world size':<28}" + "".join(f"{s:>12}" for s in sizes)]
    for key, label in per_size:
        lines.append(f"{label:<28}" + "".join(f"{figures[key][s]:>12}" for s in sizes))
    for key in SCALARS:
        lines.append(f"{key:<28}{figures[key]:>12}")
    env = figures["environment"]
    lines.append(f"{'environment':<28}{env['cores']} cores, Python {env['python']}, torch {env['torch']}")
    values = (
        figures["certify_wall_s"],
        figures["certify_wall_s"] / figures["torch_import_s"],
        figures["certify_hanging_wall_s"] / figures["certify_wall_s"],
        figures["certify_crashing_wall_s"] / figures["certify_wall_s"],
        figures["warm_over_peer"],
        figures["hang_report_latency_s"],
        max(figures["sync_us"][s] / figures["raw_bcast_object_us"][s] for s in sizes),
        figures["certify_peak_tmp_mb"],
        figures["certify_ddp_wall_s"],
        figures["certify_resume_wall_s"],
    )
    lines.append("targets:")
    for (name, bound), value in zip(TARGETS, values, strict=True):
        op, limit = bound.split()
        met = value >= float(limit) if op == ">=" else value <= float(limit)
        lines.append(f"  {name:<42} {value:>10.3g} {bound:<6} {'met' if met else 'MISSED'}")
    return "\n".join(lines)

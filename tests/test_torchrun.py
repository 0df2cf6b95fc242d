"""`certify --launcher env` under torchrun, with gloo on the CPU.

torchrun gets a session of its own and starts each worker in a session of its own, so the test
records torchrun's descendants while it runs. Output goes to a file (a pipe held by a leftover
worker would block the reader instead of failing the test), `--standalone` picks a free port, and
every run is bounded: on timeout torchrun's and each worker's process group get SIGTERM, then
SIGKILL. After each run, /proc is polled until none of the recorded processes is left.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.rankside.rank import loopback_interface
from tests.harness_util import REFERENCE, Proc, alive, descendants, proc, procs, survivors

pytestmark = pytest.mark.timeout(240)

ROOT = Path(__file__).resolve().parent.parent
TORCHRUN = Path(sys.executable).with_name("torchrun")
RUN_TIMEOUT_S = 180.0
POLL_S = 0.05
STOP_WAIT_S = 10.0
PASSED_ONLY = "tests.bad_impls.passed_only:Adapter"
LAUNCHER_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


def stop(watched: list[Proc]) -> None:
    """SIGTERM, then SIGKILL, whichever of `watched` are still alive."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p in watched:
            if alive(p):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p.pid, sig)
        if not survivors(watched, STOP_WAIT_S):
            return


def torchrun(tmp_path: Path, nproc: int, impl: str, *extra: str) -> tuple[int, str, Path]:
    """Run `certify --launcher env` on `nproc` ranks; its exit code, its output and the certificate folder."""
    codes, output, out = torchrun_nodes(tmp_path, [["--standalone", "--nproc-per-node", str(nproc)]], impl, *extra)
    return codes[0], output, out


def torchrun_nodes(tmp_path: Path, launches: list[list[str]], impl: str, *extra: str) -> tuple[list[int], str, Path]:
    """One torchrun per entry of `launches` (its launcher options), all certifying into one folder;
    their exit codes, their output (one log) and the certificate folder. Nothing they start survives."""
    out = tmp_path / "cert"
    log = tmp_path / "torchrun.log"
    certify = ["-m", "harness", "certify", "--launcher", "env", "--impl", impl, "--out", str(out), *extra]
    env = {**os.environ, "GLOO_SOCKET_IFNAME": loopback_interface()}
    processes = []
    with open(log, "wb") as sink:
        for options in launches:
            processes.append(
                subprocess.Popen(
                    [str(TORCHRUN), *options, *certify],
                    cwd=ROOT,
                    env=env,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
    started = {proc(p.pid) for p in processes}
    deadline = time.monotonic() + RUN_TIMEOUT_S
    try:
        while any(p.poll() is None for p in processes):
            if time.monotonic() > deadline:
                pytest.fail(
                    f"torchrun did not end within {RUN_TIMEOUT_S:.0f}s:\n{log.read_text(errors='replace')[-4000:]}"
                )
            for p in processes:
                started.update(procs(descendants(p.pid)))
            time.sleep(POLL_S)
    except BaseException:
        stop(list(started))
        raise
    left = survivors(started)
    stop(left)
    assert not left, "processes left after torchrun: " + ", ".join(map(str, left))
    assert len(started) > len(processes), "the workers were never seen"
    return [p.returncode for p in processes], log.read_text(errors="replace"), out


def rank_exit_codes(output: str) -> dict[int, int]:
    """Each rank's own report of the code it exits with (one line per rank)."""
    lines = re.findall(r"^rank (\d+) of \d+: verdict \w+, exit code (\d+)$", output, re.MULTILINE)
    ranks = [int(rank) for rank, _ in lines]
    assert len(ranks) == len(set(ranks)), output
    return {int(rank): int(code) for rank, code in lines}


def load(out: Path) -> dict:
    return json.loads((out / "certificate.json").read_text())


def assert_reference_certified_on_every_rank(output: str, out: Path, nproc: int) -> None:
    """Every rank exits 0 and reports it, rank 0 alone writes the certificate, and every clause a launcher's
    world can run passes; those it cannot are skipped, each scenario named, with the reason."""
    assert rank_exit_codes(output) == dict.fromkeys(range(nproc), 0), output[-4000:]
    assert output.count("; certificate in ") == 1, output[-4000:]
    assert "find_unused_parameters" not in output, "a DDP warning of the harness's making reached the terminal"
    cert = load(out)
    assert (cert["verdict"], cert["launcher"], cert["world_sizes"]) == ("certified", "env", [nproc])
    statuses = {c["id"]: c["status"] for c in cert["clauses"]}
    assert statuses.pop("C5") == "skipped"
    assert statuses.pop("C9") == statuses.pop("S5") == "skipped"  # a dead peer would end the launcher's job
    assert statuses.pop("R5") == "skipped"  # a launcher's world cannot be ended and started again
    restart = next(c for c in cert["clauses"] if c["id"] == "R5")
    assert "only a world the harness started" in restart["reason"], restart["reason"]
    assert statuses.pop("D4") == "not_claimed"  # the reference declares every DDP configuration
    assert set(statuses.values()) == {"pass"}, statuses
    table = cert["ddp_configurations"]
    assert {row["status"] for row in table.values()} == {"trains in every stage"}, table
    skipped = {c["id"]: [entry.split(":")[0] for entry in c["skipped"]] for c in cert["clauses"]}
    assert skipped["S1"] == [f"swapped-order-ws{nproc}"]
    assert skipped["S4"] == [f"no-seed-then-more-calls-ws{nproc}"]
    assert len(skipped["C9"]) == 3 and all(name.startswith("propagation-") for name in skipped["C9"])
    misaligned = [name for name in skipped["S2"] if name.startswith("misalign-no_seed-p1-")]
    assert len(misaligned) == 1 and sorted(skipped["S2"]) == sorted([*misaligned, *skipped["S4"]])
    assert (out / "certificate.md").is_file()


def test_reference_is_certified_on_every_rank(tmp_path: Path) -> None:
    code, output, out = torchrun(tmp_path, 2, REFERENCE)
    assert code == 0, output[-4000:]
    assert_reference_certified_on_every_rank(output, out, 2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_nodes_certify_the_reference_at_world_size_4(tmp_path: Path) -> None:
    """Two torchrun agents, as on two machines, meet through a c10d rendezvous on loopback."""
    node = ["--nnodes", "2", "--nproc-per-node", "2", "--rdzv-backend", "c10d", "--rdzv-id", "multi-node"]
    node += ["--rdzv-endpoint", f"127.0.0.1:{free_port()}", "--local-addr", "127.0.0.1"]
    codes, output, out = torchrun_nodes(tmp_path, [node, node], REFERENCE)
    assert codes == [0, 0], output[-4000:]
    assert_reference_certified_on_every_rank(output, out, 4)


def test_known_bad_implementation_fails_its_clause_on_every_rank(tmp_path: Path) -> None:
    """Its clause is a core one: the other profiles' clauses under a launcher are the reference's tests'."""
    code, output, out = torchrun(tmp_path, 2, PASSED_ONLY, "--profile", "core")
    assert code == 1, output[-4000:]
    assert rank_exit_codes(output) == {0: 1, 1: 1}, output[-4000:]
    cert = load(out)
    assert cert["verdict"] == "not_certified"
    assert {c["id"] for c in cert["clauses"] if c["status"] not in ("pass", "skipped", "not_claimed")} == {"C3"}


def test_the_verdict_file_gives_ci_the_verdicts_code_while_every_rank_exits_0(tmp_path: Path) -> None:
    """torchrun exits 1 for any failing worker; with --verdict-file it exits 0 and the file holds 1."""
    verdict_file = tmp_path / "verdict-code"
    verdict_file.write_text("0\n")  # left by an earlier run: must not pass for this one
    code, output, out = torchrun(tmp_path, 2, PASSED_ONLY, "--profile", "core", "--verdict-file", str(verdict_file))
    assert code == 0, output[-4000:]
    assert rank_exit_codes(output) == {0: 0, 1: 0}, output[-4000:]
    assert verdict_file.read_text() == "1\n"
    assert load(out)["verdict"] == "not_certified"


def test_launcher_mode_outside_a_launcher_is_one_line() -> None:
    """As a real program; the launcher mode's other bad input is in `tests/test_bad_input_table.py`."""
    env = {k: v for k, v in os.environ.items() if k not in LAUNCHER_VARIABLES}
    done = subprocess.run(
        [sys.executable, "-m", "harness", "certify", "--launcher", "env"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    message = "runs under a launcher such as torchrun"
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr

"""`python -m harness`: certify, replay, spec, demo and bench.

Bad input ends with one line on stderr and exit code 2, never a traceback, and is found before any
world starts. An error of the harness itself exits 3, with one line naming the file that holds its
traceback. SIGTERM stops a run as Ctrl-C does.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import signal
import sys
import tempfile
import threading
import traceback
from typing import TYPE_CHECKING, NoReturn

from ..errors import AdapterLoadError, OutputPathError, ScenarioError, UsageError, WorldLost, WorldStartError
from ..locations import REFERENCE
from ..procs.signals import sigterm_interrupts
from ..rankside.slowstart import reported_if_slow
from ..records.profiles import ALL, CHOICES, TRAINING
from ..records.scenario import MAX_CERTIFY_WORLD_SIZE, Scenario
from .options import add_stall_timeout, clause_printer, shorten, stall_timeout, start_command_clock, took, world_sizes
from .outputs import check_file, check_folder

if TYPE_CHECKING:
    from ..records.report import ScenarioResult
    from ..spec.judge.checks import Violation

USAGE_ERROR = 2
INTERNAL_ERROR = 3
DEFAULT_IMPL = REFERENCE
CERTIFY_EXIT_CODES = """exit codes:
  0  certified
  1  not certified (a clause failed)
  2  inconclusive (errors, an interrupted run) or bad input
  3  an internal error of the harness (its traceback is saved to a file named on stderr)"""


_completed_code: int | None = None  # the verdict's exit code, once the (last) certificate is complete


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown for every option, once: an option whose help already says its default in words
    keeps those; descriptions and epilogs kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.help and "default" in action.help:
            return action.help
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m harness", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    impl_default = os.environ.get("LIFECYCLE_SPEC_IMPL", DEFAULT_IMPL)
    impl_help = "the adapter to run, as MODULE:ATTR, or $LIFECYCLE_SPEC_IMPL when set"
    certify = commands.add_parser(
        "certify",
        help="certify an implementation against the specification",
        description="Certify an implementation against the specification and write its certificate.",
        epilog=CERTIFY_EXIT_CODES,
        formatter_class=HelpFormatter,
    )
    certify.add_argument("--impl", default=impl_default, help=impl_help)
    certify.add_argument("--profile", choices=CHOICES, default=ALL, help="which clauses to check")
    certify.add_argument(
        "--world-sizes", default="1,2,3,4", help=f"comma-separated world sizes, each from 1 to {MAX_CERTIFY_WORLD_SIZE}"
    )
    certify.add_argument("--seed", type=int, default=0, help="seed of the generated scenarios")
    certify.add_argument(
        "--corpus", type=int, default=None, help="generated scenarios per world size (default: the suite's, 16)"
    )
    certify.add_argument("--out", default="certificate", help="folder for certificate.json, .md and .html")
    certify.add_argument("--list-clauses", action="store_true", help="print the clause registry and exit")
    certify.add_argument("--repeat", type=int, default=1, help="certify N times and report any difference")
    certify.add_argument(
        "--launcher",
        choices=("spawn", "env"),
        default="spawn",
        help="spawn: start the ranks here; env: run in the process group of a launcher such as torchrun",
    )
    certify.add_argument(
        "--backend",
        choices=("gloo", "nccl"),
        default=None,
        help="--launcher env: the process group's backend (None: $LIFECYCLE_SPEC_BACKEND, else gloo)",
    )
    certify.add_argument("--pg-timeout", type=float, default=30.0, help="--launcher env: seconds a collective may wait")
    certify.add_argument(
        "--verdict-file",
        default=None,
        metavar="FILE",
        help="--launcher env: write the verdict's exit code (0, 1 or 2) to FILE on rank 0 and exit 0 on every rank"
        " once the certificate is complete, so the launcher's own exit code says only whether the run completed",
    )
    certify.add_argument("--maxfail", type=int, default=None, help="stop after N failed MUST clauses (None: never)")
    certify.add_argument("--quiet", action="store_true", help="no progress line while scenarios run")
    certify.add_argument(
        "--verbose", action="store_true", help="under each clause, each scenario it ran: status and calls judged"
    )
    add_stall_timeout(certify)
    replay = commands.add_parser(
        "replay",
        help="run a saved scenario and print the per-rank report",
        description="Run a saved scenario (JSON) and print the per-rank report. Exit 0 when the clause checked"
        " (--clause, or an evidence file's) passes, or, with no clause, when every rank completed; 1 when not;"
        " 2 when nothing could be replayed.",
        formatter_class=HelpFormatter,
    )
    replay.add_argument("file", help="a scenario's JSON file, or the evidence file a failing clause saves")
    replay.add_argument(
        "--impl",
        default=os.environ.get("LIFECYCLE_SPEC_IMPL"),
        help="the adapter to run, as MODULE:ATTR (default: an evidence file's, else $LIFECYCLE_SPEC_IMPL)",
    )
    replay.add_argument(
        "--clause",
        help="also check the result against this clause and print its violations (default: an evidence file's clause)",
    )
    replay.add_argument("--html", metavar="OUT", help="also draw the run as a per-rank timeline in this HTML file")
    add_stall_timeout(replay)
    commands.add_parser(
        "spec",
        help="print SPEC.md, generated from the clause registry",
        description="Print the specification (SPEC.md), generated from the clause registry.",
    )
    demo = commands.add_parser(
        "demo",
        help="two gloo ranks with different gate inputs agree on rank 0's decision",
        description="Run two gloo ranks with different gate inputs and show that they agree on rank 0's decision.",
        formatter_class=HelpFormatter,
    )
    demo.add_argument(
        "--ddp",
        action="store_true",
        help="local gate decisions applied (the bug) next to the reference, each training a real DDP model",
    )
    bench = commands.add_parser(
        "bench",
        help="time warm and fresh worlds, hang reports, sync rounds and certify",
        description="Measure warm and fresh worlds, hang reports, sync rounds and a certification.",
        formatter_class=HelpFormatter,
    )
    bench.add_argument("--out", default=None, help="write the figures to this JSON file")
    bench.add_argument("--quick", action="store_true", help="small counts and a small certification, in seconds")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command in this process and return its exit code (SIGTERM's handler restored after)."""
    global _completed_code
    _completed_code = None
    with sigterm_interrupts(interrupt):
        return run_command(argv)


def run_as_program() -> NoReturn:
    """`python -m harness`: the exit code, once decided, is kept whatever signal arrives during shutdown."""
    signal.signal(signal.SIGTERM, interrupt)
    try:
        code = run_command(None)
        from ..worlds.preload import stop_forkserver

        stop_forkserver()
    except KeyboardInterrupt:  # at the very last instant, after the command's own handling
        code = _completed_code if _completed_code is not None else USAGE_ERROR
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    _exit_now(code)


def _exit_now(code: int) -> NoReturn:
    """Exit as the interpreter would (its other threads joined, then the atexit handlers, the run folder's
    removal among them, then the output flushed), without its teardown of every module and object: with
    torch loaded that takes about 0.6 s on a quiet 2-core machine and does nothing the command needs."""
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def run_command(argv: list[str] | None) -> int:
    """The command's exit code; bad input, interruptions and errors of the harness each get theirs."""
    start_command_clock()
    try:
        args = _parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except (UsageError, AdapterLoadError, ScenarioError, OutputPathError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except (WorldStartError, WorldLost) as exc:
        print(f"error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        if _completed_code is not None:
            return _completed_code
        print("interrupted", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:
        # The reader of our output went away (`| head`): stop quietly, as other command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return USAGE_ERROR
    except Exception as exc:
        what = shorten(f"{type(exc).__name__}: {exc}", 80)
        print(f"internal error of the harness ({what}); the traceback is in {save_traceback()}", file=sys.stderr)
        return INTERNAL_ERROR


def interrupt(signum: int, frame: object) -> None:
    """SIGTERM ends a run as Ctrl-C does, through KeyboardInterrupt, until its certificate is complete."""
    if _completed_code is None:
        raise KeyboardInterrupt


def save_traceback() -> str:
    """Write the exception being handled to a new file and return its path, for a bug report."""
    fd, path = tempfile.mkstemp(prefix="lifecycle-harness-error-", suffix=".txt")
    with os.fdopen(fd, "w") as f:
        f.write(traceback.format_exc())
    return path


def cmd_certify(args: argparse.Namespace) -> int:
    global _completed_code
    if args.list_clauses:
        from ..spec.clauses import select

        for clause in select(ALL):
            print(f"{clause.id:<4} {clause.level:<6} {clause.profile:<7} {clause.title}: {clause.statement}")
        return 0
    if args.repeat < 1 or (args.corpus is not None and args.corpus < 1):
        raise UsageError("--repeat and --corpus take a positive integer")
    check_folder(args.out, "--out")
    if args.maxfail is not None and args.maxfail < 1:
        raise UsageError(f"--maxfail takes a positive integer, got {args.maxfail}")
    if args.verdict_file is not None and args.launcher != "env":
        raise UsageError("--verdict-file needs --launcher env: without a launcher the exit code is the verdict's")
    if args.verdict_file is not None:
        check_file(args.verdict_file, "--verdict-file")
    if args.launcher != "env" and args.backend not in (None, "gloo"):
        raise UsageError("--backend nccl needs --launcher env: the ranks this command starts use gloo")
    if args.launcher == "env" and args.repeat != 1:
        raise UsageError("--repeat is not available with --launcher env: run the launcher again instead")
    if args.launcher == "env" and args.pg_timeout <= 0:
        raise UsageError("--pg-timeout takes a positive number of seconds")
    sizes, timeout = world_sizes(args.world_sizes), stall_timeout(args)
    from ..rankside.adapter import load_adapter_factory
    from ..worlds.preload import findable, start_forkserver

    if args.launcher != "env" and findable(args.impl):
        start_forkserver(models=args.profile in TRAINING)  # before this process imports torch, so the two overlap
    elif not findable(args.impl):
        load_adapter_factory(args.impl)  # its one-line refusal now, not after a torch import for nothing
    from ..spec.certify import CertifyOptions
    from ..spec.runner import DEFAULT_CORPUS

    options = CertifyOptions(
        impl=args.impl,
        profile=args.profile,
        world_sizes=sizes,
        seed=args.seed,
        corpus=args.corpus or DEFAULT_CORPUS,
        out_dir=args.out,
        stall_timeout_s=timeout,
        maxfail=args.maxfail,
    )
    if args.launcher == "env":
        from .under_launcher import LauncherRun, certify_under_launcher

        return certify_under_launcher(
            options, LauncherRun(args.pg_timeout, args.backend, args.verdict_file, args.verbose)
        )
    from ..spec.certify import certify
    from ..spec.implementation import describe_implementation
    from ..spec.output.certificate import EXIT_CODES
    from ..spec.progress import ProgressPrinter, RunProgress

    with reported_if_slow(f"still loading `{options.impl}`"):
        describe_implementation(options.impl)
    print(f"certifying {options.impl} (profile {options.profile}, world sizes {list(options.world_sizes)})")
    signatures = []
    for run in range(args.repeat):
        if args.repeat > 1:
            print(f"--- run {run + 1} of {args.repeat}")
        run_progress = RunProgress()
        with contextlib.nullcontext() if args.quiet else ProgressPrinter(run_progress, sys.stderr, sys.stdout) as shown:
            say = (lambda line: print(line, flush=True)) if shown is None else shown.print
            cert = certify(options, progress=clause_printer(say, args.verbose), run_progress=run_progress)
        if run + 1 == args.repeat or cert["interrupted"]:
            _completed_code = EXIT_CODES[cert["verdict"]]
        print(f"verdict: {cert['verdict']} {took(cert)}; certificate in {args.out}/")
        signatures.append([(c["id"], c["status"], c["scenarios"]) for c in cert["clauses"]])
        if cert["interrupted"]:
            return EXIT_CODES[cert["verdict"]]
    differing = [i + 1 for i, s in enumerate(signatures) if s != signatures[0]]
    if differing:
        print(f"runs {differing} differ from run 1 in clause statuses or scenario counts:")
        for i in differing:
            print(f"  run {i}: {[d for d in signatures[i - 1] if d not in signatures[0]]}")
        return 1
    if args.repeat > 1:
        print(f"all {args.repeat} runs identical")
    return EXIT_CODES[cert["verdict"]]


def cmd_replay(args: argparse.Namespace) -> int:
    """Exit 0 when every rank completed (and the clause, if any, passes), 1 when not, 2 when the ranks
    could not even set up (nothing was replayed)."""
    from ..rankside.adapter import load_adapter_factory
    from ..spec.output.evidence import read_scenario_file
    from ..worlds.preload import findable, start_forkserver

    # The cheap checks first: the clause registry and the runner import torch, seconds spent on nothing otherwise.
    if args.html is not None:
        check_file(args.html, "--html")
    scenario, recorded = read_scenario_file(args.file)
    clause_id = args.clause if args.clause is not None else recorded.get("clause")
    if clause_id is not None:
        from ..spec.clauses import BY_ID

        if clause_id not in BY_ID:
            raise UsageError(f"unknown clause {clause_id!r} (known: {', '.join(BY_ID)})")
    impl = args.impl if args.impl is not None else recorded.get("implementation")
    if impl is None:
        raise UsageError("this scenario file records no implementation: pass --impl MODULE:ATTR")
    if not findable(impl):
        try:
            load_adapter_factory(impl)  # a malformed or unimportable name: its one line now
        except AdapterLoadError as exc:
            raise _unimportable_here(exc, args.file, recorded, clause_id) from None
    start_forkserver(models=scenario.model)  # before this process imports torch below, so the two imports overlap
    from ..records.statuses import ClauseStatus
    from ..spec.implementation import describe_implementation
    from ..spec.judge.judging import judge_scenario, judged_counts, unjudged_lines, unusable
    from ..spec.output.certificate import alone_caveat
    from ..worlds.pool import WorldPool
    from ..worlds.stall import StallRule

    with reported_if_slow(f"still loading `{impl}`"):
        try:
            describe_implementation(impl)
        except AdapterLoadError as exc:
            raise _unimportable_here(exc, args.file, recorded, clause_id) from None
    print(f"replaying {scenario.name!r} with {impl}")
    with WorldPool(stall_rule=StallRule(fixed_s=stall_timeout(args))) as pool:
        result = pool.run(impl, scenario)
    problem = unusable(result)
    if problem and clause_id is None:
        raise UsageError(f"nothing was replayed: {problem}")
    print(result.render())
    kind = recorded.get("kind") if recorded.get("clause") == clause_id else None
    verdict = judge_scenario(BY_ID[clause_id], result, kind=kind) if clause_id is not None else None
    if args.html is not None:
        write_replay_page(args.html, result, verdict.violations if verdict else [], clause_id)
    if verdict is None:
        return 0 if result.ok else 1
    counts = judged_counts(verdict.judged, verdict.unjudged)
    print(f"clause {clause_id}: {verdict.status} ({counts})" + (f": {verdict.reason}" if verdict.reason else ""))
    for violation in verdict.violations:
        print(f"  [{violation.kind}] {violation}")
    said = recorded if recorded.get("clause") == clause_id and recorded.get("status") else {}
    replayed = (verdict.status, verdict.judged, verdict.unjudged)
    if said and (said["status"], said["judged"], said["unjudged"]) != replayed:
        said_counts = judged_counts(said["judged"], said["unjudged"])
        print(f"the run that wrote this file said {said['status']} ({said_counts}): {said['reason']}")
        if caveat := alone_caveat(said):
            print(caveat)
    if verdict.unjudged:
        print("calls not judged:")
        for line in unjudged_lines(result) or ["every rank reported them, but the check could not judge them"]:
            print(f"  {line}")
    if verdict.status == ClauseStatus.ERROR:
        return USAGE_ERROR
    return 0 if verdict.status == ClauseStatus.PASS else 1


def _unimportable_here(exc: Exception, path: str, recorded: dict, clause_id: str | None) -> Exception:
    """The adapter an evidence file names cannot be loaded here: when the file recorded folders it was
    imported from that this process lacks, the one line says which, and the command that has them."""
    from ..spec.output.certificate import replay_command

    missing = [p for p in recorded.get("pythonpath") or [] if os.path.abspath(p) not in map(os.path.abspath, sys.path)]
    if not missing:
        return exc
    command = replay_command({"scenario_file": path, "pythonpath": recorded["pythonpath"]}, clause_id)
    return UsageError(
        f"{exc}; the evidence recorded it imported from {os.pathsep.join(missing)}, which this process's path"
        f" lacks: run {command}"
    )


def write_replay_page(path: str, result: ScenarioResult, violations: list[Violation], clause_id: str | None) -> None:
    from ..spec.output.timeline import history
    from ..spec.output.timeline_html import scenario_page

    title = f"{result.scenario.name or 'scenario'} at world size {result.world_size}"
    title += f", clause {clause_id}" if clause_id else ""
    page = scenario_page(title, history(result, violations), violations[0].text if violations else "")
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(page)
    except OSError as exc:
        raise UsageError(f"cannot write {path!r}: {exc.strerror}") from None
    print(f"timeline in {path}")


def cmd_spec(args: argparse.Namespace) -> int:
    from ..spec.output.document import render

    sys.stdout.write(render())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ..records.contract import stage_name
    from ..records.scenario import Op
    from ..worlds.pool import WorldPool

    if args.ddp:
        from .model_demo import run_demo

        return run_demo()

    scenario = Scenario(
        "demo",
        2,
        ["a"],
        [Op("germinate", "a"), Op("advance", "a", local=[True, False]), Op("advance", "a", local=[False, True])],
    )
    with WorldPool() as pool:
        result = pool.run(REFERENCE, scenario)
    for outcome in result.outcomes:
        for record in outcome.records[1:]:
            print(
                f"rank {outcome.rank} call {record.index}: local passed={record.local[-1]['passed']},"
                f" returned passed={record.result['passed']}, stage {stage_name(record.stage_after)},"
                f" message {record.result['message']!r}"
            )
    agree = len({json.dumps(o.snapshots, sort_keys=True) for o in result.outcomes}) == 1
    print("ranks agree" if agree and result.ok else "ranks DISAGREE")
    return 0 if agree and result.ok else 1


def cmd_bench(args: argparse.Namespace) -> int:
    from ..tools.bench import BenchError, render_table, run_bench

    if args.out is not None:
        check_file(args.out, "--out")
    try:
        figures = run_bench(args.quick, progress=lambda step: print(f"bench: {step}", file=sys.stderr, flush=True))
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(render_table(figures))
    if args.out:
        try:
            with open(args.out, "w") as f:
                json.dump(figures, f, indent=1)
        except OSError as exc:
            raise UsageError(f"cannot write {args.out!r}: {exc.strerror}") from None
    return 0


COMMANDS = {"certify": cmd_certify, "replay": cmd_replay, "spec": cmd_spec, "demo": cmd_demo, "bench": cmd_bench}

"""`python -m harness`: certify, replay, spec, demo and bench.

Bad input ends with one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from typing import TYPE_CHECKING

from harness.adapter import AdapterLoadError
from harness.scenario import Scenario, ScenarioError
from harness.world import WorldStartError

if TYPE_CHECKING:
    from harness.spec.runner import ClauseOutcome

MAX_CERTIFY_WORLD_SIZE = 8
USAGE_ERROR = 2


class UsageError(Exception):
    """Bad input from the command line; printed as one line."""


def world_sizes(text: str) -> tuple[int, ...]:
    sizes = []
    for part in text.split(","):
        try:
            size = int(part.strip())
        except ValueError:
            raise UsageError(f"world sizes must be integers, got {part.strip()!r}") from None
        if not 1 <= size <= MAX_CERTIFY_WORLD_SIZE:
            raise UsageError(f"world sizes must be from 1 to {MAX_CERTIFY_WORLD_SIZE}, got {size}")
        sizes.append(size)
    return tuple(dict.fromkeys(sizes))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    certify = commands.add_parser("certify", help="certify an implementation against the specification")
    certify.add_argument("--impl", default=os.environ.get("LIFECYCLE_SPEC_IMPL", "reference_impl.adapter:Adapter"))
    certify.add_argument("--profile", choices=("core", "strict", "all"), default="all")
    certify.add_argument("--world-sizes", default="1,2,3,4")
    certify.add_argument("--seed", type=int, default=0)
    certify.add_argument("--corpus", type=int, default=None, help="generated scenarios per world size")
    certify.add_argument("--out", default="certificate", help="folder for certificate.json and certificate.md")
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
        help="--launcher env: the process group's backend (default $LIFECYCLE_SPEC_BACKEND, else gloo)",
    )
    certify.add_argument("--pg-timeout", type=float, default=30.0, help="--launcher env: seconds a collective may wait")
    certify.add_argument("--maxfail", type=int, default=None, help="stop after N failed MUST clauses")
    certify.add_argument("--quiet", action="store_true", help="no progress line while scenarios run")
    add_stall_timeout(certify)
    replay = commands.add_parser("replay", help="run a saved scenario and print the per-rank report")
    replay.add_argument("file")
    replay.add_argument("--impl", default=os.environ.get("LIFECYCLE_SPEC_IMPL", "reference_impl.adapter:Adapter"))
    replay.add_argument("--clause", help="also check the result against this clause and print its violations")
    add_stall_timeout(replay)
    commands.add_parser("spec", help="print SPEC.md, generated from the clause registry")
    commands.add_parser("demo", help="two gloo ranks with different gate inputs agree on rank 0's decision")
    bench = commands.add_parser("bench", help="time warm and fresh worlds, hang reports, sync rounds and certify")
    bench.add_argument("--out", default=None, help="write the figures to this JSON file")
    bench.add_argument("--quick", action="store_true", help="small counts and a small certification, in seconds")
    return parser


def add_stall_timeout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stall-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="end a scenario when no rank made progress for this long (default: from the calls seen so far)",
    )


def stall_timeout(args: argparse.Namespace) -> float | None:
    if args.stall_timeout is not None and not args.stall_timeout > 0:
        raise UsageError(f"--stall-timeout takes a positive number of seconds, got {args.stall_timeout}")
    return args.stall_timeout


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (UsageError, AdapterLoadError, ScenarioError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except WorldStartError as exc:
        print(f"error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:
        # The reader of our output went away (`| head`): stop quietly, as other command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return USAGE_ERROR


def cmd_certify(args: argparse.Namespace) -> int:
    from harness.progress import ProgressPrinter, RunProgress
    from harness.spec.certificate import EXIT_CODES
    from harness.spec.certify import CertifyOptions, certify
    from harness.spec.clauses import select
    from harness.spec.runner import DEFAULT_CORPUS

    if args.list_clauses:
        for clause in select("all"):
            print(f"{clause.id:<4} {clause.level:<6} {clause.profile:<7} {clause.title}: {clause.statement}")
        return 0
    if args.repeat < 1 or (args.corpus is not None and args.corpus < 1):
        raise UsageError("--repeat and --corpus take a positive integer")
    if args.maxfail is not None and args.maxfail < 1:
        raise UsageError(f"--maxfail takes a positive integer, got {args.maxfail}")
    if args.launcher == "env":
        from harness.spec.launched import certify_under_launcher

        return certify_under_launcher(args)
    if args.backend not in (None, "gloo"):
        raise UsageError("--backend nccl needs --launcher env: the ranks this command starts use gloo")
    options = CertifyOptions(
        impl=args.impl,
        profile=args.profile,
        world_sizes=world_sizes(args.world_sizes),
        seed=args.seed,
        corpus=args.corpus or DEFAULT_CORPUS,
        out_dir=args.out,
        stall_timeout_s=stall_timeout(args),
        maxfail=args.maxfail,
    )
    print(f"certifying {options.impl} (profile {options.profile}, world sizes {list(options.world_sizes)})")
    signatures = []
    for run in range(args.repeat):
        if args.repeat > 1:
            print(f"--- run {run + 1} of {args.repeat}")
        run_progress = RunProgress()
        with contextlib.nullcontext() if args.quiet else ProgressPrinter(run_progress, sys.stderr, sys.stdout) as shown:
            cert = certify(
                options,
                progress=print_clause if shown is None else lambda outcome: shown.print(clause_line(outcome)),
                run_progress=run_progress,
            )
        print(f"verdict: {cert['verdict']} in {cert['duration_s']:.1f}s; certificate in {args.out}/")
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


def print_clause(outcome: ClauseOutcome) -> None:
    """Print one line of the clause table a certification prints as it goes."""
    print(clause_line(outcome), flush=True)


def clause_line(outcome: ClauseOutcome) -> str:
    clause, status, count = outcome.clause, outcome.status, outcome.scenarios
    line = (
        f"  {clause.id:<4} {clause.level:<6} {clause.profile:<7} {clause.title:<24} {status:<12} {count:>4} scenarios"
    )
    return line + (f"  {outcome.reason[:200]}" if outcome.reason else "")


def cmd_replay(args: argparse.Namespace) -> int:
    """Exit 0 when every rank completed (and the clause, if given, holds), else 1."""
    from harness.pool import WorldPool
    from harness.spec.clauses import BY_ID
    from harness.stall import StallRule

    if args.clause is not None and args.clause not in BY_ID:
        raise UsageError(f"unknown clause {args.clause!r} (known: {', '.join(BY_ID)})")
    try:
        with open(args.file) as f:
            text = f.read()
    except OSError as exc:
        raise UsageError(f"cannot read scenario {args.file!r}: {exc.strerror}") from None
    scenario = Scenario.from_json(text)
    with WorldPool(stall_rule=StallRule(fixed_s=stall_timeout(args))) as pool:
        result = pool.run(args.impl, scenario)
    print(result.render())
    if args.clause is None:
        return 0 if result.ok else 1
    violations = BY_ID[args.clause].check(result)
    print(f"clause {args.clause}: " + ("holds" if not violations else f"{len(violations)} violation(s)"))
    for violation in violations:
        print(f"  {violation}")
    return 1 if violations else 0


def cmd_spec(args: argparse.Namespace) -> int:
    from harness.spec.document import render

    sys.stdout.write(render())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from harness.pool import WorldPool
    from harness.scenario import Op

    scenario = Scenario(
        "demo",
        2,
        ["a"],
        [Op("germinate", "a"), Op("advance", "a", local=[True, False]), Op("advance", "a", local=[False, True])],
    )
    with WorldPool() as pool:
        result = pool.run("reference_impl.adapter:Adapter", scenario)
    for outcome in result.outcomes:
        for record in outcome.records[1:]:
            print(
                f"rank {outcome.rank} call {record['index']}: local passed={record['local'][-1]['passed']},"
                f" applied passed={record['result']['passed']}, stage {record['stage_after']},"
                f" message {record['result']['message']!r}"
            )
    agree = len({json.dumps(o.snapshots, sort_keys=True) for o in result.outcomes}) == 1
    print("ranks agree" if agree and result.ok else "ranks DISAGREE")
    return 0 if agree and result.ok else 1


def cmd_bench(args: argparse.Namespace) -> int:
    from harness.bench import BenchError, render_table, run_bench

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

"""`certify --launcher env`: the certification inside the process group a launcher such as torchrun made.

Every rank runs this. Rank 0 certifies, running each scenario on every rank through `EnvWorld`,
prints the progress and writes the certificate; the other ranks run the scenarios it sends until it
sends them the certificate. Every rank then exits with the verdict's code; with `--verdict-file FILE`,
rank 0 writes that code to FILE and every rank exits 0, because a launcher such as torchrun turns any
non-zero worker into its own exit code 1 and loses the difference between 1 and 2. A rank that cannot
hear from rank 0 any more, or that rank 0 left without a certificate, exits 2 (as for `inconclusive`)
with one line saying why, with or without the file (which is then not written).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from ..env_world import BACKENDS, EnvWorld, join
from ..errors import UsageError, WorldLost
from ..options import clause_printer, world_sizes
from .certificate import EXIT_CODES
from .certify import CertifyOptions, certify
from .runner import DEFAULT_CORPUS

BACKEND_VARIABLE = "LIFECYCLE_SPEC_BACKEND"


def certify_under_launcher(args: argparse.Namespace) -> int:
    """This rank's part of `certify --launcher env`; returns its exit code."""
    if args.repeat != 1:
        raise UsageError("--repeat is not available with --launcher env: run the launcher again instead")
    if args.pg_timeout <= 0:
        raise UsageError("--pg-timeout takes a positive number of seconds")
    requested = world_sizes(args.world_sizes)
    backend = args.backend or os.environ.get(BACKEND_VARIABLE, "gloo")
    if backend not in BACKENDS:
        raise UsageError(f"the backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    world = join(backend, args.pg_timeout)
    if world.rank == 0 and args.verdict_file is not None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(args.verdict_file)  # a file left by an earlier run must not pass for this run's verdict
    try:
        cert = _lead(world, args, requested) if world.rank == 0 else world.follow()
    finally:
        world.close()
    if cert is None:
        raise WorldLost(f"rank {world.rank}: rank 0 ended the run without a certificate; its output says why")
    code = EXIT_CODES[cert["verdict"]]
    if args.verdict_file is None:
        _say(f"rank {world.rank} of {world.size}: verdict {cert['verdict']}, exit code {code}")
        return code
    if world.rank == 0:
        write_verdict_code(args.verdict_file, code)
        _say(f"verdict code {code} written to {args.verdict_file}")
    _say(f"rank {world.rank} of {world.size}: verdict {cert['verdict']}, exit code 0")
    return 0


def write_verdict_code(path: str, code: int) -> None:
    """The verdict's exit code, alone on a line, written whole (a reader never sees half a file)."""
    partial = f"{path}.partial"
    try:
        with open(partial, "w") as f:
            f.write(f"{code}\n")
        os.replace(partial, path)
    except OSError as exc:
        raise UsageError(f"cannot write --verdict-file {path!r}: {exc.strerror}") from None


def _lead(world: EnvWorld, args: argparse.Namespace, requested: tuple[int, ...]) -> dict | None:
    """Rank 0: certify at the launcher's world size, then send the certificate (or None) to the others."""
    options = CertifyOptions(
        impl=args.impl,
        profile=args.profile,
        world_sizes=(world.size,),
        seed=args.seed,
        corpus=args.corpus or DEFAULT_CORPUS,
        out_dir=args.out,
        launcher="env",
        backend=world.backend,
        maxfail=args.maxfail,
    )
    if requested != options.world_sizes:
        _say(f"note: the launcher's world has {world.size} ranks; --world-sizes {args.world_sizes} does not apply")
    _say(f"certifying {options.impl} (profile {options.profile}, world size {world.size}, backend {world.backend})")
    cert = None
    try:
        cert = certify(options, progress=clause_printer(_say, args.verbose), world=world)
    finally:
        world.finish(cert)
    _say(f"verdict: {cert['verdict']} in {cert['duration_s']:.1f}s; certificate in {args.out}/")
    return cert


def _say(line: str) -> None:
    """Print `line` in one write: the ranks share the launcher's output, where two writes can interleave."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()

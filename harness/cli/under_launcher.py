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

import contextlib
import dataclasses
import os
import sys
from dataclasses import dataclass

from ..errors import UsageError, WorldLost
from ..spec.certify import CertifyOptions, certify
from ..spec.output.certificate import EXIT_CODES
from ..worlds.env_world import BACKENDS, EnvWorld, join
from .options import clause_printer, took

BACKEND_VARIABLE = "LIFECYCLE_SPEC_BACKEND"


@dataclass(frozen=True)
class LauncherRun:
    """What a run under a launcher needs beyond the certification's options: how long a collective may
    wait, the backend asked for (None: `$LIFECYCLE_SPEC_BACKEND`, else gloo), where rank 0 writes the
    verdict's code (None: every rank exits with it), and whether each scenario's line is printed."""

    pg_timeout_s: float
    backend: str | None = None
    verdict_file: str | None = None
    verbose: bool = False


def certify_under_launcher(options: CertifyOptions, run: LauncherRun) -> int:
    """This rank's part of `certify --launcher env`; returns its exit code."""
    backend = run.backend or os.environ.get(BACKEND_VARIABLE, "gloo")
    if backend not in BACKENDS:
        raise UsageError(f"the backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    world = join(backend, run.pg_timeout_s)
    if world.rank == 0 and run.verdict_file is not None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(run.verdict_file)  # a file left by an earlier run must not pass for this run's verdict
    try:
        cert = _lead(world, options, run.verbose) if world.rank == 0 else world.follow()
    finally:
        world.close()
    if cert is None:
        raise WorldLost(f"rank {world.rank}: rank 0 ended the run without a certificate; its output says why")
    code = EXIT_CODES[cert["verdict"]]
    if run.verdict_file is None:
        _say(f"rank {world.rank} of {world.size}: verdict {cert['verdict']}, exit code {code}")
        return code
    if world.rank == 0:
        write_verdict_code(run.verdict_file, code)
        _say(f"verdict code {code} written to {run.verdict_file}")
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


def _lead(world: EnvWorld, requested: CertifyOptions, verbose: bool) -> dict | None:
    """Rank 0: certify at the launcher's world size, then send the certificate (or None) to the others."""
    options = dataclasses.replace(
        requested, world_sizes=(world.size,), launcher="env", backend=world.backend, stall_timeout_s=None
    )
    if requested.world_sizes != options.world_sizes:
        sizes = ",".join(map(str, requested.world_sizes))
        _say(f"note: the launcher's world has {world.size} ranks; --world-sizes {sizes} does not apply")
    _say(f"certifying {options.impl} (profile {options.profile}, world size {world.size}, backend {world.backend})")
    cert = None
    try:
        cert = certify(options, progress=clause_printer(_say, verbose), world=world)
    finally:
        world.finish(cert)
    _say(f"verdict: {cert['verdict']} {took(cert)}; certificate in {options.out_dir}/")
    return cert


def _say(line: str) -> None:
    """Print `line` in one write: the ranks share the launcher's output, where two writes can interleave."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()

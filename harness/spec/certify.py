"""One certification run: the selected clauses at the selected world sizes, then the certificate.

An interrupted run (SIGINT or SIGTERM) stops within seconds: its worlds are closed, clauses it had
not finished are reported as not checked, and the verdict is `inconclusive`.

Under a launcher (`launcher="env"`, see `harness.spec.under_launcher`) rank 0 runs this with the launcher's
world, which its caller joined and ends, in place of a pool of spawned worlds.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from .. import __version__
from ..locations import REFERENCE
from ..procs.signals import sigterm_interrupts
from ..records.profiles import ALL
from ..records.statuses import ClauseStatus
from ..worlds.pool import certification_pools
from .clauses import MUST, select
from .implementation import describe_implementation
from .output import certificate, coverage, ddp_matrix
from .progress import CountingExecutor, RunProgress
from .runner import DEFAULT_CORPUS, ClauseOutcome, ClauseRunner, Executor


@dataclass(frozen=True)
class CertifyOptions:
    impl: str = REFERENCE
    profile: str = ALL
    world_sizes: tuple[int, ...] = (1, 2, 3, 4)
    seed: int = 0
    corpus: int = DEFAULT_CORPUS
    out_dir: str | None = "certificate"
    launcher: str = "spawn"
    backend: str = "gloo"
    stall_timeout_s: float | None = None
    maxfail: int | None = None


def certify(
    options: CertifyOptions,
    progress: Callable[[ClauseOutcome], None] | None = None,
    world: Executor | None = None,
    run_progress: RunProgress | None = None,
) -> dict:
    implementation = describe_implementation(options.impl)
    clauses = select(options.profile)
    evidence_dir = f"{options.out_dir}/evidence" if options.out_dir else None
    started = time.monotonic()
    outcomes: list[ClauseOutcome] = []
    runner: ClauseRunner | None = None
    interrupted = False
    with sigterm_interrupts():
        try:
            warm, alone = certification_pools(options.stall_timeout_s) if world is None else (None, None)
            with contextlib.nullcontext(world) if warm is None else warm as pool:
                executor = pool if run_progress is None else CountingExecutor(pool, run_progress)
                runner = ClauseRunner(implementation, executor, options.seed, options.corpus, evidence_dir, alone=alone)
                for clause in clauses:
                    if options.maxfail is not None and _failed_musts(outcomes) >= options.maxfail:
                        outcome = ClauseOutcome(
                            clause, ClauseStatus.NOT_RUN, reason=f"not run: --maxfail {options.maxfail}"
                        )
                    else:
                        outcome = runner.evaluate(clause, list(options.world_sizes))
                    outcomes.append(outcome)
                    if progress:
                        progress(outcome)
        except KeyboardInterrupt:
            interrupted = True
            checked = {o.clause.id for o in outcomes}
            outcomes += [
                ClauseOutcome(c, ClauseStatus.ERROR, reason="not checked: the run was interrupted")
                for c in clauses
                if c.id not in checked
            ]
    cert = certificate.build(
        implementation,
        outcomes,
        world_sizes=list(options.world_sizes),
        seed=options.seed,
        profile=options.profile,
        duration_s=time.monotonic() - started,
        interrupted=interrupted,
        backend=options.backend,
        suite_version=__version__,
        launcher=options.launcher,
        coverage=coverage.summarize(list(runner.results.values())) if runner else None,
        misalignment=coverage.misalignments(list(runner.results.values())) if runner else None,
        ddp_configurations=(
            ddp_matrix.summarize(list(runner.results.values()), implementation.ddp_configurations) if runner else None
        ),
    )
    if options.out_dir:
        certificate.write(cert, options.out_dir)
    return cert


def _failed_musts(outcomes: list[ClauseOutcome]) -> int:
    return sum(o.status == ClauseStatus.FAIL and o.clause.level == MUST for o in outcomes)

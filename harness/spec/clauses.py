"""The registry of clauses: the single source of truth for SPEC.md, the certificate and the pytest route.

A clause's ID never changes once published; its title and wording may be clarified. Each clause
names the adapter capabilities it needs (without them it is `not_claimed`), the scenario families
it is checked with at a given world size, and the check that reads each scenario's result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..adapter import EPOCH_CLOCK, METRICS, MODULE, PRUNE, SCRIPTED_GATES, SIDE_EFFECTS
from ..report import ScenarioResult
from ..scenario import Scenario
from . import checks, families, model_checks, model_families
from .checks import Judgement

CORE = "core"
STRICT = "strict"
DDP = "ddp"
PROFILES = (CORE, STRICT, DDP)
MUST = "MUST"

Check = Callable[[ScenarioResult], Judgement]


@dataclass(frozen=True)
class Plan:
    """What a clause is run with: this world size among all requested, the seed, the generated-corpus
    size, the capabilities."""

    world_size: int
    world_sizes: tuple[int, ...]
    seed: int
    corpus: int
    capabilities: frozenset[str]

    @property
    def first(self) -> bool:
        return self.world_size == self.world_sizes[0]

    @property
    def small(self) -> bool:
        """World sizes 1 and 2, or the smallest requested when neither is: where C7 and C8 run."""
        return self.world_size <= 2 or (min(self.world_sizes) > 2 and self.world_size == min(self.world_sizes))


def corpus(plan: Plan) -> list[Scenario]:
    """The generated corpus (random sequences, every payload, every divergence pattern), without the
    ops the adapter cannot perform."""
    scenarios = (
        families.generated(plan.world_size, plan.seed, plan.corpus)
        + families.payloads(plan.world_size)
        + families.divergence_matrix(plan.world_size)
    )
    missing = tuple(op for op, cap in (("prune", PRUNE), ("step_epoch", EPOCH_CLOCK)) if cap not in plan.capabilities)
    return families.generated_without(missing, scenarios) if missing else scenarios


def corpus_and_real_gates(plan: Plan) -> list[Scenario]:
    real = families.real_gates(plan.world_size, plan.seed) if METRICS in plan.capabilities else []
    return corpus(plan) + real


def distributed_corpus(plan: Plan) -> list[Scenario]:
    return corpus(plan) if plan.world_size > 1 else []


@dataclass(frozen=True)
class Clause:
    id: str
    title: str
    profile: str
    level: str
    statement: str
    rationale: str
    method: str
    requires: frozenset[str]
    scenarios: Callable[[Plan], list[Scenario]]
    check: Check


def _small(build: Callable[[int], list[Scenario]]) -> Callable[[Plan], list[Scenario]]:
    return lambda plan: build(plan.world_size) if plan.small else []


REGISTRY: tuple[Clause, ...] = (
    Clause(
        id="C1",
        title="Agreement",
        profile=CORE,
        level=MUST,
        statement=(
            "After any sequence of calls that is the same on every rank, with any per-rank gate inputs,"
            " every rank holds the same stage and the same stage history for every slot."
        ),
        rationale="Ranks in different stages hold different architectures: DDP then crashes or silently desyncs.",
        method=(
            "Seeded random symmetric multi-slot sequences with random divergent local decisions (and,"
            " with `metrics`, the implementation's own gates fed different metrics per rank); the stage"
            " after every call and the final stage and history of every slot are compared across ranks."
        ),
        requires=frozenset({SCRIPTED_GATES}),
        scenarios=corpus_and_real_gates,
        check=checks.agreement,
    ),
    Clause(
        id="C2",
        title="Authority",
        profile=CORE,
        level=MUST,
        statement="The decision every rank applies is rank 0's local decision.",
        rationale="One rank must decide, or ranks that see different metrics decide differently (BUG-030).",
        method=(
            "In the generated corpus, each rank's returned `passed` and whether its stage moved are"
            " compared with rank 0's local gate result for the same call."
        ),
        requires=frozenset({SCRIPTED_GATES}),
        scenarios=corpus,
        check=checks.authority,
    ),
    Clause(
        id="C3",
        title="Integrity",
        profile=CORE,
        level=MUST,
        statement=(
            "Every rank returns rank 0's gate, passed, score, checks_passed, checks_failed and message"
            " exactly: the score bit for bit (-0.0 is not 0.0; a NaN arrives as a NaN), both check lists"
            " in order with their duplicates, the message character for character, possibly followed by"
            " one parenthesised divergence suffix."
        ),
        rationale=(
            "Callers log and act on the whole result; a truncated message, a re-ordered check list or a"
            " rounded score misreports the decision on every rank but one."
        ),
        method=(
            "Every rank's local result differs in score, checks and message, and the corpus varies every"
            " field: messages from empty to over 64 KiB with non-ASCII text, newlines and NUL, check lists"
            " from empty to hundreds of entries with duplicates in no sorted order, scores 0.0, -0.0, 1.0,"
            " subnormal, 1e308, inf and NaN. Each returned result is compared field by field with rank 0's"
            " local result."
        ),
        requires=frozenset({SCRIPTED_GATES}),
        scenarios=corpus,
        check=checks.integrity,
    ),
    Clause(
        id="C4",
        title="Divergence report",
        profile=CORE,
        level=MUST,
        statement=(
            "The message ends with ` (local=<bool>, synced from rank0=<bool>)` exactly on ranks other"
            " than 0 whose local `passed` differed from rank 0's; no other rank's message carries it."
        ),
        rationale="The suffix is how an operator sees that a rank was overruled; a false one is noise.",
        method="The suffix (exact wording) is checked on every returned result of the generated corpus.",
        requires=frozenset({SCRIPTED_GATES}),
        scenarios=corpus,
        check=checks.divergence_report,
    ),
    Clause(
        id="C5",
        title="Single process",
        profile=CORE,
        level=MUST,
        statement=(
            "Without an initialised process group (world size 1), the local gate result is returned as"
            " the very same object and no collective is attempted."
        ),
        rationale="The same code must run unchanged outside DDP, without touching torch.distributed.",
        method=(
            "At world size 1 with no process group (whatever world sizes the run covers): every collective"
            " of torch.distributed is counted, attempts included, and each returned result is compared by"
            " identity with the local one."
        ),
        requires=frozenset({SCRIPTED_GATES}),
        scenarios=lambda plan: families.single_process() if plan.first else [],
        check=checks.single_process,
    ),
    Clause(
        id="C6",
        title="Termination",
        profile=CORE,
        level=MUST,
        statement="Symmetric scenarios complete on every rank within the deadline, at every world size tried.",
        rationale="A lifecycle call that hangs or crashes a rank takes the whole job down.",
        method=(
            "Every rank must report the end of every generated scenario with all calls returned; a"
            " hang is reported with every rank's stack, a dead rank with its signal or exit code."
        ),
        requires=frozenset({SCRIPTED_GATES}),
        scenarios=corpus_and_real_gates,
        check=checks.termination,
    ),
    Clause(
        id="C7",
        title="Lifecycle transitions",
        profile=CORE,
        level=MUST,
        statement=(
            "advance_stage follows the transition table: an allowed gated target moves when its gate"
            " passes; a gated target the table forbids fails with `transition_failed`; a failure stage as"
            " target raises; a target no gate guards (UNKNOWN, DORMANT) never moves the slot, and either"
            " raises or fails (with `transition_failed` when the decision passed), the same way on every"
            " rank; no target takes the first non-failure target of the row; FOSSILIZED fails with"
            " `no_valid_transition`; an empty slot fails with `no_active_seed`; a failing gate never moves."
        ),
        rationale=(
            "The stage values and transitions are a serialised contract other components rely on. Where"
            " upstream versions differ (an ungated target raising before any collective, or refused after"
            " one round), both are accepted: each is deterministic and identical on every rank."
        ),
        method=(
            "Every explicit target (all ten stages) from every gate-reachable stage, each default"
            " target, a failing gate from each stage and an empty slot, at world sizes 1 and 2 (or the"
            " smallest size of the run)."
        ),
        requires=frozenset({SCRIPTED_GATES}),
        scenarios=_small(families.lifecycle),
        check=checks.lifecycle,
    ),
    Clause(
        id="C8",
        title="Prune and cool-down",
        profile=CORE,
        level=MUST,
        statement=(
            "prune() moves a seed in GERMINATED, TRAINING, BLENDING or HOLDING to PRUNED and leaves a"
            " FOSSILIZED one alone; the epoch clock then takes it through EMBARGOED and RESETTING to an"
            " empty (or DORMANT) slot, which can germinate again."
        ),
        rationale="A slot that never leaves its cool-down is lost capacity; one that skips it reuses state.",
        method=(
            "Prune from each stage, then forty epoch ticks (any embargo up to that long passes) and a new"
            " germination, at world sizes 1 and 2"
            " (or the smallest size of the run)."
        ),
        requires=frozenset({SCRIPTED_GATES, PRUNE, EPOCH_CLOCK}),
        scenarios=_small(families.cooldown),
        check=checks.cooldown,
    ),
    Clause(
        id="S1",
        title="Slot and order safety",
        profile=STRICT,
        level=MUST,
        statement=(
            "When ranks advance different slots, or the same slots in a different order, no rank applies"
            " a decision made for another call, and at least one rank fails fast at that call with an"
            " error naming the slot."
        ),
        rationale=(
            "Upstream relies on every rank calling in the same order; when that breaks, a rank silently"
            " receives another slot's decision."
        ),
        method=(
            "Asymmetric scenarios: the odd rank advances another slot, rank 0 alone advances another"
            " slot, two slots in swapped order. Every returned result is traced to the rank and call"
            " that decided it. A rank still waiting at a later call is allowed: rank 0 learns of a"
            " mismatch at its next collective."
        ),
        requires=frozenset({SCRIPTED_GATES}),
        scenarios=lambda plan: families.slot_mismatch(plan.world_size),
        check=checks.disagreement_safety,
    ),
    Clause(
        id="S2",
        title="Early-exit disagreement",
        profile=STRICT,
        level=MUST,
        statement=(
            "When ranks disagree about whether a seed is active or can advance, a rank raises a clear"
            " error at that call, no rank applies a decision made for another state, and no rank waits"
            " at that call for a round the others never join."
        ),
        rationale=(
            "An early return before the collective leaves one rank waiting in a round the others never"
            " join (a deadlock), or pairs it with a later, unrelated call."
        ),
        method=(
            "A seed on some ranks only (the odd rank, or rank 0, lacks it), with and without later calls,"
            " and with `prune` a seed pruned on the odd rank only; checked as S1."
        ),
        requires=frozenset({SCRIPTED_GATES}),
        scenarios=lambda plan: families.early_exit(plan.world_size, PRUNE in plan.capabilities),
        check=checks.disagreement_safety,
    ),
    Clause(
        id="S3",
        title="Side effects",
        profile=STRICT,
        level=MUST,
        statement=(
            "What a transition does besides the stage (alpha schedule, alpha, epoch and call counters) is"
            " identical on every rank."
        ),
        rationale="Alpha drives the forward pass: ranks blending at different alphas compute different models.",
        method="The full slot snapshot after every call of the generated corpus is compared across ranks.",
        requires=frozenset({SCRIPTED_GATES, SIDE_EFFECTS}),
        scenarios=distributed_corpus,
        check=checks.side_effects,
    ),
    Clause(
        id="S4",
        title="Collective symmetry",
        profile=STRICT,
        level=MUST,
        statement=(
            "Every rank takes part in the same sync rounds, in the same order, for the same calls (same"
            " collective, group, source or root, tensor sizes and dtypes), including calls where ranks"
            " disagree about the seed."
        ),
        rationale="A collective one rank skips pairs with the next unrelated one, or deadlocks.",
        method=(
            "Every torch.distributed collective a rank enters is fingerprinted in order per call (op, group,"
            " position, source or root, reduction, tensor sizes and dtypes, an object broadcast's payload"
            " size) and the sequences are compared across ranks, over the generated corpus and the"
            " early-exit scenarios of S2."
        ),
        requires=frozenset({SCRIPTED_GATES}),
        scenarios=lambda plan: (
            distributed_corpus(plan) + families.early_exit(plan.world_size, PRUNE in plan.capabilities)
        ),
        check=checks.collective_symmetry,
    ),
    Clause(
        id="D1",
        title="Model completion",
        profile=DDP,
        level=MUST,
        statement=(
            "A host network built from every slot's module, wrapped in DistributedDataParallel and rebuilt"
            " whenever its parameters change, is built and takes one training step on every rank after"
            " every call all ranks make: the ranks never hold different parameter sets."
        ),
        rationale=(
            "Ranks whose lifecycles diverge hold different architectures; DDP then fails inside gloo or hangs,"
            " far from the decision that caused it."
        ),
        method=(
            "Lifecycles where rank 0 alone decides to blend, to fossilize before a prune, and a seed regrown"
            " from another blueprint; before each step the ranks exchange a digest of their parameter names"
            " and shapes, so a mismatch is reported with each rank's parameters instead of crashing gloo. At"
            " world size 1 the plain module is trained, without DDP."
        ),
        requires=frozenset({SCRIPTED_GATES, MODULE}),
        scenarios=lambda plan: model_families.lifecycle(plan.world_size),
        check=model_checks.completion,
    ),
    Clause(
        id="D2",
        title="Model identity",
        profile=DDP,
        level=MUST,
        statement=(
            "After every training step, every parameter and buffer of the host network and its output on a"
            " fixed probe batch are bitwise identical on every rank."
        ),
        rationale=(
            "DDP keeps parameters identical by averaging gradients, so ranks blending a seed at different"
            " alphas train silently different models with the same parameters."
        ),
        method=(
            "The scenarios of D1; each rank records a digest of every parameter, buffer and the probe output"
            " after each step, compared across ranks, with the first differing tensor's values in evidence."
        ),
        requires=frozenset({SCRIPTED_GATES, MODULE}),
        scenarios=lambda plan: model_families.lifecycle(plan.world_size),
        check=model_checks.identity,
    ),
    Clause(
        id="D3",
        title="Model under divergence",
        profile=DDP,
        level=MUST,
        statement="Under random call sequences with divergent per-rank gate decisions, D1 and D2 both hold.",
        rationale="The hand-written lifecycles cover the known harms; random ones find the paths nobody wrote.",
        method=(
            f"The first {model_families.MODEL_CORPUS} scenarios of the generated corpus at each world size,"
            " with the host network trained after every call."
        ),
        requires=frozenset({SCRIPTED_GATES, MODULE}),
        scenarios=lambda plan: model_families.with_model(corpus(plan), EPOCH_CLOCK in plan.capabilities),
        check=model_checks.model,
    ),
)

BY_ID = {clause.id: clause for clause in REGISTRY}


def select(profile: str) -> list[Clause]:
    """The clauses of `profile` ("core", "strict", "ddp" or "all")."""
    return [c for c in REGISTRY if profile == "all" or c.profile == profile]

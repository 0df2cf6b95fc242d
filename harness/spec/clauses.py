"""The registry of clauses: the single source of truth for SPEC.md, the certificate and the pytest route.

A clause's ID never changes once published; its title and wording may be clarified. Each clause
names the adapter capabilities it needs (without them it is `not_claimed`), the scenario families
it is checked with at a given world size, and the check that reads each scenario's result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..rankside.adapter import CHECKPOINT, EPOCH_CLOCK, METRICS, MODULE, PRUNE, SCRIPTED_GATES, SIDE_EFFECTS
from ..records.ddp_configs import CONFIGS, DEFAULTS, FIND_UNUSED, STATIC_GRAPH, UNDECLARED
from ..records.profiles import ALL, CORE, DDP, RESUME, STRICT
from ..records.report import ScenarioResult
from ..records.scenario import Scenario
from ..worlds.world import DEAD_PEER_MARGIN_S
from .judge import checks, model_checks, resume_checks
from .judge.checks import Judgement
from .scenarios import families, misalign, model_families, propagation, resume_families

MUST = "MUST"
RANDOM_D3_UP_TO = 2  # D3's generated scenarios run up to this world size; the systematic ones at every size
SHOULD = "SHOULD"

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
    ddp_configs: tuple[str, ...] = UNDECLARED

    @property
    def first(self) -> bool:
        return self.world_size == self.world_sizes[0]

    @property
    def small(self) -> bool:
        """World sizes 1 and 2, or the smallest requested when neither is: where C7 and C8 run."""
        return self.world_size <= 2 or (min(self.world_sizes) > 2 and self.world_size == min(self.world_sizes))

    @property
    def smallest_distributed(self) -> bool:
        """The smallest requested world size above 1: where every DDP setting acts as at any larger one."""
        distributed = [size for size in self.world_sizes if size > 1]
        return bool(distributed) and self.world_size == min(distributed)

    def matrix(self, configs: tuple[str, ...]) -> tuple[str, ...]:
        """Of `configs`, those the stage tour trains under at this world size: all at the smallest one
        above 1 (every setting acts there as at any larger one), and at world size 1, where no DDP is
        built, those whose graph rules the host checks (defaults, static_graph); none elsewhere."""
        if self.smallest_distributed:
            return configs
        if self.world_size == 1:
            return tuple(c for c in configs if c in (DEFAULTS, STATIC_GRAPH))
        return ()

    @property
    def primary(self) -> str:
        """The declared configuration D3 and the larger world sizes train under: find_unused_parameters
        when declared (it tolerates every graph, so D3 judges divergence alone), else the first."""
        return FIND_UNUSED if FIND_UNUSED in self.ddp_configs else self.ddp_configs[0]

    @property
    def undeclared(self) -> tuple[str, ...]:
        return tuple(name for name in CONFIGS if name not in self.ddp_configs)


def corpus(plan: Plan) -> list[Scenario]:
    """The generated corpus (random sequences, every payload, every divergence pattern), without the
    ops the adapter cannot perform."""
    scenarios = (
        families.generated(plan.world_size, plan.seed, plan.corpus)
        + families.payloads(plan.world_size)
        + _generated_payloads(plan)
        + families.divergence_matrix(plan.world_size)
    )
    missing = tuple(op for op, cap in (("prune", PRUNE), ("step_epoch", EPOCH_CLOCK)) if cap not in plan.capabilities)
    return families.generated_without(missing, scenarios) if missing else scenarios


def _generated_payloads(plan: Plan) -> list[Scenario]:
    """The generated payloads, shared out among the run's distributed world sizes (where a sync round
    carries them); at world size 1 only when the run has no other."""
    sharing = [size for size in plan.world_sizes if size > 1] or [plan.world_size]
    if plan.world_size not in sharing:
        return []
    return families.generated_payloads(plan.world_size, plan.seed, sharing.index(plan.world_size), len(sharing))


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
    not_claimed: Callable[[Plan], str] | None = None


def declared_lifecycles(plan: Plan) -> list[Scenario]:
    """D1's lifecycles under the primary DDP configuration (`lifecycles_here`), and the stage tour under
    every other declared one (`Plan.matrix`): under the primary one the lifecycles and D3 train already."""
    tour = [model_families.stage_tour(plan.world_size)]
    secondary = tuple(config for config in plan.ddp_configs if config != plan.primary)
    others = [s for config in plan.matrix(secondary) for s in model_families.under(config, tour)]
    lifecycles = model_families.lifecycle(plan.world_size) if lifecycles_here(plan) else []
    return model_families.under(plan.primary, lifecycles) + others


def lifecycles_here(plan: Plan) -> bool:
    """D1's hand-written lifecycles run at world size 1 and at the smallest one above 1. At a larger one,
    D3's walk under their dissent pattern (rank 0 alone against the others) takes each decision they take,
    both ways, with the same blueprints and under the same configuration, judged by D1's and D2's checks;
    the lifecycles prune and tick whatever the adapter declares, so an adapter that passes them has both."""
    return plan.world_size == 1 or plan.smallest_distributed


def undeclared_lifecycles(plan: Plan) -> list[Scenario]:
    tour = [model_families.stage_tour(plan.world_size)]
    return [s for config in plan.matrix(plan.undeclared) for s in model_families.under(config, tour)]


def _divergence(plan: Plan) -> list[Scenario]:
    """D3's systematic scenarios, then (up to `RANDOM_D3_UP_TO` ranks, where a step costs least) the
    generated ones, under the primary configuration."""
    epoch_clock = EPOCH_CLOCK in plan.capabilities
    systematic = model_families.divergence(plan.world_size, epoch_clock, PRUNE in plan.capabilities)
    generated = model_families.with_model(corpus(plan), epoch_clock) if plan.world_size <= RANDOM_D3_UP_TO else []
    return model_families.under(plan.primary, systematic + generated)


def _every_configuration_declared(plan: Plan) -> str:
    return "the adapter declares every DDP configuration; D1-D3 check each" if not plan.undeclared else ""


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
            f"Prune from each stage, then {families.COOLDOWN_TICKS} epoch ticks (any embargo of up to"
            f" {families.MAX_EMBARGO_EPOCHS} epochs passes) and a new germination, at world sizes 1 and 2"
            " (or the smallest size of the run)."
        ),
        requires=frozenset({SCRIPTED_GATES, PRUNE, EPOCH_CLOCK}),
        scenarios=_small(families.cooldown),
        check=checks.cooldown,
    ),
    Clause(
        id="C9",
        title="Failure propagation",
        profile=CORE,
        level=MUST,
        statement=(
            "When one rank raises, exits or is killed inside a gate round, every other rank's pending call"
            " ends within the process group's timeout, either with an error (not a crash of its own error"
            " handling) that leaves the slot where it was, or with rank 0's decision; no rank keeps waiting,"
            " and none applies a decision rank 0 never made or its own local one."
        ),
        rationale=(
            "A training job whose rank fails must stop on every rank with an error it can report; a rank"
            " that waits forever hides the failure, one that applies its own decision trains another"
            " architecture than the others, and an error handler that crashes (an AttributeError while"
            " handling the collective's error) replaces the cause with a bug."
        ),
        method=(
            "One scenario per fault, at world size 2 for the first two and 3 for the last (or all at the"
            " smallest distributed size of the run): a rank raises in its gate evaluation and then ends its"
            " process, exits, or is killed by SIGKILL, at the slot's first advance. The dead rank is rank 1,"
            " 0 and 1 in turn at world size 2 and rank 0 at larger sizes, the rank every survivor waits"
            " for (a dead receiver at a larger size may leave the others waiting out the process group's"
            " timeout for a second round, which is allowed but slow to judge). Rank 0, when alive, decides"
            " `passed=False`; every other survivor's gate passes. From the death on, each survivor has the"
            " process group's timeout"
            f" and {DEAD_PEER_MARGIN_S:g}s more to report its call (no deadlock or stall is declared"
            " earlier; a survivor whose call has ended in a failed collective is then ended, as a training"
            " job's process would end on that error, so one waiting on it learns at once): an error of"
            " any class that leaves the slot where it was passes, unless it is one"
            f" of Python's own programming errors ({', '.join(sorted(propagation.PROGRAMMING_ERRORS))}),"
            " a crash of the error path; a returned result must be rank 0's decision (none exists when"
            " rank 0 died); a survivor whose process ends too fails."
        ),
        requires=frozenset({SCRIPTED_GATES}),
        scenarios=lambda plan: propagation.scenarios(plan.world_size, plan.world_sizes),
        check=propagation.propagation,
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
            f"Generated misalignments, at every world size from 2: symmetric base sequences of"
            f" {misalign.BASE_LENGTH} advances after both slots germinate, each call targeting its slot's"
            " next stage explicitly (one slot whose first gate fails; two slots whose gates pass; above"
            " world size 2, the two-slot one only). At every position, one deviation on rank 0, on the last"
            " rank or (from world size 3) on every rank but 0, in turn: an extra call (a retry of the call"
            " before, or a call of the other slot), a dropped call, two adjacent calls swapped, another"
            " target, another slot. A case is kept when every rank makes a call where the ranks' calls first"
            " differ (a rank with only one call more at the end cannot be told from a slow one); every"
            " rank's sequence ends at that call, and cases that are the same there are judged once. The"
            " certificate's misalignment coverage lists the kinds and positions judged. Also by hand: the"
            " odd rank advances another slot, rank 0 alone advances another slot, two slots in swapped"
            " order. Every returned result is traced to the rank and call that decided it. A rank still"
            " waiting at a later call is allowed: rank 0 learns of a mismatch at its next collective."
        ),
        requires=frozenset({SCRIPTED_GATES}),
        scenarios=lambda plan: misalign.s1(plan.world_size) + families.slot_mismatch(plan.world_size),
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
            "Generated: before the first call of each slot of the two-slot base sequence of S1, the seed"
            " is missing (and, with `prune`, pruned) on rank 0, on the last rank or (from world size 3) on"
            " every rank but 0, the call targeting the next stage explicitly. By hand: a seed on some ranks"
            " only (the odd rank, or rank 0, lacks it), with and without later calls, and with `prune` a"
            " seed pruned on the odd rank only; checked as S1."
        ),
        requires=frozenset({SCRIPTED_GATES}),
        scenarios=lambda plan: (
            misalign.s2(plan.world_size, PRUNE in plan.capabilities)
            + families.early_exit(plan.world_size, PRUNE in plan.capabilities)
        ),
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
        id="S5",
        title="Failure report",
        profile=STRICT,
        level=MUST,
        statement=(
            "The error a rank's pending call ends with, when a peer fails inside the gate round (C9), names"
            " the slot and the stage the call was to reach."
        ),
        rationale=(
            "gloo's own error names a socket, not the call: with several slots and a job of thousands of"
            " steps, an operator needs to know which lifecycle call the failure cut short."
        ),
        method=(
            "C9's scenarios: every survivor's error message must contain the slot's name and the target"
            " stage's name (the default target, TRAINING), in any letter case; the error's class is free."
            " When no survivor's call raised in any of them (each returned rank 0's decision), there is no"
            " message to judge: the clause is not_exercised."
        ),
        requires=frozenset({SCRIPTED_GATES}),
        scenarios=lambda plan: propagation.scenarios(plan.world_size, plan.world_sizes),
        check=propagation.failure_report,
    ),
    Clause(
        id="D1",
        title="Model completion",
        profile=DDP,
        level=MUST,
        statement=(
            "A host network built from every slot's module, wrapped in DistributedDataParallel under each"
            " configuration the adapter declares (find_unused_parameters=True when it declares none) and rebuilt"
            " whenever its parameters change (under static_graph, whenever a stage changes), is built and takes"
            " one training step on every rank after"
            " every call all ranks make: the ranks never hold different parameter sets."
        ),
        rationale=(
            "Ranks whose lifecycles diverge hold different architectures; DDP then fails inside gloo or hangs,"
            " far from the decision that caused it."
        ),
        method=(
            "Lifecycles where rank 0 alone decides to blend, to fossilize before a prune, and a seed regrown"
            f" from another blueprint once the epoch clock has emptied its slot (ticked until the slot is empty,"
            f" up to {families.COOLDOWN_TICKS} ticks: any embargo of up to {families.MAX_EMBARGO_EPOCHS} epochs"
            " passes); before each step the ranks exchange a digest of their parameter names"
            " and shapes, so a mismatch is reported with each rank's parameters instead of crashing gloo. At"
            " world size 1 the plain module is trained, without DDP. These train under the primary configuration"
            " (find_unused_parameters when declared, else the first declared in the matrix's order), at world"
            " size 1 and at the smallest world size above 1; at a larger one D3's walk under their dissent"
            " pattern (rank 0 alone against the others) takes each of their decisions both ways and is judged"
            " by these checks."
            " A tour of every stage trains under each other declared configuration at the smallest"
            " world size above 1 (and at world size 1 under defaults and static_graph, whose graph rules the"
            " host checks on the plain module)."
        ),
        requires=frozenset({SCRIPTED_GATES, MODULE}),
        scenarios=declared_lifecycles,
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
        scenarios=declared_lifecycles,
        check=model_checks.identity,
    ),
    Clause(
        id="D3",
        title="Model under divergence",
        profile=DDP,
        level=MUST,
        statement=(
            "Under every kind of step that changes the module, with per-rank gate decisions divergent in every"
            " pattern that matters at the world size, and under random call sequences, D1 and D2 both hold."
        ),
        rationale=(
            "The hand-written lifecycles cover the known harms at one moment each; every step under every"
            " dissent pattern covers the rest, whatever a random draw picks, and random sequences find the"
            " paths nobody wrote."
        ),
        method=(
            "At each world size, one scenario per dissent pattern (rank 0 alone against the others, the last"
            " rank alone, from four ranks the upper half against the lower): every forward step, by default and"
            " by named target, and the backward step HOLDING -> BLENDING, each with rank 0 failing and passing"
            " against the dissenters, and a forbidden gated target that rank 0 passes; one epoch tick into the"
            " blend, prunes that show which seeds survived and a regrow once the clock has emptied the slot."
            f" Up to {RANDOM_D3_UP_TO} ranks, also the first generated scenario (seeded). The host network is"
            " trained after every call, under the primary DDP configuration (find_unused_parameters when"
            " declared)."
        ),
        requires=frozenset({SCRIPTED_GATES, MODULE}),
        scenarios=_divergence,
        check=model_checks.model,
    ),
    Clause(
        id="D4",
        title="DDP configuration compatibility",
        profile=DDP,
        level=SHOULD,
        statement=(
            "Under every DDP configuration of the matrix the adapter does not declare, D1 and D2 hold too: every"
            " trainable parameter gets a gradient in every stage (DDP's defaults), the parameters used change"
            " only with a stage (static_graph), and gradient_as_bucket_view or broadcast_buffers=False change"
            " nothing."
        ),
        rationale=(
            "A training loop picks its DDP configuration before any seed exists; a module that trains only under"
            " find_unused_parameters=True fails the loops that keep DDP's defaults, at the second step."
        ),
        method=(
            "D1's tour of every stage under each configuration the adapter does not declare, at the smallest"
            " world size above 1 (and at world size 1 under defaults and static_graph); a step that leaves a"
            " parameter without a gradient is reported with its stage and the parameter names."
        ),
        requires=frozenset({SCRIPTED_GATES, MODULE}),
        scenarios=undeclared_lifecycles,
        check=model_checks.model,
        not_claimed=_every_configuration_declared,
    ),
)


def _round_trip(plan: Plan) -> list[Scenario]:
    return resume_families.round_trip(plan.world_size, MODULE in plan.capabilities) if plan.first else []


def _under_ddp(plan: Plan) -> list[Scenario]:
    return resume_families.under_ddp(plan.world_size, MODULE in plan.capabilities)


RESUME_CLAUSES: tuple[Clause, ...] = (
    Clause(
        id="R1",
        title="Round trip",
        profile=RESUME,
        level=MUST,
        statement=(
            "At every point of a lifecycle (an empty slot, every stage, mid-blend, mid-embargo, after a regrow),"
            " a checkpoint restored into a fresh slot gives the same snapshot and, with `module`, bitwise the"
            " same parameters, buffers and output on a probe batch."
        ),
        rationale=(
            "A restarted job continues from what it restored: a stage, counter or weight the checkpoint left"
            " out, or a seed module missing when its weights load, silently changes the model."
        ),
        method=(
            "The lifecycles of D1 with every slot checkpointed and restored at the start and after every call,"
            " the host network trained after each call (with `module`), at the first world size of the run."
            " The checkpoint travels through torch.save and torch.load(weights_only=True); the restored slot"
            " replaces the original."
        ),
        requires=frozenset({SCRIPTED_GATES, CHECKPOINT}),
        scenarios=_round_trip,
        check=resume_checks.round_trip,
    ),
    Clause(
        id="R2",
        title="Continue identically",
        profile=RESUME,
        level=MUST,
        statement=(
            "A slot restored from a checkpoint and the slot it was taken from, given the same remaining calls"
            " and the same per-rank decisions, go through the same stages with the same results and snapshots"
            " and, with `module`, the same module."
        ),
        rationale="A restore that looks right but resumes a schedule or counter from elsewhere diverges later.",
        method=(
            "Each slot of the D1 lifecycles has a twin that receives every call right after it; the twins are"
            f" restored from their own checkpoints every {resume_families.CONTINUE_EVERY} calls, and each call"
            " of a twin is compared with its original's (stage, gate and passed, snapshot without the slot's"
            " name, and the module digests of a final checkpoint), at world sizes 1 and 2 (or the smallest"
            " size of the run)."
        ),
        requires=frozenset({SCRIPTED_GATES, CHECKPOINT}),
        scenarios=lambda plan: resume_families.continued(plan.world_size) if plan.small else [],
        check=resume_checks.continued,
    ),
    Clause(
        id="R3",
        title="Resume under DDP",
        profile=RESUME,
        level=MUST,
        statement=(
            "When rank 0's checkpoint (or, where the ranks agree, each rank's own) is restored on every rank,"
            " every rank restores the same slot, and C1-C4 (with `module`, D1 and D2) hold for the rest of the"
            " lifecycle."
        ),
        rationale=(
            "A restarted DDP job restores one file on every rank; a rank-local value in it makes the other"
            " ranks believe they are rank 0, and the ranks diverge or hang after the restart."
        ),
        method=(
            "The D1 lifecycles at world sizes above 1 with every slot restored from rank 0's checkpoint early"
            " and half-way (the bytes broadcast from rank 0), and the blend with each rank's own checkpoint;"
            " the host network is rebuilt on the restored slots and trained after every call (with `module`)."
        ),
        requires=frozenset({SCRIPTED_GATES, CHECKPOINT}),
        scenarios=_under_ddp,
        check=resume_checks.under_ddp,
    ),
    Clause(
        id="R4",
        title="Weights only",
        profile=RESUME,
        level=MUST,
        statement=(
            "Every checkpoint loads with torch.load(weights_only=True): tensors, dicts, lists, str, int, float,"
            " bool and None only."
        ),
        rationale=(
            "weights_only=True is PyTorch's default since 2.6: a checkpoint holding any other type (an enum, a"
            " dataclass) cannot be loaded by a default training loop."
        ),
        method="Every checkpoint of R1 and R3; a refusal is reported with the refused type PyTorch names.",
        requires=frozenset({SCRIPTED_GATES, CHECKPOINT}),
        scenarios=lambda plan: _round_trip(plan) + _under_ddp(plan),
        check=resume_checks.weights_only,
    ),
    Clause(
        id="R5",
        title="Restart of the processes",
        profile=RESUME,
        level=MUST,
        statement=(
            "When every rank checkpoints, every rank process exits and a new world of the same size (fresh"
            " processes, process group and slots) restores rank 0's checkpoint on every rank, the rest of the"
            " lifecycle gives the same stages, results and snapshots as the run that went on uninterrupted and,"
            " with `module`, rank 0's parameters, buffers and probe output."
        ),
        rationale=(
            "An elastic restart keeps nothing but the checkpoint: state a slot keeps in its process (a class"
            " attribute, a module-level cache) survives a restore in the same process and is gone in a new one."
        ),
        method=(
            "The D1 lifecycles at the smallest world size above 1 (else the first), each with its world ended"
            " and a new one started at one point: before the first call, with a seed TRAINING, mid-blend,"
            " HOLDING, FOSSILIZED or mid-embargo. The checkpoint bytes travel in the harness's memory; each call"
            " after the restart is compared with the same call of the first world, which went on uninterrupted."
            " A launcher's world cannot be ended: there the clause is skipped. Where the ranks of the first"
            " world disagree (stage, decision or any field of the result rank 0 decided), the calls from there"
            " on are not judged, the reason naming that call: a history that is not one cannot show a restart's"
            " defect. A rank's module is compared"
            " with rank 0's only where the first world's rank held rank 0's module at that call: one that"
            " differed there without a restart (a buffer following the rank's own gate, which DDP's buffer"
            " broadcast evens out in training) differs after one too, and the restart is not its cause."
        ),
        requires=frozenset({SCRIPTED_GATES, CHECKPOINT}),
        scenarios=lambda plan: (
            resume_families.restarted(plan.world_size)
            if plan.world_size == resume_families.restart_size(plan.world_sizes)
            else []
        ),
        check=resume_checks.restarted,
    ),
)

REGISTRY = REGISTRY + RESUME_CLAUSES

BY_ID = {clause.id: clause for clause in REGISTRY}


def select(profile: str) -> list[Clause]:
    """The clauses of `profile` ("core", "strict", "ddp", "resume" or "all")."""
    return [c for c in REGISTRY if profile == ALL or c.profile == profile]

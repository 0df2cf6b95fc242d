"""The per-rank model host: DDP on gloo (plain at world size 1), rebuilds, mismatches, uncounted collectives."""

from __future__ import annotations

import dataclasses
import functools
import shlex
import subprocess
from pathlib import Path

import pytest
import torch

from harness import Op, Scenario, WorldPool
from harness.cli import commands
from harness.errors import AdapterLoadError, ScenarioError
from harness.rankside import model_host
from harness.rankside.collectives import CollectiveMonitor
from harness.rankside.model_host import DDP, PLAIN, made_by_every_rank
from harness.records.ddp_configs import (
    CONFIGS,
    DEFAULTS,
    FIND_UNUSED,
    MODEL_DEVICE_VARIABLE,
    STATIC_GRAPH,
    UNDECLARED,
    declared,
    device_for,
)
from harness.records.messages import (
    FAILED,
    GRAPH_CHANGED,
    MISMATCH,
    NO_GRADIENT,
    SKIPPED,
    TRAINED,
    CallRecord,
    ModelStep,
)
from harness.records.report import RankOutcome, ScenarioResult
from harness.records.statuses import RankStatus
from harness.spec.judge.model_checks import completion, identity
from harness.spec.scenarios.model_families import blend, fossilize_then_prune, regrow, stage_tour, under
from harness.worlds.env_world import EnvWorld
from reference_impl.adapter import Adapter

REFERENCE = "reference_impl.adapter:Adapter"
NO_SYNC = "tests.bad_impls.no_sync:Adapter"
UNUSED_WHILE_TRAINING = "tests.bad_impls.unused_while_training:Adapter"


@pytest.fixture(scope="module")
def pool():
    with WorldPool() as pool:
        yield pool


def steps(result, rank: int) -> list[ModelStep | None]:
    return [ModelStep.from_record(record) for record in result.outcomes[rank].records]


def test_harness_collectives_stay_out_of_the_counts_but_are_published_and_mark_failures():
    shared = [0, 0]
    monitor = CollectiveMonitor(shared, 0)
    broadcast = monitor._wrap("broadcast", lambda: None)
    broadcast()
    with monitor.harness_collectives():
        assert shared == [1, 2]
        broadcast()
        broadcast()
    assert monitor.take_counts() == {"broadcast": 1} and shared == [0, 2]
    with pytest.raises(RuntimeError), monitor.harness_collectives():
        raise RuntimeError("gloo timed out")
    assert monitor.failed and shared[0] == 0


def test_a_step_follows_only_calls_every_rank_made():
    setup = [Op("germinate", "a"), Op("advance", "a")]
    scenario = Scenario(
        "uneven", 2, ["a", "b"], [*setup, Op("advance", "a")], rank_ops={1: [*setup, Op("advance", "b")]}
    )
    assert [made_by_every_rank(scenario, i) for i in range(4)] == [True, True, False, False]
    subset = Scenario("subset", 2, ["a"], [Op("germinate", "a", ranks=[0]), Op("fault", fault={"kind": "sleep"})])
    assert not made_by_every_rank(subset, 0) and not made_by_every_rank(subset, 1)


def test_the_model_flag_survives_json():
    scenario = regrow(2)
    assert Scenario.from_json(scenario.to_json()).model
    assert "model" not in dataclasses.replace(scenario, model=False).to_dict()


def test_world_size_1_trains_the_plain_module_without_collectives(pool):
    result = pool.run(REFERENCE, regrow(1))
    assert result.ok, result.render()
    taken = steps(result, 0)
    assert all(step is not None and step.status == TRAINED and step.mode == PLAIN for step in taken)
    assert all(not record.collectives for record in result.outcomes[0].records)


def test_ddp_is_rebuilt_when_parameters_change_and_the_counts_stay_the_implementations(pool):
    scenario = regrow(2)
    result = pool.run(REFERENCE, scenario)
    assert result.ok, result.render()
    without_model = pool.run(REFERENCE, dataclasses.replace(scenario, name="regrow-no-model", model=False))
    for rank in (0, 1):
        taken = steps(result, rank)
        assert all(step is not None and step.status == TRAINED and step.mode == DDP for step in taken)
        rebuilt = [i for i, step in enumerate(taken) if step.built]
        germinate_again = next(i for i, op in enumerate(scenario.ops) if op.seed_id == "seed-c-again")
        assert rebuilt == [0, 1, 3, germinate_again], [op.op for op in scenario.ops]
        counted = [r.collectives for r in result.outcomes[rank].records]
        assert counted == [r.collectives for r in without_model.outcomes[rank].records]
    digests = [[step.digests for step in steps(result, rank)] for rank in (0, 1)]
    assert digests[0] == digests[1]


def test_different_parameter_sets_are_reported_per_rank_not_crashed_on(pool):
    scenario = fossilize_then_prune(2)
    prune = next(i for i, op in enumerate(scenario.ops) if op.op == "prune")
    result = pool.run(NO_SYNC, scenario)
    assert result.ok and not result.deadlock, result.render()
    at_prune = [steps(result, rank)[prune] for rank in (0, 1)]
    assert [step.status for step in at_prune] == [MISMATCH, MISMATCH]
    names = [{name for name, _, _ in step.params} for step in at_prune]
    assert any(name.startswith("slots.a.seed") for name in names[0] - names[1]) and not names[1] - names[0]
    later = [step for rank in (0, 1) for step in steps(result, rank)[prune + 1 :]]
    assert later and all(step.status == SKIPPED and "differed" in step.reason for step in later)


def test_a_launchers_world_runs_the_model_on_nccl_as_on_gloo():
    world = EnvWorld.__new__(EnvWorld)
    world.size = 2
    for backend in ("nccl", "gloo"):
        world.backend = backend
        assert world._skip_reason(regrow(2)) is None
    assert "world size" in world._skip_reason(regrow(3))


@pytest.mark.parametrize(
    ("backend", "local_rank", "wanted", "device"),
    [
        ("nccl", 1, None, "cuda:1"),
        ("nccl", 0, None, "cuda:0"),
        ("gloo", 1, None, "cpu"),
        ("gloo", 1, "cuda", "cuda:1"),
        (None, 0, None, "cpu"),
    ],
)
def test_the_device_follows_the_backend(backend, local_rank, wanted, device):
    assert device_for(backend, local_rank, wanted) == torch.device(device)


@pytest.mark.parametrize(
    ("backend", "local_rank", "wanted", "device"),
    [
        ("nccl", "1", None, "cuda:1"),
        ("nccl", "0", None, "cuda:0"),
        ("gloo", "1", None, "cpu"),
        ("gloo", "1", "cuda", "cuda:1"),
        (None, "1", None, "cpu"),
    ],
)
def test_the_model_host_places_the_model_where_the_process_group_backend_needs_it(
    monkeypatch, backend, local_rank, wanted, device
):
    """What `ModelHost` trains on, without a GPU: the backend is read from the process group whenever one
    is initialised (world size 1 under NCCL included), LOCAL_RANK picks the CUDA device."""
    monkeypatch.setattr(model_host.dist, "is_initialized", lambda: backend is not None)
    monkeypatch.setattr(model_host.dist, "get_backend", lambda: backend)
    monkeypatch.setenv("LOCAL_RANK", local_rank)
    if wanted is None:
        monkeypatch.delenv(MODEL_DEVICE_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(MODEL_DEVICE_VARIABLE, wanted)
    assert model_host.model_device() == torch.device(device)


GPU_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "gpu_check.sh"


def _gpu_script_runs() -> list[tuple[dict[str, str], list[str]]]:
    """Each torchrun of the GPU script: its environment assignments and the arguments after `-m harness`."""
    text = GPU_SCRIPT.read_text().replace("\\\n", " ")
    values = {"$IMPL": "reference_impl.adapter:Adapter", "$OUT": "gpu-check"}
    runs = []
    for line in text.splitlines():
        words = shlex.split(line) if " run --nproc-per-node" in f" {line}" else []
        if not words:
            continue
        split = words.index("run")
        env = dict(word.split("=", 1) for word in words[:split])
        argv = [functools.reduce(lambda w, kv: w.replace(*kv), values.items(), w) for w in words[split + 1 :]]
        runs.append((env, argv[argv.index("harness") + 1 :]))
    return runs


def test_the_gpu_script_asks_the_command_line_for_what_it_has():
    """The GPU script cannot run here: its commands are read against the parser instead, with the device each
    run's backend and variable give rank 0 (NCCL's at world size 1 too, gloo's with CUDA tensors)."""
    runs = _gpu_script_runs()
    assert len(runs) == 4
    devices = []
    for env, argv in runs:
        args = commands._parser().parse_args(argv)
        assert (args.command, args.launcher, args.impl) == ("certify", "env", "reference_impl.adapter:Adapter")
        devices.append(str(device_for(args.backend, 0, env.get(MODEL_DEVICE_VARIABLE))))
    assert devices == ["cuda:0", "cuda:0", "cuda:0", "cpu"]


def test_the_gpu_script_stops_on_one_line_without_a_gpu():
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device: the script would run its checks")
    done = subprocess.run(["bash", str(GPU_SCRIPT)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == "", done.stdout + done.stderr
    assert done.stderr.startswith("gpu_check.sh: no CUDA device visible") and done.stderr.count("\n") == 1


def test_the_ddp_configuration_survives_json_and_an_unknown_one_is_one_line():
    scenario = under(STATIC_GRAPH, [regrow(2)])[0]
    assert Scenario.from_json(scenario.to_json()).ddp == STATIC_GRAPH and scenario.name.endswith("-static-graph")
    assert "ddp" not in regrow(2).to_dict() and under(FIND_UNUSED, [regrow(2)])[0].name == regrow(2).name
    with pytest.raises(ScenarioError, match="ddp must be one of defaults, find_unused_parameters"):
        Scenario.from_dict({**regrow(2).to_dict(), "ddp": "fast"})


def test_an_adapter_declares_configurations_or_is_judged_under_find_unused_parameters():
    assert declared(object()) == UNDECLARED == (FIND_UNUSED,)
    assert declared(Adapter()) == tuple(CONFIGS)
    assert declared(type("A", (), {"ddp_configurations": {STATIC_GRAPH, DEFAULTS}})) == (DEFAULTS, STATIC_GRAPH)
    for bad in ("defaults", {"fast"}, set()):
        with pytest.raises(AdapterLoadError, match="ddp_configurations"):
            declared(type("A", (), {"ddp_configurations": bad}))


def test_defaults_stop_at_a_parameter_without_gradient_and_static_graph_rebuilds_at_stage_changes(pool):
    scenario = under(DEFAULTS, [blend(2)])[0]
    result = pool.run(UNUSED_WHILE_TRAINING, scenario)
    assert result.ok, result.render()
    first = [steps(result, rank)[0] for rank in (0, 1)]
    assert [step.status for step in first] == [NO_GRADIENT, NO_GRADIENT]
    assert first[0].ungraded == ["slots.a.seed.0.weight", "slots.a.seed.0.bias"]
    assert first[0].stages["a"] == "GERMINATED"
    assert all(step.status == SKIPPED for step in steps(result, 0)[1:])
    result = pool.run(REFERENCE, under(STATIC_GRAPH, [blend(2)])[0])
    assert result.ok, result.render()
    taken = steps(result, 0)
    assert all(step.status == TRAINED and not step.ungraded for step in taken)
    stage_changed = [i for i, step in enumerate(taken) if i == 0 or step.stages != taken[i - 1].stages]
    assert [i for i, step in enumerate(taken) if step.built] == stage_changed


def test_static_graph_rebuilds_at_every_stage_of_the_tour_again_and_again_in_one_world(pool):
    """The stage tour rebuilds DDP on the same network at each stage change; in one warm world, run
    after run, every step trains and the ranks stay identical: no rebuild waits on an earlier one."""
    scenario = under(STATIC_GRAPH, [stage_tour(2)])[0]
    for _ in range(3):
        result = pool.run(REFERENCE, scenario)
        assert result.ok, result.render()
        taken = [steps(result, rank) for rank in (0, 1)]
        assert all(step is not None and step.status == TRAINED for step in taken[0] + taken[1])
        rebuilt = [i for i, step in enumerate(taken[0]) if step.built]
        assert len(rebuilt) > 4 and rebuilt == [i for i, step in enumerate(taken[1]) if step.built]
        assert [step.digests for step in taken[0]] == [step.digests for step in taken[1]]


def synthetic(
    steps_per_rank: list[list[ModelStep]], stacks: tuple[str, str] = ("", ""), ddp: str = FIND_UNUSED
) -> ScenarioResult:
    """A two-rank result whose every call is a step_epoch with the given model steps."""
    ops = [Op("step_epoch", "a") for _ in steps_per_rank[0]]
    scenario = Scenario("synthetic", 2, ["a"], ops, model=True, ddp=ddp)
    outcomes = []
    for rank, taken in enumerate(steps_per_rank):
        records = [
            CallRecord(i, "step_epoch", "a", None, snapshot={"stage": 4, "alpha": 0.5}, model=step.to_record())
            for i, step in enumerate(taken)
        ]
        outcomes.append(RankOutcome(rank=rank, status=RankStatus.OK, records=records, stack=stacks[rank]))
    return ScenarioResult(scenario, outcomes, 0.0)


UNDER = "under DistributedDataParallel(model, find_unused_parameters=True)"


def trained(weight: str, output: str) -> ModelStep:
    digests = {"stem.weight": "s", "slots.a.seed.0.weight": weight, "probe output": output}
    heads = {name: [float(len(value))] for name, value in digests.items()}
    return ModelStep(TRAINED, DDP, params=[["stem.weight", [8, 6], True]], digests=digests, heads=heads)


def test_identity_names_the_first_differing_tensor_and_the_call():
    same = trained("w", "o")
    result = synthetic([[same, trained("w", "o"), trained("w", "o")], [same, trained("w", "x"), trained("vv", "x")]])
    first, second = map(str, identity(result).violations)
    assert first.startswith(f"call #1 step_epoch 'a' {UNDER}: every parameter and buffer is identical, but the probe")
    assert second.startswith(
        f"call #2 step_epoch 'a' {UNDER}: 1 parameters/buffers differ across ranks (slots.a.seed.0.weight), first"
    )
    assert "'slots.a.seed.0.weight': rank 0 [1.0]; rank 1 [2.0]" in second and "BLENDING alpha 0.5" in second
    assert completion(result).violations == [] and completion(result).judged == 3


def test_completion_reports_mismatches_failures_and_a_rank_stuck_in_the_model():
    mine = ModelStep(MISMATCH, DDP, params=[["stem.weight", [8, 6], True], ["slots.a.seed.0.weight", [8, 8], True]])
    theirs = ModelStep(MISMATCH, DDP, params=[["stem.weight", [8, 6], True]])
    error = {"type": "RuntimeError", "message": "Connection closed by peer"}
    failed = ModelStep(FAILED, DDP, error=error)
    stuck = 'File "/x/harness/model_host.py", line 190 in after_call'
    result = synthetic([[mine, failed], [theirs, trained("w", "o")]], stacks=("", stuck))
    result.outcomes[1].status = RankStatus.HUNG
    violations = [str(v) for v in completion(result).violations]
    assert violations[0] == (
        f"call #0 step_epoch 'a' {UNDER}: the ranks hold different parameter sets, on which DDP cannot be built:"
        " rank 0 2 parameters, only it: slots.a.seed.0.weight [8, 8]; rank 1 1 parameters"
    )
    raised = "rank 0's model step raised RuntimeError: Connection closed by peer"
    assert violations[1] == f"call #1 step_epoch 'a' {UNDER}: {raised}"
    assert violations[2].startswith("rank 1 hung in the model step")


def test_a_rank_waiting_in_the_model_step_for_a_peer_that_left_is_not_a_model_violation():
    """The peer raised at an earlier call and left: the wait is the termination clauses' to judge. A peer
    that left at the same call or later does not excuse it."""
    stuck = 'File "/x/harness/model_host.py", line 190 in after_call'
    step = trained("w", "o")
    for left_after, excused in ((1, True), (2, False)):
        result = synthetic([[step, step], [step, step]], stacks=("", stuck))
        result.outcomes[0].status, result.outcomes[0].records = (
            RankStatus.RAISED,
            result.outcomes[0].records[:left_after],
        )
        result.outcomes[1].status, result.outcomes[1].records = RankStatus.HUNG, result.outcomes[1].records[:1]
        judgement = completion(result)
        kinds = [v.kind for v in judgement.violations]
        assert ("hung_in_model_step" in kinds) is not excused, kinds
        assert judgement.unjudged >= int(excused)


def test_a_step_the_configuration_refuses_names_the_stage_the_parameters_and_the_remedy():
    seed = ["slots.a.seed.0.weight", "slots.a.seed.0.bias"]
    unused = ModelStep(NO_GRADIENT, DDP, config=DEFAULTS, ungraded=seed, stages={"a": "TRAINING"})
    (violation,) = completion(synthetic([[unused], [unused]], ddp=DEFAULTS)).violations
    assert violation.kind == "parameters_without_gradient"
    assert str(violation) == (
        "call #0 step_epoch 'a' under DistributedDataParallel(model): stage TRAINING of slot 'a' leaves"
        " slots.a.seed.0.weight, slots.a.seed.0.bias without a gradient, which DDP's defaults"
        " (find_unused_parameters=False) refuse in the next step: train with find_unused_parameters=True, or give"
        " the seed a gradient path in that stage (e.g. straight-through: x + (seed(x) - seed(x).detach()))"
    )
    changed = ModelStep(GRAPH_CHANGED, DDP, config=STATIC_GRAPH, used_before=seed, stages={"a": "BLENDING"})
    (violation,) = completion(synthetic([[changed], [changed]], ddp=STATIC_GRAPH)).violations
    assert violation.kind == "graph_changed_in_stage"
    assert "static_graph=True): the parameters without a gradient changed while no slot changed stage" in str(violation)
    assert "(a BLENDING): slots.a.seed.0.weight, slots.a.seed.0.bias before, none now" in str(violation)

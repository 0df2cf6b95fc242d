"""What the forkserver preloads follows what the run trains: a run that trains no host network skips the
model module's imports (two seconds of torch._dynamo), and a model scenario still runs in its worlds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from harness.records.profiles import ALL, PROFILES, TRAINING
from harness.spec.clauses import REGISTRY
from harness.spec.implementation import describe_implementation
from harness.spec.runner import ClauseRunner
from harness.testing import runs_worlds
from harness.worlds import preload

ROOT = Path(__file__).resolve().parent.parent

MODEL_SCENARIO_WITHOUT_PRELOADED_MODELS = """
import multiprocess.forkserver
from harness import WorldPool
from harness.spec.scenarios.model_families import stage_tour
from harness.worlds import preload
preload.start_forkserver(models=False)
assert preload.MODEL_PRELOAD[0] not in preload.forkserver_preload()
with WorldPool() as pool:
    result = pool.run("reference_impl.adapter:Adapter", stage_tour(2))
print(result.ok, len(result.outcomes[0].records))
"""


def test_the_profiles_said_to_train_are_exactly_those_whose_scenarios_train_a_model():
    runner = ClauseRunner(describe_implementation("reference_impl.adapter:Adapter"), pool=None)
    training = {c.profile for c in REGISTRY if any(s.model for s in runner.scenarios(c, [1, 2, 3, 4]))}
    assert training == TRAINING - {ALL} and set(PROFILES) - training
    assert ALL in TRAINING


def test_the_model_module_is_preloaded_unless_the_run_trains_no_model(monkeypatch):
    monkeypatch.setattr(preload, "_models", True)
    assert set(preload.MODEL_PRELOAD) <= set(preload.forkserver_preload())
    monkeypatch.setattr(preload, "_models", False)
    assert not set(preload.MODEL_PRELOAD) & set(preload.forkserver_preload())
    assert set(preload.PRELOAD) <= set(preload.forkserver_preload())


def test_a_model_scenario_runs_in_worlds_of_a_forkserver_that_preloaded_no_model():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-c", MODEL_SCENARIO_WITHOUT_PRELOADED_MODELS],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    ok, calls = run.stdout.split()
    assert ok == "True" and int(calls) > 0, run.stdout


def test_the_pytest_route_starts_a_forkserver_only_where_worlds_will_run():
    def config(collectonly: bool = False, numprocesses: int | None = None, worker: bool = False) -> SimpleNamespace:
        made = SimpleNamespace(option=SimpleNamespace(collectonly=collectonly, numprocesses=numprocesses))
        if worker:
            made.workerinput = {}
        return made

    assert runs_worlds(config())
    assert not runs_worlds(config(collectonly=True))
    assert not runs_worlds(config(numprocesses=2)), "an xdist controller runs no test"
    assert runs_worlds(config(numprocesses=2, worker=True))

"""Warm worlds: one world per configuration, reused scenario after scenario, rebuilt after a failure.

A world is reused only while it is healthy (see `harness.worlds.world.reusable`); anything that went wrong
in it (a hang, a dead rank, an error escaping a collective, ranks that ran different collectives) closes
it, and the next scenario of that size gets a new one, launched as the old one closes: its ranks join
their process group while the failure is judged, and one world per configuration is alive at a time.
`fresh=True` starts a world per scenario, for isolation and for the benchmark. A scenario with `restart` ops
ends its world at each one and goes on in a new world (`harness.worlds.restart`); the last of them stays
warm. Given a `StallRule`, the pool ends stalled scenarios early, and the rule carries what healthy
scenarios showed from one world to the next (see `harness.worlds.stall`).
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from functools import partial

from ..records.messages import RestartCheckpoint
from ..records.report import ScenarioResult
from ..records.scenario import Scenario
from .restart import run_restarted
from .stall import StallRule
from .world import DEFAULT_GRACE_S, DEFAULT_PG_TIMEOUT_S, World, WorldConfig


class WorldPool:
    def __init__(
        self,
        *,
        fresh: bool = False,
        start_method: str = "forkserver",
        pg_timeout_s: float = DEFAULT_PG_TIMEOUT_S,
        grace_s: float = DEFAULT_GRACE_S,
        stall_rule: StallRule | None = None,
    ) -> None:
        self.fresh = fresh
        self.stall_rule = stall_rule
        self.grace_s = grace_s
        self.base = WorldConfig(world_size=1, pg_timeout_s=pg_timeout_s, start_method=start_method)
        self.worlds: dict[WorldConfig, World] = {}
        self.spares: dict[WorldConfig, World] = {}
        self.started = 0

    def world_for(self, scenario: Scenario, pg_timeout_s: float | None = None) -> World:
        config = replace(
            self.base,
            world_size=scenario.world_size,
            process_group=scenario.process_group,
            pg_timeout_s=pg_timeout_s or self.base.pg_timeout_s,
        )
        world = self.worlds.get(config)
        if world is None or not world.healthy:
            spare = self.spares.pop(config, None)
            world = spare.ready() if spare is not None else World(config).start()
            self.started += 1
            self.worlds[config] = world
        return world

    def run(
        self,
        impl: str,
        scenario: Scenario,
        deadline_s: float | None = None,
        pg_timeout_s: float | None = None,
    ) -> ScenarioResult:
        scenario.validate()
        if scenario.restarts:
            return run_restarted(partial(self._run_in_world, impl, scenario, deadline_s, pg_timeout_s), scenario)
        return self._run_in_world(impl, scenario, deadline_s, pg_timeout_s)

    def _run_in_world(
        self,
        impl: str,
        scenario: Scenario,
        deadline_s: float | None,
        pg_timeout_s: float | None,
        restart: RestartCheckpoint | None = None,
        end: bool = False,
    ) -> ScenarioResult:
        world = self.world_for(scenario, pg_timeout_s)
        try:
            result = world.run(
                impl, scenario, deadline_s=deadline_s, grace_s=self.grace_s, stall_rule=self.stall_rule, restart=restart
            )
        finally:
            if end or self.fresh or not world.healthy:
                world.close()
                self.worlds.pop(world.config, None)
        if not self.fresh and world.config not in self.worlds:
            self._launch_spare(world.config)
        return result

    def _launch_spare(self, config: WorldConfig) -> None:
        """Start the replacement of a world just closed; one whose processes cannot be started (out of
        processes or pipes) is left to the next scenario of its size, whose own start then reports why:
        this scenario's result is already in."""
        with contextlib.suppress(OSError):
            self.spares[config] = World(config).launch()

    def close(self) -> None:
        for world in [*self.worlds.values(), *self.spares.values()]:
            world.close()
        self.worlds.clear()
        self.spares.clear()

    def __enter__(self) -> WorldPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def certification_pools(stall_timeout_s: float | None) -> tuple[WorldPool, WorldPool]:
    """The pools a certification runs in, on every route (`certify` and the pytest route): warm worlds for
    its scenarios and fresh ones to show a failure alone, sharing one stall rule, learned from the
    implementation's healthy scenarios or fixed at `stall_timeout_s` (`harness.worlds.stall`). One source, so a
    slow but correct implementation is judged by the same rule whichever route certifies it."""
    rule = StallRule(fixed_s=stall_timeout_s)
    return WorldPool(stall_rule=rule), WorldPool(fresh=True, stall_rule=rule)

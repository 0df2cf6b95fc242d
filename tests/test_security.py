"""Loopback only, and nothing from the environment in a certificate beyond the documented allow-list."""

from __future__ import annotations

import json
import os

import psutil

from harness import Op, Scenario
from harness.spec.output import certificate
from tests.harness_util import REFERENCE


def listening_addresses(pids: list[int]) -> list[str]:
    """The local addresses of the TCP sockets the processes `pids` listen on."""
    return [
        connection.laddr.ip
        for pid in pids
        for connection in psutil.Process(pid).net_connections(kind="tcp")
        if connection.status == psutil.CONN_LISTEN
    ]


def test_every_listening_socket_of_the_ranks_is_loopback(world_pool):
    scenario = Scenario("sockets", 3, ["a"], [Op("germinate", "a"), Op("advance", "a", local=[True, False, True])])
    assert world_pool.run(REFERENCE, scenario).ok
    pids = world_pool.world_for(scenario).pids()
    addresses = listening_addresses([os.getpid(), *pids])
    assert addresses, "gloo listens for its peers: no listening socket found means the check is blind"
    assert all(address in ("127.0.0.1", "::1") for address in addresses), addresses


def test_certificate_records_only_allow_listed_variables(monkeypatch):
    monkeypatch.setenv("LIFECYCLE_SPEC_IMPL", REFERENCE)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak-this")
    recorded = certificate.environment("gloo")
    assert set(recorded["variables"]) <= set(certificate.ENV_ALLOWLIST)
    assert recorded["variables"]["LIFECYCLE_SPEC_IMPL"] == REFERENCE
    assert "do-not-leak-this" not in json.dumps(recorded)

"""Certificates the project's tests share: each certification runs once a session, whichever test asks first,
so tests that read different parts of one certificate do not certify the same implementation again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.spec.certify import CertifyOptions, certify
from tests.bad_impls import WORLD_SIZES, WORLD_SIZES_FOR


@pytest.fixture(scope="session")
def reference_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    """The reference certified as `certify` does by default (every profile, world sizes 1 to 4), and its folder."""
    out = tmp_path_factory.mktemp("reference") / "cert"
    return certify(CertifyOptions(world_sizes=(1, 2, 3, 4), out_dir=str(out))), out


@pytest.fixture(scope="session")
def known_bad_certificate(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[dict, Path]]:
    """known_bad_certificate(name) -> (certificate, folder): the known-bad implementation `name` certified on
    every profile at its registry's world sizes, once a session."""
    made: dict[str, tuple[dict, Path]] = {}

    def certificate(name: str) -> tuple[dict, Path]:
        if name not in made:
            out = tmp_path_factory.mktemp(f"bad-{name}") / "cert"
            options = CertifyOptions(
                impl=f"tests.bad_impls.{name}:Adapter",
                world_sizes=WORLD_SIZES_FOR.get(name, WORLD_SIZES),
                out_dir=str(out),
            )
            made[name] = certify(options), out
        return made[name]

    return certificate

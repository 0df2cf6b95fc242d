"""Downstream repositories built in temporary folders: one with its own `harness` package, optionally with
this suite vendored at third_party/ddp_lifecycle, and a venv with the suite installed from a built wheel."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR_PACKAGE = "third_party.ddp_lifecycle"
VENDORED_REFERENCE = f"{VENDOR_PACKAGE}.reference_impl.adapter:Adapter"
SUBPROCESS_TIMEOUT_S = 300
OWN_TEST = """import harness


def test_own_harness_is_imported():
    assert harness.OWNER == "downstream"
"""


def downstream_tree(root: Path, vendored: bool = False) -> Path:
    """A repository with its own `harness` package and a test of it; with the suite copied under third_party."""
    (root / "harness").mkdir(parents=True)
    (root / "harness" / "__init__.py").write_text('OWNER = "downstream"\n')
    (root / "tests").mkdir()
    (root / "tests" / "test_own.py").write_text(OWN_TEST)
    if vendored:
        vendor = root / "third_party" / "ddp_lifecycle"
        for package in ("harness", "reference_impl"):
            shutil.copytree(ROOT / package, vendor / package, ignore=shutil.ignore_patterns("__pycache__"))
        (root / "third_party" / "__init__.py").write_text("")
        (vendor / "__init__.py").write_text("")
    return root


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without PYTHONPATH or a chosen implementation, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LIFECYCLE_SPEC_IMPL")}
    return {**env, **extra}


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S)


def start(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen:
    """A command started in the background, for `side_by_side`."""
    return subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def side_by_side(started: list[subprocess.Popen]) -> list[subprocess.CompletedProcess]:
    """Independent commands waited for under one bound, so they cost the time of the longest; any still
    running after it is killed, and every one is waited for."""
    deadline = time.monotonic() + SUBPROCESS_TIMEOUT_S
    try:
        outputs = [p.communicate(timeout=max(deadline - time.monotonic(), 0.1)) for p in started]
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
                process.communicate()
    return [
        subprocess.CompletedProcess(p.args, p.returncode, out, err)
        for p, (out, err) in zip(started, outputs, strict=True)
    ]


def git_commit() -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()


def wheel_venv(folder: Path) -> Path:
    """Build this checkout's wheel offline and install it into a fresh venv that sees the system's torch."""
    wheels = folder / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-w", str(wheels)]
    done = run([*build, "-q"], folder, clean_env())
    assert done.returncode == 0, done.stderr[-3000:]
    venv = folder / "venv"
    done = run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], folder, clean_env())
    assert done.returncode == 0, done.stderr[-3000:]
    python = venv / "bin" / "python"
    (wheel,) = wheels.glob("ddp_lifecycle_spec-*.whl")
    install = [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--ignore-installed", str(wheel)]
    done = run(install, folder, clean_env())
    assert done.returncode == 0, done.stderr[-3000:]
    return python

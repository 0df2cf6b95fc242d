"""The page of a real failing certification, as a person sees it in a browser: headless Chromium
renders it (the DOM it built, and a screenshot kept with the test's output). Skips, saying why, where
Chromium is not installed (`.ci/run` installs it from the OS packages)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from harness.spec.certify import CertifyOptions, certify

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
BROWSER_TIMEOUT_S = 90
QUIET = (
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1300,1600",
)


def browse(page: Path, profile: Path, *action: str) -> str:
    """Run Chromium on `page` with `action`, in a session of its own that is killed whole on timeout."""
    sandbox = ("--no-sandbox",) if os.geteuid() == 0 else ()
    command = [CHROMIUM, *QUIET, *sandbox, f"--user-data-dir={profile}", *action, page.as_uri()]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True
    )
    try:
        out, _ = process.communicate(timeout=BROWSER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, f"chromium exited {process.returncode}"
    return out


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium): no page drawn")
def test_a_failing_certificate_page_shows_lanes_the_parting_call_and_the_reason(tmp_path, world_pool, capsys):
    impl = "tests.bad_impls.frame_as_words:Adapter"
    out = tmp_path / "certificate"
    options = CertifyOptions(impl=impl, profile="strict", world_sizes=(2,), corpus=4, out_dir=str(out))
    cert = certify(options, world=world_pool)
    s4 = next(c for c in cert["clauses"] if c["id"] == "S4")
    assert s4["status"] == "fail", s4["reason"]
    page = out / "certificate.html"

    dom = browse(page, tmp_path / "profile-dom", "--dump-dom")
    section = dom.split('<section id="S4">')[1].split("</section>")[0]
    assert "rank 0" in section and "rank 1" in section
    assert 'class="parted"' in section and "▼ ranks part here" in section
    assert s4["reason"] in section and "[128] int32" in section and "[512] uint8" in section

    screenshot = tmp_path / "certificate.png"
    browse(page, tmp_path / "profile-shot", f"--screenshot={screenshot}")
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 5000
    with capsys.disabled():
        print(f"\nscreenshot of the failing certificate's page: {screenshot}")

"""``make demo ARGS=--serve`` as a user runs it (minus make's install step): the hub seeded with
its registry, the lanes enrolled and fed their roster by the hub, every scripted swipe as
expected and the hub's counts matching the lanes', the shift accepted by the worker platform's
stand-in once; then, while it serves, the console's printed logins work; Ctrl-C ends it cleanly."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from hub.registry.seed import SEED_PASSWORD

pytestmark = [pytest.mark.broker, pytest.mark.serial]

LOGIN_LINE = re.compile(r"^  (?P<role>[a-z_]+) +(?P<username>\S+)$")


def _login(base: str, username: str, password: str) -> dict[str, str]:
    request = urllib.request.Request(
        f"{base}/api/v1/auth/login",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.load(response)["account"])


@pytest.mark.timeout(240)
def test_make_demo_runs_on_the_hubs_registry_and_serves_its_console(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    command = [sys.executable, "-m", "sitegate.cli", "demo", "--serve", "--workdir", str(workdir)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: list[str] = []
    logins: dict[str, str] = {}
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # until it serves (or ends: then the assertions below say why)
            seen.append(line.rstrip("\n"))
            found = LOGIN_LINE.match(seen[-1]) if any(s.startswith("Console:") for s in seen) else None
            if found:
                logins[found["role"]] = found["username"]
            if "supervision_project" in logins:
                break
        out = "\n".join(seen)
        assert "hub counts match the lanes" in out, out[-3000:] + (
            proc.stderr.read() if proc.poll() is not None else ""
        )
        assert "Read back from the hub" in out
        # The shift up to the worker platform's stand-in: teams and people first, every passage once.
        assert re.search(
            r"platform the stand-in accepted [1-9]\d* passages of project \S+, 2 teams and [1-9]\d* people "
            r"registered first, 0 duplicates; \d+ requests, none more on a second look",
            out,
        ), out[-3000:]
        # The registry the hub was seeded with, and the lanes fed from it.
        assert re.search(
            r"registry 6 districts; 11 enterprises: 3 general contractors, .*outside the city", out
        )
        assert re.search(r"\d+ projects: \d+ registered \(报备\), [1-9]\d* not; [1-9]\d\d people", out)
        assert out.count("enrolled: certificate, site key and roster key from the hub") == 2
        assert re.search(
            r"rosters v\d+ from the hub, signed with its key, on both lanes: [1-9]\d* people", out
        )
        assert "roster fault" not in out
        # Every account role the seed made has a printed login; the printed password opens them.
        assert set(logins) >= {"city", "enterprise", "gc_project", "sub_project", "supervision_project"}
        console = next(s for s in seen if s.startswith("Console:"))
        base = console.split()[1].removesuffix("/console/")
        account = _login(base, logins["gc_project"], SEED_PASSWORD)
        assert account["role"] == "gc_project" and account["project_id"] == "HZ-330106-2026-0042"
        password = (workdir / "account-password").read_text().strip()
        assert _login(base, logins["city"], password)["role"] == "city"
        # Enrolled the production way: each lane's files came from sitegate provision.
        for name in ("entry", "exit"):
            assert "checks passed" in (workdir / name / "provision.log").read_text()
            assert (workdir / name / "etc/sitegate/tls/device.key").stat().st_mode & 0o777 == 0o600
    finally:
        proc.send_signal(signal.SIGINT)
        rest, errors = proc.communicate(timeout=60)
    assert proc.returncode == 0, rest[-2000:] + errors[-2000:]
    assert "stopping" in rest

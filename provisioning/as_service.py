"""The lane's service as systemd runs it, for what provisioning checks in its name.

A check that passes as root and fails as the service is no check: provisioning runs as root, the
lane as ``User=sitegate`` with ``SupplementaryGroups=gpio dialout``. So the self-test runs in a
child process with the identity read from the installed unit (user, group, supplementary groups,
resolved in the root's own /etc/passwd and /etc/group): the journal it creates is the service's,
the serial port and the GPIO chip are opened with the service's rights, the key is read as the
service reads it.

``python -m provisioning.as_service --config FILE --root DIR [--lane PID ...]`` is that child: it
prints the checks as one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.config import load_config
from controller.selftest import Check, run_selftest
from provisioning.layout import SERVICE_USER, UNIT_DIR, rebased, under

CONTROLLER_UNIT = "sitegate-controller.service"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SELFTEST_TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True)
class ServiceIdentity:
    user: str
    uid: int
    gid: int
    groups: tuple[int, ...]
    home: str


def unit_settings(text: str, section: str = "Service") -> dict[str, list[str]]:
    """A unit file's settings in ``section``, each key with all its values in order."""
    settings: dict[str, list[str]] = {}
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
        elif current == section and "=" in line:
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def _table(root: Path, name: str) -> dict[str, list[str]]:
    try:
        lines = (root / "etc" / name).read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    return {fields[0]: fields for fields in (line.split(":") for line in lines) if len(fields) >= 4}


def service_identity(root: Path, unit: str = CONTROLLER_UNIT) -> ServiceIdentity | None:
    """Who the installed unit runs the lane as, in ``root``'s own user database; None when the
    unit or its user is missing."""
    try:
        text = under(root, UNIT_DIR / unit).read_text(encoding="utf-8")
    except OSError:
        return None
    service = unit_settings(text)
    users, groups = _table(root, "passwd"), _table(root, "group")
    user = (service.get("User") or [SERVICE_USER])[-1]
    if user not in users:
        return None
    gid = int(users[user][3])
    if service.get("Group"):
        entry = groups.get(service["Group"][-1])
        if entry is None:
            return None
        gid = int(entry[2])
    names = [name for value in service.get("SupplementaryGroups", []) for name in value.split()]
    extra = tuple(int(groups[name][2]) for name in names if name in groups)
    return ServiceIdentity(user, int(users[user][2]), gid, extra, users[user][5])


def selftest_as(identity: ServiceIdentity, config_file: Path, root: Path, lane: list[int]) -> list[Check]:
    """The self-test in a child process running as ``identity``; its checks."""
    command = [sys.executable, "-I", "-m", "provisioning.as_service", "--config", str(config_file)]
    command += ["--root", str(root), *(arg for pid in lane for arg in ("--lane", str(pid)))]
    env = {"PATH": PATH, "HOME": identity.home, "USER": identity.user, "LANG": "C.UTF-8"}
    failed = f"the self-test could not run as {identity.user}"
    try:
        done = subprocess.run(
            command,
            user=identity.uid,
            group=identity.gid,
            extra_groups=list(identity.groups),
            cwd="/",
            env=env,
            capture_output=True,
            text=True,
            timeout=SELFTEST_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as err:
        return [Check("self-test", False, f"{failed}: {err}", "run setup-lane.sh again")]
    try:
        listed = json.loads(done.stdout.strip().splitlines()[-1])
        return [Check(**fields) for fields in listed]
    except (IndexError, ValueError, TypeError):
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        return [Check("self-test", False, f"{failed}: {tail[0]}", f"{sys.executable} must be readable by it")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m provisioning.as_service")
    parser.add_argument("--config", type=Path, required=True, help="controller.toml, as seen from here")
    parser.add_argument("--root", type=Path, default=Path("/"))
    parser.add_argument("--lane", type=int, action="append", default=[], help="a running lane's pid")
    args = parser.parse_args(argv)
    config = rebased(load_config(args.config), args.root)
    pins: Any = None
    if config.pin_factory == "mock":
        from gpiozero.pins.mock import MockFactory

        pins = MockFactory()
    checks = asyncio.run(run_selftest(config, pin_factory=pins, lane=args.lane))
    print(json.dumps([dataclasses.asdict(check) for check in checks], ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Every systemd unit under firmware/ passes ``systemd-analyze verify``, and the controller's unit
keeps the properties the lane's safety rests on.

The units name /opt/sitegate/venv/bin/sitegate, which exists only on a provisioned Pi; the test
verifies copies whose command paths point at this checkout's virtualenv, so what is checked is
the units' syntax and semantics, not this machine's layout. All units are verified together, so
a unit naming another (the path unit its service) is checked against the real one.
"""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIRMWARE = Path(__file__).parents[2] / "firmware"
UNITS = sorted(
    p for p in (FIRMWARE / "systemd").iterdir() if p.suffix in {".service", ".path", ".mount", ".timer"}
)


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(FIRMWARE / "systemd" / name)
    return parser


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_unit_verifies(unit: Path, tmp_path: Path) -> None:
    sitegate = Path(sys.executable).with_name("sitegate")
    for each in UNITS:
        (tmp_path / each.name).write_text(
            each.read_text().replace("/opt/sitegate/venv/bin/sitegate", str(sitegate))
        )
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(tmp_path / unit.name)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if unit.name in line or "error" in line.lower()
    ]
    assert result.returncode == 0 and not problems, "\n".join(problems) or result.stderr


def test_the_units_that_must_be_there() -> None:
    assert {u.name for u in UNITS} >= {
        "sitegate-controller.service",
        "sitegate-hub.service",
        "sitegate-broker-reload.path",
        "sitegate-broker-reload.service",
        "var-lib-sitegate.mount",
        "sitegate-backup.service",
        "sitegate-backup.timer",
    }


def test_the_controller_unit_is_supervised_fail_secure_and_sandboxed() -> None:
    service = _unit("sitegate-controller.service")["Service"]
    assert service["Type"] == "notify"
    assert service["Restart"] == "always"
    assert 0 < int(service["WatchdogSec"]) <= 30
    assert "fail-secure" in service["ExecStartPre"]
    assert "fail-secure" in service["ExecStopPost"]
    assert service["ProtectSystem"] == "strict"
    assert service["NoNewPrivileges"] == "true"
    assert service["ReadWritePaths"] == "/var/lib/sitegate"
    assert set(service["SupplementaryGroups"].split()) == {"gpio", "dialout", "i2c", "spi", "audio"}
    assert service["User"] == "sitegate"


def test_the_hub_unit_cannot_reload_the_broker_itself() -> None:
    """The hub writes the broker's CRL and ACL; the path unit watching them does the reload."""
    service = _unit("sitegate-hub.service")["Service"]
    assert service["CapabilityBoundingSet"] == ""
    assert service["NoNewPrivileges"] == "true"
    watched = [v for k, v in _unit("sitegate-broker-reload.path").items("Path") if k == "PathChanged"]
    written = service["ReadWritePaths"].split()
    assert watched and all(any(path.startswith(w.lstrip("-")) for w in written) for path in [watched[0]])


def test_every_documentation_link_names_a_file_that_provisioning_installs() -> None:
    """Issue 22, item 8: ``Documentation=file:///opt/sitegate/README.md`` named a file nothing
    installed. ``setup-lane.sh`` puts the source tree (README, firmware/) in /opt/sitegate/src."""
    installed = "file:///opt/sitegate/src/"
    for unit in UNITS:
        for section in _unit(unit.name).values():
            for link in section.get("Documentation", "").split():
                assert link.startswith(installed), f"{unit.name}: {link} is not installed by setup-lane.sh"
                assert (FIRMWARE.parent / link.removeprefix(installed)).is_file(), f"{unit.name}: {link}"


def test_the_backup_runs_daily_as_the_hub_with_the_public_key_only() -> None:
    """Issue 17: the schedule is in the units, daily (well inside the lanes' 7-day window), caught
    up after downtime; the backup is sealed with the recovery *public* key (the private key, which
    restores, is not on the hub), as the hub's user on the hub's state, unprivileged."""
    timer = _unit("sitegate-backup.timer")["Timer"]
    assert timer["OnCalendar"] == "*-*-* 02:30:00" and timer["Persistent"] == "true"
    assert timer["Unit"] == "sitegate-backup.service"
    service = _unit("sitegate-backup.service")["Service"]
    command = service["ExecStart"].split()
    assert command[1:3] == ["hub", "backup"]
    assert command[command.index("--recovery-public-key") + 1].endswith(".pub")
    assert "--recovery-key" not in command
    hub = _unit("sitegate-hub.service")["Service"]
    assert (service["User"], service["StateDirectory"]) == (hub["User"], hub["StateDirectory"])
    assert service["CapabilityBoundingSet"] == "" and service["NoNewPrivileges"] == "true"

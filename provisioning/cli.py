"""``sitegate provision``: turn a prepared Pi into an enrolled, self-tested lane, in one command.

Run by the site manager on the Pi, with the token the project's account got from the hub::

    sudo sitegate provision --hub https://hub.example --token lane-hz0042-a1.<secret>

In order: prerequisites (nothing is spent if they fail), the OS pieces (units, udev, journald,
watchdog, UART), the device's key (made here, 0600, never sent), enrolment (CSR + token -> the
hub's bundle), the lane's files, then the self-test and a checklist saying what to fix for each
failure. Re-running is safe: files already right are left alone, a lane already enrolled with
its key is not enrolled again (``--reenrol`` with a new token does that). ``--dry-run`` says what
it would do and changes nothing, not even the token; ``--root DIR`` installs into another root
(an image being built, or the tests' temporary directory); ``--image`` does only what belongs in
an image (no key, no enrolment).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from controller.config import ConfigError, ControllerConfig, load_config
from controller.roster_store import load_roster
from controller.selftest import Check, report, run_selftest
from provisioning.device import (
    EnrolmentFailed,
    LaneChoices,
    enrolled_as,
    ensure_key,
    install_bundle,
    request_enrolment,
)
from provisioning.enrolment import EnrolmentRefused, device_of_token
from provisioning.install import CONTROLLER_UNIT, FirmwareMissing, configure_uart, install_os
from provisioning.layout import CONFIG, Writer, rebased

MIN_PYTHON = (3, 11)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sitegate provision", description=__doc__.split("\n\n")[0])
    parser.add_argument("--hub", help="the hub's address, https://... (http only for a hub on loopback)")
    parser.add_argument("--token", help="the one-time enrolment token from the project's account")
    parser.add_argument("--hub-ca", type=Path, help="CA file to check the hub's HTTPS certificate with")
    parser.add_argument("--root", type=Path, default=Path("/"), help="install into this root (default /)")
    parser.add_argument("--dry-run", action="store_true", help="say what would be done; change nothing")
    parser.add_argument("--image", action="store_true", help="image build: no key, no enrolment")
    parser.add_argument("--reenrol", action="store_true", help="enrol again even if already enrolled")
    parser.add_argument("--id-module", default="/dev/sitegate-idmodule", help="the ID module's serial port")
    parser.add_argument("--no-id-module", action="store_true", help="this lane has no GA/T 467 ID module")
    parser.add_argument("--pcsc", nargs="?", const="", help="a PC/SC reader (optionally its name prefix)")
    parser.add_argument("--board", default="rpi4", help="board profile: rpi4, rpi5, rpizero2w or a .toml")
    parser.add_argument("--mock-pins", action="store_true", help="gpiozero mock pins (bench, tests, demo)")
    parser.add_argument("--data-partition", action="store_true", help="mount the sitegate-data partition")
    parser.add_argument("--roster-wait", type=float, default=60.0, help="seconds to await the 1st roster")
    return parser


def prerequisites(choices: LaneChoices, root: Path, *, dry_run: bool) -> list[Check]:
    checks = [
        Check(
            "python",
            sys.version_info >= MIN_PYTHON,
            f"Python {sys.version.split()[0]}",
            "install Python 3.11 or newer (Raspberry Pi OS bookworm has it)",
        )
    ]
    if root == Path("/") and not dry_run:
        checks.append(Check("root", os.geteuid() == 0, "running as root", "run it with sudo"))
    if choices.id_module is None and choices.pcsc is None:
        checks.append(Check("readers", False, "no reader chosen", "drop --no-id-module, or add --pcsc"))
    if choices.pcsc is not None:
        found = shutil.which("pcscd") or next(
            (str(p) for p in (root / "usr/sbin/pcscd", root / "usr/bin/pcscd") if p.exists()), None
        )
        fix = "apt-get install pcscd libccid"
        checks.append(Check("pcscd", found is not None, found or "not installed", fix))
    if choices.id_module is not None:
        port = Path(choices.id_module)
        checks.append(
            Check(
                "serial device",
                port.exists(),
                f"{port} {'present' if port.exists() else 'missing'}",
                "plug in the ID module; after a first install reboot once (udev rules, UART), "
                "or pass --id-module with its port",
            )
        )
    if choices.mock_pins:
        checks.append(Check("GPIO", True, "mock pins (no hardware is driven)"))
    else:
        chip = Path("/dev/gpiochip0")
        usable = chip.exists() and os.access(chip, os.R_OK | os.W_OK)
        checks.append(
            Check(
                "GPIO", usable, f"{chip} {'usable' if usable else 'missing or not accessible'}", "run as root"
            )
        )
    return checks


def _systemd_running(root: Path) -> bool:
    return root == Path("/") and Path("/run/systemd/system").is_dir()


def _run(*command: str) -> None:
    subprocess.run(command, check=False, timeout=60)


def _enrol(
    args: argparse.Namespace, writer: Writer, choices: LaneChoices
) -> tuple[Check, ControllerConfig | None]:
    if not args.hub or not args.token:
        fix = "ask the project's account for a token"
        return Check("enrolment", False, "--hub and --token are needed", fix), None
    try:
        device_id = device_of_token(args.token)
    except EnrolmentRefused as err:
        return Check("enrolment", False, err.message, "copy the whole token"), None
    key_pem, made = ensure_key(writer)
    already = enrolled_as(writer, key_pem)
    if already == device_id and not args.reenrol:
        config = load_config(writer.path(CONFIG))
        return Check("enrolment", True, f"already enrolled as {device_id}; kept (--reenrol to redo)"), config
    if args.dry_run:
        key = "a new key" if made else "its existing key"
        return Check("enrolment", True, f"would enrol {device_id} at {args.hub} with {key}"), None
    try:
        bundle = request_enrolment(args.hub, args.token, device_id, key_pem, hub_ca=args.hub_ca)
    except EnrolmentFailed as err:
        return Check("enrolment", False, err.message, err.fix), None
    config = install_bundle(writer, bundle, choices)
    lane = bundle.lane
    broker = f"{bundle.broker.host}:{bundle.broker.port}"
    detail = (
        f"{device_id}: project {lane.project_id}, lane {lane.lane} ({lane.direction.value}), broker {broker}"
    )
    return Check("enrolment", True, detail), config


def _roster_check(config: ControllerConfig, root: Path, wait_s: float) -> Check:
    """Start the lane and wait for its first roster (on the Pi); skipped for another root."""
    if not _systemd_running(root):
        return Check("roster", True, f"not checked: the lane is not started by an install into {root}")
    _run("systemctl", "restart", CONTROLLER_UNIT)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        loaded = load_roster(config.roster_path)
        if not loaded.fault and loaded.roster.project_id == config.project_id:
            return Check("roster", True, f"version {loaded.roster.version}, {len(loaded.roster)} people")
        time.sleep(1)
    return Check(
        "roster",
        False,
        f"none received within {wait_s:.0f} s",
        "see `journalctl -u sitegate-controller`; check that the project has people assigned",
    )


def provision(args: argparse.Namespace) -> int:
    root: Path = args.root
    choices = LaneChoices(
        id_module=None if args.no_id_module else args.id_module,
        pcsc=args.pcsc,
        board=args.board,
        mock_pins=args.mock_pins,
    )
    writer = Writer(root, dry_run=args.dry_run)
    checks = [] if args.image else prerequisites(choices, root, dry_run=args.dry_run)
    if not all(check.ok for check in checks):
        print(report(checks) + "\nnothing was changed and the token was not used; fix the above and re-run")
        return 1
    try:
        install_os(writer, data_partition=args.data_partition)
        checks.append(Check("UART", True, configure_uart(writer)))
    except (FirmwareMissing, OSError) as err:
        checks.append(Check("OS files", False, str(err), "run from the SiteGate source tree, as root"))
        print(report(checks))
        return 1
    checks.append(Check("OS files", True, f"units, udev rules, journald caps, watchdog under {root}"))
    config: ControllerConfig | None = None
    if not args.image:
        try:
            enrolment, config = _enrol(args, writer, choices)
        except (ConfigError, OSError, ValueError) as err:
            enrolment = Check("enrolment", False, str(err), "re-run with --reenrol and a new token")
        checks.append(enrolment)
    if _systemd_running(root) and not args.dry_run:
        _run("systemctl", "daemon-reload")
        _run("udevadm", "control", "--reload")
        _run("udevadm", "trigger", "--subsystem-match=tty", "--subsystem-match=usb")
    if config is not None:
        outside = rebased(config, root)
        selftest = asyncio.run(run_selftest(outside, pin_factory=_pins(choices)))
        checks += [check for check in selftest if check.name != "roster"]
        if all(check.ok for check in checks):
            checks.append(_roster_check(outside, root, args.roster_wait))
    print("\n".join(writer.done))
    print(report(checks))
    return 0 if all(check.ok for check in checks) else 1


def _pins(choices: LaneChoices) -> Any:
    if not choices.mock_pins:
        return None
    from gpiozero.pins.mock import MockFactory

    return MockFactory()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return provision(args)

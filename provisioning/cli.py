"""``sitegate provision``: turn a prepared Pi into an enrolled, self-tested lane, in one command.

Run by the site manager on the Pi, with the token the project's account got from the hub::

    sudo sitegate provision --hub https://hub.example --token lane-hz0042-a1.<secret>

In order: prerequisites (nothing is spent if they fail), the OS pieces (units, udev, journald,
watchdog, UART), the ID module's port (on a first install with the module on the UART, the port
appears only after a reboot: it asks for that reboot, exit status 3, and the same command run
after it finishes the enrolment), the device's key (made here, 0600, never sent), enrolment (CSR
+ token -> the hub's bundle), the lane's files (what the service writes, the service user's),
then the self-test as the service user and a checklist saying what to fix for each failure.
On a lane that is running, the self-test works beside it and disturbs nothing of it.

Re-running is safe: files already right are left alone, a lane already enrolled with its key is
not enrolled again (``--reenrol`` with a new token does that). ``--dry-run`` says what it would do
and changes nothing, not even the token; ``--root DIR`` installs into another root (an image being
built, or the tests' temporary directory); ``--image`` does only what belongs in an image (no key,
no enrolment). The token is never printed; ``setup-lane.sh`` hands it over in ``SITEGATE_TOKEN``
rather than on a command line other users can read.
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
from controller.selftest import REBOOT, SKIP, Check, describe, lane_processes, report, run_selftest
from provisioning.as_service import selftest_as, service_identity
from provisioning.device import (
    EnrolmentFailed,
    LaneChoices,
    enrolled_as,
    ensure_key,
    hub_base,
    install_bundle,
    request_enrolment,
)
from provisioning.enrolment import EnrolmentRefused, device_of_token
from provisioning.install import (
    CONTROLLER_UNIT,
    FirmwareMissing,
    configure_uart,
    install_os,
    reboot_pending,
)
from provisioning.layout import CONFIG, DATA_DIR, SERVICE_USER, Writer, rebased, service_owner
from sitegate.clitext import plain_help

MIN_PYTHON = (3, 11)
EXIT_REBOOT = 3
UDEV_MODULE = "/dev/sitegate-idmodule"
"""The ID module's name from the udev rule provisioning installs: it cannot exist before that."""
TOKEN_ENV = "SITEGATE_TOKEN"  # noqa: S105 - the name of the variable, not a token
CHANGES = ("wrote", "linked", "made", "owner fixed")
"""Lines of :attr:`Writer.done` that changed the lane: a running lane restarts to take them up."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sitegate provision", description=plain_help(__doc__.split("\n\n")[0])
    )
    parser.add_argument("--hub", help="the hub's address, https://... (http only for a hub on loopback)")
    parser.add_argument(
        "--token", help=f"the one-time enrolment token from the project's account (or ${TOKEN_ENV})"
    )
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
    parser.add_argument("--restart", action="store_true", help="restart a running lane (new code installed)")
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
    if choices.id_module is not None and choices.id_module != UDEV_MODULE:
        port = Path(choices.id_module)  # a port named by hand: no reboot makes it appear
        checks.append(
            Check(
                "serial device",
                port.exists(),
                f"{port} {'present' if port.exists() else 'missing'}",
                "check the module's cable and the port (ls -l /dev/serial* /dev/ttyUSB* /dev/ttyAMA*), "
                f"or leave --id-module out: the udev rule names the module {UDEV_MODULE}",
            )
        )
    if root == Path("/") and not dry_run:
        owner = service_owner(root)
        fix = "run provisioning/setup-lane.sh, which makes it (and its groups gpio and dialout)"
        checks.append(
            Check(
                "service user", owner is not None, f"{SERVICE_USER} {'present' if owner else 'missing'}", fix
            )
        )
    checks.append(_gpio_check(choices))
    return checks


def _gpio_check(choices: LaneChoices) -> Check:
    if choices.mock_pins:
        return Check("GPIO", True, "mock pins (no hardware is driven)")
    chip = Path("/dev/gpiochip0")
    if not chip.exists():
        return Check(
            "GPIO",
            False,
            f"{chip} missing: no GPIO here",
            "run it on the lane's Raspberry Pi (a Pi whose kernel has its GPIO driver); on a bench or "
            "in a test, --mock-pins drives no hardware",
        )
    if not os.access(chip, os.R_OK | os.W_OK):
        return Check("GPIO", False, f"{chip} not accessible to this user", "run it with sudo")
    return Check("GPIO", True, f"{chip} usable (the self-test drives it as {SERVICE_USER})")


def _module_check(port: str, writer: Writer, root: Path) -> Check:
    """The udev-named module port, once the OS pieces that name it are in place."""
    if Path(port).exists():
        return Check("serial device", True, f"{port} present")
    if writer.dry_run:
        return Check(
            "serial device", True, f"{port} missing: checked after the OS files are installed", mark=SKIP
        )
    if reboot_pending(writer, udev_running=_systemd_running(root)):
        return Check(
            "ID module",
            False,
            f"{port} appears once the Pi restarts: its UART and udev rule were set up just now",
            "sudo reboot, then run the same command again: it finishes the enrolment (a module on a "
            "USB lead needs no reboot: plug it in and run the command again)",
            mark=REBOOT,
        )
    return Check(
        "serial device",
        False,
        f"{port} missing",
        "a module on a USB lead: plug it in (unplug and plug it back if it was); on the UART: check its "
        "wiring to GPIO14/15 and its power; `ls -l /dev/serial* /dev/ttyUSB*` shows what the Pi sees; "
        "--id-module PORT names another port",
    )


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
    given, args.hub = args.hub, hub_base(args.hub)
    trimmed = f" (hub {args.hub}, from the address given)" if args.hub != given.strip().rstrip("/") else ""
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
        f"{device_id}: project {lane.project_id}, lane {lane.lane} ({lane.direction or 'office reader'}), "
        f"broker {broker}" + trimmed
    )
    return Check("enrolment", True, detail), config


def _await_roster(config: ControllerConfig, wait_s: float, whose: str) -> Check:
    deadline = time.monotonic() + wait_s
    while True:
        loaded = load_roster(config.roster_path)
        if not loaded.fault and loaded.roster.project_id == config.project_id:
            detail = f"version {loaded.roster.version}, {len(loaded.roster)} people ({whose})"
            return Check("roster", True, detail)
        if time.monotonic() >= deadline:
            return Check(
                "roster",
                False,
                f"none received within {wait_s:.0f} s",
                "see `journalctl -u sitegate-controller`; check that the project has people assigned",
            )
        time.sleep(1)


def _roster_check(
    config: ControllerConfig,
    root: Path,
    wait_s: float,
    *,
    lane: list[int] | None = None,
    restart: bool = True,
) -> Check:
    """The lane's first roster, from the hub: started (again) under systemd when it changed, or from
    the lane already running; without systemd nothing starts a lane, and the check says so."""
    running = ", ".join(describe(pid) for pid in lane or [])
    if running and not restart:
        return _await_roster(config, wait_s, f"the running lane's, {running}")
    if _systemd_running(root):
        _run("systemctl", "restart", CONTROLLER_UNIT)
        return _await_roster(config, wait_s, f"{CONTROLLER_UNIT} started")
    if running:
        return Check(
            "roster",
            True,
            f"not checked: the lane ({running}) runs its old configuration and code until it restarts",
            "restart it to take up what changed",
            mark=SKIP,
        )
    if root != Path("/"):
        return Check("roster", True, f"not checked: installed into {root}, not started here", mark=SKIP)
    return Check(
        "roster",
        True,
        "not checked: systemd is not running here, so nothing started the lane",
        f"on the Pi, systemd starts it at boot (now: sudo systemctl start {CONTROLLER_UNIT})",
        mark=SKIP,
    )


def _running_lane(config: ControllerConfig, root: Path) -> tuple[list[int], Check | None]:
    """The running lane's processes; a unit caught restarting (a crash loop) is stopped first, so
    that it does not take the reader back in the middle of the self-test."""
    note = None
    if _systemd_running(root):
        state = subprocess.run(
            ["systemctl", "is-active", CONTROLLER_UNIT],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout.strip()
        if state in ("activating", "deactivating", "reloading"):
            _run("systemctl", "stop", CONTROLLER_UNIT)
            detail = f"{CONTROLLER_UNIT} was {state} (restarting after a failure?): stopped for the self-test"
            note = Check("lane", True, detail, "it is started again after the self-test", mark=SKIP)
    return lane_processes(config), note


def _selftest(config: ControllerConfig, root: Path, choices: LaneChoices, lane: list[int]) -> list[Check]:
    """As the service user where the lane runs on this machine (root /), else in this process."""
    identity = service_identity(root) if root == Path("/") and os.geteuid() == 0 else None
    if identity is not None:
        return selftest_as(identity, root / CONFIG.relative_to("/"), root, lane)
    return asyncio.run(run_selftest(config, pin_factory=_pins(choices), lane=lane))


def provision(args: argparse.Namespace) -> int:
    root: Path = args.root
    if args.token is None:
        args.token = os.environ.get(TOKEN_ENV) or None
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
    if _systemd_running(root) and not args.dry_run:
        _run("systemctl", "daemon-reload")
        _run("udevadm", "control", "--reload")
        _run("udevadm", "trigger", "--subsystem-match=tty", "--subsystem-match=usb")
        _run("udevadm", "settle", "--timeout=10")
    if not args.image and choices.id_module == UDEV_MODULE:
        module = _module_check(UDEV_MODULE, writer, root)
        checks.append(module)
        if not module.ok:
            print("\n".join(writer.done))
            print(report(checks))
            if module.mark == REBOOT:
                print("the token was not used: after the reboot, run the same command again to enrol")
                return EXIT_REBOOT
            print("the token was not used; fix the above and re-run")
            return 1
    config: ControllerConfig | None = None
    if not args.image:
        try:
            enrolment, config = _enrol(args, writer, choices)
        except (ConfigError, OSError, ValueError) as err:
            enrolment = Check("enrolment", False, str(err), "re-run with --reenrol and a new token")
        checks.append(enrolment)
    writer.give_tree_to_service(DATA_DIR)
    if config is not None and args.dry_run:
        checks.append(Check("self-test", True, "not run in a dry run", mark=SKIP))
    elif config is not None:
        outside = rebased(config, root)
        lane, note = _running_lane(outside, root)
        checks += [note] if note else []
        restart = args.restart or note is not None or any(line.startswith(CHANGES) for line in writer.done)
        checks += [check for check in _selftest(outside, root, choices, lane) if check.name != "roster"]
        writer.give_tree_to_service(DATA_DIR)  # what a self-test in this process made
        if all(check.ok for check in checks):
            checks.append(_roster_check(outside, root, args.roster_wait, lane=lane, restart=restart))
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

"""``sitegate controller selftest``: every part of the lane exercised once, as a checklist.

Run by the site manager after provisioning and by the setup script: each line says what was
checked, whether it passed, and for a failure what to do about it. The relay is cycled, so the
arm releases briefly: run it with the lane clear.

On a lane that is running (a process holds its journal open), the self-test works beside it and
takes nothing from it: the pins, the reader and the broker session are the running lane's. The
outputs are not cycled and the reader is not opened; the broker is checked with a TLS handshake
under the device's certificate and no MQTT session (the broker makes the certificate's name the
client id, so a session of the self-test's would take over the lane's and knock it offline); the
journal is read, not opened for writing.

The journal is the lane's, written by the service user: run as root against a lane whose data
directory belongs to another user, the check creates nothing (a root-owned journal would lock the
lane out: "attempt to write a readonly database") and checks the files' owners instead. Run it as
the lane's user (``sitegate provision`` does) for the real write test.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import sqlite3
import ssl
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiomqtt

from controller.board import load_board
from controller.config import ControllerConfig, PcscReaderConfig, SerialReaderConfig
from controller.journal import Journal
from controller.outputs import LaneOutputs
from controller.readers.gat467.faults import NoReply
from controller.readers.serial_module import SerialIdModule
from controller.roster_store import load_roster
from controller.tls import tls_context

CYCLE_S = 0.3
LANE_UNIT = "sitegate-controller.service"
HANDSHAKE_S = 5.0
REFUSAL_WAIT_S = 0.5
"""With TLS 1.3 a broker refuses a client certificate after the handshake: wait this long for it."""
SKIP, REBOOT = "SKIP", "REBOOT"
_MARK_WORDS = {SKIP: "skipped", REBOOT: "after a reboot"}


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    mark: str | None = None
    """Instead of PASS/FAIL: ``SKIP`` (not run, and why) or ``REBOOT`` (runs after the next boot)."""

    def line(self) -> str:
        mark = self.mark or ("PASS" if self.ok else "FAIL")
        text = f"[{mark}] {self.name}: {self.detail}"
        if self.fix and (not self.ok or self.mark):
            word = {SKIP: "note", REBOOT: "next"}.get(self.mark or "", "fix")
            return f"{text}\n       {word}: {self.fix}"
        return text


# --- who holds what -------------------------------------------------------------------------------


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    if stat.S_ISCHR(a.st_mode) and stat.S_ISCHR(b.st_mode):
        return a.st_rdev == b.st_rdev  # a device node is the same device under any name (udev's links)
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def holders(path: Path | str) -> list[int]:
    """The processes that have ``path`` open (what /proc shows this user: root sees all)."""
    try:
        target = os.stat(path)
    except OSError:
        return []
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if _same_file(fd.stat(), target):
                        found.append(int(entry.name))
                        break
    return sorted(found)


def lane_processes(config: ControllerConfig) -> list[int]:
    """The running lane: the processes holding its journal open (the controller does while it runs)."""
    return holders(config.journal_path)


def describe(pid: int) -> str:
    """``pid 123 (sitegate, sitegate-controller.service)``: its command name and systemd unit, no
    arguments (a command line may hold a secret)."""
    parts = []
    with contextlib.suppress(OSError):
        parts.append(Path(f"/proc/{pid}/comm").read_text().strip())
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
            unit = line.rsplit("/", 1)[-1]
            if unit.endswith(".service"):
                parts.append(unit)
                break
    return f"pid {pid}" + (f" ({', '.join(parts)})" if parts else "")


def _is_lane_unit(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return f"/{LANE_UNIT}" in Path(f"/proc/{pid}/cgroup").read_text()
    return False


# --- the checks -----------------------------------------------------------------------------------


async def _cycle(name: str, device: Any) -> Check:
    """Switch an output on and off, reading the pin back (a mock pin reports what it was driven to)."""
    try:
        device.on()
        await asyncio.sleep(CYCLE_S)
        high = bool(device.value)
        device.off()
        low = not bool(device.value)
    except Exception as err:  # noqa: BLE001 - any failure of a pin driver is a failed check
        return Check(name, False, f"{type(err).__name__}: {err}", "check the wiring and GPIO permissions")
    if high and low:
        return Check(name, True, "switched on and off")
    return Check(name, False, "did not follow the command", "check the board profile's pin for it")


def _held_fix(port: str, pids: list[int]) -> str:
    if any(_is_lane_unit(pid) for pid in pids):
        return f"the lane's service holds it: stop it first (sudo systemctl stop {LANE_UNIT})"
    who = ", ".join(describe(pid) for pid in pids)
    return f"{port} is held open by {who}: stop that program (or close it), then re-run"


async def _id_module(module_config: SerialReaderConfig) -> Check:
    port = module_config.port
    module = SerialIdModule(port, baudrate=module_config.baudrate)
    try:
        sam_id = await asyncio.wait_for(module.probe(), timeout=5)
    except (OSError, TimeoutError, NoReply) as err:
        held = holders(port) if "lock" in str(err) else []  # pyserial: "Could not exclusively lock port"
        if held:
            return Check("ID module", False, f"{port} is in use: {err}", _held_fix(port, held))
        return Check(
            "ID module",
            False,
            f"no answer on {port}: {err}",
            "check the cable, the module's power and the port in [readers.id_module]",
        )
    except Exception as err:  # noqa: BLE001 - the module's own status errors, reported by name
        return Check("ID module", False, f"{type(err).__name__}: {err}", "see the module's status code")
    finally:
        await module.aclose()
    return Check("ID module", True, f"SAM {sam_id[:8]}… answers on {port}")


def _id_module_beside(module_config: SerialReaderConfig, lane: Sequence[int]) -> Check:
    port = module_config.port
    if not Path(port).exists():
        return Check("ID module", False, f"{port} missing", "check the module's cable and power")
    held = holders(port)
    if any(pid in held for pid in lane):
        return Check("ID module", True, f"{port} is open in the running lane; not opened here", mark=SKIP)
    return Check(
        "ID module",
        False,
        f"the running lane does not hold {port}",
        "see `journalctl -u sitegate-controller` for the reader's fault",
    )


async def _pcsc(pcsc_config: PcscReaderConfig) -> Check:
    from controller.readers.pcsc_reader import PcscReader  # pyscard only where configured

    async with PcscReader(pcsc_config.reader, poll_timeout=pcsc_config.poll_timeout_s) as reader:
        if reader.healthy:
            return Check("PC/SC reader", True, f"{pcsc_config.reader or 'first reader'} present")
        return Check(
            "PC/SC reader",
            False,
            reader.fault or "not available",
            "check that pcscd runs and the reader is plugged in; the name in [readers.pcsc] must match",
        )


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _journal_files(path: Path) -> list[Path]:
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def _journal(config: ControllerConfig, *, running: bool = False) -> Check:
    path, directory = config.journal_path, config.data_dir
    try:
        owner = directory.stat().st_uid
    except OSError:
        owner = None
    euid = os.geteuid()
    if running or (euid == 0 and owner not in (None, 0)):
        return _journal_inspected(config, owner if owner is not None else euid, running=running)
    if (
        euid != 0
        and owner is not None
        and any(item.stat().st_uid != euid for item in (directory, *_journal_files(path)))
    ):
        return _journal_inspected(config, euid, running=False)  # names the file and the fix
    try:
        journal = Journal(path)
    except Exception as err:  # noqa: BLE001
        return Check("journal", False, str(err), f"check that {directory} is writable by {_user(euid)}")
    try:
        return Check("journal", True, f"writable by {_user(euid)}; backlog {journal.backlog()} events")
    finally:
        journal.close()


def _journal_inspected(config: ControllerConfig, owner: int, *, running: bool) -> Check:
    """Without writing: every journal file the lane's user's, readable, its backlog counted."""
    path, directory = config.journal_path, config.data_dir
    files = _journal_files(path)
    for item in (directory, *files):
        uid = item.stat().st_uid
        if uid != owner:
            return Check(
                "journal",
                False,
                f"{item} belongs to {_user(uid)}, not to {_user(owner)}, the lane's user: it cannot write it",
                f"sudo chown -R {_user(owner)}: {directory} (or re-run provisioning, which does)",
            )
    why = "beside the running lane" if running else f"as {_user(os.geteuid())}, creating nothing"
    if not files:
        return Check("journal", True, f"{directory} belongs to {_user(owner)}; no journal yet ({why})")
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as db:
            backlog = int(db.execute("SELECT count(*) FROM events").fetchone()[0])
    except sqlite3.Error as err:
        return Check("journal", False, f"{path}: {err}", "see `journalctl -u sitegate-controller`")
    return Check("journal", True, f"{_user(owner)}'s; backlog {backlog} events (read {why})")


def _roster(config: ControllerConfig) -> Check:
    loaded = load_roster(config.roster_path)
    if loaded.fault:
        return Check(
            "roster", False, loaded.fault, "wait for the hub to push a roster, or resync from the hub"
        )
    roster = loaded.roster
    if roster.project_id != config.project_id:
        return Check(
            "roster", False, f"roster is for {roster.project_id}", "re-enrol this lane on its project"
        )
    return Check("roster", True, f"version {roster.version}, {len(roster)} people")


def _tls(config: ControllerConfig) -> ssl.SSLContext | Check | None:
    mqtt = config.mqtt
    if mqtt.ca_file is None or mqtt.cert_file is None or mqtt.key_file is None:
        return None
    try:
        return tls_context(mqtt.ca_file, mqtt.cert_file, mqtt.key_file)
    except OSError as err:  # ssl.SSLError is one
        return Check("broker", False, f"TLS files unusable: {err}", "re-run provisioning")


def _unreachable(config: ControllerConfig, err: object) -> Check:
    where = f"{config.mqtt.host}:{config.mqtt.port}"
    return Check("broker", False, f"{where}: {err}", "check the network and the [mqtt] section")


async def _broker(config: ControllerConfig) -> Check:
    """Connects as the lane does: over TLS with the device's own certificate when it has one. The
    broker names the session after the certificate (``use_username_as_clientid``), so this is the
    lane's own session: run only while the lane is not."""
    context = _tls(config)
    if isinstance(context, Check):
        return context
    try:
        async with aiomqtt.Client(
            config.mqtt.host, config.mqtt.port, identifier=config.device_id, timeout=5, tls_context=context
        ):
            pass
    except aiomqtt.MqttError as err:
        return _unreachable(config, err)
    return Check("broker", True, f"connected to {config.mqtt.host}:{config.mqtt.port}")


async def _broker_beside(config: ControllerConfig) -> Check:
    """Beside a running lane: the TLS handshake with the device's certificate (the broker checks it,
    and the CRL, there) and no MQTT session, which would take over the lane's."""
    context = _tls(config)
    if isinstance(context, Check):
        return context
    host, port = config.mqtt.host, config.mqtt.port
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=context), timeout=HANDSHAKE_S
        )
    except (OSError, TimeoutError) as err:
        return _unreachable(config, err)
    try:
        if context is not None:
            try:
                closed = await asyncio.wait_for(reader.read(1), timeout=REFUSAL_WAIT_S) == b""
            except TimeoutError:
                closed = False  # the broker waits for our CONNECT: the certificate was accepted
            except (OSError, ssl.SSLError) as err:
                return Check(
                    "broker", False, f"{host}:{port} refused the device's certificate: {err}", "re-enrol"
                )
            if closed:
                return Check("broker", False, f"{host}:{port} closed the connection", "re-enrol this lane")
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    how = "TLS handshake with the device's certificate accepted" if context is not None else "reachable"
    return Check("broker", True, f"{host}:{port}: {how}; no session opened beside the running lane's")


async def run_selftest(
    config: ControllerConfig, *, pin_factory: Any = None, lane: Sequence[int] | None = None
) -> list[Check]:
    """Every check; ``lane`` is the running lane's processes (found through /proc when not given):
    with one running, the self-test works beside it and disturbs nothing of it."""
    running = list(lane_processes(config) if lane is None else lane)
    checks: list[Check] = []
    if running:
        who = ", ".join(describe(pid) for pid in running)
        checks.append(Check("lane", True, f"the lane is running as {who}; tested beside it, taking nothing"))
    try:
        config.read_site_key()
        checks.append(Check("site key", True, "present"))
    except ValueError as err:
        checks.append(Check("site key", False, str(err), "re-run provisioning"))
    if running:
        checks.append(
            Check(
                "relay, LEDs, buzzer",
                True,
                "not cycled: the running lane drives them",
                f"to cycle them, stop the lane (sudo systemctl stop {LANE_UNIT}) and run the self-test again",
                mark=SKIP,
            )
        )
    else:
        outputs = LaneOutputs(load_board(config.board), config.direction, pin_factory=pin_factory)
        try:
            for name, device in (
                ("relay", outputs.relay),
                ("green LED", outputs.green),
                ("red LED", outputs.red),
                ("buzzer", outputs.buzzer),
            ):
                checks.append(await _cycle(name, device))
        finally:
            outputs.close()
    if config.readers.id_module is not None:
        if running:
            checks.append(_id_module_beside(config.readers.id_module, running))
        else:
            checks.append(await _id_module(config.readers.id_module))
    if config.readers.pcsc is not None:
        checks.append(await _pcsc(config.readers.pcsc))  # pcscd shares its readers
    checks.append(await (_broker_beside(config) if running else _broker(config)))
    checks.append(_journal(config, running=bool(running)))
    checks.append(_roster(config))
    return checks


def report(checks: list[Check]) -> str:
    lines = [check.line() for check in checks]
    failed = sum(not c.ok and c.mark is None for c in checks)
    passed = sum(c.ok and c.mark is None for c in checks)
    summary = f"{passed} of {len(checks)} checks passed" + (f", {failed} failed" if failed else "")
    for mark, words in _MARK_WORDS.items():
        count = sum(c.mark == mark for c in checks)
        summary += f", {count} {words}" if count else ""
    lines.append(summary)
    return "\n".join(lines)

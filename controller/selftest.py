"""``sitegate controller selftest``: every part of the lane exercised once, as a checklist.

Run by the site manager after provisioning and by the setup script: each line says what was
checked, whether it passed, and for a failure what to do about it. The relay is cycled, so the
arm releases briefly: run it with the lane clear.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aiomqtt

from controller.board import load_board
from controller.config import ControllerConfig, PcscReaderConfig, SerialReaderConfig
from controller.journal import Journal
from controller.outputs import LaneOutputs
from controller.readers.gat467.errors import NoReply
from controller.readers.serial_module import SerialIdModule
from controller.roster_store import load_roster
from controller.tls import tls_context

CYCLE_S = 0.3


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        mark = "PASS" if self.ok else "FAIL"
        text = f"[{mark}] {self.name}: {self.detail}"
        return text if self.ok or not self.fix else f"{text}\n       fix: {self.fix}"


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


async def _id_module(module_config: SerialReaderConfig) -> Check:
    port = module_config.port
    module = SerialIdModule(port, baudrate=module_config.baudrate)
    try:
        sam_id = await asyncio.wait_for(module.probe(), timeout=5)
    except (OSError, TimeoutError, NoReply) as err:
        return Check(
            "ID module",
            False,
            f"no answer on {port}: {err}",
            "check the cable, the port in [readers.id_module] and that nothing else holds it open",
        )
    except Exception as err:  # noqa: BLE001 - the module's own status errors, reported by name
        return Check("ID module", False, f"{type(err).__name__}: {err}", "see the module's status code")
    finally:
        await module.aclose()
    return Check("ID module", True, f"SAM {sam_id[:8]}… answers on {port}")


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


def _journal(config: ControllerConfig) -> Check:
    try:
        journal = Journal(config.journal_path)
    except Exception as err:  # noqa: BLE001
        return Check("journal", False, str(err), f"check that {config.data_dir} is writable")
    try:
        return Check("journal", True, f"writable; backlog {journal.backlog()} events")
    finally:
        journal.close()


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


async def _broker(config: ControllerConfig) -> Check:
    """Connects as the lane does: over TLS with the device's own certificate when it has one."""
    mqtt = config.mqtt
    context = None
    if mqtt.ca_file is not None and mqtt.cert_file is not None and mqtt.key_file is not None:
        try:
            context = tls_context(mqtt.ca_file, mqtt.cert_file, mqtt.key_file)
        except OSError as err:  # ssl.SSLError is one
            return Check("broker", False, f"TLS files unusable: {err}", "re-run provisioning")
    try:
        async with aiomqtt.Client(
            mqtt.host, mqtt.port, identifier=f"{config.device_id}-selftest", timeout=5, tls_context=context
        ):
            pass
    except aiomqtt.MqttError as err:
        return Check(
            "broker",
            False,
            f"{config.mqtt.host}:{config.mqtt.port}: {err}",
            "check the network and the [mqtt] section",
        )
    return Check("broker", True, f"connected to {config.mqtt.host}:{config.mqtt.port}")


async def run_selftest(config: ControllerConfig, *, pin_factory: Any = None) -> list[Check]:
    checks: list[Check] = []
    try:
        config.read_site_key()
        checks.append(Check("site key", True, "present"))
    except ValueError as err:
        checks.append(Check("site key", False, str(err), "re-run provisioning"))
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
        checks.append(await _id_module(config.readers.id_module))
    if config.readers.pcsc is not None:
        checks.append(await _pcsc(config.readers.pcsc))
    checks.append(await _broker(config))
    checks.append(_journal(config))
    checks.append(_roster(config))
    return checks


def report(checks: list[Check]) -> str:
    lines = [check.line() for check in checks]
    failed = sum(not c.ok for c in checks)
    lines.append(
        f"{len(checks) - failed} of {len(checks)} checks passed" + (f", {failed} failed" if failed else "")
    )
    return "\n".join(lines)

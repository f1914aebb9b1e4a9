"""``sitegate controller``: run a lane from its TOML configuration, or check that configuration."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from gpiozero import DigitalOutputDevice

from controller.board import BoardError, load_board
from controller.clock import LaneClock, SystemClock
from controller.command_runner import CommandRunner
from controller.config import ConfigError, ControllerConfig, load_config
from controller.core.roster import Roster
from controller.executed_commands import ExecutedCommands
from controller.feedback.build import build_feedback
from controller.inputs import LaneInputs
from controller.journal import Journal, JournalError
from controller.outputs import LaneOutputs
from controller.readers.serial_module import SerialIdModule
from controller.registration import OfficeReader, masked_show
from controller.roster_store import load_roster
from controller.roster_sync import RosterSync
from controller.selftest import report, run_selftest
from controller.service import CardSource, LaneService
from controller.site_sync import SiteLink
from controller.supervision import Notifier, watchdog_interval
from controller.uplink import Uplink
from sitegate.clitext import plain_error, plain_help
from wire.topics import Channel

log = logging.getLogger("sitegate.controller")


def pin_factory_for(config: ControllerConfig) -> Any:
    if config.pin_factory == "mock":
        from gpiozero.pins.mock import MockFactory

        return MockFactory()
    return None  # gpiozero picks the board's own factory (lgpio on a Pi 5, rpi-gpio / lgpio on a Pi 4)


def card_sources(config: ControllerConfig) -> list[CardSource]:
    """Every reader the lane's configuration names; a lane may have both kinds at once."""
    sources: list[CardSource] = []
    if config.readers.id_module is not None:
        module = config.readers.id_module
        sources.append(
            SerialIdModule(module.port, baudrate=module.baudrate, poll_interval=module.poll_interval_s)
        )
    if config.readers.pcsc is not None:
        from controller.readers.pcsc_reader import PcscReader  # pyscard: imported only where configured

        pcsc = config.readers.pcsc
        sources.append(PcscReader(pcsc.reader, poll_timeout=pcsc.poll_timeout_s))
    return sources


def fail_secure(config: ControllerConfig, *, pin_factory: Any = None) -> None:
    """Drive both relays inactive: systemd runs this before the lane starts and after it stops
    (ExecStartPre / ExecStopPost), which covers a crash or a SIGKILL the process cannot clean up."""
    board = load_board(config.board)
    for spec in (board.outputs.relay_in, board.outputs.relay_out):
        relay = DigitalOutputDevice(
            spec.pin, active_high=spec.active_high, initial_value=False, pin_factory=pin_factory
        )
        relay.off()
        relay.close()


def _restart_service() -> None:
    """Stop cleanly (the SIGTERM path: fail-secure, journal closed); systemd's Restart=always
    starts the lane again."""
    os.kill(os.getpid(), signal.SIGTERM)


def _roster_sync(config: ControllerConfig, service: LaneService, uplink: Uplink) -> RosterSync | None:
    """Rosters pushed by the hub, when the lane pins the hub's key; without one it keeps its file."""
    if config.roster_key is None:
        return None
    sync = RosterSync(
        service,
        device_id=config.device_id,
        project_id=config.project_id,
        public_key=config.roster_key,
        roster_path=config.roster_path,
        send=uplink.send,
        clock=lambda: service.clock.mono_ns() / 1e9,  # chunk timeouts, on the lane's one clock
    )
    uplink.on(Channel.ROSTER, sync)
    return sync


def _site_link(config: ControllerConfig, service: LaneService, uplink: Uplink) -> SiteLink | None:
    """Anti-passback shared with the site's other lanes (invariant 10): their passages, relayed and
    signed by the hub, verified with the pinned roster key; without one the lane keeps its own."""
    if config.roster_key is None or not config.site.share_passages:
        return None
    link = SiteLink(
        service,
        device_id=config.device_id,
        project_id=config.project_id,
        public_key=config.roster_key,
        silence_s=config.site.sibling_silence_s,
        send=uplink.send,
        clock=service.clock,
    )
    uplink.on(Channel.SITE, link)
    uplink.on_connect(link.hello)  # at every connection: catch me up, and until then do not trust me
    service.site = link
    return link


def build_service(
    config: ControllerConfig, *, pin_factory: Any = None, clock: LaneClock | None = None
) -> LaneService:
    """Everything a lane needs, wired from its configuration; the caller runs ``service.run()``.

    ``clock`` is the lane's one clock: what it judges hours and dates by, stamps its records and
    heartbeats with, and times its uplink's resends by. The machine's own (in the configured zone)
    unless a caller, such as a test or the demo, says which instant the lane lives in."""
    clock = clock or SystemClock(config.timezone)
    board = load_board(config.board)
    site_key = config.read_site_key()
    journal = Journal(config.journal_path, retention=config.journal.retention())
    loaded = load_roster(config.roster_path)
    if loaded.fault:
        log.error("roster fault: %s", loaded.fault)
    roster = loaded.roster
    if roster.project_id and roster.project_id != config.project_id:
        log.error(
            "roster is for project %s, lane is on %s: denying everyone", roster.project_id, config.project_id
        )
        roster = Roster.build(0, config.project_id, [])  # its versions count another project's rosters
    outputs = LaneOutputs(
        board, config.direction, pin_factory=pin_factory, relay_pulse_s=config.relay_pulse_s
    )
    inputs_board = board
    if not config.rotation_sensor:
        inputs_board = board.model_copy(update={"inputs": board.inputs.model_copy(update={"rotation": None})})
    # The uplink sends the service's heartbeat and the service wakes the uplink: the heartbeat is
    # read through ``service`` only once the uplink runs, by which time the name is bound.
    uplink = Uplink(
        config.mqtt, config.device_id, journal, heartbeat=lambda: service.heartbeat(), clock=clock
    )
    service = LaneService(
        config,
        site_key=site_key,
        roster=roster,
        journal=journal,
        outputs=outputs,
        sources=card_sources(config),
        clock=clock,
        uplink=uplink,
        inputs=LaneInputs(inputs_board, pin_factory=pin_factory),
        feedback=build_feedback(config, board, clock=clock, pin_factory=pin_factory),
    )
    sync = _roster_sync(config, service, uplink)
    resync = sync.resync if sync is not None else None
    if sync is not None:
        uplink.on_connect(sync.report)  # the hub learns at every connection which version this lane runs
    executed = ExecutedCommands(config.data_dir / "commands.json")  # survives a restart: no second open
    commands = CommandRunner(
        service,
        uplink.send,
        executed=executed,
        resync=resync,
        restart=_restart_service,
        hub_time=uplink.hub_time,
    )
    uplink.on(Channel.COMMAND, commands)
    _site_link(config, service, uplink)
    if config.mode == "registration":
        service.office = OfficeReader(
            config.device_id,
            send=uplink.send,
            now=service.time.now,
            synced=clock.synced,
            show=masked_show(service.feedback) if service.feedback is not None else None,
        )
    log.info(
        "lane %s (%s, %s) ready: roster v%d with %d entries, journal backlog %d",
        config.lane,
        config.device_id,
        config.direction.value,
        roster.version,
        len(roster),
        journal.backlog(),
    )
    return service


def settle_heap() -> None:
    """Move what startup made (modules, pydantic's schemas: ~90,000 objects that live as long as
    the process) out of the garbage collector's sight, so that a full collection walks only what
    came after: 36 ms less each time one runs (bench/roster_sync.py, on the desktop of the
    README), whether it falls in a swipe or in receiving a roster, whose 100,000 parsed rows are
    what usually sets one off. Frozen objects are still freed as soon as nothing refers to them."""
    gc.collect()
    gc.freeze()


async def _run(config: ControllerConfig) -> None:
    service = build_service(config, pin_factory=pin_factory_for(config))
    settle_heap()
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        async with contextlib.AsyncExitStack() as stack:
            for source in service.sources:
                await stack.enter_async_context(source)  # type: ignore[arg-type]
            await service.run(notifier=Notifier(), watchdog_s=watchdog_interval(default=5.0) or 5.0)
    except asyncio.CancelledError:
        log.info("lane %s stopping", config.lane)
    finally:
        service.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sitegate controller", description=plain_help(__doc__))
    parser.add_argument(
        "command", nargs="?", default="run", choices=["run", "check-config", "selftest", "fail-secure"]
    )
    parser.add_argument("--config", type=Path, default=Path("/etc/sitegate/controller.toml"))
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        config = load_config(args.config)
        load_board(config.board)
        config.read_site_key()
    except (ConfigError, BoardError) as err:
        print(f"configuration error: {plain_error(err)}", file=sys.stderr)
        return 2
    if args.command == "check-config":
        print(f"{args.config}: OK (lane {config.lane}, device {config.device_id})")
        return 0
    if args.command == "fail-secure":
        fail_secure(config, pin_factory=pin_factory_for(config))
        print(f"relays of {config.device_id} driven to their locked state")
        return 0
    if args.command == "selftest":
        checks = asyncio.run(run_selftest(config, pin_factory=pin_factory_for(config)))
        print(report(checks))
        return 0 if all(check.ok for check in checks) else 1
    try:
        asyncio.run(_run(config))
    except JournalError as err:
        print(f"journal error: {plain_error(err)}", file=sys.stderr)
        return 1
    return 0

"""The demo's lanes, enrolled the production way and fed by the hub.

For each lane, the project department's account asks the hub for a one-time enrolment token
(``POST /api/v1/enrolment-tokens``) and ``sitegate provision`` runs with it, as a site manager runs
it on a Pi, into the lane's own root directory: it makes the device's key, sends a CSR with the
token and writes what the hub answers (the device's certificate, the hub's CA, the broker, the
hub's roster key to pin, the project's site key) into ``<root>/etc/sitegate``, then self-tests the
lane (relay, ID module, broker). The lane is built from the configuration it wrote, seen from
outside its root (:func:`provisioning.layout.rebased`).

Provisioning writes what a real lane needs; a demo wants a few settings of its own, applied on top
of the written file by :func:`with_demo_settings` (a site manager would put the same keys in
``controller.toml``): a short relay pulse and passage timeout and a faster reader poll so the
shift plays quickly. The project's site rules (hard anti-passback, workers' hours laid around the
demo's own clock so the shift plays the same at any hour: :func:`shift_hours`) are not among them:
they are seeded into the hub's registry (:mod:`sitegate.demo_registry`) and come to the lanes
signed with the roster, as a site manager sets them in the console.

The lanes then receive the project's roster from the hub over MQTT (:mod:`controller.roster_sync`);
:func:`rosters_current` waits until each runs the version the hub holds, and
:func:`sites_caught_up` until each has been caught up with its site (site-wide anti-passback,
:mod:`controller.site_sync`): the entry lane learns of the exit lane's passages through the hub,
which the shift's return phase relies on (:func:`heard_of_exits`).
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from gpiozero.pins.mock import MockFactory

from controller.board import load_board
from controller.cli import build_service
from controller.clock import LaneClock
from controller.config import ControllerConfig, load_config
from controller.service import LaneService
from hardware.emulators.id_module import IdModuleEmulator
from provisioning.layout import CONFIG, rebased
from wire.models import AccessEvent, LaneEvent

PROVISION_TIMEOUT_S = 60.0
ROSTER_WAIT_S = 30.0
SITE_WAIT_S = 30.0
HEARD_WAIT_S = 10.0
RESYNC_EVERY_S = 2.0
SUBSCRIBED_AFTER_S = 0.3
"""A lane subscribes to its topics right after it connects: a command sent sooner may be lost."""


class DemoError(RuntimeError):
    """A step of the demo did not happen; the message says which and where to look."""


@dataclass
class Lane:
    name: str
    device_id: str
    emulator: IdModuleEmulator
    service: LaneService
    pins: MockFactory
    rotation_pin: int
    events: list[AccessEvent] = field(default_factory=list)
    lane_events: list[LaneEvent] = field(default_factory=list)

    def observe(self, record: AccessEvent | LaneEvent) -> None:
        if isinstance(record, AccessEvent):
            self.events.append(record)
        else:
            self.lane_events.append(record)


async def call(session: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> Any:
    """The hub's JSON answer; DemoError with the hub's own error for anything but a 2xx."""
    async with session.request(method, url, **kwargs) as response:
        body = await response.json()
    if response.status >= 300:
        raise DemoError(f"{method} {url}: {response.status} {body.get('error', body)}")
    return body


async def provision(
    department: aiohttp.ClientSession, base: str, device_id: str, root: Path, port: str
) -> ControllerConfig:
    """A token from the project department, then ``sitegate provision`` into ``root``; the lane's
    configuration as seen from outside ``root``. Its checklist goes to ``root/provision.log``."""
    answer = await call(department, "POST", f"{base}/api/v1/enrolment-tokens", json={"device_id": device_id})
    return await asyncio.to_thread(_provision, base, answer["token"], device_id, root, port)


def _provision(base: str, token: str, device_id: str, root: Path, port: str) -> ControllerConfig:
    root.mkdir(parents=True, exist_ok=True)
    log = root / "provision.log"
    command = [sys.executable, "-m", "sitegate.cli", "provision", "--hub", base, "--token", token]
    command += ["--root", str(root), "--mock-pins", "--id-module", port]
    with log.open("wb") as output:
        try:
            done = subprocess.run(
                command, stdout=output, stderr=subprocess.STDOUT, timeout=PROVISION_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            took = f"took over {PROVISION_TIMEOUT_S:.0f} s"
            raise DemoError(f"sitegate provision of {device_id} {took}; see {log}") from None
    if done.returncode != 0:
        failed = [line for line in log.read_text().splitlines() if "FAIL" in line or "fix:" in line]
        raise DemoError(f"sitegate provision of {device_id} failed: {'; '.join(failed)[:600]} (see {log})")
    return rebased(load_config(root / CONFIG.relative_to("/")), root)


def shift_hours(now: datetime) -> str:
    """The workers' hours of the demo's project: the twelve hours around ``now`` (the site's local
    time the shift was laid at). Laid late in the evening or early in the morning they run past
    midnight, written as a window whose end comes before its start ("17:59-05:59"): the policy
    reads that as a night shift, not as an empty or invalid window, so the shift plays the same at
    any hour."""
    return f"{now - timedelta(hours=6):%H:%M}-{now + timedelta(hours=6):%H:%M}"


def with_demo_settings(config: ControllerConfig) -> ControllerConfig:
    """The provisioned configuration with the demo's own settings on top, checked by the same
    model as the file (a bad value fails here, not mid-shift). No policy: the project's site rules
    come with the roster."""
    settings = config.model_dump()
    settings.update(relay_pulse_s=0.3, passage_timeout_s=1.0)
    assert settings["readers"]["id_module"] is not None, "the demo's lanes read cards with the ID module"
    settings["readers"]["id_module"]["poll_interval_s"] = 0.05
    settings["mqtt"]["heartbeat_s"] = 5
    return ControllerConfig.model_validate(settings)


def build_lane(name: str, config: ControllerConfig, emulator: IdModuleEmulator, clock: LaneClock) -> Lane:
    """The lane on mock pins, on the demo's clock: the one its shift and workers' hours were laid by."""
    pins = MockFactory()
    service = build_service(config, pin_factory=pins, clock=clock)
    rotation = load_board(config.board).inputs.rotation
    assert rotation is not None, "the demo's board profile has a rotation sensor"
    lane = Lane(name, config.device_id, emulator, service, pins, rotation.pin)
    service.observers.append(lane.observe)
    return lane


def _connected_for(lane: Lane) -> float:
    uplink = lane.service.uplink
    if uplink is None or not uplink.connected or uplink.connected_at is None:
        return -1.0
    return lane.service.clock.mono_ns() / 1e9 - uplink.connected_at  # the uplink's clock is the lane's


async def rosters_current(
    lanes: dict[str, Lane], session: aiohttp.ClientSession, base: str, within_s: float = ROSTER_WAIT_S
) -> int:
    """Until every lane runs the roster version the hub holds for its project (as the hub's
    ``GET /api/v1/devices`` and the lane itself both say); that version.

    The hub published the roster when it started, before the lanes were enrolled: a lane that
    subscribes later is handed the retained announcement, but the chunks went out before it was
    listening. Rather than wait out its chunk timeout, the demo sends each connected lane the
    ``resync`` command a hub operator would, and again every few seconds while it lags.
    """
    deadline = time.monotonic() + within_s
    asked: dict[str, float] = {}
    while True:
        listed = await call(session, "GET", f"{base}/api/v1/devices")
        devices = {device["device_id"]: device["roster"] for device in listed["devices"]}
        behind: dict[str, str] = {}
        for name, lane in lanes.items():
            roster = devices.get(lane.device_id) or {}
            current, running = roster.get("current_version"), lane.service.roster.version
            if current and roster.get("applied_version") == current == running:
                continue
            problem = f", problem: {roster['problem']}" if roster.get("problem") else ""
            behind[name] = f"{lane.device_id} runs v{running}, the hub holds v{current or '?'}{problem}"
            if _connected_for(lane) >= SUBSCRIBED_AFTER_S and time.monotonic() >= asked.get(name, 0.0):
                asked[name] = time.monotonic() + RESYNC_EVERY_S
                url = f"{base}/api/v1/devices/{lane.device_id}/commands"
                await call(session, "POST", url, json={"action": "resync", "wait_s": 0})
        if not behind:
            return next(iter(lanes.values())).service.roster.version
        if time.monotonic() > deadline:
            raise DemoError(
                f"the lanes did not receive their roster from the hub within {within_s:.0f} s: "
                + "; ".join(behind.values())
            )
        await asyncio.sleep(0.1)


async def sites_caught_up(lanes: dict[str, Lane], within_s: float = SITE_WAIT_S) -> None:
    """Until every lane trusts its view of its site: it asked the hub when it connected, and the
    hub has sent the site's recent passages and a sync answering it. Until then hard anti-passback
    is only a warning, and the shift's second entry would be admitted."""
    deadline = time.monotonic() + within_s
    while True:
        waiting = {
            name: lane.service.site.problem() if lane.service.site is not None else "no site link"
            for name, lane in lanes.items()
            if not lane.service.passback_verified()
        }
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise DemoError(
                f"the lanes were not caught up with their site within {within_s:.0f} s: "
                + "; ".join(f"{name}: {problem}" for name, problem in waiting.items())
            )
        await asyncio.sleep(0.05)


async def heard_of_exits(entry: Lane, people: list[str], within_s: float = HEARD_WAIT_S) -> None:
    """Until the entry lane holds each of ``people`` as outside: their exits, made at the exit lane,
    relayed to it by the hub."""
    deadline = time.monotonic() + within_s
    while True:
        inside = [person for person in people if entry.service.passback.inside(person) is not False]
        if not inside:
            return
        if time.monotonic() > deadline:
            raise DemoError(
                f"the entry lane did not hear of {len(inside)} exits within {within_s:.0f} s "
                f"(e.g. {inside[0]}); see the hub's log"
            )
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def running(lanes: dict[str, Lane]) -> AsyncIterator[None]:
    """The lanes' readers open and their services running; stopped and closed on the way out."""
    async with contextlib.AsyncExitStack() as sources:
        for lane in lanes.values():
            for source in lane.service.sources:
                await sources.enter_async_context(source)  # type: ignore[arg-type]
        tasks = [asyncio.create_task(lane.service.run()) for lane in lanes.values()]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for lane in lanes.values():
                lane.service.close()

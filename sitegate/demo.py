"""``sitegate demo``: the whole system on one machine, on its embedded defaults.

A private mosquitto on a free loopback port, the hub (its own process, SQLite), and two lanes
(entry and exit) in this process, each with an emulated GA/T 467 ID module on a pty and mock GPIO
pins. A scripted shift is played through the real readers; at the end the lanes' own tally is
printed beside the hub's, read back over its HTTP API, and the demo fails if they differ.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import aiohttp
from gpiozero.pins.mock import MockFactory

from controller.board import load_board
from controller.cli import build_service
from controller.clock import SystemClock
from controller.config import load_config
from controller.roster_store import save_roster
from controller.service import LaneService
from hardware.emulators.id_module import IdModuleEmulator
from provisioning.ca import (
    HUB_IDENTITY,
    CertificateAuthority,
    generate_key,
    make_csr,
    write_key,
    write_public,
)
from sitegate.demo_script import ScriptedSwipe, Shift, build_shift
from sitegate.hubproc import create_account, hub_process
from sitegate.mosquitto import Mosquitto
from wire.models import AccessEvent, LaneEvent, LaneEventType, Reason

LANES = {"entry": ("lane-hz0042-a1", "A1", "in"), "exit": ("lane-hz0042-a2", "A2", "out")}
SWIPE_TIMEOUT_S = 10.0
ACCOUNT = "city-duty"
"""The demo's hub account (the city station's: it reads every count and may open any lane)."""


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


def _enrol(
    ca: CertificateAuthority, home: Path, identity: str, *, hub: bool = False
) -> tuple[Path, Path, Path]:
    """(CA cert, certificate, key) for a lane (key and CSR made on its side) or the hub."""
    home.mkdir(parents=True, exist_ok=True)
    if hub:
        cert_pem, key_pem = ca.issue_hub_identity(identity)
    else:
        key_pem = generate_key()
        cert_pem = ca.issue_client(make_csr(identity, key_pem), identity)
    write_key(home / "tls.key", key_pem, overwrite=True)
    write_public(home / "tls.crt", cert_pem)
    write_public(home / "ca.crt", ca.cert_pem)
    return home / "ca.crt", home / "tls.crt", home / "tls.key"


def _lane_config(
    root: Path, name: str, shift: Shift, broker: Mosquitto, port: str, ca: CertificateAuthority
) -> Path:
    device_id, lane, direction = LANES[name]
    data = root / name
    data.mkdir(parents=True, exist_ok=True)
    ca_file, cert_file, key_file = _enrol(ca, data / "tls", device_id)
    (data / "site.key").write_text(shift.site_key.hex())
    save_roster(data / "roster.json", 1, shift.project_id, shift.roster, shift.watchlist)
    # Workers' hours are laid around the demo's own clock, so the shift plays the same at any hour.
    now = SystemClock().now()
    hours = f"{now - timedelta(hours=6):%H:%M}-{now + timedelta(hours=6):%H:%M}"
    config = data / "controller.toml"
    config.write_text(
        "\n".join(
            [
                f'device_id = "{device_id}"',
                f'project_id = "{shift.project_id}"',
                f'lane = "{lane}"',
                f'direction = "{direction}"',
                f'data_dir = "{data}"',
                f'site_key_file = "{data / "site.key"}"',
                'pin_factory = "mock"',
                "relay_pulse_s = 0.3",
                "passage_timeout_s = 1.0",
                "[readers.id_module]",
                f'port = "{port}"',
                "poll_interval_s = 0.05",
                "[policy]",
                'anti_passback = "hard"',
                f'working_hours = {{ worker = "{hours}" }}',
                "[mqtt]",
                f'host = "{broker.host}"',
                f"port = {broker.port}",
                "heartbeat_s = 5",
                f'ca_file = "{ca_file}"',
                f'cert_file = "{cert_file}"',
                f'key_file = "{key_file}"',
                "",
            ]
        )
    )
    return config


def _hub_config(root: Path, ca: CertificateAuthority) -> Path:
    """The hub's TOML: its own certificate from the CA, so it speaks TLS to the broker like the lanes."""
    ca_file, cert_file, key_file = _enrol(ca, root / "hub-tls", HUB_IDENTITY, hub=True)
    hub_toml = root / "hub.toml"
    hub_toml.write_text(
        f'mqtt_ca_file = "{ca_file}"\nmqtt_cert_file = "{cert_file}"\nmqtt_key_file = "{key_file}"\n'
    )
    return hub_toml


async def _wait_healthy(
    session: aiohttp.ClientSession, base: str, hub: subprocess.Popen[bytes], root: Path
) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if hub.poll() is not None:
            raise RuntimeError(f"the hub exited with {hub.returncode}; see {root / 'hub.log'}")
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(f"{base}/healthz") as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the hub did not become healthy in 30 s; see {root / 'hub.log'}")


async def _login(session: aiohttp.ClientSession, base: str, password: str) -> dict[str, str]:
    """Headers with a bearer token for the demo's account, from POST /api/v1/auth/login."""
    async with session.post(
        f"{base}/api/v1/auth/login", json={"username": ACCOUNT, "password": password}
    ) as response:
        body = await response.json()
    if response.status != 200:
        raise RuntimeError(f"the demo could not log in to the hub: {body}")
    return {"Authorization": f"Bearer {body['token']}"}


async def _swipe(lane: Lane, swipe: ScriptedSwipe) -> AccessEvent:
    before = len(lane.events)
    lane.emulator.present(swipe.card)
    deadline = time.monotonic() + SWIPE_TIMEOUT_S
    try:
        while len(lane.events) == before:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"lane {lane.name}: no decision {SWIPE_TIMEOUT_S:.0f} s after a card was presented"
                )
            await asyncio.sleep(0.01)
    finally:
        lane.emulator.remove()
    event = lane.events[before]
    if event.decision.value == "granted" and swipe.walks_through:  # the arm's rotation sensor fires
        rotation = lane.pins.pin(lane.rotation_pin)
        rotation.drive_low()
        await asyncio.sleep(0.02)
        rotation.drive_high()
    await asyncio.sleep(0.12)  # out of the field for a few polls before the next card arrives
    return event


async def _play(lanes: dict[str, Lane], shift: Shift) -> list[str]:
    problems = []
    done = 0
    for phase in ("entry", "exit"):
        lane = lanes[phase]
        for swipe in shift.swipes[phase]:
            event = await _swipe(lane, swipe)
            done += 1
            mark = "ok" if event.reason is swipe.expected else f"EXPECTED {swipe.expected.value}"
            print(
                f"  [{done:3d}/{shift.total}] {phase:<5} {event.decision.value:<8} {event.reason.value:<24} "
                f"{swipe.who:<28} {mark}",
                flush=True,
            )
            if event.reason is not swipe.expected:
                problems.append(
                    f"{phase} swipe by {swipe.who}: {event.reason.value}, expected {swipe.expected.value}"
                )
    return problems


async def _after_the_shift(lanes: dict[str, Lane], session: aiohttp.ClientSession, base: str) -> list[str]:
    """A fire drill on the exit lane (free egress until the alarm clears) and a remote open of the
    entry lane by the duty account through the hub's API, answered by the lane over MQTT; the lane
    journals the account that asked, taken by the hub from the login, not from the request."""
    problems: list[str] = []
    exit_lane = lanes["exit"]
    fire = load_board(exit_lane.service.config.board).inputs.fire_alarm
    assert fire is not None, "the demo's board profile has a fire-alarm input"
    alarm = exit_lane.pins.pin(fire.pin)
    alarm.drive_low()
    await asyncio.sleep(0.2)
    held_open = exit_lane.service.outputs.relay.value == 1
    alarm.drive_high()
    await asyncio.sleep(0.05)
    print(
        f"  fire drill on the exit lane: arm held open {held_open}, closed again "
        f"{exit_lane.service.outputs.relay.value == 0}"
    )
    if not held_open:
        problems.append("the fire alarm did not open the exit lane")
    entry = lanes["entry"]
    async with session.post(
        f"{base}/api/v1/devices/{entry.device_id}/commands", json={"action": "remote_open"}
    ) as response:
        body = await response.json()
    command = body.get("command", {})
    result = command.get("result") or {}
    print(f"  remote open of the entry lane by {command.get('operator')}: {result.get('detail', body)}")
    if not result.get("ok"):
        problems.append(f"remote open failed: {body}")
    return problems


async def _drained(lanes: dict[str, Lane], within_s: float = 30) -> None:
    deadline = time.monotonic() + within_s
    while any(lane.service.journal.backlog() for lane in lanes.values()):
        if time.monotonic() > deadline:
            backlog = {n: lane.service.journal.backlog() for n, lane in lanes.items()}
            raise RuntimeError(
                f"the hub did not acknowledge every event within {within_s:.0f} s: backlog {backlog}"
            )
        await asyncio.sleep(0.05)


def _table(title: str, counts: dict[str, Counter[str]]) -> str:
    """One row per outcome, one column per lane: reads well on an 80-column terminal."""
    lanes = list(counts)
    reasons = [r.value for r in Reason if any(c[r.value] for c in counts.values())]
    header = f"{'outcome':<32}" + "".join(f"{name:>8}" for name in lanes)
    rows = [title, header, "-" * len(header)]
    for reason in reasons:
        label = "granted" if reason == Reason.GRANTED.value else f"denied: {reason}"
        rows.append(f"{label:<32}" + "".join(f"{counts[name][reason]:>8}" for name in lanes))
    rows.append(f"{'total':<32}" + "".join(f"{sum(counts[name].values()):>8}" for name in lanes))
    return "\n".join(rows)


async def _hub_counts(session: aiohttp.ClientSession, base: str, project_id: str) -> dict[str, Counter[str]]:
    async with session.get(
        f"{base}/api/v1/access-events/counts", params={"project_id": project_id}
    ) as response:
        response.raise_for_status()
        body = await response.json()
    by_device = {device_id: name for name, (device_id, _, _) in LANES.items()}
    counts: dict[str, Counter[str]] = {name: Counter() for name in LANES}
    for row in body["counts"]:
        counts[by_device[row["device_id"]]][row["reason"]] += int(row["count"])
    return counts


async def _hub_lane_events(session: aiohttp.ClientSession, base: str, project_id: str) -> Counter[str]:
    """Every lane event of the project, paged through the cursor the API hands out."""
    counts: Counter[str] = Counter()
    params = {"project_id": project_id, "limit": "500"}
    while True:
        async with session.get(f"{base}/api/v1/lane-events", params=params) as response:
            response.raise_for_status()
            body = await response.json()
        counts.update(item["type"] for item in body["items"])
        if not body["next_cursor"]:
            return counts
        params["cursor"] = body["next_cursor"]


async def _compare(
    lanes: dict[str, Lane], session: aiohttp.ClientSession, base: str, project_id: str
) -> list[str]:
    """Print the lanes' tally beside the hub's; every difference is a problem."""
    problems: list[str] = []
    local = {n: Counter(e.reason.value for e in lane.events) for n, lane in lanes.items()}
    remote = await _hub_counts(session, base, project_id)
    print()
    print(_table("Lanes' own tally (granted / denied by reason)", local))
    print()
    print(_table(f"Read back from the hub: GET {base}/api/v1/access-events/counts", remote))
    if local != remote:
        problems.append("the hub's counts differ from the lanes' tally")
    for name, lane in lanes.items():
        remote_opens = sum(e.type is LaneEventType.REMOTE_OPEN for e in lane.lane_events)
        releases = local[name][Reason.GRANTED.value] + remote_opens
        if lane.service.outputs.pulses != releases:
            problems.append(
                f"lane {name}: {lane.service.outputs.pulses} relay pulses for {releases} releases"
            )
    local_lane = Counter(e.type.value for lane in lanes.values() for e in lane.lane_events)
    remote_lane = await _hub_lane_events(session, base, project_id)
    kinds = sorted(local_lane | remote_lane)
    print()
    print("Lane events (lanes / hub): " + ", ".join(f"{k} {local_lane[k]}/{remote_lane[k]}" for k in kinds))
    if local_lane != remote_lane:
        problems.append("the hub's lane events differ from the lanes' own")
    return problems


async def run_demo(root: Path, *, serve: bool, seed: int) -> int:
    now = SystemClock().now()
    shift = build_shift(seed, now)
    print(
        f"SiteGate demo in {root}: {shift.total} swipes on project {shift.project_id}, "
        f"{len(shift.roster)} people on the roster"
    )
    with contextlib.ExitStack() as stack:
        ca = CertificateAuthority.create(root / "ca")
        password = secrets.token_urlsafe(18)
        (root / "account-password").write_text(password + "\n")
        (root / "account-password").chmod(0o600)
        create_account(root / "hub.sqlite3", ACCOUNT, password)
        broker = stack.enter_context(Mosquitto.with_tls(ca))
        print(
            f"  broker  mqtts://{broker.host}:{broker.port} (TLS; a certificate per lane from the hub's CA)"
        )
        hub = stack.enter_context(
            hub_process(
                root / "hub.sqlite3",
                broker.host,
                broker.port,
                config=_hub_config(root, ca),
                log=root / "hub.log",
            )
        )
        base = hub.base_url
        async with aiohttp.ClientSession() as anonymous:
            await _wait_healthy(anonymous, base, hub.proc, root)
            auth = await _login(anonymous, base, password)
        async with aiohttp.ClientSession(headers=auth) as session:
            print(f"  hub     {base}  (log: {root / 'hub.log'}; account {ACCOUNT})")
            lanes: dict[str, Lane] = {}
            for name in LANES:
                emulator = stack.enter_context(IdModuleEmulator())
                config = load_config(_lane_config(root, name, shift, broker, emulator.port, ca))
                pins = MockFactory()
                service = build_service(config, pin_factory=pins)
                rotation = load_board(config.board).inputs.rotation
                assert rotation is not None, "the demo's board profile has a rotation sensor"
                lane = Lane(name, config.device_id, emulator, service, pins, rotation.pin)
                service.observers.append(lane.observe)
                lanes[name] = lane
                print(f"  lane    {name:<5} {config.device_id} reader {emulator.port}")
            async with contextlib.AsyncExitStack() as sources:
                for lane in lanes.values():
                    for source in lane.service.sources:
                        await sources.enter_async_context(source)  # type: ignore[arg-type]
                tasks = [asyncio.create_task(lane.service.run()) for lane in lanes.values()]
                try:
                    problems = await _play(lanes, shift)
                    problems += await _after_the_shift(lanes, session, base)
                    await _drained(lanes)
                    problems += await _compare(lanes, session, base, shift.project_id)
                    print()
                    if problems:
                        print("DEMO FAILED:\n  " + "\n  ".join(problems))
                        return 1
                    pulses = {n: lane.service.outputs.pulses for n, lane in lanes.items()}
                    print(f"OK: {shift.total} swipes, relay pulses {pulses}, hub counts match the lanes.")
                    if serve:
                        paths = [
                            "/healthz",
                            "/api/v1/access-events",
                            "/api/v1/access-events/counts",
                            "/api/v1/lane-events",
                            "/api/v1/devices",
                            "/console/",
                        ]
                        urls = [base + path for path in paths] + [f"mqtts://{broker.host}:{broker.port}"]
                        print("\nServing until Ctrl-C:\n  " + "\n  ".join(urls))
                        print(
                            f"The API wants a token: POST {base}/api/v1/auth/login with username "
                            f"{ACCOUNT!r} and the password in {root / 'account-password'}, then send "
                            "'Authorization: Bearer <token>'; for this demo's session:\n  "
                            f"curl -H '{auth['Authorization']}' {base}/api/v1/devices",
                            flush=True,
                        )
                        print(f"Console: {base}/console/ (log in as {ACCOUNT!r}, same password)", flush=True)
                        stop = asyncio.Event()
                        loop = asyncio.get_running_loop()
                        for sig in (signal.SIGINT, signal.SIGTERM):
                            loop.add_signal_handler(sig, stop.set)
                        await stop.wait()
                        print("stopping")
                    return 0
                finally:
                    for task in tasks:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
                    for lane in lanes.values():
                        lane.service.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sitegate demo", description=__doc__)
    parser.add_argument("--serve", action="store_true", help="keep everything running after the shift")
    parser.add_argument("--seed", type=int, default=20261124, help="seed of the synthetic shift")
    parser.add_argument("--workdir", type=Path, help="where to keep the demo's files (default: a temp dir)")
    parser.add_argument("--verbose", action="store_true", help="show the lanes' own log lines")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    with contextlib.ExitStack() as stack:
        root = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sitegate-demo-")))
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o755)  # noqa: S103 - the broker runs as the mosquitto user and reads its files here
        try:
            return asyncio.run(run_demo(root, serve=args.serve, seed=args.seed))
        except KeyboardInterrupt:
            return 0
        except (RuntimeError, TimeoutError) as err:
            print(f"demo failed: {err}", file=sys.stderr)
            return 1

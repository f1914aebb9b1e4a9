"""``sitegate demo``: the whole system on one machine, on its embedded defaults.

A private TLS mosquitto on a free loopback port, the hub (its own process, SQLite) and two lanes
(entry and exit) in this process, each with an emulated GA/T 467 ID module on a pty and mock GPIO
pins. Before the hub starts, its registry is seeded with a synthetic city (districts, enterprises
of every kind, projects with and without 报备, a few hundred people) and the scripted shift's people
on the demo's project (:mod:`sitegate.demo_registry`). The lanes are placed at the project's gates,
enrolled with one-time tokens and ``sitegate provision`` (their own keys and certificates from the
hub's CA, the hub's roster key, the project's site key) and receive their roster from the hub over
MQTT (:mod:`sitegate.demo_lanes`). Then the shift is played through the real readers; at the end
the lanes' own tally is printed beside the hub's, read back over its HTTP API, and the demo fails
if they differ. Last, the GC's department gives the project its worker-platform settings and the
hub uploads the shift to a stand-in of the platform (:mod:`sitegate.demo_platform`), which says
what it accepted.
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
from pathlib import Path

import aiohttp

from controller.board import load_board
from controller.clock import LaneClock, SystemClock
from hardware.emulators.id_module import IdModuleEmulator
from hub.api.enrolment import CA_DIR
from hub.config import HubConfig
from hub.console.logins import printout
from hub.errors import HubError
from hub.registry.models import GateIn
from hub.registry.seed import SEED_PASSWORD
from provisioning.ca import (
    HUB_IDENTITY,
    CertificateAuthority,
    write_key,
    write_public,
)
from sitegate.clitext import plain_error, plain_help
from sitegate.demo_lanes import (
    DemoError,
    Lane,
    build_lane,
    heard_of_exits,
    provision,
    rosters_current,
    running,
    shift_hours,
    sites_caught_up,
    with_demo_settings,
)
from sitegate.demo_platform import upload_shift
from sitegate.demo_registry import populate
from sitegate.demo_script import ScriptedSwipe, Shift, build_shift
from sitegate.hubproc import HubLauncher, create_account
from sitegate.mosquitto import Mosquitto
from sitegate.platform_standin import PlatformStandin
from wire.models import AccessEvent, Decision, LaneEventType, Reason

LANES = {
    "entry": GateIn(device_id="lane-hz0042-a1", lane="A1", direction="in", name="东门进场"),
    "exit": GateIn(device_id="lane-hz0042-a2", lane="A2", direction="out", name="东门出场"),
}
SWIPE_TIMEOUT_S = 10.0
PEOPLE = 300
"""The seeded city's people, besides the shift's own."""
ACCOUNT = "city-duty"
"""The demo's hub account (the city station's: it reads every count and may open any lane)."""


def _hub_identity(ca: CertificateAuthority, home: Path) -> tuple[Path, Path, Path]:
    """(CA cert, certificate, key) of the hub's own broker identity, issued by its CA."""
    home.mkdir(parents=True, exist_ok=True)
    cert_pem, key_pem = ca.issue_hub_identity(HUB_IDENTITY)
    write_key(home / "tls.key", key_pem, overwrite=True)
    write_public(home / "tls.crt", cert_pem)
    write_public(home / "ca.crt", ca.cert_pem)
    return home / "ca.crt", home / "tls.crt", home / "tls.key"


def _hub_config(root: Path, ca: CertificateAuthority, broker: Mosquitto) -> Path:
    """The hub's TOML: its own certificate from the CA, so it speaks TLS to the broker like the lanes;
    the broker's CRL and ACL where the broker reads them, and its pid, so that a revocation reaches
    it (issue 13: the demo's revocation answered 200 and no broker was told)."""
    ca_file, cert_file, key_file = _hub_identity(ca, root / "hub-tls")
    assert broker.tls is not None
    hub_toml = root / "hub.toml"
    hub_toml.write_text(
        f'mqtt_ca_file = "{ca_file}"\nmqtt_cert_file = "{cert_file}"\nmqtt_key_file = "{key_file}"\n'
        f'broker_files_dir = "{broker.tls.acl_file.parent}"\nbroker_pid_file = "{broker.pid_file}"\n'
        "\n[platform]\ninterval_s = 0.5\npoll_s = 0.2\nfirst_retry_s = 1\n"  # the upload at the end, soon
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


async def _login(session: aiohttp.ClientSession, base: str, username: str, password: str) -> dict[str, str]:
    """Headers with a bearer token for ``username``, from POST /api/v1/auth/login."""
    async with session.post(
        f"{base}/api/v1/auth/login", json={"username": username, "password": password}
    ) as response:
        body = await response.json()
    if response.status != 200:
        raise DemoError(f"the demo could not log in to the hub as {username!r}: {body}")
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
    """The phases in order; before people come back in, the entry lane must have heard (through
    the hub) of every exit that went through at the exit lane."""
    problems = []
    done = 0
    left: list[str] = []
    for phase, swipes in shift.swipes.items():
        if phase == "return":
            await heard_of_exits(lanes["entry"], left)
            print(f"  the entry lane has heard of the {len(left)} exits at the exit lane, through the hub")
        for swipe in swipes:
            lane = lanes[swipe.lane]
            event = await _swipe(lane, swipe)
            done += 1
            if lane.name == "exit" and swipe.walks_through and event.decision is Decision.GRANTED:
                assert event.person_id is not None  # a granted event names the person
                left.append(event.person_id)
            mark = "ok" if event.reason is swipe.expected else f"EXPECTED {swipe.expected.value}"
            print(
                f"  [{done:3d}/{shift.total}] {phase:<6} {event.decision.value:<8} {event.reason.value:<24} "
                f"{swipe.who:<34} {mark}",
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
    by_device = {gate.device_id: name for name, gate in LANES.items()}
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


async def _enrol_lanes(
    stack: contextlib.ExitStack,
    department: aiohttp.ClientSession,
    base: str,
    root: Path,
    clock: LaneClock,
) -> dict[str, Lane]:
    """Each lane provisioned with a token of the project department's (both at once), then built
    on the demo's clock; its policy comes with its roster (the project's site rules)."""
    emulators = {name: stack.enter_context(IdModuleEmulator()) for name in LANES}
    configs = await asyncio.gather(
        *(
            provision(department, base, gate.device_id, root / name, emulators[name].port)
            for name, gate in LANES.items()
        )
    )
    lanes: dict[str, Lane] = {}
    for (name, gate), config in zip(LANES.items(), configs, strict=True):
        lanes[name] = build_lane(name, with_demo_settings(config), emulators[name], clock)
        print(
            f"  lane    {name:<5} {gate.device_id} ({gate.lane}, {gate.direction or gate.kind}) enrolled: "
            f"certificate, site key and roster key from the hub; reader {emulators[name].port}"
        )
    return lanes


def _serve_notes(base: str, broker: Mosquitto, root: Path, accounts: dict[str, str]) -> str:
    paths = [
        "/healthz",
        "/api/v1/access-events",
        "/api/v1/access-events/counts",
        "/api/v1/lane-events",
        "/api/v1/devices",
        "/console/",
    ]
    urls = [base + path for path in paths] + [f"mqtts://{broker.host}:{broker.port}"]
    hint = f"password {SEED_PASSWORD!r}; {ACCOUNT!r} has the one in {root / 'account-password'}"
    return "\n".join(
        [
            "\nServing until Ctrl-C:\n  " + "\n  ".join(urls),
            f"The API wants a token: POST {base}/api/v1/auth/login with username {ACCOUNT!r} and the "
            f"password in {root / 'account-password'}, then send 'Authorization: Bearer <token>' "
            "(no token is printed here: a terminal's scrollback is no place for a live credential)",
            printout(base, {**accounts, ACCOUNT: "city"}, hint),
        ]
    )


def demo_broker(ca: CertificateAuthority) -> Mosquitto:
    """The demo's broker: the production listener and ACL, and a CRL from the start (issue 13: a
    broker without one checks no revocation, so a revoked lane kept connecting)."""
    return Mosquitto.with_tls(ca, revoked_serials=())


async def run_demo(
    root: Path, *, serve: bool, seed: int, people: int = PEOPLE, clock: LaneClock | None = None
) -> int:
    """The demo on one clock: the shift, the registry's "today", the workers' hours and the lanes'
    decisions all read ``clock``. The hub, a process of its own, reads the machine's clock, so a
    clock given here must agree with it; the default is the machine's."""
    clock = clock or SystemClock()
    now = clock.now()
    shift = build_shift(seed, now)
    print(
        f"SiteGate demo in {root}: {shift.total} swipes on project {shift.project_id}, "
        f"{len(shift.people)} of the shift's people registered at the hub"
    )
    database = root / "hub.sqlite3"
    with contextlib.ExitStack() as stack:
        # A CA in the hub's state directory (beside its database) turns the hub's enrolment on.
        ca = CertificateAuthority.create(root / CA_DIR)
        password = secrets.token_urlsafe(18)
        (root / "account-password").write_text(password + "\n")
        (root / "account-password").chmod(0o600)
        create_account(database, ACCOUNT, password)
        url = f"sqlite+aiosqlite:///{database}"
        data_key = HubConfig(database_url=url).data_key_path()
        populated = await populate(
            url,
            data_key,
            ACCOUNT,
            shift,
            list(LANES.values()),
            seed=seed,
            people=people,
            today=now.date(),
            worker_hours=shift_hours(now),
        )
        print("  registry " + "\n           ".join(populated.summary))
        broker = stack.enter_context(demo_broker(ca))
        print(f"  broker  mqtts://{broker.host}:{broker.port} (TLS, the production listener and ACL)")
        hub_toml = _hub_config(root, ca, broker)
        hub = stack.enter_context(
            HubLauncher(database, broker.host, broker.port, config=hub_toml, log=root / "hub.log")
        )
        base = hub.base_url
        async with aiohttp.ClientSession() as anonymous:
            await _wait_healthy(anonymous, base, hub.proc, root)
            auth = await _login(anonymous, base, ACCOUNT, password)
            gc = await _login(anonymous, base, populated.department, SEED_PASSWORD)
        async with aiohttp.ClientSession(headers=auth) as session, PlatformStandin() as standin:
            print(f"  hub     {base}  (log: {root / 'hub.log'}; account {ACCOUNT})")
            async with aiohttp.ClientSession(headers=gc) as department:
                lanes = await _enrol_lanes(stack, department, base, root, clock)
            async with running(lanes):
                version = await rosters_current(lanes, session, base)
                roster = lanes["entry"].service.roster
                print(
                    f"  rosters v{version} from the hub, signed with its key, on both lanes: "
                    f"{len(roster)} people, {len(roster.watchlist)} watchlisted"
                )
                await sites_caught_up(lanes)
                print(
                    "  site    both lanes caught up with their site through the hub: each one's passages "
                    "reach the other (site-wide anti-passback)"
                )
                problems = await _play(lanes, shift)
                problems += await _after_the_shift(lanes, session, base)
                await _drained(lanes)
                problems += await _compare(lanes, session, base, shift.project_id)
                async with aiohttp.ClientSession(headers=gc) as department:
                    platform_line, trouble = await upload_shift(standin, department, base, shift.project_id)
                print(platform_line)
                problems += trouble
                print()
                if problems:
                    print("DEMO FAILED:\n  " + "\n  ".join(problems))
                    return 1
                pulses = {n: lane.service.outputs.pulses for n, lane in lanes.items()}
                print(f"OK: {shift.total} swipes, relay pulses {pulses}, hub counts match the lanes.")
                if serve:
                    print(_serve_notes(base, broker, root, dict(populated.accounts)), flush=True)
                    stop = asyncio.Event()
                    loop = asyncio.get_running_loop()
                    for sig in (signal.SIGINT, signal.SIGTERM):
                        loop.add_signal_handler(sig, stop.set)
                    await stop.wait()
                    print("stopping")
                return 0


def _fresh_lane_quiet(record: logging.LogRecord) -> bool:
    """A freshly enrolled lane has no roster file until the hub's arrives, which its controller
    logs as a fault; the demo reports the roster's arrival in a line of its own instead."""
    return not record.getMessage().startswith("roster fault: no roster at")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sitegate demo", description=plain_help(__doc__))
    parser.add_argument("--serve", action="store_true", help="keep everything running after the shift")
    parser.add_argument("--seed", type=int, default=20261124, help="seed of the synthetic city and shift")
    parser.add_argument(
        "--people", type=int, default=PEOPLE, help="people in the seeded city, besides the shift's"
    )
    parser.add_argument("--workdir", type=Path, help="where to keep the demo's files (default: a temp dir)")
    parser.add_argument("--verbose", action="store_true", help="show the lanes' own log lines")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        for handler in logging.getLogger().handlers:
            handler.addFilter(_fresh_lane_quiet)
    with contextlib.ExitStack() as stack:
        root = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sitegate-demo-")))
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o755)  # noqa: S103 - the broker runs as the mosquitto user and reads its files here
        try:
            return asyncio.run(run_demo(root, serve=args.serve, seed=args.seed, people=args.people))
        except KeyboardInterrupt:
            return 0
        except (RuntimeError, TimeoutError, HubError) as err:
            print(f"demo failed: {plain_error(err)}", file=sys.stderr)
            return 1

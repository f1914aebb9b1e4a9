"""A lane with both readers configured: a site card on a real pcscd + vpcd, the ID module on a pty.

A card UID is a binding key: the same roster entry admits the person only where the project's
policy accepts a UID without a certified ID-module read.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from controller.cli import build_service
from controller.config import load_config
from controller.core.roster import RosterEntry
from controller.roster_store import save_roster
from hardware.emulators.id_module import IdModuleEmulator
from hardware.emulators.vicc import ATR_ISO14443A, VirtualCard
from tests.support.clock import FakeClock, site_time
from tests.support.pcscd import VPCD_PORTS
from wire.credential import credential_hash, uid_credential
from wire.models import AccessEvent, Reason
from wire.roles import RosterRole

pytestmark = [pytest.mark.pcscd, pytest.mark.serial, pytest.mark.any_hour]

KEY = bytes(range(50, 82))
UID = bytes.fromhex("04A1B2C3D4E5F6")
RELAY_IN = 17
LANE_TIME = site_time(2026, 11, 24, 10, 0)
"""The lane's clock: a working morning, whatever the hour the suite runs at."""


@contextlib.asynccontextmanager
async def lane(tmp_path: Path, emulator: IdModuleEmulator, accept_uid_only: bool):
    save_roster(
        tmp_path / "roster.json",
        1,
        "P-UID",
        [(credential_hash(KEY, uid_credential(UID.hex())), RosterEntry("p-0042", RosterRole.WORKER))],
    )
    (tmp_path / "site.key").write_text(KEY.hex())
    (tmp_path / "controller.toml").write_text(
        f'device_id = "lane-uid-1"\nproject_id = "P-UID"\nlane = "B1"\ndirection = "in"\n'
        f'data_dir = "{tmp_path}"\nsite_key_file = "{tmp_path / "site.key"}"\npin_factory = "mock"\n'
        f"rotation_sensor = false\n"
        f'[readers.id_module]\nport = "{emulator.port}"\npoll_interval_s = 0.05\n'
        f'[readers.pcsc]\nreader = "Virtual PCD 00 00"\npoll_timeout_s = 0.1\n'
        f"[policy]\naccept_uid_only = {'true' if accept_uid_only else 'false'}\n"
        f'[mqtt]\nhost = "127.0.0.1"\nport = 1\n'  # no broker: the lane decides offline
    )
    pins = MockFactory()
    config = load_config(tmp_path / "controller.toml")
    service = build_service(config, pin_factory=pins, clock=FakeClock(LANE_TIME))
    service.uplink = None
    events: list[AccessEvent] = []
    service.observers.append(lambda r: events.append(r) if isinstance(r, AccessEvent) else None)
    async with contextlib.AsyncExitStack() as stack:
        for source in service.sources:
            await stack.enter_async_context(source)  # type: ignore[arg-type]
        task = asyncio.create_task(service.run())
        try:
            yield service, events, pins
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            service.close()


async def first_event(events: list[AccessEvent], within_s: float = 5.0) -> AccessEvent:
    deadline = time.monotonic() + within_s
    while not events:
        assert time.monotonic() < deadline, "no decision from the PC/SC reader"
        await asyncio.sleep(0.02)
    return events[0]


@pytest.mark.parametrize(
    ("accept", "reason"), [(True, Reason.GRANTED), (False, Reason.CREDENTIAL_NOT_ACCEPTED)]
)
async def test_site_card_on_a_pcsc_reader(vpcd, tmp_path: Path, accept: bool, reason: Reason) -> None:
    with IdModuleEmulator() as emulator:
        async with lane(tmp_path, emulator, accept) as (service, events, pins):
            assert [s.name for s in service.sources] == ["id_module", "pcsc"]
            with VirtualCard(VPCD_PORTS[0], atr=ATR_ISO14443A, uid=UID) as card:
                card.insert()
                event = await first_event(events)
            assert event.reason is reason
            assert event.person_id == "p-0042"
            assert event.card_kind.value == "card_uid"
            assert (True in [s for _, s in pins.pin(RELAY_IN).states]) is accept

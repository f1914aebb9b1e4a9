"""The uploader against the stand-in, in-process, on both stores: a day uploaded end to end (teams,
then workers, then attendance), once; injected failures retried until accepted; a restart mid-upload
that loses and duplicates nothing; a refused row blamed alone, in the platform's words."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from hub.auth.principal import Principal, Role
from hub.events.journal import store_events
from hub.platform import states
from hub.platform.ledger import Ledger
from hub.platform.settings import PlatformSettingsDesk, PlatformSettingsIn
from hub.platform.upload_settings import UploadSettings
from hub.platform.uploader import NO_TRADE, RoundReport, Uploader
from hub.registry.vault import IdVault
from hub.store import Store
from hub.store.schema import platform_status, platform_teams, platform_uploads, platform_workers
from sitegate.platform_standin import PlatformStandin
from tests.hub.factories import make_event
from tests.hub.platform import world as w
from tests.support.clock import FakeClock
from wire.models import Direction

SECRET = "f3a1c9e07b2d4e5f8a6b0c1d2e3f4a5b"
# timeout_s: what the standin's time_out fault costs (one request waits it out), and the margin for
# every other request: an answer later than this is a request the platform took and the uploader
# sends again (the one way to a duplicate, hub.platform.states). 0.5 s was under a loaded 2-core
# machine's answer time now and then (40 duplicates: two requests of 20 in a make test run).
SETTINGS = UploadSettings(first_retry_s=60, max_retry_s=600, rate_limited_s=120, poll_s=1, timeout_s=3.0)
CITY = Principal(1, "city-admin", Role.CITY)


@dataclass
class Scene:
    store: Store
    vault: IdVault
    clock: FakeClock
    standin: PlatformStandin
    numbers: dict[str, str]
    extra: int = 0
    """Passages added by a test, to be accepted too."""

    def uploader(self) -> Uploader:
        return Uploader(self.store, self.vault, SETTINGS, clock=self.clock)

    async def states(self, table: Any) -> dict[str, int]:
        async with self.store.read("test: states") as conn:
            rows = await conn.execute(select(table.c.state, func.count()).group_by(table.c.state))
            return {state: n for state, n in rows.all()}

    async def messages(self, table: Any) -> list[str]:
        async with self.store.read("test: messages") as conn:
            return list(
                (await conn.scalars(select(table.c.message).where(table.c.message.is_not(None)))).all()
            )

    async def drain(self, uploader: Uploader, rounds: int = 40) -> RoundReport:
        """Rounds until nothing is left to do, the hub's clock moving past every wait."""
        total = RoundReport()
        for _ in range(rounds):
            report = await uploader.run_once()
            total.add(report)
            if not report.busy and await self._settled():
                return total
            await asyncio.sleep(self.standin.delay_s)
            self.clock.advance(timedelta(minutes=15))
        raise AssertionError(f"not settled after {rounds} rounds: {await self.states(platform_uploads)}")

    async def until_attendance_sent(self, uploader: Uploader) -> None:
        """Rounds, the platform answering after 0.2 s, until passages are sent and not yet answered."""
        self.standin.delay_s = 0.2
        for _ in range(20):
            await uploader.run_once()
            if states.SENT in await self.states(platform_uploads):
                return
            await asyncio.sleep(0.25)
            self.clock.advance(timedelta(seconds=SETTINGS.poll_s))
        raise AssertionError(f"no attendance sent: {await self.states(platform_uploads)}")

    async def _settled(self) -> bool:
        """Every passage of :data:`w.UPLOADED` accepted (per-odd's wait for their worker, queued)."""
        events = await self.states(platform_uploads)
        waiting = {states.QUEUED: w.PASSAGES_EACH}
        return events == {states.ACCEPTED: len(w.expected_keys(self.numbers)) + self.extra, **waiting}


@pytest.fixture
async def scene(database_url: str) -> AsyncIterator[Scene]:
    vault = IdVault(bytes(range(32)))
    clock = FakeClock(w.NOW)
    async with await Store.open(database_url, clock=clock) as store, PlatformStandin() as standin:
        numbers = await w.build(store, vault)
        standin.add_project("330106-PC-0001", "app-u", SECRET)
        data = PlatformSettingsIn(
            variant="provincial", endpoint=standin.url, project_code="330106-PC-0001", appid="app-u",
            appsecret=SecretStr(SECRET), upload_from=w.DAY,
        )  # fmt: skip
        await PlatformSettingsDesk(store, vault, CITY).put(w.PROJECT, data, now=clock.wall())
        yield Scene(store, vault, clock, standin, numbers)


def _accepted(standin: PlatformStandin) -> set[tuple[str, str]]:
    return {(p.id_number, p.date) for p in standin.attendance}


async def test_a_day_goes_up_teams_then_workers_then_attendance_once_and_a_second_run_sends_nothing(
    scene: Scene,
) -> None:
    async with scene.uploader() as uploader:
        await scene.drain(uploader)
        standin = scene.standin
        assert _accepted(standin) == w.expected_keys(scene.numbers) and standin.duplicates() == 0
        assert len(standin.attendance) == len(w.UPLOADED) * w.PASSAGES_EACH  # not the refused, suspect,
        # teamless or visitor passages, nor the untradable team's
        assert {t["teamName"] for t in standin.teams.values()} == {
            "钢筋班组",
            "木工班",
            "项目管理组",
            "杂务组",
        }
        assert {number for _, number in standin.workers} == {scene.numbers[p] for p in w.UPLOADED}
        channels = {p.channel for p in standin.attendance}
        assert channels == set(w.LANES.values())
        assert standin.requests["WorkerAttendance.Add"] >= len(standin.attendance) / 20
        assert await scene.states(platform_workers) == {states.ACCEPTED: 6, states.FAILED: 1}
        assert await scene.messages(platform_workers) == [NO_TRADE]  # the console shows why
        sent_before = sum(standin.requests.values())
        second = await uploader.run_once()
        assert (second.enqueued, second.requests) == (0, 0)
        assert sum(standin.requests.values()) == sent_before
    async with scene.store.read("test: status") as conn:
        status = (await conn.execute(select(platform_status))).one()
    assert status.last_success_at is not None and status.requests == sent_before


async def test_injected_failures_are_retried_until_accepted_and_a_rate_limit_pauses(scene: Scene) -> None:
    faults = scene.standin.faults
    faults.fail, faults.fail_async, faults.rate_limit, faults.time_out = 2, 2, 1, 1
    async with scene.uploader() as uploader:
        await scene.drain(uploader)
    assert _accepted(scene.standin) == w.expected_keys(scene.numbers)
    assert scene.standin.duplicates() == 0
    assert (faults.fail, faults.fail_async, faults.rate_limit, faults.time_out) == (0, 0, 0, 0)
    async with scene.store.read("test: attempts") as conn:
        retried = await conn.scalar(
            select(func.count()).select_from(platform_teams).where(platform_teams.c.attempts > 0)
        )
        status = (await conn.execute(select(platform_status))).one()
    assert retried >= 1 and status.last_message is not None


async def test_a_restart_mid_upload_asks_after_what_was_sent_and_sends_nothing_twice(scene: Scene) -> None:
    async with scene.uploader() as first:
        await scene.until_attendance_sent(first)
    # The hub stops with attendance sent and not yet answered; and it had claimed three passages
    # more when it died, before their request left.
    sent = scene.standin.requests["WorkerAttendance.Add"]
    late = [
        make_event(1000 + n, device_id="lane-u-in", project_id=w.PROJECT, person_id="per-w2",
                   wall_time=w.at(19, n))
        for n in range(3)
    ]  # fmt: skip
    await store_events(scene.store, late, received_at=scene.clock.wall())
    await Ledger(scene.store).enqueue(w.PROJECT, since=w.at(0), now=scene.clock.wall())
    async with scene.store.write("test: claimed by a hub that died") as conn:
        u = platform_uploads.c
        claim = {"state": states.SENDING, "next_attempt_at": scene.clock.wall() + timedelta(minutes=2)}
        assert (
            await conn.execute(platform_uploads.update().where(u.seq >= 1000).values(**claim))
        ).rowcount == 3
    scene.extra = 3
    async with scene.uploader() as second:  # the hub, started again on the same database
        await asyncio.sleep(0.25)
        scene.clock.advance(timedelta(seconds=SETTINGS.poll_s))
        await second.run_once()
        assert scene.standin.requests["WorkerAttendance.Add"] == sent  # asked after, not sent again
        assert states.SENT not in await scene.states(platform_uploads)
        await scene.drain(second)  # the claim runs out: the three go, once
    assert len(scene.standin.attendance) == len(w.expected_keys(scene.numbers)) + 3
    assert _accepted(scene.standin) >= w.expected_keys(scene.numbers)
    assert scene.standin.duplicates() == 0
    assert scene.standin.requests["WorkerAttendance.Add"] == sent + 1


async def test_requests_the_platform_lost_are_sent_again_once(scene: Scene) -> None:
    async with scene.uploader() as uploader:
        await scene.until_attendance_sent(uploader)
        sent = scene.standin.requests["WorkerAttendance.Add"]
        assert scene.standin.lose_pending() == sent  # "[requestSerialCode]值超出范围或无效!" when asked
        await scene.drain(uploader)
    assert _accepted(scene.standin) == w.expected_keys(scene.numbers) and scene.standin.duplicates() == 0
    assert scene.standin.requests["WorkerAttendance.Add"] == 2 * sent


async def test_a_passage_days_late_is_taken_by_the_next_whole_look(scene: Scene) -> None:
    data = PlatformSettingsIn(variant="provincial", endpoint=scene.standin.url, project_code="330106-PC-0001",
                              appid="app-u", upload_from=w.DAY - timedelta(days=5))  # fmt: skip
    await PlatformSettingsDesk(scene.store, scene.vault, CITY).put(w.PROJECT, data, now=scene.clock.wall())
    async with scene.uploader() as uploader:
        await scene.drain(uploader)
        scene.clock.advance(timedelta(seconds=SETTINGS.full_scan_s + 1))
        await uploader.run_once()  # a whole look: nothing new
        late = make_event(3000, device_id="lane-u-out", project_id=w.PROJECT, person_id="per-w4",
                          wall_time=scene.clock.wall() - timedelta(days=2), direction=Direction.OUT)  # fmt: skip
        await store_events(scene.store, [late], received_at=scene.clock.wall())  # two days late
        assert (await uploader.run_once()).enqueued == 0  # the rounds between look at the last day only
        scene.clock.advance(timedelta(seconds=SETTINGS.full_scan_s))
        scene.extra = 1
        await scene.drain(uploader)
    assert len(scene.standin.attendance) == len(w.expected_keys(scene.numbers)) + 1


async def test_a_row_the_platform_refuses_is_blamed_alone_in_the_platforms_words(scene: Scene) -> None:
    # A passage of tomorrow (the hub's clock believed it), which the platform's day has not reached.
    tomorrow = make_event(
        2000,
        device_id="lane-u-in",
        project_id=w.PROJECT,
        person_id="per-w3",
        wall_time=w.at(8) + timedelta(days=1),
    )
    await store_events(scene.store, [tomorrow], received_at=tomorrow.wall_time)
    scene.standin.today = lambda: w.DAY
    expected = {
        states.ACCEPTED: len(w.expected_keys(scene.numbers)),
        states.FAILED: 1,
        states.QUEUED: w.PASSAGES_EACH,
    }
    async with scene.uploader() as uploader:
        for _ in range(12):  # (the refused row is tried again after its backoff, and refused again)
            await uploader.run_once()
            if await scene.states(platform_uploads) == expected:
                break
            scene.clock.advance(timedelta(seconds=SETTINGS.poll_s))
    assert await scene.states(platform_uploads) == expected
    (message,) = await scene.messages(platform_uploads)
    assert message.startswith("[dataList][") and message.endswith("][date]不能大于当天!")  # verbatim
    assert _accepted(scene.standin) == w.expected_keys(scene.numbers)

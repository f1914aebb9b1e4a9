"""The hub's uploader to the worker platforms: per project with settings, teams, then workers,
then attendance, each request's outcome polled, every row's state in the database.

A round (:meth:`Uploader.run_once`) for each enabled project: rows whose sender vanished are
released (:meth:`~hub.platform.ledger.Ledger.release_stale`), new teams, people and events are
taken (:meth:`~hub.platform.ledger.Ledger.enqueue`), requests sent earlier are asked after
(``AsyncHandleResult.Query``), then what is due goes out: a team once accepted has its
``teamSysNo``, its people go next, and their passages after them, a team and at most 20 rows per
request. A row is claimed before its request leaves and marked with the request's serial code as
soon as the platform answers, so a hub restarted at any point asks after what it sent rather than
send it again; only a request the platform never answered goes again (:mod:`hub.platform.states`).

Failures wait with backoff on the hub's clock; the platform's −5 (访问超过限制) pauses the project
for at least ``rate_limited_s``. The log says what went where by counts and codes, never a name or
an ID number.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Final

from hub.errors import HubError
from hub.http_client import HttpSession
from hub.platform import dictionaries, states
from hub.platform.client import PlatformClient, PlatformUnreachable
from hub.platform.ledger import EVENTS, KINDS, TEAMS, WORKERS, Kind, Ledger, Mark
from hub.platform.payloads import (
    MAX_ROWS,
    Passage,
    TeamFacts,
    WorkerFacts,
    attendance_add,
    batches,
    team_add,
    worker_add,
)
from hub.platform.protocol import (
    BAD_PARAMETERS,
    RATE_LIMITED,
    Answer,
    AsyncStatus,
    Method,
    ProtocolError,
    parse_async_result,
)
from hub.platform.settings import Credentials, enabled_credentials
from hub.platform.upload_settings import UploadSettings
from hub.registry.vault import IdVault
from hub.store import Store
from wire.clock import SITE_ZONE, Clock

log = logging.getLogger(__name__)

NO_TRADE: Final = "班组名称未含工种，无法确定 workType (the team's name names no trade)"
NO_TEAM_SYS_NO: Final = "平台未返回 teamSysNo (the platform's success carried no teamSysNo)"


class _RateLimited(Exception):
    """The platform said −5: this project's round stops here."""


@dataclass(slots=True)
class RoundReport:
    enqueued: int = 0
    requests: int = 0
    accepted: int = 0
    failed: int = 0
    in_flight: bool = False

    @property
    def busy(self) -> bool:
        return bool(self.enqueued or self.requests or self.in_flight)

    def add(self, other: RoundReport) -> None:
        self.enqueued += other.enqueued
        self.requests += other.requests
        self.accepted += other.accepted
        self.failed += other.failed
        self.in_flight = self.in_flight or other.in_flight


class Uploader:
    """Use as ``async with``: it holds the HTTP session."""

    def __init__(
        self,
        store: Store,
        vault: IdVault,
        settings: UploadSettings,
        *,
        clock: Clock,
        rng: random.Random | None = None,
    ) -> None:
        self._store = store
        self._vault = vault
        self._settings = settings
        self._policy = settings.policy()
        self._delays = self._policy.delays(rng)
        self._clock = clock
        self._ledger = Ledger(store)
        self._paused_until: dict[str, datetime] = {}
        self._whole_looks: dict[str, datetime] = {}
        self._http = HttpSession("Uploader")

    async def __aenter__(self) -> Uploader:
        await self._http.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.close()

    async def run_once(self) -> RoundReport:
        report = RoundReport()
        for credentials in await enabled_credentials(self._store, self._vault):
            report.add(await self.run_project(credentials))
        return report

    def _look_from(self, credentials: Credentials, now: datetime) -> datetime:
        """Where a round looks for new passages: the whole lookback (from the settings' first day)
        at start and every ``full_scan_s``, the last ``recent_scan_h`` hours in between; a passage
        that arrives days late (a lane long offline) is taken by the next whole look."""
        start = datetime.combine(credentials.upload_from, time(0), tzinfo=SITE_ZONE)
        whole = max(start, now - timedelta(days=self._settings.lookback_days))
        last = self._whole_looks.get(credentials.project_id)
        if last is None or now - last >= timedelta(seconds=self._settings.full_scan_s) or now < last:
            self._whole_looks[credentials.project_id] = now
            return whole
        return max(whole, now - timedelta(hours=self._settings.recent_scan_h))

    async def run_project(self, credentials: Credentials) -> RoundReport:
        project_id = credentials.project_id
        report = RoundReport()
        now = self._clock.wall()
        if self._paused_until.get(project_id, now) > now:
            return report
        client = PlatformClient(self._http.session, credentials, timeout_s=self._settings.timeout_s)
        await self._ledger.release_stale(project_id, now)
        report.enqueued = await self._ledger.enqueue(
            project_id, since=self._look_from(credentials, now), now=now
        )
        round_ = _Round(self, credentials, client, report)
        try:
            for kind in KINDS:
                await round_.poll_due(kind)
            await round_.send_teams()
            await round_.send_workers()
            await round_.send_events()
        except _RateLimited:
            wait = self._policy.rate_limited_s
            self._paused_until[project_id] = self._clock.wall() + timedelta(seconds=wait)
            log.warning("platform upload of %s: rate limited (-5), paused %.0f s", project_id, wait)
        await round_.record()
        if report.requests or report.failed:
            log.info(
                "platform upload of %s: %d requests, %d rows accepted, %d failed, %d new",
                project_id, report.requests, report.accepted, report.failed, report.enqueued,
            )  # fmt: skip
        return report


class _Round:
    """One project's round: its client, its report, and the steps."""

    def __init__(
        self, uploader: Uploader, credentials: Credentials, client: PlatformClient, report: RoundReport
    ):
        self._u = uploader
        self._ledger = uploader._ledger
        self._policy = uploader._policy
        self._c = credentials
        self._client = client
        self._report = report
        self._semaphore = asyncio.Semaphore(uploader._settings.concurrency)
        self._last_message: str | None = None
        self._succeeded = False
        self._held: list[Mark] | None = None
        """While requests are asked after: their outcomes, written in one transaction at the end
        (an outcome lost with a hub that died is asked for again); else None, each written at once."""

    async def _mark(self, kind: Kind, keys: list[tuple[Any, ...]], values: dict[str, Any], *,
                    count_attempt: bool = False) -> None:  # fmt: skip
        if self._held is None:
            await self._ledger.mark(kind, keys, values, count_attempt=count_attempt)
        else:
            self._held.append(Mark(kind, keys, values, count_attempt))

    async def record(self) -> None:
        """The project's last word (hub.platform.status), once a round: its requests, whether any
        succeeded, the platform's last refusal."""
        if self._report.requests or self._last_message or self._succeeded:
            await self._ledger.record_requests(
                self._c.project_id, self._now(), requests=self._report.requests, success=self._succeeded,
                message=self._last_message,
            )  # fmt: skip

    def _now(self) -> datetime:
        return self._u._clock.wall()

    def _id_number(self, row: Any) -> str:
        return self._u._vault.open_id(row.person_id, row.id_cipher)

    # -- sending ------------------------------------------------------------------------------------

    async def send_teams(self) -> None:
        project_id = self._c.project_id
        rows = await self._ledger.due_teams(project_id, self._now())
        claimed = await self._ledger.claim(
            TEAMS, project_id, [TEAMS.key_of(r) for r in rows], self._now(), self._policy
        )
        jobs = []
        for row in rows:
            if TEAMS.key_of(row) not in claimed:
                continue
            leader_number = (
                self._u._vault.open_id(row.leader_id, row.leader_cipher) if row.leader_id else None
            )
            team = TeamFacts(
                row.team_id, row.name, row.corp_code, row.corp_name,
                row.leader_name, row.leader_card_kind, leader_number,
            )  # fmt: skip
            data = team_add(self._c.project_code, team, self._c.appsecret)
            jobs.append(self._job(TEAMS, Method.TEAM_ADD, data, [TEAMS.key_of(row)], row.attempts))
        await self._fan_out(jobs)

    async def send_workers(self) -> None:
        project_id = self._c.project_id
        rows = await self._ledger.due_workers(project_id, self._now(), self._u._settings.events_per_round)
        claimed = await self._ledger.claim(
            WORKERS, project_id, [WORKERS.key_of(r) for r in rows], self._now(), self._policy
        )
        rows = [r for r in rows if WORKERS.key_of(r) in claimed]
        untradable = [r for r in rows if dictionaries.work_type_of(r.category, r.team_name) is None]
        if untradable:
            await self._failed(
                WORKERS, [WORKERS.key_of(r) for r in untradable], NO_TRADE, wait_s=self._policy.max_retry_s
            )
        jobs = []
        for team_id, batch in batches([r for r in rows if r not in untradable], key=lambda r: r.team_id):
            batch.sort(key=WORKERS.key_of)  # the order the platform's [workerList][i] counts in
            first = batch[0]
            team = TeamFacts(team_id, first.team_name, first.corp_code, first.corp_name)
            workers = [
                WorkerFacts(
                    r.person_id, r.name, r.card_kind, self._id_number(r), r.category,
                    dictionaries.work_type_of(r.category, r.team_name) or "",
                    r.leader_person_id == r.person_id, r.nation,
                )
                for r in batch
            ]  # fmt: skip
            data = worker_add(self._c.project_code, team, first.team_sys_no, workers, self._c.appsecret)
            keys = [WORKERS.key_of(r) for r in batch]
            jobs.append(self._job(WORKERS, Method.WORKER_ADD, data, keys, max(r.attempts for r in batch)))
        await self._fan_out(jobs)

    async def send_events(self) -> None:
        project_id = self._c.project_id
        rows = await self._ledger.due_events(project_id, self._now(), self._u._settings.events_per_round)
        claimed = await self._ledger.claim(
            EVENTS, project_id, [EVENTS.key_of(r) for r in rows], self._now(), self._policy
        )
        rows = [r for r in rows if EVENTS.key_of(r) in claimed]
        jobs = []
        for _, batch in batches(rows, key=lambda r: r.team_sys_no, size=MAX_ROWS):
            batch.sort(key=lambda r: r.id)  # the order the platform's [dataList][i] counts in
            passages = [
                Passage(
                    r.device_id, r.seq, r.team_sys_no, r.card_kind, self._id_number(r),
                    r.event_time, r.direction, r.channel,
                )
                for r in batch
            ]  # fmt: skip
            data = attendance_add(self._c.project_code, passages, self._c.appsecret)
            keys = [(r.id,) for r in batch]
            jobs.append(self._job(EVENTS, Method.ATTENDANCE_ADD, data, keys, max(r.attempts for r in batch)))
        await self._fan_out(jobs)

    def _job(
        self, kind: Kind, method: Method, data: dict[str, Any], keys: list[tuple[Any, ...]], attempts: int
    ) -> Callable[[], Awaitable[None]]:
        async def send() -> None:
            async with self._semaphore:
                await self._send(kind, method, data, keys, attempts)

        return send

    async def _fan_out(self, jobs: Sequence[Callable[[], Awaitable[None]]]) -> None:
        results = await asyncio.gather(*(job() for job in jobs), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        for error in errors:
            if not isinstance(error, _RateLimited):
                raise error
        if errors:
            raise errors[0]

    async def _send(
        self, kind: Kind, method: Method, data: dict[str, Any], keys: list[tuple[Any, ...]], attempts: int
    ) -> None:
        answer = await self._call(method, data, kind, keys, attempts)
        if answer is None:
            return
        if answer.ok and answer.serial_code:
            await self._ledger.mark(kind, keys, states.sent(self._now(), answer.serial_code, self._policy))
            self._report.in_flight = True
            return
        await self._refused(kind, keys, attempts, answer)

    async def _call(
        self, method: Method, data: dict[str, Any], kind: Kind, keys: list[tuple[Any, ...]], attempts: int
    ) -> Answer | None:
        """The platform's answer; None when there was none (the rows then wait to go again)."""
        now = self._now()
        try:
            answer = await self._client.call(method, data, now=now)
        except PlatformUnreachable as err:
            await self._failed(kind, keys, str(err), attempts=attempts)
            self._last_message = str(err)
            return None
        self._report.requests += 1
        if not answer.ok:
            self._last_message = answer.shown
        return answer

    async def _refused(self, kind: Kind, keys: list[tuple[Any, ...]], attempts: int, answer: Answer) -> None:
        rate_limited = answer.code == RATE_LIMITED
        await self._failed(kind, keys, answer.shown, attempts=attempts, rate_limited=rate_limited)
        if rate_limited:
            raise _RateLimited

    async def _failed(
        self,
        kind: Kind,
        keys: list[tuple[Any, ...]],
        message: str,
        *,
        attempts: int = 0,
        rate_limited: bool = False,
        wait_s: float | None = None,
    ) -> None:
        if wait_s is None:
            wait_s = states.wait_after(attempts + 1, self._u._delays, self._policy, rate_limited=rate_limited)
        await self._mark(kind, keys, states.failed(self._now(), message, wait_s), count_attempt=True)
        self._report.failed += len(keys)

    # -- asking after -------------------------------------------------------------------------------

    async def poll_due(self, kind: Kind) -> None:
        """Ask after every request of ``kind`` whose time has come, several at once."""
        serials = await self._ledger.due_serials(kind, self._c.project_id, self._now())

        def job(serial: str) -> Callable[[], Awaitable[None]]:
            async def ask() -> None:
                async with self._semaphore:
                    await self.poll(kind, serial)

            return ask

        self._held = []
        try:
            await self._fan_out([job(serial) for serial in serials])
        finally:
            held, self._held = self._held, None
            await self._ledger.mark_all(held)

    async def poll(self, kind: Kind, serial: str) -> None:
        rows = await self._ledger.in_request(kind, serial)
        if not rows:
            return
        keys = [kind.key_of(r) for r in rows]
        attempts = max(r.attempts for r in rows)
        now = self._now()
        try:
            answer = await self._client.call(Method.QUERY, {"requestSerialCode": serial}, now=now)
        except PlatformUnreachable:
            await self._mark(kind, keys, states.still_pending(now, self._policy))
            self._report.in_flight = True
            return
        self._report.requests += 1
        if answer.code == BAD_PARAMETERS:  # the platform does not know the serial: it never took the request
            await self._failed(kind, keys, answer.shown, attempts=attempts)
            return
        try:
            result = parse_async_result(answer) if answer.ok else None
        except ProtocolError:
            result = None
        if result is None or result.status is AsyncStatus.PENDING:
            values = states.still_pending(now, self._policy)
            if not answer.ok:
                values["message"] = answer.shown[:500]
            await self._mark(kind, keys, values)
            self._report.in_flight = True
            if answer.code == RATE_LIMITED:
                raise _RateLimited
            return
        if result.status is AsyncStatus.SUCCEEDED:
            await self._accepted(kind, keys, result.team_sys_no(), now)
            return
        message = result.result or "平台处理失败 (the platform refused it)"
        self._last_message = message
        at_fault = states.row_at_fault(message)
        if at_fault is not None and len(keys) > 1 and at_fault < len(keys):
            await self._mark(kind, keys[:at_fault] + keys[at_fault + 1 :], states.requeued(now))
            keys = [keys[at_fault]]
        await self._failed(kind, keys, message, attempts=attempts)

    async def _accepted(
        self, kind: Kind, keys: list[tuple[Any, ...]], team_sys_no: str | None, now: datetime
    ) -> None:
        values = states.accepted(now)
        if kind is TEAMS:
            if team_sys_no is None:
                await self._failed(kind, keys, NO_TEAM_SYS_NO, attempts=0)
                return
            values["team_sys_no"] = team_sys_no
        await self._mark(kind, keys, values)
        self._succeeded = True
        self._report.accepted += len(keys)


async def keep_uploading(uploader: Uploader, settings: UploadSettings) -> None:
    """The hub's background task: a round, then the next at once while there is work, after
    ``poll_s`` while requests are out, else after ``interval_s``; a failed round (the database
    away) is logged and the next one comes as usual."""
    while True:
        wait = settings.interval_s
        try:
            report = await uploader.run_once()
        except HubError as err:
            log.error("platform upload: %s", err)
        else:
            if report.requests or report.enqueued:
                wait = 0.0
            elif report.in_flight:
                wait = min(settings.poll_s, settings.interval_s)
        await asyncio.sleep(wait)

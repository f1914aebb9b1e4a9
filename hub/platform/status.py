"""What the console and the API show of a project's upload: its queue, its failures with the
platform's message (Chinese, as the platform wrote it), and its last success.

Read for one account (:data:`hub.auth.permissions.READ_PLATFORM`, the project in its scope); no
ID number, encrypted or not, and never the appsecret.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth.permissions import READ_PLATFORM
from hub.auth.principal import Principal
from hub.platform import states
from hub.platform.ledger import KINDS, Kind
from hub.platform.settings import PlatformSettings, PlatformSettingsDesk
from hub.registry.permissions import check_role
from hub.registry.vault import IdVault
from hub.store import Store
from hub.store.schema import (
    persons,
    platform_status,
    platform_teams,
    platform_uploads,
    platform_workers,
    teams,
)
from wire.clock import SITE_ZONE

FAILURES_SHOWN: Final = 50


class Subject(StrEnum):
    """What a row of the upload is about."""

    TEAM = "team"
    WORKER = "worker"
    EVENT = "event"


@dataclass(frozen=True, slots=True)
class Failure:
    kind: Subject
    subject: str
    """The team's name, or the person's name (and the passage's time, site-local)."""
    message: str
    attempts: int
    next_attempt_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class UploadStatus:
    project_id: str
    settings: PlatformSettings | None
    counts: dict[str, dict[str, int]]
    """Per kind (teams, workers, events): how many rows in each state."""
    failures: list[Failure] = field(default_factory=list)
    last_success_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_message: str | None = None
    requests: int = 0

    @property
    def queue(self) -> int:
        """Passages taken and not yet accepted."""
        return sum(n for state, n in self.counts["events"].items() if state != states.ACCEPTED)

    @property
    def accepted(self) -> int:
        return self.counts["events"].get(states.ACCEPTED, 0)

    def as_json(self) -> dict[str, Any]:
        def when(at: datetime | None) -> str | None:
            return at.astimezone(SITE_ZONE).isoformat() if at else None

        return {
            "project_id": self.project_id,
            "configured": self.settings is not None,
            "enabled": bool(self.settings and self.settings.enabled),
            "queue": self.queue,
            "accepted": self.accepted,
            "counts": self.counts,
            "failures": [
                {**asdict(f), "next_attempt_at": when(f.next_attempt_at), "updated_at": when(f.updated_at)}
                for f in self.failures
            ],
            "last_success_at": when(self.last_success_at),
            "last_attempt_at": when(self.last_attempt_at),
            "last_message": self.last_message,
            "requests": self.requests,
        }


async def upload_status(store: Store, vault: IdVault, principal: Principal, project_id: str) -> UploadStatus:
    check_role(principal, READ_PLATFORM)
    settings = await PlatformSettingsDesk(store, vault, principal).get(project_id)  # 404 outside the scope
    async with store.read("platform.status") as conn:
        counts = {kind.name: await _counts(conn, kind, project_id) for kind in KINDS}
        failures = await _failures(conn, project_id)
        row = (
            await conn.execute(select(platform_status).where(platform_status.c.project_id == project_id))
        ).first()
    if row is None:
        return UploadStatus(project_id, settings, counts, failures)
    return UploadStatus(
        project_id, settings, counts, failures, row.last_success_at, row.last_attempt_at, row.last_message,
        row.requests,
    )  # fmt: skip


async def _counts(conn: AsyncConnection, kind: Kind, project_id: str) -> dict[str, int]:
    c = kind.table.c
    query = select(c.state, func.count()).where(c.project_id == project_id).group_by(c.state)
    return {state: n for state, n in (await conn.execute(query)).all()}


async def _failures(conn: AsyncConnection, project_id: str) -> list[Failure]:
    pt, pw, u, t, p = platform_teams.c, platform_workers.c, platform_uploads.c, teams.c, persons.c
    failed = states.FAILED
    found = [
        Failure(Subject.TEAM, r.name, r.message or "", r.attempts, r.next_attempt_at, r.updated_at)
        for r in await conn.execute(
            select(t.name, pt.message, pt.attempts, pt.next_attempt_at, pt.updated_at)
            .join(teams, t.id == pt.team_id)
            .where(pt.project_id == project_id, pt.state == failed)
        )
    ]
    found += [
        Failure(Subject.WORKER, r.name, r.message or "", r.attempts, r.next_attempt_at, r.updated_at)
        for r in await conn.execute(
            select(p.name, pw.message, pw.attempts, pw.next_attempt_at, pw.updated_at)
            .join(persons, p.id == pw.person_id)
            .where(pw.project_id == project_id, pw.state == failed)
        )
    ]
    events = (
        select(p.name, u.event_time, u.message, u.attempts, u.next_attempt_at, u.updated_at)
        .join(persons, p.id == u.person_id)
        .where(u.project_id == project_id, u.state == failed)
        .order_by(u.updated_at.desc(), u.id)
        .limit(FAILURES_SHOWN)
    )
    found += [
        Failure(
            Subject.EVENT, f"{r.name} {r.event_time.astimezone(SITE_ZONE):%Y-%m-%d %H:%M:%S}",
            r.message or "", r.attempts, r.next_attempt_at, r.updated_at,
        )
        for r in await conn.execute(events)
    ]  # fmt: skip
    return found[:FAILURES_SHOWN]

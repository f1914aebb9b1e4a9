"""Roster versions and the lanes' roster status, in the hub's database.

Versions live in the database, not in a hub process: a lane refuses any version not above the one
it runs, so a restarted hub (or a second instance) that counted from 1 again would be refused by
every lane until it caught up. :meth:`RosterLedger.mint` takes the project's row for the rest of
its transaction, so two instances minting at once get two different numbers; content that did not
change keeps its number.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from hub.errors import StoreError
from hub.store import migrate
from hub.store.dialect import WRITE_TRANSACTION, insert_for, prepare_sqlite
from hub.store.schema import roster_status, roster_versions
from wire.clock import Clock, SystemClock
from wire.roster import RosterStatus


@dataclass(frozen=True, slots=True)
class LaneRoster:
    """What a lane last said about its roster."""

    device_id: str
    project_id: str
    applied_version: int
    wants_snapshot: bool
    problem: str | None
    reported_at: datetime


@dataclass(frozen=True, slots=True)
class Minted:
    """A project's newest roster version as the ledger holds it."""

    version: int
    content_sha256: str
    entries: int


class RosterLedger:
    def __init__(self, engine: AsyncEngine, *, clock: Clock | None = None) -> None:
        """``engine`` should be the store's: one database, migrated by whoever opened it;
        ``clock`` stamps mints and reports (the system's when not given)."""
        self._engine = engine
        self._clock = clock or SystemClock()
        self._insert = insert_for(engine.dialect.name)

    @classmethod
    async def open(cls, url: str, *, clock: Clock | None = None) -> RosterLedger:
        """An engine of its own on ``url``, migrated to head (for tools and tests)."""
        parsed = make_url(url)
        options: dict[str, Any] = {}
        if parsed.get_backend_name() == "sqlite" and (parsed.database or ":memory:") == ":memory:":
            options["poolclass"] = StaticPool
        engine = create_async_engine(parsed, **options)
        if engine.dialect.name == "sqlite":
            prepare_sqlite(engine)
        with _translated("open"):
            await migrate.upgrade(engine)
        return cls(engine, clock=clock)

    async def close(self) -> None:
        await self._engine.dispose()

    @contextlib.asynccontextmanager
    async def _write(self, operation: str) -> AsyncIterator[AsyncConnection]:
        with _translated(operation):
            async with self._engine.connect() as conn:
                await conn.execution_options(**WRITE_TRANSACTION)
                async with conn.begin():
                    yield conn

    async def mint(self, project_id: str, content_sha256: str, entries: int) -> tuple[int, bool]:
        """The version for this content: the current one if unchanged, else the next (and True)."""
        t = roster_versions.c
        async with self._write("mint roster version") as conn:
            await conn.execute(
                self._insert(roster_versions)
                .values(project_id=project_id, version=0, content_sha256="", entries=0, minted_at=None)
                .on_conflict_do_nothing(index_elements=["project_id"])
            )
            query = select(t.version, t.content_sha256).where(t.project_id == project_id).with_for_update()
            version, stored = (await conn.execute(query)).one()
            if stored == content_sha256 and version > 0:
                return int(version), False
            minted = int(version) + 1
            await conn.execute(
                update(roster_versions)
                .where(t.project_id == project_id)
                .values(
                    version=minted,
                    content_sha256=content_sha256,
                    entries=entries,
                    minted_at=self._clock.wall(),
                )
            )
            return minted, True

    async def current(self, project_id: str) -> int:
        """The newest version minted for the project; 0 if none was."""
        t = roster_versions.c
        with _translated("current roster version"):
            async with self._engine.connect() as conn:
                version = (await conn.execute(select(t.version).where(t.project_id == project_id))).scalar()
        return int(version or 0)

    async def versions(self) -> dict[str, Minted]:
        """Every project's newest version, in one read; a project never minted is absent."""
        t = roster_versions.c
        query = select(t.project_id, t.version, t.content_sha256, t.entries).where(t.version > 0)
        with _translated("roster versions"):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query)).all()
        return {
            str(row.project_id): Minted(int(row.version), str(row.content_sha256), int(row.entries))
            for row in rows
        }

    async def lanes_of(self, project_ids: Sequence[str]) -> dict[str, dict[str, LaneRoster]]:
        """:meth:`lanes` of many projects in one read (a project none reported on is absent)."""
        query = select(roster_status).where(roster_status.c.project_id.in_(list(project_ids)))
        with _translated("roster status"):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query)).all()
        found: dict[str, dict[str, LaneRoster]] = {}
        for row in rows:
            found.setdefault(row.project_id, {})[row.device_id] = LaneRoster(**row._mapping)
        return found

    async def record_status(self, status: RosterStatus) -> None:
        await self.record_statuses([status])

    async def record_statuses(self, statuses: Sequence[RosterStatus]) -> None:
        """What lanes last said, in one write whatever their number (issue 16: a write per report
        at 10,000 lanes starved the ingest of the database); a lane's last report here wins.

        Executed with the rows as parameters, never built with ``.values(rows)``: a statement
        built with its rows is compiled again for every batch (see
        :meth:`hub.store.store.Store.record_statuses`)."""
        reported_at = self._clock.wall()
        latest = {status.device_id: status for status in statuses}
        rows = [
            {
                "device_id": status.device_id,
                "project_id": status.project_id,
                "applied_version": status.applied_version,
                "wants_snapshot": status.wants_snapshot,
                "problem": status.problem,
                "reported_at": reported_at,
            }
            for status in latest.values()
        ]
        if not rows:
            return
        async with self._write("record roster status") as conn:
            await conn.execute(self._status_upsert, rows)

    @functools.cached_property
    def _status_upsert(self) -> Any:
        """One lane's status over what it said before, for :meth:`record_statuses`."""
        insert = self._insert(roster_status)
        changing = {
            column.name: insert.excluded[column.name]
            for column in roster_status.columns
            if not column.primary_key
        }
        return insert.on_conflict_do_update(index_elements=["device_id"], set_=changing)

    async def current_of(self, project_ids: Sequence[str]) -> dict[str, int]:
        """:meth:`current` of many projects in one read (a project never minted is absent)."""
        t = roster_versions.c
        query = select(t.project_id, t.version).where(t.project_id.in_(list(project_ids)), t.version > 0)
        with _translated("current roster versions"):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query)).all()
        return {str(row.project_id): int(row.version) for row in rows}

    async def lanes(self, project_id: str) -> dict[str, LaneRoster]:
        """Every lane that reported on this project, by device id."""
        query = select(roster_status).where(roster_status.c.project_id == project_id)
        with _translated("roster status"):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query)).all()
        return {row.device_id: LaneRoster(**row._mapping) for row in rows}


@contextlib.contextmanager
def _translated(operation: str) -> Any:
    """Database failures as :class:`StoreError`; ``transient`` when retrying may help."""
    try:
        yield
    except (SQLAlchemyError, OSError) as err:
        transient = isinstance(err, OperationalError | OSError) or (
            isinstance(err, DBAPIError) and bool(err.connection_invalidated)
        )
        raise StoreError(operation, type(err).__name__, transient=transient) from err

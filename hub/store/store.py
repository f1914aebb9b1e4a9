"""The hub's store: the engine, its transactions and their error translation, and the ingest's
own writes.

SQLAlchemy Core on an async engine, so the same statements run on SQLite (the embedded default)
and PostgreSQL (several hub instances); dialect differences live in :mod:`hub.store.dialect`, the
tables in :mod:`hub.store.schema`, their history in the migrations. The store is not the only code
that writes SQL: each domain module owns its statements (events and lane events in
:mod:`hub.events`, devices, commands and enrolment in :mod:`hub.devices`, the registry, oversight,
workflows and accounts in theirs) and runs them through :meth:`Store.read` and :meth:`Store.write`,
so every statement gets the same transaction discipline and the same :class:`StoreError`. Views
never do: they call domain objects built from the store and a principal.

The methods here are the ingest's writes (a heartbeat, a presence, a dead letter): unscoped, as the
ingest is the hub itself, and no account ever reaches them. Storing journal records, which also
keeps the derived tables, is :func:`hub.events.journal.store_events`. Every method is one
transaction and returns frozen values, never rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
    StatementError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from hub.errors import HubError, StoreError
from hub.store import heartbeats, migrate
from hub.store.dialect import POSTGRESQL_SETTINGS, WRITE_TRANSACTION, insert_for, prepare_sqlite
from hub.store.health import StoringHealth
from hub.store.schema import dead_letters, devices
from wire.clock import Clock, SystemClock
from wire.codec import MAX_PAYLOAD_BYTES
from wire.models import Heartbeat, PresenceState, PresenceStatus

log = logging.getLogger(__name__)

# A dead letter keeps at most this much of the payload: enough to diagnose, not a way to fill the disk.
DEAD_LETTER_KEEP_BYTES = MAX_PAYLOAD_BYTES
PING_TIMEOUT_S = 2.0
MAX_GENERATION_STEP = 100_000
"""How far a device's connection generation may move at once: a lane reconnecting every second
for a day makes 86,400."""

_TRANSIENT = (OperationalError, InterfaceError, DisconnectionError, PoolTimeoutError, OSError, TimeoutError)


@contextlib.contextmanager
def _translated(operation: str) -> Iterator[None]:
    """Database failures leave the store as :class:`StoreError`, classified for the caller's retry logic.

    Drivers refuse some values with plain ValueError or OverflowError (a string SQLite cannot
    encode, an integer wider than 64 bits): those are refused rows too, not crashes.
    """
    try:
        yield
    except HubError:
        raise
    except (SQLAlchemyError, ValueError, OverflowError, OSError, TimeoutError) as err:
        transient = isinstance(err, _TRANSIENT) or (
            isinstance(err, DBAPIError) and bool(err.connection_invalidated)
        )
        raise StoreError(operation, _brief(err), transient=transient) from err


# asyncpg quotes the value it refused: "invalid input for query argument $4: <value> (why)".
_QUOTED_ARGUMENT = re.compile(r"^(invalid input for query argument \$\d+): .*?( \([^()]*\))?$")


def _brief(err: BaseException) -> str:
    """What went wrong, without the statement's parameters (rows may hold personal data)."""
    cause = err.orig if isinstance(err, StatementError) and err.orig is not None else err
    lines = str(cause).strip().splitlines()
    detail = _QUOTED_ARGUMENT.sub(r"\1\2", lines[0])[:200] if lines else ""
    return f"{type(err).__name__}: {detail}" if detail else type(err).__name__


class Store:
    """Open with :meth:`open` (it migrates the schema); close with :meth:`close` or ``async with``."""

    def __init__(self, engine: AsyncEngine, *, clock: Clock | None = None) -> None:
        """``clock`` stamps what the hub received when (the system's when not given)."""
        self._engine = engine
        self._clock = clock or SystemClock()
        self._insert = insert_for(engine.dialect.name)
        self.storing = StoringHealth(self._clock)
        """The ingest's last store (hub.store.health): what /healthz says about writes."""

    @classmethod
    async def open(cls, url: str, *, clock: Clock | None = None) -> Store:
        with _translated("open"):
            try:
                parsed = make_url(url)
            except ArgumentError as err:
                raise StoreError("open", "database_url is not a database URL", transient=False) from err
            options: dict[str, Any] = {}
            if parsed.get_backend_name() == "sqlite":
                database = parsed.database or ""
                if database in ("", ":memory:"):
                    options["poolclass"] = StaticPool  # one shared connection, or each sees its own DB
                else:
                    Path(database).parent.mkdir(parents=True, exist_ok=True)
            elif parsed.get_driver_name() == "asyncpg":
                options["connect_args"] = {"server_settings": dict(POSTGRESQL_SETTINGS)}
            engine = create_async_engine(parsed, **options)
            try:
                if engine.dialect.name == "sqlite":
                    prepare_sqlite(engine)
                store = cls(engine, clock=clock)
                await migrate.upgrade(engine)
            except BaseException:
                await engine.dispose()
                raise
        log.info("store open (%s), schema at head", parsed.render_as_string(hide_password=True))
        return store

    async def close(self) -> None:
        await self._engine.dispose()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def engine(self) -> AsyncEngine:
        """For components that keep their own tables on the same database (the roster ledger)."""
        return self._engine

    @property
    def clock(self) -> Clock:
        """What the hub stamps received records with (:func:`hub.events.journal.store_events`)."""
        return self._clock

    @property
    def dialect_name(self) -> str:
        return self._engine.dialect.name

    @contextlib.asynccontextmanager
    async def write(self, operation: str) -> AsyncIterator[AsyncConnection]:
        """One write transaction (BEGIN IMMEDIATE on SQLite); failures leave as StoreError.

        Public so the registry and the accounts run their statements with the same transaction
        discipline and error translation as the event store, on the same engine.
        """
        with _translated(operation):
            async with self._engine.connect() as conn:
                await conn.execution_options(**WRITE_TRANSACTION)
                async with conn.begin():
                    yield conn

    @contextlib.asynccontextmanager
    async def read(self, operation: str) -> AsyncIterator[AsyncConnection]:
        """One read connection, failures translated like :meth:`write`'s."""
        with _translated(operation):
            async with self._engine.connect() as conn:
                yield conn

    async def ping(self) -> bool:
        """Whether the database answers a trivial query soon; for /healthz, never raises."""
        try:
            async with asyncio.timeout(PING_TIMEOUT_S), self.read("ping") as conn:
                await conn.execute(text("SELECT 1"))
        except (StoreError, TimeoutError):
            return False
        return True

    # -- the ingest's writes (unscoped: the ingest is the hub itself) ----------------------

    async def dead_letter(self, topic: str, reason: str, payload: bytes) -> None:
        """Keep a rejected message for diagnosis; ``reason`` must not quote the payload."""
        async with self.write("dead_letter") as conn:
            await conn.execute(
                dead_letters.insert().values(
                    received_at=self._clock.wall(),
                    topic=topic,
                    reason=reason,
                    payload=bytes(payload[:DEAD_LETTER_KEEP_BYTES]),
                    payload_size=len(payload),
                )
            )

    async def record_heartbeat(self, heartbeat: Heartbeat, *, received_at: datetime | None = None) -> None:
        async with self.write("record_heartbeat") as conn:
            await self._heartbeat(conn, heartbeat, received_at or self._clock.wall())

    async def record_statuses(
        self, messages: Sequence[Heartbeat | PresenceStatus], *, received_at: datetime | None = None
    ) -> None:
        """A batch's heartbeats and presence notices as :meth:`record_heartbeat` and
        :meth:`record_presence` would leave them, in one transaction of a few multi-row statements
        (issue 16: three statements a heartbeat were the ingest's limit at thousands of lanes). Of
        one device's heartbeats only the last counts (each overwrites the one before); its presence
        notices are applied in order, one statement for each round of distinct devices."""
        received = received_at or self._clock.wall()
        beats = {m.device_id: m for m in messages if isinstance(m, Heartbeat)}
        rounds: list[list[PresenceStatus]] = []
        next_round: dict[str, int] = {}  # a device's next notice goes in a round after its last
        for message in messages:
            if isinstance(message, PresenceStatus):
                at = next_round.get(message.device_id, 0)
                if at == len(rounds):
                    rounds.append([])
                rounds[at].append(message)
                next_round[message.device_id] = at + 1
        # Each statement is executed with its rows as parameters (SQLAlchemy's insertmanyvalues
        # batches them into multi-row VALUES), not built with .values(rows): a statement built
        # with its rows is compiled again at every batch (its text differs with the row count),
        # which was a third of the hub's time at 10,000 lanes (bench/city.py, py-spy).
        async with self.write("record_statuses") as conn:
            for statuses in rounds:
                await conn.execute(self._presence_upsert, self._presence_rows(statuses, received))
            if beats:
                rows = [
                    {"device_id": d, "last_seen_at": received, "last_heartbeat": b.model_dump(mode="json")}
                    for d, b in beats.items()
                ]
                await conn.execute(self._heartbeat_upsert, rows)
                await heartbeats.record_many(conn, self._insert, list(beats.values()), received)

    @functools.cached_property
    def _heartbeat_upsert(self) -> Any:
        insert = self._insert(devices)
        changing = {
            "last_seen_at": insert.excluded.last_seen_at,
            "last_heartbeat": insert.excluded.last_heartbeat,
        }
        return insert.on_conflict_do_update(index_elements=["device_id"], set_=changing)

    @staticmethod
    def _presence_rows(statuses: Sequence[PresenceStatus], received: datetime) -> list[dict[str, Any]]:
        """Notices of distinct devices, as rows of :attr:`_presence_upsert`."""
        return [
            {
                "device_id": p.device_id,
                "presence_state": p.state.value,
                "presence_generation": p.generation,
                "presence_at": p.at,
                "last_seen_at": received if p.state is PresenceState.ONLINE else None,
            }
            for p in statuses
        ]

    @functools.cached_property
    def _presence_upsert(self) -> Any:
        """One upsert for notices of distinct devices, each applied as :meth:`_presence` would."""
        insert = self._insert(devices)
        incoming = insert.excluded
        online = incoming.presence_state == PresenceState.ONLINE.value
        changing = {
            "presence_state": incoming.presence_state,
            "presence_generation": incoming.presence_generation,
            "presence_at": incoming.presence_at,
            "last_seen_at": case((online, incoming.last_seen_at), else_=devices.c.last_seen_at),
        }
        return insert.on_conflict_do_update(index_elements=["device_id"], set_=changing, where=_newer(insert))

    async def _heartbeat(self, conn: AsyncConnection, heartbeat: Heartbeat, received: datetime) -> None:
        values = {"last_seen_at": received, "last_heartbeat": heartbeat.model_dump(mode="json")}
        insert = self._insert(devices).values(device_id=heartbeat.device_id, **values)
        await conn.execute(insert.on_conflict_do_update(index_elements=["device_id"], set_=values))
        await heartbeats.record(conn, self._insert, heartbeat, received)

    async def record_presence(self, status: PresenceStatus, *, received_at: datetime | None = None) -> bool:
        """Apply a presence unless the stored one is newer; returns whether it was applied.

        Order is by generation (one per device connection). Within a generation ``offline`` is
        final: the broker's last will may overtake the ``online`` it ends. Generations are bounded
        (issue 13): one more than :data:`MAX_GENERATION_STEP` ahead of the stored one is ignored,
        one that far behind replaces it, so a forged 2**63-1 cannot make later ``offline`` notices
        look old for ever.
        """
        async with self.write("record_presence") as conn:
            return await self._presence(conn, status, received_at or self._clock.wall())

    async def _presence(self, conn: AsyncConnection, status: PresenceStatus, received: datetime) -> bool:
        values: dict[str, Any] = {
            "presence_state": status.state.value,
            "presence_generation": status.generation,
            "presence_at": status.at,
        }
        if status.state is PresenceState.ONLINE:
            values["last_seen_at"] = received
        insert = self._insert(devices).values(device_id=status.device_id, **values)
        statement = insert.on_conflict_do_update(
            index_elements=["device_id"], set_=values, where=_newer(insert)
        )
        result = await conn.execute(statement)
        return bool(result.rowcount)


def _newer(insert: Any) -> ColumnElement[bool]:
    """Whether an upserted presence notice (``insert.excluded``) replaces the stored one: order is
    by generation, ``offline`` final within one (see :meth:`Store.record_presence`)."""
    stored, incoming = devices.c, insert.excluded
    return or_(
        stored.presence_generation.is_(None),
        # A generation far below the stored one: the stored one is not believable (forged, or
        # the lane's journal was reset), so it cannot freeze presence for good.
        # (Differences of two non-negative BIGINTs: no sum that could overflow.)
        stored.presence_generation - incoming.presence_generation > MAX_GENERATION_STEP,
        and_(
            incoming.presence_generation > stored.presence_generation,
            incoming.presence_generation - stored.presence_generation <= MAX_GENERATION_STEP,
        ),
        and_(
            incoming.presence_generation == stored.presence_generation,
            or_(
                incoming.presence_state == PresenceState.OFFLINE.value,
                stored.presence_state == incoming.presence_state,
            ),
        ),
    )

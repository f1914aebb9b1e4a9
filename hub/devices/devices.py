"""The lanes one account may see: their health and their command logs.

The scope is chosen here from the principal (:func:`hub.auth.scope.device_clause`): the hub
operator and the city station see every lane the hub has heard from, every other role the lanes
at the gates of the projects it sees. A lane outside the account's view is "not found" exactly
like one that never connected, so the answer says nothing about devices elsewhere.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, select, tuple_

from hub.auth.principal import Principal
from hub.auth.scope import device_clause
from hub.devices import command_log
from hub.devices.records import OFFLINE_AFTER_KEEPALIVES, CommandRecord, DeviceStatus, LaneGate
from hub.errors import InvalidCursor, NotFound
from hub.store import Store
from hub.store.cursor import pack, unpack
from hub.store.schema import devices, gates, roster_status, roster_versions


class Devices:
    """The lanes ``principal`` sees; every method is one read and returns frozen values."""

    def __init__(self, store: Store, principal: Principal) -> None:
        self._store = store
        self._principal = principal

    def _scope(self) -> ColumnElement[bool]:
        return device_clause(self._principal, devices.c.device_id)

    async def statuses(self, device_ids: Collection[str] | None = None) -> list[DeviceStatus]:
        """Every visible lane's last heartbeat, presence and roster report, by device id; only
        those of ``device_ids`` when given (a lane's page needs its own row, not 10,000)."""
        scope = self._scope()
        if device_ids is not None:
            scope = and_(scope, devices.c.device_id.in_(list(device_ids)))
        return await statuses(self._store, scope)

    async def board(self, query: BoardQuery, now: datetime, keepalive_s: float) -> BoardPage:
        """One page of the visible lanes, offline first (:func:`board`)."""
        return await board(self._store, self._scope(), query, now, keepalive_s)

    async def require_visible(self, device_id: str) -> None:
        """NotFound unless the device has connected *and* the account sees it: the same answer
        for both, so an account learns nothing about devices outside its scope."""
        query = select(devices.c.device_id).where(devices.c.device_id == device_id, self._scope())
        async with self._store.read("device visible") as conn:
            found = (await conn.execute(query)).first()
        if found is None:
            raise NotFound(
                f"device {device_id} not found (never connected, or not among this account's lanes)"
            )

    async def gate_of(self, device_id: str) -> LaneGate | None:
        """The gate the lane stands at; None when it stands at none, or the account does not see
        it (the same answer, as for :meth:`require_visible`)."""
        g = gates.c
        query = select(g.device_id, g.project_id, g.name, g.lane, g.kind, g.direction).where(
            g.device_id == device_id, device_clause(self._principal, g.device_id)
        )
        async with self._store.read("gate of a lane") as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else LaneGate(**row._mapping)

    async def commands(self, device_id: str, limit: int = 50) -> list[CommandRecord]:
        """The lane's commands, newest first; NotFound as :meth:`require_visible`."""
        await self.require_visible(device_id)
        async with self._store.read("commands_for") as conn:
            return await command_log.for_device(conn, device_id, limit)


def status_query(scope: ColumnElement[bool]) -> Select[Any]:
    """Each device with its roster report and its project's newest roster version (the lag)."""
    t, s, v = devices.c, roster_status.c, roster_versions.c
    return (
        select(
            devices,
            s.applied_version.label("roster_applied"),
            v.version.label("roster_current"),
            s.problem.label("roster_problem"),
        )
        .select_from(
            devices.outerjoin(roster_status, s.device_id == t.device_id).outerjoin(
                roster_versions, v.project_id == s.project_id
            )
        )
        .where(scope)
        .order_by(t.device_id)
    )


async def statuses(store: Store, scope: ColumnElement[bool]) -> list[DeviceStatus]:
    async with store.read("devices") as conn:
        rows = (await conn.execute(status_query(scope))).all()
    return [DeviceStatus(**row._mapping) for row in rows]


# -- the board: a page of lanes, the ones needing attention first ---------------------------------


class BoardState(StrEnum):
    """A lane's state on the board, in the board's order: lanes gone silent first, then revoked
    ones, then those that are well."""

    OFFLINE = "offline"
    REVOKED = "revoked"
    ONLINE = "online"


BOARD_STATES: Final = tuple(BoardState)
_CURSOR_VERSION: Final = "d1"


def encode_board_cursor(after: tuple[int, str]) -> str:
    return pack(_CURSOR_VERSION, *after)


def decode_board_cursor(cursor: str) -> tuple[int, str]:
    """The previous page's last (rank, device id), or :class:`InvalidCursor` saying why not."""
    rank, device_id = unpack(cursor, _CURSOR_VERSION, 2)
    if type(rank) is not int or not 0 <= rank < len(BOARD_STATES) or not isinstance(device_id, str):
        raise InvalidCursor("is not a cursor of this listing")
    return rank, device_id


def board_rank(now: datetime, keepalive_s: float) -> ColumnElement[int]:
    """The row's place in :data:`BOARD_STATES`, as :func:`hub.api.present.liveness` judges it
    (revoked above all; online only while its last word was ``online`` and it was heard from within
    1.5 × keep-alive), computed by the database so that 10,000 lanes are sorted, filtered and
    paged there instead of in the hub."""
    t = devices.c
    heard_since = now - timedelta(seconds=OFFLINE_AFTER_KEEPALIVES * keepalive_s)
    online = and_(t.presence_state == "online", t.last_seen_at.is_not(None), t.last_seen_at >= heard_since)
    return case((t.revoked_at.is_not(None), 1), (online, 2), else_=0)


@dataclass(frozen=True, slots=True)
class BoardQuery:
    """Which page of the board: a state, a search in the device id, and the position after the
    previous page's last row (its rank and device id)."""

    state: BoardState | None = None
    search: str | None = None
    after: tuple[int, str] | None = None
    limit: int = 100


@dataclass(frozen=True, slots=True)
class BoardPage:
    items: list[DeviceStatus]
    next_after: tuple[int, str] | None
    counts: dict[BoardState, int]
    """Lanes in each state among those the account sees (before the state filter and search)."""


async def board(
    store: Store, scope: ColumnElement[bool], query: BoardQuery, now: datetime, keepalive_s: float
) -> BoardPage:
    rank = board_rank(now, keepalive_s)
    t = devices.c
    page = (
        status_query(scope).add_columns(rank.label("board_rank")).order_by(None).order_by(rank, t.device_id)
    )
    if query.state is not None:
        page = page.where(rank == BOARD_STATES.index(query.state))
    if query.search:
        page = page.where(t.device_id.contains(query.search.lower(), autoescape=True))
    if query.after is not None:
        page = page.where(
            tuple_(rank, t.device_id) > tuple_(literal(query.after[0]), literal(query.after[1]))
        )
    counted = select(rank, func.count()).select_from(devices).where(scope).group_by(rank)
    async with store.read("device board") as conn:
        rows = (await conn.execute(page.limit(query.limit + 1))).all()
        counts = dict.fromkeys(BOARD_STATES, 0) | {
            BOARD_STATES[int(r)]: int(n) for r, n in (await conn.execute(counted)).all()
        }
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    items = [DeviceStatus(**{k: v for k, v in row._mapping.items() if k != "board_rank"}) for row in rows]
    last = rows[-1] if more else None
    return BoardPage(items, None if last is None else (int(last.board_rank), last.device_id), counts)

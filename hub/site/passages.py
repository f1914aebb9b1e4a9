"""What a lane recorded as a passage, read off its events: live from a stored batch, or from the
stored record for a lane that was away.

Live (:func:`sort_batch`): a granted access event with ``passage`` set is a passage at its wall
time (a lane without a rotation sensor). A ``passage_confirmed`` lane event is one at *its* wall
time, for the person its referenced grant (same device, ``ref_seq``) admitted, and only if the
event names that same person: the grant comes from the batch, from the relay's small memory of
recent grants, or from the store in one query per round. A grant that a sensor lane reports
``not_passed``, or has not reported on, is never relayed.

From the record (:func:`recent_passages`, the catch-up a lane gets when it connects): the stored
tables keep neither ``passage`` nor the person on a lane event, so the same rule is read off what
they do keep. A device that reported any passage outcome (confirmed or not passed) in the window
has a rotation sensor: its grants count only through a ``passage_confirmed`` that refers to them.
Any other device counts its grants as passages. Only each person's latest passage is sent: a lane
takes nothing older than what it holds anyway. A record whose time the hub does not believe
(``clock_suspect``, :mod:`hub.events.time_bounds`) is never a passage: the ingest leaves it out of
the live batch, the catch-up out of its reads.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store.schema import access_events, lane_events
from wire.models import AccessEvent, Decision, Direction, LaneEvent, LaneEventType
from wire.site import SitePassage

Key = tuple[str, int]
"""(device_id, seq)"""

GRANT_BEFORE_OUTCOME = timedelta(minutes=2)
"""How far before a window's first outcome its grant may lie (a passage timeout is at most 60 s)."""
_OUTCOMES = (LaneEventType.PASSAGE_CONFIRMED.value, LaneEventType.NOT_PASSED.value)


@dataclass(frozen=True, slots=True)
class Grant:
    person_id: str
    direction: Direction


@dataclass(frozen=True, slots=True)
class Batch:
    """What one stored batch holds for the relay."""

    passages: list[SitePassage]
    """Grants that are passages (sensor-less lanes): ready to relay."""
    confirmations: list[LaneEvent]
    """``passage_confirmed`` events naming a person: passages once their grant agrees."""
    grants: dict[Key, Grant]
    """The granted events of the batch that name a person, from lanes that confirm passages."""


def sort_batch(records: Iterable[AccessEvent | LaneEvent], confirming: Collection[str]) -> Batch:
    """``confirming``: the lanes known to confirm passages (a rotation sensor), whose grants are
    kept for the confirmations that follow; any other lane's grant costs nothing here."""
    batch = Batch([], [], {})
    granted = Decision.GRANTED
    for record in records:
        if isinstance(record, AccessEvent):
            if record.passage and record.person_id is not None:
                batch.passages.append(_passage(record.person_id, record.direction, record.wall_time, record))
            elif (
                record.device_id in confirming and record.decision is granted and record.person_id is not None
            ):
                batch.grants[(record.device_id, record.seq)] = Grant(record.person_id, record.direction)
        elif (
            record.type is LaneEventType.PASSAGE_CONFIRMED
            and record.person_id is not None
            and record.ref_seq is not None
        ):
            batch.confirmations.append(record)
    return batch


def confirmed(event: LaneEvent, grant: Grant | None) -> SitePassage | None:
    """The passage a confirmation records, if its grant admitted the person it names."""
    if grant is None or event.person_id is None or grant.person_id != event.person_id:
        return None
    return _passage(event.person_id, grant.direction, event.wall_time, event)


def _passage(
    person_id: str, direction: Direction, at: datetime, record: AccessEvent | LaneEvent
) -> SitePassage:
    return SitePassage(
        person_id=person_id,
        direction=direction,
        at=at.astimezone(UTC),
        device_id=record.device_id,
        seq=record.seq,
    )


async def stored_grants(conn: AsyncConnection, keys: Collection[Key]) -> dict[Key, Grant]:
    """The granted access events among ``keys`` that name a person, in one query."""
    if not keys:
        return {}
    per_device: dict[str, set[int]] = {}
    for device_id, seq in keys:
        per_device.setdefault(device_id, set()).add(seq)
    a = access_events.c
    query = select(a.device_id, a.seq, a.person_id, a.direction).where(
        or_(*(and_(a.device_id == d, a.seq.in_(sorted(seqs))) for d, seqs in sorted(per_device.items()))),
        a.decision == Decision.GRANTED.value,
        a.person_id.is_not(None),
    )
    return {
        (str(d), int(seq)): Grant(str(person), Direction(direction))
        for d, seq, person, direction in await conn.execute(query)
    }


async def recent_passages(
    conn: AsyncConnection, devices: Sequence[str], since: datetime
) -> list[SitePassage]:
    """Each person's latest passage at ``devices`` since ``since``, from the stored record, oldest first."""
    if not devices:
        return []
    a, e = access_events.c, lane_events.c
    grants = (
        await conn.execute(
            select(a.device_id, a.seq, a.person_id, a.direction, a.wall_time).where(
                a.device_id.in_(devices),
                a.wall_time >= since - GRANT_BEFORE_OUTCOME,
                a.decision == Decision.GRANTED.value,
                a.person_id.is_not(None),
                a.clock_suspect.is_(False),
            )
        )
    ).all()
    outcomes = (
        await conn.execute(
            select(e.device_id, e.seq, e.type, e.ref_seq, e.wall_time).where(
                e.device_id.in_(devices),
                e.wall_time >= since,
                e.type.in_(_OUTCOMES),
                e.clock_suspect.is_(False),
            )
        )
    ).all()
    return derive_recent(
        [(str(d), int(s), str(p), Direction(direction), at) for d, s, p, direction, at in grants],
        [
            (str(d), int(s), LaneEventType(t), None if r is None else int(r), at)
            for d, s, t, r, at in outcomes
        ],
        since,
    )


GrantRow = tuple[str, int, str, Direction, datetime]
"""(device_id, seq, person_id, direction, wall_time) of a granted access event naming a person."""
OutcomeRow = tuple[str, int, LaneEventType, int | None, datetime]
"""(device_id, seq, type, ref_seq, wall_time) of a passage outcome."""


def derive_recent(
    grants: Sequence[GrantRow], outcomes: Sequence[OutcomeRow], since: datetime
) -> list[SitePassage]:
    """The rule in the module's docstring, over rows; pure."""
    sensors = {device for device, *_ in outcomes}
    by_key: Mapping[Key, GrantRow] = {(row[0], row[1]): row for row in grants}
    latest: dict[str, SitePassage] = {}

    def keep(passage: SitePassage) -> None:
        held = latest.get(passage.person_id)
        if held is None or (passage.at, passage.device_id, passage.seq) > (held.at, held.device_id, held.seq):
            latest[passage.person_id] = passage

    for device_id, seq, person_id, direction, at in grants:
        if device_id not in sensors and at >= since:
            keep(
                SitePassage(
                    person_id=person_id,
                    direction=direction,
                    at=at.astimezone(UTC),
                    device_id=device_id,
                    seq=seq,
                )
            )
    for device_id, seq, kind, ref_seq, at in outcomes:
        grant = by_key.get((device_id, ref_seq)) if ref_seq is not None else None
        if kind is LaneEventType.PASSAGE_CONFIRMED and grant is not None:
            keep(
                SitePassage(
                    person_id=grant[2],
                    direction=grant[3],
                    at=at.astimezone(UTC),
                    device_id=device_id,
                    seq=seq,
                )
            )
    return sorted(latest.values(), key=lambda p: (p.at, p.device_id, p.seq))

"""A lane's word that events a restored hub asked for are gone for good (invariant 11's limit).

A backup older than a lane's window (or a lane whose journal bound dropped events) leaves seqs the
hub will never get again: the lane says which (:class:`wire.models.JournalGap`). Without this
the hub's contiguous watermark would stay below the gap for ever: later events stored but never
acknowledged, the lane's journal never draining, resending for ever, and nobody told that
records were lost.

The hub believes the lane only as far as it can check. It takes a gap only while it runs from a
restore (:mod:`hub.backup.marker`) whose epoch the gap names, only for the seqs it really lacks:
from its watermark on, below the first seq it holds after (and so on, a run at a time, should
the restored database hold seqs between holes), within what the lane claimed. One
claim per lane and restore: a second, different claim for the same epoch is refused (a device
cannot use restores to skip seqs it would rather not send). A gap taken is recorded in the same
transaction as the watermark it moves, as an audit line (``journal_gap``, the device as target,
the range and count in its detail) that the ``journal_gap`` alert reads
(:mod:`hub.workflows.alerts`): a restart of the hub keeps both. Then the lane is acknowledged as
usual. Anything refused is dead-lettered by the ingest, with the reason, and counted.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth import audit
from hub.backup.marker import read_marker
from hub.errors import StoreError
from hub.inbound import describe
from hub.lane_sender import LaneSender, Sender
from hub.store import Store, sequences
from hub.store.schema import audit_log
from hub.workflows.alerts import JOURNAL_GAP
from wire.clock import Clock
from wire.codec import decode, encode
from wire.message_errors import TopicError, WireError
from wire.models import JournalGap, StorageAck
from wire.topics import Channel, parse_topic

log = logging.getLogger(__name__)

ACTION = JOURNAL_GAP
"""The audit line's action: the alert's kind."""
AUDITED_AS = "hub"
"""Who the audit line names: the hub itself, on a lane's word it checked."""


@dataclass(frozen=True, slots=True)
class Taken:
    """What the hub made of a gap: ``count`` seqs from ``from_seq`` to ``through_seq`` recorded as
    lost (0: a repeat of a gap already taken), and the watermark now."""

    from_seq: int
    through_seq: int
    count: int
    watermark: int


@dataclass
class GapCounters:
    taken: int = 0
    """Gaps that moved a watermark."""
    lost: int = 0
    """Seqs recorded as lost, over all lanes."""
    refused: int = 0


def missing(claim: JournalGap, watermark: int, first_held: int | None) -> tuple[int, int] | None:
    """The seqs of ``claim`` the hub really lacks: from just above its ``watermark`` to just below
    the first seq it holds after (``first_held``), within the claim. None when the claim does not
    reach the watermark (seqs between them are not said to be lost: the lane still has them to
    send); an empty range (from > through) when it lies wholly at or below the watermark."""
    start = watermark + 1
    if claim.from_seq > start:
        return None
    end = claim.through_seq if first_held is None else min(claim.through_seq, first_held - 1)
    return start, end


def _claim_of(detail: Mapping[str, Any] | None) -> tuple[int, int, int] | None:
    if not detail:
        return None
    try:
        return int(detail["epoch"]), int(detail["claimed_from"]), int(detail["claimed_through"])
    except (KeyError, TypeError, ValueError):
        return None


async def _claims(conn: AsyncConnection, device_id: str) -> set[tuple[int, int, int]]:
    """The (epoch, from, through) claims this lane's gaps were taken under."""
    rows = await conn.execute(
        select(audit_log.c.detail).where(audit_log.c.action == ACTION, audit_log.c.target == device_id)
    )
    return {claim for (detail,) in rows if (claim := _claim_of(detail)) is not None}


class GapIngest:
    """The ingest's handler of the lanes' ``journal_gap`` channel (:data:`hub.ingest.ChannelHandler`)."""

    def __init__(self, store: Store, sender: Sender, state_dir: Path, *, clock: Clock) -> None:
        self._store = store
        self._lanes = LaneSender(sender)
        self._state_dir = state_dir
        self._clock = clock
        self._counters = GapCounters()

    @property
    def counters(self) -> GapCounters:
        return dataclasses.replace(self._counters)

    async def __call__(self, topic: str, payload: bytes) -> str | None:
        refused = await self._take(topic, payload)
        if refused is not None:
            self._counters.refused += 1
        return refused

    async def _take(self, topic: str, payload: bytes) -> str | None:
        try:
            device_id = parse_topic(topic).device_id
            claim = decode(Channel.JOURNAL_GAP, payload)
        except TopicError as err:
            return f"bad topic: {err.why}"
        except WireError as err:
            return describe(err)
        assert isinstance(claim, JournalGap)
        if claim.device_id != device_id:
            return "device_id in the payload differs from the device in the topic"
        marker = read_marker(self._state_dir)
        if marker is None:
            return "a journal gap outside a restore: this hub was not restored from a backup"
        if marker.epoch != claim.epoch:
            return "a journal gap for another restore than the one this hub runs from"
        try:
            taken = await self._record(claim)
        except StoreError as err:
            log.error("could not record %s's journal gap (%s); it says it again", device_id, err)
            return None
        if isinstance(taken, str):
            return taken
        if taken.count:
            self._counters.taken += 1
            self._counters.lost += taken.count
            log.warning(
                "%s lost seq %d..%d (%d events) for good: older than its journal kept when the "
                "hub was restored (epoch %d); recorded, watermark now %d",
                device_id,
                taken.from_seq,
                taken.through_seq,
                taken.count,
                claim.epoch,
                taken.watermark,
            )
        ack = StorageAck(device_id=device_id, through_seq=taken.watermark, at=self._clock.wall())
        await self._lanes.send(device_id, Channel.ACK, encode(ack), what="storage ack after a gap")
        return None

    async def _record(self, claim: JournalGap) -> Taken | str:
        """Check ``claim`` against the database and take what it may: one transaction, the
        device's watermark row locked (:func:`hub.store.sequences.lock_all`) as the ingest does."""
        device_id, at = claim.device_id, self._clock.wall()
        async with self._store.write("journal gap") as conn:
            locked = (await sequences.lock_all(conn, [device_id]))[device_id]
            claims = {c for c in await _claims(conn, device_id) if c[0] == claim.epoch}
            if claims - {(claim.epoch, claim.from_seq, claim.through_seq)}:
                return "a second, different journal gap for one restore"
            runs: list[tuple[int, int]] = []
            while True:  # a run at a time: a backup taken mid-batch may hold seqs between holes
                first_held = await sequences.first_stored_above(conn, device_id, locked[0])
                seqs = missing(claim, locked[0], first_held)
                if seqs is None and not runs:
                    return "a journal gap that does not start at the hub's watermark"
                if seqs is None or seqs[0] > seqs[1]:
                    break
                state = await sequences.pass_over(conn, device_id, locked, seqs[1])
                runs.append(seqs)
                locked = (state.contiguous_through, state.highest_seen)
            if not runs:
                return Taken(locked[0] + 1, locked[0], 0, locked[0])
            taken = Taken(runs[0][0], runs[-1][1], sum(end - start + 1 for start, end in runs), locked[0])
            await audit.record(
                conn,
                None,
                ACTION,
                at=at,
                target=device_id,
                username=AUDITED_AS,
                detail={
                    "epoch": claim.epoch,
                    "from_seq": taken.from_seq,
                    "through_seq": taken.through_seq,
                    "count": taken.count,
                    "claimed_from": claim.from_seq,
                    "claimed_through": claim.through_seq,
                    "reason": claim.reason,
                },
            )
        return taken

"""The lane service: card sources in, decisions out, in the order the invariants demand.

For each card: decide from the in-memory roster (never the network), commit the event to the
journal, *then* drive the relay and indicators, then wake the uplink. If the journal commit
fails the relay does not move: an unrecorded passage is worse than a person waiting.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Protocol

from controller.clock import SystemClock
from controller.config import ControllerConfig
from controller.core.cards import CardRead, CardUid, IdentityCard
from controller.core.credential import credential_hash, uid_credential
from controller.core.decision import Lane, Swipe, Verdict, decide
from controller.core.idnumber import validate_foreigner_number, validate_id_number
from controller.core.indication import indication_for
from controller.core.passback import PassbackBook
from controller.core.roster import Roster
from controller.journal import Journal, JournalError
from controller.outputs import LaneOutputs
from controller.uplink import Uplink
from wire.models import AccessEvent, CardKind, Heartbeat, ReaderState, Reason, utc_now

log = logging.getLogger(__name__)

SOFTWARE_VERSION = "0.1.0"


class CardSource(Protocol):
    name: str

    @property
    def healthy(self) -> bool: ...

    def cards(self) -> AsyncIterator[CardRead]: ...


def _swipe_facts(
    card: CardRead, site_key: bytes, roster: Roster, passback: PassbackBook
) -> tuple[str, CardKind, Swipe]:
    """Hash the credential and gather what the rules look at; the ID number goes no further."""
    if isinstance(card, CardUid):
        digest = credential_hash(site_key, uid_credential(card.uid))
        entry = roster.lookup(digest)
        inside = passback.inside(entry.person_id if entry else None)
        swipe = Swipe(None, None, entry, roster.watchlisted(digest), uid_only=True, inside=inside)
        return digest, CardKind.CARD_UID, swipe
    if card.kind in (CardKind.FOREIGNER_2017, CardKind.FOREIGNER_2023):
        problem = validate_foreigner_number(card.id_number, card.kind)
    else:
        problem = validate_id_number(card.id_number)
    digest = credential_hash(site_key, card.id_number)
    entry = roster.lookup(digest) if problem is None else None
    inside = passback.inside(entry.person_id if entry else None)
    return digest, card.kind, Swipe(problem, card.valid_to, entry, roster.watchlisted(digest), inside=inside)


class LaneService:
    def __init__(
        self,
        config: ControllerConfig,
        *,
        site_key: bytes,
        roster: Roster,
        journal: Journal,
        outputs: LaneOutputs,
        sources: list[CardSource],
        clock: SystemClock,
        uplink: Uplink | None = None,
        observers: Sequence[Callable[[AccessEvent], None]] = (),
    ) -> None:
        self.config = config
        self.site_key = site_key
        self.roster = roster
        self.journal = journal
        self.outputs = outputs
        self.sources = sources
        self.clock = clock
        self.uplink = uplink
        self.observers = list(observers)
        self.policy = config.policy.to_policy()
        self.passback = PassbackBook(journal.passages())
        self.disabled = False
        self.started = time.monotonic()
        self.decisions = 0

    def handle(self, card: CardRead) -> AccessEvent:
        digest, kind, swipe = _swipe_facts(card, self.site_key, self.roster, self.passback)
        lane = Lane(self.config.direction, self.clock.now(), self.policy, self.disabled)
        verdict = decide(swipe, lane)
        passage = None
        if verdict.granted and swipe.entry is not None:
            passage = (swipe.entry.person_id, self.config.direction)
        event = self.journal.append(
            lambda seq: self._event(seq, verdict, kind, digest, swipe), passage=passage
        )
        if passage is not None:
            self.passback.record(*passage)
        if verdict.granted:
            self.outputs.pulse_relay()
        self.outputs.indicate(indication_for(verdict.reason))
        self.decisions += 1
        if self.uplink is not None:
            self.uplink.notify()
        for observe in self.observers:
            observe(event)
        log.info(
            "lane %s seq %d %s (%s)%s%s",
            self.config.lane,
            event.seq,
            verdict.decision.value,
            verdict.reason.value,
            f" person {event.person_id}" if event.person_id else "",
            f": {verdict.detail}" if verdict.detail else "",
        )
        return event

    def _event(self, seq: int, verdict: Verdict, kind: CardKind, digest: str, swipe: Swipe) -> AccessEvent:
        return AccessEvent(
            device_id=self.config.device_id,
            seq=seq,
            boot_id=self.clock.boot_id,
            mono_ns=self.clock.mono_ns(),
            wall_time=self.clock.wall(),
            clock_synced=self.clock.synced(),
            project_id=self.config.project_id,
            lane=self.config.lane,
            direction=self.config.direction,
            decision=verdict.decision,
            reason=verdict.reason,
            card_kind=kind,
            credential_hash=digest,
            person_id=swipe.entry.person_id if swipe.entry else None,
            alert=verdict.alert,
            warnings=verdict.warnings,
        )

    def heartbeat(self) -> Heartbeat:
        usage = shutil.disk_usage(self.config.data_dir)
        return Heartbeat(
            device_id=self.config.device_id,
            sent_at=utc_now(),
            boot_id=self.clock.boot_id,
            uptime_s=time.monotonic() - self.started,
            cpu_temp_c=_cpu_temperature(),
            free_disk_mb=usage.free / 1e6,
            journal_backlog=self.journal.backlog(),
            roster_version=self.roster.version,
            reader_status={s.name: ReaderState.OK if s.healthy else ReaderState.FAULT for s in self.sources},
            clock_synced=self.clock.synced(),
            software_version=SOFTWARE_VERSION,
        )

    async def _consume(self, source: CardSource) -> None:
        async for card in source.cards():
            if not isinstance(card, IdentityCard | CardUid):
                continue
            try:
                self.handle(card)
            except (JournalError, sqlite3.Error, OSError) as err:
                # Nothing recorded, so nothing opens: the person waits, the fault is visible.
                log.error("lane %s could not journal a swipe, gate stays shut: %s", self.config.lane, err)
                self.outputs.fail_secure()
                self.outputs.indicate(indication_for(Reason.UNREADABLE_CARD))

    async def run(self) -> None:
        self.outputs.fail_secure()
        try:
            async with asyncio.TaskGroup() as tasks:
                for source in self.sources:
                    tasks.create_task(self._consume(source))
                if self.uplink is not None:
                    tasks.create_task(self.uplink.run())
        finally:
            self.outputs.fail_secure()


def _cpu_temperature() -> float | None:
    try:
        return int(Path("/sys/class/thermal/thermal_zone0/temp").read_text()) / 1000
    except (OSError, ValueError):
        return None

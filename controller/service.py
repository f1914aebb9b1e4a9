"""The lane service: card sources in, decisions out, in the order the invariants demand.

For each card: decide from the in-memory roster (never the network), commit the event to the
journal, *then* drive the relay and indicators, then wake the uplink. If the journal commit
fails the relay does not move: an unrecorded passage is worse than a person waiting.

Anti-passback reads who is inside across the whole site (:mod:`controller.core.passback`): the
lane's own passages are recorded with the event that records them (the grant on a lane without a
rotation sensor, marked ``passage``; the ``passage_confirmed`` lane event, naming the person, on a
lane with one), its siblings' arrive through :attr:`LaneService.site`
(:mod:`controller.site_sync`). An entry the site's daily cutoff has expired is decided as if
nothing were held, and ``passback_expired`` is journaled when that admits someone; while the site
link cannot vouch for the siblings, hard anti-passback objects only softly.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from controller.clock import LaneClock, LaneTime
from controller.config import ControllerConfig
from controller.core.cards import CardRead, CardUid, IdentityCard, ReadFailure
from controller.core.decision import Lane, Swipe, Verdict, decide
from controller.core.gate import Effect, GateInput, GateState, Turnstile
from controller.core.indication import SYSTEM_FAULT, indication_for
from controller.core.passback import Passage, PassbackBook
from controller.core.policy import AntiPassback, Policy
from controller.core.roster import Roster
from controller.device_state import DeviceState
from controller.feedback.names import person_of
from controller.feedback.state import LaneFacts
from controller.inputs import LaneInputs
from controller.journal import Journal, JournalError, Record
from controller.outputs import LaneOutputs
from controller.registration import OfficeReader
from controller.site_sync import SiteLink
from controller.supervision import Notifier, supervise
from controller.uplink import Uplink
from sitegate.tasks import run_together
from wire.credential import credential_hash, uid_credential
from wire.idnumber import validate_foreigner_number, validate_id_number
from wire.labels import LaneState
from wire.models import (
    ALERT_LANE_EVENTS,
    AccessEvent,
    CardKind,
    Direction,
    Heartbeat,
    LaneEvent,
    LaneEventType,
    ReaderState,
    Reason,
)

if TYPE_CHECKING:
    from controller.feedback.worker import Feedback

log = logging.getLogger(__name__)

SOFTWARE_VERSION = "0.1.0"


class CardSource(Protocol):
    name: str

    @property
    def healthy(self) -> bool: ...

    def cards(self) -> AsyncIterator[CardRead | ReadFailure]: ...


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
        clock: LaneClock,
        uplink: Uplink | None = None,
        observers: Sequence[Callable[[Record], None]] = (),
        inputs: LaneInputs | None = None,
        feedback: Feedback | None = None,
    ) -> None:
        self.config = config
        self.feedback = feedback
        """The worker's screen and voice (controller.feedback): told after the relay has moved."""
        self.site_key = site_key
        self.roster = roster
        self.journal = journal
        self.outputs = outputs
        self.sources = sources
        self.clock = clock
        self.time = LaneTime(clock, config.data_dir / "time.json")
        """What the date and hour rules are judged on: the clock while it keeps to the lane's
        monotonic line, the line when it steps (controller.core.timeline)."""
        self.uplink = uplink
        self.observers = list(observers)
        self.bootstrap_policy = config.policy.to_policy()
        """The configuration's policy: only until the first roster that carries the project's site rules."""
        journal.stamp_untimed(clock.wall())  # passages journaled before they carried a time
        self.passback = PassbackBook(journal.passage_records())
        self.office: OfficeReader | None = None
        """Set (by ``build_service``) on a lane in registration mode: each card read goes to the
        hub for the registration form instead of being decided (:mod:`controller.registration`)."""
        self.site: SiteLink | None = None
        """The lane's link to its site (set by ``build_service`` when passages are shared): its
        siblings' passages reach ``passback`` through it, and it says whether to trust them."""
        self.state = DeviceState(config.data_dir / "state.json")
        self.disabled = self.state.disabled
        self.inputs = inputs
        self.gate = Turnstile()
        self.gate_counts: Counter[str] = Counter()
        self._gate_timer: asyncio.TimerHandle | None = None
        self._indication = indication_for(Reason.GRANTED)
        self._awaiting: tuple[str, int] | None = None  # (person, seq) of the grant the arm is released for
        self.journal_fault: str | None = None
        self.started_ns = clock.mono_ns()
        self.decisions = 0
        self.read_failures = 0

    @property
    def policy(self) -> Policy:
        """The site rules signed with the running roster (swapped in with it), else the bootstrap."""
        return self.roster.policy or self.bootstrap_policy

    def handle(self, card: CardRead) -> AccessEvent:
        digest, kind, swipe = _swipe_facts(card, self.site_key, self.roster, self.passback)
        now = self.time.now()
        self.report_clock_steps()
        expired = self._expired_entry(swipe, now)
        if expired is not None:
            swipe = replace(swipe, inside=None)  # forgotten: decided as if nothing were held
        lane = Lane(self.config.direction, now, self.policy, self.disabled, self.passback_verified())
        verdict = decide(swipe, lane)
        if expired is not None and verdict.granted and swipe.entry is not None:
            self._report(LaneEventType.PASSBACK_EXPIRED, person_id=swipe.entry.person_id)
        passage = None
        if verdict.granted and swipe.entry is not None and not self.confirms_passage:
            passage = (swipe.entry.person_id, self.config.direction)
        event = self.journal.append(
            lambda seq: self._event(seq, verdict, kind, digest, swipe, passage=passage is not None),
            passage=passage,
        )
        self.time.recorded(now)
        if passage is not None:
            self.passback.record(*passage, at=event.wall_time, seq=event.seq)
        self._indication = indication_for(verdict.reason)
        self.feed(GateInput.GRANT if verdict.granted else GateInput.DENY)  # may close out an earlier grant
        if self.feedback is not None:  # after the relay: queued for the feedback threads, never waited for
            self.feedback.decided(verdict.reason, person_of(card))
        if verdict.granted and event.person_id is not None:
            self._awaiting = (event.person_id, event.seq)
        self.decisions += 1
        self._recorded(event)
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

    def report_clock_steps(self) -> None:
        """Journal each step of the wall clock the lane's time line noticed (an alert at the hub)."""
        for step in self.time.steps():
            self._report(LaneEventType.CLOCK_STEP, step_s=step.total_seconds())

    def passback_verified(self) -> bool:
        """Whether the lane can vouch for its site's passages now (always, when it keeps its own only)."""
        return self.site is None or self.site.verified()

    def _expired_entry(self, swipe: Swipe, now: datetime) -> Passage | None:
        """The entry held for the swipe's person, if the site's daily cutoff has expired it and
        anti-passback would have read it (an entry lane with anti-passback on)."""
        if swipe.inside is not True or swipe.entry is None or self.config.direction is not Direction.IN:
            return None
        if self.policy.anti_passback is AntiPassback.OFF:
            return None
        return self.passback.expired(swipe.entry.person_id, now, self.policy.inside_expires_at)

    @property
    def confirms_passage(self) -> bool:
        """With a rotation sensor, anti-passback counts a passage when the arm turns, not at the grant."""
        return self.inputs is not None and self.inputs.has_rotation_sensor

    def feed(self, event: GateInput) -> None:
        """One input to the gate machine, then its effects, in the table's order."""
        before = self.gate.state
        for effect in self.gate.feed(event):
            self._perform(effect)
        if self.gate.state is GateState.DENIED and event is GateInput.DENY:
            self._arm_timer(self._indication.red_s or 1.0)
        if before is not self.gate.state:
            log.debug("lane %s gate %s -> %s on %s", self.config.lane, before, self.gate.state, event)

    def _arm_timer(self, delay: float) -> None:
        if self._gate_timer is not None:
            self._gate_timer.cancel()
        loop = asyncio.get_running_loop()
        self._gate_timer = loop.call_later(delay, self.feed, GateInput.TIMEOUT)

    def _perform(self, effect: Effect) -> None:
        self.gate_counts[effect.value] += 1
        if effect is Effect.INDICATE:
            self.outputs.indicate(self._indication)
        elif effect is Effect.RELEASE:
            self.outputs.release()
            hold = self.config.passage_timeout_s if self.confirms_passage else self.config.relay_pulse_s
            self._arm_timer(hold)
        elif effect in (Effect.LOCK, Effect.CLOSE_ALL):
            if self._gate_timer is not None:
                self._gate_timer.cancel()
            self.outputs.lock()
            if effect is Effect.CLOSE_ALL:
                self._report(LaneEventType.FIRE_ALARM_CLEARED)
        elif effect is Effect.PASSED:
            self._passage_outcome(LaneEventType.PASSAGE_CONFIRMED)
        elif effect is Effect.NOT_PASSED:
            self._passage_outcome(LaneEventType.NOT_PASSED)
        elif effect is Effect.FORCED:
            self._report(LaneEventType.FORCED_PASSAGE)
        elif effect is Effect.OPEN_ALL:
            self.outputs.hold_open()
            self._report(LaneEventType.FIRE_ALARM)
        elif effect is Effect.REPORT_TAMPER:
            self._report(LaneEventType.TAMPER)

    def _passage_outcome(self, outcome: LaneEventType) -> None:
        """Only a lane with a rotation sensor knows whether the person went through."""
        awaiting, self._awaiting = self._awaiting, None
        if awaiting is None or not self.confirms_passage:
            return
        person_id, seq = awaiting
        passage = (person_id, self.config.direction) if outcome is LaneEventType.PASSAGE_CONFIRMED else None
        record = self._report(outcome, ref_seq=seq, passage=passage, person_id=person_id)
        if record is not None and passage is not None:
            self.passback.record(*passage, at=record.wall_time, seq=record.seq)

    def _report(
        self,
        kind: LaneEventType,
        *,
        ref_seq: int | None = None,
        passage: tuple[str, Direction] | None = None,
        operator: str | None = None,
        person_id: str | None = None,
        step_s: float | None = None,
        command_id: str | None = None,
    ) -> LaneEvent | None:
        """Journal what the lane did or saw; the record, or None if it could not be journaled. The
        gate has already acted: a journal failure is logged, never allowed to undo or block that."""
        log_at = logging.WARNING if kind in ALERT_LANE_EVENTS else logging.INFO
        log.log(log_at, "lane %s: %s%s", self.config.lane, kind.value, f" (seq {ref_seq})" if ref_seq else "")
        try:
            record = self.journal.append(
                lambda seq: self._lane_event(seq, kind, ref_seq, operator, person_id, step_s, command_id),
                passage=passage,
            )
        except (JournalError, sqlite3.Error, OSError) as err:
            self.journal_fault = str(err)
            log.error("lane %s could not journal %s: %s", self.config.lane, kind.value, err)
            return None
        self._recorded(record)
        return record

    def _recorded(self, record: Record) -> None:
        if self.uplink is not None:
            self.uplink.notify()
        for observe in self.observers:
            observe(record)

    def _lane_event(
        self,
        seq: int,
        kind: LaneEventType,
        ref_seq: int | None,
        operator: str | None,
        person_id: str | None = None,
        step_s: float | None = None,
        command_id: str | None = None,
    ) -> LaneEvent:
        mono_ns, wall, synced, stepped = (
            self.clock.mono_ns(),
            self.clock.wall(),
            self.clock.synced(),
            self.time.stepped,
        )
        if kind is LaneEventType.CLOCK_STEP:  # stamped on the lane's line: the hub anchors the boot on it
            wall, synced, stepped = self.time.line.place(mono_ns), self.time.line.synced, False
        return LaneEvent(
            device_id=self.config.device_id,
            seq=seq,
            boot_id=self.clock.boot_id,
            mono_ns=mono_ns,
            wall_time=wall,
            clock_synced=synced,
            project_id=self.config.project_id,
            lane=self.config.lane,
            direction=self.config.direction,
            type=kind,
            ref_seq=ref_seq,
            alert=kind in ALERT_LANE_EVENTS,
            operator=operator,
            command_id=command_id,
            person_id=person_id,
            clock_stepped=stepped,
            step_s=step_s,
        )

    def _event(
        self, seq: int, verdict: Verdict, kind: CardKind, digest: str, swipe: Swipe, *, passage: bool = False
    ) -> AccessEvent:
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
            passage=passage,
            clock_stepped=self.time.stepped,
        )

    def heartbeat(self) -> Heartbeat:
        self.time.now()  # an idle lane notices a step too
        self.report_clock_steps()
        usage = shutil.disk_usage(self.config.data_dir)
        return Heartbeat(
            device_id=self.config.device_id,
            sent_at=self.clock.wall(),
            boot_id=self.clock.boot_id,
            uptime_s=(self.clock.mono_ns() - self.started_ns) / 1e9,
            cpu_temp_c=_cpu_temperature(),
            free_disk_mb=usage.free / 1e6,
            journal_backlog=self.journal.backlog(),
            roster_version=self.roster.version,
            reader_status={s.name: ReaderState.OK if s.healthy else ReaderState.FAULT for s in self.sources},
            clock_synced=self.clock.synced(),
            software_version=SOFTWARE_VERSION,
            journal_fault=self.journal_failing() is not None,
        )

    async def _consume(self, source: CardSource) -> None:
        async for card in source.cards():
            if isinstance(card, ReadFailure):
                self.read_failures += 1
                self.outputs.indicate(indication_for(Reason.UNREADABLE_CARD))  # "present the card again"
                if self.feedback is not None:
                    self.feedback.decided(Reason.UNREADABLE_CARD)
                continue
            if not isinstance(card, IdentityCard | CardUid):
                continue
            if self.office is not None:  # registration mode (controller.registration): read, never decide
                if isinstance(card, IdentityCard):
                    await self.office.read(card)
                elif self.feedback is not None:
                    self.feedback.decided(Reason.CREDENTIAL_NOT_ACCEPTED)  # a UID names nobody to register
                continue
            try:
                self.handle(card)
                self.journal_fault = None
            except (JournalError, sqlite3.Error, OSError) as err:
                self.journal_fault = str(err)
                # Nothing recorded, so nothing opens: the person waits, the fault is visible.
                log.error("lane %s could not journal a swipe, gate stays shut: %s", self.config.lane, err)
                self.outputs.fail_secure()
                self.outputs.indicate(SYSTEM_FAULT)  # not "present the card again": call the office
                if self.feedback is not None:
                    self.feedback.lane_state(LaneState.SYSTEM_FAULT)

    def journal_failing(self) -> str | None:
        """Why the journal cannot be written (the lane's or its uplink's latest failure), or None.
        While failing, a probe write is tried each time this is asked (the watchdog, the screen, the
        heartbeat): the fault clears by itself once the disk takes writes again, swipe or none."""
        fault = self.journal_fault or (self.uplink.journal_fault if self.uplink is not None else None)
        if fault is None:
            return None
        try:
            self.journal.probe()
        except (sqlite3.Error, OSError):
            return fault
        log.info("lane %s journal writable again", self.config.lane)
        self.journal_fault = None
        if self.uplink is not None:
            self.uplink.journal_fault = None
        return None

    def set_disabled(self, disabled: bool) -> None:
        """Take the lane out of service (every swipe denied: lane_disabled) or back; survives reboots."""
        if disabled == self.disabled:
            return
        self.state.set_disabled(disabled)
        self.disabled = disabled
        self._report(LaneEventType.LANE_DISABLED if disabled else LaneEventType.LANE_ENABLED)

    def remote_open(self, operator: str, command_id: str) -> None:
        """Journaled like a swipe (who opened it, and the hub's command it answers, are on the
        record: the hub attributes it by that id, never by time), then the arm is released."""
        if self._report(LaneEventType.REMOTE_OPEN, operator=operator, command_id=command_id) is None:
            return  # not recorded, so not opened
        self._indication = indication_for(Reason.GRANTED)
        self._awaiting = None
        self.feed(GateInput.GRANT)

    def lane_facts(self) -> tuple[LaneFacts, bool]:
        """What the idle screen shows (controller.feedback.state), and whether the hub link is up."""
        facts = LaneFacts(
            free_egress=self.gate.state is GateState.FREE_EGRESS,
            journal_ok=self.journal_failing() is None,
            disabled=self.disabled,
            readers_ok=not self.sources or any(source.healthy for source in self.sources),
        )
        return facts, self.uplink is None or self.uplink.connected

    def problems(self) -> list[str]:
        """What keeps this lane from admitting people right now (empty when it can)."""
        found = [
            f"reader {s.name}: {getattr(s, 'fault', None) or 'fault'}" for s in self.sources if not s.healthy
        ]
        fault = self.journal_failing()
        if fault is not None:
            found.append(f"journal: {fault}")
        elif not self.journal.writable():
            found.append("journal: not writable")
        return found

    def close(self) -> None:
        """Fail-secure first, then release the pins and the journal."""
        if self._gate_timer is not None:
            self._gate_timer.cancel()
        self.outputs.close()
        if self.inputs is not None:
            self.inputs.close()
        self.journal.close()
        if self.feedback is not None:
            self.feedback.close()

    async def run(self, *, notifier: Notifier | None = None, watchdog_s: float = 5.0) -> None:
        """Until cancelled. Under systemd, ``notifier`` tells it the lane is ready and pings its
        watchdog every ``watchdog_s`` while :meth:`problems` finds none."""
        self.outputs.fail_secure()
        if self.inputs is not None:
            self.inputs.start(self.feed, asyncio.get_running_loop())
        lane = f"lane {self.config.lane}"
        children: dict[str, Coroutine[Any, Any, None]] = {
            f"{lane} reader {n} ({source.name})": self._consume(source)
            for n, source in enumerate(self.sources)
        }
        if self.uplink is not None:
            children[f"{lane} uplink"] = self.uplink.run()
        if notifier is not None and notifier.address is not None:
            children[f"{lane} watchdog"] = supervise(notifier, self.problems, watchdog_s)
        if self.feedback is not None:
            self.feedback.start()
            children[f"{lane} feedback"] = self.feedback.watch(self.lane_facts)
        try:
            # Not an asyncio.TaskGroup: a child that swallows its one cancel (Python 3.11's wait_for
            # in aiomqtt or a reader) would keep the lane from ever stopping (sitegate.tasks).
            await run_together(children)
        finally:
            self.outputs.fail_secure()


def _cpu_temperature() -> float | None:
    try:
        return int(Path("/sys/class/thermal/thermal_zone0/temp").read_text()) / 1000
    except (OSError, ValueError):
        return None

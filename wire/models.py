"""The messages that travel between a lane controller and the hub.

Every model is frozen and forbids unknown fields: a controller that sends a field the hub does not
know is a version mismatch to surface, not something to drop silently.

Times: a Raspberry Pi has no RTC, so an event carries the boot id and the monotonic clock next to
the wall clock, plus whether the wall clock was synchronised when the event happened. The hub
decides how far to trust ``wall_time``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

DEVICE_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"
PROJECT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
HEX_DIGEST_PATTERN = r"^[0-9a-f]{64}$"
COMMAND_ID_PATTERN = r"^[0-9a-f]{32}$"

DeviceId = Annotated[str, Field(pattern=DEVICE_ID_PATTERN)]
ProjectId = Annotated[str, Field(pattern=PROJECT_ID_PATTERN)]
CommandId = Annotated[str, Field(pattern=COMMAND_ID_PATTERN)]
"""A command's id (:class:`wire.commands.Command`), as a ``remote_open`` lane event names it."""
INT64_MAX = 2**63 - 1
Sequence = Annotated[int, Field(ge=1, le=INT64_MAX)]
Count = Annotated[int, Field(ge=0, le=INT64_MAX)]
# Free text that ends up in logs and in PostgreSQL: printable only (no NUL, no control characters).
Label = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]


class WireModel(BaseModel):
    # allow_inf_nan=False: a NaN or Infinity from a lane (a heartbeat's cpu_temp_c) is refused here,
    # not stored to come back out of the API as JSON no strict parser reads.
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False, allow_inf_nan=False)


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class Decision(StrEnum):
    GRANTED = "granted"
    DENIED = "denied"


class Reason(StrEnum):
    """Why a lane decided as it did. ``granted`` is the only reason a granted event carries."""

    GRANTED = "granted"
    NOT_REGISTERED = "not_registered"
    INVALID_ID_NUMBER = "invalid_id_number"
    CARD_EXPIRED = "card_expired"
    ASSIGNMENT_NOT_STARTED = "assignment_not_started"
    ASSIGNMENT_ENDED = "assignment_ended"
    WATCHLISTED = "watchlisted"
    ANTI_PASSBACK = "anti_passback"
    OUTSIDE_HOURS = "outside_hours"
    LANE_DISABLED = "lane_disabled"
    CREDENTIAL_NOT_ACCEPTED = "credential_not_accepted"
    UNREADABLE_CARD = "unreadable_card"


class Caveat(StrEnum):
    """Why a rule's objection was only a warning, beside the rule's own reason in ``warnings``.

    Not a :class:`Reason`: no decision is ever made *for* a caveat; it says how far to trust one.
    """

    PASSBACK_UNVERIFIED = "passback_unverified"
    """Hard anti-passback saw the person inside, but the lane had not heard from its site's other
    lanes within its bound (controller config ``[site] sibling_silence_s``): the exit that would
    have cleared them may be on its way, so the lane admitted them instead of locking them out."""
    NIGHT_WORK = "night_work"
    """Outside the role's working hours, but inside a night-work permit's window on one of its
    dates (夜间施工, the project's site rules): admitted. Which permit is the hub's to say, from the
    rules in force at ``wall_time`` (the lane ran the rules of the roster it reported)."""


class CardKind(StrEnum):
    RESIDENT = "resident"
    HMT_RESIDENCE_PERMIT = "hmt_residence_permit"
    FOREIGNER_2017 = "foreigner_2017"
    FOREIGNER_2023 = "foreigner_2023"
    CARD_UID = "card_uid"


class AccessEvent(WireModel):
    """One decision at one lane, as journaled on the controller.

    ``credential_hash`` is the site-keyed HMAC of the ID number (or card UID), never the number:
    the hub can correlate repeated unregistered attempts without receiving personal data.
    ``person_id`` is the registry's id when the roster matched, else ``None``.
    """

    kind: Literal["access_event"] = "access_event"
    device_id: DeviceId
    seq: Sequence
    boot_id: Annotated[str, Field(pattern=r"^[0-9A-Za-z-]{8,64}$")]
    mono_ns: Count
    wall_time: AwareDatetime
    clock_synced: bool
    project_id: ProjectId
    lane: Annotated[Label, Field(max_length=32)]
    direction: Direction
    decision: Decision
    reason: Reason
    card_kind: CardKind
    credential_hash: Annotated[str, Field(pattern=HEX_DIGEST_PATTERN)]
    person_id: Label | None = None
    alert: bool = False
    warnings: Annotated[tuple[Reason | Caveat, ...], Field(max_length=8)] = ()
    """Rules that objected softly (e.g. anti-passback in soft mode): granted, but on the record;
    a :class:`Caveat` beside one says why it was only a warning."""
    clock_stepped: bool = False
    """The lane's time line does not vouch for ``wall_time``: the wall clock stepped away from the
    lane's monotonic line (controller.clock) and the lane has not believed the step. The hub places
    the record from ``mono_ns`` within the boot instead (hub.store.timeline)."""
    passage: bool = False
    """This grant is itself the passage (a lane without a rotation sensor counts a person as
    through when it grants): what the hub relays to the site's other lanes. A lane with a
    sensor leaves it False and reports the passage as a ``passage_confirmed`` lane event."""

    @model_validator(mode="after")
    def _reason_matches_decision(self) -> AccessEvent:
        granted = self.decision is Decision.GRANTED
        if granted != (self.reason is Reason.GRANTED):
            raise ValueError(f"decision {self.decision.value!r} cannot carry reason {self.reason.value!r}")
        if granted and self.person_id is None:
            raise ValueError("a granted event must name the person it admitted")
        if Reason.GRANTED in self.warnings:
            raise ValueError("'granted' is not a warning")
        if self.passage and not granted:
            raise ValueError("only a granted event can be a passage")
        return self


class LaneEventType(StrEnum):
    PASSAGE_CONFIRMED = "passage_confirmed"
    """The arm turned for the grant ``ref_seq`` names."""
    NOT_PASSED = "not_passed"
    """Granted (``ref_seq``), but the arm never turned before the passage timeout."""
    FORCED_PASSAGE = "forced_passage"
    """The arm turned with no grant behind it: forced or tailgated."""
    FIRE_ALARM = "fire_alarm"
    FIRE_ALARM_CLEARED = "fire_alarm_cleared"
    TAMPER = "tamper"
    LANE_DISABLED = "lane_disabled"
    LANE_ENABLED = "lane_enabled"
    REMOTE_OPEN = "remote_open"
    """An operator opened the arm from the hub; ``operator`` names the account."""
    PASSBACK_EXPIRED = "passback_expired"
    """``person_id`` was held inside since before the site's daily expiry (a missed exit: a
    tailgate, a broken rotation sensor, a vehicle gate): forgotten, so this swipe admitted them."""
    CLOCK_STEP = "clock_step"
    """The lane's wall clock jumped away from its monotonic time line by ``step_s`` seconds (an NTP
    step, a person setting the clock, a Pi without a real-time clock): an alert, never a passage."""
    ATTRIBUTION_REFUSED = "attribution_refused"
    """Recorded by the hub, never sent by a lane: the lane's record at this seq contradicted the
    registry's placement of the device (or named an operator the hub sent no command for), so it
    was dead-lettered and this alert stored in its place, under the registry's project and lane."""


PERSON_LANE_EVENTS = frozenset(
    {LaneEventType.PASSAGE_CONFIRMED, LaneEventType.NOT_PASSED, LaneEventType.PASSBACK_EXPIRED}
)
"""The lane events that may name a person (``person_id``): the passage outcomes name the person
granted, ``passback_expired`` the person whose inside-state was forgotten."""


ALERT_LANE_EVENTS = frozenset(
    {
        LaneEventType.FORCED_PASSAGE,
        LaneEventType.FIRE_ALARM,
        LaneEventType.TAMPER,
        LaneEventType.CLOCK_STEP,
        LaneEventType.ATTRIBUTION_REFUSED,
    }
)


class LaneEvent(WireModel):
    """Something the lane itself did or saw, journaled in the same sequence as access events.

    Sharing the sequence keeps one watermark per device: the hub acknowledges "everything through
    N", whichever kind each record is.
    """

    kind: Literal["lane_event"] = "lane_event"
    device_id: DeviceId
    seq: Sequence
    boot_id: Annotated[str, Field(pattern=r"^[0-9A-Za-z-]{8,64}$")]
    mono_ns: Count
    wall_time: AwareDatetime
    clock_synced: bool
    project_id: ProjectId
    lane: Annotated[Label, Field(max_length=32)]
    direction: Direction
    type: LaneEventType
    ref_seq: Sequence | None = None
    alert: bool = False
    operator: Label | None = None
    command_id: CommandId | None = None
    """On ``remote_open``: the hub's command the opening answers (the hub takes the operator from
    its own record of it). Optional on the wire, refused elsewhere: a lane's journal decodes its
    unsent records with this model, and a ``remote_open`` journaled before lanes sent command ids
    must still load and be sent; the hub refuses one without an id (no command it can answer)."""
    clock_stepped: bool = False
    """As on :class:`AccessEvent`: the lane's time line does not vouch for ``wall_time``."""
    step_s: float | None = None
    """On ``clock_step``: how far the wall clock jumped from the lane's line, in seconds (+ forward)."""
    person_id: Label | None = None
    """Who: on a passage outcome the person the referenced grant admitted (the hub relays a
    ``passage_confirmed`` only if it names the same person as that grant), on ``passback_expired``
    the person concerned."""

    @model_validator(mode="after")
    def _ref_where_it_belongs(self) -> LaneEvent:
        if (self.type is LaneEventType.REMOTE_OPEN) != (self.operator is not None):
            raise ValueError("an operator goes with remote_open and nothing else")
        if self.command_id is not None and self.type is not LaneEventType.REMOTE_OPEN:
            raise ValueError("a command_id goes with remote_open and nothing else")
        if self.person_id is not None and self.type not in PERSON_LANE_EVENTS:
            raise ValueError(f"{self.type.value} cannot name a person")
        needs_ref = self.type in (LaneEventType.PASSAGE_CONFIRMED, LaneEventType.NOT_PASSED)
        if needs_ref != (self.ref_seq is not None):
            raise ValueError(f"{self.type.value} {'needs' if needs_ref else 'cannot carry'} a ref_seq")
        if self.ref_seq is not None and self.ref_seq >= self.seq:
            raise ValueError("ref_seq must name an earlier record")
        if (self.type is LaneEventType.CLOCK_STEP) != (self.step_s is not None):
            raise ValueError("a step_s goes with clock_step and nothing else")
        return self


JournalRecord = Annotated[AccessEvent | LaneEvent, Field(discriminator="kind")]
"""What travels on a device's event channel: either kind, told apart by ``kind``."""


CARD_READ_PROBLEMS = frozenset({Reason.INVALID_ID_NUMBER, Reason.CARD_EXPIRED})
"""What an office reader says is wrong with a card it read: the checks a lane makes before any
roster lookup (the ID number's check digit, the card's validity), so the form can say so."""

_CardText = Annotated[str, Field(max_length=64, pattern=r"^[^\x00-\x1f\x7f]*$")]
"""A field of the card's text block as the module decoded it (may be empty): printable only."""


class OfficeCardRead(WireModel):
    """A card read at an office reader (a lane in registration mode, 进场/离场登记), for the console's
    form to prefill: the card's text block, decoded, sent to the hub on purpose.

    Personal data, unlike everything else a lane sends: the ID number whole (the form needs it to
    register the person), the name, the address. It travels over the device's TLS link on its own
    channel, is never journaled on the lane (a read that does not reach the hub is read again), and
    the hub keeps it in memory for minutes only. The photo (1024 bytes of WLT, about 1.4 KB as
    base64) is not sent: nothing at the hub can decode it without the vendor's licensed library, and
    a picture the form cannot show is personal data moved for nothing.

    ``read_id`` names the read (random, per read): QoS 1 may deliver it twice, the hub keeps it once.
    ``problem`` is the lane's own finding (:data:`CARD_READ_PROBLEMS`), ``None`` for a good card.
    """

    kind: Literal["card_read"] = "card_read"
    device_id: DeviceId
    read_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    read_at: AwareDatetime
    clock_synced: bool
    card_kind: CardKind
    name: _CardText
    english_name: Annotated[str, Field(max_length=128, pattern=r"^[^\x00-\x1f\x7f]*$")] = ""
    gender: Literal["1", "2", ""] = ""
    nation: Annotated[str, Field(max_length=8, pattern=r"^[0-9A-Z]*$")] = ""
    """GB 3304 nation code on a resident card (``01`` 汉); GB/T 2659 nationality on a foreigner's."""
    birth_date: date | None = None
    address: Annotated[str, Field(max_length=140, pattern=r"^[^\x00-\x1f\x7f]*$")] = ""
    id_number: Annotated[str, Field(min_length=1, max_length=18, pattern=r"^[0-9A-Za-z]+$")]
    issuer: _CardText = ""
    valid_from: date | None = None
    valid_to: date | None = None
    """``None``: long-term (长期)."""
    problem: Reason | None = None

    @model_validator(mode="after")
    def _a_card_problem(self) -> OfficeCardRead:
        if self.card_kind is CardKind.CARD_UID:
            raise ValueError("an office read is a certified ID-module read, never a card UID")
        if self.problem is not None and self.problem not in CARD_READ_PROBLEMS:
            raise ValueError(f"{self.problem.value!r} is not a card problem")
        return self

    def __repr__(self) -> str:  # never the ID number, name or address in a log or a traceback
        return (
            f"OfficeCardRead(device_id={self.device_id!r}, read_id={self.read_id!r}, problem={self.problem})"
        )

    __str__ = __repr__


class ReaderState(StrEnum):
    OK = "ok"
    FAULT = "fault"
    ABSENT = "absent"


class Heartbeat(WireModel):
    kind: Literal["heartbeat"] = "heartbeat"
    device_id: DeviceId
    sent_at: AwareDatetime
    boot_id: Annotated[str, Field(pattern=r"^[0-9A-Za-z-]{8,64}$")]
    uptime_s: Annotated[float, Field(ge=0)]
    cpu_temp_c: float | None = None
    free_disk_mb: Annotated[float, Field(ge=0)]
    journal_backlog: Count
    roster_version: Count
    reader_status: dict[Annotated[Label, Field(max_length=32)], ReaderState]
    clock_synced: bool
    software_version: Annotated[Label, Field(max_length=32)]
    journal_fault: bool = False
    """The lane's journal failed its latest write (a full or failing disk): it refuses everyone
    until a write succeeds again. The hub raises a ``lane_fault`` alert while it is set."""


class PresenceState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class PresenceStatus(WireModel):
    """Retained on the device's presence topic; the last will publishes ``offline``.

    ``generation`` grows with every connection a device makes (it is persisted on the device), so
    the hub can order an ``online`` and an ``offline`` that reach it out of order.
    """

    kind: Literal["presence"] = "presence"
    device_id: DeviceId
    state: PresenceState
    generation: Count
    at: AwareDatetime


class StorageAck(WireModel):
    """The hub's word that every event of ``device_id`` up to ``through_seq`` is stored.

    Contiguous, not "highest seen": a controller may forget events up to this number and no further.
    """

    kind: Literal["storage_ack"] = "storage_ack"
    device_id: DeviceId
    through_seq: Count
    at: AwareDatetime


class ResendRequest(WireModel):
    """The hub's word that it holds ``device_id``'s events only through ``through_seq``: it was
    restored from a backup (invariant 11), so events it once acknowledged may be gone.

    The lane sends again what it still keeps after ``through_seq`` (events are kept for a window
    after their ack: controller config ``[journal]``); the hub's (device, seq) uniqueness makes a
    resend harmless. ``epoch`` names the restore (growing from one restore to the next): a lane acts
    on each epoch once, so a request retained on the broker, or repeated at every hub start, is not
    a way to make a lane send the same events over and over. Retained on the ack topic, so a lane
    that was offline when the hub came back finds it when it connects.
    """

    kind: Literal["resend_request"] = "resend_request"
    device_id: DeviceId
    through_seq: Count
    epoch: Annotated[int, Field(ge=1, le=INT64_MAX)]
    at: AwareDatetime


class JournalGap(WireModel):
    """A lane's word to a restored hub that its events ``from_seq``..``through_seq`` are gone for
    good from its journal (acknowledged before the backup's watermark and no longer kept: older
    than the window, or dropped for disk), so the :class:`ResendRequest` of ``epoch`` cannot be
    answered in full. On the lane's ``journal_gap`` up channel, once per epoch and again at each
    connection until the hub acknowledges past it.

    The hub believes it only as far as it can check (:mod:`hub.backup.gap`): for the restore it
    started under (the same ``epoch``), only for seqs it does not hold, above its watermark and
    below the first it holds after; it records the loss (an alert) and acknowledges over it.
    """

    kind: Literal["journal_gap"] = "journal_gap"
    device_id: DeviceId
    from_seq: Sequence
    through_seq: Sequence
    epoch: Annotated[int, Field(ge=1, le=INT64_MAX)]
    reason: Literal["not_kept"] = "not_kept"
    """Why they are gone: not kept (past the window or the journal's bounds)."""

    @model_validator(mode="after")
    def _a_range(self) -> JournalGap:
        if self.through_seq < self.from_seq:
            raise ValueError("through_seq must not be below from_seq")
        return self


def _hub_word_kind(value: object) -> str:
    """An ack without a ``kind`` is a storage ack (what the channel carried before restores)."""
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    return kind if isinstance(kind, str) else "storage_ack"


HubWord = Annotated[
    Annotated[StorageAck, Tag("storage_ack")] | Annotated[ResendRequest, Tag("resend_request")],
    Discriminator(_hub_word_kind),
]
"""What travels on a device's ack channel: the hub's word about what it stores, either kind."""


Message = (
    AccessEvent
    | LaneEvent
    | Heartbeat
    | PresenceStatus
    | StorageAck
    | ResendRequest
    | JournalGap
    | OfficeCardRead
)


def utc_now() -> datetime:
    """Kept here so both sides stamp messages the same way (aware, UTC)."""
    return datetime.now(UTC)

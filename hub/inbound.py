"""Sorting one MQTT message into a message the hub can store or a reason to dead-letter it.

Pure (topic and bytes in, a value out) so every rejection rule is testable without a broker.
Reasons name what was wrong, never the values: a payload may carry personal data, and reasons
end up in logs and in the dead-letter listing.
"""

from __future__ import annotations

from dataclasses import dataclass

from wire.codec import AnyMessage, decode
from wire.message_errors import TopicError, WireError
from wire.models import AccessEvent, Heartbeat, LaneEvent, PresenceStatus
from wire.topics import Channel, parse_topic

# The widest integer both SQLite and PostgreSQL store (BIGINT); wire bounds seq, not these.
MAX_STORED_INT = 2**63 - 1

INGESTED_CHANNELS = frozenset({Channel.EVENT, Channel.HEARTBEAT, Channel.PRESENCE})
_JOURNAL_KINDS = ("access_event", "lane_event")
# Names a reason may repeat: the models' fields, and the kinds the event channel tells apart (pydantic
# puts the kind first in an error's location, e.g. ``lane_event.type``).
_KNOWN_FIELDS = frozenset(
    [
        *AccessEvent.model_fields,
        *LaneEvent.model_fields,
        *Heartbeat.model_fields,
        *PresenceStatus.model_fields,
        *_JOURNAL_KINDS,
    ]
)
# pydantic's message for an unknown discriminator quotes the sender's value: said here without it.
_UNKNOWN_KIND_PREFIX = "Input tag "
_UNKNOWN_KIND = f"kind must be one of {', '.join(_JOURNAL_KINDS)}"

Ingestible = AccessEvent | LaneEvent | Heartbeat | PresenceStatus


@dataclass(frozen=True, slots=True)
class Accepted:
    topic: str
    payload: bytes
    message: Ingestible


@dataclass(frozen=True, slots=True)
class Rejected:
    topic: str
    payload: bytes
    reason: str


def classify(topic: str, payload: object) -> Accepted | Rejected:
    raw = bytes(payload) if isinstance(payload, bytes | bytearray) else b""
    if not isinstance(payload, bytes | bytearray):
        return Rejected(topic, raw, f"payload is {type(payload).__name__}, not bytes")
    try:
        parsed = parse_topic(topic)
    except TopicError as err:
        return Rejected(topic, raw, f"bad topic: {err.why}")
    if parsed.channel not in INGESTED_CHANNELS:
        return Rejected(topic, raw, f"the hub does not ingest the {parsed.channel.value!r} channel")
    try:
        message: AnyMessage = decode(parsed.channel, raw)
    except WireError as err:
        return Rejected(topic, raw, describe(err))
    assert isinstance(message, Ingestible)
    if message.device_id != parsed.device_id:
        # Each device speaks only for itself: the topic is what the broker's ACL vouched for.
        return Rejected(topic, raw, "device_id in the payload differs from the device in the topic")
    too_big = _out_of_range(message)
    if too_big:
        return Rejected(topic, raw, f"{too_big} exceeds the largest storable integer")
    return Accepted(topic, raw, message)


def _out_of_range(message: Ingestible) -> str | None:
    if isinstance(message, AccessEvent | LaneEvent) and message.mono_ns > MAX_STORED_INT:
        return "mono_ns"
    if isinstance(message, PresenceStatus) and message.generation > MAX_STORED_INT:
        return "generation"
    return None


def describe(err: WireError) -> str:
    """The codec's account of what was wrong, naming only fields the models define
    (:meth:`wire.message_errors.WireError.redacted`) and never the kind a sender made up."""
    return f"invalid {err.kind} message: {err.redacted(_KNOWN_FIELDS, indices=True, said=_without_kind)}"


def _without_kind(message: str) -> str:
    return _UNKNOWN_KIND if message.startswith(_UNKNOWN_KIND_PREFIX) else message

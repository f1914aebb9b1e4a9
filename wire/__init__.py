"""Messages and topic names shared by controllers and the hub.

Pure: pydantic models, topic strings and one codec. Nothing here does I/O, and nothing here
imports another SiteGate package, so a controller and a hub of different releases agree on
exactly what this package says.
"""

from wire.codec import decode, encode
from wire.message_errors import TopicError, WireError
from wire.models import (
    AccessEvent,
    Decision,
    Direction,
    Heartbeat,
    PresenceState,
    PresenceStatus,
    Reason,
    StorageAck,
)
from wire.topics import Channel, Topic, parse_topic, topic_for

__all__ = [
    "AccessEvent",
    "Channel",
    "Decision",
    "Direction",
    "Heartbeat",
    "PresenceState",
    "PresenceStatus",
    "Reason",
    "StorageAck",
    "Topic",
    "TopicError",
    "WireError",
    "decode",
    "encode",
    "parse_topic",
    "topic_for",
]

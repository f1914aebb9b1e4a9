"""The one codec: compact JSON through the frozen models.

``decode`` needs the channel (the topic says what a payload must be) and turns every pydantic
failure into a :class:`WireError` that names the field, never the value. The event channel carries
either journal record kind, told apart by its ``kind`` field.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError

from wire.commands import Command, CommandResult
from wire.message_errors import WireError
from wire.models import (
    Heartbeat,
    HubWord,
    JournalGap,
    JournalRecord,
    Message,
    OfficeCardRead,
    PresenceStatus,
)
from wire.topics import Channel

MAX_PAYLOAD_BYTES = 16 * 1024

AnyMessage = Message | Command | CommandResult

_ADAPTERS: dict[Channel, tuple[str, TypeAdapter[Any]]] = {
    Channel.EVENT: ("JournalRecord", TypeAdapter(JournalRecord)),
    Channel.HEARTBEAT: ("Heartbeat", TypeAdapter(Heartbeat)),
    Channel.PRESENCE: ("PresenceStatus", TypeAdapter(PresenceStatus)),
    Channel.ACK: ("HubWord", TypeAdapter(HubWord)),
    Channel.COMMAND: ("Command", TypeAdapter(Command)),
    Channel.COMMAND_RESULT: ("CommandResult", TypeAdapter(CommandResult)),
    Channel.CARD_READ: ("OfficeCardRead", TypeAdapter(OfficeCardRead)),
    Channel.JOURNAL_GAP: ("JournalGap", TypeAdapter(JournalGap)),
}


def encode(message: AnyMessage) -> bytes:
    return message.model_dump_json(exclude_none=False).encode()


def decode(channel: Channel, payload: bytes | bytearray | str) -> AnyMessage:
    entry = _ADAPTERS.get(channel)
    if entry is None:
        raise WireError(channel.value, [("", f"channel {channel.value!r} has no message model here")])
    name, adapter = entry
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise WireError(name, [("", f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")])
    try:
        message: AnyMessage = adapter.validate_json(payload)
    except ValidationError as err:
        problems = [(".".join(str(p) for p in e["loc"]), e["msg"]) for e in err.errors(include_input=False)]
        raise WireError(name, problems) from err
    return message

"""The one codec: compact JSON through the frozen models.

``decode`` needs the channel (the topic says what a payload must be) and turns every pydantic
failure into a :class:`WireError` that names the field, never the value.
"""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

from wire.errors import WireError
from wire.models import AccessEvent, Heartbeat, Message, PresenceStatus, StorageAck
from wire.topics import Channel

MAX_PAYLOAD_BYTES = 16 * 1024

_MODEL_FOR: dict[Channel, type[BaseModel]] = {
    Channel.EVENT: AccessEvent,
    Channel.HEARTBEAT: Heartbeat,
    Channel.PRESENCE: PresenceStatus,
    Channel.ACK: StorageAck,
}


def encode(message: Message) -> bytes:
    return message.model_dump_json(exclude_none=False).encode()


def decode(channel: Channel, payload: bytes | bytearray | str) -> Message:
    model = _MODEL_FOR.get(channel)
    if model is None:
        raise WireError(channel.value, [("", f"channel {channel.value!r} has no message model here")])
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise WireError(
            model.__name__, [("", f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")]
        )
    try:
        message = model.model_validate_json(payload)
    except ValidationError as err:
        problems = [(".".join(str(p) for p in e["loc"]), e["msg"]) for e in err.errors(include_input=False)]
        raise WireError(model.__name__, problems) from err
    assert isinstance(message, AccessEvent | Heartbeat | PresenceStatus | StorageAck)
    return message

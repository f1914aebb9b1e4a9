"""Topic names under the versioned prefix ``sitegate/v1``.

``up`` topics are published by a device about itself; ``down`` topics are published by the hub to
one device. The device id is a whole topic level so the broker's ACL can bind it to the device's
certificate (``pattern write sitegate/v1/up/%u/#``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from wire.message_errors import TopicError
from wire.models import DEVICE_ID_PATTERN

PREFIX = "sitegate/v1"
_DEVICE_ID = re.compile(DEVICE_ID_PATTERN)


class Channel(StrEnum):
    # device → hub
    EVENT = "event"
    HEARTBEAT = "heartbeat"
    PRESENCE = "presence"
    ROSTER_STATUS = "roster_status"
    COMMAND_RESULT = "command_result"
    SITE_REQUEST = "site_request"
    """A lane asks for its site's news (on every connection): the hub answers on ``site``."""
    CARD_READ = "card_read"
    """An office reader's card read (:class:`wire.models.OfficeCardRead`), for the registration form."""
    JOURNAL_GAP = "journal_gap"
    """A lane's events a restored hub asked for that it no longer keeps (:class:`wire.models.JournalGap`)."""
    # hub → device
    ACK = "ack"
    ROSTER = "roster"
    COMMAND = "command"
    SITE = "site"
    """Signed news from the lane's site: the other lanes' passages, and how recently the hub
    heard from each of them (:mod:`wire.site`)."""


UP_CHANNELS = frozenset(
    {
        Channel.EVENT,
        Channel.HEARTBEAT,
        Channel.PRESENCE,
        Channel.ROSTER_STATUS,
        Channel.COMMAND_RESULT,
        Channel.SITE_REQUEST,
        Channel.CARD_READ,
        Channel.JOURNAL_GAP,
    }
)
DOWN_CHANNELS = frozenset({Channel.ACK, Channel.ROSTER, Channel.COMMAND, Channel.SITE})


@dataclass(frozen=True, slots=True)
class Topic:
    device_id: str
    channel: Channel

    @property
    def upward(self) -> bool:
        return self.channel in UP_CHANNELS

    def __str__(self) -> str:
        return topic_for(self.device_id, self.channel)


def topic_for(device_id: str, channel: Channel) -> str:
    if not _DEVICE_ID.match(device_id):
        raise TopicError(device_id, "device id must be 2-63 of [a-z0-9-], starting alphanumeric")
    way = "up" if channel in UP_CHANNELS else "down"
    return f"{PREFIX}/{way}/{device_id}/{channel.value}"


def subscription(way: str, channel: Channel, device_id: str = "+") -> str:
    """A subscription filter for one channel of one device, or of every device (``+``)."""
    if way not in ("up", "down"):
        raise ValueError(f"way must be 'up' or 'down', not {way!r}")
    return f"{PREFIX}/{way}/{device_id}/{channel.value}"


def shared(group: str, topic_filter: str) -> str:
    """An MQTT v5 shared subscription, so several hub instances split one stream."""
    return f"$share/{group}/{topic_filter}"


def parse_topic(topic: str) -> Topic:
    parts = topic.split("/")
    if len(parts) != 5 or "/".join(parts[:2]) != PREFIX:
        raise TopicError(topic, f"expected {PREFIX}/<up|down>/<device>/<channel>")
    _, _, way, device_id, channel_name = parts
    try:
        channel = Channel(channel_name)
    except ValueError:
        raise TopicError(topic, f"unknown channel {channel_name!r}") from None
    if not _DEVICE_ID.match(device_id):
        raise TopicError(topic, "device id level is not a valid device id")
    expected_way = "up" if channel in UP_CHANNELS else "down"
    if way != expected_way:
        raise TopicError(topic, f"channel {channel.value!r} travels {expected_way}, not {way}")
    return Topic(device_id, channel)

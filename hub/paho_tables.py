"""Build paho's MQTT v5 property tables once per process instead of once per received packet.

paho-mqtt 2.2's ``Properties.__init__`` rebuilds three lookup tables (the value types, the 27
property names and their identifier/packet-type table, with a ``list.index`` call per entry)
for every ``Properties`` it makes, and its decoder makes one for every PUBLISH it receives, with
or without properties. Measured in the hub under ``bench/ingest.py``: 29 % of the ingest
process's CPU, about 70 µs per event, more than validating and storing the event together.

:func:`install` points the decoder (``paho.mqtt._packet``, which makes the ``Properties`` of every
incoming packet) at a subclass whose instances share one copy of the tables, taken from a stock
instance so they are paho's own whatever its version, and clear themselves without probing
every property name. Sharing is safe because paho only reads
them; ``tests/hub/test_paho_tables.py`` holds that, and that decoding is unchanged. Only
incoming packets are affected: what the hub sends is built by paho's own class.
"""

from __future__ import annotations

import logging
from typing import Any

import paho.mqtt._packet as paho_packet
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

log = logging.getLogger(__name__)

_STOCK = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]  # paho is untyped here
_TYPES: list[str] = _STOCK.types
_NAMES: dict[str, int] = _STOCK.names
_TABLE: dict[int, tuple[int, list[int]]] = _STOCK.properties


class SharedTableProperties(Properties):
    """A ``Properties`` whose lookup tables are the module's shared, read-only copies."""

    def __init__(self, packetType: int) -> None:  # paho names it so
        self.packetType = packetType
        self.types = _TYPES
        self.names = _NAMES
        self.properties = _TABLE

    def clear(self) -> None:
        """Remove every property set. paho's own probes all 27 names with ``hasattr`` (and
        ``unpack`` clears first, so once per received packet); the properties set are exactly
        this instance's attributes besides its four tables."""
        for name in [name for name in vars(self) if name not in _OWN]:
            delattr(self, name)


_OWN = frozenset({"packetType", "types", "names", "properties"})


def install() -> bool:
    """Make paho's decoder use :class:`SharedTableProperties`; idempotent.

    Returns False, changing nothing, when paho's decoder no longer names ``Properties`` the way
    2.x does (a paho upgrade): receiving then stays correct, only slower.
    """
    current: Any = getattr(paho_packet, "Properties", None)
    if current is SharedTableProperties:
        return True
    if current is not Properties:
        log.warning("paho's packet decoder changed; MQTT v5 property tables are built per packet")
        return False
    setattr(paho_packet, "Properties", SharedTableProperties)  # noqa: B010  # not re-exported, so not typed
    return True

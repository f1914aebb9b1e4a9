"""hub.paho_tables: paho decodes exactly as before, from tables built once and never changed."""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt._packet as paho_packet
import pytest
from hypothesis import given
from hypothesis import strategies as st
from paho.mqtt.enums import MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hub import paho_tables
from hub.app import create_app
from hub.config import HubConfig
from hub.paho_tables import SharedTableProperties, install
from sitegate.netutil import free_port

TOPIC = b"sitegate/v1/up/lane-0001/event"
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20)
publish_properties = st.fixed_dictionaries(
    {},
    optional={
        "PayloadFormatIndicator": st.sampled_from([0, 1]),
        "MessageExpiryInterval": st.integers(0, 2**32 - 1),
        "ContentType": text,
        "ResponseTopic": text.filter(bool),
        "CorrelationData": st.binary(max_size=20),
        "SubscriptionIdentifier": st.lists(st.integers(1, 268_435_455), min_size=1, max_size=3),
        "TopicAlias": st.integers(1, 65_535),
        "UserProperty": st.lists(st.tuples(text, text), min_size=1, max_size=4),
    },
)


def decoder_class() -> Any:
    """The class paho's decoder makes properties with (not re-exported, so not typed)."""
    return getattr(paho_packet, "Properties")  # noqa: B009


def use_decoder_class(cls: type) -> None:
    setattr(paho_packet, "Properties", cls)  # noqa: B010


@pytest.fixture
def stock_decoder() -> Iterator[None]:
    """paho's decoder as shipped, whatever an earlier test installed; the install restored after."""
    installed = decoder_class()
    use_decoder_class(Properties)
    yield
    use_decoder_class(installed)


def new_properties(packet_type: int) -> Any:
    """paho's own class, as shipped (its methods are untyped)."""
    return Properties(packet_type)  # type: ignore[no-untyped-call]


def stock_properties(values: dict[str, Any]) -> Any:
    properties = new_properties(PacketTypes.PUBLISH)
    for name, value in values.items():
        setattr(properties, name, value)
    return properties


def publish_packet(properties: Any, payload: bytes, qos: int = 1) -> tuple[int, bytes]:
    """(first header byte, everything after the fixed header) of a PUBLISH."""
    body = struct.pack("!H", len(TOPIC)) + TOPIC + (struct.pack("!H", 7) if qos else b"")
    return 0x30 | qos << 1, body + properties.pack() + payload


def decoded(header: int, packet: bytes) -> tuple[Any, ...]:
    result = paho_packet.decode_publish(header, packet, MQTTProtocolVersion.MQTTv5)
    properties: Any = result.properties
    return result.topic, result.mid, result.qos, result.payload, properties.json()


def fresh_tables() -> tuple[Any, Any, Any]:
    stock = new_properties(PacketTypes.PUBLISH)
    return stock.types, stock.names, stock.properties


@given(values=publish_properties, payload=st.binary(max_size=64), qos=st.sampled_from([0, 1]))
def test_a_publish_decodes_the_same_with_shared_tables(
    values: dict[str, Any], payload: bytes, qos: int
) -> None:
    header, packet = publish_packet(stock_properties(values), payload, qos)
    original = decoder_class()
    try:
        use_decoder_class(Properties)
        expected = decoded(header, packet)
        use_decoder_class(SharedTableProperties)
        assert decoded(header, packet) == expected
    finally:
        use_decoder_class(original)
    assert fresh_tables() == (paho_tables._TYPES, paho_tables._NAMES, paho_tables._TABLE)


def test_decoding_many_packets_leaves_the_shared_tables_as_paho_builds_them() -> None:
    packets = [
        publish_packet(stock_properties({"UserProperty": [("k", str(n))], "ContentType": "json"}), b"{}")
        for n in range(50)
    ]
    for header, packet in packets:
        result = paho_packet.decode_publish(header, packet, MQTTProtocolVersion.MQTTv5)
        properties: Any = result.properties
        assert properties.UserProperty[-1][0] == "k"
    shared = SharedTableProperties(PacketTypes.PUBLISH)
    assert (shared.types, shared.names, shared.properties) == fresh_tables()
    assert shared.names is SharedTableProperties(PacketTypes.CONNACK).names  # built once, shared


def test_install_points_the_decoder_at_shared_tables_once(stock_decoder: None) -> None:
    assert install() is True
    assert decoder_class() is SharedTableProperties
    assert install() is True  # idempotent
    header, packet = publish_packet(stock_properties({}), b'{"seq": 1}')
    assert isinstance(
        paho_packet.decode_publish(header, packet, MQTTProtocolVersion.MQTTv5).properties, Properties
    )


def test_install_leaves_a_decoder_it_does_not_know_alone(
    stock_decoder: None, caplog: pytest.LogCaptureFixture
) -> None:
    class Elsewhere(Properties):  # what a paho upgrade might name instead
        pass

    use_decoder_class(Elsewhere)
    with caplog.at_level(logging.WARNING, logger="hub.paho_tables"):
        assert install() is False
    assert decoder_class() is Elsewhere
    assert "decoder changed" in caplog.text


@given(values=publish_properties)
def test_clear_removes_every_property_and_keeps_the_tables(values: dict[str, Any]) -> None:
    shared: Any = SharedTableProperties(PacketTypes.PUBLISH)
    for name, value in values.items():
        setattr(shared, name, value)
    assert shared.json() == stock_properties(values).json()
    shared.clear()
    assert shared.json() == {}
    assert shared.isEmpty()
    assert (shared.types, shared.names, shared.properties) == fresh_tables()
    shared.ContentType = "application/json"  # still settable as paho checks it
    assert shared.json() == {"ContentType": "application/json"}


def test_the_app_factory_installs_the_receive_path_production_runs_on(
    stock_decoder: None, tmp_path: Path
) -> None:
    """A test that builds the app receives through the same decoder as ``sitegate hub``: the patch
    is the app's, not the command line's."""
    config = HubConfig(database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}", mqtt_port=free_port())
    create_app(config)
    assert decoder_class() is SharedTableProperties

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wire import TopicError
from wire.topics import Channel, parse_topic, shared, subscription, topic_for


def test_topic_layout() -> None:
    assert topic_for("lane-a1", Channel.EVENT) == "sitegate/v1/up/lane-a1/event"
    assert topic_for("lane-a1", Channel.ACK) == "sitegate/v1/down/lane-a1/ack"
    assert subscription("up", Channel.EVENT) == "sitegate/v1/up/+/event"
    assert shared("hub", subscription("up", Channel.EVENT)) == "$share/hub/sitegate/v1/up/+/event"


@given(st.from_regex(r"\A[a-z0-9][a-z0-9-]{1,62}\Z"), st.sampled_from(Channel))
def test_build_then_parse(device_id: str, channel: Channel) -> None:
    topic = parse_topic(topic_for(device_id, channel))
    assert (topic.device_id, topic.channel) == (device_id, channel)


@pytest.mark.parametrize(
    ("topic", "why"),
    [
        ("sitegate/v2/up/lane-1/event", "expected sitegate/v1"),
        ("sitegate/v1/up/lane-1/event/extra", "expected sitegate/v1"),
        ("sitegate/v1/up/lane-1/selfie", "unknown channel 'selfie'"),
        ("sitegate/v1/down/lane-1/event", "travels up, not down"),
        ("sitegate/v1/up/+/event", "not a valid device id"),
    ],
)
def test_bad_topics(topic: str, why: str) -> None:
    with pytest.raises(TopicError, match=why):
        parse_topic(topic)


def test_bad_device_id_cannot_build_a_topic() -> None:
    with pytest.raises(TopicError):
        topic_for("Lane/1", Channel.EVENT)

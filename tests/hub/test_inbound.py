"""Which messages the ingest stores and which it dead-letters, decided without a broker."""

from __future__ import annotations

import json

import pytest

from hub.inbound import Accepted, Rejected, classify
from tests.hub.factories import BASE_TIME, make_event, make_lane_event
from wire.codec import encode
from wire.models import LaneEventType, PresenceState, PresenceStatus

EVENT_TOPIC = "sitegate/v1/up/lane-t01/event"


def test_a_valid_event_is_accepted() -> None:
    outcome = classify(EVENT_TOPIC, encode(make_event(1)))
    assert isinstance(outcome, Accepted)
    assert outcome.message == make_event(1)


def test_a_lane_event_is_accepted_on_the_event_channel() -> None:
    event = make_lane_event(3, LaneEventType.FORCED_PASSAGE)
    outcome = classify(EVENT_TOPIC, encode(event))
    assert isinstance(outcome, Accepted)
    assert outcome.message == event


def test_presence_is_accepted() -> None:
    status = PresenceStatus(device_id="lane-t01", state=PresenceState.ONLINE, generation=1, at=BASE_TIME)
    outcome = classify("sitegate/v1/up/lane-t01/presence", encode(status))
    assert isinstance(outcome, Accepted)


def _without(field: str) -> bytes:
    body = json.loads(encode(make_event(1)))
    del body[field]
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("topic", "payload", "says"),
    [
        (EVENT_TOPIC, b"{not json", "Invalid JSON"),
        (EVENT_TOPIC, _without("seq"), "seq"),
        ("sitegate/v1/up/lane-other/event", encode(make_event(1)), "differs from the device in the topic"),
        ("sitegate/v1/up/Lane_Bad/event", encode(make_event(1)), "bad topic"),
        ("sitegate/v1/down/lane-t01/ack", b"{}", "does not ingest the 'ack' channel"),
        (EVENT_TOPIC, encode(make_event(1).model_copy(update={"mono_ns": 2**63})), "mono_ns"),
        (EVENT_TOPIC, "a str, not bytes", "not bytes"),
    ],
    ids=["bad-json", "missing-field", "wrong-device", "bad-device-level", "downward", "too-big", "not-bytes"],
)
def test_bad_messages_are_rejected_with_a_reason(topic: str, payload: object, says: str) -> None:
    outcome = classify(topic, payload)
    assert isinstance(outcome, Rejected)
    assert says in outcome.reason


def test_a_reason_never_quotes_the_payload() -> None:
    secret = "person-with-a-secret-name"
    body = json.loads(encode(make_event(1)))
    body["lane"] = secret * 3  # too long: the error must name the field, not echo its value
    outcome = classify(EVENT_TOPIC, json.dumps(body).encode())
    assert isinstance(outcome, Rejected)
    assert "lane" in outcome.reason
    assert secret not in outcome.reason


def test_an_unexpected_key_is_not_repeated() -> None:
    body = json.loads(encode(make_event(1)))
    body["sender-chosen-key"] = 1
    outcome = classify(EVENT_TOPIC, json.dumps(body).encode())
    assert isinstance(outcome, Rejected)
    assert "<unexpected key>" in outcome.reason
    assert "sender-chosen-key" not in outcome.reason


def _lane_body(**changes: object) -> bytes:
    body = json.loads(encode(make_lane_event(2, LaneEventType.NOT_PASSED)))
    body.update(changes)
    return json.dumps({k: v for k, v in body.items() if v is not None}).encode()


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        (_lane_body(type="exploded"), "lane_event.type: Input should be"),
        (_lane_body(ref_seq=None), "not_passed needs a ref_seq"),
        (_lane_body(device_id="lane-other"), "differs from the device in the topic"),
        (_lane_body(kind=None), "Unable to extract tag"),
    ],
    ids=["unknown-type", "missing-ref", "wrong-device", "no-kind"],
)
def test_bad_lane_events_are_rejected_with_a_reason(payload: bytes, says: str) -> None:
    outcome = classify(EVENT_TOPIC, payload)
    assert isinstance(outcome, Rejected)
    assert says in outcome.reason
    assert "<unexpected key>" not in outcome.reason


def test_an_unknown_kind_is_not_repeated() -> None:
    outcome = classify(EVENT_TOPIC, _lane_body(kind="sender-chosen-kind"))
    assert isinstance(outcome, Rejected)
    assert "sender-chosen-kind" not in outcome.reason
    assert "kind must be one of access_event, lane_event" in outcome.reason

"""The site channel's messages and the passage fields on events: shapes, rules and signatures."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from wire.codec import decode, encode
from wire.message_errors import WireError
from wire.models import (
    AccessEvent,
    CardKind,
    Caveat,
    Decision,
    Direction,
    LaneEvent,
    LaneEventType,
    Reason,
)
from wire.signing import canonical_bytes, key_id_for
from wire.site import (
    MAX_RELAY_PASSAGES,
    MAX_SITE_PAYLOAD_BYTES,
    PassageRelay,
    SiblingSeen,
    SitePassage,
    SiteRequest,
    SiteSync,
    decode_site,
    decode_site_request,
    encode_site,
)
from wire.topics import DOWN_CHANNELS, UP_CHANNELS, Channel, parse_topic, topic_for

AT = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC = KEY.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def passage(n: int = 1, at: datetime = AT) -> SitePassage:
    return SitePassage(person_id=f"p-{n:04d}", direction=Direction.IN, at=at, device_id="lane-a2", seq=n)


def signed(message: PassageRelay | SiteSync) -> PassageRelay | SiteSync:
    draft = message.model_copy(update={"key_id": key_id_for(PUBLIC)})
    signature = KEY.sign(canonical_bytes(draft))
    return draft.model_copy(update={"signature": base64.b64encode(signature).decode()})


def verifies(message: PassageRelay | SiteSync) -> bool:
    assert message.signature_bytes is not None
    try:
        KEY.public_key().verify(message.signature_bytes, canonical_bytes(message))
    except Exception:
        return False
    return True


def test_the_site_channels_travel_their_way() -> None:
    assert Channel.SITE in DOWN_CHANNELS and Channel.SITE_REQUEST in UP_CHANNELS
    assert topic_for("lane-a1", Channel.SITE) == "sitegate/v1/down/lane-a1/site"
    assert topic_for("lane-a1", Channel.SITE_REQUEST) == "sitegate/v1/up/lane-a1/site_request"
    assert parse_topic("sitegate/v1/down/lane-a1/site").channel is Channel.SITE


zones = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-3, minutes=-30))])
instants = st.builds(
    lambda seconds, micros, zone: (AT + timedelta(seconds=seconds, microseconds=micros)).astimezone(zone),
    st.integers(-(10**7), 10**7),
    st.integers(0, 999_999),
    zones,
)


@given(at=instants, issued=instants, seen=st.one_of(st.none(), instants))
def test_a_signature_survives_the_wire_whatever_the_times(
    at: datetime, issued: datetime, seen: datetime | None
) -> None:
    """Signed on the hub's model, checked on the lane's parse of the JSON: the canonical bytes must
    be the same however a time is written (zone, microseconds)."""
    relay = signed(
        PassageRelay(device_id="lane-a1", project_id="P1", issued_at=issued, passages=(passage(1, at),))
    )
    sync = signed(
        SiteSync(
            device_id="lane-a1",
            project_id="P1",
            issued_at=issued,
            siblings=(SiblingSeen(device_id="lane-a2", last_seen=seen),),
            answers="ab" * 16,
        )
    )
    for message in (relay, sync):
        received = decode_site(encode_site(message))
        assert received == message
        assert verifies(received)


def test_a_changed_field_or_a_relay_passed_off_as_a_sync_does_not_verify() -> None:
    relay = signed(PassageRelay(device_id="lane-a1", project_id="P1", issued_at=AT, passages=(passage(),)))
    moved = relay.model_copy(update={"device_id": "lane-a3"})
    assert verifies(relay) and not verifies(moved)
    later = relay.model_copy(update={"passages": (passage(1, AT + timedelta(hours=1)),)})
    assert not verifies(later)
    sync = SiteSync(
        device_id="lane-a1", project_id="P1", issued_at=AT, key_id=relay.key_id, signature=relay.signature
    )
    assert not verifies(sync)  # the kind is part of what is signed


def test_the_models_refuse_what_makes_no_sense() -> None:
    with pytest.raises(ValidationError, match="go together"):
        PassageRelay(
            device_id="lane-a1", project_id="P1", issued_at=AT, passages=(passage(),), key_id="0" * 16
        )
    with pytest.raises(ValidationError, match="at least 1"):
        PassageRelay(device_id="lane-a1", project_id="P1", issued_at=AT, passages=())
    with pytest.raises(ValidationError, match=f"at most {MAX_RELAY_PASSAGES}"):
        PassageRelay(
            device_id="lane-a1",
            project_id="P1",
            issued_at=AT,
            passages=tuple(passage(n) for n in range(1, MAX_RELAY_PASSAGES + 2)),
        )
    twice = (SiblingSeen(device_id="lane-a2"), SiblingSeen(device_id="lane-a2"))
    with pytest.raises(ValidationError, match="listed twice"):
        SiteSync(device_id="lane-a1", project_id="P1", issued_at=AT, siblings=twice)
    with pytest.raises(ValidationError, match="not its own sibling"):
        SiteSync(
            device_id="lane-a1", project_id="P1", issued_at=AT, siblings=(SiblingSeen(device_id="lane-a1"),)
        )
    with pytest.raises(ValidationError, match="timezone"):
        SitePassage(
            person_id="p-1", direction=Direction.IN, at=datetime(2026, 1, 1), device_id="lane-a2", seq=1
        )
    with pytest.raises(ValidationError):
        SiteRequest(device_id="lane-a1", project_id="P1", nonce="not hex")


def test_decoding_names_the_field_and_refuses_oversize() -> None:
    with pytest.raises(WireError, match="passages"):
        decode_site(
            b'{"kind":"passage_relay","device_id":"lane-a1","project_id":"P1","issued_at":"2026-11-24T02:00:00Z"}'
        )
    with pytest.raises(WireError, match="exceeds"):
        decode_site(b" " * (MAX_SITE_PAYLOAD_BYTES + 1))
    with pytest.raises(WireError, match="nonce"):
        decode_site_request(b'{"kind":"site_request","device_id":"lane-a1","project_id":"P1"}')
    request = SiteRequest(device_id="lane-a1", project_id="P1", nonce="0f" * 16)
    assert decode_site_request(encode_site(request)) == request


def test_a_full_relay_fits_a_site_message() -> None:
    longest = SitePassage(
        person_id="p" * 64, direction=Direction.OUT, at=AT, device_id="l" * 63, seq=2**63 - 1
    )
    relay = signed(
        PassageRelay(
            device_id="l" * 63, project_id="P" * 64, issued_at=AT, passages=(longest,) * MAX_RELAY_PASSAGES
        )
    )
    assert len(encode_site(relay)) <= MAX_SITE_PAYLOAD_BYTES


def event(**fields: object) -> AccessEvent:
    values: dict[str, object] = {
        "device_id": "lane-a1",
        "seq": 2,
        "boot_id": "boot-0001",
        "mono_ns": 1,
        "wall_time": AT,
        "clock_synced": True,
        "project_id": "P1",
        "lane": "A1",
        "direction": Direction.IN,
        "decision": Decision.GRANTED,
        "reason": Reason.GRANTED,
        "card_kind": CardKind.RESIDENT,
        "credential_hash": "0" * 64,
        "person_id": "p-0001",
    }
    return AccessEvent.model_validate(values | fields)


def lane_event(kind: LaneEventType, **fields: object) -> LaneEvent:
    values: dict[str, object] = {
        "device_id": "lane-a1",
        "seq": 3,
        "boot_id": "boot-0001",
        "mono_ns": 1,
        "wall_time": AT,
        "clock_synced": True,
        "project_id": "P1",
        "lane": "A1",
        "direction": Direction.IN,
        "type": kind,
    }
    return LaneEvent.model_validate(values | fields)


def test_a_passage_is_a_grant_and_a_warning_may_carry_its_caveat() -> None:
    admitted = event(passage=True, warnings=(Reason.ANTI_PASSBACK, Caveat.PASSBACK_UNVERIFIED))
    received = decode(Channel.EVENT, encode(admitted))
    assert received == admitted
    assert isinstance(received, AccessEvent)
    assert received.warnings == (Reason.ANTI_PASSBACK, Caveat.PASSBACK_UNVERIFIED)
    with pytest.raises(ValidationError, match="only a granted event can be a passage"):
        event(decision=Decision.DENIED, reason=Reason.ANTI_PASSBACK, person_id=None, passage=True)
    assert event().passage is False  # what every lane of the previous release sent


def test_lane_events_name_a_person_only_where_one_belongs() -> None:
    confirmed = lane_event(LaneEventType.PASSAGE_CONFIRMED, ref_seq=2, person_id="p-0001")
    assert decode(Channel.EVENT, encode(confirmed)) == confirmed
    expired = lane_event(LaneEventType.PASSBACK_EXPIRED, person_id="p-0001")
    assert decode(Channel.EVENT, encode(expired)) == expired
    with pytest.raises(ValidationError, match="cannot name a person"):
        lane_event(LaneEventType.TAMPER, person_id="p-0001")
    with pytest.raises(ValidationError, match="cannot carry a ref_seq"):
        lane_event(LaneEventType.PASSBACK_EXPIRED, person_id="p-0001", ref_seq=2)

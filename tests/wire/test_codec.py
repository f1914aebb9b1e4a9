"""Every wire model round-trips through the one codec; bad payloads name the field, not the value."""

import contextlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wire import WireError, decode, encode
from wire.models import (
    ALERT_LANE_EVENTS,
    AccessEvent,
    CardKind,
    Decision,
    Direction,
    Heartbeat,
    JournalGap,
    LaneEvent,
    LaneEventType,
    PresenceState,
    PresenceStatus,
    ReaderState,
    Reason,
    ResendRequest,
    StorageAck,
)
from wire.topics import Channel

device_ids = st.from_regex(r"\A[a-z0-9][a-z0-9-]{1,20}\Z")
aware = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
) | st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda d: d.replace(tzinfo=timezone(timedelta(hours=8)))
)
labels = st.text(
    st.characters(min_codepoint=32, exclude_characters="\x7f", exclude_categories=("Cs",)),
    min_size=1,
    max_size=32,
)
hashes = st.text("0123456789abcdef", min_size=64, max_size=64)
boot_ids = st.text("0123456789abcdef-", min_size=8, max_size=40)


@st.composite
def access_events(draw: st.DrawFn) -> AccessEvent:
    granted = draw(st.booleans())
    reason = (
        Reason.GRANTED if granted else draw(st.sampled_from([r for r in Reason if r is not Reason.GRANTED]))
    )
    return AccessEvent(
        device_id=draw(device_ids),
        seq=draw(st.integers(1, 2**63 - 1)),
        boot_id=draw(boot_ids),
        mono_ns=draw(st.integers(0, 2**63 - 1)),
        wall_time=draw(aware),
        clock_synced=draw(st.booleans()),
        project_id=draw(st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_-]{0,20}\Z")),
        lane=draw(labels),
        direction=draw(st.sampled_from(Direction)),
        decision=Decision.GRANTED if granted else Decision.DENIED,
        reason=reason,
        card_kind=draw(st.sampled_from(CardKind)),
        credential_hash=draw(hashes),
        person_id=draw(labels) if granted else draw(st.none() | labels),
        alert=draw(st.booleans()),
    )


@st.composite
def lane_events(draw: st.DrawFn) -> LaneEvent:
    kind = draw(st.sampled_from(LaneEventType))
    seq = draw(st.integers(2, 2**62))
    referring = kind in (LaneEventType.PASSAGE_CONFIRMED, LaneEventType.NOT_PASSED)
    return LaneEvent(
        device_id=draw(device_ids),
        seq=seq,
        boot_id=draw(boot_ids),
        mono_ns=draw(st.integers(0, 2**63 - 1)),
        wall_time=draw(aware),
        clock_synced=draw(st.booleans()),
        project_id="P1",
        lane=draw(labels),
        direction=draw(st.sampled_from(Direction)),
        type=kind,
        ref_seq=draw(st.integers(1, seq - 1)) if referring else None,
        alert=kind in ALERT_LANE_EVENTS,
        operator=draw(labels) if kind is LaneEventType.REMOTE_OPEN else None,
        clock_stepped=draw(st.booleans()),
        step_s=draw(st.floats(-1e9, 1e9)) if kind is LaneEventType.CLOCK_STEP else None,
    )


heartbeats = st.builds(
    Heartbeat,
    device_id=device_ids,
    sent_at=aware,
    boot_id=boot_ids,
    uptime_s=st.floats(0, 1e9),
    cpu_temp_c=st.none() | st.floats(-40, 125),
    free_disk_mb=st.floats(0, 1e7),
    journal_backlog=st.integers(0, 10**7),
    roster_version=st.integers(0, 10**9),
    reader_status=st.dictionaries(labels, st.sampled_from(ReaderState), max_size=3),
    clock_synced=st.booleans(),
    software_version=labels,
)
presences = st.builds(
    PresenceStatus,
    device_id=device_ids,
    state=st.sampled_from(PresenceState),
    generation=st.integers(0, 2**40),
    at=aware,
)
acks = st.builds(StorageAck, device_id=device_ids, through_seq=st.integers(0, 2**62), at=aware)

CASES = [
    (Channel.EVENT, access_events()),
    (Channel.EVENT, lane_events()),
    (Channel.HEARTBEAT, heartbeats),
    (Channel.PRESENCE, presences),
    (Channel.ACK, acks),
]


@pytest.mark.parametrize(
    ("channel", "strategy"), CASES, ids=["access_event", "lane_event", "heartbeat", "presence", "ack"]
)
def test_every_model_round_trips(channel: Channel, strategy: st.SearchStrategy) -> None:
    @given(strategy)
    def check(message) -> None:
        assert decode(channel, encode(message)) == message

    check()


def test_models_are_frozen_and_forbid_extras() -> None:
    ack = StorageAck(device_id="lane-1", through_seq=3, at=datetime.now(UTC))
    with pytest.raises(Exception, match="frozen"):
        ack.through_seq = 4  # type: ignore[misc]
    payload = encode(ack).replace(b"}", b',"surprise":1}')
    with pytest.raises(WireError, match="surprise: Extra inputs are not permitted"):
        decode(Channel.ACK, payload)


def test_the_ack_channel_carries_a_restored_hubs_resend_request_too() -> None:
    at = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    request = ResendRequest(device_id="lane-1", through_seq=41, epoch=1796612817430574, at=at)
    assert decode(Channel.ACK, encode(request)) == request
    old = b'{"device_id":"lane-1","through_seq":3,"at":"2026-12-07T03:00:00Z"}'  # no kind: a storage ack
    assert decode(Channel.ACK, old) == StorageAck(device_id="lane-1", through_seq=3, at=at)
    with pytest.raises(WireError, match="epoch: Input should be greater than or equal to 1"):
        decode(Channel.ACK, encode(request).replace(b"1796612817430574", b"0"))
    with pytest.raises(WireError, match="does not match any of the expected tags"):
        decode(Channel.ACK, encode(request).replace(b"resend_request", b"forget_everything"))


def test_a_lanes_journal_gap_round_trips_and_names_a_range() -> None:
    gap = JournalGap(device_id="lane-1", from_seq=42, through_seq=300, epoch=1796612817430574)
    assert decode(Channel.JOURNAL_GAP, encode(gap)) == gap and gap.reason == "not_kept"
    with pytest.raises(WireError, match="through_seq must not be below from_seq"):
        decode(Channel.JOURNAL_GAP, encode(gap).replace(b'"through_seq":300', b'"through_seq":41'))
    with pytest.raises(WireError, match="from_seq: Input should be greater than or equal to 1"):
        decode(Channel.JOURNAL_GAP, encode(gap).replace(b'"from_seq":42', b'"from_seq":0'))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not json", "<payload>: Invalid JSON"),
        (b"{}", "device_id: Field required"),
        (
            b'{"device_id":"lane-1","through_seq":-1,"at":"2026-11-24T08:00:00Z"}',
            "through_seq: Input should be greater",
        ),
        (
            b'{"device_id":"lane-1","through_seq":1,"at":"2026-11-24T08:00:00"}',
            "at: Input should have timezone info",
        ),
        (
            b'{"device_id":"LANE 1","through_seq":1,"at":"2026-11-24T08:00:00Z"}',
            "device_id: String should match",
        ),
        (b"x" * 20000, "exceeds"),
    ],
)
def test_bad_payloads_name_what_is_wrong(payload: bytes, message: str) -> None:
    with pytest.raises(WireError, match=message):
        decode(Channel.ACK, payload)


def test_reason_must_agree_with_decision() -> None:
    base = dict(
        device_id="lane-1",
        seq=1,
        boot_id="bootbootboot",
        mono_ns=0,
        wall_time=datetime.now(UTC),
        clock_synced=False,
        project_id="P1",
        lane="A",
        direction="in",
        card_kind="resident",
        credential_hash="0" * 64,
    )
    with pytest.raises(ValueError, match="cannot carry reason 'not_registered'"):
        AccessEvent(**base, decision="granted", reason="not_registered", person_id="p")
    with pytest.raises(ValueError, match="must name the person"):
        AccessEvent(**base, decision="granted", reason="granted")


@given(st.binary(max_size=300) | st.text(max_size=300))
def test_random_payloads_only_raise_wire_errors(payload) -> None:
    for channel in (Channel.EVENT, Channel.HEARTBEAT, Channel.PRESENCE, Channel.ACK):
        with contextlib.suppress(WireError):
            decode(channel, payload)


def test_lane_event_refs_are_checked() -> None:
    base = dict(
        device_id="lane-1",
        boot_id="bootbootboot",
        mono_ns=0,
        wall_time=datetime.now(UTC),
        clock_synced=True,
        project_id="P1",
        lane="A",
        direction="in",
    )
    with pytest.raises(ValueError, match="passage_confirmed needs a ref_seq"):
        LaneEvent(**base, seq=5, type="passage_confirmed")
    with pytest.raises(ValueError, match="tamper cannot carry a ref_seq"):
        LaneEvent(**base, seq=5, type="tamper", ref_seq=4)
    with pytest.raises(ValueError, match="earlier record"):
        LaneEvent(**base, seq=5, type="not_passed", ref_seq=5)


def test_event_channel_tells_the_kinds_apart() -> None:
    with pytest.raises(WireError, match="kind"):
        decode(Channel.EVENT, b'{"kind": "selfie", "device_id": "lane-1"}')


def test_command_rules() -> None:
    from wire.commands import Command

    now = datetime.now(UTC)
    base = dict(command_id="ab" * 16, device_id="lane-1", operator="op-1", issued_at=now)
    with pytest.raises(ValueError, match="expires_at must be after issued_at"):
        Command(**base, action="remote_open", expires_at=now)
    with pytest.raises(ValueError, match="log_level goes with set_log_level"):
        Command(**base, action="remote_open", expires_at=now + timedelta(seconds=5), log_level="DEBUG")
    ok = Command(**base, action="set_log_level", expires_at=now + timedelta(seconds=5), log_level="INFO")
    assert decode(Channel.COMMAND, encode(ok)) == ok


def test_operator_only_on_remote_open() -> None:
    base = dict(
        device_id="lane-1",
        seq=3,
        boot_id="bootbootboot",
        mono_ns=0,
        wall_time=datetime.now(UTC),
        clock_synced=True,
        project_id="P1",
        lane="A",
        direction="in",
    )
    with pytest.raises(ValueError, match="operator goes with remote_open"):
        LaneEvent(**base, type="remote_open")
    with pytest.raises(ValueError, match="operator goes with remote_open"):
        LaneEvent(**base, type="tamper", operator="op-1")
    with pytest.raises(ValueError, match="command_id goes with remote_open"):
        LaneEvent(**base, type="tamper", command_id="ab" * 16)
    with pytest.raises(ValueError, match="command_id"):
        LaneEvent(**base, type="remote_open", operator="op-1", command_id="not-a-command-id")
    opened = LaneEvent(**base, type="remote_open", operator="op-1", command_id="ab" * 16)
    assert decode(Channel.EVENT, encode(opened)) == opened

"""GA/T 467 frames: the reference's byte vectors, plus properties of the stream decoder."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.readers.gat467.faults import (
    FieldEmpty,
    FindFailed,
    ModuleStatusError,
    ReadFailed,
    UnexpectedStatus,
    UnknownStatus,
    status_error,
)
from controller.readers.gat467.frames import (
    GARBAGE,
    MAX_BUFFER,
    MAX_FRAME_LEN,
    PREAMBLE,
    Command,
    CommandDecoder,
    CommandFrame,
    FrameDiscarded,
    Response,
    ResponseDecoder,
    Status,
    encode_command,
    encode_response,
)
from controller.readers.gat467.textblock import build_read_reply


def hexbytes(text: str) -> bytes:
    return bytes.fromhex(text)


def drain(decoder: ResponseDecoder | CommandDecoder) -> list[object]:
    events = []
    while (event := decoder.next_event()) is not None:
        events.append(event)
    return events


# Every frame the reference lists literally.
COMMAND_VECTORS = [
    (Command.READ_SAM_ID, "AA AA AA 96 69 00 03 12 FF EE"),
    (Command.FIND_CARD, "AA AA AA 96 69 00 03 20 01 22"),
    (Command.SELECT_CARD, "AA AA AA 96 69 00 03 20 02 21"),
    (Command.READ_TEXT_PHOTO, "AA AA AA 96 69 00 03 30 01 32"),
    (Command.READ_APPENDED_ADDRESS, "AA AA AA 96 69 00 03 30 03 30"),
    (Command.READ_TEXT_PHOTO_FINGERPRINT, "AA AA AA 96 69 00 03 30 10 23"),
]
RESPONSE_VECTORS = [
    ("find ok", Status.FIND_OK, bytes(4), "AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97"),
    ("find failed", Status.FIND_FAILED, b"", "AA AA AA 96 69 00 04 00 00 80 84"),
    ("select failed", Status.SELECT_FAILED, b"", "AA AA AA 96 69 00 04 00 00 81 85"),
]


@pytest.mark.parametrize(("command", "frame"), COMMAND_VECTORS)
def test_command_golden_vectors(command: Command, frame: str) -> None:
    assert encode_command(command) == hexbytes(frame)
    decoder = CommandDecoder()
    decoder.feed(hexbytes(frame))
    assert drain(decoder) == [CommandFrame(command)]


@pytest.mark.parametrize(("name", "status", "data", "frame"), RESPONSE_VECTORS)
def test_response_golden_vectors(name: str, status: Status, data: bytes, frame: str) -> None:
    assert encode_response(status, data) == hexbytes(frame), name
    decoder = ResponseDecoder()
    decoder.feed(hexbytes(frame))
    [response] = drain(decoder)
    assert response == Response(0, 0, status, data)
    assert response.status is status
    assert response.ok is (status is Status.FIND_OK)


def test_select_success_is_19_bytes() -> None:
    assert len(encode_response(Status.OK, bytes(8))) == 19


@pytest.mark.parametrize(
    ("fingerprint", "total", "length"), [(None, 1295, "05 08"), (bytes(1024), 2321, "09 0A")]
)
def test_read_reply_sizes(fingerprint: bytes | None, total: int, length: str) -> None:
    data = build_read_reply(bytes(256), bytes(1024), fingerprint)
    frame = encode_response(Status.OK, data)
    assert len(frame) == total
    assert frame[5:7] == hexbytes(length)
    assert data[:4] == hexbytes("01 00 04 00")


def test_every_status_has_a_description_and_failures_have_an_error() -> None:
    codes = {0x90, 0x9F, 0x91, 0x10, 0x11, 0x21, 0x23, 0x24, 0x31, 0x32, 0x33, 0x40, 0x41, 0x47}
    codes |= {0x60, 0x66, 0x80, 0x81}
    assert {int(status) for status in Status} == codes
    for status in Status:
        assert status.description
        error = status_error(status, Command.READ_TEXT_PHOTO)
        assert isinstance(error, ModuleStatusError)
        assert error.status == status
        assert error.command == Command.READ_TEXT_PHOTO
        assert f"0x{status:02X}" in str(error)
    assert type(status_error(0x41, Command.READ_TEXT_PHOTO)) is ReadFailed
    assert type(status_error(0x80, Command.FIND_CARD)) is FindFailed
    assert type(status_error(0x91, Command.READ_APPENDED_ADDRESS)) is FieldEmpty
    assert type(status_error(0x90, Command.FIND_CARD)) is UnexpectedStatus


def test_unknown_status_names_its_value() -> None:
    error = status_error(0x55, Command.FIND_CARD)
    assert isinstance(error, UnknownStatus)
    assert "0x55" in str(error)
    assert "FIND_CARD" in str(error)
    assert Response(0, 0, 0x55).status is None


def test_response_repr_hides_data() -> None:
    assert "data" not in repr(Response(0, 0, 0x90, b"secret"))


def test_encoders_refuse_what_does_not_fit() -> None:
    with pytest.raises(ValueError, match="does not fit in CMD PARA"):
        encode_command(0x10000)
    with pytest.raises(ValueError, match="sw3 0x100 is not a byte"):
        encode_response(0x100)
    with pytest.raises(ValueError, match=f"frame LEN {MAX_FRAME_LEN + 4} exceeds {MAX_FRAME_LEN}"):
        encode_response(0x90, bytes(MAX_FRAME_LEN))


def test_garbage_then_frame() -> None:
    decoder = ResponseDecoder()
    decoder.feed(b"\x00\x13\xaa\xaa" + encode_response(Status.FIND_FAILED))
    assert drain(decoder) == [FrameDiscarded(GARBAGE, 4), Response(0, 0, Status.FIND_FAILED)]


def test_bad_checksum_is_discarded_and_the_next_frame_survives() -> None:
    bad = bytearray(encode_response(Status.OK, b"abc"))
    bad[-1] ^= 0x01
    decoder = ResponseDecoder()
    decoder.feed(bytes(bad) + encode_response(Status.FIND_FAILED))
    events = drain(decoder)
    assert events[0] == FrameDiscarded(f"checksum 0x{bad[-1]:02X} expected 0x{bad[-1] ^ 1:02X}", len(bad))
    assert events[1:] == [Response(0, 0, Status.FIND_FAILED)]


def test_corrupt_length_resyncs_on_the_next_preamble() -> None:
    # LEN claims more than the frame has: the next frame's preamble is inside the claimed span.
    good = encode_response(Status.FIND_FAILED)
    decoder = ResponseDecoder()
    decoder.feed(PREAMBLE + b"\x00\x20\x00\x00\x90" + good + bytes(40))
    events = drain(decoder)
    assert isinstance(events[0], FrameDiscarded)
    assert events[0].reason.startswith("checksum")
    assert events[1] == Response(0, 0, Status.FIND_FAILED)


@pytest.mark.parametrize("length", [0, 3, MAX_FRAME_LEN + 1, 0xAAAA])
def test_impossible_length_is_discarded(length: int) -> None:
    good = encode_response(Status.FIND_FAILED)
    decoder = ResponseDecoder()
    decoder.feed(PREAMBLE + length.to_bytes(2, "big") + good)
    events = drain(decoder)
    assert events[0] == FrameDiscarded(f"length {length} outside 4..{MAX_FRAME_LEN}", 7)
    assert events[1:] == [Response(0, 0, Status.FIND_FAILED)]


def test_a_command_is_too_short_to_be_a_response() -> None:
    frame = encode_command(Command.FIND_CARD)
    responses = ResponseDecoder()
    responses.feed(frame)
    assert drain(responses) == [FrameDiscarded(f"length 3 outside 4..{MAX_FRAME_LEN}", len(frame))]


def test_reset_reports_a_truncated_frame() -> None:
    frame = encode_response(Status.OK, bytes(100))
    decoder = ResponseDecoder()
    decoder.feed(frame[:50])
    assert decoder.next_event() is None
    assert decoder.reset() == FrameDiscarded(f"truncated frame, 50 of {len(frame)} bytes", 50)
    assert decoder.reset() is None
    decoder.feed(frame)
    assert drain(decoder) == [Response(0, 0, Status.OK, bytes(100))]


def test_reset_reports_a_partial_header() -> None:
    decoder = ResponseDecoder()
    decoder.feed(PREAMBLE[:3])
    assert decoder.next_event() is None
    assert decoder.reset() == FrameDiscarded("truncated frame, header incomplete", 3)


def test_buffer_is_bounded() -> None:
    frame = encode_response(Status.OK, bytes(1000))
    decoder = ResponseDecoder()
    decoder.feed(frame[:20] + bytes(MAX_BUFFER))  # a frame start, then far too much filler
    assert decoder.buffered <= MAX_BUFFER
    first = decoder.next_event()
    assert isinstance(first, FrameDiscarded)
    assert first.reason.startswith("buffer overflow")
    drain(decoder)
    decoder.feed(frame)
    assert drain(decoder)[-1] == Response(0, 0, Status.OK, bytes(1000))


# Properties.

statuses = st.integers(min_value=0, max_value=255)
payloads = st.binary(max_size=300)


@given(statuses, payloads, st.integers(0, 255), st.integers(0, 255))
def test_response_round_trip(sw3: int, data: bytes, sw1: int, sw2: int) -> None:
    decoder = ResponseDecoder()
    decoder.feed(encode_response(sw3, data, sw1, sw2))
    assert drain(decoder) == [Response(sw1, sw2, sw3, data)]
    assert decoder.buffered == 0


@given(st.integers(0, 0xFFFF), payloads)
def test_command_round_trip(command: int, data: bytes) -> None:
    decoder = CommandDecoder()
    decoder.feed(encode_command(command, data))
    assert drain(decoder) == [CommandFrame(command, data)]


@given(st.lists(st.tuples(statuses, payloads), min_size=1, max_size=4), st.data())
def test_frames_split_anywhere_decode_identically(
    frames: list[tuple[int, bytes]], data: st.DataObject
) -> None:
    stream = b"".join(encode_response(sw3, body) for sw3, body in frames)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    decoder = ResponseDecoder()
    events: list[object] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        decoder.feed(stream[start:end])
        events += drain(decoder)
    assert events == [Response(0, 0, sw3, body) for sw3, body in frames]


noise_and_frames = st.one_of(st.binary(max_size=200), st.builds(encode_response, statuses, payloads))


@given(st.lists(noise_and_frames, max_size=20))
def test_random_bytes_never_raise_and_every_byte_is_accounted_for(chunks: list[bytes]) -> None:
    for decoder, overhead in ((ResponseDecoder(), 11), (CommandDecoder(), 10)):
        accounted = 0
        for chunk in chunks:
            decoder.feed(chunk)
            for event in drain(decoder):
                if isinstance(event, FrameDiscarded):
                    assert event.discarded > 0
                    accounted += event.discarded
                else:
                    accounted += overhead + len(event.data)  # type: ignore[attr-defined]
        leftover = decoder.reset()
        accounted += leftover.discarded if leftover else 0
        assert accounted == sum(map(len, chunks))


@given(st.binary(max_size=300), statuses, payloads)
def test_garbage_before_a_frame_never_hides_it(garbage: bytes, sw3: int, body: bytes) -> None:
    decoder = ResponseDecoder()
    decoder.feed(garbage + PREAMBLE + encode_response(sw3, body))
    events = drain(decoder)
    assert events[-1] == Response(0, 0, sw3, body)
    assert all(isinstance(event, FrameDiscarded) for event in events[:-1])

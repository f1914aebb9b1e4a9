"""The pure APDU layer: every named status word, short answers, UID lengths, and random bytes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.core.cards import UidSource
from controller.readers.apdu import (
    ERRORS_BY_SW,
    GET_ID_CARD_SERIAL,
    GET_UID,
    ApduError,
    AuthMethodBlocked,
    BadUidLength,
    ClaNotSupported,
    CommandNotAllowed,
    ConditionsNotSatisfied,
    DataCorrupted,
    EndOfData,
    FileNotFound,
    FunctionNotSupported,
    InsNotSupported,
    MemoryFailure,
    MoreData,
    NoPreciseDiagnosis,
    NoResponse,
    ReaderOperationFailed,
    SecurityNotSatisfied,
    ShortResponse,
    StatusError,
    StatusWord,
    UnknownStatusWord,
    WrongLe,
    WrongLength,
    WrongParameters,
    parse_response,
    status_error,
    uid_from_response,
)


def test_commands_are_the_documented_bytes() -> None:
    assert GET_ID_CARD_SERIAL.hex(" ").upper() == "00 36 00 00 08"
    assert GET_UID.hex(" ").upper() == "FF CA 00 00 00"


@pytest.mark.parametrize(
    ("sw", "error", "text"),
    [
        (0x6281, DataCorrupted, "6281 part of the returned data may be corrupted"),
        (0x6282, EndOfData, "6282 end of data reached before Le bytes"),
        (0x6300, ReaderOperationFailed, "6300 operation failed (reader)"),
        (0x6581, MemoryFailure, "6581 memory failure"),
        (0x6700, WrongLength, "6700 wrong length"),
        (0x6982, SecurityNotSatisfied, "6982 security status not satisfied"),
        (0x6983, AuthMethodBlocked, "6983 authentication method blocked"),
        (0x6985, ConditionsNotSatisfied, "6985 conditions of use not satisfied"),
        (0x6986, CommandNotAllowed, "6986 command not allowed"),
        (0x6A81, FunctionNotSupported, "6A81 function not supported"),
        (0x6A82, FileNotFound, "6A82 file or application not found"),
        (0x6A86, WrongParameters, "6A86 wrong parameters P1-P2"),
        (0x6B00, WrongParameters, "6B00 wrong parameters P1-P2"),
        (0x6D00, InsNotSupported, "6D00 instruction not supported"),
        (0x6E00, ClaNotSupported, "6E00 class not supported"),
        (0x6F00, NoPreciseDiagnosis, "6F00 no precise diagnosis"),
        (0x6110, MoreData, "6110 16 more byte(s) available"),
        (0x6100, MoreData, "6100 256 more byte(s) available"),
        (0x6C08, WrongLe, "6C08 wrong Le, exact length is 8"),
        (0x9100, UnknownStatusWord, "9100 unknown status word"),
        (0x6A80, UnknownStatusWord, "6A80 unknown status word"),
    ],
)
def test_status_words_have_named_errors(sw: int, error: type[StatusError], text: str) -> None:
    found = status_error(sw >> 8, sw & 0xFF)
    assert type(found) is error
    assert found.sw == sw
    assert str(found) == text
    with pytest.raises(error) as raised:
        uid_from_response(bytes(4) + sw.to_bytes(2, "big"), UidSource.ISO14443A)
    assert raised.value.sw == sw


def test_every_named_status_word_maps_and_9000_is_success() -> None:
    assert status_error(0x90, 0x00) is None
    named = {word for word in StatusWord if word is not StatusWord.SUCCESS}
    assert named == set(ERRORS_BY_SW)


def test_every_other_status_word_is_an_error_carrying_it() -> None:
    for sw in range(0x10000):
        if sw == 0x9000:
            continue
        error = status_error(sw >> 8, sw & 0xFF)
        assert isinstance(error, StatusError)
        assert error.sw == sw
        assert str(error).startswith(f"{sw:04X} ")


def test_length_hints_in_sw2() -> None:
    more = status_error(0x61, 0x1A)
    assert isinstance(more, MoreData)
    assert more.available == 0x1A
    wrong_le = status_error(0x6C, 0x04)
    assert isinstance(wrong_le, WrongLe)
    assert wrong_le.exact_le == 4


def test_one_error_hierarchy() -> None:
    for error in (ShortResponse, NoResponse, BadUidLength, StatusError, *ERRORS_BY_SW.values()):
        assert issubclass(error, ApduError)


def test_parse_response_splits_body_and_status_word() -> None:
    assert parse_response([0x04, 0xA1, 0x90, 0x00]) == (b"\x04\xa1", 0x90, 0x00)
    assert parse_response(b"\x6d\x00") == (b"", 0x6D, 0x00)


def test_short_answers() -> None:
    with pytest.raises(NoResponse) as empty:
        parse_response(b"")
    assert empty.value.length == 0
    assert empty.value.sw is None
    with pytest.raises(ShortResponse) as one:
        parse_response([0x90])
    assert type(one.value) is ShortResponse
    assert one.value.length == 1
    assert "1 byte(s)" in str(one.value)


@pytest.mark.parametrize(
    ("source", "body", "expected"),
    [
        (UidSource.ID_CARD_SERIAL, bytes.fromhex("0123456789abcdef"), "0123456789ABCDEF"),
        (UidSource.ISO14443A, bytes.fromhex("04a1b2c3"), "04A1B2C3"),
        (UidSource.ISO14443A, bytes.fromhex("04a1b2c3d4e5f6"), "04A1B2C3D4E5F6"),
        (UidSource.ISO14443A, bytes.fromhex("04a1b2c3d4e5f60718"), None),
        (UidSource.ISO14443A, bytes.fromhex("04a1b2c3d4e5f6071829"), "04A1B2C3D4E5F6071829"),
    ],
)
def test_uid_lengths(source: UidSource, body: bytes, expected: str | None) -> None:
    if expected is not None:
        assert uid_from_response(body + b"\x90\x00", source) == expected
    else:
        with pytest.raises(BadUidLength):
            uid_from_response(body + b"\x90\x00", source)


@pytest.mark.parametrize("length", [0, 1, 4, 7, 9, 10, 16])
def test_id_card_serial_is_exactly_eight_bytes(length: int) -> None:
    with pytest.raises(BadUidLength) as raised:
        uid_from_response(bytes(length) + b"\x90\x00", UidSource.ID_CARD_SERIAL)
    assert raised.value.length == length
    assert raised.value.sw == 0x9000
    assert str(raised.value) == f"id_card_serial: {length} byte(s), expected 8"


@pytest.mark.parametrize("length", [0, 1, 3, 5, 6, 8, 9, 11])
def test_iso14443a_uid_is_4_7_or_10_bytes(length: int) -> None:
    with pytest.raises(BadUidLength, match=r"iso14443a: \d+ byte\(s\), expected 4/7/10"):
        uid_from_response(bytes(length) + b"\x90\x00", UidSource.ISO14443A)


def test_error_messages_never_carry_the_number() -> None:
    body = bytes.fromhex("0123456789ABCDEF00")
    with pytest.raises(BadUidLength) as raised:
        uid_from_response(body + b"\x90\x00", UidSource.ID_CARD_SERIAL)
    assert "0123" not in str(raised.value)


@given(data=st.binary(max_size=40), source=st.sampled_from(UidSource))
def test_random_answers_give_a_number_or_an_apdu_error(data: bytes, source: UidSource) -> None:
    try:
        uid = uid_from_response(data, source)
    except (ShortResponse, StatusError, BadUidLength):  # every ApduError there is; anything else fails
        return
    assert data[-2:] == b"\x90\x00"
    assert bytes.fromhex(uid) == data[:-2]


@given(data=st.lists(st.integers(0, 255), max_size=20))
def test_pyscard_style_lists_parse_like_bytes(data: list[int]) -> None:
    try:
        parsed = parse_response(data)
    except ShortResponse:
        assert len(data) < 2
        return
    assert parsed == (bytes(data[:-2]), data[-2], data[-1])

"""The 256-byte text block: all four layouts, 长期, and every way a block can be garbled."""

from __future__ import annotations

import contextlib
import random
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.core.cards import IdentityCard
from controller.readers.gat467.faults import FrameError, TextBlockError
from controller.readers.gat467.textblock import (
    LONG_TERM,
    TEXT_BLOCK_LEN,
    build_read_reply,
    encode_appended_address,
    encode_text_block,
    parse_appended_address,
    parse_read_reply,
    parse_text_block,
)
from hardware.emulators.identities import bad_check_digit, synthetic_identity
from wire.models import CardKind

BLOCK_KINDS = [
    CardKind.RESIDENT,
    CardKind.HMT_RESIDENCE_PERMIT,
    CardKind.FOREIGNER_2017,
    CardKind.FOREIGNER_2023,
]


def ucs2(text: str) -> bytes:
    return text.encode("utf-16-le")


def patched(block: bytes, offset: int, data: bytes) -> bytes:
    return block[:offset] + data + block[offset + len(data) :]


def resident(**changes: object) -> IdentityCard:
    return replace(synthetic_identity(random.Random(7)), **changes)  # type: ignore[arg-type]


@given(st.sampled_from(BLOCK_KINDS), st.randoms(use_true_random=False))
def test_all_layouts_round_trip(kind: CardKind, rng: random.Random) -> None:
    card = synthetic_identity(rng, kind=kind)
    block = encode_text_block(card)
    assert len(block) == TEXT_BLOCK_LEN
    assert parse_text_block(block) == card


@given(st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "Zs"]), min_size=1, max_size=15))
def test_names_round_trip_whatever_the_script(name: str) -> None:
    name = name.strip(" ")
    if name and all(ord(ch) <= 0xFFFF for ch in name):
        card = resident(name=name)
        assert parse_text_block(encode_text_block(card)).name == name


def test_resident_layout_golden_bytes() -> None:
    card = resident(name="张伟", valid_to=None)
    block = encode_text_block(card)
    assert block[0:6] == ucs2("张伟 ")
    assert block[30:32] == ucs2(card.gender)
    assert block[32:36] == ucs2("01")
    assert block[36:52] == ucs2(f"{card.birth_date:%Y%m%d}")
    assert block[122:158] == ucs2(card.id_number)
    assert block[204:220] == bytes.fromhex("7F95 1F67") + ucs2(" " * 6)  # 长期, space-padded
    assert block[248:250] == b"\x20\x00"


@pytest.mark.parametrize(
    ("kind", "flag"),
    [
        (CardKind.RESIDENT, b" \x00"),
        (CardKind.HMT_RESIDENCE_PERMIT, b"J\x00"),
        (CardKind.FOREIGNER_2017, b"I\x00"),
        (CardKind.FOREIGNER_2023, b"Y\x00"),
    ],
)
def test_type_flag_at_byte_248(kind: CardKind, flag: bytes) -> None:
    block = encode_text_block(synthetic_identity(random.Random(3), kind=kind))
    assert block[248:250] == flag


def test_foreigner_2017_golden_offsets() -> None:
    card = synthetic_identity(random.Random(5), kind=CardKind.FOREIGNER_2017)
    block = encode_text_block(card)
    assert block[0 : 2 * len(card.english_name)] == ucs2(card.english_name)
    assert block[122:152] == ucs2(card.id_number)  # 15 characters fill the slot
    assert block[152:158] == ucs2(card.nationality)
    assert block[220:236] == ucs2(f"{card.birth_date:%Y%m%d}")


def test_foreigner_2023_long_english_name_spans_both_slots() -> None:
    english = "SAMPLEFAMILYNAMEWITHLENGTH, GIVENNAMES EXTRA"  # 44 characters: 35 + 9
    card = replace(synthetic_identity(random.Random(5), kind=CardKind.FOREIGNER_2023), english_name=english)
    block = encode_text_block(card)
    assert block[52:122] == ucs2(english[:35])
    assert block[220:238] == ucs2(english[35:])
    assert parse_text_block(block).english_name == english


def test_long_term_validity_is_none() -> None:
    card = resident(valid_to=None)
    assert parse_text_block(encode_text_block(card)).valid_to is None
    assert LONG_TERM == "长期"


def test_photo_and_fingerprint_are_attached_raw() -> None:
    block = encode_text_block(resident())
    card = parse_text_block(block, b"\x01" * 1024, b"\x02" * 1024)
    assert card.photo == b"\x01" * 1024
    assert card.fingerprint == b"\x02" * 1024


def test_a_bad_check_digit_still_parses_for_the_policy_to_deny() -> None:
    card = resident()
    card = replace(card, id_number=bad_check_digit(card.id_number))
    assert parse_text_block(encode_text_block(card)).id_number == card.id_number


GOOD = encode_text_block(resident())


@pytest.mark.parametrize(
    ("block", "field", "offset", "why"),
    [
        (GOOD[:255], "block", 0, "255 bytes, expected 256"),
        (GOOD + b"  ", "block", 0, "258 bytes, expected 256"),
        (patched(GOOD, 248, ucs2("Q")), "type_flag", 248, "unknown card type flag U+0051"),
        (patched(GOOD, 248, b"\x00\x00"), "type_flag", 248, "non-printable"),
        (patched(GOOD, 2, b"\x00\xd8"), "name", 2, "surrogate half U+D800"),
        (patched(GOOD, 4, b"\x1f\xdc"), "name", 4, "surrogate half U+DC1F"),
        (patched(GOOD, 60, b"\x0a\x00"), "address", 60, "non-printable character U+000A"),
        (patched(GOOD, 150, b"\x00\x00"), "id_number", 150, "non-printable character U+0000"),
        (patched(GOOD, 10, b"\xff\xff"), "name", 10, "non-printable character U+FFFF"),
        (patched(GOOD, 0, ucs2(" " * 15)), "name", 0, "empty"),
        (patched(GOOD, 122, ucs2(" " * 18)), "id_number", 122, "empty"),
        (patched(GOOD, 30, ucs2("M")), "gender", 30, "not a GB/T 2261.1 gender code"),
        (patched(GOOD, 32, ucs2("汉 ")), "nation", 32, "not a two-digit nation code"),
        (patched(GOOD, 36, ucs2("19991340")), "birth_date", 36, "not a calendar date"),
        (patched(GOOD, 36, ucs2("1999-1-1")), "birth_date", 36, "not an 8-digit YYYYMMDD date"),
        (patched(GOOD, 188, ucs2("20230229")), "valid_from", 188, "not a calendar date"),
        (patched(GOOD, 204, ucs2("永久    ")), "valid_to", 204, "not an 8-digit YYYYMMDD date"),
        (patched(GOOD, 204, ucs2("２０３０0101")), "valid_to", 204, "not an 8-digit YYYYMMDD date"),
    ],
)
def test_bad_blocks_name_field_and_offset(block: bytes, field: str, offset: int, why: str) -> None:
    with pytest.raises(TextBlockError) as caught:
        parse_text_block(block)
    assert (caught.value.field, caught.value.offset) == (field, offset)
    assert why in str(caught.value)


def test_errors_never_echo_the_card() -> None:
    card = resident()
    messages = []
    for offset in range(0, TEXT_BLOCK_LEN, 2):
        try:
            parse_text_block(patched(encode_text_block(card), offset, b"\x07\x00"))
        except TextBlockError as err:
            messages.append(str(err))
    assert len(messages) > 100  # every decoded slot noticed the control character
    assert not [m for m in messages if card.id_number in m or card.name in m or card.address in m]


@given(st.binary(min_size=TEXT_BLOCK_LEN, max_size=TEXT_BLOCK_LEN))
def test_random_blocks_parse_or_raise_text_block_error(block: bytes) -> None:
    with contextlib.suppress(TextBlockError):
        parse_text_block(block)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "名" * 16}, "name has 16 characters, the slot holds 15"),
        ({"name": "\U00020000"}, "UCS-2"),
        ({"address": "测试路\n1号"}, "UCS-2"),
        ({"english_name": "SAMPLE"}, "has no english_name"),
        ({"kind": CardKind.CARD_UID}, "card_uid has no text block"),
        ({"kind": CardKind.HMT_RESIDENCE_PERMIT}, "has no nation"),
    ],
)
def test_encode_refuses_what_the_layout_cannot_hold(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_text_block(resident(**changes))


def test_appended_address() -> None:
    data = encode_appended_address("杭州市测试路2号")
    assert len(data) == 70
    assert parse_appended_address(data) == "杭州市测试路2号"
    assert parse_appended_address(ucs2(" " * 35)) is None
    with pytest.raises(TextBlockError) as caught:
        parse_appended_address(b"\x20\x00\x20")
    assert caught.value.field == "appended_address"


@pytest.mark.parametrize("fingerprint", [None, bytes(range(256)) * 4])
def test_read_reply_round_trip(fingerprint: bytes | None) -> None:
    text, photo = GOOD, bytes(range(256)) * 4
    assert parse_read_reply(build_read_reply(text, photo, fingerprint)) == (text, photo, fingerprint)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x01\x00", "read reply of 2 bytes has no length header"),
        (b"\x01\x00\x04\x00" + bytes(1279), "read reply of 1283 bytes does not match its lengths"),
        (b"\x01\x00\x04\x00\x04\x00" + bytes(1280), "read reply of 1286 bytes does not match"),
        (b"\x01\x00\x04\x00" + bytes(1281), "text 256, photo 1024"),
    ],
)
def test_read_reply_with_inconsistent_lengths(data: bytes, message: str) -> None:
    with pytest.raises(FrameError, match=message):
        parse_read_reply(data)


def test_dates_parse_to_dates() -> None:
    card = parse_text_block(encode_text_block(resident(birth_date=date(1980, 2, 29))))
    assert card.birth_date == date(1980, 2, 29)

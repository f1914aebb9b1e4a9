"""The 256-byte text block of an ID card (GA 490), decoded into an :class:`IdentityCard` and back.

Four card types share the block and are told apart by the UCS-2 character at byte 248; each layout
below is the whole map of its type on one screen. Decoding is strict about encoding (UCS-2 only, no
control characters, real calendar dates) because a garbled block must not become a plausible person.
It deliberately does not check the ID number's check digit: the policy does, so that it can deny the
card with reason ``invalid_id_number`` instead of the read silently vanishing here.

Encoding is the inverse, for the emulator and round-trip tests. It refuses what the layout cannot
hold (too long, not UCS-2, a field the card type lacks) rather than truncate, so a valid card always
comes back from a round trip unchanged.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any, Final

from controller.core.cards import IdentityCard
from controller.readers.gat467.faults import FrameError, TextBlockError
from wire.models import CardKind

TEXT_BLOCK_LEN: Final = 256
TYPE_FLAG_OFFSET: Final = 248
LONG_TERM: Final = "长期"
APPENDED_ADDRESS_LEN: Final = 70
_PAD: Final = " "

# Field codecs.
_TEXT, _REQUIRED, _GENDER, _NATION, _DATE, _UNTIL, _HEAD, _TAIL = range(8)

# (IdentityCard attribute, byte offset, byte size, codec). _HEAD/_TAIL are the two halves of a
# value split across two slots (the 2023 card's English name).
_Slot = tuple[str, int, int, int]

_PRC_COMMON: Final[tuple[_Slot, ...]] = (
    ("name", 0, 30, _REQUIRED),
    ("gender", 30, 2, _GENDER),
    ("birth_date", 36, 16, _DATE),
    ("address", 52, 70, _TEXT),
    ("id_number", 122, 36, _REQUIRED),
    ("issuer", 158, 30, _TEXT),
    ("valid_from", 188, 16, _DATE),
    ("valid_to", 204, 16, _UNTIL),
)
LAYOUTS: Final[dict[CardKind, tuple[_Slot, ...]]] = {
    # 220..255 reserved; the HMT permit keeps pass number (220, 18) and issue count (238, 4) there,
    # which SiteGate does not use. Its nation slot (32, 4) is unused.
    CardKind.RESIDENT: (*_PRC_COMMON, ("nation", 32, 4, _NATION)),
    CardKind.HMT_RESIDENCE_PERMIT: _PRC_COMMON,
    # Not kept: version (236, 4).
    CardKind.FOREIGNER_2017: (
        ("english_name", 0, 120, _REQUIRED),
        ("gender", 120, 2, _GENDER),
        ("id_number", 122, 30, _REQUIRED),
        ("nationality", 152, 6, _REQUIRED),
        ("name", 158, 30, _TEXT),
        ("valid_from", 188, 16, _DATE),
        ("valid_to", 204, 16, _UNTIL),
        ("birth_date", 220, 16, _DATE),
        ("issuer", 240, 8, _TEXT),
    ),
    # Not kept: renewal count (32, 4), link to the previous card number (250, 6).
    CardKind.FOREIGNER_2023: (
        ("name", 0, 30, _TEXT),
        ("gender", 30, 2, _GENDER),
        ("birth_date", 36, 16, _DATE),
        ("english_name", 52, 70, _HEAD),
        ("id_number", 122, 36, _REQUIRED),
        ("valid_from", 188, 16, _DATE),
        ("valid_to", 204, 16, _UNTIL),
        ("english_name", 220, 22, _TAIL),
        ("nationality", 242, 6, _REQUIRED),
    ),
}
TYPE_FLAGS: Final = {
    CardKind.RESIDENT: " ",
    CardKind.HMT_RESIDENCE_PERMIT: "J",
    CardKind.FOREIGNER_2017: "I",
    CardKind.FOREIGNER_2023: "Y",
}
_KIND_BY_FLAG: Final = {flag: kind for kind, flag in TYPE_FLAGS.items()}
_BLOCK_FIELDS: Final = frozenset({slot[0] for layout in LAYOUTS.values() for slot in layout} | {"nation"})


def parse_text_block(block: bytes, photo: bytes = b"", fingerprint: bytes | None = None) -> IdentityCard:
    """Decode a text block; raises :class:`TextBlockError` naming the first bad field and offset."""
    if len(block) != TEXT_BLOCK_LEN:
        raise TextBlockError("block", 0, f"{len(block)} bytes, expected {TEXT_BLOCK_LEN}")
    flag = _decode(block, "type_flag", TYPE_FLAG_OFFSET, 2)
    kind = _KIND_BY_FLAG.get(flag)
    if kind is None:
        raise TextBlockError("type_flag", TYPE_FLAG_OFFSET, f"unknown card type flag U+{ord(flag):04X}")
    values: dict[str, Any] = {}
    for attr, offset, size, codec in LAYOUTS[kind]:
        raw = _decode(block, attr, offset, size)
        if codec == _HEAD:
            values[attr] = raw
        elif codec == _TAIL:
            values[attr] = (str(values[attr]) + raw).strip(_PAD)
        else:
            values[attr] = _parse_value(raw.strip(_PAD), attr, offset, codec)
    return IdentityCard(kind=kind, photo=photo, fingerprint=fingerprint, **values)


def encode_text_block(card: IdentityCard) -> bytes:
    """The block a module would send for ``card``; ``ValueError`` for values the layout cannot hold."""
    layout = LAYOUTS.get(card.kind)
    if layout is None:
        raise ValueError(f"{card.kind.value} has no text block")
    kept = {slot[0] for slot in layout}
    for attr in sorted(_BLOCK_FIELDS - kept):
        if getattr(card, attr):
            raise ValueError(f"the {card.kind.value} layout has no {attr} field")
    block = bytearray(_PAD.encode("utf-16-le") * (TEXT_BLOCK_LEN // 2))
    head = 0
    for attr, offset, size, codec in layout:
        text = _format_value(getattr(card, attr), codec)
        if codec == _HEAD:
            head = size // 2
            text = text[:head]
        elif codec == _TAIL:
            text = text[head:]
        _put(block, text, attr, offset, size)
    _put(block, TYPE_FLAGS[card.kind], "type_flag", TYPE_FLAG_OFFSET, 2)
    return bytes(block)


def parse_appended_address(data: bytes) -> str | None:
    """The appended address (reply to 30 03) as text; ``None`` when the module sent only padding."""
    if len(data) % 2:
        raise TextBlockError("appended_address", len(data) - 1, "odd byte count is not UCS-2")
    return _decode(data, "appended_address", 0, len(data)).strip(_PAD) or None


def encode_appended_address(address: str) -> bytes:
    block = bytearray(_PAD.encode("utf-16-le") * (APPENDED_ADDRESS_LEN // 2))
    _put(block, address, "appended_address", 0, APPENDED_ADDRESS_LEN)
    return bytes(block)


def parse_read_reply(data: bytes) -> tuple[bytes, bytes, bytes | None]:
    """Split a read reply's data into (text, photo, fingerprint or ``None``) by its length prefixes.

    The two shapes cannot be confused: with a fingerprint the header is 6 bytes, and no third
    length makes 6 + text + photo + fingerprint equal 4 + text + photo.
    """
    if len(data) < 4:
        raise FrameError(f"read reply of {len(data)} bytes has no length header")
    text_len = int.from_bytes(data[0:2], "big")
    photo_len = int.from_bytes(data[2:4], "big")
    if len(data) == 4 + text_len + photo_len:
        return data[4 : 4 + text_len], data[4 + text_len :], None
    if len(data) >= 6:
        fp_len = int.from_bytes(data[4:6], "big")
        if len(data) == 6 + text_len + photo_len + fp_len:
            photo_end = 6 + text_len + photo_len
            return data[6 : 6 + text_len], data[6 + text_len : photo_end], data[photo_end:]
    raise FrameError(
        f"read reply of {len(data)} bytes does not match its lengths "
        f"(text {text_len}, photo {photo_len}, with or without a fingerprint length)"
    )


def build_read_reply(text: bytes, photo: bytes, fingerprint: bytes | None = None) -> bytes:
    lengths = [len(text), len(photo)] + ([] if fingerprint is None else [len(fingerprint)])
    header = b"".join(n.to_bytes(2, "big") for n in lengths)
    return header + text + photo + (fingerprint or b"")


def _decode(block: bytes, attr: str, offset: int, size: int) -> str:
    """UCS-2 little-endian, strictly: a surrogate half or a control character is a garbled read."""
    chars = []
    for at in range(offset, offset + size, 2):
        unit = block[at] | block[at + 1] << 8
        if 0xD800 <= unit <= 0xDFFF:
            raise TextBlockError(attr, at, f"surrogate half U+{unit:04X} is not UCS-2")
        char = chr(unit)
        if unit in (0xFFFE, 0xFFFF) or unicodedata.category(char) == "Cc":
            raise TextBlockError(attr, at, f"non-printable character U+{unit:04X}")
        chars.append(char)
    return "".join(chars)


def _parse_value(text: str, attr: str, offset: int, codec: int) -> object:
    if codec == _TEXT:
        return text
    if not text and codec != _UNTIL:
        raise TextBlockError(attr, offset, "empty")
    if codec == _GENDER and text not in ("0", "1", "2", "9"):
        raise TextBlockError(attr, offset, "not a GB/T 2261.1 gender code")
    if codec == _NATION and (len(text) != 2 or not text.isascii() or not text.isdigit()):
        raise TextBlockError(attr, offset, "not a two-digit nation code")
    if codec == _UNTIL and text == LONG_TERM:
        return None
    if codec in (_DATE, _UNTIL):
        return _parse_date(text, attr, offset)
    return text


def _parse_date(text: str, attr: str, offset: int) -> date:
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        raise TextBlockError(attr, offset, "not an 8-digit YYYYMMDD date")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise TextBlockError(attr, offset, "not a calendar date") from None


def _format_value(value: object, codec: int) -> str:
    if codec == _UNTIL and value is None:
        return LONG_TERM
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    if not isinstance(value, str):
        raise ValueError(f"cannot encode {type(value).__name__} in a text block")
    return value


def _put(block: bytearray, text: str, attr: str, offset: int, size: int) -> None:
    if len(text) * 2 > size:
        raise ValueError(f"{attr} has {len(text)} characters, the slot holds {size // 2}")
    for char in text:
        unit = ord(char)
        if unit > 0xFFFF or 0xD800 <= unit <= 0xDFFF or unicodedata.category(char) == "Cc":
            raise ValueError(f"{attr} holds U+{unit:04X}, which a UCS-2 text block cannot carry")
    block[offset : offset + len(text) * 2] = text.encode("utf-16-le")

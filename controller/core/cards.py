"""What a reader hands to the core: a credential, already decoded, with no I/O attached.

Two shapes: an :class:`IdentityCard` read through a certified ID module (its text block decoded),
and a :class:`CardUid` from a PC/SC reader (a binding key, never proof of identity on its own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from wire.models import CardKind


@dataclass(frozen=True, slots=True)
class IdentityCard:
    """The decoded text block of a second-generation ID card (or a permit sharing its layout).

    ``valid_to`` is ``None`` for a long-term (长期) card. ``photo`` is the raw WLT image: decoding it
    needs a licensed vendor library, so it is kept as bytes. ``id_number`` is personal data: it
    must never reach a log; ``repr`` hides it.
    """

    kind: CardKind
    name: str
    id_number: str = field(repr=False)
    birth_date: date | None
    valid_from: date | None
    valid_to: date | None
    gender: str = ""
    nation: str = ""
    address: str = field(default="", repr=False)
    issuer: str = ""
    english_name: str = ""
    nationality: str = ""
    photo: bytes = field(default=b"", repr=False)
    fingerprint: bytes | None = field(default=None, repr=False)
    appended_address: str | None = field(default=None, repr=False)


class UidSource(StrEnum):
    """Which number a :class:`CardUid` holds: they come from different commands and cards."""

    ISO14443A = "iso14443a"
    """The anticollision UID of an ISO 14443-A / MIFARE card (4, 7 or 10 bytes)."""
    ID_CARD_SERIAL = "id_card_serial"
    """A resident ID card's physical card number (8 bytes; its 14443-B PUPI is always 0)."""


@dataclass(frozen=True, slots=True)
class CardUid:
    """A card's physical number from a PC/SC reader, as uppercase hex; ``source`` says which number."""

    uid: str
    reader: str = ""
    source: UidSource = UidSource.ISO14443A


@dataclass(frozen=True, slots=True)
class ReadFailure:
    """A card was in the field but could not be read (bad frame, module status, card pulled).

    Not an access decision (there is no credential to record), but the person at the lane must be
    told to present the card again rather than wait in front of a dark lane.
    """

    reader: str
    why: str


CardRead = IdentityCard | CardUid

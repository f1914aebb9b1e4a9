"""Citizen ID numbers (GB 11643-1999) and permanent-residence card numbers, checked without I/O.

A number that fails its check digit was mistyped, forged or misread: it is not a real card's number,
so the policy denies it with its own reason rather than "not registered". The reasons returned here
end up in logs, so they name positions and digits but never echo the number itself.
"""

from __future__ import annotations

from datetime import date
from typing import Final

from wire.models import CardKind

WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
"""ISO 7064 MOD 11-2 weights for positions 1-17 (2**(18-i) mod 11)."""

_CHECK_CHARS: Final = "10X98765432"  # indexed by (sum of digit x weight) mod 11
_DIGITS: Final = frozenset("0123456789")  # str.isdigit() would also accept full-width and Arabic digits
_UPPER: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")

ID_NUMBER_LEN: Final = 18
FOREIGNER_2017_LEN: Final = 15
_BIRTH_DATE: Final = slice(6, 14)


def check_digit(first17: str) -> str:
    """The 18th character for ``first17``; ``ValueError`` unless given exactly 17 ASCII digits."""
    if len(first17) != ID_NUMBER_LEN - 1 or not _DIGITS.issuperset(first17):
        raise ValueError("check_digit needs exactly 17 ASCII digits")
    total = sum(int(ch) * weight for ch, weight in zip(first17, WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def with_check_digit(first17: str) -> str:
    """The full 18-character number, for emulators and fixtures that build synthetic identities."""
    return first17 + check_digit(first17)


def validate_id_number(number: str) -> str | None:
    """``None`` for a well-formed GB 11643 number, else the first thing wrong with it.

    Lowercase ``x`` is refused: cards print an uppercase ``X``, so a lowercase one did not come from
    a card's chip and points at hand entry or a broken reader.
    """
    if len(number) != ID_NUMBER_LEN:
        return f"length {len(number)}, expected {ID_NUMBER_LEN}"
    for position, ch in enumerate(number[:-1], start=1):
        if ch not in _DIGITS:
            return f"non-digit at position {position}"
    last = number[-1]
    if last == "x":
        return "lowercase x at position 18, cards print uppercase X"
    if last not in _DIGITS and last != "X":
        return "position 18 is neither a digit nor X"
    birth = number[_BIRTH_DATE]
    if _parse_date(birth) is None:
        return "birth date (positions 7-14) is not a date"
    expected = check_digit(number[:-1])
    if last != expected:
        return f"check digit is {last}, expected {expected}"
    return None


def is_valid_id_number(number: str) -> bool:
    return validate_id_number(number) is None


def validate_foreigner_number(number: str, kind: CardKind) -> str | None:
    """``None`` for a well-formed permanent-residence card number of ``kind``, else the reason.

    The 2017 card carries 3 uppercase letters (nationality) and 12 digits with no check digit we can
    verify; the 2023 card moved to the GB 11643 format, leading digit 9, with a real check digit.
    """
    if kind is CardKind.FOREIGNER_2017:
        return _validate_2017(number)
    if kind is CardKind.FOREIGNER_2023:
        if number[:1] != "9":
            return "2023 permanent-residence numbers start with 9"
        return validate_id_number(number)
    raise ValueError(f"{kind.value} is not a permanent-residence card kind")


def _validate_2017(number: str) -> str | None:
    if len(number) != FOREIGNER_2017_LEN:
        return f"length {len(number)}, expected {FOREIGNER_2017_LEN}"
    for position, ch in enumerate(number, start=1):
        if position <= 3 and ch not in _UPPER:
            return f"non-letter at position {position}, expected A-Z"
        if position > 3 and ch not in _DIGITS:
            return f"non-digit at position {position}"
    return None


def _parse_date(yyyymmdd: str) -> date | None:
    if len(yyyymmdd) != 8 or not _DIGITS.issuperset(yyyymmdd):
        return None
    try:
        return date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return None

"""The unified social credit code (统一社会信用代码, GB 32100-2015): the 18-character enterprise
number (企业编号) the notice logs enterprises in with.

Checked offline like an ID number: 17 characters from a 31-symbol alphabet (digits and capitals
without I, O, S, V, Z), positions 3-8 an administrative division code, and a MOD 31 check
character, so a mistyped number is refused with the position at fault rather than stored.
"""

from __future__ import annotations

from typing import Final

ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH: Final = 18
_VALUE: Final = {ch: value for value, ch in enumerate(ALPHABET)}
_DIGITS: Final = frozenset("0123456789")


def check_character(first17: str) -> str:
    if len(first17) != LENGTH - 1 or not set(first17) <= _VALUE.keys():
        raise ValueError(f"check_character needs 17 characters of {ALPHABET}")
    total = sum(_VALUE[ch] * weight for ch, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def with_check_character(first17: str) -> str:
    return first17 + check_character(first17)


def uscc_problem(number: str) -> str | None:
    """``None`` for a well-formed code, else the first thing wrong (positions, never the value)."""
    if len(number) != LENGTH:
        return f"length {len(number)}, expected {LENGTH}"
    for position, ch in enumerate(number, start=1):
        if ch not in _VALUE:
            return f"position {position} is not one of 0-9 or A-Y without I, O, S, V, Z"
    for position in range(3, 9):
        if number[position - 1] not in _DIGITS:
            return f"position {position} is not a digit (positions 3-8 are a division code)"
    expected = check_character(number[:-1])
    if number[-1] != expected:
        return f"check character is {number[-1]}, expected {expected}"
    return None

"""GB 11643 check digits and permanent-residence card numbers.

Numbers here are synthetic (Hangzhou address codes, invented dates and sequences), except the worked
example printed in GB 11643-1999 itself, which is the standard's golden vector, not a person.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wire.idnumber import (
    check_digit,
    is_valid_id_number,
    validate_foreigner_number,
    validate_id_number,
    with_check_digit,
)
from wire.models import CardKind

STANDARD_EXAMPLE = "11010519491231002X"  # GB 11643-1999, clause 8 worked example


@st.composite
def first17s(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(["330102", "330105", "330106", "330108", "330109", "330110", "330111"]))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)))
    sequence = draw(st.integers(min_value=0, max_value=999))
    return f"{region}{born:%Y%m%d}{sequence:03d}"


def test_standard_worked_example_checks_to_x() -> None:
    assert check_digit(STANDARD_EXAMPLE[:17]) == "X"
    assert validate_id_number(STANDARD_EXAMPLE) is None


@pytest.mark.parametrize(
    ("first17", "expected"),
    [
        # Worked by hand: weighted sum, mod 11, then (12 - r) mod 11 with 10 written X.
        ("33010619900101001", "8"),  # 158, r 4
        ("33010619900101019", "X"),  # 178, r 2
        ("33010219850615123", "8"),  # 246, r 4
        ("33011020000229007", "4"),  # 162, r 8
    ],
)
def test_check_digit_golden(first17: str, expected: str) -> None:
    assert check_digit(first17) == expected


@pytest.mark.parametrize("bad", ["", "1234567890123456", "3301061990010100１", "3301061990010100a"])
def test_check_digit_refuses_anything_but_17_ascii_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="17 ASCII digits"):
        check_digit(bad)


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("33010619900101001", "length 17, expected 18"),
        ("3301061990010100100", "length 19, expected 18"),
        ("3301A6199001010012", "non-digit at position 5"),
        ("33010619900101001x", "lowercase x at position 18, cards print uppercase X"),
        ("33010619900101001?", "position 18 is neither a digit nor X"),
        ("330106199913400017", "birth date (positions 7-14) is not a date"),
        ("330106199902290016", "birth date (positions 7-14) is not a date"),
        ("330106199001010193", "check digit is 3, expected X"),
    ],
)
def test_validate_names_the_first_problem(number: str, reason: str) -> None:
    assert validate_id_number(number) == reason
    assert not is_valid_id_number(number)


@given(first17s())
def test_reasons_never_echo_the_number(first17: str) -> None:
    for number in (first17 + "?", first17[:-1] + "Z1", with_check_digit(first17)[:-1] + "x"):
        reason = validate_id_number(number)
        assert reason is not None
        assert number not in reason
        assert first17 not in reason


@given(first17s())
def test_with_check_digit_is_always_valid(first17: str) -> None:
    assert is_valid_id_number(with_check_digit(first17))


@given(first17s(), st.integers(min_value=0, max_value=16), st.integers(min_value=1, max_value=9))
def test_any_single_digit_change_is_caught(first17: str, position: int, delta: int) -> None:
    number = with_check_digit(first17)
    changed = str((int(number[position]) + delta) % 10)
    assert not is_valid_id_number(number[:position] + changed + number[position + 1 :])


@given(first17s(), st.integers(min_value=0, max_value=15))
def test_adjacent_transpositions_are_caught(first17: str, position: int) -> None:
    number = with_check_digit(first17)
    a, b = number[position], number[position + 1]
    if a != b:
        assert not is_valid_id_number(number[:position] + b + a + number[position + 2 :])


def test_hmt_permit_numbers_use_the_same_check() -> None:
    assert is_valid_id_number(with_check_digit("81000019900101001"))


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("USA331101010001", None),
        ("USA33110101000", "length 14, expected 15"),
        ("US1331101010001", "non-letter at position 3, expected A-Z"),
        ("usa331101010001", "non-letter at position 1, expected A-Z"),
        ("USA33110101000A", "non-digit at position 15"),
    ],
)
def test_foreigner_2017_numbers(number: str, reason: str | None) -> None:
    assert validate_foreigner_number(number, CardKind.FOREIGNER_2017) == reason


def test_foreigner_2023_numbers() -> None:
    good = with_check_digit("93384019900101001")
    assert validate_foreigner_number(good, CardKind.FOREIGNER_2023) is None
    resident_shape = with_check_digit("33010619900101001")
    assert validate_foreigner_number(resident_shape, CardKind.FOREIGNER_2023) == (
        "2023 permanent-residence numbers start with 9"
    )
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert validate_foreigner_number(wrong, CardKind.FOREIGNER_2023).startswith("check digit is")


def test_foreigner_validation_refuses_other_kinds() -> None:
    with pytest.raises(ValueError, match="resident"):
        validate_foreigner_number("USA331101010001", CardKind.RESIDENT)


def test_every_day_of_a_leap_year_is_a_birth_date() -> None:
    day = date(2000, 1, 1)
    while day.year == 2000:
        assert is_valid_id_number(with_check_digit(f"330106{day:%Y%m%d}001"))
        day += timedelta(days=1)

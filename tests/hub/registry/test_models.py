"""The write models refuse bad input before any I/O, each with a specific error, never quoting
an ID number (neither in the error text nor in a model's repr)."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from hardware.emulators.identities import bad_check_digit, synthetic_identity
from hub.registry.models import AssignmentIn, EnterpriseIn, GateIn, PartyIn, PersonIn, WatchlistIn
from hub.registry.uscc import check_character, uscc_problem, with_check_character
from tests.hub.registry.conftest import uscc
from wire.models import CardKind

RNG = random.Random(11)
CARD = synthetic_identity(RNG)


def person(**changes: Any) -> PersonIn:
    values: dict[str, Any] = {
        "card_kind": "resident",
        "id_number": CARD.id_number,
        "name": CARD.name,
        "enterprise_id": "ent-1",
        "category": "worker",
    }
    values.update(changes)
    return PersonIn.model_validate(values)


def problems(err: pytest.ExceptionInfo[ValidationError]) -> list[tuple[str, tuple[Any, ...]]]:
    return [(e["type"], e["loc"]) for e in err.value.errors()]


def test_a_valid_worker_and_the_birth_date_from_the_number() -> None:
    worker = person()
    assert worker.effective_birth_date == CARD.birth_date
    assert person(birth_date=CARD.birth_date.isoformat()).birth_date == CARD.birth_date
    assert person(id_number=f" {CARD.id_number} ").id_number == CARD.id_number


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        (bad_check_digit(CARD.id_number), "check digit"),
        (CARD.id_number[:17], "length 17"),
        (CARD.id_number[:5] + "A" + CARD.id_number[6:], "non-digit at position 6"),
        (CARD.id_number[:6] + "19991301" + CARD.id_number[14:], "birth date"),
    ],
)
def test_an_invalid_id_number_names_the_reason_not_the_number(number: str, reason: str) -> None:
    with pytest.raises(ValidationError) as err:
        person(id_number=number)
    assert problems(err) == [("invalid_id_number", ("id_number",))]
    assert reason in str(err.value)
    assert number not in str(err.value) and number not in repr(err.value)


@pytest.mark.parametrize(
    "kind", [CardKind.FOREIGNER_2017, CardKind.FOREIGNER_2023, CardKind.HMT_RESIDENCE_PERMIT]
)
def test_other_cards_are_checked_by_their_own_format(kind: CardKind) -> None:
    card = synthetic_identity(RNG, kind=kind)
    assert person(card_kind=kind.value, id_number=card.id_number).id_number == card.id_number
    with pytest.raises(ValidationError) as err:
        person(
            card_kind=kind.value,
            id_number=CARD.id_number if kind is not CardKind.HMT_RESIDENCE_PERMIT else "X",
        )
    assert problems(err)[0][0] == "invalid_id_number"


def test_a_card_uid_is_not_an_identity() -> None:
    with pytest.raises(ValidationError) as err:
        person(card_kind="card_uid")
    assert problems(err)[0][1] == ("card_kind",)


def test_the_birth_date_must_agree_with_the_number() -> None:
    with pytest.raises(ValidationError) as err:
        person(birth_date=date(1960, 1, 1).isoformat())
    assert problems(err) == [("birth_date_mismatch", ("birth_date",))]
    assert CARD.id_number not in str(err.value)


def test_managers_need_a_position_and_workers_have_none() -> None:
    assert person(category="manager", position="labour_officer").position == "labour_officer"
    with pytest.raises(ValidationError) as err:
        person(category="manager")
    assert problems(err) == [("value_error", ("position",))]
    with pytest.raises(ValidationError) as err:
        person(position="safety_officer")
    assert problems(err) == [("value_error", ("position",))]
    with pytest.raises(ValidationError):
        person(category="manager", position="chairman")


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError) as err:
        person(exitdate="2026-01-01")
    assert problems(err) == [("extra_forbidden", ("exitdate",))]


def test_the_id_number_is_not_in_a_models_repr() -> None:
    model = person()
    assert CARD.id_number not in repr(model) and CARD.id_number not in str(model)


def test_enterprise_numbers_are_unified_social_credit_codes() -> None:
    number = uscc(1)
    assert uscc_problem(number) is None
    assert check_character(number[:17]) == number[-1]
    base = {
        "name": "x",
        "kind": "supervision",
        "district": "330106",
        "local": False,
        "password": "a-good-password",
    }
    assert EnterpriseIn(number=number, **base).number == number
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    for bad, why in [
        (wrong, "check character"),
        (number[:17], "length 17"),
        ("I" + number[1:], "position 1"),
        (number[:3] + "A" + number[4:], "position 4 is not a digit"),
    ]:
        with pytest.raises(ValidationError) as err:
            EnterpriseIn(number=bad, **base)
        assert problems(err) == [("invalid_enterprise_number", ("number",))]
        assert why in str(err.value)


def test_a_known_code_passes() -> None:
    # A code as printed on a business licence: its MOD 31 check character must come out the same.
    assert uscc_problem("91350100M000100Y43") is None
    assert with_check_character("91350100M000100Y4") == "91350100M000100Y43"


def test_passwords_are_checked_and_never_shown() -> None:
    account = {"username": "site-a-sub", "password": "short"}
    with pytest.raises(ValidationError) as err:
        PartyIn.model_validate({"enterprise_id": "ent-1", "role": "subcontractor", "account": account})
    assert problems(err) == [("value_error", ("account", "password"))]
    party = PartyIn.model_validate(
        {
            "enterprise_id": "ent-1",
            "role": "subcontractor",
            "account": {**account, "password": "long-enough-1"},
        }
    )
    assert "long-enough-1" not in repr(party)


def test_assignment_dates_in_order() -> None:
    base = {"person_id": "per-1", "enterprise_id": "ent-1", "role": "worker", "entry_date": "2026-03-10"}
    assert AssignmentIn.model_validate({**base, "exit_date": "2026-03-10"}).exit_date == date(2026, 3, 10)
    with pytest.raises(ValidationError) as err:
        AssignmentIn.model_validate({**base, "exit_date": "2026-03-09"})
    assert problems(err) == [("exit_before_entry", ())]
    with pytest.raises(ValidationError):
        AssignmentIn.model_validate({**base, "role": "boss"})


def test_gates_and_watchlist() -> None:
    assert GateIn(device_id="lane-a1", lane="east-1", direction="out", name="东门").direction == "out"
    with pytest.raises(ValidationError) as err:
        GateIn(device_id="lane-a1", lane="east-1", direction="both", name="东门")  # type: ignore[arg-type]
    assert problems(err) == [("gate_direction_both", ("direction",))]
    with pytest.raises(ValidationError) as err:
        GateIn(device_id="Lane_A1", lane="east-1", direction="in", name="东门")
    assert problems(err)[0][1] == ("device_id",)
    with pytest.raises(ValidationError):
        GateIn(device_id="lane-a1", lane="east-1", direction="sideways", name="东门")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        WatchlistIn(flag=True)
    assert WatchlistIn(flag=False).reason is None

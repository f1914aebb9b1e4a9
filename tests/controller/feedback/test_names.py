"""Names are masked before they reach the feedback code; only the first and last character stay."""

from __future__ import annotations

import random

import pytest

from controller.core.cards import CardUid
from controller.feedback.names import mask_name, person_of
from hardware.emulators.identities import synthetic_identity
from wire.models import CardKind


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张小明", "张*明"),
        ("张三", "张*"),
        ("欧阳小明", "欧**明"),
        ("王", "*"),
        ("", ""),
        ("SAMPLE, ALEX", "S***X"),
    ],
)
def test_mask_keeps_first_and_last(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize("kind", [CardKind.RESIDENT, CardKind.HMT_RESIDENCE_PERMIT, CardKind.FOREIGNER_2023])
def test_a_card_gives_its_masked_name_and_nothing_else(kind: CardKind) -> None:
    card = synthetic_identity(random.Random(7), kind=kind)
    person = person_of(card)
    assert person is not None and person == mask_name(card.name)
    assert card.id_number not in person
    if len(card.name) >= 2:
        assert person != card.name


def test_a_card_uid_carries_no_name() -> None:
    assert person_of(CardUid("04A1B2C3")) is None

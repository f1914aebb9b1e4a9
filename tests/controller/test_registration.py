"""Registration mode on the lane: what an office reader sends for a card, and what it shows."""

from __future__ import annotations

import dataclasses
import logging
import random
from datetime import UTC, date, datetime

import pytest

from controller.core.cards import IdentityCard
from controller.registration import OfficeReader, card_problem, office_read
from hardware.emulators.identities import synthetic_identity
from wire.codec import decode
from wire.labels import OfficeRead
from wire.models import CardKind, OfficeCardRead, Reason
from wire.topics import Channel

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
TODAY = date(2026, 11, 24)


def card(seed: int = 1, **changes: object) -> IdentityCard:
    return dataclasses.replace(synthetic_identity(random.Random(seed), valid_to=None), **changes)  # type: ignore[arg-type]


def wrong_check_digit(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({}, None),
        ({"valid_to": TODAY}, None),  # valid through its last day
        ({"valid_to": date(2026, 11, 23)}, Reason.CARD_EXPIRED),
        ({"id_number": wrong_check_digit(card().id_number)}, Reason.INVALID_ID_NUMBER),
    ],
)
def test_the_card_is_checked_as_an_access_lane_would(
    changes: dict[str, object], problem: Reason | None
) -> None:
    assert card_problem(card(**changes), TODAY) is problem


def test_a_foreigners_card_is_checked_by_its_own_rules() -> None:
    foreigner = synthetic_identity(random.Random(3), kind=CardKind.FOREIGNER_2017, valid_to=None)
    assert card_problem(foreigner, TODAY) is None
    assert card_problem(dataclasses.replace(foreigner, id_number="ABC"), TODAY) is Reason.INVALID_ID_NUMBER


def test_the_read_carries_the_text_block_and_not_the_photo() -> None:
    read = office_read(
        card(photo=b"\x01" * 1024, appended_address="新地址"), device_id="office-1", read_id="a" * 32, now=NOW,
        synced=True,
    )  # fmt: skip
    assert "photo" not in OfficeCardRead.model_fields
    assert read.address.endswith("新地址") and read.valid_to is None and read.problem is None


class Sent:
    def __init__(self, up: bool) -> None:
        self.up = up
        self.messages: list[tuple[Channel, bytes]] = []

    async def __call__(self, channel: Channel, payload: bytes) -> bool:
        if self.up:
            self.messages.append((channel, payload))
        return self.up


@pytest.mark.parametrize(("up", "outcome"), [(True, OfficeRead.CARD_READ), (False, OfficeRead.NOT_SENT)])
async def test_the_reader_sends_once_and_says_what_happened(
    up: bool, outcome: OfficeRead, caplog: pytest.LogCaptureFixture
) -> None:
    shown: list[OfficeRead] = []
    send = Sent(up)
    reader = OfficeReader(
        "office-1", send=send, now=lambda: NOW, synced=lambda: True, show=lambda o, _card: shown.append(o)
    )
    presented = card(5)
    with caplog.at_level(logging.DEBUG):
        read = await reader.read(presented)
    assert shown == [outcome]
    assert read is not None
    if up:
        [(channel, payload)] = send.messages
        assert channel is Channel.CARD_READ and decode(channel, payload) == read
    for secret in (presented.id_number, presented.name, presented.address):
        assert secret not in caplog.text


async def test_a_card_that_does_not_fit_the_message_is_not_sent() -> None:
    shown: list[OfficeRead] = []
    send = Sent(True)
    reader = OfficeReader(
        "office-1", send=send, now=lambda: NOW, synced=lambda: True, show=lambda o, _c: shown.append(o)
    )
    assert await reader.read(card(name="\x00" * 3)) is None
    assert shown == [OfficeRead.NOT_SENT] and send.messages == []

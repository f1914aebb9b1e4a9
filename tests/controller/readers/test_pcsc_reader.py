"""PcscReader against a real pcscd, the vpcd driver and virtual cards: the whole PC/SC path, no mocks.

pcscd notices a card arriving or leaving on its next slot poll (400 ms in pcsc-lite 1.9), so tests
wait on what the reader reports (``present``, ``stats``) rather than on fixed sleeps.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from controller.core.cards import CardUid, UidSource
from controller.readers.apdu import GET_ID_CARD_SERIAL, GET_UID, ApduError, NoResponse
from controller.readers.pcsc_reader import PcscReader, identify
from hardware.emulators.vicc import ATR_ISO14443A, ATR_ISO14443B, PULL_CARD, VirtualCard
from tests.support.card_stream import CardStream as Lane
from tests.support.card_stream import until
from tests.support.pcscd import PcscDaemon

pcscd = pytest.mark.pcscd

SERIAL = bytes.fromhex("0123456789ABCDEF")
UID7 = bytes.fromhex("04A1B2C3D4E5F6")
PUPI_ZERO = bytes(4)  # what FF CA gives for a resident ID card: useless
POLL = 0.1


def id_card(pcscd: PcscDaemon, slot: int = 0) -> VirtualCard:
    return VirtualCard(pcscd.ports[slot], atr=ATR_ISO14443B, id_serial=SERIAL, uid=PUPI_ZERO)


def site_card(
    pcscd: PcscDaemon, slot: int = 0, uid: bytes = UID7, responses: dict[bytes, bytes] | None = None
) -> VirtualCard:
    return VirtualCard(pcscd.ports[slot], atr=ATR_ISO14443A, uid=uid, responses=responses)


@pytest.fixture
async def lane(vpcd: PcscDaemon) -> AsyncIterator[Lane]:
    async with PcscReader(vpcd.readers[0], poll_timeout=POLL) as reader:
        running = Lane(reader)
        yield running
        await running.stop()


# -- identify() over the virtual card's answer function: no pcscd needed --------------------------


def test_identify_prefers_the_id_card_serial() -> None:
    card = VirtualCard(0, id_serial=SERIAL, uid=PUPI_ZERO)
    assert identify(card.answer, "r") == CardUid("0123456789ABCDEF", "r", UidSource.ID_CARD_SERIAL)
    assert card.apdus == []  # answer() is the pure part; apdus records what came over the socket


@pytest.mark.parametrize("refusal", [b"\x6d\x00", b"\x6e\x00", b"\x63\x00", b"\x6a\x81", b"\x01\x02\x90\x00"])
def test_identify_falls_back_to_the_uid_on_any_refusal(refusal: bytes) -> None:
    card = VirtualCard(0, uid=UID7, responses={GET_ID_CARD_SERIAL: refusal})
    assert identify(card.answer, "r") == CardUid("04A1B2C3D4E5F6", "r", UidSource.ISO14443A)


def test_identify_gives_up_when_the_card_goes() -> None:
    sent: list[bytes] = []

    def gone(apdu: bytes) -> bytes:
        sent.append(apdu)
        return b""

    with pytest.raises(NoResponse):
        identify(gone, "r")
    assert sent == [GET_ID_CARD_SERIAL]  # no second command to a card that has left


def test_identify_raises_the_uid_refusal() -> None:
    card = VirtualCard(0, uid=UID7, responses={GET_UID: b"\x69\x82"})
    with pytest.raises(ApduError, match="6982 security status not satisfied"):
        identify(card.answer, "r")


# -- the adapter over real pcscd + vpcd -------------------------------------------------------------


@pcscd
async def test_id_card_gives_its_physical_serial(lane: Lane, vpcd: PcscDaemon) -> None:
    with id_card(vpcd) as card:
        got = await lane.next_card()
    assert got == CardUid("0123456789ABCDEF", "Virtual PCD 00 00", UidSource.ID_CARD_SERIAL)
    assert card.apdus == [GET_ID_CARD_SERIAL]
    assert lane.source.healthy
    assert lane.source.fault is None


@pcscd
async def test_iso14443a_card_gives_its_uid(lane: Lane, vpcd: PcscDaemon) -> None:
    with site_card(vpcd) as card:
        got = await lane.next_card()
    assert got == CardUid("04A1B2C3D4E5F6", "Virtual PCD 00 00", UidSource.ISO14443A)
    assert card.apdus == [GET_ID_CARD_SERIAL, GET_UID]  # 00 36 refused (6D00), then FF CA
    assert lane.source.stats.swipes == 1
    assert lane.source.stats.apdu_errors == 0


@pcscd
async def test_card_left_on_the_reader_yields_once_and_again_after_reinsertion(
    lane: Lane, vpcd: PcscDaemon
) -> None:
    reader = lane.source
    card = site_card(vpcd, uid=bytes.fromhex("04A1B2C3"))
    card.insert()
    try:
        assert (await lane.next_card()).uid == "04A1B2C3"
        await asyncio.sleep(1.0)  # more than two pcscd slot polls and ten reader polls
        assert lane.cards.empty()
        assert len(card.apdus) == 2
        card.remove()
        await until(lambda: not reader.present)
        card.insert()
        assert (await lane.next_card()).uid == "04A1B2C3"
    finally:
        card.remove()
    assert reader.stats.swipes == 2


@pcscd
async def test_error_answers_are_counted_and_named_and_the_next_card_still_works(
    lane: Lane, vpcd: PcscDaemon, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="controller.readers.pcsc_reader")
    reader = lane.source
    bad_cards = [
        site_card(vpcd, responses={GET_UID: b"\x69\x82"}),  # error status word
        site_card(vpcd, responses={GET_UID: b"\x90"}),  # one byte: no status word
        site_card(vpcd, uid=bytes.fromhex("0102030405")),  # 9000, but no UID is 5 bytes long
    ]
    for n, card in enumerate(bad_cards, start=1):
        with card:
            await until(lambda n=n: reader.stats.apdu_errors == n)
        await until(lambda: not reader.present)
    assert lane.cards.empty()
    messages = [r.getMessage() for r in caplog.records]
    assert any("SecurityNotSatisfied: 6982 security status not satisfied" in m for m in messages)
    assert any("ShortResponse: response of 1 byte(s)" in m for m in messages)
    assert any("BadUidLength: iso14443a: 5 byte(s), expected 4/7/10" in m for m in messages)
    assert not any("0102030405" in m for m in messages)
    with site_card(vpcd):
        assert (await lane.next_card()).uid == "04A1B2C3D4E5F6"
    assert reader.stats.apdu_errors == 3
    assert reader.stats.card_lost == 0
    assert reader.healthy


@pcscd
async def test_card_pulled_mid_exchange_is_counted_and_the_next_card_works(
    lane: Lane, vpcd: PcscDaemon
) -> None:
    reader = lane.source
    with site_card(vpcd, responses={GET_UID: PULL_CARD}) as card:
        await until(lambda: reader.stats.card_lost == 1)
        await until(lambda: not reader.present)
        assert not card.inserted  # it closed its own socket mid-exchange
    assert lane.cards.empty()
    with site_card(vpcd):
        assert (await lane.next_card()).uid == "04A1B2C3D4E5F6"
    assert reader.stats.apdu_errors == 0
    assert reader.healthy
    assert not lane.task.done()


@pcscd
async def test_reader_filter_ignores_other_slots(vpcd: PcscDaemon) -> None:
    async with PcscReader(vpcd.readers[1], poll_timeout=POLL) as reader:
        lane = Lane(reader)
        try:
            with site_card(vpcd, slot=0):
                await until(lambda: reader.healthy)
                await asyncio.sleep(0.6)  # > one pcscd slot poll: the card is in slot 0 by now
                assert lane.cards.empty()
                with id_card(vpcd, slot=1):
                    got = await lane.next_card()
            assert got == CardUid("0123456789ABCDEF", "Virtual PCD 00 01", UidSource.ID_CARD_SERIAL)
        finally:
            await lane.stop()


@pcscd
async def test_no_matching_reader_is_a_fault_with_a_clear_message(vpcd: PcscDaemon) -> None:
    async with PcscReader("ACS ACR1252", name="lane-1", poll_timeout=POLL) as reader:
        lane = Lane(reader)
        try:
            await until(lambda: reader.fault is not None and "ACR1252" in reader.fault)
            assert reader.state.value == "fault"
            assert not reader.healthy
            assert reader.fault == (
                "no PC/SC reader named 'ACS ACR1252'… (pcscd lists: 'Virtual PCD 00 00', 'Virtual PCD 00 01')"
            )
            assert not lane.task.done()
        finally:
            await lane.stop()


@pcscd
async def test_pcscd_going_away_is_a_fault_and_the_reader_recovers(vpcd: PcscDaemon) -> None:
    if not vpcd.owned:
        pytest.skip("this pcscd was started by someone else: not ours to stop")
    async with PcscReader(vpcd.readers[0], poll_timeout=POLL) as reader:
        lane = Lane(reader)
        try:
            await until(lambda: reader.healthy)
            vpcd.stop()
            await until(lambda: not reader.healthy)
            assert reader.fault is not None
            assert reader.fault.startswith("pcscd")
            await asyncio.sleep(0.5)  # a few failed reconnects with backoff
            assert not lane.task.done()
            vpcd.start()
            await until(lambda: reader.healthy, within=5)
            with site_card(vpcd):
                assert (await lane.next_card()).uid == "04A1B2C3D4E5F6"
            assert reader.stats.reconnects >= 1
        finally:
            await lane.stop()
            if not vpcd.running:
                vpcd.start()


@pcscd
async def test_no_pcscd_at_start_is_a_fault(vpcd: PcscDaemon) -> None:
    if not vpcd.owned:
        pytest.skip("this pcscd was started by someone else: not ours to stop")
    vpcd.stop()
    try:
        async with PcscReader(poll_timeout=POLL) as reader:
            assert not reader.healthy
            assert reader.fault is not None
            assert reader.fault.startswith("pcscd not reachable: SCardEstablishContext: ")
            assert "0x8010001D" in reader.fault  # SCARD_E_NO_SERVICE
    finally:
        vpcd.start()

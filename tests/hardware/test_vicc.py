"""The virtual card driven by a stand-in for vpcd (a listening socket): the framing, byte for byte."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator

import pytest

from hardware.emulators.vicc import (
    ATR_ISO14443A,
    ATR_ISO14443B,
    GET_ID_CARD_SERIAL,
    GET_UID,
    PULL_CARD,
    VirtualCard,
    contactless_atr,
)


class FakeVpcd:
    """The driver's side of one slot: accept the card, send frames, read answers."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.conn: socket.socket | None = None

    def accept(self) -> None:
        self.listener.settimeout(2)
        self.conn, _ = self.listener.accept()
        self.conn.settimeout(2)

    def send(self, payload: bytes) -> None:
        assert self.conn is not None
        self.conn.sendall(struct.pack(">H", len(payload)))
        self.conn.sendall(payload)  # two segments, as vpcd does

    def receive(self) -> bytes:
        assert self.conn is not None
        header = self._exactly(2)
        return self._exactly(struct.unpack(">H", header)[0])

    def closed_by_card(self) -> bool:
        assert self.conn is not None
        return self.conn.recv(1) == b""

    def _exactly(self, n: int) -> bytes:
        assert self.conn is not None
        data = b""
        while len(data) < n:
            chunk = self.conn.recv(n - len(data))
            assert chunk, "card closed the connection"
            data += chunk
        return data

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.listener.close()


@pytest.fixture
def vpcd() -> Iterator[FakeVpcd]:
    fake = FakeVpcd()
    yield fake
    fake.close()


def test_atrs_carry_a_valid_check_byte() -> None:
    assert ATR_ISO14443A.hex().upper() == "3B8F8001804F0CA000000306030001000000006A"  # PC/SC part 3
    for atr in (ATR_ISO14443A, ATR_ISO14443B, contactless_atr(b"\x01\x02")):
        check = 0
        for byte in atr[1:]:
            check ^= byte
        assert check == 0


def test_controls_and_apdus(vpcd: FakeVpcd) -> None:
    with VirtualCard(vpcd.port, atr=ATR_ISO14443B, id_serial=bytes(range(8)), uid=bytes(4)) as card:
        vpcd.accept()
        vpcd.send(b"\x01")  # power on: no answer
        vpcd.send(b"\x04")
        assert vpcd.receive() == ATR_ISO14443B
        assert card.powered
        vpcd.send(GET_ID_CARD_SERIAL)
        assert vpcd.receive() == bytes(range(8)) + b"\x90\x00"
        vpcd.send(GET_UID)
        assert vpcd.receive() == bytes(4) + b"\x90\x00"
        vpcd.send(b"\x00\xa4\x04\x00")
        assert vpcd.receive() == b"\x6d\x00"
        vpcd.send(b"\x00")  # power off
        vpcd.send(b"\x04")
        assert vpcd.receive() == ATR_ISO14443B
        assert not card.powered
        assert card.apdus == [GET_ID_CARD_SERIAL, GET_UID, b"\x00\xa4\x04\x00"]
    assert vpcd.closed_by_card()  # leaving the with block removes the card


def test_defaults_for_a_card_without_numbers(vpcd: FakeVpcd) -> None:
    with VirtualCard(vpcd.port):
        vpcd.accept()
        vpcd.send(GET_ID_CARD_SERIAL)
        assert vpcd.receive() == b"\x6d\x00"
        vpcd.send(GET_UID)
        assert vpcd.receive() == b"\x6a\x81"


def test_overrides_answer_first_and_can_change_while_inserted(vpcd: FakeVpcd) -> None:
    with VirtualCard(vpcd.port, uid=b"\x04\x01\x02\x03", responses={GET_UID: b"\x90"}) as card:
        vpcd.accept()
        vpcd.send(GET_UID)
        assert vpcd.receive() == b"\x90"
        card.responses[GET_UID] = b"\x69\x82"
        vpcd.send(GET_UID)
        assert vpcd.receive() == b"\x69\x82"


def test_pull_card_drops_the_connection_mid_exchange(vpcd: FakeVpcd) -> None:
    with VirtualCard(vpcd.port, responses={GET_UID: PULL_CARD}) as card:
        vpcd.accept()
        vpcd.send(GET_UID)
        assert vpcd.closed_by_card()
        deadline = time.monotonic() + 2
        while card.inserted and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not card.inserted


def test_reinsertion_is_a_new_connection(vpcd: FakeVpcd) -> None:
    card = VirtualCard(vpcd.port, uid=b"\x04\x01\x02\x03")
    card.insert()
    vpcd.accept()
    first = vpcd.conn
    card.remove()
    assert vpcd.closed_by_card()
    card.insert()
    vpcd.accept()
    assert vpcd.conn is not first
    vpcd.send(GET_UID)
    assert vpcd.receive() == b"\x04\x01\x02\x03\x90\x00"
    card.remove()

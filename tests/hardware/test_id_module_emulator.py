"""The ID module emulator, driven over its pty with raw frames (no adapter in between)."""

from __future__ import annotations

import os
import random
import select
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import serial

from controller.readers.gat467.frames import (
    Command,
    FrameDiscarded,
    Response,
    ResponseDecoder,
    Status,
    encode_command,
)
from controller.readers.gat467.textblock import parse_read_reply, parse_text_block
from hardware.emulators.id_module import DEFAULT_SAM_ID, SYNTHETIC_PHOTO, IdModuleEmulator
from hardware.emulators.identities import synthetic_identity

pytestmark = pytest.mark.serial


class Host:
    """Just enough of a host to send one command and collect what comes back."""

    def __init__(self, port: str) -> None:
        self.port = serial.Serial(port, timeout=0.01, exclusive=True)
        self.decoder = ResponseDecoder()

    def send(self, command: int, timeout: float = 1.0) -> list[Response | FrameDiscarded]:
        self.port.write(encode_command(command))
        events: list[Response | FrameDiscarded] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.decoder.feed(self.port.read(self.port.in_waiting or 1))
            while (event := self.decoder.next_event()) is not None:
                events.append(event)
            if events:
                return events
        leftover = self.decoder.reset()
        return [leftover] if leftover else []

    def ask(self, command: int) -> Response:
        [reply] = self.send(command)
        assert isinstance(reply, Response)
        return reply


@pytest.fixture
def emu() -> Iterator[IdModuleEmulator]:
    with IdModuleEmulator() as emulator:
        yield emulator


@pytest.fixture
def host(emu: IdModuleEmulator) -> Iterator[Host]:
    h = Host(emu.port)
    yield h
    h.port.close()


def test_find_without_a_card_is_the_reference_failure_frame(emu: IdModuleEmulator) -> None:
    fd = os.open(emu.port, os.O_RDWR | os.O_NOCTTY)
    try:
        os.write(fd, bytes.fromhex("AA AA AA 96 69 00 03 20 01 22"))
        received = b""
        while len(received) < 11 and select.select([fd], [], [], 1.0)[0]:
            received += os.read(fd, 64)
    finally:
        os.close(fd)
    assert received == bytes.fromhex("AA AA AA 96 69 00 04 00 00 80 84")


def test_find_select_read_then_not_found_until_removed(emu: IdModuleEmulator, host: Host) -> None:
    card = synthetic_identity(random.Random(1))
    assert host.ask(Command.SELECT_CARD).sw3 == Status.SELECT_FAILED
    emu.present(card)
    assert host.ask(Command.FIND_CARD) == Response(0, 0, Status.FIND_OK, bytes(4))
    assert host.ask(Command.SELECT_CARD) == Response(0, 0, Status.OK, bytes(8))
    reply = host.ask(Command.READ_TEXT_PHOTO)
    assert reply.sw3 == Status.OK
    assert len(reply.data) == 4 + 256 + 1024
    text, photo, fingerprint = parse_read_reply(reply.data)
    assert parse_text_block(text) == card
    assert (photo, fingerprint) == (SYNTHETIC_PHOTO, None)
    assert host.ask(Command.READ_APPENDED_ADDRESS).sw3 == Status.NO_CONTENT
    for _ in range(3):
        assert host.ask(Command.FIND_CARD).sw3 == Status.FIND_FAILED
    emu.remove()
    emu.present(card)
    assert host.ask(Command.FIND_CARD).sw3 == Status.FIND_OK
    assert emu.reads_served == 1
    assert emu.commands_seen == 9


def test_fingerprint_read_and_appended_address(emu: IdModuleEmulator, host: Host) -> None:
    card = replace(synthetic_identity(random.Random(2)), appended_address="杭州市测试路9号")
    emu.present(card, photo=b"\x5a" * 1024)
    reply = host.ask(Command.READ_TEXT_PHOTO_FINGERPRINT)
    assert len(reply.data) == 6 + 256 + 1024 + 1024
    _, photo, fingerprint = parse_read_reply(reply.data)
    assert photo == b"\x5a" * 1024
    assert fingerprint is not None
    assert len(fingerprint) == 1024
    address = host.ask(Command.READ_APPENDED_ADDRESS)
    assert address.sw3 == Status.OK
    assert len(address.data) == 70


def test_sam_commands_and_unknown_commands(host: Host) -> None:
    assert host.ask(Command.RESET_SAM).sw3 == Status.OK
    assert host.ask(Command.SAM_STATUS).sw3 == Status.OK
    assert host.ask(Command.READ_SAM_ID) == Response(0, 0, Status.OK, DEFAULT_SAM_ID)
    assert host.ask(0x6001).sw3 == Status.COMMAND_ERROR
    assert host.ask(Command.READ_TEXT_PHOTO).sw3 == Status.READ_FAILED  # no card


def test_read_reply_is_paced_like_115200_baud(emu: IdModuleEmulator, host: Host) -> None:
    emu.present(synthetic_identity(random.Random(3)))
    started = time.monotonic()
    host.ask(Command.READ_TEXT_PHOTO)
    assert time.monotonic() - started >= 0.1  # 1295 bytes x 86.8 us = 112 ms


def test_corrupt_truncate_refuse_and_silence(emu: IdModuleEmulator, host: Host) -> None:
    emu.corrupt_next(command=Command.SAM_STATUS)
    assert host.ask(Command.FIND_CARD).sw3 == Status.FIND_FAILED  # other commands untouched
    [event] = host.send(Command.SAM_STATUS)
    assert isinstance(event, FrameDiscarded)
    assert event.reason.startswith("checksum")
    emu.truncate_next()
    [event] = host.send(Command.FIND_CARD, timeout=0.3)
    assert event == FrameDiscarded("truncated frame, header incomplete", 5)  # 5 of the 11 bytes
    emu.refuse_next(Status.SAM_NOT_AUTHORISED)
    assert host.ask(Command.SAM_STATUS).sw3 == Status.SAM_NOT_AUTHORISED
    emu.silence(True)
    assert host.send(Command.FIND_CARD, timeout=0.2) == []
    emu.silence(False)
    assert host.ask(Command.FIND_CARD).sw3 == Status.FIND_FAILED
    assert emu.commands_seen == 6


def test_a_damaged_card_fails_every_read_and_stays_in_the_field(emu: IdModuleEmulator, host: Host) -> None:
    card = synthetic_identity(random.Random(4))
    emu.present(card, fails_with=Status.READ_FAILED)
    for _ in range(2):
        assert host.ask(Command.FIND_CARD).sw3 == Status.FIND_OK  # never read, so found again
        assert host.ask(Command.SELECT_CARD).sw3 == Status.OK
        assert host.ask(Command.READ_TEXT_PHOTO).sw3 == Status.READ_FAILED
    assert emu.reads_served == 0
    emu.present(card)  # the same person's good card replaces it
    assert host.ask(Command.FIND_CARD).sw3 == Status.FIND_OK
    assert host.ask(Command.READ_TEXT_PHOTO).sw3 == Status.OK
    emu.present(card, fails_with=Status.READ_FAILED)
    emu.remove()  # leaving the field ends the damage with the card
    assert host.ask(Command.READ_TEXT_PHOTO).sw3 == Status.READ_FAILED  # no card at all now
    emu.present(card)
    assert host.ask(Command.READ_TEXT_PHOTO).sw3 == Status.OK


def test_unplugged_while_answering(emu: IdModuleEmulator, host: Host) -> None:
    emu.unplug_during(command=Command.READ_TEXT_PHOTO)
    emu.present(synthetic_identity(random.Random(5)))
    assert host.ask(Command.FIND_CARD).sw3 == Status.FIND_OK  # other commands untouched
    with pytest.raises(serial.SerialException):
        host.send(Command.READ_TEXT_PHOTO, timeout=2)  # half a reply, then the port dies
    emu.close()  # still safe to close, and it waits for the serving thread
    assert not emu.alive


def test_raw_blocks_can_be_presented(emu: IdModuleEmulator, host: Host) -> None:
    emu.present(bytes(256))
    reply = host.ask(Command.READ_TEXT_PHOTO)
    assert parse_read_reply(reply.data)[0] == bytes(256)


def test_close_stops_the_thread_and_the_port_dies() -> None:
    emulator = IdModuleEmulator()
    host = Host(emulator.port)
    assert emulator.alive
    emulator.close()
    emulator.close()  # idempotent
    assert not emulator.alive

    def poke() -> None:
        for _ in range(3):
            host.port.write(encode_command(Command.FIND_CARD))
            host.port.read(1)

    with pytest.raises(serial.SerialException):
        poke()
    host.port.close()

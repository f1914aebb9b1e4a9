"""A GA/T 467 ID module on a pseudo-terminal, for tests and demos without the hardware.

The adapter opens :attr:`IdModuleEmulator.port` with pyserial exactly as it would open
``/dev/ttyUSB0``, so the whole serial path (open, termios, reads that time out, a port that dies)
is exercised for real. Replies are real frames, paced like 115200 baud because a pty delivers
instantly and a 113 ms read reply is part of what the adapter must cope with. Test hooks inject the
faults a real link shows: corrupt, truncated and missing replies, and refusals with a given status.
"""

from __future__ import annotations

import os
import pty
import select
import threading
import time
import tty
from dataclasses import dataclass
from types import TracebackType
from typing import Final, Self

from controller.core.cards import IdentityCard
from controller.readers.gat467.frames import (
    HEADER_LEN,
    Command,
    CommandDecoder,
    CommandFrame,
    FrameDiscarded,
    Status,
    encode_response,
)
from controller.readers.gat467.textblock import (
    build_read_reply,
    encode_appended_address,
    encode_text_block,
)

BYTE_TIME: Final = 10 / 115200  # 8N1: ten bit times a byte, ≈ 86.8 µs
CHUNK: Final = 64
POLL: Final = 0.02
SYNTHETIC_PHOTO: Final = bytes((i * 37 + 11) & 0xFF for i in range(1024))
SYNTHETIC_FINGERPRINT: Final = bytes((i * 53 + 7) & 0xFF for i in range(1024))
DEFAULT_SAM_ID: Final = bytes.fromhex("0501000020260101000000000000C0DE")


@dataclass
class _Fault:
    kind: str  # "corrupt", "truncate", "refuse" or "unplug"
    command: int | None
    status: int = 0


class IdModuleEmulator:
    """A card field plus a module: ``present()`` a card, and the host finds, selects and reads it.

    Like the real module, a card that has been read is not found again until it leaves the field
    (``remove()``) and comes back (``present()``; presenting while a card is there counts as a new
    card entering). ``present`` also takes a raw 256-byte block, to test unreadable cards.
    """

    def __init__(self, *, sam_id: bytes = DEFAULT_SAM_ID, pace: bool = True) -> None:
        self.sam_id = sam_id
        self.pace = pace
        self.commands_seen = 0
        self.reads_served = 0
        self._lock = threading.Lock()
        self._card: IdentityCard | bytes | None = None
        self._photo = SYNTHETIC_PHOTO
        self._read = False
        self._fails_with: int | None = None
        self._silent = False
        self._faults: list[_Fault] = []
        self._unplugging = False
        self._stop = threading.Event()
        self._fds_lock = threading.Lock()
        self._fds_open = True
        self._master, self._slave = pty.openpty()
        tty.setraw(self._master)
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.port: str = os.ttyname(self._slave)
        self._thread = threading.Thread(target=self._serve, name="id-module-emulator", daemon=True)
        self._thread.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop answering and close both ends; the host's open port then fails as if unplugged."""
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=2)
        with self._fds_lock:
            if not self._fds_open:
                return
            self._fds_open = False
        os.close(self._master)
        os.close(self._slave)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def present(
        self, card: IdentityCard | bytes, photo: bytes | None = None, *, fails_with: int | None = None
    ) -> None:
        """A card enters the field. ``fails_with`` makes it a damaged card: every read of it is
        answered with that SW3 (e.g. ``Status.READ_FAILED``), and since it is never read it stays
        found and selectable, as long as it is in the field."""
        with self._lock:
            self._card = card
            own_photo = card.photo if isinstance(card, IdentityCard) else b""
            self._photo = photo if photo is not None else own_photo or SYNTHETIC_PHOTO
            self._read = False
            self._fails_with = fails_with

    def remove(self) -> None:
        with self._lock:
            self._card = None
            self._fails_with = None

    def corrupt_next(self, n: int = 1, *, command: int | None = None) -> None:
        """Flip a byte in the next ``n`` replies (to ``command`` only, if given): checksum fails."""
        self._add_faults("corrupt", n, command)

    def truncate_next(self, n: int = 1, *, command: int | None = None) -> None:
        """Send only the first half of the next ``n`` replies."""
        self._add_faults("truncate", n, command)

    def refuse_next(self, status: int, n: int = 1, *, command: int | None = None) -> None:
        """Answer the next ``n`` commands with SW3 ``status`` and no data."""
        self._add_faults("refuse", n, command, status)

    def unplug_during(self, *, command: int | None = None) -> None:
        """Pull the plug while answering the next command (``command`` only, if given): the first
        half of the reply goes out, then the module is gone as after :meth:`close`."""
        self._add_faults("unplug", 1, command)

    def silence(self, silent: bool = True) -> None:
        """While silent, commands are counted but never answered."""
        with self._lock:
            self._silent = silent

    def _add_faults(self, kind: str, n: int, command: int | None, status: int = 0) -> None:
        with self._lock:
            self._faults.extend(_Fault(kind, command, status) for _ in range(n))

    def _serve(self) -> None:
        decoder = CommandDecoder()
        while not self._stop.is_set():
            readable, _, _ = select.select([self._master], [], [], POLL)
            if not readable:
                continue
            try:
                decoder.feed(os.read(self._master, 4096))
            except BlockingIOError:
                continue
            except OSError:
                return
            while (event := decoder.next_event()) is not None:
                if isinstance(event, FrameDiscarded):
                    continue
                reply = self._reply_to(event)
                if reply:
                    self._send(reply)
                if self._unplugging:
                    self.close()  # from this thread: no join, the loop ends here
                    return

    def _reply_to(self, frame: CommandFrame) -> bytes:
        with self._lock:
            self.commands_seen += 1
            if self._silent:
                return b""
            fault = self._take_fault(frame.command)
            if fault is not None and fault.kind == "refuse":
                return encode_response(fault.status)
            reply = self._answer(frame.command)
        if fault is None:
            return reply
        if fault.kind in ("truncate", "unplug"):
            self._unplugging = fault.kind == "unplug"
            return reply[: len(reply) // 2]
        flipped = bytearray(reply)
        flipped[HEADER_LEN + (len(reply) - HEADER_LEN - 1) // 2] ^= 0xFF  # a body byte, never LEN
        return bytes(flipped)

    def _take_fault(self, command: int) -> _Fault | None:
        for index, fault in enumerate(self._faults):
            if fault.command is None or fault.command == command:
                return self._faults.pop(index)
        return None

    def _answer(self, command: int) -> bytes:
        card = self._card
        damaged = self._fails_with
        match command:
            case Command.RESET_SAM | Command.SAM_STATUS:
                return encode_response(Status.OK)
            case Command.READ_SAM_ID:
                return encode_response(Status.OK, self.sam_id)
            case Command.FIND_CARD if card is not None and not self._read:
                return encode_response(Status.FIND_OK, bytes(4))
            case Command.FIND_CARD:
                return encode_response(Status.FIND_FAILED)
            case Command.SELECT_CARD:
                return encode_response(Status.OK, bytes(8)) if card else encode_response(Status.SELECT_FAILED)
            case Command.READ_TEXT_PHOTO | Command.READ_TEXT_PHOTO_FINGERPRINT if damaged is not None:
                return encode_response(damaged)
            case Command.READ_TEXT_PHOTO | Command.READ_TEXT_PHOTO_FINGERPRINT if card is not None:
                self._read = True
                self.reads_served += 1
                text = card if isinstance(card, bytes) else encode_text_block(card)
                fingerprint = None
                if command == Command.READ_TEXT_PHOTO_FINGERPRINT:
                    own = card.fingerprint if isinstance(card, IdentityCard) else None
                    fingerprint = own or SYNTHETIC_FINGERPRINT
                return encode_response(Status.OK, build_read_reply(text, self._photo, fingerprint))
            case Command.READ_TEXT_PHOTO | Command.READ_TEXT_PHOTO_FINGERPRINT:
                return encode_response(Status.READ_FAILED)
            case Command.READ_APPENDED_ADDRESS:
                address = card.appended_address if isinstance(card, IdentityCard) else None
                if address:
                    return encode_response(Status.OK, encode_appended_address(address))
                return encode_response(Status.NO_CONTENT)
        return encode_response(Status.COMMAND_ERROR)

    def _send(self, reply: bytes) -> None:
        """Write like a UART would: a chunk at a time, each taking its time on the wire."""
        for start in range(0, len(reply), CHUNK):
            chunk = reply[start : start + CHUNK]
            while chunk and not self._stop.is_set():
                try:
                    chunk = chunk[os.write(self._master, chunk) :]
                except BlockingIOError:
                    select.select([], [self._master], [], POLL)
                except OSError:
                    return
            if self.pace:
                time.sleep(len(reply[start : start + CHUNK]) * BYTE_TIME)

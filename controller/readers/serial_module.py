"""The pyserial adapter for a GA/T 467 ID module: the only code here that touches a port.

Everything protocol-shaped lives in :mod:`controller.readers.gat467` (pure); this module does the
blocking I/O in a worker thread, one command/reply transaction at a time, and turns the module's
find -> select -> read cycle into an async stream of cards. A bad frame or an unreadable block is
logged (reason only: the bytes may hold personal data), counted and skipped. A lost port is a fault
that an explicit reconnect loop with backoff repairs, so one glitch never stops the lane.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Final, Self

import serial

from controller.core.cards import IdentityCard, ReadFailure
from controller.readers.gat467.faults import Gat467Error, NoReply, ReplyRejected, status_error
from controller.readers.gat467.frames import (
    GARBAGE,
    Command,
    FrameDiscarded,
    Response,
    ResponseDecoder,
    Status,
    encode_command,
)
from controller.readers.gat467.textblock import parse_appended_address, parse_read_reply, parse_text_block
from controller.readers.lifecycle import ReaderLifecycle
from wire.models import ReaderState

# Vendor timeouts (see the reference): find and select are quick, a read moves 1295 bytes at 115200.
FIND_TIMEOUT: Final = 0.1
SELECT_TIMEOUT: Final = 0.1
READ_TIMEOUT: Final = 2.0
ADDRESS_TIMEOUT: Final = 0.5
SAM_TIMEOUT: Final = 0.5
READ_SLICE: Final = 0.01
"""How long one blocking read may wait, so a transaction notices its deadline promptly."""
WRITE_TIMEOUT: Final = 1.0
SILENT_POLLS: Final = 5
"""Unanswered finds in a row after which an open port with a mute module counts as a fault."""
BACKOFF_FIRST: Final = 0.2
BACKOFF_MAX: Final = 5.0

DiscardSink = Callable[[FrameDiscarded], None]

OPEN_ERRORS: Final = (OSError, ValueError)
"""What opening a port raises: SerialException (an OSError) for a missing or busy port, OSError
from termios, ValueError for settings pyserial refuses (a baud rate of -1). Each is a reader
fault, retried with backoff; none may end the lane."""


@dataclass
class ModuleStats:
    frames_discarded: int = 0
    reads_ok: int = 0
    read_errors: int = 0
    reconnects: int = 0


def transact(
    port: serial.Serial,
    decoder: ResponseDecoder,
    command: Command,
    timeout: float,
    on_discard: DiscardSink,
) -> Response | None:
    """Send one command and wait for its reply; ``None`` if none arrived whole within ``timeout``.

    Blocking: run it in a worker thread. Bytes left over from an earlier, late reply are dropped
    first so they cannot pass for this command's answer. A rejected frame (bad checksum or length)
    ends the wait at once with :class:`ReplyRejected` saying why: the module has answered and will
    not send a second reply, and "no reply" would hide the cause. Serial errors propagate; the
    caller owns reconnection.
    """
    stale = port.in_waiting
    if stale:
        port.read(stale)
        on_discard(FrameDiscarded("stale bytes before command", stale))
    deadline = time.monotonic() + timeout
    port.write(encode_command(command))
    try:
        while True:
            event = decoder.next_event()
            if isinstance(event, Response):
                return event
            if isinstance(event, FrameDiscarded):
                on_discard(event)
                if event.reason != GARBAGE:
                    raise ReplyRejected(command, event.reason)
                continue
            if time.monotonic() >= deadline:
                return None
            chunk = port.read(port.in_waiting or 1)
            if chunk:
                decoder.feed(chunk)
    finally:
        leftover = decoder.reset()
        if leftover is not None:
            on_discard(leftover)


def decode_card(reply: Response | None, command: Command = Command.READ_TEXT_PHOTO) -> IdentityCard:
    """The card in a read reply, or a :class:`Gat467Error` saying why there is none."""
    if reply is None:
        raise NoReply(command, READ_TIMEOUT)
    if reply.sw3 != Status.OK:
        raise status_error(reply.sw3, command)
    text, photo, fingerprint = parse_read_reply(reply.data)
    return parse_text_block(text, photo, fingerprint)


class SerialIdModule(ReaderLifecycle):
    """One ID module on one serial port, as an async context manager yielding cards.

    ``serial_factory`` is the hardware seam (gpiozero's ``pin_factory`` idea): tests pass one that
    opens an emulator's pty. A card left on the reader is read once: the module will not find it again
    until it leaves, and as a second guard the same ID number is not yielded twice in a row unless a
    find or a read has failed in between.
    """

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 115200,
        poll_interval: float = 0.15,
        serial_factory: Callable[..., serial.Serial] = serial.Serial,
        logger: logging.Logger | None = None,
        name: str = "id_module",
    ) -> None:
        super().__init__(name)
        self.port = port
        self._baudrate = baudrate
        self._poll_interval = poll_interval
        self._factory = serial_factory
        self._log = logger or logging.getLogger(__name__)
        self.stats = ModuleStats()
        self._serial: serial.Serial | None = None
        self._decoder = ResponseDecoder()
        self._io_lock = threading.Lock()  # held by a worker thread for a whole transaction
        self._backoff = BACKOFF_FIRST
        self._attempted = False
        self._opened_once = False
        self._last_id: str | None = None
        self._reading = False
        """A read cycle found a card and has not finished with it."""
        self._unanswered = 0

    async def __aenter__(self) -> Self:
        try:
            await self._open()
        except OPEN_ERRORS as err:
            self._set_fault(self._open_failed(err))
        return self

    async def cards(self) -> AsyncIterator[IdentityCard | ReadFailure]:
        """Poll forever; yields each card once. Faults are reported through ``healthy``/``fault``;
        a port lost while a card was being read is also a :class:`ReadFailure`, so the person at
        the lane is asked for the card again instead of facing a dark lane."""
        while True:
            if self._serial is None:
                await self._reconnect()
            try:
                card = await self._read_cycle()
            except OSError as err:
                self._set_fault(err)
                await asyncio.to_thread(self._close)
                if self._reading:
                    self._reading = False
                    self._last_id = None  # that swipe was never decided: the card again is a new one
                    self.stats.read_errors += 1
                    yield ReadFailure(
                        self.name, f"port {self.port} lost during the read: {type(err).__name__}: {err}"
                    )
                continue
            if card is not None:
                yield card
            await asyncio.sleep(self._poll_interval)

    async def probe(self) -> str:
        """SAM status, then the SAM id as hex: proof the module and its SAM answer (for selftest)."""
        if self._serial is None:
            await self._open()
        await self._expect_ok(Command.SAM_STATUS, SAM_TIMEOUT)
        reply = await self._expect_ok(Command.READ_SAM_ID, SAM_TIMEOUT)
        return reply.data.hex().upper()

    async def _read_cycle(self) -> IdentityCard | ReadFailure | None:
        self._reading = False
        found = await self._poll_command(Command.FIND_CARD, FIND_TIMEOUT)
        self._note_answer(found is not None)
        if found is None:
            return None
        if found.sw3 != Status.FIND_OK:
            self._last_id = None
            return None
        self._reading = True  # a card is in the field: losing the port from here on loses a swipe
        selected = await self._poll_command(Command.SELECT_CARD, SELECT_TIMEOUT)
        if selected is None or selected.sw3 != Status.OK:
            return None
        try:
            card = decode_card(await self._command(Command.READ_TEXT_PHOTO, READ_TIMEOUT))
        except Gat467Error as err:
            self.stats.read_errors += 1
            self._log.warning("ID module: card not read: %s", err)
            # Some card was in the field, perhaps another person's, and the lane is about to ask for
            # a card again: whatever is read next is a new swipe, even the card read before this one.
            self._last_id = None
            return ReadFailure(self.name, str(err))
        self.stats.reads_ok += 1
        if card.id_number == self._last_id:
            self._log.debug("ID module: same card again without leaving the field; not repeated")
            return None
        self._last_id = card.id_number
        return await self._with_appended_address(card)

    def _note_answer(self, answered: bool) -> None:
        """Health tracks whether the module talks, not just whether the port is open."""
        if answered:
            self._unanswered = 0
            self._backoff = BACKOFF_FIRST  # the link works: the next fault starts from scratch
            if self.state is not ReaderState.OK:
                self._log.info("ID module on %s answers again", self.port)
            self.state, self._fault = ReaderState.OK, None
            return
        self._unanswered += 1
        if self._unanswered == SILENT_POLLS:
            self.state = ReaderState.FAULT
            self._fault = f"no reply to {SILENT_POLLS} finds in a row"
            self._log.warning("ID module on %s: %s", self.port, self._fault)

    async def _with_appended_address(self, card: IdentityCard) -> IdentityCard:
        reply = await self._poll_command(Command.READ_APPENDED_ADDRESS, ADDRESS_TIMEOUT)
        if reply is None or reply.sw3 != Status.OK:
            return card  # 91 (NO_CONTENT) is the common case: no address was ever appended
        try:
            return replace(card, appended_address=parse_appended_address(reply.data))
        except Gat467Error as err:
            self._log.warning("ID module: appended address ignored: %s", err)
            return card

    async def _expect_ok(self, command: Command, reply_within: float) -> Response:
        reply = await self._command(command, reply_within)
        if reply is None:
            raise NoReply(command, reply_within)
        if reply.sw3 != Status.OK:
            raise status_error(reply.sw3, command)
        return reply

    async def _command(self, command: Command, reply_within: float) -> Response | None:
        """The reply, or ``None`` on a timeout; :class:`ReplyRejected` when the reply was garbled."""
        return await asyncio.to_thread(self._transact_locked, command, reply_within)

    async def _poll_command(self, command: Command, reply_within: float) -> Response | None:
        """For the steps a later poll simply repeats (find, select, the optional address): a garbled
        reply (already logged and counted as a discard) is no usable answer, like a timeout."""
        try:
            return await self._command(command, reply_within)
        except ReplyRejected:
            return None

    def _transact_locked(self, command: Command, timeout: float) -> Response | None:
        with self._io_lock:
            if self._serial is None:
                raise serial.SerialException("port is closed")
            return transact(self._serial, self._decoder, command, timeout, self._discarded)

    def _discarded(self, event: FrameDiscarded) -> None:
        self.stats.frames_discarded += 1
        self._log.warning("ID module: %d bytes discarded: %s", event.discarded, event.reason)

    async def _open(self) -> None:
        self._attempted = True
        port = await asyncio.to_thread(
            self._factory,
            self.port,
            baudrate=self._baudrate,
            timeout=READ_SLICE,
            write_timeout=WRITE_TIMEOUT,
            exclusive=True,
        )
        with self._io_lock:
            self._serial = port
            self._decoder.reset()
        if self._opened_once:
            self.stats.reconnects += 1
            self._log.info("ID module: port %s reopened", self.port)
        self._opened_once = True
        self._unanswered = 0
        self.state, self._fault = ReaderState.OK, None

    async def _reconnect(self) -> None:
        while self._serial is None:
            if self._attempted:  # the first open, when the caller skipped __aenter__, is not delayed
                await asyncio.sleep(self._backoff)
                self._backoff = min(self._backoff * 2, BACKOFF_MAX)
            try:
                await self._open()
            except OPEN_ERRORS as err:
                self._set_fault(self._open_failed(err))

    def _open_failed(self, err: Exception) -> str:
        """What a site manager needs to fix a port that will not open: which port, which setting."""
        return (
            f"cannot open {self.port} at {self._baudrate} baud (port and baudrate in [readers.id_module]):"
            f" {type(err).__name__}: {err}"
        )

    def _set_fault(self, err: OSError | str) -> None:
        self.state = ReaderState.FAULT
        self._fault = err if isinstance(err, str) else f"{type(err).__name__}: {err}"
        self._log.warning("ID module on %s: %s; retrying in %.1f s", self.port, self._fault, self._backoff)

    def _close(self) -> None:
        with self._io_lock:
            port, self._serial = self._serial, None
        if port is not None:
            try:
                port.close()
            except OSError as err:
                self._log.debug("ID module: close failed: %s", err)

"""The pyscard adapter for PC/SC contactless readers: the only code here that talks to pcscd.

pyscard is the standard Python binding for PC/SC (pcsc-lite on the Pi, WinSCard elsewhere), so one
adapter serves any CCID contactless reader. What the APDUs mean lives in
:mod:`controller.readers.apdu` (pure); this module waits for cards, runs the exchange in a worker
thread and turns it into an async stream of :class:`CardUid`.

How insertion is seen: a ``CardRequest`` with a short timeout whose ``waitforcardevent`` runs in a
worker thread, one poll at a time, rather than ``CardMonitor``. The monitor is a process-wide
singleton whose thread prints a traceback and stops for good when pcscd goes away, with nothing to
tell its observers, so a lane would go deaf silently; a request we own fails into our reconnect loop
instead. Its reader states persist between calls, so no insertion falls between two waits, and the
timeout bounds how long shutdown waits for the thread. New cards are the readers that hold a card now
and did not at the previous event: a card left on the reader is read once, and must be seen gone by
pcscd (one slot poll) before it counts again.

The exchange itself uses pyscard's low-level ``smartcard.scard`` (SCardConnect/SCardTransmit), not
``CardConnection.transmit``: that one turns every answer shorter than two bytes into one generic
exception, while vpcd, like some readers, reports a card pulled mid-exchange as an *empty* answer.
Raw bytes let :func:`~controller.readers.apdu.parse_response` tell "gone" from "answered badly".

Failures keep the lane running: a refused or malformed answer is logged with its named status word
and counted, a card that leaves mid-exchange is counted, and a missing reader or a stopped pcscd sets
``state`` to FAULT and is retried with backoff. Log lines never carry the number: it maps to a person.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Final, Self

from smartcard import scard
from smartcard.CardRequest import CardRequest
from smartcard.Exceptions import CardRequestTimeoutException, SmartcardException

from controller.core.cards import CardUid, ReadFailure, UidSource
from controller.readers.apdu import (
    GET_ID_CARD_SERIAL,
    GET_UID,
    ApduError,
    NoResponse,
    uid_from_response,
)
from controller.readers.lifecycle import ReaderLifecycle
from wire.models import ReaderState

BACKOFF_FIRST: Final = 0.2
BACKOFF_MAX: Final = 5.0
PROTOCOLS: Final = scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1

Transmit = Callable[[bytes], bytes]
"""Send one C-APDU, return the raw R-APDU (status word included)."""


@dataclass
class PcscStats:
    swipes: int = 0
    apdu_errors: int = 0
    card_lost: int = 0
    reconnects: int = 0


class PcscError(Exception):
    """A PC/SC call that failed on our side of the air gap (pcscd, the reader, the link to the card)."""

    def __init__(self, call: str, hresult: int) -> None:
        self.call = call
        self.hresult = hresult
        message = scard.SCardGetErrorMessage(hresult).rstrip(". ")
        super().__init__(f"{call}: {message} (0x{hresult & 0xFFFFFFFF:08X})")


class CardLost(PcscError):
    """Connecting to the card or exchanging an APDU failed: as a rule, it left the field."""


class NoMatchingReader(Exception):
    """pcscd runs, but lists no reader this adapter may use."""

    def __init__(self, prefix: str | None, readers: list[str]) -> None:
        self.prefix = prefix
        self.readers = readers
        wanted = "no PC/SC reader" if prefix is None else f"no PC/SC reader named {prefix!r}…"
        listed = ", ".join(repr(name) for name in readers) or "none"
        super().__init__(f"{wanted} (pcscd lists: {listed})")


@dataclass(frozen=True, slots=True)
class NotRead:
    """A card that was seen but not read, and why."""

    reader: str
    error: ApduError | PcscError


def identify(transmit: Transmit, reader: str) -> CardUid:
    """The card's number: its ID card serial if it answers ``00 36``, else its ISO 14443-A UID.

    Any refusal of ``00 36`` means "not an ID card" (readers and MIFARE cards word it differently:
    6D00, 6A81, 6300...), but an empty answer means the card has gone and is raised as it is.
    """
    try:
        serial = uid_from_response(transmit(GET_ID_CARD_SERIAL), UidSource.ID_CARD_SERIAL)
    except NoResponse:
        raise
    except ApduError:
        pass
    else:
        return CardUid(serial, reader, UidSource.ID_CARD_SERIAL)
    return CardUid(uid_from_response(transmit(GET_UID), UidSource.ISO14443A), reader, UidSource.ISO14443A)


@contextlib.contextmanager
def connected(context: int, reader: str) -> Iterator[Transmit]:
    """A shared connection to the card in ``reader``; any failure is :class:`CardLost`.

    If pcscd itself is gone the next wait for cards says so; here it only loses this card.
    """
    hresult, handle, protocol = scard.SCardConnect(context, reader, scard.SCARD_SHARE_SHARED, PROTOCOLS)
    if hresult != scard.SCARD_S_SUCCESS:
        raise CardLost("SCardConnect", hresult)

    def transmit(apdu: bytes) -> bytes:
        hresult, response = scard.SCardTransmit(handle, protocol, list(apdu))
        if hresult != scard.SCARD_S_SUCCESS:
            raise CardLost("SCardTransmit", hresult)
        return bytes(response)

    try:
        yield transmit
    finally:
        scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)  # may fail if the card left: nothing to do


class PcscReader(ReaderLifecycle):
    """The PC/SC readers whose names start with ``reader_name_prefix`` (all, if ``None``), as cards.

    An async context manager; :meth:`cards` yields each new card once. ``present`` names the readers
    holding a card at the last event (tests wait on it; a heartbeat could report it).
    """

    def __init__(
        self,
        reader_name_prefix: str | None = None,
        *,
        name: str = "pcsc",
        poll_timeout: float = 0.5,
        logger: logging.Logger | None = None,
    ) -> None:
        super().__init__(name)
        self.reader_name_prefix = reader_name_prefix
        self._poll_timeout = poll_timeout
        self._log = logger or logging.getLogger(__name__)
        self.stats = PcscStats()
        self._lock = threading.Lock()  # held by a worker thread for a whole poll
        self._context: int | None = None
        self._request: CardRequest | None = None
        self._present: frozenset[str] = frozenset()
        self._backoff = BACKOFF_FIRST
        self._attempted = False
        self._opened_once = False

    @property
    def present(self) -> frozenset[str]:
        return self._present

    async def __aenter__(self) -> Self:
        await self._try_open()
        return self

    async def cards(self) -> AsyncIterator[CardUid | ReadFailure]:
        """Wait forever; yields each new card once. Faults are reported through ``healthy``/``fault``."""
        while True:
            if self._request is None:
                await self._reconnect()
            try:
                outcomes = await asyncio.to_thread(self._poll)
            except NoMatchingReader as err:
                self._set_fault(str(err))
                await self._back_off()
                continue
            except (SmartcardException, PcscError) as err:
                self._set_fault(f"pcscd: {err}")
                await asyncio.to_thread(self._close)
                continue
            self._set_ok()
            for outcome in outcomes:
                if isinstance(outcome, CardUid):
                    self.stats.swipes += 1
                    yield outcome
                else:
                    self._not_read(outcome)
                    yield ReadFailure(outcome.reader, f"{type(outcome.error).__name__}: {outcome.error}")

    def _poll(self) -> list[CardUid | NotRead]:
        """One wait for a card event (worker thread), then every newly arrived card read."""
        with self._lock:
            request, context = self._request, self._context
            if request is None or context is None:
                return []  # closed while this call was queued
            self._require_reader(context)
            try:
                cards = request.waitforcardevent()
            except CardRequestTimeoutException:
                return []
            holding = frozenset(str(card.reader) for card in cards if self._wanted(str(card.reader)))
            arrived = sorted(holding - self._present)
            self._present = holding
            return [self._read(context, reader) for reader in arrived]

    def _read(self, context: int, reader: str) -> CardUid | NotRead:
        try:
            with connected(context, reader) as transmit:
                return identify(transmit, reader)
        except (ApduError, PcscError) as err:
            return NotRead(reader, err)

    def _require_reader(self, context: int) -> None:
        hresult, names = scard.SCardListReaders(context, [])
        if hresult == scard.SCARD_E_NO_READERS_AVAILABLE:
            names = []
        elif hresult != scard.SCARD_S_SUCCESS:
            raise PcscError("SCardListReaders", hresult)
        self._present &= frozenset(names)  # an unplugged reader holds no card: its next one is new
        if not any(self._wanted(name) for name in names):
            raise NoMatchingReader(self.reader_name_prefix, list(names))

    def _wanted(self, reader: str) -> bool:
        return self.reader_name_prefix is None or reader.startswith(self.reader_name_prefix)

    def _not_read(self, failure: NotRead) -> None:
        error = failure.error
        if isinstance(error, CardLost | NoResponse):
            self.stats.card_lost += 1
            self._log.warning("PC/SC %s: card left during the exchange: %s", failure.reader, error)
        else:
            self.stats.apdu_errors += 1
            self._log.warning("PC/SC %s: card not read: %s: %s", failure.reader, type(error).__name__, error)

    async def _try_open(self) -> None:
        try:
            await asyncio.to_thread(self._open)
        except (SmartcardException, PcscError) as err:
            self._set_fault(f"pcscd not reachable: {err}")

    def _open(self) -> None:
        self._attempted = True
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            raise PcscError("SCardEstablishContext", hresult)
        try:
            request = CardRequest(timeout=self._poll_timeout)
        except SmartcardException:
            scard.SCardReleaseContext(context)
            raise
        with self._lock:
            self._context, self._request = context, request
        if self._opened_once:
            self.stats.reconnects += 1
            self._log.info("PC/SC: connected to pcscd again")
        self._opened_once = True

    async def _reconnect(self) -> None:
        while self._request is None:
            if self._attempted:  # the first open, when the caller skipped __aenter__, is not delayed
                await self._back_off()
            await self._try_open()

    async def _back_off(self) -> None:
        await asyncio.sleep(self._backoff)
        self._backoff = min(self._backoff * 2, BACKOFF_MAX)

    def _set_ok(self) -> None:
        if self.state is not ReaderState.OK:
            self._log.info("PC/SC reader %s ready", self.reader_name_prefix or "(any)")
        self.state, self._fault = ReaderState.OK, None
        self._backoff = BACKOFF_FIRST  # it works: the next fault starts from scratch

    def _set_fault(self, fault: str) -> None:
        if fault != self._fault or self.state is not ReaderState.FAULT:
            self._log.warning("PC/SC %s: %s; retrying in %.1f s", self.name, fault, self._backoff)
        self.state, self._fault = ReaderState.FAULT, fault

    def _close(self) -> None:
        """Release both contexts (waiting for a running poll, at most ``poll_timeout``, to end).
        Readers holding a card stay in ``present``: not read again on reopen."""
        with self._lock:
            request, self._request = self._request, None
            context, self._context = self._context, None
        if request is not None:
            try:
                request.__exit__(None, None, None)  # releases its PC/SC context
            except SmartcardException as err:  # pcscd went away and took the context with it
                self._log.debug("PC/SC: releasing the card request failed: %s", err)
                request.pcsccardrequest.hcontext = None  # or pyscard's __del__ fails again, unseen
        if context is not None:
            scard.SCardReleaseContext(context)

"""GA/T 467 serial frames: build them, and cut a byte stream back into them.

Sans-I/O in the h11 manner: a decoder is fed whatever bytes the port produced and hands back whole
frames one at a time, or ``None`` while a frame is still incomplete. It never raises on bad input:
line noise, a corrupt checksum or an impossible length come back as :class:`FrameDiscarded`, so the
adapter can count and log them and carry on; a turnstile must not stop for one bad frame.

Frame: ``AA AA AA 96 69 | LEN (2, big-endian) | body | CHK``. LEN counts the body and the checksum;
CHK is the XOR of the LEN bytes and the body. A command's body is ``CMD PARA DATA``, a response's is
``SW1 SW2 SW3 DATA``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from functools import reduce
from operator import xor
from typing import ClassVar, Final, Generic, TypeVar

PREAMBLE: Final = bytes.fromhex("AAAAAA9669")
HEADER_LEN: Final = len(PREAMBLE) + 2
MAX_FRAME_LEN: Final = 4096
"""Largest LEN accepted; the biggest real reply (text + photo + fingerprint) has LEN 0x090A."""
MAX_BUFFER: Final = 4 * (HEADER_LEN + MAX_FRAME_LEN)
"""Unread bytes a decoder keeps; beyond this the oldest are dropped and reported."""
MIN_RESPONSE_LEN: Final = 4  # SW1 SW2 SW3 CHK
MIN_COMMAND_LEN: Final = 3  # CMD PARA CHK
GARBAGE: Final = "garbage before preamble"


class Command(IntEnum):
    """``CMD << 8 | PARA`` of the commands SiteGate sends."""

    RESET_SAM = 0x10FF
    SAM_STATUS = 0x11FF
    READ_SAM_ID = 0x12FF
    FIND_CARD = 0x2001
    SELECT_CARD = 0x2002
    READ_TEXT_PHOTO = 0x3001
    READ_APPENDED_ADDRESS = 0x3003
    READ_TEXT_PHOTO_FINGERPRINT = 0x3010


class Status(IntEnum):
    """SW3 of a response. Only ``OK`` and ``FIND_OK`` are successes; ``NO_CONTENT`` is an empty field."""

    OK = 0x90
    FIND_OK = 0x9F
    NO_CONTENT = 0x91
    CHECKSUM_ERROR = 0x10
    LENGTH_ERROR = 0x11
    COMMAND_ERROR = 0x21
    UNAUTHORISED = 0x23
    UNKNOWN_ERROR = 0x24
    CARD_AUTH_FAILED = 0x31
    SAM_AUTH_FAILED = 0x32
    VERIFICATION_FAILED = 0x33
    UNKNOWN_CARD_TYPE = 0x40
    READ_FAILED = 0x41
    RANDOM_NUMBER_FAILED = 0x47
    SAM_SELF_TEST_FAILED = 0x60
    SAM_NOT_AUTHORISED = 0x66
    FIND_FAILED = 0x80
    SELECT_FAILED = 0x81

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS: Final = {
    Status.OK: "operation succeeded",
    Status.FIND_OK: "card found",
    Status.NO_CONTENT: "field empty",
    Status.CHECKSUM_ERROR: "module received a frame with a bad checksum",
    Status.LENGTH_ERROR: "module received a frame with a bad length",
    Status.COMMAND_ERROR: "module does not know the command",
    Status.UNAUTHORISED: "unauthorised operation",
    Status.UNKNOWN_ERROR: "unknown module error",
    Status.CARD_AUTH_FAILED: "card failed to authenticate the SAM",
    Status.SAM_AUTH_FAILED: "SAM failed to authenticate the card",
    Status.VERIFICATION_FAILED: "information verification error",
    Status.UNKNOWN_CARD_TYPE: "unknown card type",
    Status.READ_FAILED: "read failed",
    Status.RANDOM_NUMBER_FAILED: "random-number failure",
    Status.SAM_SELF_TEST_FAILED: "SAM self-test failed",
    Status.SAM_NOT_AUTHORISED: "SAM not authorised",
    Status.FIND_FAILED: "no card found",
    Status.SELECT_FAILED: "card select failed",
}

_SUCCESS: Final = frozenset({Status.OK, Status.FIND_OK})


@dataclass(frozen=True, slots=True)
class Response:
    """A module's reply. ``data`` may hold a text block (personal data), so ``repr`` leaves it out."""

    sw1: int
    sw2: int
    sw3: int
    data: bytes = field(default=b"", repr=False)

    @property
    def status(self) -> Status | None:
        """``None`` for an SW3 the standard does not define (kept raw in ``sw3``)."""
        try:
            return Status(self.sw3)
        except ValueError:
            return None

    @property
    def ok(self) -> bool:
        return self.sw3 in _SUCCESS


@dataclass(frozen=True, slots=True)
class CommandFrame:
    command: int
    data: bytes = b""


@dataclass(frozen=True, slots=True)
class FrameDiscarded:
    """Bytes a decoder dropped, and why; the bytes themselves are gone (they may be personal data)."""

    reason: str
    discarded: int


def encode_command(command: int, data: bytes = b"") -> bytes:
    if not 0 <= command <= 0xFFFF:
        raise ValueError(f"command 0x{command:X} does not fit in CMD PARA")
    return _frame(command.to_bytes(2, "big") + data)


def encode_response(sw3: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    for name, value in (("sw1", sw1), ("sw2", sw2), ("sw3", sw3)):
        if not 0 <= value <= 0xFF:
            raise ValueError(f"{name} 0x{value:X} is not a byte")
    return _frame(bytes((sw1, sw2, sw3)) + data)


def _frame(body: bytes) -> bytes:
    length = len(body) + 1
    if length > MAX_FRAME_LEN:
        raise ValueError(f"frame LEN {length} exceeds {MAX_FRAME_LEN}")
    checked = length.to_bytes(2, "big") + body
    return PREAMBLE + checked + bytes((_xor(checked),))


def _xor(data: bytes | bytearray) -> int:
    return reduce(xor, data, 0)


def _partial_preamble(buf: bytearray) -> int:
    """How many trailing bytes could be the start of a preamble still arriving."""
    for size in range(len(PREAMBLE) - 1, 0, -1):
        if buf.endswith(PREAMBLE[:size]):
            return size
    return 0


_E = TypeVar("_E")


class _FrameDecoder(Generic[_E]):
    """The frame scanner both directions share; subclasses only say what a good body becomes."""

    _MIN_LEN: ClassVar[int]

    def __init__(self) -> None:
        self._buf = bytearray()
        self._overflow = 0

    @property
    def buffered(self) -> int:
        """Bytes held back for a frame still arriving (for accounting and tests)."""
        return len(self._buf)

    def feed(self, data: bytes) -> None:
        self._buf += data
        excess = len(self._buf) - MAX_BUFFER
        if excess > 0:
            del self._buf[:excess]
            self._overflow += excess

    def next_event(self) -> _E | FrameDiscarded | None:
        """The next frame or discard; ``None`` means "feed me more bytes"."""
        if self._overflow:
            dropped, self._overflow = self._overflow, 0
            return FrameDiscarded(f"buffer overflow, over {MAX_BUFFER} bytes unread", dropped)
        buf = self._buf
        if not buf.startswith(PREAMBLE):
            dropped = self._drop_to_preamble(0)
            return FrameDiscarded(GARBAGE, dropped) if dropped else None
        if len(buf) < HEADER_LEN:
            return None
        length = int.from_bytes(buf[len(PREAMBLE) : HEADER_LEN], "big")
        if not self._MIN_LEN <= length <= MAX_FRAME_LEN:
            reason = f"length {length} outside {self._MIN_LEN}..{MAX_FRAME_LEN}"
            return FrameDiscarded(reason, self._drop_to_preamble(1))
        end = HEADER_LEN + length
        if len(buf) < end:
            return None
        expected = _xor(buf[len(PREAMBLE) : end - 1])
        if buf[end - 1] != expected:
            reason = f"checksum 0x{buf[end - 1]:02X} expected 0x{expected:02X}"
            return FrameDiscarded(reason, self._drop_to_preamble(len(PREAMBLE)))
        body = bytes(buf[HEADER_LEN : end - 1])
        del buf[:end]
        return self._event(body)

    def reset(self) -> FrameDiscarded | None:
        """Drop whatever is buffered, e.g. a frame cut short by a timeout, and say what was lost."""
        buf = self._buf
        lost = len(buf) + self._overflow
        if not lost:
            return None
        if buf.startswith(PREAMBLE) and len(buf) >= HEADER_LEN:
            total = HEADER_LEN + int.from_bytes(buf[len(PREAMBLE) : HEADER_LEN], "big")
            reason = f"truncated frame, {len(buf)} of {total} bytes"
        elif PREAMBLE.startswith(bytes(buf[: len(PREAMBLE)])):
            reason = "truncated frame, header incomplete"
        else:
            reason = "unparsed bytes dropped by reset"
        buf.clear()
        self._overflow = 0
        return FrameDiscarded(reason, lost)

    def _drop_to_preamble(self, start: int) -> int:
        """Resynchronise on the next preamble at or after ``start``; returns the bytes dropped."""
        buf = self._buf
        cut = buf.find(PREAMBLE, start)
        if cut < 0:
            cut = max(start, len(buf) - _partial_preamble(buf))
        del buf[:cut]
        return cut

    def _event(self, body: bytes) -> _E:
        raise NotImplementedError


class ResponseDecoder(_FrameDecoder[Response]):
    """Decodes what a module sends (used by the adapter)."""

    _MIN_LEN = MIN_RESPONSE_LEN

    def _event(self, body: bytes) -> Response:
        return Response(body[0], body[1], body[2], body[3:])


class CommandDecoder(_FrameDecoder[CommandFrame]):
    """Decodes what a host sends (used by the emulator)."""

    _MIN_LEN = MIN_COMMAND_LEN

    def _event(self, body: bytes) -> CommandFrame:
        return CommandFrame(int.from_bytes(body[:2], "big"), body[2:])

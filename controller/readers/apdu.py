"""APDUs for reading a card's number over PC/SC, sans I/O: commands out, response bytes in.

Two commands cover the site's cards. The resident ID card (ISO 14443-B, PUPI = 0) gives nothing
useful to the reader's get-UID, so its physical card number comes from ``00 36 00 00 08`` (8 bytes).
ISO 14443-A / MIFARE site cards answer the PC/SC pseudo-APDU ``FF CA 00 00 00`` with their UID
(4, 7 or 10 bytes). Either number is a binding key, never proof of identity.

Every way a response can be wrong is an :class:`ApduError`: a status word other than 9000 is a
:class:`StatusError` subclass named after the ISO 7816-4 / PC/SC part 3 meaning (so a log line says
"6A81 function not supported", not a bare number); a response too short to hold a status word is
:class:`ShortResponse` (:class:`NoResponse` if empty: the exchange never completed); a body of the
wrong length is :class:`BadUidLength`. Messages carry status words and lengths only, never the
number itself, because it is linked to a person and these messages reach logs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import IntEnum
from typing import ClassVar, Final

from controller.core.cards import UidSource

GET_ID_CARD_SERIAL: Final = bytes.fromhex("0036000008")
"""Resident ID card: read the 8-byte physical card number."""
GET_UID: Final = bytes.fromhex("FFCA000000")
"""PC/SC part 3 pseudo-APDU, answered by the reader itself: the card's anticollision UID."""

ID_CARD_SERIAL_LENGTH: Final = 8
ISO14443A_UID_LENGTHS: Final = frozenset({4, 7, 10})  # single, double and triple size UIDs
UID_LENGTHS: Final[Mapping[UidSource, frozenset[int]]] = {
    UidSource.ID_CARD_SERIAL: frozenset({ID_CARD_SERIAL_LENGTH}),
    UidSource.ISO14443A: ISO14443A_UID_LENGTHS,
}


class StatusWord(IntEnum):
    """The status words worth a name here (ISO 7816-4 and PC/SC part 3 for FF CA)."""

    SUCCESS = 0x9000
    DATA_CORRUPTED = 0x6281
    END_OF_DATA = 0x6282
    READER_OPERATION_FAILED = 0x6300
    MEMORY_FAILURE = 0x6581
    WRONG_LENGTH = 0x6700
    SECURITY_NOT_SATISFIED = 0x6982
    AUTH_METHOD_BLOCKED = 0x6983
    CONDITIONS_NOT_SATISFIED = 0x6985
    COMMAND_NOT_ALLOWED = 0x6986
    FUNCTION_NOT_SUPPORTED = 0x6A81
    FILE_NOT_FOUND = 0x6A82
    WRONG_P1P2 = 0x6A86
    WRONG_PARAMETERS = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00
    NO_PRECISE_DIAGNOSIS = 0x6F00


class ApduError(Exception):
    """A response that does not carry what the command asked for. ``sw`` is ``None`` if none came."""

    sw: int | None = None


class ShortResponse(ApduError):
    """Fewer than the two bytes every response needs for its status word."""

    def __init__(self, length: int) -> None:
        self.length = length
        super().__init__(f"response of {length} byte(s), too short for a status word")


class NoResponse(ShortResponse):
    """An empty response: the exchange did not complete (the card left the field, as a rule)."""

    def __init__(self) -> None:
        super().__init__(0)


class BadUidLength(ApduError):
    """Status 9000, but a body whose length no card of that kind has."""

    def __init__(self, source: UidSource, length: int) -> None:
        self.sw = StatusWord.SUCCESS
        self.source = source
        self.length = length
        allowed = "/".join(str(n) for n in sorted(UID_LENGTHS[source]))
        super().__init__(f"{source.value}: {length} byte(s), expected {allowed}")


class StatusError(ApduError):
    """The card (or the reader, for FF CA) answered with a status word other than 9000."""

    description: ClassVar[str] = "error"

    def __init__(self, sw: int) -> None:
        self.sw = sw
        super().__init__(f"{sw:04X} {self.describe()}")

    def describe(self) -> str:
        return self.description


class MoreData(StatusError):
    """61xx: the answer waits for a GET RESPONSE (T=0 only; contactless cards should not say it)."""

    description = "more data available"

    def describe(self) -> str:
        return f"{self.available} more byte(s) available"

    @property
    def available(self) -> int:
        return (self.sw or 0) & 0xFF or 256


class DataCorrupted(StatusError):
    description = "part of the returned data may be corrupted"


class EndOfData(StatusError):
    description = "end of data reached before Le bytes"


class ReaderOperationFailed(StatusError):
    description = "operation failed (reader)"


class MemoryFailure(StatusError):
    description = "memory failure"


class WrongLength(StatusError):
    description = "wrong length"


class SecurityNotSatisfied(StatusError):
    description = "security status not satisfied"


class AuthMethodBlocked(StatusError):
    description = "authentication method blocked"


class ConditionsNotSatisfied(StatusError):
    description = "conditions of use not satisfied"


class CommandNotAllowed(StatusError):
    description = "command not allowed"


class FunctionNotSupported(StatusError):
    description = "function not supported"


class FileNotFound(StatusError):
    description = "file or application not found"


class WrongParameters(StatusError):
    description = "wrong parameters P1-P2"


class WrongLe(StatusError):
    """6Cxx: wrong Le; the card says which Le it wants."""

    description = "wrong Le"

    def describe(self) -> str:
        return f"wrong Le, exact length is {self.exact_le}"

    @property
    def exact_le(self) -> int:
        return (self.sw or 0) & 0xFF or 256


class InsNotSupported(StatusError):
    description = "instruction not supported"


class ClaNotSupported(StatusError):
    description = "class not supported"


class NoPreciseDiagnosis(StatusError):
    description = "no precise diagnosis"


class UnknownStatusWord(StatusError):
    description = "unknown status word"


ERRORS_BY_SW: Final[Mapping[int, type[StatusError]]] = {
    StatusWord.DATA_CORRUPTED: DataCorrupted,
    StatusWord.END_OF_DATA: EndOfData,
    StatusWord.READER_OPERATION_FAILED: ReaderOperationFailed,
    StatusWord.MEMORY_FAILURE: MemoryFailure,
    StatusWord.WRONG_LENGTH: WrongLength,
    StatusWord.SECURITY_NOT_SATISFIED: SecurityNotSatisfied,
    StatusWord.AUTH_METHOD_BLOCKED: AuthMethodBlocked,
    StatusWord.CONDITIONS_NOT_SATISFIED: ConditionsNotSatisfied,
    StatusWord.COMMAND_NOT_ALLOWED: CommandNotAllowed,
    StatusWord.FUNCTION_NOT_SUPPORTED: FunctionNotSupported,
    StatusWord.FILE_NOT_FOUND: FileNotFound,
    StatusWord.WRONG_P1P2: WrongParameters,
    StatusWord.WRONG_PARAMETERS: WrongParameters,
    StatusWord.INS_NOT_SUPPORTED: InsNotSupported,
    StatusWord.CLA_NOT_SUPPORTED: ClaNotSupported,
    StatusWord.NO_PRECISE_DIAGNOSIS: NoPreciseDiagnosis,
}
"""Whole status words with a name."""
ERRORS_BY_SW1: Final[Mapping[int, type[StatusError]]] = {0x61: MoreData, 0x6C: WrongLe}
"""Status words whose SW2 is a number (a length), not part of the meaning."""


def status_error(sw1: int, sw2: int) -> StatusError | None:
    """The named error for a status word; ``None`` for 9000."""
    sw = (sw1 & 0xFF) << 8 | (sw2 & 0xFF)
    if sw == StatusWord.SUCCESS:
        return None
    error = ERRORS_BY_SW.get(sw) or ERRORS_BY_SW1.get(sw1 & 0xFF) or UnknownStatusWord
    return error(sw)


def parse_response(data: Sequence[int] | bytes) -> tuple[bytes, int, int]:
    """Split an R-APDU into body, SW1 and SW2 (pyscard gives lists of ints, sockets give bytes)."""
    raw = bytes(data)
    if not raw:
        raise NoResponse()
    if len(raw) < 2:
        raise ShortResponse(len(raw))
    return raw[:-2], raw[-2], raw[-1]


def uid_from_response(data: Sequence[int] | bytes, source: UidSource) -> str:
    """The number in a successful response to the command for ``source``, as uppercase hex."""
    body, sw1, sw2 = parse_response(data)
    error = status_error(sw1, sw2)
    if error is not None:
        raise error
    if len(body) not in UID_LENGTHS[source]:
        raise BadUidLength(source, len(body))
    return body.hex().upper()

"""One small error hierarchy for the GA/T 467 package.

Local faults (a reply we cannot make sense of: :class:`FrameError`, :class:`TextBlockError`) are kept
apart from the module's own verdicts (:class:`ModuleStatusError`, one subclass per SW3 failure code),
so a caller can tell "our link is noisy" from "the SAM refused the card". Messages carry codes, field
names and offsets only: the bytes involved may be personal data and these messages reach logs.
"""

from __future__ import annotations

from typing import ClassVar

from controller.readers.gat467.frames import Command, Status


class Gat467Error(Exception):
    """Anything that went wrong talking to a GA/T 467 module."""


class FrameError(Gat467Error):
    """A reply whose data does not have the shape the protocol gives it (e.g. inconsistent lengths)."""


class ReplyRejected(FrameError):
    """The module answered, but its frame failed the check (checksum, length) and was dropped.

    Not a timeout: the module will not send a second reply, so the command has failed now, and the
    reason (e.g. ``checksum 0x3A expected 0xC5``) says what the link did to it.
    """

    def __init__(self, command: int, reason: str) -> None:
        self.command = command
        self.reason = reason
        super().__init__(f"{command_name(command)}: reply rejected: {reason}")


class NoReply(Gat467Error):
    """No complete reply within the command's timeout."""

    def __init__(self, command: int, timeout: float) -> None:
        self.command = command
        self.timeout = timeout
        super().__init__(f"{command_name(command)}: no complete reply within {timeout:g} s")


class TextBlockError(Gat467Error):
    """A text block field that cannot be decoded; ``offset`` is the byte where the trouble starts."""

    def __init__(self, field: str, offset: int, why: str) -> None:
        self.field = field
        self.offset = offset
        self.why = why
        super().__init__(f"text block field {field} at offset {offset}: {why}")


class ModuleStatusError(Gat467Error):
    """The module answered, with a status other than the one the command needed."""

    STATUS: ClassVar[Status | None] = None

    def __init__(self, status: int, command: int) -> None:
        self.status = status
        self.command = command
        super().__init__(f"{command_name(command)} answered SW3 0x{status:02X}: {self._describe()}")

    def _describe(self) -> str:
        try:
            return Status(self.status).description
        except ValueError:
            return "status not defined by GA/T 467"


class ChecksumRejected(ModuleStatusError):
    STATUS = Status.CHECKSUM_ERROR


class LengthRejected(ModuleStatusError):
    STATUS = Status.LENGTH_ERROR


class CommandRejected(ModuleStatusError):
    STATUS = Status.COMMAND_ERROR


class Unauthorised(ModuleStatusError):
    STATUS = Status.UNAUTHORISED


class UnknownModuleError(ModuleStatusError):
    STATUS = Status.UNKNOWN_ERROR


class CardAuthFailed(ModuleStatusError):
    STATUS = Status.CARD_AUTH_FAILED


class SamAuthFailed(ModuleStatusError):
    STATUS = Status.SAM_AUTH_FAILED


class VerificationFailed(ModuleStatusError):
    STATUS = Status.VERIFICATION_FAILED


class UnknownCardType(ModuleStatusError):
    STATUS = Status.UNKNOWN_CARD_TYPE


class ReadFailed(ModuleStatusError):
    STATUS = Status.READ_FAILED


class RandomNumberFailed(ModuleStatusError):
    STATUS = Status.RANDOM_NUMBER_FAILED


class SamSelfTestFailed(ModuleStatusError):
    STATUS = Status.SAM_SELF_TEST_FAILED


class SamNotAuthorised(ModuleStatusError):
    STATUS = Status.SAM_NOT_AUTHORISED


class FindFailed(ModuleStatusError):
    STATUS = Status.FIND_FAILED


class SelectFailed(ModuleStatusError):
    STATUS = Status.SELECT_FAILED


class FieldEmpty(ModuleStatusError):
    STATUS = Status.NO_CONTENT


class UnexpectedStatus(ModuleStatusError):
    """A success code that does not fit the command (e.g. "card found" in reply to a read)."""


class UnknownStatus(ModuleStatusError):
    """An SW3 the standard does not define; the message names its hex value."""


_BY_STATUS: dict[int, type[ModuleStatusError]] = {
    cls.STATUS: cls
    for cls in (
        ChecksumRejected,
        LengthRejected,
        CommandRejected,
        Unauthorised,
        UnknownModuleError,
        CardAuthFailed,
        SamAuthFailed,
        VerificationFailed,
        UnknownCardType,
        ReadFailed,
        RandomNumberFailed,
        SamSelfTestFailed,
        SamNotAuthorised,
        FindFailed,
        SelectFailed,
        FieldEmpty,
    )
    if cls.STATUS is not None
}


def status_error(status: int, command: int) -> ModuleStatusError:
    """The error for a reply with SW3 ``status`` to ``command``; never raises, whatever the value."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = UnexpectedStatus if status in (Status.OK, Status.FIND_OK) else UnknownStatus
    return cls(status, command)


def command_name(command: int) -> str:
    try:
        return Command(command).name
    except ValueError:
        return f"command 0x{command:04X}"

"""The wire package's errors: what was wrong with a message or a topic, and where."""

from __future__ import annotations

from collections.abc import Callable, Collection


class WireError(ValueError):
    """A payload that is not a valid message of the kind its topic announces.

    ``problems`` lists each fault as ``(location, message)`` so a dead-letter record or a log line
    can say exactly which field was wrong without echoing the payload (it may hold personal data).
    """

    def __init__(self, kind: str, problems: list[tuple[str, str]]) -> None:
        self.kind = kind
        self.problems = problems
        detail = "; ".join(f"{loc or '<payload>'}: {msg}" for loc, msg in problems)
        super().__init__(f"invalid {kind} message: {detail}")

    def redacted(
        self, known: Collection[str], *, indices: bool = False, said: Callable[[str], str] = str
    ) -> str:
        """The problems, ``location: message; ...``, naming only field names in ``known`` (and list
        indices when ``indices``): any other key was chosen by the sender and could be anything,
        personal data included, so it is shown as ``<unexpected key>``. pydantic's messages carry
        no input values; ``said`` rewrites one that does. For logs and dead letters."""
        problems = []
        for location, message in self.problems:
            parts = location.split(".") if location else []
            shown = ".".join(
                p if p in known or (indices and _list_index(p)) else "<unexpected key>" for p in parts
            )
            problems.append(f"{shown or '<payload>'}: {said(message)}")
        return "; ".join(problems)


_LONGEST_INDEX = 5
"""No list in a payload of at most ``wire.codec.MAX_PAYLOAD_BYTES`` (16 KiB) has an index of more
digits (tests/wire/test_message_errors.py holds the two together)."""


def _list_index(part: str) -> bool:
    """A list index, not a sender's dict key made of digits (an ID number with a digit check
    character is 18 digits: pydantic names a dict's key the way it names a list's index)."""
    return part.isascii() and part.isdigit() and len(part) <= _LONGEST_INDEX


class TopicError(ValueError):
    """A topic outside the ``sitegate/v1`` tree, or one whose levels do not parse."""

    def __init__(self, topic: str, why: str) -> None:
        self.topic = topic
        self.why = why
        super().__init__(f"bad topic {topic!r}: {why}")

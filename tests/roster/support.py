"""Keys, people and helpers shared by the roster tests: fixed keys, invented people, nothing real."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from controller.core.roster import EMPTY_ROSTER, Roster
from controller.roster_sync import Outcome, RosterAssembler
from hub.rosters.keys import public_key_raw
from wire.roster import RosterMessage, decode_roster, encode_roster

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
PUBLIC = public_key_raw(KEY)
PROJECT = "P-ROSTER"


def digest(n: int) -> str:
    return hashlib.sha256(f"person-{n}".encode()).hexdigest()


def people(count: int, start: int = 0, **extra: Any) -> list[tuple[str, dict[str, Any]]]:
    return [
        (digest(i), {"person_id": f"p-{i:06d}", "role": "worker", "entry_date": date(2025, 1, 1), **extra})
        for i in range(start, start + count)
    ]


def assembler(applied: int = 0, **options: Any) -> RosterAssembler:
    return RosterAssembler(PROJECT, PUBLIC, applied, **options)


def over_the_wire(message: RosterMessage) -> RosterMessage:
    """Encoded and decoded, as a lane receives it."""
    return decode_roster(encode_roster(message))


def feed(
    target: RosterAssembler,
    messages: Iterable[RosterMessage],
    current: Roster = EMPTY_ROSTER,
    now: float = 0.0,
) -> list[Outcome]:
    return [target.feed(over_the_wire(message), current, now) for message in messages]

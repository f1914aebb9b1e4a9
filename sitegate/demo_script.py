"""The demo's scripted shift, built as plain data: who works here, who swipes where, and what
each swipe must produce. Pure, so the expectations can be checked against the lanes and the hub.

Every identity is synthetic (valid check digits, invented names, addresses on 测试路).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from controller.core.cards import IdentityCard
from controller.core.roster import Role, RosterEntry
from hardware.emulators.identities import bad_check_digit, synthetic_identity
from wire.credential import credential_hash
from wire.models import Reason

PROJECT_ID = "HZ-330106-2026-0042"


@dataclass(frozen=True, slots=True)
class ScriptedSwipe:
    lane: str
    card: IdentityCard = field(repr=False)
    who: str
    expected: Reason
    walks_through: bool = True
    """False: granted, but the worker turns back before the arm (recorded as not passed)."""


@dataclass(frozen=True, slots=True)
class Shift:
    project_id: str
    site_key: bytes = field(repr=False)
    roster: list[tuple[str, RosterEntry]]
    watchlist: list[str]
    swipes: dict[str, list[ScriptedSwipe]]

    @property
    def total(self) -> int:
        return sum(len(s) for s in self.swipes.values())


def build_shift(seed: int, now: datetime, workers: int = 28) -> Shift:
    """``now`` is the site's aware local time: passes and hours are laid around it."""
    today = now.date()
    rng = random.Random(seed)
    site_key = rng.randbytes(32)
    roster: list[tuple[str, RosterEntry]] = []
    staff: list[tuple[str, IdentityCard]] = []
    for n in range(1, workers + 1):
        card = synthetic_identity(rng, valid_to=today + timedelta(days=rng.randint(30, 3000)))
        person_id = f"p-{n:04d}"
        role = Role.MANAGER if n <= 2 else Role.WORKER
        entry = RosterEntry(person_id, role, entry_date=today - timedelta(days=rng.randint(1, 200)))
        roster.append((credential_hash(site_key, card.id_number), entry))
        staff.append((person_id, card))

    def on_roster(person_id: str, entry: RosterEntry, card: IdentityCard) -> None:
        roster.append((credential_hash(site_key, card.id_number), entry))

    left = synthetic_identity(rng, valid_to=today + timedelta(days=900))
    on_roster(
        "p-0901", RosterEntry("p-0901", Role.WORKER, today - timedelta(100), today - timedelta(3)), left
    )
    early = synthetic_identity(rng, valid_to=today + timedelta(days=900))
    on_roster("p-0902", RosterEntry("p-0902", Role.WORKER, today + timedelta(2)), early)
    expired = synthetic_identity(rng, valid_to=today - timedelta(days=12))
    on_roster("p-0903", RosterEntry("p-0903", Role.WORKER, today - timedelta(50)), expired)
    guest = synthetic_identity(rng, valid_to=today + timedelta(days=900))
    on_roster(
        "v-0001",
        RosterEntry(
            "v-0001", Role.VISITOR, pass_from=now - timedelta(hours=1), pass_until=now + timedelta(hours=3)
        ),
        guest,
    )
    late_guest = synthetic_identity(rng, valid_to=today + timedelta(days=900))
    on_roster(
        "v-0002",
        RosterEntry(
            "v-0002", Role.VISITOR, pass_from=now - timedelta(hours=5), pass_until=now - timedelta(hours=1)
        ),
        late_guest,
    )
    flagged = synthetic_identity(rng, valid_to=today + timedelta(days=900))
    watchlist = [credential_hash(site_key, flagged.id_number)]
    person, card = staff[5]
    mistyped = replace(card, id_number=bad_check_digit(card.id_number))
    again_person, again_card = staff[9]

    entry_lane = [ScriptedSwipe("entry", card, person, Reason.GRANTED) for person, card in staff]
    strangers = [synthetic_identity(rng, valid_to=today + timedelta(days=500)) for _ in range(4)]
    extras = [
        ScriptedSwipe("entry", strangers[0], "visitor (unregistered)", Reason.NOT_REGISTERED),
        ScriptedSwipe("entry", strangers[1], "visitor (unregistered)", Reason.NOT_REGISTERED),
        ScriptedSwipe("entry", strangers[2], "visitor (unregistered)", Reason.NOT_REGISTERED),
        ScriptedSwipe("entry", expired, "p-0903 (card expired)", Reason.CARD_EXPIRED),
        ScriptedSwipe("entry", mistyped, f"{person} (bad check digit)", Reason.INVALID_ID_NUMBER),
        ScriptedSwipe("entry", left, "p-0901 (left the project)", Reason.ASSIGNMENT_ENDED),
        ScriptedSwipe("entry", early, "p-0902 (starts in 2 days)", Reason.ASSIGNMENT_NOT_STARTED),
        ScriptedSwipe("entry", guest, "v-0001 (visitor pass)", Reason.GRANTED),
        ScriptedSwipe("entry", late_guest, "v-0002 (pass ended)", Reason.OUTSIDE_HOURS),
        ScriptedSwipe("entry", flagged, "watchlisted (alert)", Reason.WATCHLISTED),
    ]
    for extra in extras:
        entry_lane.insert(rng.randrange(len(entry_lane) + 1), extra)
    first_entry = next(i for i, s in enumerate(entry_lane) if s.who == again_person)
    entry_lane.insert(
        rng.randrange(first_entry + 1, len(entry_lane) + 1),
        ScriptedSwipe("entry", again_card, f"{again_person} (second entry)", Reason.ANTI_PASSBACK),
    )
    leaving = rng.sample(staff, k=min(len(staff), 22))
    exit_lane = [ScriptedSwipe("exit", card, person, Reason.GRANTED) for person, card in leaving]
    middle = len(exit_lane) // 2
    hesitant = exit_lane[middle]
    exit_lane[middle] = replace(hesitant, who=f"{hesitant.who} (turns back)", walks_through=False)
    exit_lane.insert(
        rng.randrange(len(exit_lane) + 1),
        ScriptedSwipe("exit", strangers[3], "visitor (unregistered)", Reason.NOT_REGISTERED),
    )
    return Shift(PROJECT_ID, site_key, roster, watchlist, {"entry": entry_lane, "exit": exit_lane})

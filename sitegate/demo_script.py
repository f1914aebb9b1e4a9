"""The demo's scripted shift, built as plain data: who is registered on the project and how, who
swipes where, and what each swipe must produce. Pure, so the expectations can be checked against
the lanes and the hub.

The people are not put on the lanes here: :mod:`sitegate.demo_registry` registers each
:class:`ShiftPerson` in the hub's registry with the assignment that produces its case (current,
ended three days ago, starting in two days, a visitor's pass window, a watchlist flag), and the hub
compiles, signs and pushes the lanes' roster from there. Unregistered cards stay unregistered; an
expired card or a mistyped number is the lane's own business.

The shift is played in phases, in order: everyone's entry at A1 (with every refusal the rules
have, and a second entry of someone already inside), the exits at A2 (one worker turns back before
the arm), then the return: people who left by A2 come back in at A1, granted because A1 heard of
their exit through the hub (site-wide anti-passback), while the worker who turned back at A2 and
one who never left are refused a second entry.

Every identity is synthetic (valid check digits, invented names, addresses on 测试路).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Literal

from controller.core.cards import IdentityCard
from hardware.emulators.identities import bad_check_digit, synthetic_identity
from wire.models import Reason

PROJECT_ID = "HZ-330106-2026-0042"
ShiftRole = Literal["worker", "manager", "visitor"]


@dataclass(frozen=True, slots=True)
class ShiftPerson:
    """One of the shift's people as the project department registers and assigns them."""

    label: str
    """How the demo's printout names them (the registry mints its own person id)."""
    card: IdentityCard = field(repr=False)
    role: ShiftRole
    entry_date: date
    exit_date: date | None = None
    pass_from: datetime | None = None
    """A visitor's pass window (aware, site time)."""
    pass_until: datetime | None = None
    watchlisted: bool = False


@dataclass(frozen=True, slots=True)
class ScriptedSwipe:
    lane: str
    """Which lane: ``entry`` (A1) or ``exit`` (A2)."""
    card: IdentityCard = field(repr=False)
    who: str
    expected: Reason
    walks_through: bool = True
    """False: granted, but the worker turns back before the arm (recorded as not passed)."""


@dataclass(frozen=True, slots=True)
class Shift:
    project_id: str
    people: tuple[ShiftPerson, ...]
    """Everyone the project department registers for the shift."""
    swipes: dict[str, list[ScriptedSwipe]]
    """Phases in the order they are played (``entry``, ``exit``, ``return``), each a list of swipes."""

    @property
    def total(self) -> int:
        return sum(len(s) for s in self.swipes.values())


def build_shift(seed: int, now: datetime, workers: int = 28) -> Shift:
    """``now`` is the site's aware local time: assignments and passes are laid around it, so that
    every swipe's expected reason holds for the next few hours, across midnight too."""
    today = now.date()
    # A stream of its own: the same int seeding hub.registry.seed's stream would replay its draws
    # (the same ID numbers would come up for the city's people and the shift's).
    rng = random.Random(f"sitegate-demo-shift-{seed}")
    people: list[ShiftPerson] = []
    staff: list[tuple[str, IdentityCard]] = []
    for n in range(1, workers + 1):
        card = synthetic_identity(rng, valid_to=today + timedelta(days=rng.randint(30, 3000)))
        label = f"p-{n:04d}"
        role: ShiftRole = "manager" if n <= 2 else "worker"
        people.append(ShiftPerson(label, card, role, entry_date=today - timedelta(days=rng.randint(1, 200))))
        staff.append((label, card))

    def registered(
        label: str,
        valid_to: date,
        entry: date,
        exit: date | None = None,
        *,
        visit: tuple[datetime, datetime] | None = None,
        watchlisted: bool = False,
    ) -> IdentityCard:
        card = synthetic_identity(rng, valid_to=valid_to)
        pass_from, pass_until = visit or (None, None)
        role: ShiftRole = "visitor" if visit else "worker"
        people.append(ShiftPerson(label, card, role, entry, exit, pass_from, pass_until, watchlisted))
        return card

    far, hour, day = today + timedelta(days=900), timedelta(hours=1), timedelta(days=1)
    left = registered("p-0901", far, today - timedelta(100), today - timedelta(3))
    early = registered("p-0902", far, today + timedelta(2))
    expired = registered("p-0903", today - timedelta(days=12), today - timedelta(50))
    # A shift laid just before midnight plays into the next day: the visits' assignments run from
    # the day before to the day after, so that it is the pass window, not the assignment, that
    # admits v-0001 and turns v-0002 away whichever side of midnight their swipe falls.
    guest = registered("v-0001", far, today - day, today + day, visit=(now - hour, now + 3 * hour))
    late_guest = registered("v-0002", far, today - day, today + day, visit=(now - 5 * hour, now - hour))
    flagged = registered("p-0904", far, today - timedelta(30), watchlisted=True)
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
        ScriptedSwipe("entry", flagged, "p-0904 (watchlisted: alert)", Reason.WATCHLISTED),
    ]
    for extra in extras:
        entry_lane.insert(rng.randrange(len(entry_lane) + 1), extra)
    first_entry = next(i for i, s in enumerate(entry_lane) if s.who == again_person)
    entry_lane.insert(
        rng.randrange(first_entry + 1, len(entry_lane) + 1),
        ScriptedSwipe("entry", again_card, f"{again_person} (second entry)", Reason.ANTI_PASSBACK),
    )
    leaving = rng.sample(staff, k=min(len(staff) - 1, 22))  # one at least stays in, for the second entry
    exit_lane = [ScriptedSwipe("exit", card, person, Reason.GRANTED) for person, card in leaving]
    middle = len(exit_lane) // 2
    hesitant = exit_lane[middle]
    exit_lane[middle] = replace(hesitant, who=f"{hesitant.who} (turns back)", walks_through=False)
    exit_lane.insert(
        rng.randrange(len(exit_lane) + 1),
        ScriptedSwipe("exit", strangers[3], "visitor (unregistered)", Reason.NOT_REGISTERED),
    )
    # Back in at A1 after leaving by A2: A1 knows of the exit only through the hub.
    walked_out = [s for s in exit_lane if s.walks_through and s.expected is Reason.GRANTED]
    returning = [ScriptedSwipe("entry", s.card, f"{s.who} (back in)", Reason.GRANTED) for s in walked_out[:6]]
    turned = hesitant.who
    returning.insert(
        rng.randrange(len(returning) + 1),
        ScriptedSwipe("entry", hesitant.card, f"{turned} (turned back, still inside)", Reason.ANTI_PASSBACK),
    )
    stayed_person, stayed_card = next((p, c) for p, c in staff if p not in {who for who, _ in leaving})
    returning.insert(
        rng.randrange(len(returning) + 1),
        ScriptedSwipe("entry", stayed_card, f"{stayed_person} (never left)", Reason.ANTI_PASSBACK),
    )
    phases = {"entry": entry_lane, "exit": exit_lane, "return": returning}
    return Shift(PROJECT_ID, tuple(people), phases)

"""The name a lane may show: masked (张*明), from the card just read, and nothing else of the card.

The roster carries no names (keyed hashes only), so the only source is the ID card the worker
presented. The card is reduced to its masked name here, in the service, before anything reaches
the feedback worker: the display code never holds a card, an ID number or an unmasked name.
"""

from __future__ import annotations

from typing import NewType

from controller.core.cards import CardRead, IdentityCard

MaskedName = NewType("MaskedName", str)
"""A name with all but its first and last character hidden; only :func:`mask_name` makes one."""

MASK = "*"
MAX_MASKED = 3
"""At most this many mask characters: a long Latin name does not give its length away."""


def mask_name(name: str) -> MaskedName:
    """张三 -> 张*, 张小明 -> 张*明, 欧阳小明 -> 欧**明; a single character is masked whole."""
    letters = name.strip()
    if len(letters) <= 1:
        return MaskedName(MASK if letters else "")
    if len(letters) == 2:
        return MaskedName(letters[0] + MASK)
    return MaskedName(letters[0] + MASK * min(len(letters) - 2, MAX_MASKED) + letters[-1])


def person_of(card: CardRead) -> MaskedName | None:
    """The masked name on an ID-module read (a foreigner's card may carry only an English name);
    ``None`` for a card UID, which carries no name."""
    if not isinstance(card, IdentityCard):
        return None
    name = card.name.strip() or card.english_name.strip()
    return mask_name(name) if name else None

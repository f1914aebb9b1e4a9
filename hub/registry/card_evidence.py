"""A card read as the evidence of a registration (进场/离场登记 with the card, issue 14).

The registration form hands the registry the office reader's read it used (the hub's own copy,
from :mod:`hub.registration_reads`, never what a browser says it read). The registry stores the
reader's device id on the assignment (``entry_read_device`` / ``exit_read_device``) only when
the card is the person's: the read's ID number under the blind index is the person's index. A
registration without one stays possible and is shown as "registered without a card read".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.refusals import CardReadMismatch
from hub.registry.vault import IdVault


@dataclass(frozen=True, slots=True)
class CardEvidence:
    device_id: str
    """The office reader (a lane in registration mode) that read the card."""
    id_number: str = field(repr=False)
    """The card's ID number, whole: compared by blind index, never stored or logged."""


def read_device(vault: IdVault, card: CardEvidence | None, person_index: str) -> str | None:
    """The reader to record for a registration of the person with ``person_index``; None without
    a card; :class:`CardReadMismatch` for another person's card."""
    if card is None:
        return None
    if vault.blind_index(card.id_number) != person_index:
        raise CardReadMismatch()
    return card.device_id

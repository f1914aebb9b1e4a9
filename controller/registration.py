"""Registration mode: an office reader (进场/离场登记) sends each card it reads to the hub.

A lane configured with ``mode = "registration"`` sits at the site office, not at a turnstile: the
manager lays a person's ID card on it and the console's registration form shows the read,
prefilled. It decides nothing, opens no relay and journals no access event; it checks the card
as an access lane would (the ID number's check digit, the card's validity) and sends the read
with its problem, so the form can say what is wrong with the card.

The read is personal data sent on purpose (:class:`wire.models.OfficeCardRead`): published once
at QoS 1 over the device's TLS link and never written to the lane's disk or its log. A read the
link could not take is lost, and the screen says so ("read the card again"): there is nobody to
register later from a read that waited in a journal, and a journal of whole ID numbers on a Pi
in a site office is what invariant 6 forbids.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

from pydantic import ValidationError

from controller.core.cards import CardRead, IdentityCard
from controller.feedback.names import person_of
from wire.codec import encode
from wire.idnumber import validate_foreigner_number, validate_id_number
from wire.labels import OfficeRead
from wire.models import CardKind, OfficeCardRead, Reason
from wire.topics import Channel

if TYPE_CHECKING:
    from controller.feedback.worker import Feedback

log = logging.getLogger(__name__)

Send = Callable[[Channel, bytes], Awaitable[bool]]
"""Publish on one of the device's up channels now; False when the link is down (the uplink's ``send``)."""


def card_problem(card: IdentityCard, today: date) -> Reason | None:
    """What an access lane would refuse this card for before looking at its roster, or None."""
    if card.kind in (CardKind.FOREIGNER_2017, CardKind.FOREIGNER_2023):
        number_problem = validate_foreigner_number(card.id_number, card.kind)
    else:
        number_problem = validate_id_number(card.id_number)
    if number_problem is not None:
        return Reason.INVALID_ID_NUMBER
    if card.valid_to is not None and card.valid_to < today:
        return Reason.CARD_EXPIRED
    return None


def office_read(
    card: IdentityCard, *, device_id: str, read_id: str, now: datetime, synced: bool
) -> OfficeCardRead:
    """The card's text block as the hub receives it; the photo stays on the card (see the model)."""
    return OfficeCardRead(
        device_id=device_id,
        read_id=read_id,
        read_at=now,
        clock_synced=synced,
        card_kind=card.kind,
        name=card.name.strip(),
        english_name=card.english_name.strip(),
        gender=card.gender if card.gender in ("1", "2") else "",
        nation=(card.nationality or card.nation).strip(),
        birth_date=card.birth_date,
        address=((card.address or "") + (card.appended_address or "")).strip()[:140],
        id_number=card.id_number,
        issuer=card.issuer.strip(),
        valid_from=card.valid_from,
        valid_to=card.valid_to,
        problem=card_problem(card, now.date()),
    )


class OfficeReader:
    """The registration-mode lane's answer to a card: send the read, tell the person at the desk."""

    def __init__(
        self,
        device_id: str,
        *,
        send: Send,
        now: Callable[[], datetime],
        synced: Callable[[], bool],
        show: Callable[[OfficeRead, CardRead], None] | None = None,
        new_read_id: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> None:
        """``now``: the lane's defensible time (what the card's validity is judged on, and the read
        is stamped with); ``show``: the screen and voice (``None`` without feedback)."""
        self.device_id = device_id
        self._send = send
        self._now = now
        self._synced = synced
        self._show = show
        self._new_read_id = new_read_id
        self.sent = 0
        self.not_sent = 0

    async def read(self, card: IdentityCard) -> OfficeCardRead | None:
        """Publish the read once; logged by its read id and problem only, never its content. None
        when the card's text does not fit the message (logged by field name, never by value)."""
        try:
            message = office_read(
                card,
                device_id=self.device_id,
                read_id=self._new_read_id(),
                now=self._now(),
                synced=self._synced(),
            )
        except ValidationError as err:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in err.errors(include_input=False))
            log.warning("office reader %s: a card read not sendable (%s)", self.device_id, fields)
            self.not_sent += 1
            if self._show is not None:
                self._show(OfficeRead.NOT_SENT, card)
            return None
        if await self._send(Channel.CARD_READ, encode(message)):
            self.sent += 1
            outcome = OfficeRead.CARD_READ
            log.info(
                "office reader %s: card read %s sent (problem: %s)",
                self.device_id,
                message.read_id,
                message.problem,
            )
        else:
            self.not_sent += 1
            outcome = OfficeRead.NOT_SENT
            log.warning("office reader %s: card read not sent, the hub link is down", self.device_id)
        if self._show is not None:
            self._show(outcome, card)
        return message


def masked_show(feedback: Feedback) -> Callable[[OfficeRead, CardRead], None]:
    """The feedback's ``office_read``, given only the card's masked name (never the card itself)."""

    def show(outcome: OfficeRead, card: CardRead) -> None:
        feedback.office_read(outcome, person_of(card))

    return show

"""The site channel: what a lane learns about the other lanes of its site, signed by the hub.

Invariant 10 (a site is one place) on the wire. Anti-passback is decided at each lane from its own
memory of who is inside; for that memory to be the site's, every passage any lane of the site
records must reach the others:

- A lane records a passage as an event like any other: a grant at a lane without a rotation
  sensor (:attr:`wire.models.AccessEvent.passage`), or a ``passage_confirmed`` lane event naming
  the person at a lane with one. A grant that a sensor lane later reports ``not_passed`` is never
  a passage.
- The hub stores it, then relays it (:class:`PassageRelay`) to each other lane of the site on that
  lane's own down channel, ``sitegate/v1/down/<device>/site``. Which lanes form the site is the
  hub's registry's word (the gates placed at the recording lane's project), never the payload's.
- The lane applies a relayed passage only if it is newer, by :attr:`SitePassage.at` (when it
  happened), than what it holds for that person: a late or repeated delivery changes nothing.

Freshness: the hub sends each lane a :class:`SiteSync` every few seconds and in answer to the
:class:`SiteRequest` a lane sends at every connection (after catching it up with relays of the
site's recent passages). It lists the lane's siblings and when the hub last heard from each; its
``issued_at`` only grows, and a lane refuses a sync that is not newer than the last it accepted,
so a replayed sync cannot make a silent site look fresh. A lane that has not had a fresh sync, or
whose siblings have gone silent, for longer than its bound degrades hard anti-passback to soft.

Signed like rosters, with the same hub key the lane pins, in the same envelope
(:mod:`wire.signing`). ``kind`` is among what is signed, so a site message can never pass for a
roster message, nor a relay for a sync. The request travels up unsigned: the broker's ACL binds
its topic to the lane's certificate, and the hub answers only what its registry says.

Pure: pydantic and the standard library.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, TypeAdapter, ValidationError, model_validator

from wire.message_errors import WireError
from wire.models import DeviceId, Direction, Label, ProjectId, Sequence, WireModel
from wire.signing import Signed

MAX_RELAY_PASSAGES = 200
"""Passages one relay carries (~30 KB); a catch-up of more goes as several relays."""
MAX_SIBLINGS = 256
"""Lanes of one site besides the recipient: far more gates than any construction site has."""
MAX_SITE_PAYLOAD_BYTES = 64 * 1024
"""The largest message on a site topic: a full relay is ~30 KB, a sync of 256 siblings ~25 KB."""

Nonce = Annotated[str, Field(pattern=r"^[0-9a-f]{16,64}$")]


class SitePassage(WireModel):
    """One passage as the lane that saw it recorded it."""

    person_id: Label
    direction: Direction
    at: AwareDatetime
    """When it happened: the wall time of the record that is the passage (the grant at a lane
    without a rotation sensor, the ``passage_confirmed`` at one with). Lanes order a person's
    passages by it."""
    device_id: DeviceId
    """The lane that recorded it."""
    seq: Sequence
    """That record's sequence number at that lane."""


class _SiteSigned(Signed):
    """Addressed to one lane (``device_id``) of one site (``project_id``), dated and signed like a
    roster (the same envelope: both halves of the signature or neither)."""

    device_id: DeviceId
    project_id: ProjectId


class PassageRelay(_SiteSigned):
    """Passages recorded at the recipient's sibling lanes, oldest first."""

    kind: Literal["passage_relay"] = "passage_relay"
    passages: Annotated[tuple[SitePassage, ...], Field(min_length=1, max_length=MAX_RELAY_PASSAGES)]


class SiblingSeen(WireModel):
    device_id: DeviceId
    last_seen: AwareDatetime | None = None
    """The hub's clock when it last heard from that lane (a heartbeat or its coming online);
    None when it never has. The recipient compares it with ``issued_at`` only, a difference on
    the hub's clock, and ages it on its own monotonic clock from there."""


class SiteSync(_SiteSigned):
    """The recipient's siblings and how recently the hub heard from each, as of ``issued_at``."""

    kind: Literal["site_sync"] = "site_sync"
    siblings: Annotated[tuple[SiblingSeen, ...], Field(max_length=MAX_SIBLINGS)] = ()
    answers: Nonce | None = None
    """The nonce of the :class:`SiteRequest` this sync answers (sent after the catch-up relays
    for it); None for the periodic ones."""

    @model_validator(mode="after")
    def _siblings_once(self) -> SiteSync:
        names = [sibling.device_id for sibling in self.siblings]
        if len(set(names)) != len(names):
            raise ValueError("a sibling is listed twice")
        if self.device_id in names:
            raise ValueError("a lane is not its own sibling")
        return self


class SiteRequest(WireModel):
    """A lane, on connecting: "catch me up on my site and tell me who is there"."""

    kind: Literal["site_request"] = "site_request"
    device_id: DeviceId
    project_id: ProjectId
    nonce: Nonce
    """Fresh per request: the sync that answers it says so, and only then does the lane count its
    view of the site as caught up."""


SiteMessage = PassageRelay | SiteSync
_SITE_ADAPTER: TypeAdapter[SiteMessage] = TypeAdapter(
    Annotated[PassageRelay | SiteSync, Field(discriminator="kind")]
)
_REQUEST_ADAPTER = TypeAdapter(SiteRequest)


def _problems(err: ValidationError) -> list[tuple[str, str]]:
    return [(".".join(str(p) for p in e["loc"]), e["msg"]) for e in err.errors(include_input=False)]


def decode_site(payload: bytes | bytearray) -> SiteMessage:
    """A message from a lane's site topic; WireError names the field, never the value."""
    if len(payload) > MAX_SITE_PAYLOAD_BYTES:
        raise WireError("site", [("", f"payload of {len(payload)} bytes exceeds {MAX_SITE_PAYLOAD_BYTES}")])
    try:
        return _SITE_ADAPTER.validate_json(payload)
    except ValidationError as err:
        raise WireError("site", _problems(err)) from err


def decode_site_request(payload: bytes | bytearray) -> SiteRequest:
    if len(payload) > MAX_SITE_PAYLOAD_BYTES:
        raise WireError(
            "SiteRequest", [("", f"payload of {len(payload)} bytes exceeds {MAX_SITE_PAYLOAD_BYTES}")]
        )
    try:
        return _REQUEST_ADAPTER.validate_json(payload)
    except ValidationError as err:
        raise WireError("SiteRequest", _problems(err)) from err


def encode_site(message: SiteMessage | SiteRequest) -> bytes:
    return message.model_dump_json().encode()

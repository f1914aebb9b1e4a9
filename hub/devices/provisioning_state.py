"""Where a gate's lane stands in its provisioning, as the console shows it beside the gate: no
token yet, a token issued (until when), enrolled (its certificate's serial, when), online or
offline (its presence and last heartbeat), its roster (applied against the project's current),
or revoked.

Pure: the hub's record of the device (:class:`~hub.devices.records.DeviceStatus`, None when the
hub never heard of it) and the CA's ledger (tokens and certificates, :mod:`provisioning.ledger`)
in, one value out. Which is "online" is the caller's (``hub.api.present.liveness``), so the rule
for it stays in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from hub.devices.records import DeviceStatus
from provisioning.enrolment import TokenRecord
from provisioning.ledger import CertificateRecord


class ProvisioningState(StrEnum):
    AWAITING_TOKEN = "awaiting_token"  # noqa: S105 - a state, not a token
    """Placed; no token issued yet (or every one expired unused)."""
    TOKEN_ISSUED = "token_issued"  # noqa: S105 - a state, not a token
    """A token waits to be used on the Pi."""
    ENROLLED = "enrolled"
    """Holds a certificate; the hub has not heard from it since."""
    ONLINE = "online"
    OFFLINE = "offline"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class LaneProvisioning:
    device_id: str
    state: ProvisioningState
    token_expires_at: datetime | None = None
    """The newest token still waiting to be used, when it expires."""
    certificate_serial: int | None = None
    """The lane's live certificate (None: none, or revoked)."""
    enrolled_at: datetime | None = None
    """When that certificate was issued."""
    last_seen_at: datetime | None = None
    last_heartbeat_at: datetime | None = None
    roster_applied: int | None = None
    roster_current: int | None = None
    revoked_at: datetime | None = None

    @property
    def roster_behind(self) -> bool:
        """The lane runs an older roster than its project's newest (or none at all)."""
        return self.roster_current is not None and self.roster_applied != self.roster_current


def provisioning_of(
    device_id: str,
    status: DeviceStatus | None,
    tokens: Sequence[TokenRecord],
    certificates: Sequence[CertificateRecord],
    *,
    online: bool,
    now: datetime,
) -> LaneProvisioning:
    """The lane's provisioning; ``online`` is whether the hub counts it online now."""
    waiting = [
        t for t in tokens if t.used_at is None and t.expires_at > now and t.gate.device_id == device_id
    ]
    live = [c for c in certificates if c.device_id == device_id and c.revoked_at is None]
    certificate = max(live, key=lambda c: c.issued_at, default=None)
    beat = (status.last_heartbeat or {}) if status is not None else {}
    sent_at = beat.get("sent_at")
    revoked_at = status.revoked_at if status is not None else None
    if revoked_at is not None:
        state = ProvisioningState.REVOKED
    elif status is not None and status.last_seen_at is not None:
        state = ProvisioningState.ONLINE if online else ProvisioningState.OFFLINE
    elif certificate is not None:
        state = ProvisioningState.ENROLLED
    elif waiting:
        state = ProvisioningState.TOKEN_ISSUED
    else:
        state = ProvisioningState.AWAITING_TOKEN
    return LaneProvisioning(
        device_id=device_id,
        state=state,
        token_expires_at=max((t.expires_at for t in waiting), default=None),
        certificate_serial=None if certificate is None else certificate.serial,
        enrolled_at=None if certificate is None else certificate.issued_at,
        last_seen_at=None if status is None else status.last_seen_at,
        last_heartbeat_at=datetime.fromisoformat(sent_at) if isinstance(sent_at, str) else None,
        roster_applied=None if status is None else status.roster_applied,
        roster_current=None if status is None else status.roster_current,
        revoked_at=revoked_at,
    )

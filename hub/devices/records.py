"""What device reads hand back: a lane's health and its command log, as frozen values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

OFFLINE_AFTER_KEEPALIVES = 1.5
"""A lane is shown offline once it has been silent this many keep-alives (or said ``offline``)."""


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    device_id: str
    last_seen_at: datetime | None
    presence_state: str | None
    presence_generation: int | None
    presence_at: datetime | None
    last_heartbeat: Mapping[str, Any] | None
    enrolled_at: datetime | None = None
    revoked_at: datetime | None = None
    """Set while the device is revoked: the hub refuses its events and the broker its certificate."""
    # The lane's last roster report and the newest version of its project (roster lag = the gap).
    roster_applied: int | None = None
    roster_current: int | None = None
    roster_problem: str | None = None


@dataclass(frozen=True, slots=True)
class CommandRecord:
    command_id: str
    device_id: str
    action: str
    operator: str
    log_level: str | None
    issued_at: datetime
    expires_at: datetime
    result_ok: bool | None
    result_detail: str | None
    result_at: datetime | None


@dataclass(frozen=True, slots=True)
class LaneGate:
    """The gate a lane stands at, as its page names it (a lane the account sees)."""

    device_id: str
    project_id: str
    name: str
    lane: str
    kind: str
    direction: str | None

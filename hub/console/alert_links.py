"""Where an alert on the console links to: only pages its reader may open.

An alert is shown to an account because the account's scope admits it (hub.workflows.alerts: gates
through the device clause, people through the person-record clause, orders through the order
clause), so the lane an alert names is a lane page the reader may open, and so is the order. The
project is not: the hub operator sees every lane and no project (no personal data), so its "gate
offline" alert links to the lane, never to a project page that would answer 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from hub.auth.principal import Principal
from hub.workflows.records import Alert

LANE_KINDS: Final = frozenset(
    {"gate_offline", "lane_fault", "clock_step", "attribution_refused", "clock_suspect", "journal_gap"}
)
"""Alerts about a lane: their ``subject`` is its device id."""


@dataclass(frozen=True, slots=True)
class AlertLink:
    kind: str
    """project | lane | order: what the link opens."""
    text: str
    href: str


def alert_links(alert: Alert, reader: Principal | None) -> tuple[AlertLink, ...]:
    """The pages ``reader`` may open from ``alert``, the project first (for the accounts that see
    projects), then the lane, then the order."""
    if reader is None:
        return ()
    found: list[AlertLink] = []
    if alert.project_id and reader.sees_personal_data:
        found.append(AlertLink("project", alert.project_id, f"/console/projects/{alert.project_id}"))
    device = alert.subject if alert.kind in LANE_KINDS else (alert.details or {}).get("device_id")
    if isinstance(device, str) and device:
        found.append(AlertLink("lane", device, f"/console/devices/{device}"))
    order = (alert.details or {}).get("order_id") if alert.kind == "order_overdue" else None
    if order is not None:
        found.append(AlertLink("order", str(order), f"/console/orders/{order}"))
    return tuple(found)

"""What the workflows hand back: frozen values, never rows; no ID number in any of them except
:class:`UploadRecord`'s, which only the full-ID export builds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class OrderStep:
    at: datetime
    username: str
    action: str
    note: str | None


@dataclass(frozen=True, slots=True)
class Order:
    id: int
    district: str
    project_id: str | None
    enterprise_id: str | None
    recipient_name: str
    subject: str
    requirements: str
    deadline: date
    status: str
    issued_at: datetime
    issued_by: str
    responded_at: datetime | None
    closed_at: datetime | None
    overdue: bool
    """Still open after its deadline (site calendar): computed on read."""
    escalated: bool
    """Overdue, so flagged to the city station whoever issued it."""
    history: tuple[OrderStep, ...] = ()
    inspection_id: int | None = None
    """The inspection the order was issued from (hub.workflows.inspections), if any."""


@dataclass(frozen=True, slots=True)
class Deduction:
    id: int
    district: str
    enterprise_id: str | None
    enterprise_name: str | None
    person_id: str | None
    person_name: str | None
    project_id: str | None
    points: int
    reason: str
    order_id: int | None
    deducted_at: datetime
    deducted_by: str


@dataclass(frozen=True, slots=True)
class ProjectMonth:
    """One project's month (按月汇总)."""

    project_id: str
    name: str
    district: str
    registered: bool
    persons_assigned: int
    new_assignments: int
    persons_attended: int
    person_days: int
    seconds_on_site: int
    managers_assigned: int
    managers_present: int
    """Managers with at least one day on site in the month."""
    manager_days: int
    orders_issued: int
    orders_open_overdue: int
    deductions: int
    points_deducted: int


@dataclass(frozen=True, slots=True)
class DistrictMonth:
    district: str
    name: str
    projects_with_permit: int
    projects_registered: int
    persons_registered: int
    """Registered by the district's bureau within the month."""
    person_days: int
    seconds_on_site: int
    manager_days: int
    orders_issued: int
    orders_open_overdue: int
    deductions: int
    points_deducted: int


@dataclass(frozen=True, slots=True)
class UploadRecord:
    """One ``WorkerAttendance`` row of the national worker platform."""

    id_card_type: str
    id_card_number: str = field(repr=False)
    date: str
    """``yyyy-MM-dd HH:mm:ss``, site time."""
    direction: str
    """``01`` in, ``02`` out."""


@dataclass(frozen=True, slots=True)
class Alert:
    kind: str
    """manager_absent | gate_offline | lane_fault | clock_step | attribution_refused | clock_suspect |
    watchlist_hit | not_in_roster | order_overdue (hub.workflows.alerts)"""
    project_id: str | None
    at: datetime | None
    """When it happened (a hit, a gate last heard from, a deadline passed); None if never."""
    subject: str
    """What it is about: a person's, a gate's or an order's id."""
    message: str
    details: dict[str, str | int | float | bool | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HeartbeatPoint:
    minute: datetime
    journal_backlog: int
    roster_version: int
    clock_synced: bool
    clock_skew_s: float
    readers_ok: bool
    cpu_temp_c: float | None
    free_disk_mb: float

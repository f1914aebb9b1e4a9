"""What the registry hands back: frozen values, never rows, and never an ID number by accident.

A :class:`Person` carries its ID number already masked unless the asking account may read it
whole; either way the field stays out of ``repr``, so a record that reaches a log shows nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class District:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Enterprise:
    id: str
    number: str
    name: str
    kind: str
    district: str
    local: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    id_number: str = field(repr=False)
    """Masked (first 6 and last 4) unless ``id_number_masked`` is False."""
    id_number_masked: bool
    name: str = field(repr=False)
    card_kind: str
    nation: str | None
    birth_date: date | None = field(repr=False)
    enterprise_id: str | None
    category: str
    position: str | None
    registered_district: str | None
    watchlisted: bool
    watchlist_reason: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    permit_number: str
    name: str
    district: str
    address: str
    gc_enterprise_id: str
    permit_issued_on: date | None
    registered_at: datetime | None
    """When the general contractor registered it (报备); None until then."""
    created_at: datetime
    completed_on: date | None = None
    """竣工: its records are kept the retention period after this day (hub.retention); None while
    under way."""


@dataclass(frozen=True, slots=True)
class Party:
    project_id: str
    enterprise_id: str
    role: str
    """general_contractor | subcontractor | supervision"""
    joined_at: datetime
    account: str | None
    """The username of the enterprise's project-department account on this project, if any."""


@dataclass(frozen=True, slots=True)
class Assignment:
    id: int
    project_id: str
    person_id: str
    enterprise_id: str
    role: str
    entry_date: date
    exit_date: date | None
    created_at: datetime
    pass_from: datetime | None = None
    """A visitor's pass window (both or neither): when the lanes admit the visitor."""
    pass_until: datetime | None = None
    team_id: str | None = None
    """班组, when the person works in one."""
    entry_read_device: str | None = None
    """The office reader whose card read registered the entry (进场登记); None: typed by hand."""
    exit_read_device: str | None = None


@dataclass(frozen=True, slots=True)
class GateRecord:
    device_id: str
    project_id: str
    lane: str
    direction: str | None
    """``in`` or ``out`` (``both`` on rows from before issue 14); None for an office reader."""
    name: str
    kind: str = "lane"
    """``lane`` or ``office_reader`` (:class:`hub.registry.models.GateKind`)."""


@dataclass(frozen=True, slots=True)
class Inspection:
    id: int
    project_id: str
    account: str
    inspected_on: date
    findings: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Created(Generic[T]):
    """A write's result and whether it made something new (a gate placed) or changed it (moved)."""

    value: T
    created: bool

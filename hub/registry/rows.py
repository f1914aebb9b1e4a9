"""Rows to records, and the lookups every write starts with (does what the body names exist?).

Functions of an open connection, so a write runs them inside its own transaction and sees the
same database its checks were made against.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import CursorResult, Executable, Row, Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.refusals import Missing, Refusal, UnknownReference
from hub.registry.records import Assignment, District, Enterprise, GateRecord, Inspection, Project
from hub.store.schema import accounts, assignments, districts, enterprises, gates, inspections, projects

ENTERPRISE_COLUMNS = (
    enterprises.c.id,
    enterprises.c.number,
    enterprises.c.name,
    enterprises.c.kind,
    enterprises.c.district,
    enterprises.c.local,
    enterprises.c.created_at,
)
PROJECT_COLUMNS = tuple(c for c in projects.c if c.name != "site_key_cipher")
ASSIGNMENT = assignments.alias("assignment")
"""Assignments as a record being read: an alias, because the scope clauses look assignments up
themselves (hub.auth.scope._assigned_via), and an unaliased outer query would make their
EXISTS compare the inner table with itself (always true) instead of with the outer row."""
ASSIGNMENT_COLUMNS = tuple(c for c in ASSIGNMENT.c if c.name != "credential_hash")
GATE_COLUMNS = tuple(gates.c)
INSPECTION_COLUMNS = (
    inspections.c.id,
    inspections.c.project_id,
    accounts.c.username.label("account"),
    inspections.c.inspected_on,
    inspections.c.findings,
    inspections.c.created_at,
)


async def insert_unique(
    conn: AsyncConnection, statement: Executable, conflict: Callable[[str], Refusal]
) -> CursorResult[Any]:
    """Insert a row whose uniqueness the write checked just before. On PostgreSQL (read committed)
    a concurrent write can get in between check and insert; it then ends in the same specific
    refusal, not a 500. ``conflict`` gets the database's message (which constraint), lower case."""
    try:
        return await conn.execute(statement)
    except IntegrityError as err:
        why = str(err.orig).lower()
        if "unique" not in why:
            raise
        raise conflict(why) from None


def inserted_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    if not key or key[0] is None:
        raise RuntimeError("the database returned no id for the new row")
    return int(key[0])


def district(row: Row[Any]) -> District:
    return District(**row._mapping)


def enterprise(row: Row[Any]) -> Enterprise:
    return Enterprise(**row._mapping)


def project(row: Row[Any]) -> Project:
    return Project(**row._mapping)


def assignment(row: Row[Any]) -> Assignment:
    return Assignment(**row._mapping)


def gate(row: Row[Any]) -> GateRecord:
    return GateRecord(**row._mapping)


def inspection(row: Row[Any]) -> Inspection:
    return Inspection(**row._mapping)


def inspections_query() -> Select[Any]:
    return select(*INSPECTION_COLUMNS).select_from(
        inspections.join(accounts, accounts.c.id == inspections.c.account_id)
    )


async def need_district(conn: AsyncConnection, field: str, code: str) -> District:
    row = (await conn.execute(select(districts).where(districts.c.code == code))).first()
    if row is None:
        raise UnknownReference(field, "district", code)
    return district(row)


async def need_enterprise(conn: AsyncConnection, field: str, enterprise_id: str) -> Enterprise:
    query: Select[Any] = select(*ENTERPRISE_COLUMNS).where(enterprises.c.id == enterprise_id)
    row = (await conn.execute(query)).first()
    if row is None:
        raise UnknownReference(field, "enterprise", enterprise_id)
    return enterprise(row)


async def project_row(conn: AsyncConnection, project_id: str, *, lock: bool = False) -> Row[Any]:
    """The project the URL names, with its sealed site key; 404 when there is none."""
    query = select(projects).where(projects.c.id == project_id)
    if lock:  # PostgreSQL: serialise writes to one project (SQLite's BEGIN IMMEDIATE already does)
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        raise Missing("project", project_id)
    return row

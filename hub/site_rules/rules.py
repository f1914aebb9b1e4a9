"""A project's site rules read and written for one account, and read unscoped for the roster.

A part of :class:`hub.registry.Registry` (the registry's account, store, clock and roster
listeners): a write is one transaction with its audit line, checked by role and, for a project
department, against its own project; after it commits the registry's roster listeners are told,
so the project's roster compiles again with the new rules, mints a version (the rules are in its
digest) and goes to the lanes signed. A read ANDs :func:`hub.auth.scope.site_rules_clause` into
its SQL: a project outside the account's scope is 404, as if it did not exist.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth.permissions import READ_SITE_RULES, WRITE_SITE_RULES
from hub.auth.scope import site_rules_clause
from hub.refusals import Missing
from hub.registry import permissions as may
from hub.registry import rows
from hub.registry.base import RegistryBase
from hub.site_rules.model import DEFAULT_RULES, SiteRules, SiteRulesIn
from hub.store import Store
from hub.store.schema import projects, site_rules
from wire.roster import RosterRules


def _rules_in(row: Row[Any]) -> SiteRulesIn:
    return SiteRulesIn.model_validate(
        {
            "anti_passback": row.anti_passback,
            "accept_uid_only": row.accept_uid_only,
            "working_hours": row.working_hours,
            "inside_expires_at": row.inside_expires_at,
            "night_work": row.night_work,
        }
    )


async def _row(conn: AsyncConnection, project_id: str) -> Row[Any] | None:
    return (await conn.execute(select(site_rules).where(site_rules.c.project_id == project_id))).first()


class SiteRuleWrites(RegistryBase):
    async def site_rules(self, project_id: str) -> SiteRules:
        """The project's rules; the defaults (unset: ``updated_by`` None) when never set."""
        may.check_role(self._principal, READ_SITE_RULES)
        p = projects.c
        visible = select(p.id).where(p.id == project_id, site_rules_clause(self._principal, p.id))
        async with self._store.read("site_rules.read") as conn:
            if await conn.scalar(visible) is None:
                raise Missing("project", project_id)
            row = await _row(conn, project_id)
        if row is None:
            return SiteRules(project_id, DEFAULT_RULES, None, None)
        return SiteRules(project_id, _rules_in(row), row.updated_by, row.updated_at)

    async def set_site_rules(self, project_id: str, data: SiteRulesIn) -> SiteRules:
        """Replace the project's rules whole; its lanes get them with the next roster version."""
        may.check_role(self._principal, WRITE_SITE_RULES)
        may.check_own_project(self._principal, project_id, "set site rules")
        now = self._clock.wall()
        stored = data.model_dump(mode="json")
        values = {**stored, "updated_by": self._principal.username, "updated_at": now}
        async with self._store.write("site_rules.write") as conn:
            await rows.project_row(conn, project_id, lock=True)
            if await _row(conn, project_id) is None:
                await conn.execute(site_rules.insert().values(project_id=project_id, **values))
            else:
                await conn.execute(
                    site_rules.update().where(site_rules.c.project_id == project_id).values(**values)
                )
            await self._audit(conn, "site_rules.set", project_id, stored)
        await self._roster_changes.notify([project_id])
        return SiteRules(project_id, data, self._principal.username, now)


async def roster_rules(store: Store, project_id: str) -> RosterRules | None:
    """Unscoped, for the roster compiler only: the rules its lanes must run, None when never set."""
    async with store.read("site_rules.roster") as conn:
        row = await _row(conn, project_id)
    return None if row is None else _rules_in(row).to_wire()


async def roster_rules_of(store: Store, project_ids: Collection[str]) -> dict[str, RosterRules]:
    """:func:`roster_rules` of many projects in one read (the compiler's start-up); a project
    whose rules were never set is absent."""
    query = select(site_rules).where(site_rules.c.project_id.in_(project_ids))
    async with store.read("site_rules.rosters") as conn:
        found = (await conn.execute(query)).all()
    return {str(row.project_id): _rules_in(row).to_wire() for row in found}

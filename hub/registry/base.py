"""What every part of :class:`~hub.registry.Registry` shares: the store, the account it acts
for, and the helpers a write runs inside its transaction (audit line, account, project lock).

The account is given when the registry is built and never per call, so no method can read or
write for "nobody in particular": reads AND that account's scope (:mod:`hub.auth.scope`) into
their SQL, writes check its permissions (:mod:`hub.registry.permissions`) and sign the audit line.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth import audit
from hub.auth.accounts import AccountExists, insert_account
from hub.auth.principal import Principal, Role
from hub.auth.scope import person_record_clause, project_clause
from hub.refusals import InvalidAccount, Missing, ProjectNotRegistered, UsernameTaken
from hub.registry import rows
from hub.registry.models import AccountIn
from hub.registry.records import Person
from hub.registry.roster_changes import RosterChanges
from hub.registry.vault import IdVault
from hub.store import Store
from hub.store.schema import project_parties, projects
from wire.clock import Clock, SystemClock


def mint(prefix: str) -> str:
    """A fresh id that says nothing about whom it names (ids travel in rosters and events)."""
    return f"{prefix}-{secrets.token_hex(8)}"


def fields_of(record: Any) -> dict[str, Any]:
    """A record's fields by name, as the columns of its row."""
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


class RegistryBase:
    def __init__(
        self,
        store: Store,
        principal: Principal,
        *,
        vault: IdVault,
        roster_changes: RosterChanges | None = None,
        clock: Clock | None = None,
        fast_hash: bool = False,
    ) -> None:
        """``principal``: whom every read and write is for; ``vault``: seals and opens ID numbers
        and site keys; ``roster_changes``: told after each committed change to a site's roster
        (nobody when not given); ``clock``: what every write is stamped with (the system's when
        not given); ``fast_hash``: cheap argon2 parameters for the accounts it creates (tests,
        demo seeds)."""
        self._store = store
        self._principal = principal
        self._vault = vault
        self._roster_changes = roster_changes or RosterChanges()
        self._clock = clock or SystemClock()
        self._fast_hash = fast_hash

    @property
    def principal(self) -> Principal:
        return self._principal

    def _person(self, row: Row[Any]) -> Person:
        full = self._principal.sees_full_id_numbers
        return Person(
            id=row.id,
            id_number=self._vault.open_id(row.id, row.id_cipher) if full else row.id_masked,
            id_number_masked=not full,
            name=row.name,
            card_kind=row.card_kind,
            nation=row.nation,
            birth_date=row.birth_date,
            enterprise_id=row.enterprise_id,
            category=row.category,
            position=row.position,
            registered_district=row.registered_district,
            watchlisted=row.watchlisted,
            watchlist_reason=row.watchlist_reason,
            created_at=row.created_at,
        )

    async def _account(
        self,
        conn: AsyncConnection,
        account: AccountIn,
        *,
        role: Role,
        display_name: str,
        enterprise_id: str,
        project_id: str | None = None,
    ) -> None:
        try:
            await insert_account(
                conn,
                username=account.username,
                password=account.password.get_secret_value(),
                role=role,
                display_name=display_name[:128],
                now=self._clock.wall(),
                enterprise_id=enterprise_id,
                project_id=project_id,
                fast_hash=self._fast_hash,
            )
        except AccountExists as err:
            raise UsernameTaken(err.username) from None
        except IntegrityError as err:  # taken by a concurrent write since insert_account looked
            if "unique" not in str(err.orig).lower():
                raise
            raise UsernameTaken(account.username) from None
        except ValueError as err:  # a weak password or bad username the models let through
            raise InvalidAccount(f"account: {err}") from None

    async def _audit(self, conn: AsyncConnection, action: str, target: str, detail: dict[str, Any]) -> None:
        await audit.record(
            conn, self._principal, f"registry.{action}", at=self._clock.wall(), target=target, detail=detail
        )

    async def _registered_project(self, conn: AsyncConnection, project_id: str) -> Row[Any]:
        row = await rows.project_row(conn, project_id, lock=True)
        if row.registered_at is None:
            raise ProjectNotRegistered(project_id)
        return row

    @staticmethod
    async def _party_role(conn: AsyncConnection, project_id: str, enterprise_id: str) -> str | None:
        pp = project_parties.c
        role: str | None = await conn.scalar(
            select(pp.role).where(pp.project_id == project_id, pp.enterprise_id == enterprise_id)
        )
        return role

    async def _assignment_to_change(self, conn: AsyncConnection, assignment_id: int) -> Row[Any]:
        """The assignment, locked, if the account sees its person on its project; 404 otherwise."""
        a = rows.ASSIGNMENT.c
        visible = person_record_clause(self._principal, a.project_id, a.person_id)
        query = select(*rows.ASSIGNMENT_COLUMNS).where(a.id == assignment_id, visible).with_for_update()
        row = (await conn.execute(query)).first()
        if row is None:
            raise Missing("assignment", assignment_id)
        return row

    async def _need_visible_project(self, conn: AsyncConnection, project_id: str) -> None:
        """404 for a project that does not exist or that the account cannot see (the same answer)."""
        p = projects.c
        visible = select(p.id).where(p.id == project_id, project_clause(self._principal, p.id))
        if await conn.scalar(visible) is None:
            raise Missing("project", project_id)

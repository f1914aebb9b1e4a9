"""The registration form's side of the office readers' reads: scoped, audited, looked up.

:class:`hub.registration_reads.CardReads` holds the reads; this is what an account may take from
it, built with a required principal like every domain object of the hub: the project must be one
the account sees (:func:`hub.auth.scope.project_clause`), each read handed out leaves an audit
line (who saw which reader's read, with the ID number's blind index, never the number), and each
says whether its person is registered already (by the blind index, as ``persons/lookup`` finds
them) and assigned to the project now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth import audit
from hub.auth.principal import Principal
from hub.auth.scope import project_clause
from hub.registration_reads import CardReads, HeldRead
from hub.registry import IdVault
from hub.store import Store
from hub.store.schema import assignments, persons, projects
from wire.clock import SITE_ZONE, Clock


@dataclass(frozen=True, slots=True)
class ShownRead:
    held: HeldRead
    person_id: str | None
    """The registered person with the card's ID number, or None."""
    assignment_id: int | None
    """Their assignment to the project that has not ended (today or later), or None."""


class RegistrationDesk:
    def __init__(
        self, store: Store, reads: CardReads, vault: IdVault, principal: Principal, *, clock: Clock
    ) -> None:
        self._store = store
        self._reads = reads
        self._vault = vault
        self._principal = principal
        self._clock = clock

    async def sees(self, project_id: str) -> bool:
        """Whether the account sees the project (a project it does not see is as one that is not there)."""
        async with self._store.read("card reads: project") as conn:
            found = await conn.scalar(
                select(projects.c.id).where(
                    projects.c.id == project_id, project_clause(self._principal, projects.c.id)
                )
            )
        return found is not None

    async def reads(self, project_id: str, after: int, wait_s: float) -> list[ShownRead]:
        """The project's reads newer than ``after``, waiting up to ``wait_s`` for one; audited.
        The caller has checked :meth:`sees`: no connection is held while waiting."""
        found = await self._reads.wait(project_id, after, wait_s)
        if not found:
            return []
        today = self._clock.wall().astimezone(SITE_ZONE).date()
        shown = []
        async with self._store.write("card reads: shown") as conn:
            for held in found:
                index = self._vault.blind_index(held.read.id_number)
                person_id, assignment_id = await _registered(conn, index, project_id, today)
                await audit.record(
                    conn,
                    self._principal,
                    "card_read.view",
                    at=self._clock.wall(),
                    target=held.read.device_id,
                    detail={"read_id": held.read.read_id, "id_index": index, "project_id": project_id},
                )
                shown.append(ShownRead(held, person_id, assignment_id))
        return shown


async def _registered(
    conn: AsyncConnection, index: str, project_id: str, today: date
) -> tuple[str | None, int | None]:
    person_id: str | None = await conn.scalar(select(persons.c.id).where(persons.c.id_index == index))
    if person_id is None:
        return None, None
    a = assignments.c
    assignment_id: int | None = await conn.scalar(
        select(a.id)
        .where(a.project_id == project_id, a.person_id == person_id)
        .where(or_(a.exit_date.is_(None), a.exit_date >= today))
        .order_by(a.entry_date.desc())
        .limit(1)
    )
    return person_id, assignment_id

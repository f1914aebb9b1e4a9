"""Enrolment of lanes, the database's side: which gate a token may enrol, which lane an account
may revoke, and the audit line of each action in the transaction the action runs in (so there is
never a token or a certificate without its audit line).

The rules live in :mod:`provisioning` (tokens, the CA's ledger); the HTTP edge in
:mod:`hub.api.enrolment`. :class:`Enrolments` serves an account: a token only for a gate of a
project it sees (:func:`hub.auth.scope.project_clause`), a revocation only of a lane it sees
(:func:`hub.auth.scope.device_clause`). :func:`enrol_by_token` has no account: the token is the
authority, checked by the registrar before it is called.

A revocation is the hub's own record too (``devices.revoked_at``, set in the revocation's
transaction; :mod:`hub.devices.revocation`): the ingest refuses the device from the commit on,
whether or not the broker was told. Telling the broker is the caller's next step, after the commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from hub.auth import audit
from hub.auth.principal import Principal
from hub.auth.scope import device_clause, project_clause
from hub.devices.revocation import mark_enrolled, mark_revoked
from hub.errors import NotFound
from hub.events.attribution import OFFICE_READER
from hub.store import Store
from hub.store.schema import devices, gates
from provisioning.enrolment import (
    EnrolledGate,
    EnrolmentBundle,
    EnrolmentRefused,
    EnrolmentRequest,
    IssuedToken,
    TokenRecord,
)
from provisioning.registrar import Registrar
from wire.models import Direction

RevokeCertificates = Callable[[], Awaitable[tuple[datetime, Sequence[int]]]]
"""Revokes the lane's certificates once the lane is known visible: when, and the serials."""


class GateDirectionRefused(EnrolmentRefused):
    """The gate is registered for a direction a lane controller cannot drive."""

    status = 409


class Enrolments:
    """Tokens and revocations for the lanes ``principal`` sees."""

    def __init__(self, store: Store, principal: Principal) -> None:
        self._store = store
        self._principal = principal

    async def issue_token(
        self, registrar: Registrar, device_id: str, *, lifetime: timedelta, now: datetime
    ) -> IssuedToken:
        """A one-time token for the gate ``device_id`` of a project the account sees; NotFound
        for any other gate, :class:`GateDirectionRefused` for a gate no lane can drive."""
        g = gates.c
        query = select(g.device_id, g.project_id, g.lane, g.direction, g.kind).where(
            g.device_id == device_id, project_clause(self._principal, g.project_id)
        )
        async with self._store.write("issue enrolment token") as conn:
            row = (await conn.execute(query)).first()
            if row is None:
                raise NotFound(f"gate {device_id} not found in your project")
            if row.kind == OFFICE_READER:
                gate = EnrolledGate(row.device_id, row.project_id, row.lane, None, "registration")
            elif row.direction not in {d.value for d in Direction}:
                raise GateDirectionRefused(
                    "gate_direction",
                    f"gate {row.device_id} is registered for direction {row.direction!r}; a lane controller "
                    "drives one direction (in or out): register one gate per lane",
                )
            else:
                gate = EnrolledGate(row.device_id, row.project_id, row.lane, Direction(row.direction))
            issued = registrar.issue_token(
                gate, issued_by=self._principal.username, now=now, lifetime=lifetime
            )
            await audit.record(
                conn,
                self._principal,
                "enrolment_token.issue",
                at=now,
                target=gate.device_id,
                detail={"expires_at": issued.record.expires_at.isoformat()},
            )
        return issued

    async def revoke(self, device_id: str, revoke_certificates: RevokeCertificates) -> Sequence[int]:
        """Every certificate of a lane the account sees, revoked with its audit line and the
        hub's own mark (the ingest refuses the device from the commit on); NotFound (before
        ``revoke_certificates`` runs) for a lane it does not see.

        A lane at a gate, or one the hub has heard from: a lane taken off its gate is no longer
        any project's, but still the operator's and the city's (device_clause), and its
        certificate must stay revocable.
        """
        g, d = gates.c, devices.c
        visible = select(g.device_id).where(
            g.device_id == device_id, device_clause(self._principal, g.device_id)
        )
        heard = select(d.device_id).where(
            d.device_id == device_id, device_clause(self._principal, d.device_id)
        )
        async with self._store.write("revoke a device") as conn:
            if (await conn.execute(visible.union(heard))).first() is None:
                raise NotFound(f"device {device_id} is not a lane you can see")
            now, serials = await revoke_certificates()
            await mark_revoked(conn, device_id, now)
            await audit.record(
                conn,
                self._principal,
                "device.revoke",
                at=now,
                target=device_id,
                detail={"certificates": len(serials)},
            )
        return serials


async def enrol_by_token(
    store: Store,
    registrar: Registrar,
    request: EnrolmentRequest,
    token: TokenRecord,
    *,
    site_key: bytes,
    now: datetime,
) -> EnrolmentBundle:
    """Sign the lane's CSR and spend ``token`` (already checked), with the audit line, in one
    transaction; a revocation of the device is lifted. No account: the lane's token is the authority."""
    async with store.write("enrol a lane") as conn:
        bundle = await asyncio.to_thread(registrar.enrol, request, site_key=site_key, now=now)
        await mark_enrolled(conn, token.gate.device_id, now)
        await audit.record(
            conn,
            None,
            "device.enrol",
            at=now,
            target=token.gate.device_id,
            detail={"token_issued_by": token.issued_by, "project_id": token.gate.project_id},
            username=f"device:{token.gate.device_id}",
        )
    return bundle

"""Enrolment of lanes over the API: one-time tokens for a project's gates, CSRs signed for them,
and revocation of a device.

- ``POST /api/v1/enrolment-tokens`` (GC project account, its own project's gates): a token for
  one gate, shown once in the answer;
- ``POST /api/v1/enrolments`` (no login: the token is the authority): a token and a CSR in, the
  :class:`~provisioning.enrolment.EnrolmentBundle` out;
- ``POST /api/v1/devices/{device_id}/revocation`` (hub operator, city station, or the GC project
  account of the lane's project): every certificate of the device revoked, the broker told.

The rules live in :mod:`provisioning` (pure core, the CA's ledger); this module is the HTTP edge.
Every action writes an audit line in a transaction that rolls back if the action fails, and the
action runs inside it, so there is never a token or a certificate without its audit line.

The desk is put on the app by :func:`configure` (the app factory, tests, the demo). A hub without
one answers 503 ``enrolment_unavailable`` on these routes.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from hub.api.body import json_body
from hub.api.errors import ApiError
from hub.api.keys import STORE
from hub.api.principal import principal_of
from hub.auth import audit
from hub.auth.scope import device_clause, project_clause
from hub.config import HubConfig
from hub.rosters.keys import load_signing_key, public_key_b64
from hub.store import Store
from hub.store.schema import devices, gates, projects
from provisioning.ca import CA_CERT_NAME, CertificateAuthority
from provisioning.enrolment import (
    MAX_CSR_LENGTH,
    MAX_TOKEN_LIFETIME,
    BrokerAddress,
    EnrolmentRefused,
    EnrolmentRequest,
    Gate,
    device_of_token,
)
from provisioning.ledger import UnknownDevice
from provisioning.registrar import BrokerFiles, Registrar
from wire.clock import SystemClock
from wire.models import DEVICE_ID_PATTERN, Direction

CA_DIR = "ca"
BROKER_DIR = "broker"
SiteKeyLookup = Callable[[str], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class EnrolmentDesk:
    registrar: Registrar
    site_key: SiteKeyLookup
    """The project's site key (the registry keeps it sealed; the lookup opens it)."""
    clock: Callable[[], datetime] = field(default_factory=lambda: SystemClock().wall)
    """The wall clock tokens are issued, checked and revoked by (the app passes its clock's)."""


DESK = web.AppKey("enrolment", EnrolmentDesk)


def configure(app: web.Application, desk: EnrolmentDesk) -> None:
    app[DESK] = desk


def desk_from_config(
    config: HubConfig,
    store: Store,
    open_site_key: Callable[[str, bytes], bytes],
    *,
    clock: Callable[[], datetime] | None = None,
    state_dir: Path | None = None,
) -> EnrolmentDesk | None:
    """The desk of a hub whose state directory holds a CA (``<state dir>/ca``, made with
    :meth:`CertificateAuthority.create`), else None (the routes then answer 503).

    Lanes are told the broker the hub itself uses (``mqtt_host``/``mqtt_port``). Revocations are
    written to ``<state dir>/broker/{ca.crl,acl}`` when that directory exists (the broker reads them
    there; ``firmware/systemd/sitegate-broker-reload.path`` reloads it); ``open_site_key`` opens a
    project's sealed site key (``IdVault.open_site_key``)."""
    state_dir = state_dir or config.state_dir()
    ca_dir = state_dir / CA_DIR
    if not (ca_dir / CA_CERT_NAME).exists():
        return None
    broker_dir = state_dir / BROKER_DIR
    files = BrokerFiles(broker_dir / "ca.crl", broker_dir / "acl") if broker_dir.is_dir() else None
    registrar = Registrar(
        CertificateAuthority.load(ca_dir),
        broker=BrokerAddress(host=config.mqtt_host, port=config.mqtt_port),
        roster_public_key=public_key_b64(load_signing_key(config.roster_key_path())),
        broker_files=files,
    )

    async def site_key(project_id: str) -> bytes:
        query = select(projects.c.site_key_cipher).where(projects.c.id == project_id)
        async with store.read("site key for an enrolment") as conn:
            sealed = (await conn.execute(query)).scalar_one_or_none()
        if sealed is None:
            raise ApiError(409, "project_gone", f"project {project_id} of this token is no longer registered")
        return open_site_key(project_id, sealed)

    return EnrolmentDesk(registrar, site_key, clock or SystemClock().wall)


def _desk(request: web.Request) -> EnrolmentDesk:
    desk = request.app.get(DESK)
    if desk is None:
        raise ApiError(503, "enrolment_unavailable", "this hub has no certificate authority configured")
    return desk


def _refused(err: EnrolmentRefused) -> ApiError:
    return ApiError(err.status, err.code, err.message)


class TokenRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    device_id: Annotated[str, Field(pattern=DEVICE_ID_PATTERN)]
    lifetime_h: Annotated[float, Field(gt=0, le=MAX_TOKEN_LIFETIME.total_seconds() / 3600)] = 24


async def issue_token(request: web.Request) -> web.Response:
    principal = principal_of(request)
    body = await json_body(request, TokenRequest)
    desk = _desk(request)
    now = desk.clock()
    g = gates.c
    query = select(g.device_id, g.project_id, g.lane, g.direction).where(
        g.device_id == body.device_id, project_clause(principal, g.project_id)
    )
    async with request.app[STORE].write("issue enrolment token") as conn:
        row = (await conn.execute(query)).first()
        if row is None:
            raise ApiError(404, "not_found", f"gate {body.device_id} not found in your project")
        if row.direction not in {d.value for d in Direction}:
            raise ApiError(
                409,
                "gate_direction",
                f"gate {row.device_id} is registered for direction {row.direction!r}; a lane controller "
                "drives one direction (in or out): register one gate per lane",
            )
        gate = Gate(row.device_id, row.project_id, row.lane, Direction(row.direction))
        issued = desk.registrar.issue_token(
            gate, issued_by=principal.username, now=now, lifetime=timedelta(hours=body.lifetime_h)
        )
        await audit.record(
            conn,
            principal,
            "enrolment_token.issue",
            at=now,
            target=gate.device_id,
            detail={"expires_at": issued.record.expires_at.isoformat()},
        )
    return web.json_response(
        {
            "token": issued.token,
            "device_id": gate.device_id,
            "expires_at": issued.record.expires_at.isoformat(),
            "note": "shown once: the hub keeps only a digest of it",
        },
        status=201,
    )


async def enrol(request: web.Request) -> web.Response:
    body = await json_body(request, EnrolmentRequest, max_bytes=MAX_CSR_LENGTH + 1024)
    try:
        device_of_token(body.token)  # a malformed token is the client's mistake on any hub
    except EnrolmentRefused as err:
        raise _refused(err) from None
    desk = _desk(request)
    now = desk.clock()
    try:
        record = desk.registrar.check(body.token, now)
        site_key = await desk.site_key(record.gate.project_id)
        async with request.app[STORE].write("enrol a lane") as conn:
            bundle = await asyncio.to_thread(desk.registrar.enrol, body, site_key=site_key, now=now)
            await audit.record(
                conn,
                None,
                "device.enrol",
                at=now,
                target=record.gate.device_id,
                detail={"token_issued_by": record.issued_by, "project_id": record.gate.project_id},
                username=f"device:{record.gate.device_id}",
            )
    except EnrolmentRefused as err:
        raise _refused(err) from None
    return web.json_response(bundle.model_dump(mode="json"), status=201)


async def revoke(request: web.Request) -> web.Response:
    principal = principal_of(request)
    device_id = request.match_info["device_id"]
    if not re.fullmatch(DEVICE_ID_PATTERN, device_id):
        raise ApiError(400, "invalid_parameter", "'device_id' is not a device id")
    # A lane at a gate, or one the hub has heard from: a lane taken off its gate is no longer any
    # project's, but still the operator's and the city's (device_clause), and its certificate
    # must stay revocable. An id the hub knows nothing of is a 404 (never a 503 without a CA).
    g, d = gates.c, devices.c
    visible = select(g.device_id).where(g.device_id == device_id, device_clause(principal, g.device_id))
    heard = select(d.device_id).where(d.device_id == device_id, device_clause(principal, d.device_id))
    async with request.app[STORE].write("revoke a device") as conn:
        if (await conn.execute(visible.union(heard))).first() is None:
            raise ApiError(404, "not_found", f"device {device_id} is not a lane you can see")
        desk = _desk(request)
        now = desk.clock()
        try:
            serials = await asyncio.to_thread(desk.registrar.revoke, device_id, now)
        except UnknownDevice:
            raise ApiError(404, "not_found", f"no certificate was ever issued to {device_id}") from None
        await audit.record(
            conn, principal, "device.revoke", at=now, target=device_id, detail={"certificates": len(serials)}
        )
    return web.json_response({"device_id": device_id, "revoked_serials": [str(s) for s in serials]})

"""Enrolment of lanes over the API: one-time tokens for a project's gates, CSRs signed for them,
and revocation of a device.

- ``POST /api/v1/enrolment-tokens`` (GC project account, its own project's gates): a token for
  one gate, shown once in the answer;
- ``POST /api/v1/enrolments`` (no login: the token is the authority): a token and a CSR in, the
  :class:`~provisioning.enrolment.EnrolmentBundle` out;
- ``POST /api/v1/devices/{device_id}/revocation`` (hub operator, city station, or the GC project
  account of the lane's project): every certificate of the device revoked, the broker told. 200
  only once the revocation is committed *and* the broker was told (its files written and, where
  the hub reloads it, reloaded); a broker that could not be told is a 503 ``broker_not_told``
  naming what failed, while the revocation holds and the hub refuses the device all the same.

The rules live in :mod:`provisioning` (pure core, the CA's ledger) and the database's side, with
the audit line of each action in the action's own transaction, in :mod:`hub.devices.enrolment`;
this module is the HTTP edge.

The desk is put on the app by :func:`configure` (the app factory, tests, the demo). A hub without
one answers 503 ``enrolment_unavailable`` on these routes.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hub.api.body import json_body
from hub.api.error_responses import ApiError
from hub.api.keys import STORE
from hub.api.principal import principal_of
from hub.api.respond import json_response
from hub.config import HubConfig
from hub.devices.enrolment import Enrolments, enrol_by_token
from hub.devices.internal import InternalDeviceReads
from hub.rosters.keys import load_signing_key, public_key_b64
from hub.store import Store
from provisioning.ca import CA_CERT_NAME, CertificateAuthority
from provisioning.enrolment import (
    MAX_CSR_LENGTH,
    MAX_TOKEN_LIFETIME,
    BrokerAddress,
    EnrolmentRefused,
    EnrolmentRequest,
    answer_json,
    device_of_token,
)
from provisioning.ledger import UnknownDevice
from provisioning.registrar import BrokerFiles, BrokerNotTold, Registrar, sighup_pid_file
from wire.clock import SystemClock
from wire.models import DEVICE_ID_PATTERN

CA_DIR = "ca"
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
    written to ``ca.crl`` and ``acl`` in ``broker_files_dir`` (the broker reads them there;
    ``firmware/systemd/sitegate-broker-reload.path`` watches them and reloads it), and with a
    ``broker_pid_file`` the hub sends the broker SIGHUP itself; ``open_site_key`` opens a
    project's sealed site key (``IdVault.open_site_key``)."""
    state_dir = state_dir or config.state_dir()
    ca_dir = state_dir / CA_DIR
    if not (ca_dir / CA_CERT_NAME).exists():
        return None
    registrar = registrar_from_config(config, ca_dir)

    async def site_key(project_id: str) -> bytes:
        sealed = await InternalDeviceReads(store).sealed_site_key(project_id)
        if sealed is None:
            raise ApiError(409, "project_gone", f"project {project_id} of this token is no longer registered")
        return open_site_key(project_id, sealed)

    return EnrolmentDesk(registrar, site_key, clock or SystemClock().wall)


def registrar_from_config(config: HubConfig, ca_dir: Path) -> Registrar:
    """The registrar of the CA in ``ca_dir``, telling the broker the way ``config`` says."""
    pid_file = config.broker_pid_file
    return Registrar(
        CertificateAuthority.load(ca_dir),
        broker=BrokerAddress(host=config.mqtt_host, port=config.mqtt_port),
        roster_public_key=public_key_b64(load_signing_key(config.roster_key_path())),
        broker_files=BrokerFiles.in_directory(config.broker_files_dir, config.broker_hub_identities),
        reload=None if pid_file is None else sighup_pid_file(pid_file),
    )


def _desk(request: web.Request) -> EnrolmentDesk:
    desk = request.app.get(DESK)
    if desk is None:
        raise ApiError(503, "enrolment_unavailable", "this hub has no certificate authority configured")
    return desk


def _refused(err: EnrolmentRefused) -> ApiError:
    return ApiError(err.status, err.code, err.message)


class TokenRequest(BaseModel):
    # defer_build: a request's body, built on its first use, not at every hub's start
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    device_id: Annotated[str, Field(pattern=DEVICE_ID_PATTERN)]
    lifetime_h: Annotated[float, Field(gt=0, le=MAX_TOKEN_LIFETIME.total_seconds() / 3600)] = 24


async def issue_token(request: web.Request) -> web.Response:
    principal = principal_of(request)
    body = await json_body(request, TokenRequest)
    desk = _desk(request)
    try:
        issued = await Enrolments(request.app[STORE], principal).issue_token(
            desk.registrar, body.device_id, lifetime=timedelta(hours=body.lifetime_h), now=desk.clock()
        )
    except EnrolmentRefused as err:
        raise _refused(err) from None
    return json_response(
        {
            "token": issued.token,
            "device_id": issued.record.gate.device_id,
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
        bundle = await enrol_by_token(
            request.app[STORE], desk.registrar, body, record, site_key=site_key, now=now
        )
    except EnrolmentRefused as err:
        raise _refused(err) from None
    return json_response(answer_json(bundle), status=201)


async def revoke(request: web.Request) -> web.Response:
    principal = principal_of(request)
    device_id = request.match_info["device_id"]
    if not re.fullmatch(DEVICE_ID_PATTERN, device_id):
        raise ApiError(400, "invalid_parameter", "'device_id' is not a device id")

    async def revoke_certificates() -> tuple[datetime, Sequence[int]]:
        # Only once the lane is known visible: an id the hub knows nothing of is a 404 (never a
        # 503 without a CA).
        desk = _desk(request)
        now = desk.clock()
        try:
            return now, await asyncio.to_thread(desk.registrar.revoke_in_ledger, device_id, now)
        except UnknownDevice:
            raise ApiError(404, "not_found", f"no certificate was ever issued to {device_id}") from None

    serials = await Enrolments(request.app[STORE], principal).revoke(device_id, revoke_certificates)
    revoked = {"device_id": device_id, "revoked_serials": [str(s) for s in serials], "hub_refuses": True}
    try:
        told = await tell_broker(_desk(request).registrar)
    except BrokerNotTold as err:
        return broker_not_told(err, revoked)
    return json_response({**revoked, "broker": told})


async def revoke_removed_lane(request: web.Request, device_id: str) -> web.Response | None:
    """After a gate's removal (which committed the hub's own revocation mark and its audit line):
    the lane's certificates revoked in the CA's ledger and the broker told. None when that is done
    or there is nothing to do (no CA here, no certificate ever issued to the lane); else the 503."""
    desk = request.app.get(DESK)
    if desk is None:
        return None
    try:
        serials = await asyncio.to_thread(desk.registrar.revoke_in_ledger, device_id, desk.clock())
    except UnknownDevice:
        return None
    try:
        await tell_broker(desk.registrar)
    except BrokerNotTold as err:
        done = {"device_id": device_id, "gate_removed": True, "revoked_serials": [str(s) for s in serials]}
        return broker_not_told(err, {**done, "hub_refuses": True})
    return None


async def tell_broker(registrar: Registrar) -> str:
    """The ledger's revocations to the broker (files, then its reload); how it was told, or
    :class:`BrokerNotTold`. Off the loop: it signs a CRL and writes files."""
    return await asyncio.to_thread(registrar.publish_revocations)


def broker_not_told(err: BrokerNotTold, done: dict[str, object]) -> web.Response:
    """503: what was done (``done``, the hub's refusal among it) and what failed, never a 200."""
    message = (
        f"设备已吊销，中心已拒收其数据，但未能通知消息服务器：{err} "
        f"(revoked, and the hub refuses the device, but the broker was not told: {err})"
    )
    return json_response({"error": {"code": "broker_not_told", "message": message}, **done}, status=503)

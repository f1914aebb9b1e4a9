"""Each lane's provisioning state for the console's pages (the gates page, a lane's page): the
hub's record of the devices the account sees, the CA's ledger (tokens and certificates; none on a
hub without a CA) and the hub's own rule for "online", put together by
:func:`hub.devices.provisioning_state.provisioning_of`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiohttp import web

from hub.api.enrolment import DESK, EnrolmentDesk
from hub.api.keys import CLOCK, CONFIG, STORE
from hub.api.present import liveness
from hub.console.render import principal
from hub.devices.devices import Devices
from hub.devices.provisioning_state import LaneProvisioning, provisioning_of
from provisioning.enrolment import TokenRecord
from provisioning.ledger import CertificateRecord


def _ledger(
    desk: EnrolmentDesk | None, device_ids: Sequence[str]
) -> tuple[list[TokenRecord], list[CertificateRecord]]:
    if desk is None:
        return [], []
    ledger = desk.registrar.ledger
    tokens = [token for device_id in device_ids for token in ledger.tokens_of(device_id)]
    return tokens, ledger.certificates()


async def provisioning_for(request: web.Request, device_ids: Sequence[str]) -> dict[str, LaneProvisioning]:
    """The lanes' states by device id (the ledger is files under a lock: read off the loop)."""
    visible = await Devices(request.app[STORE], principal(request)).statuses(device_ids)
    statuses = {s.device_id: s for s in visible}
    tokens, certificates = await asyncio.to_thread(_ledger, request.app.get(DESK), device_ids)
    now, keepalive = request.app[CLOCK].wall(), request.app[CONFIG].device_keepalive_s
    found = {}
    for device_id in device_ids:
        status = statuses.get(device_id)
        online = status is not None and liveness(status, now, keepalive) == "online"
        found[device_id] = provisioning_of(device_id, status, tokens, certificates, online=online, now=now)
    return found

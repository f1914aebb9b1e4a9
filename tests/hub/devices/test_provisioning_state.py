"""A gate's lane in its provisioning (hub.devices.provisioning_state): pure, from the hub's device
record and the CA's ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.devices.provisioning_state import LaneProvisioning, ProvisioningState, provisioning_of
from hub.devices.records import DeviceStatus
from provisioning.enrolment import EnrolledGate, TokenRecord
from provisioning.ledger import CertificateRecord
from wire.models import Direction

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
DEVICE = "lane-p-1-a"
GATE = EnrolledGate(DEVICE, "P-1", "A1", Direction.IN)


def token(issued: timedelta, *, used: bool = False, device: str = DEVICE) -> TokenRecord:
    gate = GATE if device == DEVICE else EnrolledGate(device, "P-1", "A2", Direction.OUT)
    at = NOW - issued
    return TokenRecord(
        "0" * 64, gate, "gc", at, at + timedelta(hours=24), NOW if used else None, 7 if used else None
    )


def status(**fields: object) -> DeviceStatus:
    values: dict[str, object] = {
        "device_id": DEVICE, "last_seen_at": None, "presence_state": None, "presence_generation": None,
        "presence_at": None, "last_heartbeat": None,
    }  # fmt: skip
    values.update(fields)
    return DeviceStatus(**values)  # type: ignore[arg-type]


def state(
    record: DeviceStatus | None,
    tokens: list[TokenRecord],
    certificates: list[CertificateRecord],
    *,
    online: bool = False,
) -> LaneProvisioning:
    return provisioning_of(DEVICE, record, tokens, certificates, online=online, now=NOW)


def test_from_placed_to_online() -> None:
    assert state(None, [], []).state is ProvisioningState.AWAITING_TOKEN
    expired = token(timedelta(hours=25))
    assert state(None, [expired, token(timedelta(hours=1), device="lane-p-1-b")], []).state is (
        ProvisioningState.AWAITING_TOKEN
    )
    waiting = state(None, [expired, token(timedelta(hours=1))], [])
    assert waiting.state is ProvisioningState.TOKEN_ISSUED
    assert waiting.token_expires_at == NOW + timedelta(hours=23)

    certificates = [
        CertificateRecord(5, DEVICE, NOW - timedelta(days=2), NOW - timedelta(hours=1), "superseded"),
        CertificateRecord(7, DEVICE, NOW - timedelta(hours=1)),
        CertificateRecord(9, "lane-p-1-b", NOW),
    ]
    enrolled = state(status(enrolled_at=NOW), [token(timedelta(hours=1), used=True)], certificates)
    assert enrolled.state is ProvisioningState.ENROLLED
    assert (enrolled.certificate_serial, enrolled.enrolled_at) == (7, NOW - timedelta(hours=1))
    assert enrolled.token_expires_at is None

    beat = {"sent_at": (NOW - timedelta(seconds=5)).isoformat()}
    heard = status(
        last_seen_at=NOW, presence_state="online", last_heartbeat=beat, roster_applied=3, roster_current=4
    )
    online = state(heard, [], certificates, online=True)
    assert online.state is ProvisioningState.ONLINE
    assert online.last_heartbeat_at == NOW - timedelta(seconds=5)
    assert online.roster_behind
    assert state(heard, [], certificates).state is ProvisioningState.OFFLINE


@pytest.mark.parametrize("heard", [False, True])
def test_a_revoked_lane_is_revoked_whatever_else_holds(heard: bool) -> None:
    record = status(revoked_at=NOW, last_seen_at=NOW if heard else None)
    found = state(record, [token(timedelta(hours=1))], [], online=heard)
    assert found.state is ProvisioningState.REVOKED and found.revoked_at == NOW

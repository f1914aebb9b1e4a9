"""The hub's signing key file and its roster ledger (versions and lane status in the database)."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key

from hub.devices.internal import InternalDeviceReads
from hub.rosters import RosterLedger, SigningKeyError, load_signing_key, public_key_b64
from hub.rosters.keys import public_key_raw
from wire.roster import RosterStatus


def test_a_missing_key_is_created_private_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "roster.pem"
    key = load_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public_key_raw(load_signing_key(path)) == public_key_raw(key)
    assert len(public_key_b64(key)) == 44


def test_a_key_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "roster.pem"
    load_signing_key(path)
    path.chmod(0o640)
    with pytest.raises(SigningKeyError, match="chmod 600"):
        load_signing_key(path)


def test_a_key_of_another_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "roster.pem"
    pem = generate_private_key(SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(pem)
    path.chmod(0o600)
    with pytest.raises(SigningKeyError, match="not an Ed25519 key"):
        load_signing_key(path)
    path.write_bytes(b"garbage")
    with pytest.raises(SigningKeyError, match="PEM"):
        load_signing_key(path)


@pytest.fixture
async def ledger(database_url: str) -> AsyncIterator[RosterLedger]:
    opened = await RosterLedger.open(database_url)
    yield opened
    await opened.close()


async def test_versions_grow_with_content_and_survive_a_restart(
    ledger: RosterLedger, database_url: str
) -> None:
    assert await ledger.current("P") == 0
    assert await ledger.mint("P", "a" * 64, 10) == (1, True)
    assert await ledger.mint("P", "a" * 64, 10) == (1, False)
    assert await ledger.mint("P", "b" * 64, 11) == (2, True)
    assert await ledger.mint("Q", "b" * 64, 11) == (1, True)
    await ledger.close()
    reopened = await RosterLedger.open(database_url)
    try:
        assert await reopened.current("P") == 2
        assert await reopened.mint("P", "a" * 64, 10) == (3, True)  # old content again is a new version
    finally:
        await reopened.close()


async def test_the_last_status_of_each_lane_is_kept(ledger: RosterLedger) -> None:
    await ledger.record_status(RosterStatus(device_id="lane-a1", project_id="P", applied_version=1))
    await ledger.record_status(
        RosterStatus(
            device_id="lane-a1", project_id="P", applied_version=1, wants_snapshot=True, problem="bad"
        )
    )
    await ledger.record_status(RosterStatus(device_id="lane-b1", project_id="Q", applied_version=4))
    lanes = await ledger.lanes("P")
    assert list(lanes) == ["lane-a1"]
    lane = lanes["lane-a1"]
    assert (lane.applied_version, lane.wants_snapshot, lane.problem) == (1, True, "bad")
    assert lane.reported_at.tzinfo is not None


async def test_a_batch_of_statuses_is_one_upsert_where_a_lanes_last_report_wins(ledger: RosterLedger) -> None:
    await ledger.record_status(
        RosterStatus(device_id="lane-a1", project_id="P", applied_version=1, problem="x")
    )
    await ledger.record_statuses(
        [
            RosterStatus(device_id="lane-a1", project_id="P", applied_version=2, wants_snapshot=True),
            RosterStatus(device_id="lane-b1", project_id="Q", applied_version=4),
            RosterStatus(device_id="lane-a1", project_id="P", applied_version=3),
            RosterStatus(device_id="lane-a2", project_id="P", applied_version=1, problem="chunk 2 missing"),
        ]
    )
    await ledger.record_statuses([])  # nothing to write: no statement, no error
    found = await ledger.lanes_of(["P", "Q"])
    said = {
        lane.device_id: (lane.project_id, lane.applied_version, lane.wants_snapshot, lane.problem)
        for lanes in found.values()
        for lane in lanes.values()
    }
    assert said == {
        "lane-a1": ("P", 3, False, None),  # the older row and the batch's earlier report both replaced
        "lane-a2": ("P", 1, False, "chunk 2 missing"),
        "lane-b1": ("Q", 4, False, None),
    }


async def test_current_versions_of_many_projects_in_one_read(ledger: RosterLedger) -> None:
    await ledger.mint("P", "a" * 64, 10)
    await ledger.mint("P", "b" * 64, 11)
    await ledger.mint("Q", "a" * 64, 10)
    assert await ledger.current_of(["P", "Q", "never-minted"]) == {"P": 2, "Q": 1}
    assert await ledger.current_of([]) == {}


async def test_device_health_shows_roster_lag(ledger: RosterLedger, database_url: str) -> None:
    """What the operators' device board reads: the lane's applied version against its project's newest."""
    from hub.store import Store
    from wire.models import PresenceState, PresenceStatus, utc_now

    store = await Store.open(database_url)
    try:
        await store.record_presence(
            PresenceStatus(device_id="lane-a1", state=PresenceState.ONLINE, generation=1, at=utc_now())
        )
        await store.record_presence(
            PresenceStatus(device_id="lane-a2", state=PresenceState.ONLINE, generation=1, at=utc_now())
        )
        await ledger.mint("P", "a" * 64, 10)
        await ledger.mint("P", "b" * 64, 11)
        await ledger.mint("P", "c" * 64, 12)
        await ledger.record_status(
            RosterStatus(device_id="lane-a1", project_id="P", applied_version=1, problem="chunk 3 missing")
        )
        by_id = {d.device_id: d for d in await InternalDeviceReads(store).statuses()}
    finally:
        await store.close()
    lagging = by_id["lane-a1"]
    assert (lagging.roster_applied, lagging.roster_current, lagging.roster_problem) == (
        1,
        3,
        "chunk 3 missing",
    )
    assert by_id["lane-a2"].roster_applied is None  # never reported: no lag to show yet

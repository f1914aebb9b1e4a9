"""The device board's page (issue 16): sorted, filtered, searched and paged by the database, each
lane's state the one hub.api.present.liveness gives it, offline lanes first."""

from __future__ import annotations

from datetime import timedelta

from hub.api.present import liveness
from hub.auth.principal import Principal, Role
from hub.devices.devices import (
    BoardQuery,
    BoardState,
    Devices,
    decode_board_cursor,
    encode_board_cursor,
)
from hub.store import Store
from hub.store.schema import devices
from tests.hub.factories import BASE_TIME
from wire.models import PresenceState, PresenceStatus

CITY = Principal(account_id=1, username="city-1", role=Role.CITY)
KEEPALIVE_S = 20.0
NOW = BASE_TIME + timedelta(minutes=10)


async def heard(store: Store, device_id: str, state: PresenceState, seconds_ago: float) -> None:
    at = NOW - timedelta(seconds=seconds_ago)
    status = PresenceStatus(device_id=device_id, state=state, generation=1, at=at)
    await store.record_presence(status, received_at=at)


async def city_of_lanes(store: Store) -> None:
    """Two well lanes, one that said offline, one silent past 1.5 keep-alives, one revoked."""
    await heard(store, "lane-b-online", PresenceState.ONLINE, 5)
    await heard(store, "lane-a-online", PresenceState.ONLINE, 29)  # within 30 s: still online
    await heard(store, "lane-d-said-off", PresenceState.OFFLINE, 5)
    await heard(store, "lane-c-silent", PresenceState.ONLINE, 31)
    await heard(store, "lane-e-revoked", PresenceState.ONLINE, 5)
    async with store.write("revoke") as conn:
        await conn.execute(
            devices.update().where(devices.c.device_id == "lane-e-revoked").values(revoked_at=NOW)
        )


async def page(store: Store, **query: object) -> tuple[list[str], tuple[int, str] | None, dict[str, int]]:
    board = await Devices(store, CITY).board(BoardQuery(**query), NOW, KEEPALIVE_S)  # type: ignore[arg-type]
    return [d.device_id for d in board.items], board.next_after, {k.value: v for k, v in board.counts.items()}


async def test_offline_lanes_come_first_then_revoked_then_online_each_as_liveness_judges(
    store: Store,
) -> None:
    await city_of_lanes(store)
    ids, after, counts = await page(store)
    assert ids == ["lane-c-silent", "lane-d-said-off", "lane-e-revoked", "lane-a-online", "lane-b-online"]
    assert after is None
    assert counts == {"offline": 2, "revoked": 1, "online": 2}
    board = await Devices(store, CITY).board(BoardQuery(), NOW, KEEPALIVE_S)
    states = [liveness(d, NOW, KEEPALIVE_S) for d in board.items]
    assert states == ["offline", "offline", "revoked", "online", "online"]


async def test_a_state_and_a_search_narrow_the_page_not_the_counts(store: Store) -> None:
    await city_of_lanes(store)
    assert (await page(store, state=BoardState.ONLINE))[0] == ["lane-a-online", "lane-b-online"]
    ids, _, counts = await page(store, search="SAID")
    assert ids == ["lane-d-said-off"]
    assert counts["offline"] == 2
    assert (await page(store, search="%"))[0] == []  # a wildcard is a character like any other


async def test_pages_follow_on_from_the_cursor_without_gap_or_repeat(store: Store) -> None:
    await city_of_lanes(store)
    seen: list[str] = []
    after = None
    while True:
        ids, after, _ = await page(store, limit=2, after=after)
        seen += ids
        if after is None:
            break
        assert decode_board_cursor(encode_board_cursor(after)) == after
    assert seen == ["lane-c-silent", "lane-d-said-off", "lane-e-revoked", "lane-a-online", "lane-b-online"]

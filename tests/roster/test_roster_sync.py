"""The lane's roster handler without a broker: saved before swapped, every outcome reported."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from controller.core.roster import EMPTY_ROSTER, Roster
from controller.roster_store import load_roster, save_roster
from controller.roster_sync import RosterSync
from hub.rosters import compile_snapshot
from wire.roster import RosterStatus, decode_roster_status, encode_roster
from wire.topics import Channel

from .support import KEY, OTHER_KEY, PROJECT, PUBLIC, digest, people


class DiskCheckingLane:
    """A holder whose roster may be swapped only once the file on disk holds that version."""

    def __init__(self, path: Path, roster: Roster = EMPTY_ROSTER) -> None:
        self.path = path
        self._roster = roster
        self.swaps = 0

    @property
    def roster(self) -> Roster:
        return self._roster

    @roster.setter
    def roster(self, roster: Roster) -> None:
        on_disk = load_roster(self.path).roster
        assert (on_disk.version, len(on_disk)) == (roster.version, len(roster)), "swapped before saved"
        self._roster = roster
        self.swaps += 1


class Uplink:
    def __init__(self) -> None:
        self.sent: list[RosterStatus] = []
        self.online = True
        self.reported = asyncio.Event()

    async def send(self, channel: Channel, payload: bytes) -> bool:
        assert channel is Channel.ROSTER_STATUS
        self.sent.append(decode_roster_status(payload))
        self.reported.set()
        return self.online


def make_sync(
    tmp_path: Path, lane: DiskCheckingLane | None = None, **options: object
) -> tuple[RosterSync, Uplink]:
    uplink = Uplink()
    lane = lane or DiskCheckingLane(tmp_path / "roster.json")
    sync = RosterSync(
        lane,
        device_id="lane-a1",
        project_id=PROJECT,
        public_key=PUBLIC,
        roster_path=lane.path,
        send=uplink.send,
        **options,  # type: ignore[arg-type]
    )
    return sync, uplink


async def push(sync: RosterSync, version: int, entries, key=KEY, chunk_bytes: int = 2048) -> None:
    manifest, chunks = compile_snapshot(PROJECT, version, entries, [], key, chunk_bytes=chunk_bytes)
    for message in (manifest, *chunks):
        await sync(encode_roster(message))


async def test_a_snapshot_is_saved_then_swapped_then_reported(tmp_path: Path) -> None:
    sync, uplink = make_sync(tmp_path)
    await push(sync, 3, people(120))
    lane = sync.holder
    assert isinstance(lane, DiskCheckingLane)
    assert (lane.roster.version, len(lane.roster), lane.swaps) == (3, 120, 1)
    assert load_roster(tmp_path / "roster.json").roster.version == 3
    assert uplink.sent == [RosterStatus(device_id="lane-a1", project_id=PROJECT, applied_version=3)]


async def test_the_lane_starts_from_the_version_it_has(tmp_path: Path) -> None:
    path = tmp_path / "roster.json"
    save_roster(path, 5, PROJECT, [])
    sync, uplink = make_sync(tmp_path, DiskCheckingLane(path, load_roster(path).roster))
    await push(sync, 4, people(3))
    assert sync.holder.roster.version == 5
    assert uplink.sent[-1].problem == "roster v4 is older than the applied v5: refused as a replay"
    other = Roster.build(9, "P-ELSEWHERE", [])
    moved, _ = make_sync(tmp_path, DiskCheckingLane(path, other))
    assert moved.assembler.applied_version == 0  # another project's numbers do not count here


async def test_a_forged_roster_changes_nothing_and_is_reported(tmp_path: Path) -> None:
    sync, uplink = make_sync(tmp_path)
    await push(sync, 1, people(10), key=OTHER_KEY)
    assert sync.holder.roster is EMPTY_ROSTER
    assert not (tmp_path / "roster.json").exists()
    [status] = uplink.sent
    assert status.wants_snapshot and status.applied_version == 0
    assert status.problem is not None and "this lane trusts" in status.problem
    assert sync.last_problem == status.problem


async def test_a_roster_that_cannot_be_saved_is_not_swapped_in(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("")
    lane = DiskCheckingLane(blocked / "roster.json")
    sync, uplink = make_sync(tmp_path, lane)
    await push(sync, 1, people(10))
    assert lane.roster is EMPTY_ROSTER and lane.swaps == 0
    [status] = uplink.sent
    assert status.problem is not None and status.problem.startswith("roster v1 not applied:")
    assert sync.assembler.applied_version == 0


async def test_missing_chunks_are_asked_for_after_the_timeout(tmp_path: Path) -> None:
    sync, uplink = make_sync(tmp_path, timeout_s=0.05)
    manifest, chunks = compile_snapshot(PROJECT, 1, people(100), [], KEY, chunk_bytes=2048)
    for message in (manifest, *chunks[:-2]):
        await sync(encode_roster(message))
    assert uplink.sent == []
    async with asyncio.timeout(2):
        await uplink.reported.wait()
    [status] = uplink.sent
    assert (
        status.wants_snapshot
        and status.problem == f"roster v1: 2 of {len(chunks)} chunks missing after 0.05 s"
    )
    assert sync.holder.roster is EMPTY_ROSTER


async def test_the_lane_asks_again_after_a_doubled_wait_and_a_late_chunk_completes_it(tmp_path: Path) -> None:
    sync, uplink = make_sync(tmp_path, timeout_s=0.05)
    manifest, chunks = compile_snapshot(PROJECT, 1, people(100), [], KEY, chunk_bytes=2048)
    for message in (manifest, *chunks[:-1]):
        await sync(encode_roster(message))
    async with asyncio.timeout(2):
        while len(uplink.sent) < 2:  # the timer re-armed itself after the first ask
            uplink.reported.clear()
            await uplink.reported.wait()
    assert [(s.wants_snapshot, s.problem) for s in uplink.sent[:2]] == [
        (True, f"roster v1: 1 of {len(chunks)} chunks missing after {wait:g} s") for wait in (0.05, 0.1)
    ]
    await sync(encode_roster(chunks[-1]))
    assert (sync.holder.roster.version, len(sync.holder.roster)) == (1, 100)
    assert uplink.sent[-1] == RosterStatus(device_id="lane-a1", project_id=PROJECT, applied_version=1)
    assert sync.assembler.deadline is None


async def test_the_announcement_of_the_running_version_is_answered_as_current(tmp_path: Path) -> None:
    sync, uplink = make_sync(tmp_path)
    await push(sync, 2, people(5))
    manifest, _ = compile_snapshot(PROJECT, 2, people(5), [], KEY)
    await sync(encode_roster(manifest))  # the broker's retained copy, on reconnecting
    assert [s.applied_version for s in uplink.sent] == [2, 2]
    assert all(s.problem is None and not s.wants_snapshot for s in uplink.sent)
    assert sync.assembler.assembling is None


async def test_an_unreadable_message_is_reported(tmp_path: Path) -> None:
    sync, uplink = make_sync(tmp_path)
    await sync(b'{"kind":"roster_manifest","project_id":"' + b"x" * 500 + b'"}')
    [status] = uplink.sent
    assert status.problem is not None and status.problem.startswith("unreadable roster message")
    assert len(status.problem) <= 300


async def test_resync_asks_for_a_whole_snapshot(tmp_path: Path) -> None:
    sync, uplink = make_sync(tmp_path)
    await sync.resync()
    assert uplink.sent == [
        RosterStatus(device_id="lane-a1", project_id=PROJECT, applied_version=0, wants_snapshot=True)
    ]


@pytest.mark.parametrize("problem", ["line\none\ttwo", "x" * 1000])
async def test_problem_text_is_made_fit_for_the_wire(tmp_path: Path, problem: str) -> None:
    sync, uplink = make_sync(tmp_path)
    await sync.report(problem=problem)
    sent = uplink.sent[0].problem
    assert sent is not None and len(sent) <= 300 and "\n" not in sent


async def test_the_watchlist_travels_with_the_roster(tmp_path: Path) -> None:
    sync, _ = make_sync(tmp_path)
    manifest, chunks = compile_snapshot(PROJECT, 1, people(5), [digest(2), digest(900)], KEY)
    for message in (manifest, *chunks):
        await sync(encode_roster(message))
    assert sync.holder.roster.watchlist == frozenset({digest(2), digest(900)})
    assert load_roster(tmp_path / "roster.json").roster.watchlist == frozenset({digest(2), digest(900)})

"""Site rules ride with the roster: signed in the manifest and the delta, in the content's digest
(a change of rules alone is a new version), made the roster's policy on the lane and swapped in
with it, kept in the roster file; a forged change of rules is refused as a forged roster is."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import date, time
from pathlib import Path

import pytest

from controller.config import PolicyConfig
from controller.core.policy import AntiPassback, TimeWindow
from controller.core.roster import Roster
from controller.roster_rules import policy_of
from controller.roster_store import load_roster
from controller.roster_sync import Ready, Refused
from hub.rosters import (
    MemorySource,
    RosterLedger,
    RosterPublisher,
    compile_delta,
    compile_snapshot,
    roster_content,
)
from hub.rosters.content import body_of
from wire.roles import RosterRole
from wire.roster import NightWorkWindow, RosterManifest, RosterRules, decode_roster, encode_roster
from wire.signing import Signer, canonical_bytes

from .support import KEY, PROJECT, assembler, feed, people
from .test_roster_sync import make_sync, push

NIGHT = RosterRules(
    anti_passback="soft",
    working_hours={RosterRole.WORKER: "07:00-19:00"},
    night_work=(
        NightWorkWindow(
            permit="NW-7", first_date=date(2026, 12, 6), last_date=date(2026, 12, 7), hours="22:00-06:00"
        ),
    ),
)
DAY = RosterRules(anti_passback="off")


def test_a_roster_without_rules_is_the_message_it_was_before_rules() -> None:
    manifest, _ = compile_snapshot(PROJECT, 1, people(3), [], KEY)
    assert b'"rules"' not in encode_roster(manifest) and b'"rules"' not in canonical_bytes(manifest)
    content = roster_content(PROJECT, people(3), [])
    body = body_of(content)
    assert body.digest == hashlib.sha256(b"".join(body.chunks)).hexdigest()


def test_the_rules_are_in_the_digest() -> None:
    plain, night, day = (
        body_of(roster_content(PROJECT, people(3), [], rules)) for rules in (None, NIGHT, DAY)
    )
    assert len({plain.digest, night.digest, day.digest}) == 3
    assert plain.chunks == night.chunks == day.chunks  # the body is the entries; the rules are beside it
    assert body_of(roster_content(PROJECT, people(3), [], NIGHT.model_copy())).digest == night.digest


def test_a_snapshot_brings_its_rules_as_the_rosters_policy() -> None:
    manifest, chunks = compile_snapshot(PROJECT, 1, people(30), [], KEY, rules=NIGHT)
    *_, ready = feed(assembler(), [manifest, *chunks])
    assert isinstance(ready, Ready)
    policy = ready.roster.policy
    assert policy is not None and policy == policy_of(NIGHT)
    assert policy.anti_passback is AntiPassback.SOFT
    assert policy.working_hours == {RosterRole.WORKER: TimeWindow(time(7), time(19))}
    without, chunks = compile_snapshot(PROJECT, 2, people(30), [], KEY)
    *_, ready = feed(assembler(1), [without, *chunks])
    assert isinstance(ready, Ready) and ready.roster.policy is None  # the lane's bootstrap policy


def test_a_delta_carries_the_rules_and_one_without_keeps_the_running_ones() -> None:
    before = roster_content(PROJECT, people(10), [], NIGHT)
    after = roster_content(PROJECT, people(10), [], DAY)  # the rules alone changed
    delta = compile_delta(before, after, from_version=1, signing_key=KEY)
    assert delta is not None and delta.upserts == () and delta.rules == DAY
    running = Roster.build(1, PROJECT, [])
    [ready] = feed(assembler(1), [delta], running)
    assert isinstance(ready, Ready) and ready.roster.policy == policy_of(DAY)
    old_hub = delta.model_copy(update={"rules": None, "key_id": None, "signature": None})
    [kept] = feed(assembler(1), [Signer(KEY).sign(old_hub)], Roster(1, PROJECT, policy=policy_of(NIGHT)))
    assert isinstance(kept, Ready) and kept.roster.policy == policy_of(NIGHT)
    dropped = roster_content(PROJECT, people(10), [])
    assert compile_delta(before, dropped, from_version=1, signing_key=KEY) is None  # a snapshot says so


def test_rules_changed_after_signing_are_refused_as_a_forgery() -> None:
    manifest, _ = compile_snapshot(PROJECT, 1, people(5), [], KEY, rules=NIGHT)
    forged = manifest.model_copy(update={"rules": NIGHT.model_copy(update={"night_work": ()})})
    [refused] = feed(assembler(), [forged])
    assert refused == Refused("roster v1: signature does not verify (forged or altered); refused", True)
    unsigned = RosterManifest.model_validate(
        {**manifest.model_dump(), "rules": DAY.model_dump(), "key_id": None, "signature": None}
    )
    [refused] = feed(assembler(), [unsigned])
    assert isinstance(refused, Refused) and "unsigned" in refused.problem


async def test_the_lane_saves_the_rules_with_the_roster_and_swaps_both_at_once(tmp_path: Path) -> None:
    sync, _ = make_sync(tmp_path)
    manifest, chunks = compile_snapshot(PROJECT, 4, people(40), [], KEY, rules=NIGHT, chunk_bytes=2048)
    for message in (manifest, *chunks):
        await sync(encode_roster(message))
    assert sync.holder.roster.version == 4 and sync.holder.roster.policy == policy_of(NIGHT)
    assert load_roster(tmp_path / "roster.json").roster.policy == policy_of(NIGHT)  # after a restart too
    await push(sync, 5, people(40))  # a roster without rules: the lane is back on its configuration
    assert sync.holder.roster.policy is None
    assert load_roster(tmp_path / "roster.json").roster.policy is None
    assert PolicyConfig().to_policy() != policy_of(NIGHT)


@pytest.fixture
async def ledger(database_url: str) -> AsyncIterator[RosterLedger]:
    opened = await RosterLedger.open(database_url)
    yield opened
    await opened.close()


class Sent:
    def __init__(self) -> None:
        self.rules: list[RosterRules | None] = []

    async def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> None:
        message = decode_roster(payload)
        if message.kind != "roster_chunk":
            self.rules.append(message.rules)  # type: ignore[union-attr]


async def test_a_change_of_rules_alone_mints_a_version_that_goes_to_the_lanes(ledger: RosterLedger) -> None:
    source, sent = MemorySource(), Sent()
    for credential_hash, fields in people(20):
        source.put(PROJECT, credential_hash, **fields)
    source.assign(PROJECT, "lane-a1")
    async with RosterPublisher(source, sent, KEY, ledger, resend_after_s=0.0) as publisher:
        assert await publisher.publish(PROJECT) == 1
        assert await publisher.publish(PROJECT) == 1  # nothing changed: no new version
        source.set_rules(PROJECT, NIGHT)
        assert await publisher.publish(PROJECT) == 2
        await publisher.idle()
    assert sent.rules[0] is None and sent.rules[-1] == NIGHT

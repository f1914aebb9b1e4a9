"""Compile on the hub's side, assemble on the lane's: what is applied, what is refused and why."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.core.roster import Roster, RosterEntry
from controller.roster_rows import columns_of_rows, entry_of_row
from controller.roster_sync import Current, Ready, Refused
from hub.rosters import compile_delta, compile_snapshot, roster_content
from wire.roles import RosterRole
from wire.roster import RosterChunk
from wire.signing import Signer

from .support import KEY, OTHER_KEY, PROJECT, assembler, digest, feed, people


def snapshot(version: int, entries, watchlist=(), key=KEY, chunk_bytes: int = 4096):
    return compile_snapshot(PROJECT, version, entries, watchlist, key, chunk_bytes=chunk_bytes)


def applied(ready: Ready) -> Roster:
    return ready.roster


def test_a_snapshot_round_trips_and_is_ready_only_with_its_last_chunk() -> None:
    manifest, chunks = snapshot(1, people(200), [digest(5)])
    assert len(chunks) > 3
    target = assembler()
    outcomes = feed(target, [manifest, *reversed(chunks)])  # chunks may come in any order
    assert outcomes[:-1] == [None] * len(chunks)
    ready = outcomes[-1]
    assert isinstance(ready, Ready)
    roster = applied(ready)
    assert roster.version == 1 and len(roster) == 200
    assert roster.lookup(digest(7)) == RosterEntry("p-000007", RosterRole.WORKER, entry_date=date(2025, 1, 1))
    assert roster.watchlisted(digest(5))


def test_an_empty_roster_is_ready_on_its_manifest() -> None:
    manifest, chunks = snapshot(1, [])
    assert chunks == ()
    [ready] = feed(assembler(), [manifest])
    assert isinstance(ready, Ready) and len(ready.roster) == 0 and ready.row_arrays == ()


def test_a_tampered_entry_is_refused_by_its_hash() -> None:
    manifest, chunks = snapshot(1, people(50))
    raw = base64.b64decode(chunks[0].data).replace(b"p-000003", b"p-999999")
    forged = chunks[0].model_copy(update={"data": base64.b64encode(raw).decode()})
    outcomes = feed(assembler(), [manifest, forged])
    assert outcomes[-1] == Refused("roster v1: chunk 0 does not match the signed manifest; refused", True)


def test_a_manifest_that_names_new_hashes_fails_its_signature() -> None:
    manifest, chunks = snapshot(1, people(50))
    forged = manifest.model_copy(update={"chunk_hashes": (hashlib.sha256(b"x").hexdigest(),) * len(chunks)})
    [outcome] = feed(assembler(), [forged])
    assert isinstance(outcome, Refused) and "signature does not verify" in outcome.problem
    assert outcome.wants_snapshot


def test_a_roster_signed_by_another_key_is_refused() -> None:
    manifest, _ = snapshot(1, people(5), key=OTHER_KEY)
    [outcome] = feed(assembler(), [manifest])
    assert isinstance(outcome, Refused) and "signed by key" in outcome.problem and "trusts" in outcome.problem


def test_another_key_claiming_our_key_id_still_fails() -> None:
    manifest, _ = snapshot(1, people(5), key=OTHER_KEY)
    ours, _ = snapshot(1, people(5))
    forged = manifest.model_copy(update={"key_id": ours.key_id})
    [outcome] = feed(assembler(), [forged])
    assert isinstance(outcome, Refused) and "signature does not verify" in outcome.problem


def test_an_unsigned_roster_is_refused() -> None:
    manifest, _ = snapshot(1, people(5))
    unsigned = manifest.model_copy(update={"key_id": None, "signature": None})
    [outcome] = feed(assembler(), [unsigned])
    assert outcome == Refused("roster v1 is unsigned; refused", True)


def test_a_roster_for_another_project_is_refused() -> None:
    manifest, _ = compile_snapshot("P-OTHER", 1, people(5), [], KEY)
    [outcome] = feed(assembler(), [manifest])
    assert outcome == Refused(f"roster v1 is for project P-OTHER, this lane is on {PROJECT}; refused", False)


def test_an_older_version_is_refused_as_a_replay_and_the_same_one_is_current() -> None:
    old, _ = snapshot(3, people(5))
    same, _ = snapshot(5, people(5))
    target = assembler(applied=5)
    assert feed(target, [old]) == [
        Refused("roster v3 is older than the applied v5: refused as a replay", False)
    ]
    assert feed(target, [same]) == [Current()]


def test_a_missing_chunk_times_out_and_asks_for_a_snapshot() -> None:
    manifest, chunks = snapshot(1, people(200))
    target = assembler(timeout_s=10)
    assert feed(target, [manifest, *chunks[:-1]], now=0) == [None] * len(chunks)
    assert target.expire(now=9.9) is None
    expired = target.expire(now=10.0)
    assert expired == Refused(f"roster v1: 1 of {len(chunks)} chunks missing after 10 s", True)
    assert target.assembling == 1  # asked, not given up: never half of a roster, and no second send


def test_a_chunk_after_the_ask_completes_the_roster() -> None:
    """A hub that is only slow (10,000 lanes connecting) sends the late chunk once, not the roster again."""
    manifest, chunks = snapshot(1, people(200), [digest(5)])
    target = assembler(timeout_s=10)
    feed(target, [manifest, *chunks[:-2]], now=0)
    assert target.expire(now=10) is not None
    assert feed(target, [chunks[-1]], now=11) == [None]
    assert target.expire(now=15) is None  # the late chunk was progress: the wait restarted
    [ready] = feed(target, [chunks[-2]], now=25)
    assert isinstance(ready, Ready) and ready.version == 1 and len(ready.roster) == 200
    assert ready.roster.lookup(digest(199)) is not None and ready.roster.watchlisted(digest(5))
    whole = feed(assembler(), [manifest, *chunks])[-1]
    assert isinstance(whole, Ready) and ready.row_arrays == whole.row_arrays


def test_each_expiry_reports_what_is_still_missing_after_a_doubled_wait() -> None:
    manifest, chunks = snapshot(1, people(200))
    target = assembler(timeout_s=10)
    feed(target, [manifest, *chunks[:-3]], now=0)
    first = target.expire(now=10)
    assert target.deadline == 30  # restarted from the ask, twice as patient
    assert target.expire(now=29.9) is None
    feed(target, [chunks[-3]], now=20)
    assert target.deadline == 40  # a late chunk is progress
    second = target.expire(now=40)
    assert [first, second] == [
        Refused(f"roster v1: 3 of {len(chunks)} chunks missing after 10 s", True),
        Refused(f"roster v1: 2 of {len(chunks)} chunks missing after 20 s", True),
    ]
    assert target.deadline == 80 and target.assembling == 1


def test_the_same_manifest_after_an_ask_keeps_the_chunks_and_restarts_the_wait() -> None:
    """The hub answering the ask resends the whole snapshot: the chunks held count, as duplicates."""
    manifest, chunks = snapshot(1, people(200))
    target = assembler(timeout_s=10)
    feed(target, [manifest, *chunks[:-1]], now=0)
    target.expire(now=10)
    assert feed(target, [manifest], now=25) == [None]
    assert target.assembling == 1 and target.deadline == 45
    [ready] = feed(target, [chunks[-1]], now=26)  # the chunks held before the ask still count
    assert isinstance(ready, Ready) and len(ready.roster) == 200


def test_the_same_manifest_before_any_ask_is_progress_too() -> None:
    manifest, chunks = snapshot(1, people(200))
    target = assembler(timeout_s=10)
    feed(target, [manifest, chunks[0]], now=0)
    feed(target, [manifest], now=8)  # the retained copy on reconnecting
    assert target.expire(now=12) is None and target.deadline == 18
    outcomes = feed(target, chunks[1:], now=9)
    assert isinstance(outcomes[-1], Ready)


def test_a_higher_version_after_an_ask_replaces_the_kept_snapshot() -> None:
    first, first_chunks = snapshot(1, people(200))
    second, second_chunks = snapshot(2, people(210))
    target = assembler(timeout_s=10)
    feed(target, [first, *first_chunks[:-1]], now=0)
    target.expire(now=10)
    feed(target, [second], now=12)
    assert target.assembling == 2 and target.deadline == 32  # the doubled wait holds until applied
    assert feed(target, [first_chunks[-1]], now=13) == [None]  # the old version's chunk is ignored
    outcomes = feed(target, second_chunks, now=14)
    assert isinstance(outcomes[-1], Ready) and len(outcomes[-1].roster) == 210


def test_a_chunk_failing_its_hash_after_an_ask_is_refused_and_drops_the_snapshot() -> None:
    manifest, chunks = snapshot(1, people(200))
    target = assembler(timeout_s=10)
    feed(target, [manifest, *chunks[:-1]], now=0)
    target.expire(now=10)
    raw = base64.b64decode(chunks[-1].data).replace(b"p-0", b"p-9", 1)
    assert raw != base64.b64decode(chunks[-1].data)
    forged = chunks[-1].model_copy(update={"data": base64.b64encode(raw).decode()})
    assert feed(target, [forged], now=11) == [
        Refused(f"roster v1: chunk {len(chunks) - 1} does not match the signed manifest; refused", True)
    ]
    assert target.assembling is None and target.deadline is None
    assert feed(target, [chunks[-1]], now=12) == [None]  # the true chunk cannot revive what was dropped


def test_each_unanswered_ask_doubles_the_wait_until_a_roster_is_applied() -> None:
    """A hub that answers late (thousands of lanes connecting) is not asked again every 10 s."""
    manifest, chunks = snapshot(1, people(200))
    target = assembler(timeout_s=10)
    waits = []
    for start in (0, 100, 200, 300, 400):
        feed(target, [manifest], now=start)
        assert target.deadline is not None
        waits.append(target.deadline - start)
        expired = target.expire(now=target.deadline)
        assert expired is not None and f"missing after {waits[-1]:g} s" in expired.problem
    assert waits == [10, 20, 40, 80, 80]
    feed(target, [manifest, *chunks], now=500)
    target.applied(1)
    newer, _ = snapshot(2, people(200))
    feed(target, [newer], now=600)
    assert target.deadline == 610


def test_progress_pushes_the_timeout_back() -> None:
    manifest, chunks = snapshot(1, people(200))
    target = assembler(timeout_s=10)
    feed(target, [manifest], now=0)
    feed(target, [chunks[0]], now=8)
    assert target.expire(now=12) is None
    assert target.deadline == 18


def test_a_newer_manifest_replaces_an_unfinished_snapshot() -> None:
    first, first_chunks = snapshot(1, people(200))
    second, second_chunks = snapshot(2, people(210))
    target = assembler()
    feed(target, [first, first_chunks[0], second])
    assert target.assembling == 2
    assert feed(target, [first_chunks[1]]) == [None]  # the old version's chunks are ignored
    outcomes = feed(target, second_chunks)
    assert isinstance(outcomes[-1], Ready) and outcomes[-1].version == 2
    assert len(outcomes[-1].roster) == 210


def test_an_older_manifest_does_not_interrupt_a_newer_assembly() -> None:
    first, _ = snapshot(1, people(200))
    second, _ = snapshot(2, people(200))
    target = assembler()
    feed(target, [second, first])
    assert target.assembling == 2


def test_a_chunk_index_beyond_the_manifest_aborts() -> None:
    manifest, chunks = snapshot(1, people(20))
    stray = RosterChunk(project_id=PROJECT, version=1, index=len(manifest.chunk_hashes), data=chunks[0].data)
    outcomes = feed(assembler(), [manifest, stray])
    assert isinstance(outcomes[-1], Refused) and "beyond" in outcomes[-1].problem


def test_a_manifest_that_miscounts_its_entries_is_refused() -> None:
    content = roster_content(PROJECT, people(20), [])
    manifest, chunks = compile_snapshot(PROJECT, 1, people(20), [], KEY)
    wrong = Signer(KEY).sign(manifest.model_copy(update={"entries": 21}))
    outcomes = feed(assembler(), [wrong, *chunks])
    assert outcomes[-1] == Refused("roster v1: the manifest says 21 entries, the chunks hold 20", False)
    assert len(content) == 20


# -- deltas --------------------------------------------------------------------------------------


def roster_of(version: int, entries, watchlist=()) -> Roster:
    manifest, chunks = snapshot(version, entries, watchlist)
    ready = feed(assembler(), [manifest, *chunks])[-1]
    assert isinstance(ready, Ready)
    return applied(ready)


def test_a_delta_applies_on_top_of_its_from_version() -> None:
    before = roster_content(PROJECT, people(100), [digest(1)])
    after_entries = people(99) + people(2, start=500)
    after = roster_content(PROJECT, after_entries, [digest(2)])
    delta = compile_delta(before, after, from_version=4, signing_key=KEY)
    assert delta is not None
    assert (len(delta.upserts), delta.removals, delta.watchlist_add, delta.watchlist_remove) == (
        2,
        (digest(99),),
        (digest(2),),
        (digest(1),),
    )
    current = roster_of(4, people(100), [digest(1)])
    target = assembler(applied=4)
    [ready] = feed(target, [delta], current)
    assert isinstance(ready, Ready) and ready.version == 5
    roster = applied(ready)
    assert len(roster) == 101 and roster.lookup(digest(99)) is None and roster.lookup(digest(501)) is not None
    assert roster.watchlist == frozenset({digest(2)})


def test_a_delta_to_the_kept_snapshots_version_drops_it() -> None:
    before = roster_content(PROJECT, people(200), [])
    delta = compile_delta(before, roster_content(PROJECT, people(201), []), from_version=1, signing_key=KEY)
    assert delta is not None
    manifest, chunks = snapshot(2, people(201))
    current = roster_of(1, people(200))
    target = assembler(applied=1, timeout_s=10)
    feed(target, [manifest, *chunks[:-1]], current, now=0)
    target.expire(now=10)
    [ready] = feed(target, [delta], current, now=11)
    assert isinstance(ready, Ready) and ready.version == 2 and len(ready.roster) == 201
    assert target.assembling is None and target.deadline is None


def test_a_delta_that_does_not_start_where_the_lane_is_asks_for_a_snapshot() -> None:
    before = roster_content(PROJECT, people(10), [])
    after = roster_content(PROJECT, people(11), [])
    delta = compile_delta(before, after, from_version=6, signing_key=KEY)
    assert delta is not None
    current = roster_of(4, people(10))
    [outcome] = feed(assembler(applied=4), [delta], current)
    assert outcome == Refused("delta v6→v7 does not apply to the running v4", True)


def test_a_delta_removing_what_the_lane_does_not_have_asks_for_a_snapshot() -> None:
    before = roster_content(PROJECT, people(10, start=100), [])
    after = roster_content(PROJECT, people(9, start=100), [])
    delta = compile_delta(before, after, from_version=4, signing_key=KEY)
    current = roster_of(4, people(10))  # the lane's v4 is not the hub's v4
    [outcome] = feed(assembler(applied=4), [delta], current)
    assert isinstance(outcome, Refused) and outcome.wants_snapshot and "does not have" in outcome.problem


def test_a_replayed_delta_is_refused_and_a_forged_one_too() -> None:
    before = roster_content(PROJECT, people(10), [])
    after = roster_content(PROJECT, people(11), [])
    delta = compile_delta(before, after, from_version=2, signing_key=KEY)
    assert delta is not None
    [outcome] = feed(assembler(applied=5), [delta], roster_of(5, people(11)))
    assert isinstance(outcome, Refused) and "replay" in outcome.problem
    forged = delta.model_copy(update={"removals": (digest(0),)})
    [outcome] = feed(assembler(applied=2), [forged], roster_of(2, people(10)))
    assert isinstance(outcome, Refused) and "signature does not verify" in outcome.problem


def test_a_big_change_is_not_a_delta() -> None:
    before = roster_content(PROJECT, people(10), [])
    after = roster_content(PROJECT, people(600, start=10), [])
    assert compile_delta(before, after, from_version=1, signing_key=KEY) is None
    assert (
        compile_delta(
            before, roster_content(PROJECT, people(20), []), from_version=1, signing_key=KEY, max_changes=5
        )
        is None
    )


# -- the fast row reader agrees with the wire model ----------------------------------------------

hashes = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
labels = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",), blacklist_characters="".join(map(chr, [*range(32), 127]))
    ),
    min_size=1,
    max_size=64,
)
zones = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-3, minutes=-30))])


@st.composite
def fields(draw: st.DrawFn) -> dict[str, object]:
    role = draw(st.sampled_from([r.value for r in RosterRole]))
    entry: dict[str, object] = {"person_id": draw(labels), "role": role}
    if draw(st.booleans()):
        entry["entry_date"] = draw(st.dates(date(2000, 1, 1), date(2040, 1, 1)))
    if draw(st.booleans()):
        entry["exit_date"] = draw(st.dates(date(2000, 1, 1), date(2040, 1, 1)))
    if role == "visitor" and draw(st.booleans()):
        start = draw(st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=zones))
        entry["pass_from"] = start
        entry["pass_until"] = start + timedelta(minutes=draw(st.integers(1, 10_000)))
    return entry


rosters = st.dictionaries(hashes, fields(), max_size=60)


def expected_entry(entry: dict[str, object]) -> RosterEntry:
    return RosterEntry(
        person_id=str(entry["person_id"]),
        role=RosterRole(str(entry["role"])),
        entry_date=entry.get("entry_date"),  # type: ignore[arg-type]
        exit_date=entry.get("exit_date"),  # type: ignore[arg-type]
        pass_from=entry.get("pass_from"),  # type: ignore[arg-type]
        pass_until=entry.get("pass_until"),  # type: ignore[arg-type]
    )


@settings(max_examples=150, deadline=None)
@given(roster=rosters, listed=st.sets(hashes, max_size=5), chunk_bytes=st.integers(400, 3000))
def test_random_rosters_round_trip_through_compile_and_assemble(
    roster: dict[str, dict[str, object]], listed: set[str], chunk_bytes: int
) -> None:
    manifest, chunks = snapshot(7, list(roster.items()), listed, chunk_bytes=chunk_bytes)
    outcomes = feed(assembler(applied=6), [manifest, *chunks])
    ready = outcomes[-1]
    assert isinstance(ready, Ready)
    assert dict(ready.roster.entries) == {h: expected_entry(e) for h, e in roster.items()}
    assert ready.roster.watchlist == frozenset(listed)


@settings(max_examples=100, deadline=None)
@given(before=rosters, after=rosters)
def test_random_deltas_take_a_lane_from_one_version_to_the_next(
    before: dict[str, dict[str, object]], after: dict[str, dict[str, object]]
) -> None:
    old = roster_content(PROJECT, list(before.items()), [])
    new = roster_content(PROJECT, list(after.items()), [])
    delta = compile_delta(old, new, from_version=1, signing_key=KEY)
    assert delta is not None
    current = Roster.build(1, PROJECT, [(h, expected_entry(e)) for h, e in before.items()])
    [ready] = feed(assembler(applied=1), [delta], current)
    assert isinstance(ready, Ready)
    assert dict(ready.roster.entries) == {h: expected_entry(e) for h, e in after.items()}


GOOD_ROWS = [[digest(i), f"p-{i}", "worker", "2025-01-01", None] for i in range(10)]


@pytest.mark.parametrize(
    ("row", "why"),
    [
        ([digest(1), "p", "worker", None], "5 or 7"),
        (["x" * 64, "p", "worker", None, None], "credential hash"),
        ([digest(1).upper(), "p", "worker", None, None], "credential hash"),
        ([64, "p", "worker", None, None], "credential hash"),
        ([digest(1), "", "worker", None, None], "person_id"),
        ([digest(1), "a\x01b", "worker", None, None], "person_id"),
        ([digest(1), "x" * 65, "worker", None, None], "person_id"),
        ([digest(1), "p", "boss", None, None], "role"),
        ([digest(1), "p", ["worker"], None, None], "role"),
        ([digest(1), "p", "worker", "yesterday", None], "Invalid isoformat"),
        ([digest(1), "p", "worker", 20250101, None], "not a string"),
        ([digest(1), "p", "worker", None, ["2025-01-01"]], "not a string"),
        ([digest(1), "p", "visitor", None, None, "2025-01-01T09:00:00", None], "timezone"),
        ([digest(1), "p", "visitor", None, None, 5, None], "not a string"),
        ({"a": 1}, "not an entry"),
    ],
)
def test_the_row_reader_says_what_is_wrong(row: list[object], why: str) -> None:
    with pytest.raises(ValueError, match=why):
        entry_of_row(row)
    # Among good rows too: the column checks hand a chunk they refuse to the row reader.
    with pytest.raises(ValueError, match=why):
        columns_of_rows([*GOOD_ROWS[:5], row, *GOOD_ROWS[5:]])


def test_a_hash_listed_twice_is_refused_by_the_index() -> None:
    columns = columns_of_rows([*GOOD_ROWS, GOOD_ROWS[3]])
    with pytest.raises(ValueError, match=f"v2: credential hash {digest(3)[:12]}… is listed twice"):
        Roster.of_columns(2, PROJECT, columns)


def test_a_hash_listed_in_two_signed_chunks_is_reported_not_retried() -> None:
    manifest, chunks = snapshot(1, people(40), chunk_bytes=1000)
    first = base64.b64decode(chunks[0].data)
    second = base64.b64decode(chunks[1].data)
    lines = second.splitlines(keepends=True)
    doubled = b"".join([first.splitlines(keepends=True)[0], *lines[1:]])  # chunk 0's first entry again
    rehashed = Signer(KEY).sign(
        manifest.model_copy(
            update={
                "chunk_hashes": (
                    manifest.chunk_hashes[0],
                    hashlib.sha256(doubled).hexdigest(),
                    *manifest.chunk_hashes[2:],
                ),
            }
        )
    )
    forged = chunks[1].model_copy(update={"data": base64.b64encode(doubled).decode()})
    outcomes = feed(assembler(), [rehashed, chunks[0], forged, *chunks[2:]])
    problem = outcomes[-1]
    assert isinstance(problem, Refused) and not problem.wants_snapshot
    assert "is listed twice" in problem.problem


maybe_bad = st.one_of(
    st.sampled_from(["X" * 64, "ab", "", "a\x01", "x" * 65, "boss", "yesterday", "2025-02-30"]),
    st.sampled_from([5, None, 20250101, ["2025-01-01"], True]),
)
day_texts = st.one_of(st.none(), st.dates(date(2000, 1, 1), date(2040, 1, 1)).map(date.isoformat))
moment_texts = st.one_of(
    st.none(),
    st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.none() | zones).map(
        datetime.isoformat
    ),
)


@st.composite
def rows(draw: st.DrawFn) -> list[object]:
    row: list[object] = [
        draw(st.sampled_from([digest(i) for i in range(40)])),
        draw(labels),
        draw(st.sampled_from([r.value for r in RosterRole])),
        draw(day_texts),
        draw(day_texts),
    ]
    if draw(st.integers(0, 4)) == 0:
        row += [draw(moment_texts), draw(moment_texts)]
    if draw(st.integers(0, 5)) == 0:
        row[draw(st.integers(0, len(row) - 1))] = draw(maybe_bad)
    return row


@settings(max_examples=400, deadline=None)
@given(chunk=st.lists(rows(), max_size=12))
def test_the_column_checks_accept_exactly_what_the_row_reader_accepts(chunk: list[list[object]]) -> None:
    try:
        expected = [entry_of_row(row) for row in chunk]
    except ValueError as err:
        with pytest.raises(ValueError, match=re.escape(str(err))):
            columns_of_rows(chunk)
        return
    columns = columns_of_rows(chunk)
    if len({h for h, _ in expected}) < len(expected):  # a pass window is kept by hash: moot here
        with pytest.raises(ValueError, match="listed twice"):
            Roster.of_columns(1, PROJECT, columns)
        return
    assert (
        list(
            zip(
                columns.hashes,
                map(Roster.of_columns(1, PROJECT, columns).lookup, columns.hashes),
                strict=True,
            )
        )
        == expected
    )


def test_a_chunk_that_is_not_base64_is_refused_and_asked_for_again() -> None:
    manifest, chunks = snapshot(1, people(20))
    mangled = chunks[0].model_copy(update={"data": chunks[0].data[:-4] + "!!!!"})
    outcomes = feed(assembler(), [manifest, mangled])
    assert outcomes[-1] == Refused("roster v1: chunk 0 is not valid base64", True)


def test_a_snapshot_keeps_its_verified_rows_for_the_roster_file() -> None:
    manifest, chunks = snapshot(1, people(200), [digest(5)])
    ready = feed(assembler(), [manifest, *chunks])[-1]
    assert isinstance(ready, Ready) and ready.row_arrays is not None
    rows = [row for array in ready.row_arrays for row in json.loads(array)]
    assert [row[0] for row in rows] == sorted(digest(i) for i in range(200))  # entries only, in order


def test_a_chunk_of_visitors_only_is_read_column_wise() -> None:
    """Every row with a pass window: the column checks still take it (not the row-at-a-time path)."""
    from controller.roster_rows import _columns

    window = ["2025-06-01T08:00:00+08:00", "2025-06-01T18:00:00+08:00"]
    rows = [[digest(i), f"v-{i}", "visitor", None, None, *window] for i in range(3)]
    columns = _columns(rows)
    assert columns is not None and len(columns.windows) == 3
